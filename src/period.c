/*-------------------------------------------------------------------------
 *
 * period.c
 *	  The customer_period type: calendar arithmetic for every kind of reporting
 *	  period, text and binary I/O, constructors, operators and index support.
 *
 * Every kind numbers its periods consecutively (the ordinal), so the heart of this
 * file is two mappings per kind: date -> ordinal and ordinal -> first date. Labels
 * (2026-W10, FY2026-Q1/apr, R2023-P12, ...) are derived from the ordinal for output
 * and turned back into ordinals on input. The encoding is described in period.h.
 *
 * Supported range: a period must lie within 0001-01-01 .. 9999-12-31 and be labelled
 * with a year from 0001 to 9999.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/hash.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "parser/scansup.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/rangetypes.h"
#include "utils/sortsupport.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "period.h"

/*
 * The supported date range, [0001-01-01, 10000-01-01), as DateADT: date2j(1, 1, 1) and
 * date2j(10000, 1, 1) less POSTGRES_EPOCH_JDATE.
 */
#define PERIOD_MIN_DATE		(-730119)
#define PERIOD_END_DATE		2921940

#define PERIOD_KIND_MAX		PK_RETAIL_YEAR

static const char *const kind_names[] = {
	NULL, "day", "week", "month", "quarter", "half", "year",
	"fiscal_month", "fiscal_quarter", "fiscal_half", "fiscal_year",
	"retail_week", "retail_period", "retail_quarter", "retail_year"
};

/* ISO day numbers: 1 = Monday .. 7 = Sunday */
static const char *const day_names[] = {
	NULL, "mon", "tue", "wed", "thu", "fri", "sat", "sun"
};
static const char *const day_names_long[] = {
	NULL, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};

static const char *const month_names[] = {
	NULL, "jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec"
};
static const char *const month_names_long[] = {
	NULL, "january", "february", "march", "april", "may", "june",
	"july", "august", "september", "october", "november", "december"
};

/* first week of each retail period inside its quarter: the 4-5-4 pattern */
static const int retail_period_week[3] = {0, 4, 9};

/* ordinal bounds of one unit, computed on first use */
typedef struct UnitBounds
{
	bool		known;			/* have min and max been computed? */
	int32		min;			/* smallest supported ordinal */
	int32		max;			/* largest supported ordinal */
} UnitBounds;

static UnitBounds unit_bounds[(PERIOD_KIND_MAX + 1) * 16];

/*
 * Division rounding towards minus infinity.
 */
static inline int64
FloorDiv(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static inline DateADT
DateFromYmd(int y, int m, int d)
{
	return date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
}

static inline void
YmdFromDate(DateADT d, int *y, int *m, int *day)
{
	j2date(d + POSTGRES_EPOCH_JDATE, y, m, day);
}

/* ISO day of week of a date: 1 = Monday .. 7 = Sunday */
static inline int
IsoDow(DateADT d)
{
	int			dow = j2day(d + POSTGRES_EPOCH_JDATE);

	return dow == 0 ? 7 : dow;
}

/*
 * The first date on or after 2000-01-01 that falls on ISO weekday s: week ordinals of
 * weeks starting on s count from it.
 */
static inline DateADT
WeekAnchor(int s)
{
	/* 2000-01-01 was a Saturday (6) */
	return (s - 6 + 7) % 7;
}

/* first day of the week (starting on s) that contains d */
static inline DateADT
WeekStart(DateADT d, int s)
{
	return d - (IsoDow(d) - s + 7) % 7;
}

/*
 * First day of week 1 of week-year y, for weeks starting on s. As in ISO 8601, a week
 * belongs to the year that holds its fourth day, so week 1 is the week holding 4 January.
 */
static inline DateADT
WeekYearStart(int y, int s)
{
	return WeekStart(DateFromYmd(y, 1, 4), s);
}

/*
 * First day of retail (NRF 4-5-4) year y: the day after the Saturday nearest 31 January
 * of y. Retail years are named for the calendar year they start in.
 */
static DateADT
RetailYearStart(int y)
{
	DateADT		jan31 = DateFromYmd(y, 1, 31);
	int			dow = j2day(jan31 + POSTGRES_EPOCH_JDATE);	/* 0 = Sunday */
	DateADT		saturday;

	/* Wednesday to Saturday: the Saturday on or after; Sunday to Tuesday: the one before */
	if (dow >= 3)
		saturday = jan31 + (6 - dow);
	else
		saturday = jan31 - (dow + 1);
	return saturday + 1;
}

/* the retail year that contains date d */
static int
RetailYearOf(DateADT d)
{
	int			y,
				m,
				day;

	YmdFromDate(d, &y, &m, &day);
	return d >= RetailYearStart(y) ? y : y - 1;
}

/* months a fiscal year starting in month f runs ahead of the calendar (label by end year) */
static inline int
FiscalShift(int f)
{
	return f > 1 ? 13 - f : 0;
}

/*
 * The ordinal of the period of unit u that contains date d.
 */
static int64
OrdinalFromDate(DateADT d, PeriodUnit u)
{
	int			param = PERIOD_UNIT_PARAM(u);
	int			y,
				m,
				day;
	int64		mi;

	switch (PERIOD_UNIT_KIND(u))
	{
		case PK_DAY:
			return d;
		case PK_WEEK:
			return FloorDiv(d - WeekAnchor(param), 7);
		case PK_RETAIL_WEEK:
			return FloorDiv(d - WeekAnchor(7), 7);
		case PK_MONTH:
		case PK_QUARTER:
		case PK_HALF:
		case PK_YEAR:
		case PK_FISCAL_MONTH:
		case PK_FISCAL_QUARTER:
		case PK_FISCAL_HALF:
		case PK_FISCAL_YEAR:
			YmdFromDate(d, &y, &m, &day);
			mi = (int64) y * 12 + m - 1;
			if (PERIOD_UNIT_KIND(u) >= PK_FISCAL_MONTH)
				mi += FiscalShift(param);
			switch (PERIOD_UNIT_KIND(u))
			{
				case PK_MONTH:
				case PK_FISCAL_MONTH:
					return mi;
				case PK_QUARTER:
				case PK_FISCAL_QUARTER:
					return mi / 3;
				case PK_HALF:
				case PK_FISCAL_HALF:
					return mi / 6;
				default:
					return mi / 12;
			}
		case PK_RETAIL_PERIOD:
		case PK_RETAIL_QUARTER:
		case PK_RETAIL_YEAR:
			{
				int			ry = RetailYearOf(d);
				int			w = (d - RetailYearStart(ry)) / 7;
				int			q = Min(w / 13, 3);
				int			wq = w - 13 * q;
				int			pi = wq < 4 ? 0 : (wq < 9 ? 1 : 2);

				if (PERIOD_UNIT_KIND(u) == PK_RETAIL_PERIOD)
					return (int64) ry * 12 + q * 3 + pi;
				if (PERIOD_UNIT_KIND(u) == PK_RETAIL_QUARTER)
					return (int64) ry * 4 + q;
				return ry;
			}
		default:
			elog(ERROR, "invalid customer_period kind %d", PERIOD_UNIT_KIND(u));
	}
	return 0;					/* keep compiler quiet */
}

/*
 * First day of the period of unit u with ordinal o. The caller keeps o within the
 * unit's bounds (or one past them), so the arithmetic cannot overflow.
 */
static DateADT
StartFromOrdinal(PeriodUnit u, int64 o)
{
	int			param = PERIOD_UNIT_PARAM(u);
	int64		mi;

	switch (PERIOD_UNIT_KIND(u))
	{
		case PK_DAY:
			return (DateADT) o;
		case PK_WEEK:
			return WeekAnchor(param) + 7 * o;
		case PK_RETAIL_WEEK:
			return WeekAnchor(7) + 7 * o;
		case PK_MONTH:
			mi = o;
			break;
		case PK_QUARTER:
			mi = o * 3;
			break;
		case PK_HALF:
			mi = o * 6;
			break;
		case PK_YEAR:
			mi = o * 12;
			break;
		case PK_FISCAL_MONTH:
			mi = o - FiscalShift(param);
			break;
		case PK_FISCAL_QUARTER:
			mi = o * 3 - FiscalShift(param);
			break;
		case PK_FISCAL_HALF:
			mi = o * 6 - FiscalShift(param);
			break;
		case PK_FISCAL_YEAR:
			mi = o * 12 - FiscalShift(param);
			break;
		case PK_RETAIL_PERIOD:
			{
				int64		ry = FloorDiv(o, 12);
				int			pidx = (int) (o - ry * 12);

				return RetailYearStart((int) ry) +
					7 * (13 * (pidx / 3) + retail_period_week[pidx % 3]);
			}
		case PK_RETAIL_QUARTER:
			{
				int64		ry = FloorDiv(o, 4);

				return RetailYearStart((int) ry) + 7 * 13 * (int) (o - ry * 4);
			}
		case PK_RETAIL_YEAR:
			return RetailYearStart((int) o);
		default:
			elog(ERROR, "invalid customer_period kind %d", PERIOD_UNIT_KIND(u));
			return 0;			/* keep compiler quiet */
	}
	return DateFromYmd((int) FloorDiv(mi, 12), (int) (mi - FloorDiv(mi, 12) * 12) + 1, 1);
}

/*
 * The year a period is labelled with: the calendar year for calendar kinds, the
 * week-numbering year for weeks, the year a fiscal year ends in, the year a retail year
 * starts in.
 */
static int
LabelYear(PeriodUnit u, int64 o)
{
	DateADT		start = StartFromOrdinal(u, o);
	int			y,
				m,
				d;

	switch (PERIOD_UNIT_KIND(u))
	{
		case PK_WEEK:
			YmdFromDate(start + 3, &y, &m, &d);
			return y;
		case PK_FISCAL_MONTH:
			return (int) FloorDiv(o, 12);
		case PK_FISCAL_QUARTER:
			return (int) FloorDiv(o, 4);
		case PK_FISCAL_HALF:
			return (int) FloorDiv(o, 2);
		case PK_FISCAL_YEAR:
			return (int) o;
		case PK_RETAIL_WEEK:
			return RetailYearOf(start);
		case PK_RETAIL_PERIOD:
			return (int) FloorDiv(o, 12);
		case PK_RETAIL_QUARTER:
			return (int) FloorDiv(o, 4);
		case PK_RETAIL_YEAR:
			return (int) o;
		default:
			YmdFromDate(start, &y, &m, &d);
			return y;
	}
}

/* Is ordinal o of unit u inside the supported range? (o must be near the range) */
static bool
OrdinalSupported(PeriodUnit u, int64 o)
{
	int			y = LabelYear(u, o);

	return StartFromOrdinal(u, o) >= PERIOD_MIN_DATE &&
		StartFromOrdinal(u, o + 1) <= PERIOD_END_DATE &&
		y >= 1 && y <= 9999;
}

/*
 * The smallest and largest supported ordinals of unit u (valid units only).
 */
static UnitBounds *
GetUnitBounds(PeriodUnit u)
{
	UnitBounds *b = &unit_bounds[PERIOD_UNIT_KIND(u) * 16 + PERIOD_UNIT_PARAM(u)];

	if (!b->known)
	{
		int64		lo = OrdinalFromDate(PERIOD_MIN_DATE, u);
		int64		hi = OrdinalFromDate(PERIOD_END_DATE - 1, u);

		while (!OrdinalSupported(u, lo))
			lo++;
		while (!OrdinalSupported(u, hi))
			hi--;
		b->min = (int32) lo;
		b->max = (int32) hi;
		b->known = true;
	}
	return b;
}

bool
PeriodUnitIsValid(PeriodUnit unit)
{
	int			kind = PERIOD_UNIT_KIND(unit);
	int			param = PERIOD_UNIT_PARAM(unit);

	switch (kind)
	{
		case PK_WEEK:
			return param >= 1 && param <= 7;
		case PK_FISCAL_MONTH:
		case PK_FISCAL_QUARTER:
		case PK_FISCAL_HALF:
		case PK_FISCAL_YEAR:
			return param >= 1 && param <= 12;
		default:
			return kind >= PK_DAY && kind <= PERIOD_KIND_MAX && param == 0;
	}
}

bool
PeriodIsValid(CustomerPeriod p)
{
	PeriodUnit	u = PERIOD_GET_UNIT(p);
	UnitBounds *b;

	if ((p & UINT64CONST(0xFF0000FF00000000)) != 0 || !PeriodUnitIsValid(u))
		return false;
	b = GetUnitBounds(u);
	return PERIOD_GET_ORDINAL(p) >= b->min && PERIOD_GET_ORDINAL(p) <= b->max;
}

/* error for a period beyond the supported range; text describes what was asked for */
static void
ReportOutOfRange(const char *text)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("customer_period out of range: \"%s\"", text),
			 errdetail("Periods must lie between 0001-01-01 and 9999-12-31.")));
}

CustomerPeriod
PeriodFromOrdinal(PeriodUnit unit, int64 ordinal)
{
	UnitBounds *b = GetUnitBounds(unit);

	if (ordinal < b->min || ordinal > b->max)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("customer_period out of range"),
				 errdetail("The resulting %s period would lie %s.", PeriodUnitName(unit),
						   ordinal < b->min ? "before 0001-01-01" : "after 9999-12-31")));
	return PERIOD_MAKE(unit, ordinal);
}

CustomerPeriod
PeriodFromDate(DateADT d, PeriodUnit unit)
{
	UnitBounds *b;
	int64		o;

	if (DATE_NOT_FINITE(d) || d < PERIOD_MIN_DATE || d >= PERIOD_END_DATE)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range for customer_period: \"%s\"",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)))),
				 errdetail("Periods must lie between 0001-01-01 and 9999-12-31.")));
	o = OrdinalFromDate(d, unit);
	b = GetUnitBounds(unit);
	if (o < b->min || o > b->max)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range for customer_period: \"%s\"",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)))),
				 errdetail("The %s period that holds this date reaches outside 0001-01-01 to 9999-12-31.",
						   PeriodUnitName(unit))));
	return PERIOD_MAKE(unit, o);
}

DateADT
PeriodStartDate(CustomerPeriod p)
{
	return StartFromOrdinal(PERIOD_GET_UNIT(p), PERIOD_GET_ORDINAL(p));
}

DateADT
PeriodEndDate(CustomerPeriod p)
{
	return StartFromOrdinal(PERIOD_GET_UNIT(p), (int64) PERIOD_GET_ORDINAL(p) + 1);
}

void
PeriodCheckSameUnit(CustomerPeriod a, CustomerPeriod b, const char *what)
{
	if (PERIOD_GET_UNIT(a) != PERIOD_GET_UNIT(b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot %s customer_periods of different kinds", what),
				 errdetail("The periods are \"%s\" (%s) and \"%s\" (%s).",
						   PeriodToCString(a), PeriodUnitName(PERIOD_GET_UNIT(a)),
						   PeriodToCString(b), PeriodUnitName(PERIOD_GET_UNIT(b))),
				 errhint("Build both periods with the same kind.")));
}

/* ----------------------------------------------------------------
 * Kind names
 * ----------------------------------------------------------------
 */

/* index of name in a NULL-first table of n + 1 entries, or 0 */
static int
LookupName(const char *name, const char *const *table, const char *const *long_table, int n)
{
	for (int i = 1; i <= n; i++)
		if (strcmp(name, table[i]) == 0 || (long_table && strcmp(name, long_table[i]) == 0))
			return i;
	return 0;
}

static void
ReportBadKind(const char *name, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid customer_period kind: \"%s\"", name),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("Kinds are day, week, week:sun (any first day), month, quarter, half, year, "
					 "fiscal_month:apr, fiscal_quarter:apr, fiscal_half:apr, fiscal_year:apr (any first month), "
					 "retail_week, retail_period, retail_quarter and retail_year.")));
}

PeriodUnit
PeriodUnitFromName(const char *name)
{
	char	   *lower;
	char	   *param;
	int			len;
	int			kind;
	int			p = 0;

	/* surrounding white space is ignored, letters are case-insensitive */
	while (isspace((unsigned char) *name))
		name++;
	len = strlen(name);
	while (len > 0 && isspace((unsigned char) name[len - 1]))
		len--;
	lower = downcase_truncate_identifier(name, len, false);
	param = strchr(lower, ':');

	if (param)
		*param++ = '\0';

	kind = LookupName(lower, kind_names, NULL, PERIOD_KIND_MAX);
	if (kind == 0)
	{
		if (strcmp(lower, "iso_week") == 0 || strcmp(lower, "isoweek") == 0)
			kind = PK_WEEK;
		else if (strcmp(lower, "retail_month") == 0)
			kind = PK_RETAIL_PERIOD;
		else
			ReportBadKind(name, NULL);
	}

	switch (kind)
	{
		case PK_WEEK:
			p = 1;
			if (param && (p = LookupName(param, day_names, day_names_long, 7)) == 0)
				ReportBadKind(name, "A week's first day is written mon, tue, wed, thu, fri, sat or sun.");
			break;
		case PK_FISCAL_MONTH:
		case PK_FISCAL_QUARTER:
		case PK_FISCAL_HALF:
		case PK_FISCAL_YEAR:
			if (param == NULL)
				ReportBadKind(name, "Fiscal kinds need the first month of the fiscal year, as in fiscal_year:apr.");
			if ((p = LookupName(param, month_names, month_names_long, 12)) == 0)
			{
				char	   *end;
				long		n = strtol(param, &end, 10);

				if (*param == '\0' || *end != '\0' || n < 1 || n > 12)
					ReportBadKind(name, "A fiscal year's first month is written jan .. dec or 1 .. 12.");
				p = (int) n;
			}
			break;
		default:
			if (param)
				ReportBadKind(name, "Only week and fiscal kinds take a parameter.");
			break;
	}
	pfree(lower);
	return PERIOD_UNIT(kind, p);
}

char *
PeriodUnitName(PeriodUnit unit)
{
	int			kind = PERIOD_UNIT_KIND(unit);
	int			param = PERIOD_UNIT_PARAM(unit);

	if (kind == PK_WEEK && param != 1)
		return psprintf("week:%s", day_names[param]);
	if (kind >= PK_FISCAL_MONTH && kind <= PK_FISCAL_YEAR)
		return psprintf("%s:%s", kind_names[kind], month_names[param]);
	return pstrdup(kind_names[kind]);
}

/* ----------------------------------------------------------------
 * Text form
 * ----------------------------------------------------------------
 */

char *
PeriodToCString(CustomerPeriod p)
{
	PeriodUnit	u = PERIOD_GET_UNIT(p);
	int64		o = PERIOD_GET_ORDINAL(p);
	int			param = PERIOD_UNIT_PARAM(u);
	int			y = LabelYear(u, o);
	int			m,
				d;

	switch (PERIOD_UNIT_KIND(u))
	{
		case PK_DAY:
			YmdFromDate((DateADT) o, &y, &m, &d);
			return psprintf("%04d-%02d-%02d", y, m, d);
		case PK_WEEK:
			{
				int			w = (StartFromOrdinal(u, o) - WeekYearStart(y, param)) / 7 + 1;

				if (param == 1)
					return psprintf("%04d-W%02d", y, w);
				return psprintf("%04d-W%02d/%s", y, w, day_names[param]);
			}
		case PK_MONTH:
			return psprintf("%04d-%02d", y, (int) (o % 12) + 1);
		case PK_QUARTER:
			return psprintf("%04d-Q%d", y, (int) (o % 4) + 1);
		case PK_HALF:
			return psprintf("%04d-H%d", y, (int) (o % 2) + 1);
		case PK_YEAR:
			return psprintf("%04d", y);
		case PK_FISCAL_MONTH:
			return psprintf("FY%04d-M%02d/%s", y, (int) (o % 12) + 1, month_names[param]);
		case PK_FISCAL_QUARTER:
			return psprintf("FY%04d-Q%d/%s", y, (int) (o % 4) + 1, month_names[param]);
		case PK_FISCAL_HALF:
			return psprintf("FY%04d-H%d/%s", y, (int) (o % 2) + 1, month_names[param]);
		case PK_FISCAL_YEAR:
			return psprintf("FY%04d/%s", y, month_names[param]);
		case PK_RETAIL_WEEK:
			return psprintf("R%04d-W%02d", y,
							(StartFromOrdinal(u, o) - RetailYearStart(y)) / 7 + 1);
		case PK_RETAIL_PERIOD:
			return psprintf("R%04d-P%02d", y, (int) (o % 12) + 1);
		case PK_RETAIL_QUARTER:
			return psprintf("R%04d-Q%d", y, (int) (o % 4) + 1);
		case PK_RETAIL_YEAR:
			return psprintf("R%04d", y);
		default:
			elog(ERROR, "invalid customer_period kind %d", PERIOD_UNIT_KIND(u));
	}
	return NULL;				/* keep compiler quiet */
}

static void
ReportBadSyntax(const char *text)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type customer_period: \"%s\"", text),
			 errhint("Periods are written 2026-03-05, 2026-W10, 2026-W10/sun, 2026-03, 2026-Q1, 2026-H1, 2026, "
					 "FY2026-M01/apr, FY2026-Q1/apr, FY2026-H1/apr, FY2026/apr, "
					 "R2026-W01, R2026-P01, R2026-Q1 or R2026.")));
}

static void
ReportFieldRange(const char *text, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
			 errmsg("customer_period field value out of range: \"%s\"", text),
			 errdetail("%s", detail)));
}

/* read exactly n decimal digits at *s into *value; false if there are not n digits */
static bool
ReadDigits(const char **s, int n, int *value)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) (*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	if (isdigit((unsigned char) (*s)[n]))
		return false;
	*s += n;
	*value = v;
	return true;
}

/*
 * Parse the text form of a period. Grammar (letters are case-insensitive, surrounding
 * white space is ignored):
 *
 *	 YYYY | YYYY-MM | YYYY-MM-DD | YYYY-Qn | YYYY-Hn | YYYY-Www[/day]
 *	 FYYYYY/mon | FYYYYY-Qn/mon | FYYYYY-Hn/mon | FYYYYY-Mmm/mon
 *	 RYYYY | RYYYY-Qn | RYYYY-Pnn | RYYYY-Www
 */
static CustomerPeriod
PeriodFromCString(const char *text)
{
	const char *s = text;
	char		family = 'C';	/* C = calendar, F = fiscal, R = retail */
	char		field = 'Y';	/* Y, M (month), D (day), Q, H, W, P (retail period) */
	int			year,
				month = 0,
				day = 0,
				n = 0;
	int			param = 0;
	PeriodKind	kind;
	int64		o;
	size_t		len;
	char	   *paramname = NULL;

	while (isspace((unsigned char) *s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	s = pnstrdup(s, len);

	if (pg_strncasecmp(s, "FY", 2) == 0)
	{
		family = 'F';
		s += 2;
	}
	else if ((*s == 'R' || *s == 'r') && isdigit((unsigned char) s[1]))
	{
		family = 'R';
		s++;
	}
	if (!ReadDigits(&s, 4, &year))
		ReportBadSyntax(text);

	if (*s == '-')
	{
		char		c = toupper((unsigned char) s[1]);

		s++;
		if (isdigit((unsigned char) c) && family == 'C')
		{
			field = 'M';
			if (!ReadDigits(&s, 2, &month))
				ReportBadSyntax(text);
			if (*s == '-')
			{
				s++;
				field = 'D';
				if (!ReadDigits(&s, 2, &day))
					ReportBadSyntax(text);
			}
		}
		else if ((c == 'Q' || c == 'H') ||
				 (c == 'W' && family != 'F') ||
				 (c == 'M' && family == 'F') ||
				 (c == 'P' && family == 'R'))
		{
			field = c;
			s++;
			if (!ReadDigits(&s, (c == 'Q' || c == 'H') ? 1 : 2, &n))
				ReportBadSyntax(text);
			if (c == 'H' && family == 'R')
				ReportBadSyntax(text);
		}
		else
			ReportBadSyntax(text);
	}

	if (*s == '/')
	{
		paramname = pstrdup(s + 1);
		for (char *c = paramname; *c; c++)
			*c = tolower((unsigned char) *c);
		if (family == 'F')
			param = LookupName(paramname, month_names, NULL, 12);
		else if (family == 'C' && field == 'W')
			param = LookupName(paramname, day_names, NULL, 7);
		if (param == 0)
			ReportBadSyntax(text);
		s += strlen(s);
	}
	if (*s != '\0' || (family == 'F' && param == 0))
		ReportBadSyntax(text);
	if (year < 1)
		ReportFieldRange(text, "Years run from 0001 to 9999.");

	switch (family)
	{
		case 'C':
			switch (field)
			{
				case 'Y':
					kind = PK_YEAR;
					o = year;
					break;
				case 'M':
				case 'D':
					if (month < 1 || month > 12)
						ReportFieldRange(text, "Months run from 01 to 12.");
					if (field == 'M')
					{
						kind = PK_MONTH;
						o = (int64) year * 12 + month - 1;
						break;
					}
					if (day < 1 || day > day_tab[isleap(year)][month - 1])
						ReportFieldRange(text, psprintf("%04d-%02d has %d days.", year, month,
														day_tab[isleap(year)][month - 1]));
					kind = PK_DAY;
					o = DateFromYmd(year, month, day);
					break;
				case 'Q':
					if (n < 1 || n > 4)
						ReportFieldRange(text, "Quarters run from 1 to 4.");
					kind = PK_QUARTER;
					o = (int64) year * 4 + n - 1;
					break;
				case 'H':
					if (n < 1 || n > 2)
						ReportFieldRange(text, "Halves run from 1 to 2.");
					kind = PK_HALF;
					o = (int64) year * 2 + n - 1;
					break;
				default:		/* W */
					{
						int			s0 = param ? param : 1;
						DateADT		first = WeekYearStart(year, s0);
						int			weeks = (WeekYearStart(year + 1, s0) - first) / 7;

						if (n < 1 || n > weeks)
							ReportFieldRange(text, psprintf("Week-numbering year %04d has %d weeks.", year, weeks));
						kind = PK_WEEK;
						param = s0;
						o = FloorDiv(first - WeekAnchor(s0), 7) + n - 1;
					}
					break;
			}
			break;
		case 'F':
			switch (field)
			{
				case 'Y':
					kind = PK_FISCAL_YEAR;
					o = year;
					break;
				case 'Q':
					if (n < 1 || n > 4)
						ReportFieldRange(text, "Fiscal quarters run from 1 to 4.");
					kind = PK_FISCAL_QUARTER;
					o = (int64) year * 4 + n - 1;
					break;
				case 'H':
					if (n < 1 || n > 2)
						ReportFieldRange(text, "Fiscal halves run from 1 to 2.");
					kind = PK_FISCAL_HALF;
					o = (int64) year * 2 + n - 1;
					break;
				default:		/* M */
					if (n < 1 || n > 12)
						ReportFieldRange(text, "Fiscal months run from 01 to 12.");
					kind = PK_FISCAL_MONTH;
					o = (int64) year * 12 + n - 1;
					break;
			}
			break;
		default:				/* R */
			switch (field)
			{
				case 'Y':
					kind = PK_RETAIL_YEAR;
					o = year;
					break;
				case 'Q':
					if (n < 1 || n > 4)
						ReportFieldRange(text, "Retail quarters run from 1 to 4.");
					kind = PK_RETAIL_QUARTER;
					o = (int64) year * 4 + n - 1;
					break;
				case 'P':
					if (n < 1 || n > 12)
						ReportFieldRange(text, "Retail periods run from 01 to 12.");
					kind = PK_RETAIL_PERIOD;
					o = (int64) year * 12 + n - 1;
					break;
				default:		/* W */
					{
						DateADT		first = RetailYearStart(year);
						int			weeks = (RetailYearStart(year + 1) - first) / 7;

						if (n < 1 || n > weeks)
							ReportFieldRange(text, psprintf("Retail year %04d has %d weeks.", year, weeks));
						kind = PK_RETAIL_WEEK;
						o = FloorDiv(first - WeekAnchor(7), 7) + n - 1;
					}
					break;
			}
			break;
	}

	{
		PeriodUnit	u = PERIOD_UNIT(kind, param);
		UnitBounds *b = GetUnitBounds(u);

		if (o < b->min || o > b->max)
			ReportOutOfRange(text);
		return PERIOD_MAKE(u, o);
	}
}

/* ----------------------------------------------------------------
 * I/O functions
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(customer_period_in);
/* customer_period_in: text input */
Datum
customer_period_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_CUSTOMER_PERIOD(PeriodFromCString(PG_GETARG_CSTRING(0)));
}

PG_FUNCTION_INFO_V1(customer_period_out);
/* customer_period_out: canonical text output */
Datum
customer_period_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(PeriodToCString(PG_GETARG_CUSTOMER_PERIOD(0)));
}

PG_FUNCTION_INFO_V1(customer_period_recv);
/* customer_period_recv: binary input, the 8-byte encoding, validated */
Datum
customer_period_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CustomerPeriod p = (CustomerPeriod) pq_getmsgint64(buf);

	if (!PeriodIsValid(p))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external customer_period value")));
	PG_RETURN_CUSTOMER_PERIOD(p);
}

PG_FUNCTION_INFO_V1(customer_period_send);
/* customer_period_send: binary output, the 8-byte encoding */
Datum
customer_period_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, (int64) PG_GETARG_CUSTOMER_PERIOD(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ----------------------------------------------------------------
 * Constructors
 * ----------------------------------------------------------------
 */

/* how a constructor call turns a timestamptz into a local date */
typedef enum TzMode
{
	TZ_SESSION,					/* session time zone */
	TZ_FIXED,					/* fixed-offset abbreviation */
	TZ_ZONE,					/* a zone from the time zone database */
	TZ_PER_ROW					/* dynamic abbreviation: resolved per value */
} TzMode;

/* a stretch of time over which a zone keeps one UTC offset */
typedef struct OffsetSpan
{
	TimestampTz from;			/* earliest instant known to have this offset */
	TimestampTz until;			/* the zone's next transition (exclusive) */
	long		offset;			/* seconds east of UTC */
} OffsetSpan;

#define OFFSET_SPANS 16

/* days remembered by a constructor: a direct-mapped cache, day -> period */
#define DAY_MEMO_SIZE 2048

/* one remembered day */
typedef struct DayMemo
{
	DateADT		day;			/* the day */
	CustomerPeriod period;		/* its period, 0 if the slot is empty */
} DayMemo;

/* what a constructor remembers between calls of one query (fn_extra) */
typedef struct ConstructorCache
{
	text	   *kind;			/* kind argument the unit was parsed from */
	PeriodUnit	unit;			/* parsed kind */
	bool		kind_stable;	/* kind argument cannot change within the query */
	text	   *tzname;			/* time zone argument, if any */
	bool		tz_stable;		/* time zone argument cannot change within the query */
	TzMode		tzmode;			/* how to apply it */
	int			tzoffset;		/* TZ_FIXED: seconds east of UTC */
	pg_tz	   *tz;				/* TZ_ZONE: the zone */
	pg_tz	   *offset_zone;	/* zone the offsets below belong to */
	bool		offset_fixed;	/* does offset_zone have one UTC offset for all time? */
	long		offset_secs;	/* if so, seconds east of UTC */
	OffsetSpan	spans[OFFSET_SPANS];	/* otherwise, spans of constant offset seen so far */
	int			nspans;			/* spans in use */
	int			victim;			/* span to replace next when all are in use */
	PeriodUnit	memo_unit;		/* unit whose periods the day memo holds (0: empty) */
	DayMemo		memo[DAY_MEMO_SIZE];	/* recently seen days and their periods */
} ConstructorCache;

/*
 * The cache of a call site whose time zone argument, if any, is the last one
 * (customer_period(ts, kind, zone), local_date(ts, zone)) and whose kind
 * argument, if any, is argument 1.
 */
static ConstructorCache *
GetConstructorCache(FunctionCallInfo fcinfo)
{
	ConstructorCache *c = (ConstructorCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ConstructorCache));
		c->kind_stable = get_fn_expr_arg_stable(fcinfo->flinfo, 1);
		c->tz_stable = PG_NARGS() > 1 && get_fn_expr_arg_stable(fcinfo->flinfo, PG_NARGS() - 1);
		fcinfo->flinfo->fn_extra = c;
	}
	return c;
}

/* same text value? */
static inline bool
TextEqual(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* keep a copy of t in the function's memory context */
static text *
KeepText(FunctionCallInfo fcinfo, text *old, text *t)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	text	   *copy = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(t));

	MemoryContextSwitchTo(oldcxt);
	if (old)
		pfree(old);
	return copy;
}

/*
 * The unit named by the kind argument (argument 1). Parsed once per query when the
 * argument is a constant; otherwise re-parsed only when its value changes.
 */
static PeriodUnit
ConstructorUnit(FunctionCallInfo fcinfo)
{
	ConstructorCache *c = GetConstructorCache(fcinfo);
	text	   *kind;

	if (c->kind && c->kind_stable)
		return c->unit;
	kind = PG_GETARG_TEXT_PP(1);
	if (c->kind == NULL || !TextEqual(c->kind, kind))
	{
		c->unit = PeriodUnitFromName(text_to_cstring(kind));
		c->kind = KeepText(fcinfo, c->kind, kind);
	}
	return c->unit;
}

/*
 * PeriodFromDate, remembering the answer for the day: the days of a table's rows repeat
 * (a few years of orders hold a few thousand distinct days), so most rows skip the
 * calendar arithmetic.
 */
static CustomerPeriod
ConstructorPeriod(FunctionCallInfo fcinfo, DateADT d, PeriodUnit unit)
{
	ConstructorCache *c = (ConstructorCache *) fcinfo->flinfo->fn_extra;
	DayMemo    *m;

	if (c->memo_unit != unit)
	{
		memset(c->memo, 0, sizeof(c->memo));
		c->memo_unit = unit;
	}
	m = &c->memo[(uint32) d % DAY_MEMO_SIZE];
	if (m->period == 0 || m->day != d)
	{
		m->period = PeriodFromDate(d, unit);
		m->day = d;
	}
	return m->period;
}

/* error for infinite timestamps */
static void
ReportInfiniteTimestamp(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("cannot place an infinite timestamp in a customer_period")));
}

/* the calendar date of a timestamp without time zone */
static DateADT
DateOfTimestamp(Timestamp ts)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		ReportInfiniteTimestamp();
	return (DateADT) FloorDiv(ts, USECS_PER_DAY);
}

/*
 * The UTC offset of zone tz at instant ts, or false if the zone database cannot say.
 *
 * A zone with one offset for all time (UTC, fixed offsets: a common server setting)
 * answers at once. Otherwise the cache keeps spans of constant offset: asking the zone
 * for its next transition after ts tells the offset at ts and that it holds until the
 * transition; a span's start moves back whenever an earlier instant lands in it. Over
 * instants in random order each span misses only a few times (whenever a new earliest
 * instant turns up), so nearly every row is answered from the cache.
 */
static bool
ZoneOffsetAt(TimestampTz ts, pg_tz *tz, ConstructorCache *c, long *offset)
{
	pg_time_t	t,
				boundary;
	TimestampTz until;
	long		before,
				after;
	int			before_dst,
				after_dst,
				found;
	OffsetSpan *span;

	if (c->offset_zone != tz)
	{
		c->offset_fixed = pg_get_timezone_offset(tz, &c->offset_secs);
		c->offset_zone = tz;
		c->nspans = 0;
		c->victim = 0;
	}
	if (c->offset_fixed)
	{
		*offset = c->offset_secs;
		return true;
	}
	for (int i = 0; i < c->nspans; i++)
	{
		if (ts >= c->spans[i].from && ts < c->spans[i].until)
		{
			*offset = c->spans[i].offset;
			return true;
		}
	}

	/* whole seconds since 1970, rounded down (a transition falls on a whole second) */
	t = (pg_time_t) FloorDiv(ts, USECS_PER_SEC) +
		(pg_time_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	found = pg_next_dst_boundary(&t, &before, &before_dst, &boundary, &after, &after_dst, tz);
	if (found < 0)
		return false;
	*offset = before;
	until = found == 1 ? time_t_to_timestamptz(boundary) : DT_NOEND;

	/* a span ending at the same transition: extend it back to ts */
	for (int i = 0; i < c->nspans; i++)
	{
		if (c->spans[i].until == until && c->spans[i].offset == before)
		{
			c->spans[i].from = Min(c->spans[i].from, ts);
			return true;
		}
	}
	if (c->nspans < OFFSET_SPANS)
		span = &c->spans[c->nspans++];
	else
	{
		span = &c->spans[c->victim];
		c->victim = (c->victim + 1) % OFFSET_SPANS;
	}
	span->from = ts;
	span->until = until;
	span->offset = before;
	return true;
}

/* the local date of a timestamptz in zone tz */
static DateADT
DateOfTimestampTz(TimestampTz ts, pg_tz *tz, ConstructorCache *c)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;
	long		offset;

	if (TIMESTAMP_NOT_FINITE(ts))
		ReportInfiniteTimestamp();
	if (ZoneOffsetAt(ts, tz, c, &offset))
		return DateOfTimestamp(ts + (int64) offset * USECS_PER_SEC);
	if (timestamp2tm(ts, &tzoff, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return DateFromYmd(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

/*
 * Resolve the time zone argument (the last argument) the way
 * timezone(zone, timestamptz) does: an abbreviation first, then a zone name.
 * Cached for the query.
 */
static void
ResolveTimeZone(FunctionCallInfo fcinfo, ConstructorCache *c)
{
	text	   *zone = PG_GETARG_TEXT_PP(PG_NARGS() - 1);
	char	   *tzname;
	char	   *lower;
	int			type,
				val;
	pg_tz	   *tzp;

	if (c->tzname && (c->tz_stable || TextEqual(c->tzname, zone)))
		return;
	tzname = text_to_cstring(zone);
	lower = downcase_truncate_identifier(tzname, strlen(tzname), false);
	type = CompatDecodeTimezoneAbbrev(lower, &val, &tzp);
	if (type == TZ || type == DTZ)
	{
		c->tzmode = TZ_FIXED;
		c->tzoffset = val;
	}
	else if (type == DYNTZ)
		c->tzmode = TZ_PER_ROW;
	else if ((tzp = pg_tzset(tzname)) != NULL)
	{
		c->tzmode = TZ_ZONE;
		c->tz = tzp;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", tzname)));
	c->tzname = KeepText(fcinfo, c->tzname, zone);
}

PG_FUNCTION_INFO_V1(customer_period_from_date);
/* customer_period(date, kind): the period of that kind holding the date */
Datum
customer_period_from_date(PG_FUNCTION_ARGS)
{
	PeriodUnit	unit = ConstructorUnit(fcinfo);

	PG_RETURN_CUSTOMER_PERIOD(ConstructorPeriod(fcinfo, PG_GETARG_DATEADT(0), unit));
}

PG_FUNCTION_INFO_V1(customer_period_from_timestamp);
/* customer_period(timestamp, kind): the period holding the timestamp's date */
Datum
customer_period_from_timestamp(PG_FUNCTION_ARGS)
{
	PeriodUnit	unit = ConstructorUnit(fcinfo);
	DateADT		d = DateOfTimestamp(PG_GETARG_TIMESTAMP(0));

	PG_RETURN_CUSTOMER_PERIOD(ConstructorPeriod(fcinfo, d, unit));
}

PG_FUNCTION_INFO_V1(customer_period_from_timestamptz);
/* customer_period(timestamptz, kind): the period holding its date in the session time zone */
Datum
customer_period_from_timestamptz(PG_FUNCTION_ARGS)
{
	PeriodUnit	unit = ConstructorUnit(fcinfo);
	DateADT		d = DateOfTimestampTz(PG_GETARG_TIMESTAMPTZ(0), session_timezone,
									  (ConstructorCache *) fcinfo->flinfo->fn_extra);

	PG_RETURN_CUSTOMER_PERIOD(ConstructorPeriod(fcinfo, d, unit));
}

/*
 * The calendar date of ts in the time zone of the call's last argument, resolved
 * and cached by ResolveTimeZone.
 */
static DateADT
DateInZone(FunctionCallInfo fcinfo, ConstructorCache *c, TimestampTz ts)
{
	ResolveTimeZone(fcinfo, c);
	if (TIMESTAMP_NOT_FINITE(ts))
		ReportInfiniteTimestamp();
	switch (c->tzmode)
	{
		case TZ_FIXED:
			return DateOfTimestamp(ts + (int64) c->tzoffset * USECS_PER_SEC);
		case TZ_ZONE:
			return DateOfTimestampTz(ts, c->tz, c);
		default:
			return DateOfTimestamp(DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone,
																		 PointerGetDatum(c->tzname),
																		 TimestampTzGetDatum(ts))));
	}
}

PG_FUNCTION_INFO_V1(customer_period_from_timestamptz_zone);
/* customer_period(timestamptz, kind, zone): the period holding its date in the given zone */
Datum
customer_period_from_timestamptz_zone(PG_FUNCTION_ARGS)
{
	PeriodUnit	unit = ConstructorUnit(fcinfo);
	DateADT		d = DateInZone(fcinfo, (ConstructorCache *) fcinfo->flinfo->fn_extra,
							   PG_GETARG_TIMESTAMPTZ(0));

	PG_RETURN_CUSTOMER_PERIOD(ConstructorPeriod(fcinfo, d, unit));
}

PG_FUNCTION_INFO_V1(local_date);
/*
 * local_date(timestamptz, zone): the calendar date of an instant in a time zone,
 * as (ts AT TIME ZONE zone)::date but with the zone resolved once per query and
 * its UTC offsets cached (cheaper per row than the cast ts::date in the session's
 * zone: test/bench/period_bench.sh). Unlike that cast it means the same on every
 * node of a cluster, whatever their TimeZone settings (docs/citus.md).
 */
Datum
local_date(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	ConstructorCache *c = GetConstructorCache(fcinfo);

	/* infinite instants have infinite dates, as in the cast */
	if (TIMESTAMP_IS_NOBEGIN(ts))
		PG_RETURN_DATEADT(DATEVAL_NOBEGIN);
	if (TIMESTAMP_IS_NOEND(ts))
		PG_RETURN_DATEADT(DATEVAL_NOEND);
	PG_RETURN_DATEADT(DateInZone(fcinfo, c, ts));
}

/* ----------------------------------------------------------------
 * Comparison, sorting and hashing
 * ----------------------------------------------------------------
 */

#define PERIOD_CMP_FUNC(name, op) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(PG_GETARG_CUSTOMER_PERIOD(0) op PG_GETARG_CUSTOMER_PERIOD(1)); \
}

/* customer_period_lt and friends: periods order by kind, then by time */
PERIOD_CMP_FUNC(customer_period_lt, <)
PERIOD_CMP_FUNC(customer_period_le, <=)
PERIOD_CMP_FUNC(customer_period_eq, ==)
PERIOD_CMP_FUNC(customer_period_ne, !=)
PERIOD_CMP_FUNC(customer_period_ge, >=)
PERIOD_CMP_FUNC(customer_period_gt, >)

PG_FUNCTION_INFO_V1(customer_period_smaller);
/* customer_period_smaller: the earlier of two periods (min aggregate) */
Datum
customer_period_smaller(PG_FUNCTION_ARGS)
{
	PG_RETURN_CUSTOMER_PERIOD(Min(PG_GETARG_CUSTOMER_PERIOD(0), PG_GETARG_CUSTOMER_PERIOD(1)));
}

PG_FUNCTION_INFO_V1(customer_period_larger);
/* customer_period_larger: the later of two periods (max aggregate) */
Datum
customer_period_larger(PG_FUNCTION_ARGS)
{
	PG_RETURN_CUSTOMER_PERIOD(Max(PG_GETARG_CUSTOMER_PERIOD(0), PG_GETARG_CUSTOMER_PERIOD(1)));
}

PG_FUNCTION_INFO_V1(customer_period_cmp);
/* customer_period_cmp: btree comparison */
Datum
customer_period_cmp(PG_FUNCTION_ARGS)
{
	CustomerPeriod a = PG_GETARG_CUSTOMER_PERIOD(0);
	CustomerPeriod b = PG_GETARG_CUSTOMER_PERIOD(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

PG_FUNCTION_INFO_V1(customer_period_sortsupport);
/* customer_period_sortsupport: the raw encoding sorts as an unsigned integer */
Datum
customer_period_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

	ssup->comparator = ssup_datum_unsigned_cmp;
	PG_RETURN_VOID();
}

/* fold the 64-bit encoding into the 32 bits the hash functions take */
static inline uint32
PeriodHashKey(CustomerPeriod p)
{
	return (uint32) p ^ (uint32) (p >> 32);
}

PG_FUNCTION_INFO_V1(customer_period_hash);
/* customer_period_hash: hash opclass support */
Datum
customer_period_hash(PG_FUNCTION_ARGS)
{
	return hash_uint32(PeriodHashKey(PG_GETARG_CUSTOMER_PERIOD(0)));
}

PG_FUNCTION_INFO_V1(customer_period_hash_extended);
/* customer_period_hash_extended: seeded 64-bit hash */
Datum
customer_period_hash_extended(PG_FUNCTION_ARGS)
{
	return hash_uint32_extended(PeriodHashKey(PG_GETARG_CUSTOMER_PERIOD(0)), PG_GETARG_INT64(1));
}

/* ----------------------------------------------------------------
 * Arithmetic and accessors
 * ----------------------------------------------------------------
 */

/* the period n periods after p (before it for negative n) */
static inline CustomerPeriod
PeriodShift(CustomerPeriod p, int64 n)
{
	return PeriodFromOrdinal(PERIOD_GET_UNIT(p), (int64) PERIOD_GET_ORDINAL(p) + n);
}

PG_FUNCTION_INFO_V1(customer_period_pl_int);
/* p + n: the period n periods after p */
Datum
customer_period_pl_int(PG_FUNCTION_ARGS)
{
	PG_RETURN_CUSTOMER_PERIOD(PeriodShift(PG_GETARG_CUSTOMER_PERIOD(0), PG_GETARG_INT32(1)));
}

PG_FUNCTION_INFO_V1(int_pl_customer_period);
/* n + p: the period n periods after p */
Datum
int_pl_customer_period(PG_FUNCTION_ARGS)
{
	PG_RETURN_CUSTOMER_PERIOD(PeriodShift(PG_GETARG_CUSTOMER_PERIOD(1), PG_GETARG_INT32(0)));
}

PG_FUNCTION_INFO_V1(customer_period_mi_int);
/* p - n: the period n periods before p */
Datum
customer_period_mi_int(PG_FUNCTION_ARGS)
{
	PG_RETURN_CUSTOMER_PERIOD(PeriodShift(PG_GETARG_CUSTOMER_PERIOD(0), -(int64) PG_GETARG_INT32(1)));
}

PG_FUNCTION_INFO_V1(customer_period_mi);
/* p - q: how many periods q lies before p (same kind only) */
Datum
customer_period_mi(PG_FUNCTION_ARGS)
{
	CustomerPeriod a = PG_GETARG_CUSTOMER_PERIOD(0);
	CustomerPeriod b = PG_GETARG_CUSTOMER_PERIOD(1);

	PeriodCheckSameUnit(a, b, "subtract");
	PG_RETURN_INT32(PERIOD_GET_ORDINAL(a) - PERIOD_GET_ORDINAL(b));
}

PG_FUNCTION_INFO_V1(customer_period_start_date);
/* start_date(p): the period's first day */
Datum
customer_period_start_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(PeriodStartDate(PG_GETARG_CUSTOMER_PERIOD(0)));
}

PG_FUNCTION_INFO_V1(customer_period_end_date);
/* end_date(p): the first day after the period (exclusive end) */
Datum
customer_period_end_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(PeriodEndDate(PG_GETARG_CUSTOMER_PERIOD(0)));
}

PG_FUNCTION_INFO_V1(customer_period_kind);
/* kind(p): the period's kind name, as the constructors accept it */
Datum
customer_period_kind(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(PeriodUnitName(PERIOD_GET_UNIT(PG_GETARG_CUSTOMER_PERIOD(0)))));
}

PG_FUNCTION_INFO_V1(customer_period_to_daterange);
/* p::daterange: [start_date, end_date) */
Datum
customer_period_to_daterange(PG_FUNCTION_ARGS)
{
	CustomerPeriod p = PG_GETARG_CUSTOMER_PERIOD(0);
	TypeCacheEntry *typcache = lookup_type_cache(DATERANGEOID, TYPECACHE_RANGE_INFO);
	RangeBound	lower = {0};
	RangeBound	upper = {0};

	lower.val = DateADTGetDatum(PeriodStartDate(p));
	lower.inclusive = true;
	lower.lower = true;
	upper.val = DateADTGetDatum(PeriodEndDate(p));
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(CompatMakeRange(typcache, &lower, &upper, false));
}

/* does period p contain date d? */
static inline bool
PeriodContainsDate(CustomerPeriod p, DateADT d)
{
	return !DATE_NOT_FINITE(d) && d >= PeriodStartDate(p) && d < PeriodEndDate(p);
}

PG_FUNCTION_INFO_V1(customer_period_contains_date);
/* p @> d */
Datum
customer_period_contains_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PeriodContainsDate(PG_GETARG_CUSTOMER_PERIOD(0), PG_GETARG_DATEADT(1)));
}

PG_FUNCTION_INFO_V1(date_contained_by_customer_period);
/* d <@ p */
Datum
date_contained_by_customer_period(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PeriodContainsDate(PG_GETARG_CUSTOMER_PERIOD(1), PG_GETARG_DATEADT(0)));
}

PG_FUNCTION_INFO_V1(customer_period_series);
/* periods(from, to): every period from `from` to `to` inclusive, in order */
Datum
customer_period_series(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	CustomerPeriod *next;
	CustomerPeriod last;

	if (SRF_IS_FIRSTCALL())
	{
		CustomerPeriod from = PG_GETARG_CUSTOMER_PERIOD(0);
		CustomerPeriod to = PG_GETARG_CUSTOMER_PERIOD(1);
		MemoryContext oldcxt;

		PeriodCheckSameUnit(from, to, "list the periods between");
		funcctx = SRF_FIRSTCALL_INIT();
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		next = palloc(2 * sizeof(CustomerPeriod));
		next[0] = from;
		next[1] = to;
		funcctx->user_fctx = next;
		MemoryContextSwitchTo(oldcxt);
	}
	funcctx = SRF_PERCALL_SETUP();
	next = (CustomerPeriod *) funcctx->user_fctx;
	last = next[1];
	if (next[0] <= last)
	{
		CustomerPeriod result = next[0];

		/* ordinals are consecutive within a unit; the last one needs no successor */
		next[0] = result < last ? result + 1 : last + 1;
		SRF_RETURN_NEXT(funcctx, CustomerPeriodGetDatum(result));
	}
	SRF_RETURN_DONE(funcctx);
}
