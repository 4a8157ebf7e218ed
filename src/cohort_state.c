/*-------------------------------------------------------------------------
 *
 * cohort_state.c
 *	  The triangular matrix shared by cohort_state and retention_state (see
 *	  cohort_state.h): allocation and growth, in-place update inside an
 *	  aggregate, combining, validation, and text and binary I/O.
 *
 * Text form: <first period>|<number of periods>|<row>.<slot>:<c0>,<c1>[,<c2>];...
 * listing the non-zero cells in order, for example
 * 1997-01|3|0.0:2,1,35.5;0.2:1,1,10 (revenue columns in decimal). It is
 * canonical and round-trips exactly.
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

#include "cohort_state.h"

/*
 * The SQL type name of a state kind, for messages.
 */
static const char *
TriTypeName(int kind)
{
	return kind == TRI_COHORT ? "cohort_state" : "retention_state";
}

/*
 * A zeroed state of the given shape, palloc'd in the current context.
 */
TriState *
TriAlloc(int kind, PeriodUnit unit, int32 base, int64 nperiods)
{
	Size		size;
	TriState   *t;

	if (nperiods > TRI_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s would cover too many periods", TriTypeName(kind)),
				 errdetail("The data span " INT64_FORMAT " periods; at most %d are supported.",
						   nperiods, TRI_MAX_PERIODS),
				 errhint("Use a coarser period kind, or filter the orders to a shorter time range.")));
	size = offsetof(TriState, cells) + TRI_NCELLS(nperiods) * TRI_NCOLS(kind) * sizeof(int64);
	t = palloc0(size);
	SET_VARSIZE(t, size);
	t->version = TRI_VERSION;
	t->kind = kind;
	t->unit = unit;
	t->base = base;
	t->nperiods = (int32) nperiods;
	return t;
}

/*
 * Are all counters of cell c zero?
 */
static bool
TriCellIsZero(const TriState *t, const int64 *c)
{
	int			i;

	for (i = 0; i < TRI_NCOLS(t->kind); i++)
		if (c[i] != 0)
			return false;
	return true;
}

/*
 * Error out unless t is a state of the expected kind (a guard against
 * corrupted values: the SQL types keep the kinds apart).
 */
void
TriCheckKind(TriState *t, int kind)
{
	if (t->version != TRI_VERSION || t->kind != kind)
		elog(ERROR, "corrupted %s value", TriTypeName(kind));
}

/*
 * Report a counter, or a figure summed from counters, that does not fit in an
 * int64 (SQLSTATE 22003): sums of counters are always checked, never wrap.
 */
void
TriOutOfRange(int kind)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s counter out of range", TriTypeName(kind)),
			 errdetail("The customers of a state, and every figure read out of it, are held up to 9223372036854775807.")));
}

/*
 * Error out (22003) unless the customers of a retention state add up to at
 * most PG_INT64_MAX. Every figure the retention accessors compute counts
 * distinct customers (customers at a period's end come each from their last
 * active period up to it, and the state's rows conserve customers), so it is
 * at most that total: a state that passes can be read without overflow. A
 * cohort state needs no such check: its accessors never add across cohorts.
 */
void
TriCheckTotal(const TriState *t)
{
	int64		total = 0;
	int			r;

	if (t->kind != TRI_RETENTION)
		return;
	for (r = 0; r < t->nperiods; r++)
		if (pg_add_s64_overflow(total, TRI_CELL(t, r, 0)[1], &total))
			TriOutOfRange(t->kind);
}

/*
 * Add src's cells into dst (which covers src's range), erroring on overflow.
 */
static void
TriAddInto(TriState *dst, const TriState *src)
{
	int			ncols = TRI_NCOLS(dst->kind);
	int32		shift = src->base - dst->base;
	int			r;

	for (r = 0; r < src->nperiods; r++)
	{
		int64	   *from = (int64 *) TRI_CELL(src, r, 0);
		int64	   *to = TRI_CELL(dst, r + shift, 0);
		int			i;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < (src->nperiods - r) * ncols; i++)
			if (from[i] != 0 && pg_add_s64_overflow(to[i], from[i], &to[i]))
				TriOutOfRange(dst->kind);
	}
}

/*
 * The state in argument argno, ready to be updated for periods lo .. hi: the
 * argument itself when it may be changed in place (inside an aggregate, not a
 * copy, covering the range), else a new, wider copy in the current context
 * (the executor copies a new transition value into the aggregate context).
 * A NULL argument gives a new state. Errors if the unit differs.
 */
TriState *
TriForUpdate(FunctionCallInfo fcinfo, int argno, int kind, PeriodUnit unit,
			 int32 lo, int32 hi, const char *what)
{
	TriState   *t;
	TriState   *n;
	int32		base;
	int64		last;

	if (PG_ARGISNULL(argno))
		return TriAlloc(kind, unit, lo, (int64) hi - lo + 1);
	t = PG_GETARG_TRI(argno);
	TriCheckKind(t, kind);
	CheckActivityUnit(t->unit, unit, what);
	if (lo >= t->base && (int64) hi < (int64) t->base + t->nperiods &&
		AggCheckCallContext(fcinfo, NULL) &&
		(Pointer) t == DatumGetPointer(PG_GETARG_DATUM(argno)))
		return t;

	base = Min(lo, t->base);
	last = Max((int64) hi, (int64) t->base + t->nperiods - 1);

	/*
	 * Inside an aggregate, grow by half again in the direction of growth, so
	 * that input in time order (a period more with every cohort) does not copy
	 * the state once per period. The extra periods stay zero; the final
	 * function (TriTrim) drops them.
	 */
	if (AggCheckCallContext(fcinfo, NULL))
	{
		int64		slack = Max(8, (last - base + 1) / 2);

		slack = Min(slack, TRI_MAX_PERIODS - (last - base + 1));
		if (slack > 0 && last > (int64) t->base + t->nperiods - 1 &&
			PeriodIsValid(PERIOD_MAKE(unit, last + slack)))
			last += slack;
		else if (slack > 0 && base < t->base && PeriodIsValid(PERIOD_MAKE(unit, base - slack)))
			base -= slack;
	}
	n = TriAlloc(kind, unit, base, last - base + 1);
	TriAddInto(n, t);
	return n;
}

/*
 * t without its empty edge periods (the growth slack of TriForUpdate): t
 * itself when it has none, else a trimmed copy. The covered range then runs
 * from the first to the last period with data, which makes the state, and its
 * text, canonical.
 */
TriState *
TriTrim(TriState *t)
{
	int64		first = -1;
	int64		last = -1;
	int			r,
				s;
	TriState   *n;

	for (r = 0; r < t->nperiods; r++)
		for (s = 0; s < t->nperiods - r; s++)
			if (!TriCellIsZero(t, TRI_CELL(t, r, s)))
			{
				if (first < 0)
					first = r;
				last = Max(last, r + s);
			}
	if (first <= 0 && last == t->nperiods - 1)
		return t;
	if (first < 0)
		elog(ERROR, "empty %s value", TriTypeName(t->kind));
	n = TriAlloc(t->kind, t->unit, t->base + first, last - first + 1);
	for (r = first; r <= last; r++)
		memcpy(TRI_CELL(n, r - first, 0), TRI_CELL(t, r, 0),
			   sizeof(int64) * TRI_NCOLS(t->kind) * (last - r + 1));
	return n;
}

PG_FUNCTION_INFO_V1(tri_state_final);

/*
 * Final function of cohort_agg, retention_agg and their _union forms: the
 * state without growth slack (see TriTrim).
 */
Datum
tri_state_final(PG_FUNCTION_ARGS)
{
	TriState   *t = PG_GETARG_TRI(0);

	TriCheckKind(t, t->kind == TRI_COHORT ? TRI_COHORT : TRI_RETENTION);
	PG_RETURN_POINTER(TriTrim(t));
}

/*
 * Transition function body of cohort_agg and retention_agg: add the activity
 * in argument 1 to the state in argument 0 (NULL activities are skipped, as
 * aggregates skip NULL input).
 */
Datum
TriAggTrans(FunctionCallInfo fcinfo, int kind, const char *what)
{
	ActivityData a;
	ActivityEntry buf[64];
	ActivityEntry *e;
	TriState   *t;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	e = ActivityDecodeDatum(PG_GETARG_DATUM(1), &a, buf, lengthof(buf));
	t = TriForUpdate(fcinfo, 0, kind, a.unit, a.first, ACTIVITY_LAST(&a), what);
	if (kind == TRI_COHORT)
		CohortAdd(t, e, a.nactive);
	else
		RetentionAdd(t, e, a.nactive);

	/*
	 * An aggregate's state starts empty and gains one customer per row, so its
	 * total cannot overflow; a state passed in by a direct call may be near it.
	 */
	if (!AggCheckCallContext(fcinfo, NULL))
		TriCheckTotal(t);
	PG_RETURN_POINTER(t);
}

/*
 * Combine function body: state argument 1 added into state argument 0.
 */
TriState *
TriCombine(FunctionCallInfo fcinfo, int kind, const char *what)
{
	TriState   *b = PG_GETARG_TRI(1);
	TriState   *a;

	TriCheckKind(b, kind);
	a = TriForUpdate(fcinfo, 0, kind, b->unit, b->base, b->base + b->nperiods - 1, what);
	TriAddInto(a, b);
	TriCheckTotal(a);
	return a;
}

/*
 * Report an inconsistent state read from text input.
 */
static void
TriBad(int kind, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid %s value", TriTypeName(kind)),
			 errdetail("%s", detail)));
}

/*
 * Report malformed or inconsistent binary input.
 */
static void
TriBadBinary(int kind, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid external %s value", TriTypeName(kind)),
			 errdetail("%s", detail)));
}

/*
 * Check the invariants that hold for every state an aggregate can produce,
 * so that corrupted input is rejected rather than reported as numbers: no
 * negative counter, at least one customer, each row consistent, and (22003)
 * no sum the accessors compute out of range. binary selects the SQLSTATE of
 * an inconsistency (22P03 rather than 22P02).
 */
static void
TriValidate(TriState *t, bool binary)
{
	void		(*bad) (int kind, const char *detail) = binary ? TriBadBinary : TriBad;
	int			n = t->nperiods;
	bool		any = false;
	int			r,
				s;

	for (r = 0; r < n; r++)
	{
		CHECK_FOR_INTERRUPTS();
		for (s = 0; s < n - r; s++)
		{
			int64	   *c = TRI_CELL(t, r, s);
			int			i;

			for (i = 0; i < TRI_NCOLS(t->kind); i++)
			{
				if (c[i] < 0)
					bad(t->kind, "Counters must not be negative.");
				any |= c[i] != 0;
			}
		}
		if (t->kind == TRI_COHORT)
		{
			int64		size = TRI_CELL(t, r, 0)[0];
			int64		rest = size;	/* customers without a last age so far */
			int64		later = size;	/* customers whose last age is >= s */

			/* the last-age counts add up to the size (counted down: no sum to overflow) */
			for (s = 0; s < n - r; s++)
			{
				if (TRI_CELL(t, r, s)[1] > rest)
					break;
				rest -= TRI_CELL(t, r, s)[1];
			}
			if (s < n - r || rest != 0)
				bad(t->kind, "Every customer of a cohort has one last active age.");
			for (s = 0; s < n - r; s++)
			{
				int64	   *c = TRI_CELL(t, r, s);

				if (c[0] > later || c[1] > c[0] || (c[0] == 0 && c[2] != 0))
					bad(t->kind, "Active customers exceed the customers still to come back.");
				later -= c[1];
			}
		}
		else
		{
			int64		active = 0;
			int64		arriving = TRI_CELL(t, r, 0)[1];

			for (s = 0; s < n - r; s++)
				if (pg_add_s64_overflow(active, TRI_CELL(t, r, s)[0], &active))
					TriOutOfRange(t->kind);
			for (s = 1; s < n - r; s++)
				if (TRI_CELL(t, r, s)[1] != 0)
					bad(t->kind, "New-customer counts belong to gap 0 only.");
			for (s = 1; s <= r; s++)
				if (pg_add_s64_overflow(arriving, TRI_CELL(t, r - s, s)[0], &arriving))
					TriOutOfRange(t->kind);
			if (arriving != active)
				bad(t->kind, "Customers active in a period must be new or come from an earlier period.");
		}
	}
	if (!any)
		bad(t->kind, "A state holds at least one customer (the aggregates return NULL for none).");
	TriCheckTotal(t);
}

/*
 * Text input of a state of the given kind (see the file header).
 */
static Datum
TriIn(const char *input, int kind)
{
	const char *typname = TriTypeName(kind);
	const char *bar = strchr(input, '|');
	const char *s;
	CustomerPeriod base;
	int64		n;
	TriState   *t;
	int64		prev = -1;

	if (bar == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", typname, input),
				 errdetail("Expected \"<first period>|<periods>|<row>.<slot>:<counters>;...\".")));
	base = PeriodFromText(pnstrdup(input, bar - input));
	s = bar + 1;
	n = ParseCount(&s, typname, input);
	if (n < 1)
		TriBad(kind, "A state covers at least one period.");
	/* TriAlloc limits n, so that the last period's ordinal is computed without overflow */
	t = TriAlloc(kind, PERIOD_GET_UNIT(base), PERIOD_GET_ORDINAL(base), n);
	(void) PeriodFromOrdinal(PERIOD_GET_UNIT(base), PERIOD_GET_ORDINAL(base) + n - 1);
	ExpectChar(&s, '|', typname, input);
	while (*s != '\0')
	{
		int64		r,
					slot,
					idx;
		int64	   *c;
		int			i;

		if (prev >= 0)
			ExpectChar(&s, ';', typname, input);
		r = ParseCount(&s, typname, input);
		ExpectChar(&s, '.', typname, input);
		slot = ParseCount(&s, typname, input);
		if (r >= n || slot >= n - r)
			TriBad(kind, "A cell lies outside the covered periods.");
		idx = TRI_ROW(t, r) + slot;
		if (idx <= prev)
			TriBad(kind, "Cells must be listed once each, in order.");
		prev = idx;
		c = TRI_CELL(t, r, slot);
		ExpectChar(&s, ':', typname, input);
		for (i = 0; i < TRI_NCOLS(kind); i++)
		{
			if (i > 0)
				ExpectChar(&s, ',', typname, input);
			c[i] = (kind == TRI_COHORT && i == 2) ? ParseScaled(&s, typname, input)
				: ParseCount(&s, typname, input);
		}
	}
	TriValidate(t, false);
	PG_RETURN_POINTER(t);
}

/*
 * Text output (see the file header).
 */
static char *
TriOut(TriState *t)
{
	StringInfoData out;
	int			ncols = TRI_NCOLS(t->kind);
	bool		firstcell = true;
	int			r,
				s;

	initStringInfo(&out);
	appendStringInfo(&out, "%s|%d|", PeriodToCString(PERIOD_MAKE(t->unit, t->base)), t->nperiods);
	for (r = 0; r < t->nperiods; r++)
		for (s = 0; s < t->nperiods - r; s++)
		{
			int64	   *c = TRI_CELL(t, r, s);
			int			i;

			if (TriCellIsZero(t, c))
				continue;
			appendStringInfo(&out, "%s%d.%d:", firstcell ? "" : ";", r, s);
			firstcell = false;
			for (i = 0; i < ncols; i++)
			{
				if (i > 0)
					appendStringInfoChar(&out, ',');
				if (t->kind == TRI_COHORT && i == 2)
					AppendScaled(&out, c[i]);
				else
					appendStringInfo(&out, INT64_FORMAT, c[i]);
			}
		}
	return out.data;
}

/*
 * Binary output: version, kind, first period (int8), number of periods (int4),
 * number of non-zero cells (int4), then per such cell row (int4), slot (int4)
 * and its counters (int8 each).
 */
static bytea *
TriSend(TriState *t)
{
	StringInfoData out;
	int			ncols = TRI_NCOLS(t->kind);
	int64		ncells = TRI_NCELLS(t->nperiods);
	int32		nonzero = 0;
	int64		idx;
	int			r,
				s;

	for (idx = 0; idx < ncells * ncols; idx += ncols)
		nonzero += !TriCellIsZero(t, &t->cells[idx]);
	pq_begintypsend(&out);
	pq_sendbyte(&out, TRI_VERSION);
	pq_sendbyte(&out, t->kind);
	pq_sendint64(&out, (int64) PERIOD_MAKE(t->unit, t->base));
	pq_sendint32(&out, t->nperiods);
	pq_sendint32(&out, nonzero);
	for (r = 0; r < t->nperiods; r++)
		for (s = 0; s < t->nperiods - r; s++)
		{
			int64	   *c = TRI_CELL(t, r, s);
			int			i;

			if (TriCellIsZero(t, c))
				continue;
			pq_sendint32(&out, r);
			pq_sendint32(&out, s);
			for (i = 0; i < ncols; i++)
				pq_sendint64(&out, c[i]);
		}
	return pq_endtypsend(&out);
}

/*
 * Binary input (see TriSend), validated like text input.
 */
static TriState *
TriRecv(StringInfo in, int kind)
{
	CustomerPeriod base;
	int32		n;
	int32		nonzero;
	TriState   *t;
	int64		prev = -1;
	int			k;

	if (pq_getmsgbyte(in) != TRI_VERSION || pq_getmsgbyte(in) != kind)
		TriBadBinary(kind, "Unknown format version or state kind.");
	base = (CustomerPeriod) pq_getmsgint64(in);
	if (!PeriodIsValid(base))
		TriBadBinary(kind, "The first period is not a valid customer_period.");
	n = pq_getmsgint(in, 4);
	if (n < 1 || n > TRI_MAX_PERIODS)
		TriBadBinary(kind, "The number of periods is out of range.");
	(void) PeriodFromOrdinal(PERIOD_GET_UNIT(base), (int64) PERIOD_GET_ORDINAL(base) + n - 1);
	t = TriAlloc(kind, PERIOD_GET_UNIT(base), PERIOD_GET_ORDINAL(base), n);
	nonzero = pq_getmsgint(in, 4);
	if (nonzero < 0 || nonzero > TRI_NCELLS(n))
		TriBadBinary(kind, "The number of cells is out of range.");
	for (k = 0; k < nonzero; k++)
	{
		int32		r = pq_getmsgint(in, 4);
		int32		s = pq_getmsgint(in, 4);
		int64	   *c;
		int			i;

		if (r < 0 || r >= n || s < 0 || s >= n - r || TRI_ROW(t, r) + s <= prev)
			TriBadBinary(kind, "Cells must lie inside the covered periods, once each, in order.");
		prev = TRI_ROW(t, r) + s;
		c = TRI_CELL(t, r, s);
		for (i = 0; i < TRI_NCOLS(kind); i++)
			c[i] = pq_getmsgint64(in);
	}
	TriValidate(t, true);
	return t;
}

/*
 * The state kind of a type, from the type's name (the input functions are
 * shared by cohort_state and retention_state and get the type's OID).
 */
static int
TriKindOfType(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	int			kind;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	kind = strcmp(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname), "cohort_state") == 0
		? TRI_COHORT : TRI_RETENTION;
	ReleaseSysCache(tup);
	return kind;
}

PG_FUNCTION_INFO_V1(tri_state_in);

/*
 * Text input of cohort_state and retention_state.
 */
Datum
tri_state_in(PG_FUNCTION_ARGS)
{
	return TriIn(PG_GETARG_CSTRING(0), TriKindOfType(PG_GETARG_OID(1)));
}

PG_FUNCTION_INFO_V1(tri_state_out);

/*
 * Text output of cohort_state and retention_state.
 */
Datum
tri_state_out(PG_FUNCTION_ARGS)
{
	TriState   *t = PG_GETARG_TRI(0);

	TriCheckKind(t, t->kind == TRI_COHORT ? TRI_COHORT : TRI_RETENTION);
	PG_RETURN_CSTRING(TriOut(t));
}

PG_FUNCTION_INFO_V1(tri_state_send);

/*
 * Binary output of cohort_state and retention_state.
 */
Datum
tri_state_send(PG_FUNCTION_ARGS)
{
	TriState   *t = PG_GETARG_TRI(0);

	TriCheckKind(t, t->kind == TRI_COHORT ? TRI_COHORT : TRI_RETENTION);
	PG_RETURN_BYTEA_P(TriSend(t));
}

PG_FUNCTION_INFO_V1(tri_state_recv);

/*
 * Binary input of cohort_state and retention_state.
 */
Datum
tri_state_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(TriRecv((StringInfo) PG_GETARG_POINTER(0), TriKindOfType(PG_GETARG_OID(1))));
}
