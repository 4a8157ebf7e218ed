/*-------------------------------------------------------------------------
 *
 * revenue_series.c
 *	  The flat period series shared by revenue_state and span_state (see
 *	  revenue.h): allocation and growth, in-place update inside an aggregate,
 *	  combining, trimming, validation, and text and binary I/O.
 *
 * Text form: <first period>|<number of periods>|<index>:<c0>,<c1>,...;...
 * listing the periods with a non-zero counter, in order, for example
 * 2024-01|2|0:1,10,1,10,0,0,0,0,0,0,0,0;1:1,12,0,0,1,2,0,0,0,0,1,12
 * (revenue_state amounts, the odd columns, in decimal). It is canonical and
 * round-trips exactly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "revenue.h"

/*
 * The SQL type name of a series kind, for messages.
 */
const char *
SeriesTypeName(int kind)
{
	return kind == SERIES_REVENUE ? "revenue_state" : "span_state";
}

/*
 * Is column col of a series of this kind an amount (1/10000 units)?
 */
static bool
SeriesIsAmount(int kind, int col)
{
	return kind == SERIES_REVENUE && (col & 1) == 1;
}

/*
 * A zeroed series of the given shape, palloc'd in the current context.
 */
SeriesState *
SeriesAlloc(int kind, PeriodUnit unit, int32 base, int64 nperiods)
{
	Size		size;
	SeriesState *t;

	if (nperiods > SERIES_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s would cover too many periods", SeriesTypeName(kind)),
				 errdetail("The data span " INT64_FORMAT " periods; at most %d are supported.",
						   nperiods, SERIES_MAX_PERIODS),
				 errhint("Use a coarser period kind, or filter the input to a shorter time range.")));
	size = offsetof(SeriesState, cells) + nperiods * SERIES_NCOLS(kind) * sizeof(int64);
	t = palloc0(size);
	SET_VARSIZE(t, size);
	t->version = SERIES_VERSION;
	t->kind = kind;
	t->unit = unit;
	t->base = base;
	t->nperiods = (int32) nperiods;
	return t;
}

/*
 * Error out unless t is a series of the expected kind (a guard against
 * corrupted values: the SQL types keep the kinds apart).
 */
void
SeriesCheckKind(const SeriesState *t, int kind)
{
	if (t->version != SERIES_VERSION || t->kind != kind ||
		VARSIZE(t) != offsetof(SeriesState, cells) + (Size) t->nperiods * SERIES_NCOLS(kind) * sizeof(int64))
		elog(ERROR, "corrupted %s value", SeriesTypeName(kind));
}

/*
 * Report a counter, or a figure summed from counters, that does not fit in an
 * int64 (SQLSTATE 22003): sums of counters are always checked, never wrap.
 */
void
SeriesOutOfRange(int kind)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s counter out of range", SeriesTypeName(kind)),
			 errdetail("Customer counts are held up to 9223372036854775807, amounts exactly up to 922337203685477.5807 currency units.")));
}

/*
 * Error out (22003) unless the sums span_table computes across periods fit:
 * the customers subscribed at each period's end (a running sum of
 * SPAN_END_DELTA) and, with them, the period's new customers (the stripe
 * denominator). A revenue state needs no such check: its accessor's figures
 * are each bounded by a stored counter (see SeriesValidate).
 */
void
SeriesCheckSums(const SeriesState *t)
{
	int64		end = 0;
	int64		den;
	int			i;

	if (t->kind != SERIES_SPAN)
		return;
	for (i = 0; i < t->nperiods; i++)
	{
		const int64 *c = SERIES_ROW(t, i);

		if (pg_add_s64_overflow(end, c[SPAN_NEW], &den) ||
			pg_add_s64_overflow(end, c[SPAN_END_DELTA], &end))
			SeriesOutOfRange(t->kind);
	}
}

/*
 * Add src's counters into dst (which covers src's range), erroring on overflow.
 */
static void
SeriesAddInto(SeriesState *dst, const SeriesState *src)
{
	int			ncols = SERIES_NCOLS(dst->kind);
	int64	   *to = SERIES_ROW(dst, src->base - dst->base);
	int64		i;

	for (i = 0; i < (int64) src->nperiods * ncols; i++)
		if (src->cells[i] != 0 && pg_add_s64_overflow(to[i], src->cells[i], &to[i]))
			SeriesOutOfRange(dst->kind);
}

/*
 * The series in argument argno, ready to be updated for periods lo .. hi:
 * the argument itself when it may be changed in place (inside an aggregate,
 * not a copy, covering the range), else a new, wider copy in the current
 * context. A NULL argument gives a new series. Errors if the unit differs.
 * Inside an aggregate a copy grows by half again in the direction of growth,
 * so that input in time order does not copy the state once per period; the
 * final function trims the spare periods.
 */
SeriesState *
SeriesForUpdate(FunctionCallInfo fcinfo, int argno, int kind, PeriodUnit unit,
				int32 lo, int32 hi, const char *what)
{
	SeriesState *t;
	SeriesState *n;
	int64		base;
	int64		last;
	bool		inagg = AggCheckCallContext(fcinfo, NULL) != 0;

	if (PG_ARGISNULL(argno))
		return SeriesAlloc(kind, unit, lo, (int64) hi - lo + 1);
	t = PG_GETARG_SERIES(argno);
	SeriesCheckKind(t, kind);
	CheckActivityUnit(t->unit, unit, what);
	if (lo >= t->base && (int64) hi < (int64) t->base + t->nperiods && inagg &&
		(Pointer) t == DatumGetPointer(PG_GETARG_DATUM(argno)))
		return t;

	base = Min(lo, t->base);
	last = Max((int64) hi, (int64) t->base + t->nperiods - 1);
	if (inagg)
	{
		int64		slack = Max(8, (last - base + 1) / 2);

		slack = Min(slack, SERIES_MAX_PERIODS - (last - base + 1));
		if (slack > 0 && last > (int64) t->base + t->nperiods - 1 &&
			PeriodIsValid(PERIOD_MAKE(unit, last + slack)))
			last += slack;
		else if (slack > 0 && base < t->base && PeriodIsValid(PERIOD_MAKE(unit, base - slack)))
			base -= slack;
	}
	n = SeriesAlloc(kind, unit, (int32) base, last - base + 1);
	SeriesAddInto(n, t);
	return n;
}

/*
 * Is every counter of period index i zero?
 */
static bool
SeriesRowIsZero(const SeriesState *t, int i)
{
	const int64 *c = SERIES_ROW(t, i);
	int			k;

	for (k = 0; k < SERIES_NCOLS(t->kind); k++)
		if (c[k] != 0)
			return false;
	return true;
}

/*
 * t without its all-zero edge periods (the growth slack): t itself when it
 * has none, else a trimmed copy; NULL when every counter is zero.
 */
SeriesState *
SeriesTrim(SeriesState *t)
{
	int			first = 0;
	int			last = t->nperiods - 1;
	SeriesState *n;

	while (first <= last && SeriesRowIsZero(t, first))
		first++;
	while (last >= first && SeriesRowIsZero(t, last))
		last--;
	if (first > last)
		return NULL;
	if (first == 0 && last == t->nperiods - 1)
		return t;
	n = SeriesAlloc(t->kind, t->unit, t->base + first, last - first + 1);
	memcpy(n->cells, SERIES_ROW(t, first), sizeof(int64) * SERIES_NCOLS(t->kind) * (last - first + 1));
	return n;
}

PG_FUNCTION_INFO_V1(series_state_final);

/*
 * Final function of revenue_agg, span_agg and their _union forms: the state
 * without growth slack; NULL when no customer contributed anything.
 */
Datum
series_state_final(PG_FUNCTION_ARGS)
{
	SeriesState *t = PG_GETARG_SERIES(0);

	t = SeriesTrim(t);
	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(t);
}

/*
 * Combine body: series argument 1 added into series argument 0 (either may
 * be NULL).
 */
SeriesState *
SeriesCombine(FunctionCallInfo fcinfo, int kind, const char *what)
{
	SeriesState *b;
	SeriesState *a;

	if (PG_ARGISNULL(1))
		return PG_ARGISNULL(0) ? NULL : PG_GETARG_SERIES(0);
	b = PG_GETARG_SERIES(1);
	SeriesCheckKind(b, kind);
	a = SeriesForUpdate(fcinfo, 0, kind, b->unit, b->base, b->base + b->nperiods - 1, what);
	SeriesAddInto(a, b);
	SeriesCheckSums(a);
	return a;
}

/*
 * Report an inconsistent state read from text input.
 */
static void
SeriesBad(int kind, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid %s value", SeriesTypeName(kind)),
			 errdetail("%s", detail)));
}

/*
 * Report malformed or inconsistent binary input.
 */
static void
SeriesBadBinary(int kind, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid external %s value", SeriesTypeName(kind)),
			 errdetail("%s", detail)));
}

/*
 * *acc += v, erroring (22003) on overflow.
 */
static inline void
SeriesSum(int64 *acc, int64 v, int kind)
{
	if (unlikely(pg_add_s64_overflow(*acc, v, acc)))
		SeriesOutOfRange(kind);
}

/*
 * Check the invariants every state an aggregate can produce satisfies, so
 * that corrupted input is rejected rather than reported as numbers, and
 * (22003) that no sum the accessors compute is out of range. binary selects
 * the SQLSTATE of an inconsistency (22P03 rather than 22P02).
 *
 * A revenue state's paying customers and MRR follow from the movements,
 * period by period; the MRR that stayed (paid in p-1 and p), less the
 * contraction, is not negative. Every figure revenue_table computes is then a
 * sum of terms of one period's MRR or of the one before, so none overflows.
 */
static void
SeriesValidate(const SeriesState *t, bool binary)
{
	void		(*bad) (int kind, const char *detail) = binary ? SeriesBadBinary : SeriesBad;
	int			kind = t->kind;
	int			i,
				k;
	int64		prev_active = 0,
				prev_mrr = 0,
				prev_leave_n = 0,
				prev_leave_amt = 0;
	int64		end = 0;

	for (i = 0; i < t->nperiods; i++)
	{
		const int64 *c = SERIES_ROW(t, i);

		for (k = 0; k < SERIES_NCOLS(kind); k++)
			if (c[k] < 0 && !(kind == SERIES_SPAN && k == SPAN_END_DELTA))
				bad(kind, "Counters and amounts must not be negative.");
		if (kind == SERIES_REVENUE)
		{
			/* both >= 0: the leaving were checked against the period before */
			int64		stay_n = prev_active - prev_leave_n;
			int64		stay_mrr = prev_mrr - prev_leave_amt;
			int64		active,
						mrr;

			for (k = REV_NEW_N; k < REV_NCOLS; k += 2)
				if ((c[k] == 0) != (c[k + 1] == 0) || c[k + 1] < c[k])
					bad(kind, "A movement has customers exactly when it has an amount.");
			if (i == 0 && c[REV_REACT_N] != 0)
				bad(kind, "Nobody can be reactivated in the first period.");
			if (c[REV_EXP_N] > stay_n || c[REV_CON_N] > stay_n - c[REV_EXP_N])
				bad(kind, "More customers changed their MRR than stayed.");
			if (c[REV_CON_AMT] > stay_mrr)
				bad(kind, "The contraction exceeds the MRR of the customers who stayed.");
			active = stay_n;
			SeriesSum(&active, c[REV_NEW_N], kind);
			SeriesSum(&active, c[REV_REACT_N], kind);
			mrr = stay_mrr - c[REV_CON_AMT];
			SeriesSum(&mrr, c[REV_NEW_AMT], kind);
			SeriesSum(&mrr, c[REV_REACT_AMT], kind);
			SeriesSum(&mrr, c[REV_EXP_AMT], kind);
			if (active != c[REV_ACTIVE] || mrr != c[REV_MRR] || c[REV_LEAVE_N] > active ||
				c[REV_LEAVE_AMT] > mrr)
				bad(kind, "Paying customers and MRR must follow from the movements.");
			prev_active = active;
			prev_mrr = mrr;
			prev_leave_n = c[REV_LEAVE_N];
			prev_leave_amt = c[REV_LEAVE_AMT];
		}
		else
		{
			int64		start = end;
			int64		expected = start - c[SPAN_LOST];
			int64		churned = c[SPAN_CM_CHURNED];

			if (c[SPAN_LOST] > start || c[SPAN_NEW_LOST] > c[SPAN_NEW] ||
				c[SPAN_CM_CHURNED] > c[SPAN_CHURNED] || c[SPAN_BACK] > c[SPAN_CHURNED] ||
				c[SPAN_CHURNED] > c[SPAN_EVENTS])
				bad(kind, "Customers at the end of a period must follow from its movements.");
			/* end = start - lost + (new - new lost) + reactivated, each term >= 0 */
			SeriesSum(&expected, c[SPAN_NEW] - c[SPAN_NEW_LOST], kind);
			SeriesSum(&expected, c[SPAN_REACT], kind);
			SeriesSum(&end, c[SPAN_END_DELTA], kind);
			/* churned (ChartMogul) = churned - new lost - back, summed the other way round */
			if (pg_add_s64_overflow(churned, c[SPAN_NEW_LOST], &churned) ||
				pg_add_s64_overflow(churned, c[SPAN_BACK], &churned) ||
				end != expected || churned != c[SPAN_CHURNED])
				bad(kind, "Customers at the end of a period must follow from its movements.");
		}
	}
	SeriesCheckSums(t);
}

/*
 * The series kind of a type, from the type's name (the I/O functions are
 * shared by revenue_state and span_state and get the type's OID).
 */
static int
SeriesKindOfType(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	int			kind;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	kind = strcmp(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname), "revenue_state") == 0
		? SERIES_REVENUE : SERIES_SPAN;
	ReleaseSysCache(tup);
	return kind;
}

PG_FUNCTION_INFO_V1(series_state_in);

/*
 * Text input of revenue_state and span_state (see the file header).
 */
Datum
series_state_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	int			kind = SeriesKindOfType(PG_GETARG_OID(1));
	const char *typname = SeriesTypeName(kind);
	const char *bar = strchr(input, '|');
	const char *s;
	CustomerPeriod base;
	int64		n;
	int64		prev = -1;
	SeriesState *t;

	if (bar == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", typname, input),
				 errdetail("Expected \"<first period>|<periods>|<index>:<counters>;...\".")));
	base = PeriodFromText(pnstrdup(input, bar - input));
	s = bar + 1;
	n = ParseCount(&s, typname, input);
	if (n < 1 || n > SERIES_MAX_PERIODS)
		SeriesBad(kind, "The number of periods is out of range.");
	(void) PeriodFromOrdinal(PERIOD_GET_UNIT(base), PERIOD_GET_ORDINAL(base) + n - 1);
	t = SeriesAlloc(kind, PERIOD_GET_UNIT(base), PERIOD_GET_ORDINAL(base), n);
	ExpectChar(&s, '|', typname, input);
	while (*s != '\0')
	{
		int64		i;
		int64	   *c;
		int			k;

		if (prev >= 0)
			ExpectChar(&s, ';', typname, input);
		i = ParseCount(&s, typname, input);
		if (i >= n || i <= prev)
			SeriesBad(kind, "Periods must lie inside the covered range, once each, in order.");
		prev = i;
		c = SERIES_ROW(t, i);
		ExpectChar(&s, ':', typname, input);
		for (k = 0; k < SERIES_NCOLS(kind); k++)
		{
			bool		neg = false;

			if (k > 0)
				ExpectChar(&s, ',', typname, input);
			if (*s == '-')
			{
				neg = true;
				s++;
			}
			c[k] = SeriesIsAmount(kind, k) ? ParseScaled(&s, typname, input)
				: ParseCount(&s, typname, input);
			if (neg)
				c[k] = -c[k];
		}
	}
	SeriesValidate(t, false);
	PG_RETURN_POINTER(t);
}

PG_FUNCTION_INFO_V1(series_state_out);

/*
 * Text output of revenue_state and span_state (see the file header).
 */
Datum
series_state_out(PG_FUNCTION_ARGS)
{
	SeriesState *t = PG_GETARG_SERIES(0);
	StringInfoData out;
	bool		firstrow = true;
	int			i,
				k;

	SeriesCheckKind(t, t->kind == SERIES_REVENUE ? SERIES_REVENUE : SERIES_SPAN);
	initStringInfo(&out);
	appendStringInfo(&out, "%s|%d|", PeriodToCString(PERIOD_MAKE(t->unit, t->base)), t->nperiods);
	for (i = 0; i < t->nperiods; i++)
	{
		const int64 *c = SERIES_ROW(t, i);

		if (SeriesRowIsZero(t, i))
			continue;
		appendStringInfo(&out, "%s%d:", firstrow ? "" : ";", i);
		firstrow = false;
		for (k = 0; k < SERIES_NCOLS(t->kind); k++)
		{
			if (k > 0)
				appendStringInfoChar(&out, ',');
			if (SeriesIsAmount(t->kind, k))
				AppendScaled(&out, c[k]);
			else
				appendStringInfo(&out, INT64_FORMAT, c[k]);
		}
	}
	PG_RETURN_CSTRING(out.data);
}

PG_FUNCTION_INFO_V1(series_state_send);

/*
 * Binary output: version, kind, first period (int8), number of periods
 * (int4), number of non-zero periods (int4), then per such period its index
 * (int4) and its counters (int8 each).
 */
Datum
series_state_send(PG_FUNCTION_ARGS)
{
	SeriesState *t = PG_GETARG_SERIES(0);
	StringInfoData out;
	int32		nonzero = 0;
	int			i,
				k;

	SeriesCheckKind(t, t->kind == SERIES_REVENUE ? SERIES_REVENUE : SERIES_SPAN);
	for (i = 0; i < t->nperiods; i++)
		nonzero += !SeriesRowIsZero(t, i);
	pq_begintypsend(&out);
	pq_sendbyte(&out, SERIES_VERSION);
	pq_sendbyte(&out, t->kind);
	pq_sendint64(&out, (int64) PERIOD_MAKE(t->unit, t->base));
	pq_sendint32(&out, t->nperiods);
	pq_sendint32(&out, nonzero);
	for (i = 0; i < t->nperiods; i++)
	{
		if (SeriesRowIsZero(t, i))
			continue;
		pq_sendint32(&out, i);
		for (k = 0; k < SERIES_NCOLS(t->kind); k++)
			pq_sendint64(&out, SERIES_ROW(t, i)[k]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&out));
}

PG_FUNCTION_INFO_V1(series_state_recv);

/*
 * Binary input (see series_state_send), validated like text input.
 */
Datum
series_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	in = (StringInfo) PG_GETARG_POINTER(0);
	int			kind = SeriesKindOfType(PG_GETARG_OID(1));
	CustomerPeriod base;
	int32		n,
				nonzero;
	int64		prev = -1;
	SeriesState *t;
	int			j,
				k;

	if (pq_getmsgbyte(in) != SERIES_VERSION || pq_getmsgbyte(in) != kind)
		SeriesBadBinary(kind, "Unknown format version or state kind.");
	base = (CustomerPeriod) pq_getmsgint64(in);
	if (!PeriodIsValid(base))
		SeriesBadBinary(kind, "The first period is not a valid customer_period.");
	n = pq_getmsgint(in, 4);
	if (n < 1 || n > SERIES_MAX_PERIODS)
		SeriesBadBinary(kind, "The number of periods is out of range.");
	(void) PeriodFromOrdinal(PERIOD_GET_UNIT(base), (int64) PERIOD_GET_ORDINAL(base) + n - 1);
	t = SeriesAlloc(kind, PERIOD_GET_UNIT(base), PERIOD_GET_ORDINAL(base), n);
	nonzero = pq_getmsgint(in, 4);
	if (nonzero < 0 || nonzero > n)
		SeriesBadBinary(kind, "The number of periods with data is out of range.");
	for (j = 0; j < nonzero; j++)
	{
		int32		i = pq_getmsgint(in, 4);

		if (i < 0 || i >= n || i <= prev)
			SeriesBadBinary(kind, "Periods must lie inside the covered range, once each, in order.");
		prev = i;
		for (k = 0; k < SERIES_NCOLS(kind); k++)
			SERIES_ROW(t, i)[k] = pq_getmsgint64(in);
	}
	SeriesValidate(t, true);
	PG_RETURN_POINTER(t);
}
