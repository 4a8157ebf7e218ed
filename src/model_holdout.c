/*-------------------------------------------------------------------------
 *
 * model_holdout.c
 *	  retention.holdout_state and the holdout_agg aggregates: how good a fitted purchase
 *	  model is on customers' holdout purchases. One pass over (calibration RFM, holdout
 *	  length, actual holdout purchases) rows with the model gives the totals, MAE, RMSE,
 *	  bias and correlation (holdout_metrics) and the calibration-vs-holdout table by
 *	  calibration frequency (holdout_table, the data behind lifetimes'
 *	  plot_calibration_purchases_vs_holdout_purchases and BTYD's
 *	  *.PlotFreqVsConditionalExpectedFrequency).
 *
 * The state is a fixed-size varlena:
 *
 *	  HoldoutState header  version, model kind, the model's parameters (every row must
 *	                       use the same model), customers, the sums of actual (exact
 *	                       int64) and predicted purchases, of |error| and error^2
 *	                       (error = predicted - actual), and the means and centred
 *	                       (co)moments of actual and predicted for the correlation
 *	                       (Welford; states combine by Chan, Golub & LeVeque's formulas)
 *	  buckets[101]         per calibration frequency 0 .. 99, and 100 and more:
 *	                       customers, actual (int64), predicted
 *
 * Text form: "<model>:p1,p2,p3,p4|customers,actual,predicted,abs,sq,mean_actual,
 * mean_predicted,m2_actual,m2_predicted,comoment|f:customers,actual,predicted;..."
 * (buckets with customers only), doubles in shortest round-trip form: canonical, and it
 * reads back to the same value. Counts are checked (22003).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "aggstate.h"
#include "clv.h"

#define HOLDOUT_VERSION 1

/* Buckets: calibration frequencies 0 .. HOLDOUT_BUCKETS - 2, then the rest. */
#define HOLDOUT_BUCKETS 101

/* The models a holdout state can hold, and their names in the text form. */
typedef enum HoldoutModel
{
	HOLDOUT_BGNBD = 1,
	HOLDOUT_MBGNBD = 2,
	HOLDOUT_PARETONBD = 3,
	HOLDOUT_BGBB = 4
} HoldoutModel;

static const char *const holdout_model_names[] = {NULL, "bgnbd", "mbgnbd", "paretonbd", "bgbb"};

/* One calibration frequency's customers and holdout purchases. */
typedef struct HoldoutBucket
{
	int64		customers;		/* customers with this calibration frequency */
	int64		actual;			/* their actual holdout purchases */
	double		predicted;		/* their predicted holdout purchases */
} HoldoutBucket;

/* The state (see the file comment). */
typedef struct HoldoutState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* HOLDOUT_VERSION */
	uint8		model;			/* a HoldoutModel, 0 while no row was added */
	uint16		spare;			/* reserved, always 0 */
	int32		padding;		/* keeps the doubles aligned; always 0 */
	double		params[CLV_MAX_PARAMS];	/* the model's parameters */
	int64		customers;		/* rows added */
	int64		actual;			/* sum of actual holdout purchases */
	double		predicted;		/* sum of predicted holdout purchases */
	double		abs_error;		/* sum of |predicted - actual| */
	double		sq_error;		/* sum of (predicted - actual)^2 */
	double		mean_actual;	/* mean of actual */
	double		mean_predicted; /* mean of predicted */
	double		m2_actual;		/* sum of squared deviations of actual from its mean */
	double		m2_predicted;	/* the same for predicted */
	double		comoment;		/* sum of the products of both deviations */
	HoldoutBucket buckets[HOLDOUT_BUCKETS];	/* per calibration frequency */
} HoldoutState;

/* CountOverflow: 22003 for a count of a holdout state out of range. */
static void
CountOverflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("holdout_state count out of range"),
			 errdetail("A count of customers or purchases exceeds 9223372036854775807.")));
}

/* NewHoldoutState: an empty state in the current memory context. */
static HoldoutState *
NewHoldoutState(void)
{
	HoldoutState *st = palloc0(sizeof(HoldoutState));

	SET_VARSIZE(st, sizeof(HoldoutState));
	st->version = HOLDOUT_VERSION;
	return st;
}

/*
 * Merge: adds n customers with the given sums and moments into st (Chan, Golub & LeVeque
 * 1979: the moments of two groups from their sizes, means and moments).
 */
static void
Merge(HoldoutState *st, int64 n, int64 actual, double predicted, double abs_error,
	  double sq_error, double mean_a, double mean_p, double m2a, double m2p, double cm)
{
	double		na = (double) st->customers,
				nb = (double) n,
				total,
				da = mean_a - st->mean_actual,
				dp = mean_p - st->mean_predicted;

	if (n == 0)
		return;
	if (pg_add_s64_overflow(st->customers, n, &st->customers) ||
		pg_add_s64_overflow(st->actual, actual, &st->actual))
		CountOverflow();
	total = na + nb;
	st->predicted += predicted;
	st->abs_error += abs_error;
	st->sq_error += sq_error;
	st->mean_actual += da * nb / total;
	st->mean_predicted += dp * nb / total;
	st->m2_actual += m2a + da * da * na * nb / total;
	st->m2_predicted += m2p + dp * dp * na * nb / total;
	st->comoment += cm + da * dp * na * nb / total;
}

/* AddBucket: adds to bucket k (checked). */
static void
AddBucket(HoldoutState *st, int k, int64 customers, int64 actual, double predicted)
{
	HoldoutBucket *b = &st->buckets[k];

	if (pg_add_s64_overflow(b->customers, customers, &b->customers) ||
		pg_add_s64_overflow(b->actual, actual, &b->actual))
		CountOverflow();
	b->predicted += predicted;
}

/* SetModel: records the model of the state, or checks that it is the same. */
static void
SetModel(HoldoutState *st, HoldoutModel model, const double *p)
{
	if (st->model == 0)
	{
		st->model = model;
		memcpy(st->params, p, sizeof(st->params));
		return;
	}
	if (st->model != model || memcmp(st->params, p, sizeof(st->params)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("holdout_agg needs the same model on every row"),
				 errdetail("A row, or a state being combined, has another model than the first one."),
				 errhint("Join the customers to one fitted model, e.g. FROM customers, (SELECT bgnbd_fit(...) AS m FROM ...) f.")));
}

/*
 * HoldoutAccum: the shared body of the transition functions: state in argument 0, model
 * in argument 1, then either (frequency, recency, T, duration, actual) or, with rfm, a
 * retention.rfm_holdout row; BG/BB's are (frequency, recency, periods, future_periods,
 * actual). Rows with a NULL are skipped. The prediction is the model's expected
 * purchases of the customer over the holdout.
 */
static Datum
HoldoutAccum(FunctionCallInfo fcinfo, HoldoutModel model, bool rfm)
{
	HoldoutState *st;
	double		p[CLV_MAX_PARAMS] = {0};
	double		v[3];
	double		duration,
				predicted,
				err;
	int64		actual;
	int			nargs = rfm ? 3 : 7;
	const ModelSpec *spec = model == HOLDOUT_BGBB ? &bgbb_spec :
		model == HOLDOUT_BGNBD ? &bgnbd_spec : model == HOLDOUT_MBGNBD ? &mbgnbd_spec : &pareto_spec;
	const PurchaseModel *pm = model == HOLDOUT_BGNBD ? &bgnbd_purchase :
		model == HOLDOUT_MBGNBD ? &mbgnbd_purchase : &pareto_purchase;

	st = (HoldoutState *) ModifiableState(fcinfo, 0);
	if (st == NULL)
		st = NewHoldoutState();
	for (int i = 1; i < nargs; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_POINTER(st);

	ReadModel(fcinfo, 1, spec, p);
	if (rfm)
	{
		HeapTupleHeader h = PG_GETARG_HEAPTUPLEHEADER(2);
		bool		isnull[5];
		Datum		d[5];
		const int	att[5] = {1, 2, 3, 7, 5};	/* frequency_cal, recency_cal, t_cal, duration, frequency_holdout */

		for (int i = 0; i < 5; i++)
		{
			d[i] = GetAttributeByNum(h, att[i], &isnull[i]);
			if (isnull[i])
				PG_RETURN_POINTER(st);
		}
		v[0] = DatumGetInt32(d[0]);
		v[1] = DatumGetFloat8(d[1]);
		v[2] = DatumGetFloat8(d[2]);
		duration = DatumGetFloat8(d[3]);
		actual = DatumGetInt32(d[4]);
	}
	else
	{
		v[0] = PG_GETARG_INT32(2);
		if (model == HOLDOUT_BGBB)
		{
			v[1] = PG_GETARG_INT32(3);
			v[2] = PG_GETARG_INT32(4);
			duration = PG_GETARG_INT32(5);
		}
		else
		{
			v[1] = PG_GETARG_FLOAT8(3);
			v[2] = PG_GETARG_FLOAT8(4);
			duration = PG_GETARG_FLOAT8(5);
		}
		actual = PG_GETARG_INT32(6);
	}
	CheckPattern(model == HOLDOUT_BGBB ? FIT_LAYOUT_DISCRETE : FIT_LAYOUT_RFT, v, 1);
	CheckHorizon(duration);
	if (actual < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("holdout purchases must not be negative"),
				 errdetail("The number given was " INT64_FORMAT ".", actual)));
	SetModel(st, model, p);

	if (model == HOLDOUT_BGBB)
		predicted = BgbbExpected(p, duration, v[0], v[1], v[2]);
	else
		predicted = pm->alive(p, v[0], v[1], v[2]) * pm->expected(p, duration, v[0], v[1], v[2]);
	predicted = Finite(predicted, spec->name);
	err = predicted - (double) actual;
	Merge(st, 1, actual, predicted, fabs(err), err * err, (double) actual, predicted, 0, 0, 0);
	AddBucket(st, (int) Min(v[0], HOLDOUT_BUCKETS - 1), 1, actual, predicted);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(holdout_bgnbd_accum);
/* holdout_bgnbd_accum: transition of holdout_agg(bgnbd_model, frequency, recency, T, duration, actual). */
Datum
holdout_bgnbd_accum(PG_FUNCTION_ARGS)
{
	return HoldoutAccum(fcinfo, HOLDOUT_BGNBD, false);
}

PG_FUNCTION_INFO_V1(holdout_mbgnbd_accum);
/* holdout_mbgnbd_accum: transition of holdout_agg(mbgnbd_model, ...). */
Datum
holdout_mbgnbd_accum(PG_FUNCTION_ARGS)
{
	return HoldoutAccum(fcinfo, HOLDOUT_MBGNBD, false);
}

PG_FUNCTION_INFO_V1(holdout_paretonbd_accum);
/* holdout_paretonbd_accum: transition of holdout_agg(paretonbd_model, ...). */
Datum
holdout_paretonbd_accum(PG_FUNCTION_ARGS)
{
	return HoldoutAccum(fcinfo, HOLDOUT_PARETONBD, false);
}

PG_FUNCTION_INFO_V1(holdout_bgbb_accum);
/* holdout_bgbb_accum: transition of holdout_agg(bgbb_model, frequency, recency, periods, future_periods, actual). */
Datum
holdout_bgbb_accum(PG_FUNCTION_ARGS)
{
	return HoldoutAccum(fcinfo, HOLDOUT_BGBB, false);
}

PG_FUNCTION_INFO_V1(holdout_bgnbd_rfm_accum);
/* holdout_bgnbd_rfm_accum: transition of holdout_agg(bgnbd_model, rfm_holdout). */
Datum
holdout_bgnbd_rfm_accum(PG_FUNCTION_ARGS)
{
	return HoldoutAccum(fcinfo, HOLDOUT_BGNBD, true);
}

PG_FUNCTION_INFO_V1(holdout_mbgnbd_rfm_accum);
/* holdout_mbgnbd_rfm_accum: transition of holdout_agg(mbgnbd_model, rfm_holdout). */
Datum
holdout_mbgnbd_rfm_accum(PG_FUNCTION_ARGS)
{
	return HoldoutAccum(fcinfo, HOLDOUT_MBGNBD, true);
}

PG_FUNCTION_INFO_V1(holdout_paretonbd_rfm_accum);
/* holdout_paretonbd_rfm_accum: transition of holdout_agg(paretonbd_model, rfm_holdout). */
Datum
holdout_paretonbd_rfm_accum(PG_FUNCTION_ARGS)
{
	return HoldoutAccum(fcinfo, HOLDOUT_PARETONBD, true);
}

/* CombineInto: adds state b into a. */
static void
CombineInto(HoldoutState *a, const HoldoutState *b)
{
	if (b->model == 0)
		return;
	SetModel(a, b->model, b->params);
	Merge(a, b->customers, b->actual, b->predicted, b->abs_error, b->sq_error,
		  b->mean_actual, b->mean_predicted, b->m2_actual, b->m2_predicted, b->comoment);
	for (int k = 0; k < HOLDOUT_BUCKETS; k++)
		if (b->buckets[k].customers > 0)
			AddBucket(a, k, b->buckets[k].customers, b->buckets[k].actual, b->buckets[k].predicted);
}

PG_FUNCTION_INFO_V1(holdout_combine);
/* holdout_combine(a, b): the combine function of holdout_agg; modifies a in an aggregate. */
Datum
holdout_combine(PG_FUNCTION_ARGS)
{
	HoldoutState *a;
	Datum		result;

	if (CombineNulls(fcinfo, &result))
		return result;
	a = (HoldoutState *) ModifiableState(fcinfo, 0);
	CombineInto(a, (HoldoutState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1)));
	PG_RETURN_POINTER(a);
}

/* GetState: the holdout state in argument argno, checked to be of this version. */
static HoldoutState *
GetState(FunctionCallInfo fcinfo, int argno)
{
	HoldoutState *st = (HoldoutState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));

	if (VARSIZE(st) != sizeof(HoldoutState) || st->version != HOLDOUT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid holdout_state value")));
	return st;
}

PG_FUNCTION_INFO_V1(holdout_metrics);
/*
 * holdout_metrics(state) -> (customers, actual, predicted, mae, rmse, bias, correlation):
 * totals of actual and predicted holdout purchases, the mean absolute and root mean
 * squared error per customer, the bias (mean predicted - actual), and Pearson's
 * correlation between predicted and actual (NULL when either does not vary).
 */
Datum
holdout_metrics(PG_FUNCTION_ARGS)
{
	HoldoutState *st = GetState(fcinfo, 0);
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {0};
	double		n = (double) st->customers;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(st->customers);
	values[1] = Int64GetDatum(st->actual);
	values[2] = Float8GetDatum(st->predicted);
	if (st->customers == 0)
		nulls[3] = nulls[4] = nulls[5] = nulls[6] = true;
	else
	{
		values[3] = Float8GetDatum(st->abs_error / n);
		values[4] = Float8GetDatum(sqrt(st->sq_error / n));
		values[5] = Float8GetDatum((st->predicted - (double) st->actual) / n);
		if (st->m2_actual > 0 && st->m2_predicted > 0)
			values[6] = Float8GetDatum(Max(-1, Min(1, st->comoment / sqrt(st->m2_actual * st->m2_predicted))));
		else
			nulls[6] = true;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

PG_FUNCTION_INFO_V1(holdout_table);
/*
 * holdout_table(state, max_frequency) -> (frequency, and_more, customers, actual,
 * predicted, mean_actual, mean_predicted): one row per calibration frequency 0 ..
 * max_frequency - 1 and a last row for max_frequency and more; means NULL without
 * customers.
 */
Datum
holdout_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HoldoutState *st = GetState(fcinfo, 0);
	int32		k = PG_GETARG_INT32(1);

	if (k < 1 || k > HOLDOUT_BUCKETS - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_frequency must be between 1 and %d", HOLDOUT_BUCKETS - 1),
				 errdetail("The value given was %d.", k)));
	InitMaterializedSRF(fcinfo, 0);
	for (int f = 0; f <= k; f++)
	{
		HoldoutBucket b = st->buckets[f];
		Datum		values[7];
		bool		nulls[7] = {0};

		/* the last row gathers max_frequency and more */
		if (f == k)
			for (int j = k + 1; j < HOLDOUT_BUCKETS; j++)
			{
				if (pg_add_s64_overflow(b.customers, st->buckets[j].customers, &b.customers) ||
					pg_add_s64_overflow(b.actual, st->buckets[j].actual, &b.actual))
					CountOverflow();
				b.predicted += st->buckets[j].predicted;
			}
		values[0] = Int32GetDatum(f);
		values[1] = BoolGetDatum(f == k);
		values[2] = Int64GetDatum(b.customers);
		values[3] = Int64GetDatum(b.actual);
		values[4] = Float8GetDatum(b.predicted);
		values[5] = Float8GetDatum((double) b.actual / (double) b.customers);
		values[6] = Float8GetDatum(b.predicted / (double) b.customers);
		nulls[5] = nulls[6] = b.customers == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* AppendDouble: a double in shortest round-trip form. */
static void
AppendDouble(StringInfo buf, double v)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, num);
	appendStringInfoString(buf, num);
}

PG_FUNCTION_INFO_V1(holdout_state_out);
/* holdout_state_out: canonical text output (see the file comment). */
Datum
holdout_state_out(PG_FUNCTION_ARGS)
{
	HoldoutState *st = GetState(fcinfo, 0);
	StringInfoData buf;
	const double *sums[] = {&st->predicted, &st->abs_error, &st->sq_error, &st->mean_actual,
	&st->mean_predicted, &st->m2_actual, &st->m2_predicted, &st->comoment};
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s:", st->model ? holdout_model_names[st->model] : "none");
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		AppendDouble(&buf, st->params[i]);
	}
	appendStringInfo(&buf, "|" INT64_FORMAT "," INT64_FORMAT, st->customers, st->actual);
	for (int i = 0; i < (int) lengthof(sums); i++)
	{
		appendStringInfoChar(&buf, ',');
		AppendDouble(&buf, *sums[i]);
	}
	appendStringInfoChar(&buf, '|');
	for (int k = 0; k < HOLDOUT_BUCKETS; k++)
	{
		if (st->buckets[k].customers == 0)
			continue;
		appendStringInfo(&buf, "%s%d:" INT64_FORMAT "," INT64_FORMAT ",", first ? "" : ";", k,
						 st->buckets[k].customers, st->buckets[k].actual);
		AppendDouble(&buf, st->buckets[k].predicted);
		first = false;
	}
	PG_RETURN_CSTRING(buf.data);
}

/* BadHoldout: 22P02 for malformed text input, with a detail. */
static void
BadHoldout(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type holdout_state: \"%s\"", input),
			 errdetail("%s", detail)));
}

/* ParseNumber: a double at *p followed by the character `sep` (or the end when sep is 0). */
static double
ParseNumber(char **p, char sep, const char *input)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(*p, &end);
	if (end == *p || errno == ERANGE || !isfinite(v) || (*end != sep && !(sep == 0 && *end == '\0')))
		BadHoldout(input, "Expected a finite number followed by the next separator.");
	*p = *end ? end + 1 : end;
	return v;
}

/* ParseCountAt: a non-negative whole number below 2^63 at *p followed by sep. */
static int64
ParseCountAt(char **p, char sep, const char *input)
{
	double		v = ParseNumber(p, sep, input);

	if (v < 0 || v != floor(v) || v >= 9223372036854775807.0)
		BadHoldout(input, "Counts are whole numbers from 0 to 9223372036854775807.");
	return (int64) v;
}

/*
 * CheckState: the consistency an accessor relies on: the buckets add up to the totals,
 * the parameters are positive, the moments are not negative; error (22P02 or 22P03 as
 * `code` says) otherwise.
 */
static void
CheckState(const HoldoutState *st, int code)
{
	int64		customers = 0,
				actual = 0;

	for (int k = 0; k < HOLDOUT_BUCKETS; k++)
		if (pg_add_s64_overflow(customers, st->buckets[k].customers, &customers) ||
			pg_add_s64_overflow(actual, st->buckets[k].actual, &actual))
			CountOverflow();
	if (customers != st->customers || actual != st->actual ||
		(st->customers > 0) != (st->model != 0) ||
		!(st->m2_actual >= 0 && st->m2_predicted >= 0))
		ereport(ERROR,
				(errcode(code),
				 errmsg("invalid holdout_state value"),
				 errdetail("The buckets must add up to the totals, and a state with customers names its model.")));
	if (st->model != 0)
		for (int i = 0; i < CLV_MAX_PARAMS; i++)
			if (!(st->params[i] > 0 && isfinite(st->params[i])))
				ereport(ERROR,
						(errcode(code),
						 errmsg("invalid holdout_state value"),
						 errdetail("The model's parameters must be positive numbers.")));
}

PG_FUNCTION_INFO_V1(holdout_state_in);
/* holdout_state_in: text input, validated like the aggregate's own states. */
Datum
holdout_state_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char	   *s = pstrdup(input);
	char	   *colon = strchr(s, ':');
	HoldoutState *st = NewHoldoutState();
	char	   *p;
	double	   *sums[] = {&st->predicted, &st->abs_error, &st->sq_error, &st->mean_actual,
	&st->mean_predicted, &st->m2_actual, &st->m2_predicted, &st->comoment};
	int			last = -1;

	if (colon == NULL)
		BadHoldout(input, "The value must start with a model name (bgnbd, mbgnbd, paretonbd, bgbb or none) and a colon.");
	*colon = '\0';
	for (int m = HOLDOUT_BGNBD; m <= HOLDOUT_BGBB; m++)
		if (strcmp(s, holdout_model_names[m]) == 0)
			st->model = m;
	if (st->model == 0 && strcmp(s, "none") != 0)
		BadHoldout(input, "The value must start with a model name (bgnbd, mbgnbd, paretonbd, bgbb or none) and a colon.");
	p = colon + 1;
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
		st->params[i] = ParseNumber(&p, i < CLV_MAX_PARAMS - 1 ? ',' : '|', input);
	st->customers = ParseCountAt(&p, ',', input);
	st->actual = ParseCountAt(&p, ',', input);
	for (int i = 0; i < (int) lengthof(sums); i++)
		*sums[i] = ParseNumber(&p, i < (int) lengthof(sums) - 1 ? ',' : '|', input);
	while (*p != '\0')
	{
		char	   *end;
		long		k = strtol(p, &end, 10);

		if (end == p || *end != ':' || k <= last || k >= HOLDOUT_BUCKETS)
			BadHoldout(input, "Buckets are written as frequency:customers,actual,predicted with frequencies 0 to 100 in ascending order.");
		p = end + 1;
		st->buckets[k].customers = ParseCountAt(&p, ',', input);
		st->buckets[k].actual = ParseCountAt(&p, ',', input);
		st->buckets[k].predicted = ParseNumber(&p, strchr(p, ';') ? ';' : 0, input);
		if (st->buckets[k].customers == 0)
			BadHoldout(input, "A bucket written has customers.");
		last = (int) k;
	}
	CheckState(st, ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(holdout_state_send);
/* holdout_state_send: binary output: the header's fields, then the used buckets. */
Datum
holdout_state_send(PG_FUNCTION_ARGS)
{
	HoldoutState *st = GetState(fcinfo, 0);
	StringInfoData buf;
	int			used = 0;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, st->version);
	pq_sendbyte(&buf, st->model);
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
		pq_sendfloat8(&buf, st->params[i]);
	pq_sendint64(&buf, st->customers);
	pq_sendint64(&buf, st->actual);
	pq_sendfloat8(&buf, st->predicted);
	pq_sendfloat8(&buf, st->abs_error);
	pq_sendfloat8(&buf, st->sq_error);
	pq_sendfloat8(&buf, st->mean_actual);
	pq_sendfloat8(&buf, st->mean_predicted);
	pq_sendfloat8(&buf, st->m2_actual);
	pq_sendfloat8(&buf, st->m2_predicted);
	pq_sendfloat8(&buf, st->comoment);
	for (int k = 0; k < HOLDOUT_BUCKETS; k++)
		used += st->buckets[k].customers > 0;
	pq_sendint32(&buf, used);
	for (int k = 0; k < HOLDOUT_BUCKETS; k++)
		if (st->buckets[k].customers > 0)
		{
			pq_sendint32(&buf, k);
			pq_sendint64(&buf, st->buckets[k].customers);
			pq_sendint64(&buf, st->buckets[k].actual);
			pq_sendfloat8(&buf, st->buckets[k].predicted);
		}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(holdout_state_recv);
/* holdout_state_recv: binary input, validated like the text input (22P03). */
Datum
holdout_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	HoldoutState *st = NewHoldoutState();
	int			version = pq_getmsgbyte(buf);
	int			model = pq_getmsgbyte(buf);
	int			used;

	if (version != HOLDOUT_VERSION || model < 0 || model > HOLDOUT_BGBB)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid version %d or model %d in external holdout_state value", version, model)));
	st->model = model;
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
		st->params[i] = pq_getmsgfloat8(buf);
	st->customers = pq_getmsgint64(buf);
	st->actual = pq_getmsgint64(buf);
	st->predicted = pq_getmsgfloat8(buf);
	st->abs_error = pq_getmsgfloat8(buf);
	st->sq_error = pq_getmsgfloat8(buf);
	st->mean_actual = pq_getmsgfloat8(buf);
	st->mean_predicted = pq_getmsgfloat8(buf);
	st->m2_actual = pq_getmsgfloat8(buf);
	st->m2_predicted = pq_getmsgfloat8(buf);
	st->comoment = pq_getmsgfloat8(buf);
	used = pq_getmsgint(buf, 4);
	if (used < 0 || used > HOLDOUT_BUCKETS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid bucket count %d in external holdout_state value", used)));
	for (int i = 0, last = -1; i < used; i++)
	{
		int			k = pq_getmsgint(buf, 4);

		if (k <= last || k >= HOLDOUT_BUCKETS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid bucket %d in external holdout_state value", k)));
		st->buckets[k].customers = pq_getmsgint64(buf);
		st->buckets[k].actual = pq_getmsgint64(buf);
		st->buckets[k].predicted = pq_getmsgfloat8(buf);
		if (st->buckets[k].customers <= 0 || st->buckets[k].actual < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid counts in bucket %d of external holdout_state value", k)));
		last = k;
	}
	pq_getmsgend(buf);
	if (st->customers < 0 || st->actual < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid counts in external holdout_state value")));
	CheckState(st, ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_POINTER(st);
}
