/*-------------------------------------------------------------------------
 *
 * span.c
 *	  Contractual subscription spans: subscription_span(start, end) (a
 *	  checked daterange), span_agg(datemultirange, kind) -> span_state over
 *	  customers (one multirange of subscribed days per customer, as
 *	  range_agg builds it), its combine function, and the accessor
 *	  span_table(state, convention).
 *
 * A customer is subscribed on the days of their multirange. They count at
 * the end of period p when subscribed on p's last day, and at its start when
 * counted at the end of p-1. A subscription starting on day d starts in the
 * period containing d; one ending (exclusive) on day e ends, and the customer
 * churns, in the period containing e. For one customer, with ranges
 * [l_i, u_i) in order and L_i, U_i the periods of l_i and u_i, the customer
 * is counted at the end of exactly the periods L_i <= q < U_i, so the state
 * stores +1 at L_i and -1 at U_i and prefix sums give customers at the end
 * (open-ended subscriptions need no horizon). Everything else is counted
 * only in the periods where one of the customer's ranges starts or ends.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/multirangetypes.h"
#include "utils/rangetypes.h"

#include "compat.h"
#include "revenue.h"

PG_FUNCTION_INFO_V1(subscription_span);

/*
 * subscription_span(start_on, end_on): the daterange [start_on, end_on) of
 * one subscription, with clear errors for what a daterange would take
 * silently or reject with a generic message; NULL end_on means still
 * running. Not strict: a NULL start is an error.
 */
Datum
subscription_span(PG_FUNCTION_ARGS)
{
	DateADT		s,
				e;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("subscription start must not be NULL in subscription_span"),
				 errhint("Every subscription has a start date; a NULL end means it is still running.")));
	s = PG_GETARG_DATEADT(0);
	if (DATE_NOT_FINITE(s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("subscription start must be a finite date in subscription_span")));
	if (!PG_ARGISNULL(1))
	{
		e = PG_GETARG_DATEADT(1);
		if (DATE_IS_NOBEGIN(e) || (!DATE_NOT_FINITE(e) && e < s))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("subscription ends before it starts in subscription_span"),
					 errdetail("The span starts on %s and ends on %s.",
							   DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(s))),
							   DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(e)))),
					 errhint("The end is the first day no longer subscribed; check the argument order (start, end).")));
	}
	{
		TypeCacheEntry *typcache = lookup_type_cache(DATERANGEOID, TYPECACHE_RANGE_INFO);
		RangeBound	lower,
					upper;

		lower.val = DateADTGetDatum(s);
		lower.infinite = false;
		lower.inclusive = true;
		lower.lower = true;
		upper.infinite = PG_ARGISNULL(1) || DATE_IS_NOEND(PG_GETARG_DATEADT(1));
		upper.val = upper.infinite ? (Datum) 0 : PG_GETARG_DATUM(1);
		upper.inclusive = false;
		upper.lower = false;
		PG_RETURN_RANGE_P(CompatMakeRange(typcache, &lower, &upper, false));
	}
}

/* one range of a customer, as period ordinals */
typedef struct SpanRange
{
	int32		lo;				/* L: period of the first subscribed day */
	int32		hi;				/* U: period of the first day no longer subscribed */
	bool		open;			/* no end (hi unused) */
} SpanRange;

/*
 * Is the customer counted at the end of period q? Their ranges are in order
 * and cover disjoint periods, so only the last one starting at or before q
 * can cover it (binary search).
 */
static bool
SpanAtEnd(const SpanRange *r, int n, int32 q)
{
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (r[mid].lo <= q)
			lo = mid;
		else
			hi = mid - 1;
	}
	return r[lo].lo <= q && (r[lo].open || q < r[lo].hi);
}

/* a start or an end of one of a customer's ranges, as a period ordinal */
typedef struct SpanEvent
{
	int32		p;				/* the period */
	bool		is_end;			/* an end (else a start) */
} SpanEvent;

/*
 * *c += v, erroring on overflow.
 */
static inline void
SpanAdd(int64 *c, int64 v)
{
	if (unlikely(pg_add_s64_overflow(*c, v, c)))
		SeriesOutOfRange(SERIES_SPAN);
}

/*
 * Add one customer's counters for event period p, where starts of their
 * ranges and ends begin and end, to state t.
 */
static void
SpanAddPeriod(SeriesState *t, const SpanRange *r, int n, int32 p, int starts, int ends)
{
	int64	   *c = SERIES_ROW(t, p - t->base);
	bool		at_start = SpanAtEnd(r, n, p - 1);
	bool		at_end = SpanAtEnd(r, n, p);
	bool		is_new = (r[0].lo == p);

	SpanAdd(&c[SPAN_END_DELTA], starts - ends);
	SpanAdd(&c[SPAN_NEW], is_new);
	SpanAdd(&c[SPAN_NEW_LOST], is_new && !at_end);
	SpanAdd(&c[SPAN_REACT], !at_start && !is_new && at_end);
	SpanAdd(&c[SPAN_LOST], at_start && !at_end);
	SpanAdd(&c[SPAN_CHURNED], ends > 0);
	SpanAdd(&c[SPAN_EVENTS], ends);
	SpanAdd(&c[SPAN_BACK], ends > 0 && at_end);
	SpanAdd(&c[SPAN_CM_CHURNED], ends > 0 && !is_new && !at_end);
}

/*
 * Order events by period for qsort.
 */
static int
CmpEvent(const void *a, const void *b)
{
	int32		x = ((const SpanEvent *) a)->p;
	int32		y = ((const SpanEvent *) b)->p;

	return (x > y) - (x < y);
}

PG_FUNCTION_INFO_V1(span_agg_trans);

/*
 * Transition function of span_agg(spans datemultirange, kind text): add one
 * customer's subscribed days. NULL or empty multiranges are skipped; a NULL
 * kind is an error.
 */
Datum
span_agg_trans(PG_FUNCTION_ARGS)
{
	MultirangeType *mr;
	TypeCacheEntry *typcache;
	PeriodUnit	unit;
	int32		nranges;
	SpanRange  *r;
	SpanEvent  *events;
	int			nevents = 0;
	int32		lo,
				hi;
	SeriesState *t;
	int			i;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("period kind must not be NULL in span_agg"),
				 errhint("Pass a kind such as 'month'.")));
	unit = PeriodUnitFromName(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	mr = PG_GETARG_MULTIRANGE_P(1);
	typcache = multirange_get_typcache(fcinfo, MultirangeTypeGetOid(mr));
	nranges = mr->rangeCount;
	if (nranges == 0)
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		CheckActivityUnit(PG_GETARG_SERIES(0)->unit, unit, "span_agg");
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	r = palloc(sizeof(SpanRange) * nranges);
	events = palloc(sizeof(SpanEvent) * nranges * 2);
	for (i = 0; i < nranges; i++)
	{
		RangeBound	lower,
					upper;

		multirange_get_bounds(typcache->rngtype, mr, i, &lower, &upper);
		if (lower.infinite || DATE_NOT_FINITE(DatumGetDateADT(lower.val)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("subscription spans must have a finite start in span_agg"),
					 errhint("Build the spans with retention.subscription_span(start, end).")));
		r[i].lo = PERIOD_GET_ORDINAL(PeriodFromDate(DatumGetDateADT(lower.val), unit));
		r[i].open = upper.infinite || DATE_NOT_FINITE(DatumGetDateADT(upper.val));
		r[i].hi = r[i].open ? r[i].lo : PERIOD_GET_ORDINAL(PeriodFromDate(DatumGetDateADT(upper.val), unit));
		events[nevents].p = r[i].lo;
		events[nevents++].is_end = false;
		if (!r[i].open)
		{
			events[nevents].p = r[i].hi;
			events[nevents++].is_end = true;
		}
	}
	qsort(events, nevents, sizeof(SpanEvent), CmpEvent);
	lo = events[0].p;
	hi = events[nevents - 1].p;
	t = SeriesForUpdate(fcinfo, 0, SERIES_SPAN, unit, lo, hi, "span_agg");
	for (i = 0; i < nevents;)
	{
		int			j = i,
					starts = 0,
					ends = 0;

		CHECK_FOR_INTERRUPTS();
		for (; j < nevents && events[j].p == events[i].p; j++)
		{
			ends += events[j].is_end;
			starts += !events[j].is_end;
		}
		SpanAddPeriod(t, r, nranges, events[i].p, starts, ends);
		i = j;
	}
	pfree(r);
	pfree(events);

	/*
	 * An aggregate's state starts empty and gains one customer per row, so its
	 * running sums cannot overflow; a state passed in by a direct call may be
	 * near the limit.
	 */
	if (!AggCheckCallContext(fcinfo, NULL))
		SeriesCheckSums(t);
	PG_RETURN_POINTER(t);
}

PG_FUNCTION_INFO_V1(span_combine);

/*
 * Combine function of span_agg (and transition function of span_union):
 * period-wise sum of two span states.
 */
Datum
span_combine(PG_FUNCTION_ARGS)
{
	SeriesState *t = SeriesCombine(fcinfo, SERIES_SPAN, "span_agg");

	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(t);
}

/*
 * Parse a churn convention name.
 */
int
ChurnConvention(text *name)
{
	char	   *s = text_to_cstring(name);

	if (strcmp(s, "standard") == 0)
		return CONV_STANDARD;
	if (strcmp(s, "chartmogul") == 0)
		return CONV_CHARTMOGUL;
	if (strcmp(s, "stripe") == 0)
		return CONV_STRIPE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown churn convention \"%s\"", s),
			 errhint("Use 'standard', 'chartmogul' or 'stripe'.")));
	return CONV_STANDARD;		/* keep the compiler quiet */
}

#define SPAN_TABLE_COLS 16

PG_FUNCTION_INFO_V1(span_table);

/*
 * span_table(state, convention): per covered period the customers at its
 * start S and end E, new N, retained (at both), reactivated (not at the
 * start, not new, at the end), lost L (at the start, not at the end),
 * customers with a subscription end in the period and the number of such
 * ends, new customers gone again by the end, churned customers back by the
 * end, CRR = (E - N) / S * 100 and the churn rate of the convention with its
 * numerator and denominator: standard L / S; chartmogul (churned, not new,
 * not back by the end) / S; stripe subscription ends / (S + N).
 */
Datum
span_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SeriesState *t = PG_GETARG_SERIES(0);
	int			conv = ChurnConvention(PG_GETARG_TEXT_PP(1));
	int64		end = 0;
	int			i;

	SeriesCheckKind(t, SERIES_SPAN);
	InitMaterializedSRF(fcinfo, 0);
	t = SeriesTrim(t);			/* a partial state may carry empty periods */
	if (t == NULL)
		return (Datum) 0;
	for (i = 0; i < t->nperiods; i++)
	{
		const int64 *c = SERIES_ROW(t, i);
		Datum		v[SPAN_TABLE_COLS];
		bool		nulls[SPAN_TABLE_COLS];
		int64		start = end;
		int64		num,
					den;

		CHECK_FOR_INTERRUPTS();
		memset(nulls, 0, sizeof(nulls));
		/* a valid state's sums fit (SeriesCheckSums); the arithmetic is checked all the same */
		SpanAdd(&end, c[SPAN_END_DELTA]);
		if (conv == CONV_STANDARD)
		{
			num = c[SPAN_LOST];
			den = start;
		}
		else if (conv == CONV_CHARTMOGUL)
		{
			num = c[SPAN_CM_CHURNED];
			den = start;
		}
		else
		{
			num = c[SPAN_EVENTS];
			den = start;
			SpanAdd(&den, c[SPAN_NEW]);
		}
		v[0] = CustomerPeriodGetDatum(PERIOD_MAKE(t->unit, t->base + i));
		v[1] = Int64GetDatum(start);
		v[2] = Int64GetDatum(c[SPAN_NEW]);
		v[3] = Int64GetDatum(end);
		v[4] = Int64GetDatum(start - c[SPAN_LOST]);
		v[5] = Int64GetDatum(c[SPAN_REACT]);
		v[6] = Int64GetDatum(c[SPAN_LOST]);
		v[7] = Int64GetDatum(c[SPAN_CHURNED]);
		v[8] = Int64GetDatum(c[SPAN_EVENTS]);
		v[9] = Int64GetDatum(c[SPAN_NEW_LOST]);
		v[10] = Int64GetDatum(c[SPAN_BACK]);
		if (start > 0)
			v[11] = RoundedRatio(end - c[SPAN_NEW], start, 100, 2);
		else
			nulls[11] = true;
		v[12] = Int64GetDatum(num);
		v[13] = Int64GetDatum(den);
		if (den > 0)
			v[14] = RoundedRatio(num, den, 100, 2);
		else
			nulls[14] = true;
		v[15] = CStringGetTextDatum(conv == CONV_STANDARD ? "standard" :
									conv == CONV_CHARTMOGUL ? "chartmogul" : "stripe");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}
