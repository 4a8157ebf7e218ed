/*-------------------------------------------------------------------------
 *
 * clv_formulas.c
 *	  The closed-form customer-lifetime-value formulas, in exact numeric arithmetic:
 *
 *	  clv_simple(aov, purchases, periods, margin) = aov * purchases * periods * margin
 *	  clv_churn(margin, arpu, churn)              = margin * arpu / churn
 *	  clv_discounted(m, r, d)                     = m * r / (1 + d - r)
 *
 * Inputs are checked: a margin outside 0..1, a churn rate outside (0, 1], a retention rate
 * outside 0..1, a negative discount rate or a negative amount or count is an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

/* NumericDatum: the numeric value of an integer. */
static Datum
NumericDatum(int64 v)
{
	return NumericGetDatum(int64_to_numeric(v));
}

/* Cmp: compares two numeric datums like numeric_cmp. */
static int
Cmp(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

/*
 * CheckRange: raises an error unless lo <= v <= hi (hi_open: v < hi; lo_open: v > lo);
 * a NaN or infinite value is always out of range. hi < 0 means no upper bound.
 */
static void
CheckRange(Datum v, const char *what, int64 lo, bool lo_open, int64 hi, bool hi_open,
		   const char *hint)
{
	Numeric		n = DatumGetNumeric(v);
	bool		bad = numeric_is_nan(n) || numeric_is_inf(n);

	if (!bad)
	{
		int			c = Cmp(v, NumericDatum(lo));

		bad = lo_open ? c <= 0 : c < 0;
		if (!bad && hi >= 0)
		{
			c = Cmp(v, NumericDatum(hi));
			bad = hi_open ? c >= 0 : c > 0;
		}
	}
	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("The value given was %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, v))),
				 errhint("%s", hint)));
}

/* Mul: a * b in numeric. */
static Datum
Mul(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_mul, a, b);
}

PG_FUNCTION_INFO_V1(clv_simple);
/*
 * clv_simple(average_order_value, purchases_per_period, retention_periods, margin):
 * the simple CLV, average order value x purchases per period x retention periods x margin.
 */
Datum
clv_simple(PG_FUNCTION_ARGS)
{
	CheckRange(PG_GETARG_DATUM(0), "average order value", 0, false, -1, false,
			   "The average order value must not be negative.");
	CheckRange(PG_GETARG_DATUM(1), "purchases per period", 0, false, -1, false,
			   "The purchase frequency must not be negative.");
	CheckRange(PG_GETARG_DATUM(2), "retention periods", 0, false, -1, false,
			   "The expected customer lifespan in periods must not be negative.");
	CheckRange(PG_GETARG_DATUM(3), "margin", 0, false, 1, false,
			   "Give the margin as a fraction between 0 and 1, for example 0.3 for 30%.");
	PG_RETURN_DATUM(Mul(Mul(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)),
						Mul(PG_GETARG_DATUM(2), PG_GETARG_DATUM(3))));
}

PG_FUNCTION_INFO_V1(clv_churn);
/*
 * clv_churn(margin, arpu, churn_rate): churn-based CLV = margin x ARPU / churn, the
 * margin on the average revenue per user over the expected lifetime 1 / churn periods.
 */
Datum
clv_churn(PG_FUNCTION_ARGS)
{
	CheckRange(PG_GETARG_DATUM(0), "margin", 0, false, 1, false,
			   "Give the margin as a fraction between 0 and 1, for example 0.3 for 30%.");
	CheckRange(PG_GETARG_DATUM(1), "average revenue per user", 0, false, -1, false,
			   "The average revenue per user must not be negative.");
	CheckRange(PG_GETARG_DATUM(2), "churn rate", 0, true, 1, false,
			   "Give the churn rate per period as a fraction greater than 0 and at most 1.");
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_div,
										Mul(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)),
										PG_GETARG_DATUM(2)));
}

PG_FUNCTION_INFO_V1(clv_discounted);
/*
 * clv_discounted(margin, retention_rate, discount_rate): m r / (1 + d - r), the present
 * value of a margin m per period received while the customer stays, with retention r per
 * period and discount rate d (Gupta & Lehmann 2003), the first margin one period away.
 */
Datum
clv_discounted(PG_FUNCTION_ARGS)
{
	Datum		denom;

	CheckRange(PG_GETARG_DATUM(0), "margin per period", 0, false, -1, false,
			   "The margin per period is an amount of money and must not be negative.");
	CheckRange(PG_GETARG_DATUM(1), "retention rate", 0, false, 1, false,
			   "Give the retention rate per period as a fraction between 0 and 1.");
	CheckRange(PG_GETARG_DATUM(2), "discount rate", 0, false, -1, false,
			   "Give the discount rate per period as a non-negative fraction, for example 0.1 for 10%.");
	denom = DirectFunctionCall2(numeric_sub,
								DirectFunctionCall2(numeric_add, NumericDatum(1), PG_GETARG_DATUM(2)),
								PG_GETARG_DATUM(1));
	if (Cmp(denom, NumericDatum(0)) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DIVISION_BY_ZERO),
				 errmsg("discounted CLV is infinite with retention rate 1 and discount rate 0"),
				 errhint("Use a retention rate below 1 or a positive discount rate.")));
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_div,
										Mul(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)), denom));
}
