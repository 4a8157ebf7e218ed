/*-------------------------------------------------------------------------
 *
 * period.h
 *	  The customer_period type: a calendar reporting period of one kind.
 *
 * A period is a uint64 passed by value:
 *
 *	  bits 56..63  reserved, zero (room for a format change)
 *	  bits 48..55  kind (PeriodKind)
 *	  bits 40..47  kind parameter (week start day, fiscal first month; 0 if none)
 *	  bits 32..39  reserved, zero
 *	  bits  0..31  ordinal, biased by 2^31 so that unsigned order is ordinal order
 *
 * Kind and parameter together form the period's "unit" (PeriodUnit). Comparing two
 * raw values orders periods by unit, then by time, so btree and hash support are plain
 * 64-bit comparisons. Periods of one unit are numbered consecutively by their ordinal,
 * so p + n and p - q are ordinal arithmetic.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_PERIOD_H
#define PG_RETENTION_PERIOD_H

#include "fmgr.h"
#include "utils/date.h"

typedef uint64 CustomerPeriod;

/* kind and parameter of a period, as kind << 8 | param */
typedef uint16 PeriodUnit;

typedef enum PeriodKind
{
	PK_INVALID = 0,
	PK_DAY = 1,
	PK_WEEK = 2,				/* param: first day of week, ISO numbering 1 = Monday .. 7 */
	PK_MONTH = 3,
	PK_QUARTER = 4,
	PK_HALF = 5,
	PK_YEAR = 6,
	PK_FISCAL_MONTH = 7,		/* param: first month of the fiscal year, 1 .. 12 */
	PK_FISCAL_QUARTER = 8,
	PK_FISCAL_HALF = 9,
	PK_FISCAL_YEAR = 10,
	PK_RETAIL_WEEK = 11,		/* param: calendar variant, 0 = NRF 4-5-4 */
	PK_RETAIL_PERIOD = 12,
	PK_RETAIL_QUARTER = 13,
	PK_RETAIL_YEAR = 14
} PeriodKind;

#define PERIOD_UNIT(kind, param)	((PeriodUnit) (((kind) << 8) | (param)))
#define PERIOD_UNIT_KIND(u)		((PeriodKind) ((u) >> 8))
#define PERIOD_UNIT_PARAM(u)		((int) ((u) & 0xFF))

#define PERIOD_ORDINAL_BIAS		((int64) 1 << 31)
#define PERIOD_GET_UNIT(p)		((PeriodUnit) (((p) >> 40) & 0xFFFF))
#define PERIOD_GET_ORDINAL(p)		((int32) ((int64) ((p) & 0xFFFFFFFF) - PERIOD_ORDINAL_BIAS))
#define PERIOD_MAKE(unit, ordinal) \
	(((uint64) (unit) << 40) | (uint64) ((int64) (ordinal) + PERIOD_ORDINAL_BIAS))

#define DatumGetCustomerPeriod(X)	((CustomerPeriod) DatumGetInt64(X))
#define CustomerPeriodGetDatum(X)	Int64GetDatum((int64) (X))
#define PG_GETARG_CUSTOMER_PERIOD(n) DatumGetCustomerPeriod(PG_GETARG_DATUM(n))
#define PG_RETURN_CUSTOMER_PERIOD(x) return CustomerPeriodGetDatum(x)

/* Parse a kind name ('month', 'week:sun', 'fiscal_quarter:apr', ...); errors if unknown. */
extern PeriodUnit PeriodUnitFromName(const char *name);

/* The canonical kind name of a unit, palloc'd. */
extern char *PeriodUnitName(PeriodUnit unit);

/* Is unit a valid kind with a valid parameter? */
extern bool PeriodUnitIsValid(PeriodUnit unit);

/* The period of the given unit that contains date d; errors if outside the supported range. */
extern CustomerPeriod PeriodFromDate(DateADT d, PeriodUnit unit);

/* The period of the given unit with the given ordinal; errors if outside the supported range. */
extern CustomerPeriod PeriodFromOrdinal(PeriodUnit unit, int64 ordinal);

/* First day of the period, and first day after it. */
extern DateADT PeriodStartDate(CustomerPeriod p);
extern DateADT PeriodEndDate(CustomerPeriod p);

/* Error out unless a and b have the same unit; what names the operation for the message. */
extern void PeriodCheckSameUnit(CustomerPeriod a, CustomerPeriod b, const char *what);

/* Canonical text of a period, palloc'd. */
extern char *PeriodToCString(CustomerPeriod p);

/* Does raw value p encode a valid period (for binary input and state validation)? */
extern bool PeriodIsValid(CustomerPeriod p);

#endif							/* PG_RETENTION_PERIOD_H */
