/*-------------------------------------------------------------------------
 *
 * loyalty.c
 *	  The loyalty-tier engine: the aggregate retention.loyalty_agg collects one
 *	  customer's order rows and, at the end, replays them day by day under a
 *	  program's rules (qualification window, status duration, downgrade
 *	  policy, grace period) up to an "as of" date. It returns the customer's
 *	  standing on that date and every tier change before it.
 *
 * The same aggregate serves the one-customer functions (loyalty_status,
 * loyalty_history) and the bulk refresh (refresh_loyalty), so both always
 * agree. The rules, with a worked example, are in docs/loyalty.md.
 *
 * Amounts are exact: they are held as int64 numbers of 1/10000 currency units
 * (the convention of activity.c), so numeric amounts with up to four decimal
 * places are summed without loss.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

#include "activity.h"

/* qualification windows */
#define LW_CALENDAR		0
#define LW_FISCAL		1
#define LW_ROLLING		2
#define LW_ANNIVERSARY	3

/* a day that is not set */
#define NO_DAY			PG_INT32_MIN

/* one tier of a program, in rank order */
typedef struct LoyaltyTier
{
	char	   *name;			/* tier name */
	int32		rank;			/* its rank (> 0) */
	bool		has_amount;		/* is there a spend threshold? */
	int64		amount;			/* spend threshold, 1/ACTIVITY_SCALE units */
	bool		has_orders;		/* is there an order-count threshold? */
	int64		orders;			/* order-count threshold */
} LoyaltyTier;

/* a program's rules, decoded once per aggregate call */
typedef struct LoyaltyProgram
{
	DateADT		as_of;			/* evaluate up to and including this day */
	int			window;			/* LW_* */
	int			months;			/* rolling: window length in months */
	int			fiscal_first;	/* fiscal: first month of the year (1-12) */
	int			hold;			/* year windows: status_years; rolling: months + status_months */
	int			grace;			/* grace period in days */
	bool		one_tier;		/* downgrade one rank at a time (else re-evaluate) */
	bool		match_all;		/* every threshold of a tier must be met (else any) */
	char	   *base;			/* name of the base tier */
	int			ntiers;			/* number of tiers */
	LoyaltyTier *tiers;			/* the tiers, lowest rank first */
	DateADT		resume_after;	/* loyalty_resume_agg: the day stored states are as of */
} LoyaltyProgram;

/* one source row */
typedef struct LoyaltyRow
{
	DateADT		day;			/* the order's day */
	bool		counted;		/* does it qualify (not excluded)? */
	int64		amount;			/* its amount, 1/ACTIVITY_SCALE units */
} LoyaltyRow;

/*
 * A customer's engine state at the end of a day, as a tier table stores it:
 * enough to go on replaying from the next day without the older rows.
 */
typedef struct LoyaltyResume
{
	int			cur;			/* tier index held (0: base) */
	DateADT		since;			/* first day of it */
	DateADT		cur_exp;		/* its expiry (NO_DAY for the base tier) */
	DateADT		grace_end;		/* end of a running grace period, or NO_DAY */
	DateADT		member_since;	/* the customer's first row */
	DateADT    *texp;			/* per tier: end of its latest qualification, or NO_DAY */
} LoyaltyResume;

/* aggregate state: the customer's rows, unordered, and a stored state to resume from */
typedef struct LoyaltyState
{
	LoyaltyProgram *prog;		/* the rules (lives in the function's memory context) */
	int			nrows;			/* rows collected */
	int			maxrows;		/* allocated size of rows */
	LoyaltyRow *rows;			/* the rows */
	LoyaltyResume *resume;		/* loyalty_resume_agg: the stored state, or NULL */
} LoyaltyState;

/* the result's row descriptors, looked up once per aggregate call */
typedef struct LoyaltyResultInfo
{
	TupleDesc	resdesc;		/* loyalty_result */
	TupleDesc	statedesc;		/* loyalty_state */
	TupleDesc	changedesc;		/* loyalty_change */
	Oid			changetype;		/* loyalty_change's type oid */
	int16		changelen;		/* its typlen */
	bool		changebyval;	/* its typbyval */
	char		changealign;	/* its typalign */
} LoyaltyResultInfo;

/* one change of tier, while replaying */
typedef struct LoyaltyChange
{
	DateADT		day;			/* the day the new tier took effect */
	int			from;			/* tier index before (0: base) */
	int			to;				/* tier index after (0: base) */
	const char *reason;			/* qualified, expired, downgraded, grace ended */
} LoyaltyChange;

PG_FUNCTION_INFO_V1(loyalty_agg_transfn);
PG_FUNCTION_INFO_V1(loyalty_agg_finalfn);

/*
 * Argument positions of loyalty_resume_agg after loyalty_agg's 17 (counting
 * the transition state as 0): the day the stored states are as of, then one
 * customer's stored state (NULL on the order rows).
 */
#define RA_AFTER		18
#define RA_RANK			19
#define RA_SINCE		20
#define RA_EXPIRES		21
#define RA_GRACE		22
#define RA_MEMBER		23
#define RA_QUALIFIED	24
#define RA_NARGS		25

/*
 * The day m months after d (m may be negative), with the day of month clamped
 * to the length of the target month, as date + interval 'm months' does.
 */
static DateADT
AddMonths(DateADT d, int m)
{
	int			y,
				mon,
				mday;
	int			total;

	j2date(d + POSTGRES_EPOCH_JDATE, &y, &mon, &mday);
	total = y * 12 + (mon - 1) + m;
	/* floor division: years before 1 AD are zero or negative */
	y = (total >= 0) ? total / 12 : -((-total + 11) / 12);
	mon = total - y * 12 + 1;
	if (mday > day_tab[isleap(y)][mon - 1])
		mday = day_tab[isleap(y)][mon - 1];
	if (!IS_VALID_JULIAN(y, mon, mday) ||
		!IS_VALID_DATE(date2j(y, mon, mday) - POSTGRES_EPOCH_JDATE))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range in a loyalty program"),
				 errdetail("A status or window reaches beyond the dates PostgreSQL supports.")));
	return date2j(y, mon, mday) - POSTGRES_EPOCH_JDATE;
}

/* The calendar year and month of a day. */
static void
YearMonth(DateADT d, int *y, int *mon)
{
	int			mday;

	j2date(d + POSTGRES_EPOCH_JDATE, y, mon, &mday);
}

/*
 * The number of the year window containing d: the calendar year, the calendar
 * year the fiscal year starts in, or the number of whole membership years.
 */
static int
WindowNo(const LoyaltyProgram *p, DateADT member_since, DateADT d)
{
	int			y,
				mon,
				y0,
				mon0,
				n;

	YearMonth(d, &y, &mon);
	switch (p->window)
	{
		case LW_CALENDAR:
			return y;
		case LW_FISCAL:
			return mon < p->fiscal_first ? y - 1 : y;
		default:
			YearMonth(member_since, &y0, &mon0);
			n = y - y0;
			if (AddMonths(member_since, 12 * n) > d)
				n--;
			return n;
	}
}

/* The first day of year window n. */
static DateADT
WindowStart(const LoyaltyProgram *p, DateADT member_since, int n)
{
	switch (p->window)
	{
		case LW_CALENDAR:
			return date2j(n, 1, 1) - POSTGRES_EPOCH_JDATE;
		case LW_FISCAL:
			return date2j(n, p->fiscal_first, 1) - POSTGRES_EPOCH_JDATE;
		default:
			return AddMonths(member_since, 12 * n);
	}
}

/*
 * Is a numeric negative? Read from its header (the on-disk format pg_upgrade
 * keeps; activity.c reads it the same way), to avoid a comparison per row.
 */
static bool
NumericIsNegative(Datum num)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(num);
	uint16		head;

	if (VARSIZE_ANY_EXHDR(v) < (int) sizeof(uint16))
		return false;
	memcpy(&head, VARDATA_ANY(v), sizeof(uint16));
	if ((head & 0xC000) == 0x8000)	/* short format: sign bit 0x2000 */
		return (head & 0x2000) != 0;
	return (head & 0xC000) == 0x4000;	/* long format: NUMERIC_NEG */
}

/* A text argument as a C string, or an error naming it when NULL. */
static char *
TextArg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL in loyalty_agg", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* An int argument, 0 when NULL. */
static int
IntArg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? 0 : PG_GETARG_INT32(n);
}

/*
 * Decode the rules passed as the aggregate's constant arguments 4..17 (see
 * loyalty_agg in src/sql/70_loyalty.sql), in memory context cxt.
 */
static LoyaltyProgram *
DecodeProgram(FunctionCallInfo fcinfo, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	LoyaltyProgram *p = palloc0(sizeof(LoyaltyProgram));
	char	   *s;
	Datum	   *names,
			   *ranks,
			   *amounts,
			   *orders;
	bool	   *nnull,
			   *rnull,
			   *anull,
			   *onull;
	int			nn,
				nr,
				na,
				no;
	int			i;

	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL")));
	p->as_of = PG_GETARG_DATEADT(4);
	if (DATE_NOT_FINITE(p->as_of))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("as_of must be a finite date")));
	s = TextArg(fcinfo, 5, "the qualification window");
	if (strcmp(s, "calendar_year") == 0)
		p->window = LW_CALENDAR;
	else if (strcmp(s, "fiscal_year") == 0)
		p->window = LW_FISCAL;
	else if (strcmp(s, "rolling_months") == 0)
		p->window = LW_ROLLING;
	else if (strcmp(s, "anniversary_year") == 0)
		p->window = LW_ANNIVERSARY;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown qualification window \"%s\"", s)));
	p->months = IntArg(fcinfo, 6);
	p->fiscal_first = IntArg(fcinfo, 7);
	if (p->window == LW_ROLLING)
		p->hold = p->months + IntArg(fcinfo, 9);
	else
		p->hold = IntArg(fcinfo, 8);
	if ((p->window == LW_ROLLING && (p->months < 1 || p->months > 1200)) ||
		(p->window == LW_FISCAL && (p->fiscal_first < 1 || p->fiscal_first > 12)) ||
		p->hold < 0 || p->hold > 1200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid loyalty window parameters")));
	s = TextArg(fcinfo, 10, "the downgrade policy");
	p->one_tier = strcmp(s, "one_tier") == 0;
	p->grace = IntArg(fcinfo, 11);
	if (p->grace < 0 || p->grace > 36600)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("grace period of %d days is out of range", p->grace)));
	s = TextArg(fcinfo, 12, "the threshold match");
	p->match_all = strcmp(s, "any") != 0;
	p->base = TextArg(fcinfo, 13, "the base tier");

	if (PG_ARGISNULL(14) || PG_ARGISNULL(15) || PG_ARGISNULL(16) || PG_ARGISNULL(17))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tier arrays must not be NULL in loyalty_agg")));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(14), TEXTOID, -1, false, TYPALIGN_INT, &names, &nnull, &nn);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(15), INT4OID, 4, true, TYPALIGN_INT, &ranks, &rnull, &nr);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(16), NUMERICOID, -1, false, TYPALIGN_INT, &amounts, &anull, &na);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(17), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &orders, &onull, &no);
	if (nn < 1 || nn != nr || nn != na || nn != no)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tier arrays must be non-empty and of equal length in loyalty_agg")));
	p->ntiers = nn;
	p->tiers = palloc0(sizeof(LoyaltyTier) * nn);
	for (i = 0; i < nn; i++)
	{
		LoyaltyTier *t = &p->tiers[i];

		if (nnull[i] || rnull[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("tier names and ranks must not be NULL in loyalty_agg")));
		t->name = TextDatumGetCString(names[i]);
		t->rank = DatumGetInt32(ranks[i]);
		if (i > 0 && t->rank <= p->tiers[i - 1].rank)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tiers must be given in increasing rank in loyalty_agg")));
		t->has_amount = !anull[i];
		if (t->has_amount)
			t->amount = NumericToScaled(amounts[i], "a loyalty tier threshold");
		t->has_orders = !onull[i];
		if (t->has_orders)
			t->orders = DatumGetInt64(orders[i]);
		if (!t->has_amount && !t->has_orders)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tier \"%s\" has no threshold", t->name)));
	}
	p->resume_after = NO_DAY;
	if (PG_NARGS() == RA_NARGS)
	{
		if (PG_ARGISNULL(RA_AFTER))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the day stored states are as of must not be NULL in loyalty_resume_agg")));
		p->resume_after = PG_GETARG_DATEADT(RA_AFTER);
		if (DATE_NOT_FINITE(p->resume_after) || p->resume_after > p->as_of)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("stored loyalty states must be as of a finite day on or before as_of")));
	}
	MemoryContextSwitchTo(old);
	return p;
}

/* A date argument, NO_DAY when NULL; an error when infinite. */
static DateADT
DayArg(FunctionCallInfo fcinfo, int n)
{
	DateADT		d;

	if (PG_ARGISNULL(n))
		return NO_DAY;
	d = PG_GETARG_DATEADT(n);
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("stored loyalty state dates must be finite")));
	return d;
}

/* Report a stored state that does not fit the program. */
static void
ReportBadResume(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("stored loyalty state does not match the program"),
			 errdetail("%s", detail),
			 errhint("Refresh the program with full_refresh => true.")));
}

/*
 * loyalty_resume_agg: take one customer's stored state (tier_rank, since,
 * expires, grace_ends, member_since, qualified_until) from the arguments.
 */
static void
ReadResume(FunctionCallInfo fcinfo, LoyaltyState *st, MemoryContext aggcxt)
{
	LoyaltyProgram *p = st->prog;
	LoyaltyResume *r;
	int32		rank = PG_GETARG_INT32(RA_RANK);
	Datum	   *q;
	bool	   *qnull;
	int			nq;
	int			t;

	if (st->resume != NULL)
		ReportBadResume("A customer has two stored states.");
	r = MemoryContextAllocZero(aggcxt, sizeof(LoyaltyResume));
	r->cur = -1;
	if (rank == 0)
		r->cur = 0;
	for (t = 0; t < p->ntiers && r->cur < 0; t++)
		if (p->tiers[t].rank == rank)
			r->cur = t + 1;
	if (r->cur < 0)
		ReportBadResume("A stored tier rank is not one of the program's.");
	r->since = DayArg(fcinfo, RA_SINCE);
	r->cur_exp = DayArg(fcinfo, RA_EXPIRES);
	r->grace_end = DayArg(fcinfo, RA_GRACE);
	r->member_since = DayArg(fcinfo, RA_MEMBER);
	if (r->since == NO_DAY || r->member_since == NO_DAY || (r->cur > 0) != (r->cur_exp != NO_DAY) ||
		PG_ARGISNULL(RA_QUALIFIED))
		ReportBadResume("A stored state lacks a date it needs.");
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(RA_QUALIFIED), DATEOID, 4, true, TYPALIGN_INT, &q, &qnull, &nq);
	if (nq != p->ntiers)
		ReportBadResume("The number of stored qualification ends is not the number of tiers.");
	r->texp = MemoryContextAlloc(aggcxt, sizeof(DateADT) * nq);
	for (t = 0; t < nq; t++)
	{
		r->texp[t] = qnull[t] ? NO_DAY : DatumGetDateADT(q[t]);
		if (!qnull[t] && DATE_NOT_FINITE(r->texp[t]))
			ReportBadResume("A stored qualification end is not finite.");
	}
	st->resume = r;
}

/*
 * loyalty_agg(day date, amount numeric, counted boolean, as_of date, window text,
 * window_months int, fiscal_first_month int, status_years int, status_months int,
 * downgrade_policy text, grace_days int, match text, base_tier text,
 * tier_names text[], tier_ranks int[], tier_amounts numeric[], tier_orders bigint[])
 * transition: collect one row. Rows without a day are skipped; a NULL amount
 * counts as zero.
 */
Datum
loyalty_agg_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	LoyaltyState *st;
	LoyaltyRow *r;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "loyalty_agg_transfn called in non-aggregate context");

	if (PG_ARGISNULL(0))
	{
		LoyaltyProgram *p = fcinfo->flinfo->fn_extra;

		if (p == NULL)
		{
			p = DecodeProgram(fcinfo, fcinfo->flinfo->fn_mcxt);
			fcinfo->flinfo->fn_extra = p;
		}
		st = MemoryContextAllocZero(aggcxt, sizeof(LoyaltyState));
		st->prog = p;
		st->maxrows = 8;
		st->rows = MemoryContextAlloc(aggcxt, sizeof(LoyaltyRow) * st->maxrows);
	}
	else
		st = (LoyaltyState *) PG_GETARG_POINTER(0);

	if (PG_NARGS() == RA_NARGS && !PG_ARGISNULL(RA_RANK))
		ReadResume(fcinfo, st, aggcxt);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	if (st->nrows == st->maxrows)
	{
		if (st->maxrows >= (int) (MaxAllocSize / sizeof(LoyaltyRow) / 2))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many orders for one customer in loyalty_agg")));
		st->maxrows *= 2;
		st->rows = repalloc(st->rows, sizeof(LoyaltyRow) * st->maxrows);
	}
	r = &st->rows[st->nrows++];
	r->day = PG_GETARG_DATEADT(1);
	if (DATE_NOT_FINITE(r->day))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("order dates must be finite in a loyalty program")));
	r->counted = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	r->amount = 0;
	if (!PG_ARGISNULL(2))
	{
		Datum		a = PG_GETARG_DATUM(2);

		/* returns are negative amounts; the shared converter takes magnitudes */
		if (NumericIsNegative(a))
			r->amount = -NumericToScaled(DirectFunctionCall1(numeric_uminus, a), "a loyalty program");
		else
			r->amount = NumericToScaled(a, "a loyalty program");
	}
	PG_RETURN_POINTER(st);
}

/* qsort comparator: rows by day */
static int
RowCmp(const void *a, const void *b)
{
	DateADT		x = ((const LoyaltyRow *) a)->day;
	DateADT		y = ((const LoyaltyRow *) b)->day;

	return (x > y) - (x < y);
}

/* Does (amount, orders) meet tier t's thresholds? */
static bool
Meets(const LoyaltyProgram *p, const LoyaltyTier *t, int64 amount, int64 orders)
{
	bool		a = t->has_amount && amount >= t->amount;
	bool		o = t->has_orders && orders >= t->orders;

	if (p->match_all)
		return (a || !t->has_amount) && (o || !t->has_orders);
	return a || o;
}

/*
 * Year windows: add a day's sums to those of window *wn, starting a new window
 * (sums at zero) when the day is in another one.
 */
static void
AddToWindow(const LoyaltyProgram *p, DateADT member_since, DateADT day, int64 amount, int64 orders,
			int *wn, int64 *w_amt, int64 *w_cnt)
{
	int			n = WindowNo(p, member_since, day);

	if (n != *wn)
	{
		*wn = n;
		*w_amt = 0;
		*w_cnt = 0;
	}
	*w_amt = AddScaled(*w_amt, amount);
	*w_cnt += orders;
}

/* A scaled amount as numeric, negative ones too. */
static Datum
AmountDatum(int64 v)
{
	if (v < 0)
		return DirectFunctionCall1(numeric_uminus, ScaledToNumeric(-v));
	return ScaledToNumeric(v);
}

/* What is still needed to reach threshold have -> need (never below zero). */
static int64
Needed(int64 need, int64 have)
{
	int64		r;

	if (pg_sub_s64_overflow(need, have, &r))
		return have < 0 ? PG_INT64_MAX : 0;
	return r > 0 ? r : 0;
}

/*
 * Final function: replay the customer's days up to as_of and return
 * (state loyalty_state, history loyalty_change[]); NULL when the customer has
 * no row on or before as_of.
 */
Datum
loyalty_agg_finalfn(PG_FUNCTION_ARGS)
{
	LoyaltyState *st;
	LoyaltyProgram *p;
	LoyaltyResultInfo *ri;
	int			nd = 0;
	DateADT    *days;
	int64	   *amounts;
	int64	   *orders;
	DateADT    *leave;			/* rolling: the first day a day's orders are out of the window */
	DateADT		member_since = NO_DAY;
	DateADT	   *texp;
	int			k;
	int			i,
				j,
				t;
	int			cur = 0;
	DateADT		since;
	DateADT		cur_exp = NO_DAY;
	DateADT		grace_end = NO_DAY;
	int			wn = PG_INT32_MIN;
	int64		w_amt = 0,
				w_cnt = 0;
	LoyaltyChange *hist;
	int			nhist = 0;
	int			maxhist = 8;
	Datum		values[16];
	bool		nulls[16];
	Datum		resvals[2];
	bool		resnulls[2] = {false, false};
	Datum	   *changes;
	int64		sa = 0,
				sc = 0;
	DateADT		ws,
				we;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (LoyaltyState *) PG_GETARG_POINTER(0);
	p = st->prog;
	k = p->ntiers;

	/* the rows up to as_of, in day order, collapsed to qualifying days */
	qsort(st->rows, st->nrows, sizeof(LoyaltyRow), RowCmp);
	days = palloc(sizeof(DateADT) * (st->nrows + 1));
	amounts = palloc(sizeof(int64) * (st->nrows + 1));
	orders = palloc(sizeof(int64) * (st->nrows + 1));
	for (i = 0; i < st->nrows && st->rows[i].day <= p->as_of; i++)
	{
		LoyaltyRow *r = &st->rows[i];

		if (member_since == NO_DAY)
			member_since = r->day;
		if (!r->counted)
			continue;
		if (nd == 0 || days[nd - 1] != r->day)
		{
			days[nd] = r->day;
			amounts[nd] = 0;
			orders[nd] = 0;
			nd++;
		}
		amounts[nd - 1] = AddScaled(amounts[nd - 1], r->amount);
		orders[nd - 1]++;
	}
	if (st->resume != NULL)
		member_since = st->resume->member_since;
	if (member_since == NO_DAY)
		PG_RETURN_NULL();
	leave = palloc(sizeof(DateADT) * (nd + 1));
	if (p->window == LW_ROLLING)
		for (j = 0; j < nd; j++)
			leave[j] = AddMonths(days[j], p->months);

	texp = palloc(sizeof(DateADT) * k);
	for (t = 0; t < k; t++)
		texp[t] = NO_DAY;
	hist = palloc(sizeof(LoyaltyChange) * maxhist);
	since = member_since;

	i = 0;
	if (st->resume != NULL)
	{
		/*
		 * Go on from a stored state: the days up to resume_after have been
		 * replayed; their rows only fill the window sums (year windows) and
		 * the look back (rolling windows) of the days after it.
		 */
		LoyaltyResume *r = st->resume;

		cur = r->cur;
		since = r->since;
		cur_exp = r->cur_exp;
		grace_end = r->grace_end;
		memcpy(texp, r->texp, sizeof(DateADT) * k);
		for (; i < nd && days[i] <= p->resume_after; i++)
		{
			if (p->window != LW_ROLLING)
				AddToWindow(p, member_since, days[i], amounts[i], orders[i], &wn, &w_amt, &w_cnt);
		}
	}
	for (;;)
	{
		DateADT		d = (i < nd) ? days[i] : NO_DAY;
		int			best;
		int			nt;
		const char *reason = NULL;

		CHECK_FOR_INTERRUPTS();
		if (cur > 0)
		{
			DateADT		cand = (grace_end != NO_DAY) ? grace_end : cur_exp;

			if (d == NO_DAY || cand < d)
				d = cand;
		}
		if (d == NO_DAY || d > p->as_of)
			break;

		if (i < nd && days[i] == d)
		{
			/* the day's orders: when does each tier's latest qualification end? */
			if (p->window == LW_ROLLING)
			{
				for (t = 0; t < k; t++)
				{
					const LoyaltyTier *tier = &p->tiers[t];
					int64		a = 0,
								c = 0;
					DateADT		oa = NO_DAY,
								oc = NO_DAY,
								o;

					/* walk back from the newest day in the window until the thresholds are met */
					for (j = i; j >= 0 && leave[j] > d; j--)
					{
						a = AddScaled(a, amounts[j]);
						c += orders[j];
						if (oa == NO_DAY && tier->has_amount && a >= tier->amount)
							oa = days[j];
						if (oc == NO_DAY && tier->has_orders && c >= tier->orders)
							oc = days[j];
					}
					/* the day whose order leaving the window ends the qualification */
					if (p->match_all)
					{
						if ((tier->has_amount && oa == NO_DAY) || (tier->has_orders && oc == NO_DAY))
							o = NO_DAY;
						else if (oa == NO_DAY)
							o = oc;
						else if (oc == NO_DAY)
							o = oa;
						else
							o = Min(oa, oc);
					}
					else
						o = Max(oa, oc);
					if (o != NO_DAY)
						texp[t] = Max(texp[t], AddMonths(o, p->hold));
				}
			}
			else
			{
				AddToWindow(p, member_since, d, amounts[i], orders[i], &wn, &w_amt, &w_cnt);
				for (t = 0; t < k; t++)
					if (Meets(p, &p->tiers[t], w_amt, w_cnt))
						texp[t] = Max(texp[t], WindowStart(p, member_since, wn + p->hold + 1));
			}
			i++;
		}

		/* the highest tier whose latest qualification still holds (1-based; 0: none) */
		best = 0;
		for (t = k; t >= 1; t--)
			if (texp[t - 1] > d)	/* NO_DAY is below every day */
			{
				best = t;
				break;
			}

		nt = -1;
		if (best > cur)
		{
			nt = best;
			reason = "qualified";
		}
		else if (cur > 0 && texp[cur - 1] > d)
		{
			/* requalified for the tier held (also ends a grace period) */
			cur_exp = Max(cur_exp, texp[cur - 1]);
			grace_end = NO_DAY;
		}
		else if (cur > 0 && cur_exp <= d)
		{
			/* the status has expired: first the grace period, if any */
			if (p->grace > 0 && grace_end == NO_DAY)
				grace_end = cur_exp + p->grace;
			if (grace_end == NO_DAY || grace_end <= d)
			{
				nt = p->one_tier ? Max(cur - 1, best) : best;
				reason = (grace_end != NO_DAY) ? "grace ended" :
					p->one_tier ? "downgraded" : "expired";
			}
		}
		if (nt >= 0)
		{
			if (nhist == maxhist)
			{
				maxhist *= 2;
				hist = repalloc(hist, sizeof(LoyaltyChange) * maxhist);
			}
			hist[nhist].day = d;
			hist[nhist].from = cur;
			hist[nhist].to = nt;
			hist[nhist].reason = reason;
			nhist++;
			if (nt == 0)
				cur_exp = NO_DAY;
			else if (nt == best)
				cur_exp = texp[nt - 1];
			else if (p->window == LW_ROLLING)
				cur_exp = AddMonths(d, p->months);	/* one rank down, for one window */
			else				/* one rank down, through the current window */
				cur_exp = WindowStart(p, member_since, WindowNo(p, member_since, d) + 1);
			cur = nt;
			since = d;
			grace_end = NO_DAY;
		}
	}

	/* the window containing as_of and what qualifies in it */
	if (p->window == LW_ROLLING)
	{
		ws = AddMonths(p->as_of, -p->months) + 1;
		while (AddMonths(ws - 1, p->months) > p->as_of)
			ws--;
		while (AddMonths(ws, p->months) <= p->as_of)
			ws++;
		we = p->as_of + 1;
		for (j = 0; j < nd; j++)
			if (days[j] <= p->as_of && leave[j] > p->as_of)
			{
				sa = AddScaled(sa, amounts[j]);
				sc += orders[j];
			}
	}
	else
	{
		int			n = WindowNo(p, member_since, p->as_of);

		ws = WindowStart(p, member_since, n);
		we = WindowStart(p, member_since, n + 1);
		for (j = 0; j < nd; j++)
			if (days[j] >= ws && days[j] <= p->as_of)
			{
				sa = AddScaled(sa, amounts[j]);
				sc += orders[j];
			}
	}

	/* the result: (state, history) */
	ri = fcinfo->flinfo->fn_extra;
	if (ri == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		TupleDesc	rd;

		ri = palloc0(sizeof(LoyaltyResultInfo));
		if (get_call_result_type(fcinfo, NULL, &rd) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "loyalty_agg_finalfn must return a composite type");
		ri->resdesc = BlessTupleDesc(CreateTupleDescCopy(rd));
		ri->statedesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(TupleDescAttr(rd, 0)->atttypid,
																   TupleDescAttr(rd, 0)->atttypmod));
		ri->changetype = get_element_type(TupleDescAttr(rd, 1)->atttypid);
		if (!OidIsValid(ri->changetype))
			elog(ERROR, "loyalty_result.history is not an array");
		ri->changedesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(ri->changetype, -1));
		get_typlenbyvalalign(ri->changetype, &ri->changelen, &ri->changebyval, &ri->changealign);
		if (ri->statedesc->natts != 16 || ri->changedesc->natts != 4)
			elog(ERROR, "loyalty_state or loyalty_change has an unexpected number of attributes");
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = ri;
	}

	memset(nulls, true, sizeof(nulls));
	values[0] = CStringGetTextDatum(cur == 0 ? p->base : p->tiers[cur - 1].name);
	values[1] = Int32GetDatum(cur == 0 ? 0 : p->tiers[cur - 1].rank);
	values[2] = DateADTGetDatum(since);
	nulls[0] = nulls[1] = nulls[2] = false;
	if (cur > 0)
	{
		values[3] = DateADTGetDatum(cur_exp);
		nulls[3] = false;
	}
	if (grace_end != NO_DAY)
	{
		values[4] = DateADTGetDatum(grace_end);
		nulls[4] = false;
	}
	values[5] = DateADTGetDatum(ws);
	values[6] = DateADTGetDatum(we);
	values[7] = AmountDatum(sa);
	values[8] = Int64GetDatum(sc);
	nulls[5] = nulls[6] = nulls[7] = nulls[8] = false;
	if (cur > 0 && p->tiers[cur - 1].has_amount)
	{
		values[9] = AmountDatum(Needed(p->tiers[cur - 1].amount, sa));
		nulls[9] = false;
	}
	if (cur > 0 && p->tiers[cur - 1].has_orders)
	{
		values[10] = Int64GetDatum(Needed(p->tiers[cur - 1].orders, sc));
		nulls[10] = false;
	}
	if (cur < k)
	{
		const LoyaltyTier *next = &p->tiers[cur];

		values[11] = CStringGetTextDatum(next->name);
		nulls[11] = false;
		if (next->has_amount)
		{
			values[12] = AmountDatum(Needed(next->amount, sa));
			nulls[12] = false;
		}
		if (next->has_orders)
		{
			values[13] = Int64GetDatum(Needed(next->orders, sc));
			nulls[13] = false;
		}
	}
	values[14] = DateADTGetDatum(member_since);
	nulls[14] = false;
	{
		Datum	   *q = palloc(sizeof(Datum) * k);
		bool	   *qn = palloc(sizeof(bool) * k);
		int			dims[1] = {k};
		int			lbs[1] = {1};

		for (t = 0; t < k; t++)
		{
			qn[t] = (texp[t] == NO_DAY);
			q[t] = DateADTGetDatum(qn[t] ? 0 : texp[t]);
		}
		values[15] = PointerGetDatum(construct_md_array(q, qn, 1, dims, lbs, DATEOID, 4, true, TYPALIGN_INT));
		nulls[15] = false;
	}
	resvals[0] = HeapTupleGetDatum(heap_form_tuple(ri->statedesc, values, nulls));

	changes = palloc(sizeof(Datum) * Max(nhist, 1));
	for (i = 0; i < nhist; i++)
	{
		Datum		cv[4];
		bool		cn[4] = {false, false, false, false};

		cv[0] = DateADTGetDatum(hist[i].day);
		cv[1] = CStringGetTextDatum(hist[i].from == 0 ? p->base : p->tiers[hist[i].from - 1].name);
		cv[2] = CStringGetTextDatum(hist[i].to == 0 ? p->base : p->tiers[hist[i].to - 1].name);
		cv[3] = CStringGetTextDatum(hist[i].reason);
		changes[i] = HeapTupleGetDatum(heap_form_tuple(ri->changedesc, cv, cn));
	}
	resvals[1] = PointerGetDatum(construct_array(changes, nhist, ri->changetype, ri->changelen,
												 ri->changebyval, ri->changealign));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(ri->resdesc, resvals, resnulls)));
}
