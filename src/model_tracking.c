/*-------------------------------------------------------------------------
 *
 * model_tracking.c
 *	  retention.tracking_state, tracking_agg(customer_activity), tracking_table and
 *	  tracking_svg: expected against actual repeat purchases per period for a population
 *	  whose customers joined over time (the tracking plot of Fader, Hardie & Lee 2005,
 *	  Figure 1), with cumulative columns, and the same as an SVG line chart.
 *
 * The state counts, per period of the activities' kind, the customers whose first
 * purchase fell in it (births) and the repeat purchase periods in it (every active period
 * of a customer after the first):
 *
 *	  TrackingState header  version, the periods' unit, first ordinal, span
 *	  counts[2 * span]      births and repeats of period first + i at 2i and 2i + 1
 *
 * States combine by adding counts over the union of their spans. Text form:
 * "<first period>:b,r;b,r;..." (one pair per period); binary: unit, first, span, counts.
 *
 * A customer born in period b has, by the end of period d, E(d - b) expected repeat
 * purchases, E the model's expectation for a new customer over (d - b) periods converted
 * to the model's time unit (BG/BB: d - b opportunities); the population's cumulative
 * expectation at the end of d is sum_b births(b) E(d - b) (FHL 2005, section 4, and
 * BTYD's *.ExpectedCumulativeTransactions).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "activity.h"
#include "aggstate.h"
#include "clv.h"
#include "svg.h"

#define TRACKING_VERSION 1

/* The state (see the file comment). */
typedef struct TrackingState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* TRACKING_VERSION */
	uint8		spare;			/* reserved, always 0 */
	uint16		unit;			/* PeriodUnit of the periods */
	int32		first;			/* ordinal of the first period */
	int32		span;			/* periods covered */
	int64		counts[FLEXIBLE_ARRAY_MEMBER];	/* births and repeats per period */
} TrackingState;

#define TRACKING_HDRSZ offsetof(TrackingState, counts)
#define BIRTHS(st, i) ((st)->counts[2 * (i)])
#define REPEATS(st, i) ((st)->counts[2 * (i) + 1])

/* Report rows drawn at most by tracking_svg. */
#define SVG_MAX_ROWS 2000

/* NewTrackingState: a zeroed state of unit covering first .. first + span - 1. */
static TrackingState *
NewTrackingState(PeriodUnit unit, int32 first, int32 span)
{
	Size		size = TRACKING_HDRSZ + sizeof(int64) * 2 * (Size) span;
	TrackingState *st = palloc0(size);

	SET_VARSIZE(st, size);
	st->version = TRACKING_VERSION;
	st->unit = unit;
	st->first = first;
	st->span = span;
	return st;
}

/*
 * Cover: st grown (a copy, when it must grow) to cover first .. last as well, checked
 * against ACTIVITY_MAX_SPAN.
 */
static TrackingState *
Cover(TrackingState *st, int32 first, int32 last)
{
	int64		lo = Min(st->first, first),
				hi = Max((int64) st->first + st->span - 1, last);
	TrackingState *n;

	if (lo == st->first && hi == (int64) st->first + st->span - 1)
		return st;
	if (hi - lo + 1 > ACTIVITY_MAX_SPAN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a tracking state spans at most %d periods", ACTIVITY_MAX_SPAN),
				 errdetail("These customers span " INT64_FORMAT " periods.", hi - lo + 1),
				 errhint("Track by a longer period kind, e.g. week instead of day.")));
	n = NewTrackingState(st->unit, (int32) lo, (int32) (hi - lo + 1));
	memcpy(&n->counts[2 * (st->first - lo)], st->counts, sizeof(int64) * 2 * (Size) st->span);
	return n;
}

/* AddCount: adds v to a count, checked. */
static inline void
AddCount(int64 *c, int64 v)
{
	if (pg_add_s64_overflow(*c, v, c))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("tracking_state count out of range")));
}

PG_FUNCTION_INFO_V1(tracking_accum);
/*
 * tracking_accum(state, activity): transition of tracking_agg: the customer's first
 * period is a birth, every later active period a repeat purchase. NULL activities are
 * skipped; every activity must have the state's unit.
 */
Datum
tracking_accum(PG_FUNCTION_ARGS)
{
	TrackingState *st;
	ActivityData hdr;
	ActivityEntry *e;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	e = ActivityDecodeDatum(PG_GETARG_DATUM(1), &hdr, NULL, 0);
	st = (TrackingState *) ModifiableState(fcinfo, 0);
	if (st == NULL)
		st = NewTrackingState(hdr.unit, hdr.first, 1);
	CheckActivityUnit(st->unit, hdr.unit, "tracking_agg");
	st = Cover(st, hdr.first, ACTIVITY_LAST(&hdr));
	AddCount(&BIRTHS(st, hdr.first - st->first), 1);
	for (int i = 1; i < hdr.nactive; i++)
		AddCount(&REPEATS(st, e[i].ordinal - st->first), 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(tracking_combine);
/* tracking_combine(a, b): the combine function of tracking_agg. */
Datum
tracking_combine(PG_FUNCTION_ARGS)
{
	TrackingState *a,
			   *b;
	Datum		result;

	if (CombineNulls(fcinfo, &result))
		return result;
	b = (TrackingState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	a = (TrackingState *) ModifiableState(fcinfo, 0);
	CheckActivityUnit(a->unit, b->unit, "tracking_agg");
	a = Cover(a, b->first, b->first + b->span - 1);
	for (int i = 0; i < 2 * b->span; i++)
		AddCount(&a->counts[2 * (b->first - a->first) + i], b->counts[i]);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(tracking_state_out);
/* tracking_state_out: "<first period>:b,r;b,r;..." */
Datum
tracking_state_out(PG_FUNCTION_ARGS)
{
	TrackingState *st = (TrackingState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s:", PeriodToCString(PERIOD_MAKE(st->unit, st->first)));
	for (int i = 0; i < st->span; i++)
		appendStringInfo(&buf, "%s" INT64_FORMAT "," INT64_FORMAT, i ? ";" : "",
						 BIRTHS(st, i), REPEATS(st, i));
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(tracking_state_in);
/* tracking_state_in: the text form back, validated (22P02). */
Datum
tracking_state_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	const char *colon = strchr(input, ':');
	const char *s;
	CustomerPeriod first;
	TrackingState *st;
	int			n = 1;

	if (colon == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type tracking_state: \"%s\"", input),
				 errdetail("The value must start with the first period and a colon.")));
	first = PeriodFromText(pnstrdup(input, colon - input));
	for (s = colon + 1; *s; s++)
		n += *s == ';';
	if (n > ACTIVITY_MAX_SPAN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type tracking_state: \"%s\"", input),
				 errdetail("A tracking state spans at most %d periods.", ACTIVITY_MAX_SPAN)));
	st = NewTrackingState(PERIOD_GET_UNIT(first), PERIOD_GET_ORDINAL(first), n);
	s = colon + 1;
	for (int i = 0; i < n; i++)
	{
		BIRTHS(st, i) = ParseCount(&s, "tracking_state", input);
		ExpectChar(&s, ',', "tracking_state", input);
		REPEATS(st, i) = ParseCount(&s, "tracking_state", input);
		if (i < n - 1)
			ExpectChar(&s, ';', "tracking_state", input);
	}
	if (*s != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type tracking_state: \"%s\"", input),
				 errdetail("Unexpected characters after the last period's counts.")));
	/* the last period must exist too */
	(void) PeriodFromOrdinal(st->unit, (int64) st->first + n - 1);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(tracking_state_send);
/* tracking_state_send: binary output: unit, first, span, then the counts. */
Datum
tracking_state_send(PG_FUNCTION_ARGS)
{
	TrackingState *st = (TrackingState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, st->unit);
	pq_sendint32(&buf, st->first);
	pq_sendint32(&buf, st->span);
	for (int i = 0; i < 2 * st->span; i++)
		pq_sendint64(&buf, st->counts[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(tracking_state_recv);
/* tracking_state_recv: binary input, validated (22P03). */
Datum
tracking_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	PeriodUnit	unit = (PeriodUnit) pq_getmsgint(buf, 2);
	int32		first = pq_getmsgint(buf, 4);
	int32		span = pq_getmsgint(buf, 4);
	TrackingState *st;

	if (!PeriodUnitIsValid(unit) || span < 1 || span > ACTIVITY_MAX_SPAN ||
		!PeriodIsValid(PERIOD_MAKE(unit, first)) ||
		!PeriodIsValid(PERIOD_MAKE(unit, (int64) first + span - 1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid unit, first period or span in external tracking_state value")));
	st = NewTrackingState(unit, first, span);
	for (int i = 0; i < 2 * span; i++)
	{
		st->counts[i] = pq_getmsgint64(buf);
		if (st->counts[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("negative count in external tracking_state value")));
	}
	pq_getmsgend(buf);
	PG_RETURN_POINTER(st);
}

/* The days in one period of each kind tracking supports (0: not supported). */
static double
UnitDays(PeriodUnit unit)
{
	switch (PERIOD_UNIT_KIND(unit))
	{
		case PK_DAY:
			return 1;
		case PK_WEEK:
		case PK_RETAIL_WEEK:
			return 7;
		case PK_MONTH:
		case PK_FISCAL_MONTH:
			return 365.2425 / 12;
		case PK_QUARTER:
		case PK_FISCAL_QUARTER:
			return 365.2425 / 4;
		case PK_HALF:
		case PK_FISCAL_HALF:
			return 365.2425 / 2;
		case PK_YEAR:
		case PK_FISCAL_YEAR:
			return 365.2425;
		default:
			return 0;
	}
}

/* One report row of a tracking series. */
typedef struct TrackingRow
{
	int32		first;			/* ordinal of its first period */
	int32		periods;		/* periods it covers */
	double		expected;		/* expected repeat purchases in it */
	int64		actual;			/* actual repeat purchases in it */
	double		cum_expected;	/* expected by its end */
	int64		cum_actual;		/* actual by its end */
} TrackingRow;

/* The arguments of tracking_table and tracking_svg, read and checked. */
typedef struct TrackingArgs
{
	TrackingState *st;			/* the state */
	const PurchaseModel *m;		/* continuous-time model, or NULL for BG/BB */
	double		p[CLV_MAX_PARAMS];	/* its parameters */
	double		length;			/* one period in model time units (BG/BB: 1) */
	int32		report;			/* periods per report row */
	int32		nrows;			/* report rows */
	bool		has_end;		/* a calibration end was given */
	DateADT		calibration_end;	/* the last day of calibration */
} TrackingArgs;

/*
 * ReadTrackingArgs: (model, state, [time_unit,] report_periods, calibration_end, rows),
 * model and state not NULL: time_unit only for the continuous-time models (m not NULL);
 * NULL calibration_end and rows mean none, and as many rows as the state's periods fill.
 */
static void
ReadTrackingArgs(FunctionCallInfo fcinfo, const PurchaseModel *m, TrackingArgs *a)
{
	int			arg = 2;
	double		days;

	a->m = m;
	ReadModel(fcinfo, 0, m ? m->spec : &bgbb_spec, a->p);
	a->st = (TrackingState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	days = UnitDays(a->st->unit);
	if (days == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tracking needs activities by day, week, month, quarter, half or year"),
				 errdetail("The activities are by %s.", PeriodUnitName(a->st->unit))));
	a->length = 1;
	if (m)
	{
		const char *unit;

		if (PG_ARGISNULL(arg))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the model's time unit must not be NULL")));
		unit = text_to_cstring(PG_GETARG_TEXT_PP(arg));
		if (strcmp(unit, "day") == 0)
			a->length = days;
		else if (strcmp(unit, "week") == 0)
			a->length = days / 7;
		else if (strcmp(unit, "month") == 0)
			a->length = days / (365.2425 / 12);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid time unit: \"%s\"", unit),
					 errhint("Give the unit the model was fitted in: day, week or month.")));
		arg++;
	}
	a->report = PG_ARGISNULL(arg) ? 1 : PG_GETARG_INT32(arg);
	if (a->report < 1 || a->report > ACTIVITY_MAX_SPAN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("report_periods must be between 1 and %d", ACTIVITY_MAX_SPAN),
				 errdetail("The value given was %d.", a->report)));
	a->has_end = !PG_ARGISNULL(arg + 1);
	if (a->has_end)
		a->calibration_end = PG_GETARG_DATEADT(arg + 1);
	a->nrows = (a->st->span + a->report - 1) / a->report;
	if (!PG_ARGISNULL(arg + 2))
	{
		int32		rows = PG_GETARG_INT32(arg + 2);

		if (rows < 1 || (int64) rows * a->report > ACTIVITY_MAX_SPAN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the number of report rows must be at least 1 and span at most %d periods",
							ACTIVITY_MAX_SPAN),
					 errdetail("The value given was %d.", rows)));
		a->nrows = rows;
	}
}

/*
 * TrackingSeries: the report rows of a tracking series (palloc'd): E(k) for k = 0 ..
 * periods covered, then per row the cumulative expectation at its last period as the sum
 * over birth periods.
 */
static TrackingRow *
TrackingSeries(const TrackingArgs *a)
{
	const TrackingState *st = a->st;
	int32		total = a->nrows * a->report;
	double	   *enew = palloc(sizeof(double) * (total + 1));
	TrackingRow *rows = palloc0(sizeof(TrackingRow) * a->nrows);
	double		alive_new = a->m ? a->m->alive(a->p, 0, 0, 0) : 1;
	double		prev = 0;
	int64		cum_actual = 0;

	for (int32 k = 0; k <= total; k++)
	{
		if ((k & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		enew[k] = a->m ? alive_new * a->m->expected(a->p, k * a->length, 0, 0, 0)
			: BgbbExpected(a->p, k, 0, 0, 0);
		(void) Finite(enew[k], a->m ? a->m->spec->name : bgbb_spec.name);
	}
	for (int32 j = 0; j < a->nrows; j++)
	{
		TrackingRow *r = &rows[j];
		int32		last = (j + 1) * a->report - 1;	/* relative to st->first */
		double		cum = 0;

		CHECK_FOR_INTERRUPTS();
		r->first = st->first + j * a->report;
		r->periods = a->report;
		for (int32 b = 0; b <= Min(last, st->span - 1); b++)
			if (BIRTHS(st, b) > 0)
				cum += (double) BIRTHS(st, b) * enew[last - b];
		for (int32 d = j * a->report; d <= last && d < st->span; d++)
			AddCount(&r->actual, REPEATS(st, d));
		AddCount(&cum_actual, r->actual);
		r->cum_actual = cum_actual;
		r->cum_expected = cum;
		r->expected = cum - prev;
		prev = cum;
	}
	return rows;
}

/* RowHoldout: is the row after the calibration end (its first day after it)? */
static bool
RowHoldout(const TrackingArgs *a, const TrackingRow *r)
{
	return a->has_end && PeriodStartDate(PERIOD_MAKE(a->st->unit, r->first)) > a->calibration_end;
}

/*
 * TrackingTable: the shared body of tracking_table: (period, period_start, period_end,
 * expected, actual, cumulative_expected, cumulative_actual, holdout) per report row.
 */
static Datum
TrackingTable(FunctionCallInfo fcinfo, const PurchaseModel *m)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TrackingArgs a;
	TrackingRow *rows;

	InitMaterializedSRF(fcinfo, 0);
	/* no state (an aggregate over no rows) or no model: no rows */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;
	ReadTrackingArgs(fcinfo, m, &a);
	rows = TrackingSeries(&a);
	for (int32 j = 0; j < a.nrows; j++)
	{
		Datum		values[8];
		bool		nulls[8] = {0};
		TrackingRow *r = &rows[j];

		values[0] = Int32GetDatum(j + 1);
		values[1] = DateADTGetDatum(PeriodStartDate(PERIOD_MAKE(a.st->unit, r->first)));
		values[2] = DateADTGetDatum(PeriodEndDate(PERIOD_MAKE(a.st->unit, r->first + r->periods - 1)));
		values[3] = Float8GetDatum(r->expected);
		values[4] = Int64GetDatum(r->actual);
		values[5] = Float8GetDatum(r->cum_expected);
		values[6] = Int64GetDatum(r->cum_actual);
		values[7] = BoolGetDatum(RowHoldout(&a, r));
		nulls[7] = !a.has_end;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * TrackingSvg: the shared body of tracking_svg: the series as a line chart, actual
 * solid and expected dashed, incremental or cumulative, with the calibration end marked
 * by a vertical line, axes with ticks, a legend and a <title> per point.
 */
static Datum
TrackingSvg(FunctionCallInfo fcinfo, const PurchaseModel *m)
{
	TrackingArgs a;
	TrackingRow *rows;
	int			argc = m ? 6 : 5;
	bool		cumulative = !PG_ARGISNULL(argc) && PG_GETARG_BOOL(argc);
	const char *title = PG_ARGISNULL(argc + 1) ? (cumulative ? "Cumulative repeat purchases: actual and expected"
												  : "Repeat purchases per period: actual and expected")
		: text_to_cstring(PG_GETARG_TEXT_PP(argc + 1));
	const double width = 760,
				height = 360,
				left = 70,
				right = 20,
				top = 50,
				bottom = 60;
	double		ymax = 0,
				xstep,
				split = -1;
	StringInfoData svg;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	ReadTrackingArgs(fcinfo, m, &a);
	if (a.nrows > SVG_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tracking_svg draws at most %d report rows", SVG_MAX_ROWS),
				 errdetail("These data give %d.", a.nrows),
				 errhint("Report several periods per row with report_periods.")));
	rows = TrackingSeries(&a);
	for (int32 j = 0; j < a.nrows; j++)
	{
		ymax = Max(ymax, cumulative ? Max(rows[j].cum_expected, (double) rows[j].cum_actual)
				   : Max(rows[j].expected, (double) rows[j].actual));
		if (split < 0 && RowHoldout(&a, &rows[j]))
			split = j;
	}
	if (ymax <= 0)
		ymax = 1;
	ymax *= 1.05;
	xstep = (width - left - right) / Max(a.nrows, 1);

	initStringInfo(&svg);
	appendStringInfo(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
					 "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
					 width, height, width, height);
	appendStringInfoString(&svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"");
	appendStringInfo(&svg, "%.0f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">", left);
	AppendXmlEscaped(&svg, title);
	appendStringInfoString(&svg, "</text>\n");
	/* axes, y ticks at fifths */
	appendStringInfo(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
					 left, height - bottom, width - right, height - bottom);
	appendStringInfo(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
					 left, top, left, height - bottom);
	for (int t = 0; t <= 5; t++)
	{
		double		y = height - bottom - t * (height - top - bottom) / 5;

		appendStringInfo(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
						 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
						 left, y, width - right, y, left - 6, y + 4, ymax * t / 5);
	}
	for (int32 j = 0; j < a.nrows; j += Max(1, a.nrows / 10))
		appendStringInfo(&svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
						 left + (j + 0.5) * xstep, height - bottom + 16, j + 1);
	appendStringInfo(&svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">period (%d %s%s each)</text>\n",
					 (left + width - right) / 2, height - bottom + 36, a.report,
					 PeriodUnitName(a.st->unit), a.report > 1 ? "s" : "");
	if (split >= 0)
		appendStringInfo(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
						 "stroke-dasharray=\"2,3\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#555\">holdout</text>\n",
						 left + split * xstep, top, left + split * xstep, height - bottom,
						 left + split * xstep + 4, top + 12);
	/* the two lines: actual (solid) and expected (dashed) */
	for (int line = 0; line < 2; line++)
	{
		appendStringInfo(&svg, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
						 line == 0 ? "#08519c" : "#d94801", line == 0 ? "" : " stroke-dasharray=\"6,4\"");
		for (int32 j = 0; j < a.nrows; j++)
		{
			double		v = line == 0 ? (double) (cumulative ? rows[j].cum_actual : rows[j].actual)
				: (cumulative ? rows[j].cum_expected : rows[j].expected);

			appendStringInfo(&svg, "%s%.1f,%.1f", j ? " " : "", left + (j + 0.5) * xstep,
							 height - bottom - v / ymax * (height - top - bottom));
		}
		appendStringInfoString(&svg, "\"/>\n");
	}
	for (int32 j = 0; j < a.nrows; j++)
		appendStringInfo(&svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#08519c\"><title>period %d: actual "
						 INT64_FORMAT ", expected %.1f</title></circle>\n",
						 left + (j + 0.5) * xstep,
						 height - bottom - (cumulative ? (double) rows[j].cum_actual : (double) rows[j].actual)
						 / ymax * (height - top - bottom),
						 j + 1, cumulative ? rows[j].cum_actual : rows[j].actual,
						 cumulative ? rows[j].cum_expected : rows[j].expected);
	/* the legend, bottom left, clear of the title and the data */
	appendStringInfo(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#08519c\" stroke-width=\"2\"/>"
					 "<text x=\"%.1f\" y=\"%.1f\">actual</text>\n",
					 left, height - 14, left + 25, height - 14, left + 30, height - 10);
	appendStringInfo(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d94801\" stroke-width=\"2\" "
					 "stroke-dasharray=\"6,4\"/><text x=\"%.1f\" y=\"%.1f\">expected</text>\n",
					 left + 90, height - 14, left + 115, height - 14, left + 120, height - 10);
	appendStringInfoString(&svg, "</svg>\n");
	PG_RETURN_TEXT_P(cstring_to_text(svg.data));
}

PG_FUNCTION_INFO_V1(bgnbd_tracking_table);
/* bgnbd_tracking_table: tracking_table with a BG/NBD model. */
Datum
bgnbd_tracking_table(PG_FUNCTION_ARGS)
{
	return TrackingTable(fcinfo, &bgnbd_purchase);
}

PG_FUNCTION_INFO_V1(mbgnbd_tracking_table);
/* mbgnbd_tracking_table: tracking_table with an MBG/NBD model. */
Datum
mbgnbd_tracking_table(PG_FUNCTION_ARGS)
{
	return TrackingTable(fcinfo, &mbgnbd_purchase);
}

PG_FUNCTION_INFO_V1(paretonbd_tracking_table);
/* paretonbd_tracking_table: tracking_table with a Pareto/NBD model. */
Datum
paretonbd_tracking_table(PG_FUNCTION_ARGS)
{
	return TrackingTable(fcinfo, &pareto_purchase);
}

PG_FUNCTION_INFO_V1(bgbb_tracking_table);
/* bgbb_tracking_table: tracking_table with a BG/BB model (periods are opportunities). */
Datum
bgbb_tracking_table(PG_FUNCTION_ARGS)
{
	return TrackingTable(fcinfo, NULL);
}

PG_FUNCTION_INFO_V1(bgnbd_tracking_svg);
/* bgnbd_tracking_svg: tracking_svg with a BG/NBD model. */
Datum
bgnbd_tracking_svg(PG_FUNCTION_ARGS)
{
	return TrackingSvg(fcinfo, &bgnbd_purchase);
}

PG_FUNCTION_INFO_V1(mbgnbd_tracking_svg);
/* mbgnbd_tracking_svg: tracking_svg with an MBG/NBD model. */
Datum
mbgnbd_tracking_svg(PG_FUNCTION_ARGS)
{
	return TrackingSvg(fcinfo, &mbgnbd_purchase);
}

PG_FUNCTION_INFO_V1(paretonbd_tracking_svg);
/* paretonbd_tracking_svg: tracking_svg with a Pareto/NBD model. */
Datum
paretonbd_tracking_svg(PG_FUNCTION_ARGS)
{
	return TrackingSvg(fcinfo, &pareto_purchase);
}

PG_FUNCTION_INFO_V1(bgbb_tracking_svg);
/* bgbb_tracking_svg: tracking_svg with a BG/BB model. */
Datum
bgbb_tracking_svg(PG_FUNCTION_ARGS)
{
	return TrackingSvg(fcinfo, NULL);
}
