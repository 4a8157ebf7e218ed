/*-------------------------------------------------------------------------
 *
 * model_state.c
 *	  retention.fit_state: the state of the model-fitting aggregates (bgnbd_fit,
 *	  gammagamma_fit, sbg_fit, paretonbd_fit, mbgnbd_fit, bgbb_fit).
 *
 * A state holds the distinct data patterns seen so far with their weights, so that the
 * cost of fitting grows with the number of distinct patterns, not of customers. A hash
 * index over the rows (kept inside the value) finds a pattern already present, whose
 * weight is then increased; a new one is appended. States combine by adding one's patterns
 * to the other's, which makes the aggregates parallel safe and lets Citus combine partial
 * states shipped in their text form.
 *
 * Text form: "<layout>:" followed by the patterns separated by ';', each pattern's values
 * and finally its weight separated by ',', e.g. "rft:0,0,38.86,1190;1,1.71,38.86,3".
 * Values are written in shortest round-trip form, patterns sorted and distinct, so the text
 * form is canonical and reads back to the same value.
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
#include "utils/builtins.h"

#include "aggstate.h"
#include "clv.h"

/* Room for this many rows in a new state. */
#define FIT_STATE_INITIAL_ROWS 64

/* A state stops growing (and fails) beyond this many distinct patterns. */
#define FIT_STATE_MAX_ROWS (64 * 1024 * 1024)

/* Names of the layouts in the text form, indexed by FitLayout. */
static const char *const layout_names[] = {NULL, "rft", "spend", "survival", "discrete"};

/* Number of values per pattern of each layout, indexed by FitLayout. */
static const int layout_ncols[] = {0, 3, 2, 2, 3};

/* The hash slots of a state: 2 * capacity int32, each 0 (empty) or a row number + 1. */
#define FIT_SLOTS(st) ((int32 *) &(st)->rows[(size_t) (st)->capacity * ((st)->ncols + 1)])

/*
 * NewFitState: an empty state of the given layout with room for `capacity` rows (a power
 * of two), allocated in the current memory context.
 */
static FitState *
NewFitState(FitLayout layout, int capacity)
{
	int			ncols = layout_ncols[layout];
	Size		size = FIT_STATE_HDRSZ + sizeof(double) * (Size) capacity * (ncols + 1)
		+ sizeof(int32) * 2 * (Size) capacity;
	FitState   *st = (FitState *) palloc0(size);

	SET_VARSIZE(st, size);
	st->layout = layout;
	st->ncols = ncols;
	st->sorted = 1;
	st->capacity = capacity;
	return st;
}

/* CompareRows: SortRecords comparator ordering rows by their values (not the weight). */
static int
CompareRows(const void *a, const void *b, void *arg)
{
	const double *x = (const double *) a;
	const double *y = (const double *) b;
	int			ncols = *(const int *) arg;

	for (int i = 0; i < ncols; i++)
	{
		if (x[i] < y[i])
			return -1;
		if (x[i] > y[i])
			return 1;
	}
	return 0;
}

/* Elements between two interrupt checks in the loops over a state's patterns. */
#define CHECK_EVERY 65536

/* Records SortRecords sorts with qsort_arg before merging (each a few ms at most). */
#define SORT_RUN 8192

/* CopyWords: copies a record of `words` 8-byte words. */
static inline void
CopyWords(uint64 *dst, const uint64 *src, size_t words)
{
	for (size_t w = 0; w < words; w++)
		dst[w] = src[w];
}

/*
 * SortRecords: sorts n records of `size` bytes (a multiple of 8, 8-byte aligned) at base
 * by cmp: runs of SORT_RUN records by qsort_arg, then bottom-up merges of the runs,
 * checking for interrupts while it goes, so that sorting the millions of patterns a large
 * state can hold never delays a cancel (one qsort of them could not be interrupted).
 */
static void
SortRecords(void *base, size_t n, size_t size,
			int (*cmp) (const void *a, const void *b, void *arg), void *arg)
{
	size_t		words = size / sizeof(uint64);
	uint64	   *src = base;
	uint64	   *dst;
	uint64	   *buf;

	for (size_t lo = 0; lo < n; lo += SORT_RUN)
	{
		CHECK_FOR_INTERRUPTS();
		qsort_arg(src + lo * words, Min(SORT_RUN, n - lo), size, cmp, arg);
	}
	if (n <= SORT_RUN)
		return;
	buf = dst = palloc(n * size);
	for (size_t width = SORT_RUN; width < n; width *= 2)
	{
		for (size_t lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = Min(lo + width, n),
						hi = Min(lo + 2 * width, n),
						i = lo,
						j = mid,
						k = lo;

			while (i < mid && j < hi)
			{
				if ((k & (CHECK_EVERY - 1)) == 0)
					CHECK_FOR_INTERRUPTS();
				if (cmp(src + j * words, src + i * words, arg) < 0)
					CopyWords(dst + (k++) * words, src + (j++) * words, words);
				else
					CopyWords(dst + (k++) * words, src + (i++) * words, words);
			}
			memcpy(dst + k * words, src + i * words, (mid - i) * size);
			k += mid - i;
			memcpy(dst + k * words, src + j * words, (hi - j) * size);
		}
		/* the merged runs are in dst: merge them back the other way next */
		{
			uint64	   *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != base)
		memcpy(base, src, n * size);
	pfree(buf);
}

/* RowHash: a hash of a pattern's values (their bit patterns, mixed). */
static inline uint64
RowHash(const double *v, int ncols)
{
	uint64		h = 0;

	for (int i = 0; i < ncols; i++)
	{
		uint64		bits;

		memcpy(&bits, &v[i], sizeof(bits));
		h = (h ^ bits) * 0x9E3779B97F4A7C15ULL;
	}
	/* MurmurHash3's finaliser: brings the high bits (a double's exponent) down */
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	return h ^ (h >> 33);
}

/* RowsEqual: do two patterns have the same values? */
static inline bool
RowsEqual(const double *a, const double *b, int ncols)
{
	for (int i = 0; i < ncols; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * FindSlot: the hash slot holding the pattern v, or the empty slot where it belongs.
 */
static inline int32 *
FindSlot(FitState *st, const double *v)
{
	int32	   *slots = FIT_SLOTS(st);
	uint64		mask = (uint64) st->capacity * 2 - 1;
	uint64		i = RowHash(v, st->ncols) & mask;
	int			ncols = st->ncols;

	while (slots[i] != 0 && !RowsEqual(FIT_ROW(st, slots[i] - 1), v, ncols))
		i = (i + 1) & mask;
	return &slots[i];
}

/* RebuildSlots: recomputes the hash slots from the rows (after they were moved). */
static void
RebuildSlots(FitState *st)
{
	memset(FIT_SLOTS(st), 0, sizeof(int32) * 2 * (Size) st->capacity);
	for (int i = 0; i < st->npatterns; i++)
	{
		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		*FindSlot(st, FIT_ROW(st, i)) = i + 1;
	}
}

/*
 * WeightOutOfRange: reports a pattern weight above FIT_MAX_WEIGHT (22003); detail says
 * which.
 */
static void
WeightOutOfRange(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("weight out of range"),
			 errdetail("%s", detail),
			 errhint("Weights count customers; one pattern holds up to 9007199254740991 of them exactly.")));
}

/*
 * FitStateCustomers: the sum of the weights of a state's patterns (its customers), exact;
 * 22003 when it exceeds PG_INT64_MAX. Each weight is a whole number up to FIT_MAX_WEIGHT,
 * so it converts to an int64 exactly.
 */
static int64
FitStateCustomers(const FitState *st)
{
	int64		total = 0;

	for (int i = 0; i < st->npatterns; i++)
		if (pg_add_s64_overflow(total, (int64) FIT_ROW(st, i)[st->ncols], &total))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("fit_state customers out of range"),
					 errdetail("The weights of a state add up to more than 9223372036854775807.")));
	return total;
}

/*
 * AddPattern: adds weight to the pattern v (ncols values), appending it when new. Returns
 * st, or when st was full a larger copy in the current memory context. With check, a new
 * pattern is validated first (one already stored was valid, so only its weight is).
 */
static FitState *
AddPattern(FitState *st, const double *v, double weight, bool check)
{
	int			ncols = st->ncols;
	double		key[CLV_MAX_COLS];
	int32	   *slot;
	double	   *row;

	/* -0 and 0 are one value but have two bit patterns */
	for (int i = 0; i < ncols; i++)
		key[i] = v[i] + 0.0;
	slot = FindSlot(st, key);
	if (*slot != 0)
	{
		double	   *w = &FIT_ROW(st, *slot - 1)[ncols];
		int64		sum;

		if (check && !(weight > 0))
			CheckPattern(st->layout, key, weight);
		/* both are whole numbers up to FIT_MAX_WEIGHT: their int64 sum is exact */
		if (pg_add_s64_overflow((int64) *w, (int64) weight, &sum) || sum > FIT_MAX_WEIGHT)
			WeightOutOfRange("The customers sharing a pattern add up to more than 9007199254740991.");
		*w = (double) sum;
		return st;
	}
	if (check)
		CheckPattern(st->layout, key, weight);
	if (st->npatterns == st->capacity)
	{
		FitState   *grown;

		if (st->capacity >= FIT_STATE_MAX_ROWS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many distinct patterns in a model fitting state"),
					 errdetail("A fitting state holds at most %d distinct patterns.",
							   FIT_STATE_MAX_ROWS),
					 errhint("Round recency and T to fewer distinct values, for example to whole days or weeks.")));
		grown = NewFitState(st->layout, st->capacity * 2);
		grown->npatterns = st->npatterns;
		grown->sorted = st->sorted;
		memcpy(grown->rows, st->rows, sizeof(double) * (Size) st->npatterns * (ncols + 1));
		RebuildSlots(grown);
		st = grown;
		slot = FindSlot(st, key);
	}
	row = FIT_ROW(st, st->npatterns);
	memcpy(row, key, sizeof(double) * ncols);
	row[ncols] = weight;
	*slot = ++st->npatterns;
	st->sorted = 0;
	return st;
}

/* CompactFitState: sorts the rows by their values (they are always distinct). */
static void
CompactFitState(FitState *st)
{
	int			ncols = st->ncols;

	if (st->sorted)
		return;
	SortRecords(st->rows, st->npatterns, sizeof(double) * (ncols + 1), CompareRows, &ncols);
	RebuildSlots(st);
	st->sorted = 1;
}

/*
 * CheckFinite: raises an error when a model input is NaN or infinite.
 */
static void
CheckFinite(double v, const char *what)
{
	if (isnan(v) || isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be a finite number", what),
				 errdetail("The value given was %g.", v)));
}

/*
 * CheckPattern: validates one pattern of the given layout and raises an error that names
 * the offending input. Used by the transition functions and by the input functions.
 */
void
CheckPattern(FitLayout layout, const double *v, double weight)
{
	for (int i = 0; i < layout_ncols[layout]; i++)
		CheckFinite(v[i], "model input");
	CheckFinite(weight, "weight");
	if (weight <= 0 || weight != floor(weight))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight must be a positive whole number"),
				 errdetail("The weight given was %g.", weight),
				 errhint("Weights count the customers sharing a pattern; leave rows of weight zero out.")));
	if (weight > (double) FIT_MAX_WEIGHT)
		WeightOutOfRange(psprintf("The weight given was %.17g.", weight));
	switch (layout)
	{
		case FIT_LAYOUT_RFT:
		case FIT_LAYOUT_DISCRETE:
			if (v[0] < 0 || v[0] != floor(v[0]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("frequency must be a non-negative whole number"),
						 errdetail("The frequency given was %g.", v[0])));
			if (v[1] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("recency must not be negative"),
						 errdetail("The recency given was %g.", v[1])));
			if (v[1] > v[2])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("recency must not exceed the customer's age T"),
						 errdetail("Recency is %g and T is %g.", v[1], v[2]),
						 errhint("Recency and T are both measured from the customer's first purchase.")));
			if (v[0] == 0 && v[1] != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("recency must be zero when frequency is zero"),
						 errdetail("Frequency is 0 and recency is %g.", v[1]),
						 errhint("Recency is the time from the first to the last repeat purchase.")));
			if (layout == FIT_LAYOUT_DISCRETE)
			{
				if (v[2] < 1 || v[2] != floor(v[2]) || v[1] != floor(v[1]))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("recency and the number of periods must be whole numbers, with at least one period"),
							 errdetail("Recency is %g and the number of periods is %g.", v[1], v[2])));
				/* no more than the aggregate's int arguments can give: the likelihood has a term per period */
				if (v[2] > PG_INT32_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("the number of periods is out of range"),
							 errdetail("The number of periods given was %g; at most 2147483647 are supported.", v[2])));
				if (v[0] > v[1])
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("frequency must not exceed recency in discrete-time data"),
							 errdetail("Frequency is %g and recency is %g.", v[0], v[1]),
							 errhint("Recency is the period of the last transaction, so at most that many periods have one.")));
			}
			break;
		case FIT_LAYOUT_SPEND:
			if (v[0] < 0 || v[0] != floor(v[0]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("frequency must be a non-negative whole number"),
						 errdetail("The frequency given was %g.", v[0])));
			if (v[0] > 0 && v[1] <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("monetary value must be positive for customers with repeat purchases"),
						 errdetail("Frequency is %g and the monetary value is %g.", v[0], v[1]),
						 errhint("The Gamma-Gamma model describes positive spend; leave refunds and free orders out.")));
			break;
		case FIT_LAYOUT_SURVIVAL:
			if (v[0] < 0 || v[0] != floor(v[0]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the number of periods must be a non-negative whole number"),
						 errdetail("The number of periods given was %g.", v[0])));
			if (v[1] != 0 && v[0] < 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a churned customer must have churned in period 1 or later"),
						 errdetail("The period given was %g.", v[0])));
			break;
	}
}

/*
 * FitStateAppend: the shared body of the transition functions: appends one validated
 * pattern with its weight (the optional last argument, default 1) to the state in
 * argument 0, creating it when NULL. Modifies the state in place when called as an
 * aggregate; otherwise works on a copy.
 */
static Datum
FitStateAppend(FunctionCallInfo fcinfo, FitLayout layout, const double *values, bool skip)
{
	FitState   *st;
	int			ncols = layout_ncols[layout];
	int			nvalues = ncols;
	double		weight = 1;

	/* an optional weight follows the pattern's values */
	if (PG_NARGS() > nvalues + 1)
	{
		if (PG_ARGISNULL(nvalues + 1))
			skip = true;
		else
		{
			int64		w = PG_GETARG_INT64(nvalues + 1);

			/* above 2^53 a double would round it: refuse rather than round */
			if (w > FIT_MAX_WEIGHT)
				WeightOutOfRange(psprintf("The weight given was " INT64_FORMAT ".", w));
			weight = (double) w;
		}
	}

	st = (FitState *) ModifiableState(fcinfo, 0);
	if (st == NULL)
		st = NewFitState(layout, FIT_STATE_INITIAL_ROWS);
	/* reachable by calling a transition function directly with a state of another layout */
	if (st->layout != layout)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot add \"%s\" data to a fit_state of layout \"%s\"",
						layout_names[layout], layout_names[st->layout]),
				 errhint("Each fitting aggregate's transition function takes states of its own layout.")));

	if (skip)
		PG_RETURN_POINTER(st);
	if (weight == 0)
		PG_RETURN_POINTER(st);
	st = AddPattern(st, values, weight, true);
	PG_RETURN_POINTER(st);
}

/* Is any of the arguments from..to (inclusive) NULL? */
static bool
AnyArgNull(FunctionCallInfo fcinfo, int from, int to)
{
	for (int i = from; i <= to; i++)
		if (PG_ARGISNULL(i))
			return true;
	return false;
}

PG_FUNCTION_INFO_V1(fit_state_rft_accum);
/*
 * fit_state_rft_accum(state, frequency int, recency float8, T float8 [, weight int8]):
 * transition of bgnbd_fit, paretonbd_fit and mbgnbd_fit. Rows with a NULL input are
 * skipped, like other aggregates skip NULLs.
 */
Datum
fit_state_rft_accum(PG_FUNCTION_ARGS)
{
	double		v[3] = {0, 0, 0};
	bool		skip = AnyArgNull(fcinfo, 1, 3);

	if (!skip)
	{
		v[0] = PG_GETARG_INT32(1);
		v[1] = PG_GETARG_FLOAT8(2);
		v[2] = PG_GETARG_FLOAT8(3);
	}
	return FitStateAppend(fcinfo, FIT_LAYOUT_RFT, v, skip);
}

PG_FUNCTION_INFO_V1(fit_state_spend_accum);
/*
 * fit_state_spend_accum(state, frequency int, monetary_value float8 [, weight int8]):
 * transition of gammagamma_fit. Customers without repeat purchases (frequency 0) carry no
 * information about spend per transaction and are skipped, as in the literature.
 */
Datum
fit_state_spend_accum(PG_FUNCTION_ARGS)
{
	double		v[2] = {0, 0};
	bool		skip = AnyArgNull(fcinfo, 1, 2);

	if (!skip)
	{
		v[0] = PG_GETARG_INT32(1);
		v[1] = PG_GETARG_FLOAT8(2);
		if (v[0] == 0)
		{
			CheckPattern(FIT_LAYOUT_SPEND, v, 1);
			skip = true;
		}
	}
	return FitStateAppend(fcinfo, FIT_LAYOUT_SPEND, v, skip);
}

PG_FUNCTION_INFO_V1(fit_state_survival_accum);
/*
 * fit_state_survival_accum(state, periods int, churned bool [, weight int8]): transition
 * of sbg_fit. A churned customer was lost in period `periods` (1, 2, ...); an active one
 * has survived `periods` periods so far.
 */
Datum
fit_state_survival_accum(PG_FUNCTION_ARGS)
{
	double		v[2] = {0, 0};
	bool		skip = AnyArgNull(fcinfo, 1, 2);

	if (!skip)
	{
		v[0] = PG_GETARG_INT32(1);
		v[1] = PG_GETARG_BOOL(2) ? 1 : 0;
	}
	return FitStateAppend(fcinfo, FIT_LAYOUT_SURVIVAL, v, skip);
}

PG_FUNCTION_INFO_V1(fit_state_discrete_accum);
/*
 * fit_state_discrete_accum(state, frequency int, recency int, periods int
 * [, weight int8]): transition of bgbb_fit (discrete-time transaction opportunities).
 */
Datum
fit_state_discrete_accum(PG_FUNCTION_ARGS)
{
	double		v[3] = {0, 0, 0};
	bool		skip = AnyArgNull(fcinfo, 1, 3);

	if (!skip)
	{
		v[0] = PG_GETARG_INT32(1);
		v[1] = PG_GETARG_INT32(2);
		v[2] = PG_GETARG_INT32(3);
	}
	return FitStateAppend(fcinfo, FIT_LAYOUT_DISCRETE, v, skip);
}

PG_FUNCTION_INFO_V1(fit_state_combine);
/*
 * fit_state_combine(a, b): the combine function of every fitting aggregate: the patterns
 * of both states. Modifies a in place when called as an aggregate.
 */
Datum
fit_state_combine(PG_FUNCTION_ARGS)
{
	FitState   *a;
	FitState   *b;
	Datum		result;

	if (CombineNulls(fcinfo, &result))
		return result;
	b = (FitState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	a = (FitState *) ModifiableState(fcinfo, 0);
	if (a->layout != b->layout)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine fit_state values of layouts \"%s\" and \"%s\"",
						layout_names[a->layout], layout_names[b->layout])));
	for (int i = 0; i < b->npatterns; i++)
		a = AddPattern(a, FIT_ROW(b, i), FIT_ROW(b, i)[b->ncols], false);
	(void) FitStateCustomers(a);
	PG_RETURN_POINTER(a);
}

/*
 * FitStateCopyCompact: a compacted (sorted, distinct) copy of the state in d, checked to
 * be of the given layout (0 accepts any), in the current memory context.
 */
FitState *
FitStateCopyCompact(Datum d, FitLayout layout)
{
	FitState   *st = (FitState *) PG_DETOAST_DATUM_COPY(d);

	if (layout != 0 && st->layout != layout)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("fit_state of layout \"%s\" cannot be used here", layout_names[st->layout]),
				 errdetail("This model is fitted to \"%s\" data.", layout_names[layout])));
	CompactFitState(st);
	return st;
}

/*
 * FitStateFromRows: st (a compacted copy the caller owns) keeping only its first
 * npatterns rows, which the caller rewrote in their order, so that they are still sorted
 * and distinct, with new weights: the weights are checked and the hash index rebuilt.
 */
FitState *
FitStateFromRows(FitState *st, int npatterns)
{
	st->npatterns = npatterns;
	for (int i = 0; i < npatterns; i++)
		if (FIT_ROW(st, i)[st->ncols] > (double) FIT_MAX_WEIGHT)
			WeightOutOfRange("A resampled pattern is drawn more than 9007199254740991 times.");
	RebuildSlots(st);
	(void) FitStateCustomers(st);
	return st;
}

/* CompareDoubles: SortRecords comparator for doubles. */
static int
CompareDoubles(const void *a, const void *b, void *arg)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Position of v in the sorted distinct values[0..n) (v is one of them). */
static int32
FindValue(const double *values, int n, double v)
{
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (values[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * IndexColumn: builds the distinct values of column c of the data and each row's
 * position among them (see FitData).
 */
static void
IndexColumn(FitData *data, int c)
{
	int			n = data->npatterns;
	int			width = data->ncols + 1;
	double	   *values = palloc(sizeof(double) * n);
	int32	   *index = palloc(sizeof(int32) * n);
	int			nd = 0;

	for (int i = 0; i < n; i++)
		values[i] = data->rows[(size_t) i * width + c];
	SortRecords(values, n, sizeof(double), CompareDoubles, NULL);
	for (int i = 0; i < n; i++)
		if (nd == 0 || values[nd - 1] != values[i])
			values[nd++] = values[i];
	for (int i = 0; i < n; i++)
	{
		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		index[i] = FindValue(values, nd, data->rows[(size_t) i * width + c]);
	}
	data->distinct[c] = values;
	data->index[c] = index;
	data->ndistinct[c] = nd;
}

/* ComparePairs: SortRecords comparator of (x, t) pairs, x first. */
static int
ComparePairs(const void *a, const void *b, void *arg)
{
	const double *p = (const double *) a;
	const double *q = (const double *) b;

	if (p[0] != q[0])
		return (p[0] > q[0]) - (p[0] < q[0]);
	return (p[1] > q[1]) - (p[1] < q[1]);
}

/* Position of the pair (x, t) among the sorted distinct pairs[0..n) (it is one of them). */
static int32
FindPair(const double *pairs, int n, double x, double t)
{
	double		key[2] = {x, t};
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (ComparePairs(&pairs[2 * mid], key, NULL) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * IndexPairs: the distinct (frequency, time) pairs among the RFT rows' (x, recency) and
 * (x, T), and each row's two positions among them (see FitData).
 */
static void
IndexPairs(FitData *data)
{
	int			n = data->npatterns;
	double	   *pairs = palloc(sizeof(double) * 4 * (Size) n);
	double	   *px,
			   *pt;
	int32	   *of_recency = palloc(sizeof(int32) * n);
	int32	   *of_age = palloc(sizeof(int32) * n);
	int			np = 0;

	for (int i = 0; i < n; i++)
	{
		const double *row = &data->rows[(size_t) i * 4];

		pairs[4 * i] = row[0];
		pairs[4 * i + 1] = row[1];
		pairs[4 * i + 2] = row[0];
		pairs[4 * i + 3] = row[2];
	}
	SortRecords(pairs, 2 * (Size) n, sizeof(double) * 2, ComparePairs, NULL);
	for (int i = 0; i < 2 * n; i++)
		if (np == 0 || ComparePairs(&pairs[2 * (np - 1)], &pairs[2 * i], NULL) != 0)
		{
			pairs[2 * np] = pairs[2 * i];
			pairs[2 * np + 1] = pairs[2 * i + 1];
			np++;
		}
	for (int i = 0; i < n; i++)
	{
		const double *row = &data->rows[(size_t) i * 4];

		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		of_recency[i] = FindPair(pairs, np, row[0], row[1]);
		of_age[i] = FindPair(pairs, np, row[0], row[2]);
	}
	px = palloc(sizeof(double) * np);
	pt = palloc(sizeof(double) * np);
	for (int k = 0; k < np; k++)
	{
		px[k] = pairs[2 * k];
		pt[k] = pairs[2 * k + 1];
	}
	pfree(pairs);
	data->npairs = np;
	data->pair_x = px;
	data->pair_t = pt;
	data->pair_of_recency = of_recency;
	data->pair_of_age = of_age;
}

/*
 * IndexDiscrete: for the BG/BB likelihood, the distinct frequencies of the rows and, for
 * each, the range of opportunities from its smallest recency to its largest number of
 * periods (see FitData), when all of them fit in BGBB_TABLE_MAX entries. Returns the
 * number of entries, 0 when there are no tables.
 */
static int64
IndexDiscrete(FitData *data)
{
	int			nx;
	int32	   *first,
			   *len;
	int64	   *offset;
	int64		total = 0;

	IndexColumn(data, 0);
	nx = data->ndistinct[0];
	first = palloc(sizeof(int32) * nx);
	len = palloc0(sizeof(int32) * nx);
	offset = palloc(sizeof(int64) * nx);
	for (int k = 0; k < nx; k++)
		first[k] = PG_INT32_MAX;
	for (int i = 0; i < data->npatterns; i++)
	{
		const double *row = &data->rows[(size_t) i * 4];
		int			k = data->index[0][i];

		/* recency <= periods <= 2^31 - 1 (checked at input) */
		first[k] = Min(first[k], (int32) row[1]);
		len[k] = Max(len[k], (int32) row[2]);
	}
	for (int k = 0; k < nx; k++)
	{
		/* opportunities first .. periods: the table has room for j = periods as well */
		len[k] = len[k] - first[k] + 1;
		offset[k] = total;
		total += len[k];
		if (total > BGBB_TABLE_MAX)
			return 0;
	}
	data->table_first = first;
	data->table_len = len;
	data->table_offset = offset;
	data->table_entries = total;
	return total;
}

/*
 * FitDataFromRows: describes npatterns sorted, distinct rows of a layout (each row its
 * values and its weight) for the optimiser: the weights the likelihoods use, their sum,
 * and the lookup tables and work space the layout's likelihoods use, in the current
 * memory context (customers is left 0: FitDataFromState sets it).
 */
void
FitDataFromRows(const double *rows, int npatterns, FitLayout layout, FitData *data)
{
	int			ncols = layout_ncols[layout];
	double	   *w = palloc(sizeof(double) * Max(npatterns, 1));
	Size		scratch = 1;

	memset(data, 0, sizeof(FitData));
	data->rows = rows;
	data->npatterns = npatterns;
	data->ncols = ncols;
	for (int i = 0; i < npatterns; i++)
	{
		w[i] = rows[(size_t) i * (ncols + 1) + ncols];
		data->total_weight += w[i];
	}
	data->w = w;
	if (layout == FIT_LAYOUT_RFT && npatterns > 0)
	{
		/* log(alpha + value) and 1 / (alpha + value) of recency and T; Pareto/NBD pairs */
		IndexColumn(data, 1);
		IndexColumn(data, 2);
		IndexPairs(data);
		scratch = Max(2 * ((Size) data->ndistinct[1] + data->ndistinct[2]),
					  5 * (Size) data->npairs + 4 * (Size) data->ndistinct[2]);
	}
	if (layout == FIT_LAYOUT_DISCRETE && npatterns > 0)
		scratch = Max(scratch, BGBB_TABLE_WIDTH * (Size) IndexDiscrete(data));
	if (layout == FIT_LAYOUT_SPEND && npatterns > 0)
	{
		double	   *logs = palloc(sizeof(double) * npatterns);

		for (int i = 0; i < npatterns; i++)
		{
			double		m = rows[(size_t) i * (ncols + 1) + 1];

			logs[i] = m > 0 ? log(m) : 0;
		}
		data->logcol1 = logs;
	}
	data->scratch = palloc(sizeof(double) * scratch);
}

/*
 * FitDataFromState: describes a compacted state's patterns for the optimiser (see
 * FitDataFromRows), with the exact number of customers.
 */
void
FitDataFromState(const FitState *st, FitData *data)
{
	FitDataFromRows(st->rows, st->npatterns, st->layout, data);
	data->customers = FitStateCustomers(st);
}

PG_FUNCTION_INFO_V1(fit_state_in);
/* fit_state_in: text input, "<layout>:v,v,...,weight;v,v,...,weight;..." */
Datum
fit_state_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *colon = strchr(str, ':');
	char	   *p;
	FitLayout	layout = 0;
	FitState   *st;

	if (colon != NULL)
		for (int l = FIT_LAYOUT_RFT; l <= FIT_LAYOUT_DISCRETE; l++)
			if (strlen(layout_names[l]) == (size_t) (colon - str) &&
				strncmp(str, layout_names[l], colon - str) == 0)
				layout = l;
	if (layout == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type fit_state: \"%s\"", str),
				 errdetail("The value must start with a layout name (rft, spend, survival or discrete) and a colon.")));

	st = NewFitState(layout, FIT_STATE_INITIAL_ROWS);
	p = colon + 1;
	while (*p != '\0')
	{
		double		v[CLV_MAX_COLS + 1];
		int			ncols = st->ncols;

		for (int i = 0; i <= ncols; i++)
		{
			char	   *end;

			errno = 0;
			v[i] = strtod(p, &end);
			if (end == p || errno == ERANGE ||
				(*end != (i == ncols ? ';' : ',') && !(i == ncols && *end == '\0')))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type fit_state: \"%s\"", str),
						 errdetail("Each pattern is %d numbers separated by commas, the last one its weight, and patterns are separated by semicolons.",
								   ncols + 1)));
			p = end;
			if (*p != '\0')
				p++;
		}
		CheckPattern(layout, v, v[ncols]);
		st = AddPattern(st, v, v[ncols], false);
	}
	(void) FitStateCustomers(st);
	CompactFitState(st);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(fit_state_out);
/* fit_state_out: canonical text output (patterns sorted and distinct). */
Datum
fit_state_out(PG_FUNCTION_ARGS)
{
	FitState   *st = FitStateCopyCompact(PG_GETARG_DATUM(0), 0);
	StringInfoData buf;
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s:", layout_names[st->layout]);
	for (int i = 0; i < st->npatterns; i++)
	{
		const double *row = FIT_ROW(st, i);

		if (i > 0)
			appendStringInfoChar(&buf, ';');
		for (int c = 0; c <= st->ncols; c++)
		{
			if (c > 0)
				appendStringInfoChar(&buf, ',');
			double_to_shortest_decimal_buf(row[c], num);
			appendStringInfoString(&buf, num);
		}
	}
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(fit_state_send);
/* fit_state_send: binary output: layout, pattern count, then the values as float8. */
Datum
fit_state_send(PG_FUNCTION_ARGS)
{
	FitState   *st = FitStateCopyCompact(PG_GETARG_DATUM(0), 0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, st->layout);
	pq_sendint32(&buf, st->npatterns);
	for (int i = 0; i < st->npatterns; i++)
		for (int c = 0; c <= st->ncols; c++)
			pq_sendfloat8(&buf, FIT_ROW(st, i)[c]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(fit_state_recv);
/* fit_state_recv: binary input, validated like the text input. */
Datum
fit_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			layout = pq_getmsgbyte(buf);
	int			n;
	FitState   *st;

	if (layout < FIT_LAYOUT_RFT || layout > FIT_LAYOUT_DISCRETE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid layout %d in external fit_state value", layout)));
	n = pq_getmsgint(buf, 4);
	if (n < 0 || n > FIT_STATE_MAX_ROWS ||
		(Size) n * (layout_ncols[layout] + 1) * sizeof(double) > (Size) (buf->len - buf->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid pattern count %d in external fit_state value", n)));
	st = NewFitState(layout, FIT_STATE_INITIAL_ROWS);
	for (int i = 0; i < n; i++)
	{
		double		row[CLV_MAX_COLS + 1];

		for (int c = 0; c <= layout_ncols[layout]; c++)
			row[c] = pq_getmsgfloat8(buf);
		CheckPattern(layout, row, row[layout_ncols[layout]]);
		st = AddPattern(st, row, row[layout_ncols[layout]], false);
	}
	(void) FitStateCustomers(st);
	CompactFitState(st);
	PG_RETURN_POINTER(st);
}

/*
 * FitResultDatum: the model row of a fit, as the composite type tupdesc, laid out as
 * (parameters..., log_likelihood, converged, status, iterations, customers, patterns,
 * standard errors...).
 */
Datum
FitResultDatum(FunctionCallInfo fcinfo, const ModelSpec *spec, const FitData *data,
			   const FitResult *res, TupleDesc tupdesc)
{
	Datum		values[2 * CLV_MAX_PARAMS + 6];
	bool		nulls[2 * CLV_MAX_PARAMS + 6];
	int			k = spec->nparams;
	int			a = 0;

	if (tupdesc->natts != 2 * k + 6)
		elog(ERROR, "model type has %d attributes, expected %d", tupdesc->natts, 2 * k + 6);
	memset(nulls, 0, sizeof(nulls));
	for (int i = 0; i < k; i++)
	{
		values[a] = Float8GetDatum(res->params[i]);
		nulls[a++] = isnan(res->params[i]);
	}
	values[a] = Float8GetDatum(res->log_likelihood);
	nulls[a++] = isnan(res->log_likelihood);
	values[a++] = BoolGetDatum(res->converged);
	values[a++] = CStringGetTextDatum(res->status);
	values[a++] = Int32GetDatum(res->iterations);
	values[a++] = Int64GetDatum(data->customers);
	values[a++] = Int32GetDatum(data->npatterns);
	for (int i = 0; i < k; i++)
	{
		values[a] = Float8GetDatum(res->se[i]);
		nulls[a++] = isnan(res->se[i]);
	}
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * FitFinal: the shared body of the final functions: fits `spec` to the state in argument 0
 * and returns the model as the function's composite result type (FitResultDatum).
 */
Datum
FitFinal(FunctionCallInfo fcinfo, const ModelSpec *spec)
{
	FitState   *st = FitStateCopyCompact(PG_GETARG_DATUM(0), spec->layout);
	FitData		data;
	FitResult	res;
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	FitDataFromState(st, &data);
	if (data.npatterns == 0)
		PG_RETURN_NULL();
	FitModel(spec, &data, &res);
	PG_RETURN_DATUM(FitResultDatum(fcinfo, spec, &data, &res, BlessTupleDesc(tupdesc)));
}
