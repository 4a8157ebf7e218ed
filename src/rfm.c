/*-------------------------------------------------------------------------
 *
 * rfm.c
 *	  retention.rfm_agg and retention.rfm_holdout_agg: a customer's recency-frequency-
 *	  monetary summary in the definitions of the "Buy 'Til You Die" literature (Fader,
 *	  Hardie & Lee 2005; lifetimes' summary_data_from_transaction_data and
 *	  calibration_and_holdout_data).
 *
 * Purchases are grouped into periods (day, ISO week or calendar month); several purchases
 * in one period count once and their amounts are summed. Over the purchases up to the
 * observation end:
 *	  frequency = distinct purchase periods - 1 (the repeat purchase periods),
 *	  recency   = last purchase period - first purchase period,
 *	  T         = observation end's period - first purchase period,
 *	  monetary  = mean amount of the repeat purchase periods (first period left out; 0
 *				  when there are none),
 * recency and T converted from periods to the time unit (day = 1 day, week = 7 days,
 * month = 365.2425 / 12 days).
 *
 * The aggregates run per customer (GROUP BY customer); their state is internal, with a
 * combine function and serialisation so that they can run in parallel. Amounts are
 * converted to float8 (correctly rounded) and summed as float8: the monetary value is a
 * model input, not a ledger figure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/numeric.h"

/* Grouping periods and time units. */
typedef enum RfmUnit
{
	RFM_DAY = 0,
	RFM_WEEK = 1,
	RFM_MONTH = 2
} RfmUnit;

/* Length of each RfmUnit in days. */
static const double unit_days[] = {1.0, 7.0, 365.2425 / 12.0};

/* One purchase period of a customer. */
typedef struct RfmPurchase
{
	int32		period;			/* period number (RfmState.period units) */
	double		amount;			/* sum of the period's purchase amounts */
} RfmPurchase;

/* The state of rfm_agg / rfm_holdout_agg. */
typedef struct RfmState
{
	int32		period;			/* RfmUnit purchases are grouped by */
	int32		unit;			/* RfmUnit recency and T are expressed in */
	int32		end;			/* period of the observation end */
	int32		calibration;	/* period of the calibration end (= end without holdout) */
	int32		n;				/* purchases[] in use */
	int32		capacity;		/* purchases[] allocated */
	bool		sorted;			/* purchases[] sorted by period and distinct */
	RfmPurchase *purchases;		/* purchase periods (in the aggregate's context) */
} RfmState;

/*
 * The on-disk layout of short-format numeric values (PostgreSQL's numeric.c, stable
 * because pg_upgrade keeps numeric data as it is): a uint16 header, then base-10000
 * digits as int16. The header's top bits are 10 for the short format; it holds the sign,
 * the display scale and the weight (exponent of the first digit, a 7-bit signed field).
 */
#define NUM_FORMAT_MASK 0xC000
#define NUM_SHORT 0x8000
#define NUM_SHORT_SIGN 0x2000
#define NUM_SHORT_WEIGHT_SIGN 0x0040
#define NUM_SHORT_WEIGHT_MASK 0x003F

/*
 * NumericToDouble: the numeric value d as the nearest double, as numeric_float8 gives it,
 * without numeric_float8's round trip through text. Short-format values of up to three
 * base-10000 digits (twelve decimal digits, e.g. any numeric(12,2)) are decoded here: the
 * integer of their digits is exact in a double, and one multiplication or division by an
 * exact power of ten rounds correctly. Anything else goes through numeric_float8.
 */
static double
NumericToDouble(Datum d)
{
	static const double pow10000[] = {1e0, 1e4, 1e8, 1e12, 1e16, 1e20};
	struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
	const char *p = VARDATA_ANY(v);
	int			len = VARSIZE_ANY_EXHDR(v);
	uint16		header;

	if (len >= (int) sizeof(uint16))
	{
		memcpy(&header, p, sizeof(uint16));
		if ((header & NUM_FORMAT_MASK) == NUM_SHORT)
		{
			int			ndigits = (len - sizeof(uint16)) / sizeof(int16);
			int			weight = (header & NUM_SHORT_WEIGHT_SIGN)
				? (int) (~NUM_SHORT_WEIGHT_MASK | (header & NUM_SHORT_WEIGHT_MASK))
				: (int) (header & NUM_SHORT_WEIGHT_MASK);
			int			e = weight - ndigits + 1;
			int64		m = 0;
			double		r;

			if (ndigits == 0)
				return 0.0;
			if (ndigits <= 3 && e >= -5 && e <= 5)
			{
				for (int i = 0; i < ndigits; i++)
				{
					int16		digit;

					memcpy(&digit, p + sizeof(uint16) + i * sizeof(int16), sizeof(int16));
					m = m * 10000 + digit;
				}
				r = e >= 0 ? (double) m * pow10000[e] : (double) m / pow10000[-e];
				return (header & NUM_SHORT_SIGN) ? -r : r;
			}
		}
	}
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
}

/*
 * ParseUnit: the RfmUnit named by t ("day", "week" or "month"); raises an error naming
 * the argument `what` otherwise.
 */
static RfmUnit
ParseUnit(text *t, const char *what)
{
	char	   *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len == 3 && strncmp(s, "day", 3) == 0)
		return RFM_DAY;
	if (len == 4 && strncmp(s, "week", 4) == 0)
		return RFM_WEEK;
	if (len == 5 && strncmp(s, "month", 5) == 0)
		return RFM_MONTH;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s: \"%s\"", what, text_to_cstring(t)),
			 errhint("Use day, week or month.")));
	return RFM_DAY;				/* keep the compiler quiet */
}

/*
 * PeriodOf: the number of the period (of the given kind) that date d falls in: days since
 * 2000-01-01, ISO weeks (Monday start), or months since year 0.
 */
static int32
PeriodOf(DateADT d, RfmUnit period)
{
	int			y,
				m,
				day;

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("purchase and observation dates must be finite")));
	switch (period)
	{
		case RFM_DAY:
			return d;
		case RFM_WEEK:
			/* 2000-01-03, day 2, was a Monday */
			return (int32) floor((d - 2) / 7.0);
		case RFM_MONTH:
			j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
			return y * 12 + m - 1;
	}
	return d;
}

/* ComparePurchases: qsort comparator by period. */
static int
ComparePurchases(const void *a, const void *b)
{
	int32		x = ((const RfmPurchase *) a)->period;
	int32		y = ((const RfmPurchase *) b)->period;

	return (x > y) - (x < y);
}

/* CompactRfm: sorts the purchase periods and merges equal ones, summing their amounts. */
static void
CompactRfm(RfmState *st)
{
	int			out = 0;

	if (st->sorted)
		return;
	qsort(st->purchases, st->n, sizeof(RfmPurchase), ComparePurchases);
	for (int i = 0; i < st->n; i++)
	{
		if (out > 0 && st->purchases[out - 1].period == st->purchases[i].period)
			st->purchases[out - 1].amount += st->purchases[i].amount;
		else
			st->purchases[out++] = st->purchases[i];
	}
	st->n = out;
	st->sorted = true;
}

/*
 * AddPurchase: records one purchase period (state in the aggregate's memory context). A
 * full buffer is compacted first, so that the merge with the last period below also sees
 * the period that compaction put last (appending it again would leave a duplicate in a
 * state marked sorted, counted twice).
 */
static void
AddPurchase(RfmState *st, int32 period, double amount, MemoryContext aggcxt)
{
	if (st->n == st->capacity)
	{
		CompactRfm(st);
		if (st->n * 2 > st->capacity)
		{
			st->capacity *= 2;
			st->purchases = repalloc(st->purchases, sizeof(RfmPurchase) * st->capacity);
		}
	}
	if (st->n > 0 && st->purchases[st->n - 1].period == period)
	{
		st->purchases[st->n - 1].amount += amount;
		return;
	}
	if (st->n > 0 && st->purchases[st->n - 1].period > period)
		st->sorted = false;
	st->purchases[st->n].period = period;
	st->purchases[st->n].amount = amount;
	st->n++;
}

/* NewRfmState: an empty state in memory context cxt. */
static RfmState *
NewRfmState(MemoryContext cxt, int capacity)
{
	RfmState   *st = MemoryContextAllocZero(cxt, sizeof(RfmState));

	st->capacity = Max(capacity, 8);
	st->purchases = MemoryContextAlloc(cxt, sizeof(RfmPurchase) * st->capacity);
	st->sorted = true;
	return st;
}

/*
 * RfmAccum: the transition body. Arguments: purchased_on, amount, then either
 * (observation_end [, time_unit [, period]]) or, for the holdout form,
 * (calibration_end, observation_end, time_unit [, period]).
 */
static Datum
RfmAccum(FunctionCallInfo fcinfo, bool holdout)
{
	MemoryContext aggcxt;
	RfmState   *st;
	int			nargs = PG_NARGS();
	int			first_opt = holdout ? 5 : 4;
	RfmUnit		unit = RFM_DAY,
				period;
	DateADT		end,
				cal;
	int32		p;
	double		amount;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "rfm_agg transition called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);

	/* a NULL anywhere in the row skips it */
	for (int i = 1; i < nargs; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_POINTER(st);

	if (nargs > first_opt)
		unit = ParseUnit(PG_GETARG_TEXT_PP(first_opt), "time unit");
	period = nargs > first_opt + 1 ? ParseUnit(PG_GETARG_TEXT_PP(first_opt + 1), "period") : RFM_DAY;
	cal = end = PG_GETARG_DATEADT(3);
	if (holdout)
	{
		end = PG_GETARG_DATEADT(4);
		if (cal > end)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the calibration end must not be after the observation end")));
	}

	if (st == NULL)
	{
		st = NewRfmState(aggcxt, 8);
		st->period = period;
		st->unit = unit;
		st->end = PeriodOf(end, period);
		st->calibration = PeriodOf(cal, period);
	}
	else if (st->period != (int32) period || st->unit != (int32) unit ||
			 st->end != PeriodOf(end, period) || st->calibration != PeriodOf(cal, period))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the observation end, time unit and period must be the same for all of a customer's rows")));

	p = PeriodOf(PG_GETARG_DATEADT(1), period);
	if (p > st->end)
		PG_RETURN_POINTER(st);
	amount = NumericToDouble(PG_GETARG_DATUM(2));
	AddPurchase(st, p, amount, aggcxt);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(rfm_accum);
/* rfm_accum: transition of rfm_agg. */
Datum
rfm_accum(PG_FUNCTION_ARGS)
{
	return RfmAccum(fcinfo, false);
}

PG_FUNCTION_INFO_V1(rfm_holdout_accum);
/* rfm_holdout_accum: transition of rfm_holdout_agg. */
Datum
rfm_holdout_accum(PG_FUNCTION_ARGS)
{
	return RfmAccum(fcinfo, true);
}

PG_FUNCTION_INFO_V1(rfm_combine);
/* rfm_combine: combine function: the purchases of both states. */
Datum
rfm_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	RfmState   *a = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);
	RfmState   *b = PG_ARGISNULL(1) ? NULL : (RfmState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "rfm_combine called in non-aggregate context");
	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
	{
		a = NewRfmState(aggcxt, b->n);
		a->period = b->period;
		a->unit = b->unit;
		a->end = b->end;
		a->calibration = b->calibration;
	}
	else if (a->period != b->period || a->unit != b->unit || a->end != b->end ||
			 a->calibration != b->calibration)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the observation end, time unit and period must be the same for all of a customer's rows")));
	for (int i = 0; i < b->n; i++)
		AddPurchase(a, b->purchases[i].period, b->purchases[i].amount, aggcxt);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(rfm_serialize);
/* rfm_serialize: the state as bytea, for parallel aggregation. */
Datum
rfm_serialize(PG_FUNCTION_ARGS)
{
	RfmState   *st = (RfmState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	CompactRfm(st);
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->period);
	pq_sendint32(&buf, st->unit);
	pq_sendint32(&buf, st->end);
	pq_sendint32(&buf, st->calibration);
	pq_sendint32(&buf, st->n);
	for (int i = 0; i < st->n; i++)
	{
		pq_sendint32(&buf, st->purchases[i].period);
		pq_sendfloat8(&buf, st->purchases[i].amount);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(rfm_deserialize);
/* rfm_deserialize: the inverse of rfm_serialize. */
Datum
rfm_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcxt;
	StringInfoData buf;
	RfmState   *st;
	int32		n;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "rfm_deserialize called in non-aggregate context");
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	st = NewRfmState(aggcxt, 8);
	st->period = pq_getmsgint(&buf, 4);
	st->unit = pq_getmsgint(&buf, 4);
	st->end = pq_getmsgint(&buf, 4);
	st->calibration = pq_getmsgint(&buf, 4);
	n = pq_getmsgint(&buf, 4);
	for (int i = 0; i < n; i++)
	{
		int32		p = pq_getmsgint(&buf, 4);

		AddPurchase(st, p, pq_getmsgfloat8(&buf), aggcxt);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/*
 * RfmFinal: the summary as the function's composite result: (frequency, recency, T,
 * monetary_value) and, for the holdout form, (frequency_holdout, monetary_value_holdout,
 * duration_holdout) after it. NULL when the customer has no purchase up to the
 * (calibration) end.
 */
static Datum
RfmFinal(FunctionCallInfo fcinfo, bool holdout)
{
	RfmState   *st;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {0};
	double		scale;
	int			ncal = 0,
				nhold;
	double		cal_sum = 0,
				hold_sum = 0;
	int32		first;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (RfmState *) PG_GETARG_POINTER(0);
	CompactRfm(st);
	while (ncal < st->n && st->purchases[ncal].period <= st->calibration)
		cal_sum += st->purchases[ncal++].amount;
	if (ncal == 0)
		PG_RETURN_NULL();
	nhold = st->n - ncal;
	for (int i = ncal; i < st->n; i++)
		hold_sum += st->purchases[i].amount;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	scale = unit_days[st->period] / unit_days[st->unit];
	first = st->purchases[0].period;
	values[0] = Int32GetDatum(ncal - 1);
	values[1] = Float8GetDatum((st->purchases[ncal - 1].period - first) * scale);
	values[2] = Float8GetDatum(((double) st->calibration - first) * scale);
	values[3] = Float8GetDatum(ncal > 1 ? (cal_sum - st->purchases[0].amount) / (ncal - 1) : 0.0);
	if (holdout)
	{
		values[4] = Int32GetDatum(nhold);
		values[5] = Float8GetDatum(nhold > 0 ? hold_sum / nhold : 0.0);
		values[6] = Float8GetDatum(((double) st->end - st->calibration) * scale);
	}
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(rfm_final);
/* rfm_final: final function of rfm_agg. */
Datum
rfm_final(PG_FUNCTION_ARGS)
{
	return RfmFinal(fcinfo, false);
}

PG_FUNCTION_INFO_V1(rfm_holdout_final);
/* rfm_holdout_final: final function of rfm_holdout_agg. */
Datum
rfm_holdout_final(PG_FUNCTION_ARGS)
{
	return RfmFinal(fcinfo, true);
}
