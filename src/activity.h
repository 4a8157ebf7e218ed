/*-------------------------------------------------------------------------
 *
 * activity.h
 *	  The customer_activity type: one customer's history at one period unit,
 *	  and the helpers the cohort and retention aggregates share with it.
 *
 * An activity is a varlena:
 *
 *	  ActivityData header (20 bytes)
 *	  bitmap of span bits, bit i (LSB first in each byte) set when the customer
 *	  was active in period first + i; the first and the last bit are always set
 *	  per active period, in time order: orders and revenue as varints
 *
 * Revenue is held exactly as an int64 in units of 1/10000 (ACTIVITY_SCALE):
 * numeric amounts with up to four decimal places convert without loss, and a
 * base-10000 numeric digit maps onto it directly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_ACTIVITY_H
#define PG_RETENTION_ACTIVITY_H

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "period.h"

#define ACTIVITY_VERSION	1

/* revenue is stored as an integer number of 1/ACTIVITY_SCALE currency units */
#define ACTIVITY_SCALE		10000
#define ACTIVITY_SCALE_DIGITS 4

/* the largest span of periods one activity or one cohort/retention state may cover */
#define ACTIVITY_MAX_SPAN	100000

typedef struct ActivityData
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* ACTIVITY_VERSION */
	uint8		flags;			/* reserved, zero */
	uint16		unit;			/* PeriodUnit of every period in the activity */
	int32		first;			/* ordinal of the first active period */
	int32		span;			/* last - first + 1 */
	int32		nactive;		/* number of active periods (bits set) */
	uint8		data[FLEXIBLE_ARRAY_MEMBER];	/* bitmap, then amounts */
} ActivityData;

/* one active period of an activity, decoded */
typedef struct ActivityEntry
{
	int32		ordinal;		/* the period's ordinal */
	int32		orders;			/* number of orders (rows) in the period, >= 1 */
	int64		revenue;		/* revenue in the period, 1/ACTIVITY_SCALE units */
} ActivityEntry;

#define ACTIVITY_BITMAP_BYTES(span)	(((span) + 7) / 8)
#define ACTIVITY_LAST(a)		((a)->first + (a)->span - 1)
#define ACTIVITY_BIT(a, i)		(((a)->data[(i) >> 3] >> ((i) & 7)) & 1)

#define DatumGetActivity(X)		((ActivityData *) PG_DETOAST_DATUM(X))
#define PG_GETARG_ACTIVITY(n)	DatumGetActivity(PG_GETARG_DATUM(n))

/* activity.c: SQL-callable functions other files call directly */
extern Datum activity_in(PG_FUNCTION_ARGS);
extern Datum activity_out(PG_FUNCTION_ARGS);
extern Datum activity_recv(PG_FUNCTION_ARGS);
extern Datum activity_send(PG_FUNCTION_ARGS);

/* activity.c: helpers */
extern ActivityEntry *ActivityDecode(const ActivityData *a, ActivityEntry *buf, int bufsize);

/* one customer's periods, in time order, as the one-pass aggregates' state holds them */
typedef void (*ActivityVisitor) (void *arg, int64 customer, const ActivityEntry *e, int n);

/* activity_map.c: visit every customer of the activity_map argument argno (false if it has none) */
extern bool ActivityMapVisitArg(FunctionCallInfo fcinfo, int argno, ActivityVisitor fn, void *arg,
								PeriodUnit *unit);
extern ActivityEntry *ActivityDecodeDatum(Datum d, ActivityData *hdr, ActivityEntry *buf, int bufsize);
extern ActivityData *ActivityEncode(PeriodUnit unit, const ActivityEntry *entries, int n);
extern ActivityData *ActivityUnion(const ActivityData *a, const ActivityData *b, const char *what);
extern int64 NumericToScaled(Datum num, const char *what);
extern Datum ScaledToNumeric(int64 v);
extern void AppendScaled(StringInfo buf, int64 v);
extern int64 ParseScaled(const char **s, const char *typname, const char *input);
extern int64 ParseCount(const char **s, const char *typname, const char *input);
extern CustomerPeriod PeriodFromText(const char *s);
extern void ExpectChar(const char **s, char c, const char *typname, const char *input);
extern void CheckActivityUnit(PeriodUnit have, PeriodUnit got, const char *what);
extern int64 AddScaled(int64 a, int64 b);
extern Datum RoundedRatio(int64 num, int64 den, int64 mult, int digits);

#endif							/* PG_RETENTION_ACTIVITY_H */
