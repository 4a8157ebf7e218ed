/*-------------------------------------------------------------------------
 *
 * rfm_segment.c
 *	  RFM quintile scores and named segments: rfm_score_agg(recency, frequency, monetary)
 *	  summarises a customer base into retention.rfm_scores (each dimension's quintile
 *	  thresholds), and rfm_score / rfm_segment score one customer against them, so that
 *	  SELECT rfm_segment(s, ...), count(*) ... GROUP BY 1 is one pass over the customers.
 *
 * Scores (1 to 5 per dimension): a customer's score in a dimension is 1 plus the number
 * of quintile thresholds its value is better than, the k-th threshold (k = 1 .. 4) being
 * the value at position ceil(k N / 5) of the N values in order from worst to best
 * (recency: time since the last purchase, smaller is better; frequency and monetary value:
 * larger is better). Equal values get equal scores, so with many ties (e.g. most customers
 * with one purchase) a score's group can hold more or less than a fifth.
 *
 * The aggregate's state, retention.rfm_quantile_state, holds each dimension's distinct
 * values with their counts (so its size is bounded by the distinct values, and the
 * thresholds are exact):
 *
 *	  header             version, sorted flag, capacity, customers, entries per dimension
 *	  entries[3][cap]    (value, count) pairs of recency, frequency, monetary
 *
 * New values are appended; a full dimension is sorted and merged, growing only when that
 * leaves it more than half full. Text form: "customers|v:c,v:c,...|...|..." with the
 * dimensions' sorted distinct values; binary: the same numbers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "aggstate.h"

#define RFM_Q_VERSION 1

/* Entries a new state has room for per dimension. */
#define RFM_Q_INITIAL 64

/* A dimension holds at most this many distinct values. */
#define RFM_Q_MAX (16 * 1024 * 1024)

/* One distinct value of a dimension and how many customers have it. */
typedef struct RfmQEntry
{
	double		value;			/* the value */
	int64		count;			/* customers with it */
} RfmQEntry;

/* The state (see the file comment). */
typedef struct RfmQState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* RFM_Q_VERSION */
	uint8		sorted;			/* 1 when every dimension is sorted and distinct */
	uint16		spare;			/* reserved, always 0 */
	int32		capacity;		/* entries per dimension the value has room for */
	int64		customers;		/* rows added */
	int32		n[3];			/* entries in use per dimension */
	int32		padding;		/* keeps the entries aligned; always 0 */
	RfmQEntry	entries[FLEXIBLE_ARRAY_MEMBER];	/* 3 * capacity, dimension by dimension */
} RfmQState;

#define RFM_Q_HDRSZ offsetof(RfmQState, entries)
#define DIM(st, d) (&(st)->entries[(size_t) (d) * (st)->capacity])

/* The dimensions' names, in messages and in the result. */
static const char *const dim_names[3] = {"recency", "frequency", "monetary"};

/* NewState: an empty state with room for capacity entries per dimension. */
static RfmQState *
NewState(int32 capacity)
{
	Size		size = RFM_Q_HDRSZ + sizeof(RfmQEntry) * 3 * (Size) capacity;
	RfmQState  *st = palloc0(size);

	SET_VARSIZE(st, size);
	st->version = RFM_Q_VERSION;
	st->sorted = 1;
	st->capacity = capacity;
	return st;
}

/* CompareEntries: qsort comparator by value. */
static int
CompareEntries(const void *a, const void *b)
{
	double		x = ((const RfmQEntry *) a)->value;
	double		y = ((const RfmQEntry *) b)->value;

	return (x > y) - (x < y);
}

/* CompactDim: sorts dimension d and merges equal values (checked counts). */
static void
CompactDim(RfmQState *st, int d)
{
	RfmQEntry  *e = DIM(st, d);
	int32		out = 0;

	CHECK_FOR_INTERRUPTS();
	qsort(e, st->n[d], sizeof(RfmQEntry), CompareEntries);
	for (int32 i = 0; i < st->n[d]; i++)
	{
		if (out > 0 && e[out - 1].value == e[i].value)
		{
			if (pg_add_s64_overflow(e[out - 1].count, e[i].count, &e[out - 1].count))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("rfm_quantile_state count out of range")));
		}
		else
			e[out++] = e[i];
	}
	st->n[d] = out;
}

/* Compact: every dimension sorted and distinct. */
static void
Compact(RfmQState *st)
{
	if (st->sorted)
		return;
	for (int d = 0; d < 3; d++)
		CompactDim(st, d);
	st->sorted = 1;
}

/* Grow: a copy of st with room for capacity entries per dimension. */
static RfmQState *
Grow(RfmQState *st, int32 capacity)
{
	RfmQState  *g;

	if (capacity > RFM_Q_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct values for RFM scores"),
				 errdetail("A dimension holds at most %d distinct values.", RFM_Q_MAX),
				 errhint("Round the values, e.g. monetary values to whole currency units.")));
	g = NewState(capacity);
	g->sorted = st->sorted;
	g->customers = st->customers;
	for (int d = 0; d < 3; d++)
	{
		g->n[d] = st->n[d];
		memcpy(DIM(g, d), DIM(st, d), sizeof(RfmQEntry) * st->n[d]);
	}
	return g;
}

/*
 * AddValue: count customers with value v in dimension d; returns st or, when it had to
 * grow, a larger copy.
 */
static RfmQState *
AddValue(RfmQState *st, int d, double v, int64 count)
{
	if (st->n[d] == st->capacity)
	{
		CompactDim(st, d);
		if (st->n[d] * 2 > st->capacity)
			st = Grow(st, st->capacity * 2);
	}
	DIM(st, d)[st->n[d]].value = v + 0.0;	/* -0 and 0 are one value */
	DIM(st, d)[st->n[d]].count = count;
	st->n[d]++;
	st->sorted = 0;
	return st;
}

/* CheckValue: an RFM input must be finite and not negative. */
static void
CheckValue(double v, int d)
{
	if (!(v >= 0 && isfinite(v)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number, not negative", dim_names[d]),
				 errdetail("The value given was %g.", v)));
}

PG_FUNCTION_INFO_V1(rfm_quantile_accum);
/*
 * rfm_quantile_accum(state, recency, frequency, monetary): transition of rfm_score_agg;
 * rows with a NULL are skipped.
 */
Datum
rfm_quantile_accum(PG_FUNCTION_ARGS)
{
	RfmQState  *st;

	st = (RfmQState *) ModifiableState(fcinfo, 0);
	if (st == NULL)
		st = NewState(RFM_Q_INITIAL);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(st);
	for (int d = 0; d < 3; d++)
		CheckValue(PG_GETARG_FLOAT8(d + 1), d);
	if (pg_add_s64_overflow(st->customers, 1, &st->customers))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("rfm_quantile_state count out of range")));
	for (int d = 0; d < 3; d++)
		st = AddValue(st, d, PG_GETARG_FLOAT8(d + 1), 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(rfm_quantile_combine);
/* rfm_quantile_combine(a, b): the combine function of rfm_score_agg. */
Datum
rfm_quantile_combine(PG_FUNCTION_ARGS)
{
	RfmQState  *a,
			   *b;
	Datum		result;

	if (CombineNulls(fcinfo, &result))
		return result;
	b = (RfmQState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	a = (RfmQState *) ModifiableState(fcinfo, 0);
	if (pg_add_s64_overflow(a->customers, b->customers, &a->customers))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("rfm_quantile_state count out of range")));
	for (int d = 0; d < 3; d++)
		for (int32 i = 0; i < b->n[d]; i++)
			a = AddValue(a, d, DIM(b, d)[i].value, DIM(b, d)[i].count);
	PG_RETURN_POINTER(a);
}

/* CopyCompact: a sorted, distinct copy of the state in d. */
static RfmQState *
CopyCompact(Datum d)
{
	RfmQState  *st = (RfmQState *) PG_DETOAST_DATUM_COPY(d);

	Compact(st);
	return st;
}

/*
 * Thresholds: the 4 quintile thresholds of dimension d, worst to best: the values at
 * positions ceil(k N / 5), k = 1 .. 4, of the values from worst to best (recency, where
 * smaller is better, counted from the largest).
 */
static void
Thresholds(const RfmQState *st, int d, double *t)
{
	const RfmQEntry *e = DIM(st, d);
	int32		n = st->n[d];

	for (int k = 1; k <= 4; k++)
	{
		/* position ceil(k N / 5), exactly in integers: (k N + 4) / 5 */
		int64		pos = (k * (st->customers / 5) + (k * (st->customers % 5) + 4) / 5);
		int64		seen = 0;

		for (int32 i = 0; i < n; i++)
		{
			const RfmQEntry *x = d == 0 ? &e[n - 1 - i] : &e[i];

			seen += x->count;
			if (seen >= pos)
			{
				t[k - 1] = x->value;
				break;
			}
		}
	}
}

PG_FUNCTION_INFO_V1(rfm_score_final);
/*
 * rfm_score_final(state): the final function of rfm_score_agg: retention.rfm_scores
 * (customers, recency_thresholds, frequency_thresholds, monetary_thresholds), each
 * threshold array worst to best.
 */
Datum
rfm_score_final(PG_FUNCTION_ARGS)
{
	RfmQState  *st;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = CopyCompact(PG_GETARG_DATUM(0));
	if (st->customers == 0)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(st->customers);
	for (int d = 0; d < 3; d++)
	{
		double		t[4];
		Datum		elems[4];

		Thresholds(st, d, t);
		for (int k = 0; k < 4; k++)
			elems[k] = Float8GetDatum(t[k]);
		values[d + 1] = PointerGetDatum(construct_array(elems, 4, FLOAT8OID, sizeof(float8),
														FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* The thresholds of an rfm_scores row, cached per call site (see ReadScores). */
typedef struct ScoresCache
{
	int			len;			/* length of the cached row, 0 when none */
	char	   *row;			/* copy of the row's bytes */
	double		t[3][4];		/* its thresholds */
} ScoresCache;

/*
 * ReadScores: the thresholds of the rfm_scores row in argument 0, checked (4 finite,
 * ordered numbers per dimension), cached in fn_extra: scoring a table of customers passes
 * the same row every time.
 */
static void
ReadScores(FunctionCallInfo fcinfo, double t[3][4])
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
	int			len = HeapTupleHeaderGetDatumLength(row);
	ScoresCache *cache = (ScoresCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoresCache));
	if (cache->len == len && memcmp(cache->row, row, len) == 0)
	{
		memcpy(t, cache->t, sizeof(cache->t));
		return;
	}
	for (int d = 0; d < 3; d++)
	{
		bool		isnull;
		Datum		a = GetAttributeByNum(row, d + 2, &isnull);
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *enulls;
		int			n;

		if (isnull)
			goto bad;
		arr = DatumGetArrayTypeP(a);
		if (ARR_NDIM(arr) != 1)
			goto bad;
		deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &elems, &enulls, &n);
		if (n != 4)
			goto bad;
		for (int k = 0; k < 4; k++)
		{
			if (enulls[k] || !isfinite(DatumGetFloat8(elems[k])))
				goto bad;
			t[d][k] = DatumGetFloat8(elems[k]);
			/* worst to best: recency falls, frequency and monetary rise */
			if (k > 0 && (d == 0 ? t[d][k] > t[d][k - 1] : t[d][k] < t[d][k - 1]))
				goto bad;
		}
	}
	if (cache->row)
		pfree(cache->row);
	cache->row = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, len);
	memcpy(cache->row, row, len);
	cache->len = len;
	memcpy(cache->t, t, sizeof(cache->t));
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid rfm_scores value"),
			 errdetail("Each dimension needs four finite thresholds from worst to best."),
			 errhint("Use the result of rfm_score_agg.")));
}

/* Score: a value's score (1 .. 5) against a dimension's thresholds. */
static int
Score(const double *t, int d, double v)
{
	int			s = 1;

	for (int k = 0; k < 4; k++)
		s += d == 0 ? v < t[k] : v > t[k];
	return s;
}

/* ReadCustomerScores: the customer's (recency, frequency, monetary) in arguments 1..3, scored. */
static void
ReadCustomerScores(FunctionCallInfo fcinfo, int *s)
{
	double		t[3][4];

	ReadScores(fcinfo, t);
	for (int d = 0; d < 3; d++)
	{
		double		v = PG_GETARG_FLOAT8(d + 1);

		CheckValue(v, d);
		s[d] = Score(t[d], d, v);
	}
}

/*
 * The named segments on recency score R (rows, 5 first) and the frequency-monetary class
 * FM = floor((F + M) / 2) (columns 1 .. 5), after the segments of the widely used R x FM
 * tables (docs/clv.md gives the grid and where it comes from).
 */
static const char *const segment_grid[5][5] = {
	/* R = 5 */ {"New", "Potential loyalist", "Loyal", "Champions", "Champions"},
	/* R = 4 */ {"Promising", "Potential loyalist", "Loyal", "Champions", "Champions"},
	/* R = 3 */ {"About to sleep", "Need attention", "Loyal", "Loyal", "Loyal"},
	/* R = 2 */ {"About to sleep", "At risk", "At risk", "At risk", "At risk"},
	/* R = 1 */ {"Lost", "Hibernating", "At risk", "Can't lose them", "Can't lose them"},
};

/* Segment: the segment of scores (R, F, M). */
static const char *
Segment(const int *s)
{
	return segment_grid[5 - s[0]][(s[1] + s[2]) / 2 - 1];
}

PG_FUNCTION_INFO_V1(rfm_score);
/*
 * rfm_score(scores, recency, frequency, monetary) -> (r, f, m, segment): the customer's
 * scores against the population's thresholds, and the segment.
 */
Datum
rfm_score(PG_FUNCTION_ARGS)
{
	int			s[3];
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {0};

	ReadCustomerScores(fcinfo, s);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	for (int d = 0; d < 3; d++)
		values[d] = Int32GetDatum(s[d]);
	values[3] = CStringGetTextDatum(Segment(s));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

PG_FUNCTION_INFO_V1(rfm_segment);
/* rfm_segment(scores, recency, frequency, monetary): the customer's segment name. */
Datum
rfm_segment(PG_FUNCTION_ARGS)
{
	int			s[3];

	ReadCustomerScores(fcinfo, s);
	PG_RETURN_TEXT_P(cstring_to_text(Segment(s)));
}

PG_FUNCTION_INFO_V1(rfm_segment_of);
/* rfm_segment_of(r, f, m): the segment of given scores (each 1 .. 5). */
Datum
rfm_segment_of(PG_FUNCTION_ARGS)
{
	int			s[3];

	for (int d = 0; d < 3; d++)
	{
		s[d] = PG_GETARG_INT32(d);
		if (s[d] < 1 || s[d] > 5)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s score must be between 1 and 5", dim_names[d]),
					 errdetail("The score given was %d.", s[d])));
	}
	PG_RETURN_TEXT_P(cstring_to_text(Segment(s)));
}

/* AppendDouble: a double in shortest round-trip form. */
static void
AppendDouble(StringInfo buf, double v)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, num);
	appendStringInfoString(buf, num);
}

PG_FUNCTION_INFO_V1(rfm_quantile_state_out);
/* rfm_quantile_state_out: "customers|v:c,...|v:c,...|v:c,..." (sorted, distinct). */
Datum
rfm_quantile_state_out(PG_FUNCTION_ARGS)
{
	RfmQState  *st = CopyCompact(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, INT64_FORMAT, st->customers);
	for (int d = 0; d < 3; d++)
	{
		appendStringInfoChar(&buf, '|');
		for (int32 i = 0; i < st->n[d]; i++)
		{
			if (i > 0)
				appendStringInfoChar(&buf, ',');
			AppendDouble(&buf, DIM(st, d)[i].value);
			appendStringInfo(&buf, ":" INT64_FORMAT, DIM(st, d)[i].count);
		}
	}
	PG_RETURN_CSTRING(buf.data);
}

/*
 * CheckCounts: each dimension's counts add up to the customers (code: 22P02 or 22P03).
 */
static void
CheckCounts(const RfmQState *st, int code)
{
	for (int d = 0; d < 3; d++)
	{
		int64		total = 0;

		for (int32 i = 0; i < st->n[d]; i++)
			if (DIM(st, d)[i].count <= 0 || pg_add_s64_overflow(total, DIM(st, d)[i].count, &total))
				total = -1;
		if (total != st->customers)
			ereport(ERROR,
					(errcode(code),
					 errmsg("invalid rfm_quantile_state value"),
					 errdetail("The %s counts must be positive and add up to the customers.", dim_names[d])));
	}
}

PG_FUNCTION_INFO_V1(rfm_quantile_state_in);
/* rfm_quantile_state_in: the text form back, validated (22P02). */
Datum
rfm_quantile_state_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char	   *p = input;
	char	   *end;
	RfmQState  *st = NewState(RFM_Q_INITIAL);
	long long	customers;

	errno = 0;
	customers = strtoll(p, &end, 10);
	if (end == p || errno == ERANGE || customers < 0 || *end != '|')
		goto bad;
	st->customers = customers;
	p = end + 1;
	for (int d = 0; d < 3; d++)
	{
		while (*p != '|' && *p != '\0')
		{
			double		v;
			long long	c;

			errno = 0;
			v = strtod(p, &end);
			if (end == p || errno == ERANGE || *end != ':' || !(v >= 0 && isfinite(v)))
				goto bad;
			p = end + 1;
			c = strtoll(p, &end, 10);
			if (end == p || errno == ERANGE || c <= 0 || (*end != ',' && *end != '|' && *end != '\0'))
				goto bad;
			st = AddValue(st, d, v, c);
			p = *end == ',' ? end + 1 : end;
		}
		if (d < 2)
		{
			if (*p != '|')
				goto bad;
			p++;
		}
	}
	if (*p != '\0')
		goto bad;
	Compact(st);
	CheckCounts(st, ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_POINTER(st);
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type rfm_quantile_state: \"%s\"", input),
			 errdetail("The value is the customers, then three |-separated lists of value:count.")));
	PG_RETURN_NULL();			/* keep the compiler quiet */
}

PG_FUNCTION_INFO_V1(rfm_quantile_state_send);
/* rfm_quantile_state_send: customers, then per dimension its count and (value, count) pairs. */
Datum
rfm_quantile_state_send(PG_FUNCTION_ARGS)
{
	RfmQState  *st = CopyCompact(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, st->customers);
	for (int d = 0; d < 3; d++)
	{
		pq_sendint32(&buf, st->n[d]);
		for (int32 i = 0; i < st->n[d]; i++)
		{
			pq_sendfloat8(&buf, DIM(st, d)[i].value);
			pq_sendint64(&buf, DIM(st, d)[i].count);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(rfm_quantile_state_recv);
/* rfm_quantile_state_recv: binary input, validated (22P03). */
Datum
rfm_quantile_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	RfmQState  *st = NewState(RFM_Q_INITIAL);

	st->customers = pq_getmsgint64(buf);
	for (int d = 0; d < 3; d++)
	{
		int32		n = pq_getmsgint(buf, 4);

		if (n < 0 || n > RFM_Q_MAX || (Size) n * 16 > (Size) (buf->len - buf->cursor))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid entry count %d in external rfm_quantile_state value", n)));
		for (int32 i = 0; i < n; i++)
		{
			double		v = pq_getmsgfloat8(buf);
			int64		c = pq_getmsgint64(buf);

			if (!(v >= 0 && isfinite(v)) || c <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid %s entry in external rfm_quantile_state value", dim_names[d])));
			st = AddValue(st, d, v, c);
		}
	}
	pq_getmsgend(buf);
	Compact(st);
	CheckCounts(st, ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_POINTER(st);
}
