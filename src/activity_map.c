/*-------------------------------------------------------------------------
 *
 * activity_map.c
 *	  One-pass cohort and retention aggregates over raw order rows:
 *	  cohort_agg(customer_id, period, amount) and
 *	  retention_agg(customer_id, period [, amount]). Their state,
 *	  retention.activity_map, maps customer ids to activities in a hash table
 *	  of its own, so no GROUP BY (and no second aggregation pass) is needed; the
 *	  final functions turn it into the same cohort_state / retention_state as
 *	  the two-step path.
 *
 * The state is a real SQL type: in memory an expanded object (so the
 * transition function updates it in place, row after row), flattened to a
 * varlena when it has to travel (parallel workers, text or binary output):
 *
 *	  ActivityMapFlat header, then per customer, in customer order, at
 *	  MAXALIGN'd offsets: the customer id (int64), then its ActivityData.
 *
 * Text form: <customer id>=<customer_activity text>;... in customer order,
 * e.g. 17=2024-01|05|1:11.77,2:24;42=2024-02|01|1:5.
 *
 * Memory: 48-96 bytes per customer (hash-table slack) plus 16 bytes per extra active period,
 * for the hash table of one process; use the two-step path (activity_agg
 * GROUP BY customer, then cohort_agg) for tens of millions of customers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"

#include "activity.h"
#include "cohort_state.h"

#define MAP_VERSION 1
#define MAP_MAGIC	0x52414d31	/* identifies an expanded activity map */

/* one customer in the hash table */
typedef struct MapEntry
{
	int64		key;			/* customer id */
	uint32		hash;			/* hash of key (simplehash SH_STORE_HASH) */
	char		status;			/* simplehash slot status */
	int32		n;				/* active periods held */
	int32		cap;			/* capacity of ext; 0 while the one inline period suffices */
	ActivityEntry *ext;			/* periods in time order once there are more than one */
	ActivityEntry one;			/* the only period while n == 1 */
} MapEntry;

/* a 64-bit mix (the splitmix64 finaliser) folded to 32 bits */
static inline uint32
MapHash(int64 key)
{
	uint64		x = (uint64) key;

	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return (uint32) x;
}

#define SH_PREFIX			actmap
#define SH_ELEMENT_TYPE		MapEntry
#define SH_KEY_TYPE			int64
#define SH_KEY				key
#define SH_HASH_KEY(tb, key) MapHash(key)
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a)	((a)->hash)
#define SH_SCOPE			static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* the flat form's header */
typedef struct ActivityMapFlat
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* MAP_VERSION */
	uint8		flags;			/* reserved, zero */
	uint16		unit;			/* PeriodUnit of every period */
	int32		ncustomers;		/* number of customers that follow */
} ActivityMapFlat;

#define MAP_FLAT_HDR		MAXALIGN(sizeof(ActivityMapFlat))

/* the expanded (in-memory) form */
typedef struct ActivityMap
{
	ExpandedObjectHeader hdr;	/* standard expanded-object header */
	int			magic;			/* MAP_MAGIC */
	bool		has_unit;		/* false until the first period arrives */
	PeriodUnit	unit;			/* unit of every period */
	actmap_hash *table;			/* customer id -> periods */
	MapEntry   *last;			/* entry of the latest insert (valid until the next one), or NULL */
	char	   *flat;			/* cached flat form, or NULL (built by GetFlatSize) */
	Size		flat_size;		/* its size */
} ActivityMap;

static Size MapGetFlatSize(ExpandedObjectHeader *eohptr);
static void MapFlattenInto(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

static const ExpandedObjectMethods map_methods = {MapGetFlatSize, MapFlattenInto};

/*
 * A new, empty expanded map in its own memory context under parent.
 */
static ActivityMap *
MapCreate(MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "activity_map", ALLOCSET_DEFAULT_SIZES);
	ActivityMap *m = MemoryContextAllocZero(cxt, sizeof(ActivityMap));

	EOH_init_header(&m->hdr, &map_methods, cxt);
	m->magic = MAP_MAGIC;
	m->table = actmap_create(cxt, 1024, NULL);
	return m;
}

/*
 * Add one period's orders and revenue to customer key's entry.
 */
static void
MapAdd(ActivityMap *m, int64 key, int32 ordinal, int32 orders, int64 revenue)
{
	bool		found;
	MapEntry   *e;
	ActivityEntry *p;
	int			i;

	/* orders of one customer often come together: skip the hash lookup then */
	if (m->last != NULL && m->last->key == key)
	{
		e = m->last;
		found = true;
	}
	else
		e = m->last = actmap_insert(m->table, key, &found);
	m->flat = NULL;
	if (!found)
	{
		e->n = 1;
		e->cap = 0;
		e->ext = NULL;
		e->one.ordinal = ordinal;
		e->one.orders = orders;
		e->one.revenue = revenue;
		return;
	}
	/* periods are kept in order: find the place from the end (orders mostly come in time order) */
	p = e->cap ? e->ext : &e->one;
	i = e->n;
	while (i > 0 && p[i - 1].ordinal > ordinal)
		i--;
	if (i > 0 && p[i - 1].ordinal == ordinal)
	{
		if (pg_add_s32_overflow(p[i - 1].orders, orders, &p[i - 1].orders))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("order count out of range in activity_map")));
		p[i - 1].revenue = AddScaled(p[i - 1].revenue, revenue);
		return;
	}
	if (e->n >= ACTIVITY_MAX_SPAN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("customer activity spans too many periods")));
	if (e->cap == 0 || e->n == e->cap)
	{
		int			cap = e->cap ? e->cap * 2 : 4;
		ActivityEntry *ext = MemoryContextAlloc(m->hdr.eoh_context, sizeof(ActivityEntry) * cap);

		memcpy(ext, p, sizeof(ActivityEntry) * e->n);
		if (e->cap)
			pfree(e->ext);
		e->ext = ext;
		e->cap = cap;
		p = ext;
	}
	memmove(&p[i + 1], &p[i], sizeof(ActivityEntry) * (e->n - i));
	p[i].ordinal = ordinal;
	p[i].orders = orders;
	p[i].revenue = revenue;
	e->n++;
}

/*
 * qsort comparator: map entries by customer id.
 */
static int
KeyCmp(const void *a, const void *b)
{
	int64		x = (*(MapEntry *const *) a)->key;
	int64		y = (*(MapEntry *const *) b)->key;

	return (x > y) - (x < y);
}

/*
 * The customer's periods (kept in time order by MapAdd).
 */
static inline ActivityEntry *
EntrySorted(MapEntry *e)
{
	return e->cap ? e->ext : &e->one;
}

/*
 * Build the flat form (cached in m->flat): customers in id order.
 */
static void
MapBuildFlat(ActivityMap *m)
{
	MemoryContext old = MemoryContextSwitchTo(m->hdr.eoh_context);
	int			n = m->table->members;
	MapEntry  **all = palloc(sizeof(MapEntry *) * Max(n, 1));
	ActivityData **acts = palloc(sizeof(ActivityData *) * Max(n, 1));
	actmap_iterator it;
	MapEntry   *e;
	Size		size = MAP_FLAT_HDR;
	ActivityMapFlat *f;
	char	   *p;
	int			i = 0;

	actmap_start_iterate(m->table, &it);
	while ((e = actmap_iterate(m->table, &it)) != NULL)
		all[i++] = e;
	qsort(all, n, sizeof(MapEntry *), KeyCmp);
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		acts[i] = ActivityEncode(m->unit, EntrySorted(all[i]), all[i]->n);
		size += MAXALIGN(sizeof(int64)) + MAXALIGN(VARSIZE(acts[i]));
	}
	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("activity_map of %d customers is too large to pass on", n),
				 errhint("Aggregate per customer with activity_agg ... GROUP BY customer first, then cohort_agg or retention_agg over the activities.")));
	f = palloc0(size);
	SET_VARSIZE(f, size);
	f->version = MAP_VERSION;
	f->unit = m->unit;
	f->ncustomers = n;
	p = (char *) f + MAP_FLAT_HDR;
	for (i = 0; i < n; i++)
	{
		memcpy(p, &all[i]->key, sizeof(int64));
		p += MAXALIGN(sizeof(int64));
		memcpy(p, acts[i], VARSIZE(acts[i]));
		p += MAXALIGN(VARSIZE(acts[i]));
		pfree(acts[i]);
	}
	pfree(all);
	pfree(acts);
	m->flat = (char *) f;
	m->flat_size = size;
	MemoryContextSwitchTo(old);
}

/*
 * Expanded-object method: size of the flat form.
 */
static Size
MapGetFlatSize(ExpandedObjectHeader *eohptr)
{
	ActivityMap *m = (ActivityMap *) eohptr;

	if (m->flat == NULL)
		MapBuildFlat(m);
	return m->flat_size;
}

/*
 * Expanded-object method: write the flat form.
 */
static void
MapFlattenInto(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	ActivityMap *m = (ActivityMap *) eohptr;

	if (m->flat == NULL)
		MapBuildFlat(m);
	Assert(allocated_size == m->flat_size);
	memcpy(result, m->flat, m->flat_size);
}

/*
 * Calls fn(arg, customer, sorted periods, n) for every customer of a flat map.
 */
typedef ActivityVisitor MapVisitor;

static void
FlatVisit(ActivityMapFlat *f, MapVisitor fn, void *arg)
{
	const char *p = (const char *) f + MAP_FLAT_HDR;
	const char *end = (const char *) f + VARSIZE(f);
	ActivityEntry buf[64];
	int			i;

	for (i = 0; i < f->ncustomers; i++)
	{
		int64		key;
		ActivityData *a;
		ActivityEntry *e;

		CHECK_FOR_INTERRUPTS();
		if (p + MAXALIGN(sizeof(int64)) + offsetof(ActivityData, data) > end)
			elog(ERROR, "corrupted activity_map value");
		memcpy(&key, p, sizeof(int64));
		p += MAXALIGN(sizeof(int64));
		a = (ActivityData *) p;
		if (p + VARSIZE(a) > end || a->unit != f->unit)
			elog(ERROR, "corrupted activity_map value");
		e = ActivityDecode(a, buf, lengthof(buf));
		fn(arg, key, e, a->nactive);
		if (e != buf)
			pfree(e);
		p += MAXALIGN(VARSIZE(a));
	}
}

/*
 * Calls fn for every customer of an expanded map.
 */
static void
MapVisit(ActivityMap *m, MapVisitor fn, void *arg)
{
	actmap_iterator it;
	MapEntry   *e;

	actmap_start_iterate(m->table, &it);
	while ((e = actmap_iterate(m->table, &it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		fn(arg, e->key, EntrySorted(e), e->n);
	}
}

/*
 * Visitor: add every period of a customer to the map in arg.
 */
static void
AddVisitor(void *arg, int64 key, const ActivityEntry *e, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		MapAdd((ActivityMap *) arg, key, e[i].ordinal, e[i].orders, e[i].revenue);
}

/*
 * The map argument argno: the expanded object itself when it is one of ours
 * (read-write), else NULL with *flat set to the detoasted flat form.
 */
static ActivityMap *
MapArg(FunctionCallInfo fcinfo, int argno, ActivityMapFlat **flat)
{
	Datum		d = PG_GETARG_DATUM(argno);

	*flat = NULL;
	if (VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)))
	{
		ActivityMap *m = (ActivityMap *) DatumGetEOHP(d);

		if (m->magic != MAP_MAGIC)
			elog(ERROR, "unexpected expanded object in activity_map");
		return m;
	}
	*flat = (ActivityMapFlat *) PG_DETOAST_DATUM(d);
	if ((*flat)->version != MAP_VERSION)
		elog(ERROR, "corrupted activity_map value");
	return NULL;
}

/*
 * Error out unless unit may join map m (setting m's unit on first use).
 */
static void
MapCheckUnit(ActivityMap *m, PeriodUnit unit, const char *what)
{
	if (!m->has_unit)
	{
		m->unit = unit;
		m->has_unit = true;
	}
	else
		CheckActivityUnit(m->unit, unit, what);
}

/*
 * A writable expanded map for state argument 0: inside an aggregate the
 * argument itself if it is our read-write expanded object, else a new one (holding the
 * argument's customers, if any) in the aggregate context, or outside an
 * aggregate in the current one.
 */
static ActivityMap *
MapForUpdate(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext aggcxt;
	bool		inagg = AggCheckCallContext(fcinfo, &aggcxt);
	ActivityMapFlat *flat;
	ActivityMap *m;
	ActivityMap *old;

	if (!inagg)
		aggcxt = CurrentMemoryContext;
	if (PG_ARGISNULL(0))
		return MapCreate(aggcxt);
	old = MapArg(fcinfo, 0, &flat);
	if (old != NULL && inagg && VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(PG_GETARG_DATUM(0))))
		return old;
	m = MapCreate(aggcxt);
	if (old != NULL)
	{
		if (old->has_unit)
		{
			MapCheckUnit(m, old->unit, what);
			MapVisit(old, AddVisitor, m);
		}
	}
	else if (flat->ncustomers > 0)
	{
		MapCheckUnit(m, flat->unit, what);
		FlatVisit(flat, AddVisitor, m);
	}
	return m;
}

PG_FUNCTION_INFO_V1(activity_map_trans);

/*
 * Transition function of the one-pass aggregates: (state, customer id,
 * period [, amount]) adds one order.
 */
Datum
activity_map_trans(PG_FUNCTION_ARGS)
{
	ActivityMap *m = MapForUpdate(fcinfo, "activity_map_trans");
	CustomerPeriod p;
	int64		revenue = 0;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer id must not be null"),
				 errhint("Filter out orders without a customer.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("period must not be null"),
				 errhint("Filter out rows without a date, or use coalesce().")));
	p = PG_GETARG_CUSTOMER_PERIOD(2);
	if (PG_NARGS() > 3)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("amount must not be null"),
					 errhint("Use coalesce(amount, 0).")));
		revenue = NumericToScaled(PG_GETARG_DATUM(3), "the one-pass aggregate");
	}
	MapCheckUnit(m, PERIOD_GET_UNIT(p), "the one-pass aggregate");
	MapAdd(m, PG_GETARG_INT64(1), PERIOD_GET_ORDINAL(p), 1, revenue);
	PG_RETURN_DATUM(EOHPGetRWDatum(&m->hdr));
}

/* a cursor over the customers of a flat map */
typedef struct FlatCursor
{
	const char *p;				/* next customer */
	int			left;			/* customers not yet read */
	int64		key;			/* current customer id */
	ActivityData *act;			/* current customer's activity, or NULL at the end */
} FlatCursor;

/*
 * Move the cursor to the next customer.
 */
static void
FlatNext(FlatCursor *c)
{
	if (c->left-- <= 0)
	{
		c->act = NULL;
		return;
	}
	memcpy(&c->key, c->p, sizeof(int64));
	c->act = (ActivityData *) (c->p + MAXALIGN(sizeof(int64)));
	c->p += MAXALIGN(sizeof(int64)) + MAXALIGN(VARSIZE(c->act));
}

/*
 * Union of two flat maps by a merge of their customer-ordered lists (no
 * hashing): the combine step of parallel one-pass aggregation, where every
 * input is a flat map from a worker.
 */
static ActivityMapFlat *
FlatUnion(ActivityMapFlat *a, ActivityMapFlat *b)
{
	FlatCursor	ca = {(const char *) a + MAP_FLAT_HDR, a->ncustomers, 0, NULL};
	FlatCursor	cb = {(const char *) b + MAP_FLAT_HDR, b->ncustomers, 0, NULL};
	Size		size = VARSIZE(a) + VARSIZE(b);
	ActivityMapFlat *f;
	char	   *p;

	if (a->ncustomers > 0 && b->ncustomers > 0)
		CheckActivityUnit(a->unit, b->unit, "the one-pass aggregate");
	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("activity_map is too large to combine"),
				 errhint("Aggregate per customer with activity_agg ... GROUP BY customer first, then cohort_agg or retention_agg over the activities.")));
	f = palloc0(size);
	f->version = MAP_VERSION;
	f->unit = a->ncustomers > 0 ? a->unit : b->unit;
	p = (char *) f + MAP_FLAT_HDR;
	FlatNext(&ca);
	FlatNext(&cb);
	while (ca.act != NULL || cb.act != NULL)
	{
		ActivityData *act;
		int64		key;

		CHECK_FOR_INTERRUPTS();
		if (cb.act == NULL || (ca.act != NULL && ca.key < cb.key))
		{
			key = ca.key;
			act = ca.act;
			FlatNext(&ca);
		}
		else if (ca.act == NULL || cb.key < ca.key)
		{
			key = cb.key;
			act = cb.act;
			FlatNext(&cb);
		}
		else
		{
			key = ca.key;
			act = ActivityUnion(ca.act, cb.act, "the one-pass aggregate");
			FlatNext(&ca);
			FlatNext(&cb);
		}
		/* a union can be larger than its two parts (a wider bitmap): grow if need be */
		if (p + MAXALIGN(sizeof(int64)) + MAXALIGN(VARSIZE(act)) > (char *) f + size)
		{
			Size		used = p - (char *) f;

			size = Max(size * 2, used + MAXALIGN(sizeof(int64)) + MAXALIGN(VARSIZE(act)));
			if (!AllocSizeIsValid(size))
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("activity_map is too large to combine")));
			f = repalloc(f, size);
			p = (char *) f + used;
		}
		memcpy(p, &key, sizeof(int64));
		p += MAXALIGN(sizeof(int64));
		memcpy(p, act, VARSIZE(act));
		p += MAXALIGN(VARSIZE(act));
		f->ncustomers++;
	}
	SET_VARSIZE(f, p - (char *) f);
	return f;
}

PG_FUNCTION_INFO_V1(activity_map_combine);

/*
 * Combine function of the one-pass aggregates: the customers of state 1
 * merged into state 0 (a customer present in both gets the union). Flat
 * inputs give a flat result, expanded ones an expanded result.
 */
Datum
activity_map_combine(PG_FUNCTION_ARGS)
{
	ActivityMapFlat *flat;
	ActivityMapFlat *flat0;
	ActivityMap *m;
	ActivityMap *other = MapArg(fcinfo, 1, &flat);

	/* two flat maps (from parallel workers): merge their sorted lists */
	if (other == NULL && MapArg(fcinfo, 0, &flat0) == NULL)
		PG_RETURN_POINTER(FlatUnion(flat0, flat));
	m = MapForUpdate(fcinfo, "activity_map_combine");

	if (other != NULL)
	{
		if (other->has_unit)
		{
			MapCheckUnit(m, other->unit, "the one-pass aggregate");
			MapVisit(other, AddVisitor, m);
		}
	}
	else if (flat->ncustomers > 0)
	{
		MapCheckUnit(m, flat->unit, "the one-pass aggregate");
		FlatVisit(flat, AddVisitor, m);
	}
	PG_RETURN_DATUM(EOHPGetRWDatum(&m->hdr));
}

/* what the final functions' visitors work on */
typedef struct FinalState
{
	int32		lo;				/* first pass: smallest ordinal seen */
	int32		hi;				/* first pass: largest ordinal seen */
	TriState   *t;				/* second pass: the state being filled */
} FinalState;

/*
 * Visitor: widen the covered range.
 */
static void
RangeVisitor(void *arg, int64 key, const ActivityEntry *e, int n)
{
	FinalState *fs = (FinalState *) arg;

	fs->lo = Min(fs->lo, e[0].ordinal);
	fs->hi = Max(fs->hi, e[n - 1].ordinal);
}

/*
 * Visitor: add a customer to a cohort state.
 */
static void
CohortVisitor(void *arg, int64 key, const ActivityEntry *e, int n)
{
	CohortAdd(((FinalState *) arg)->t, e, n);
}

/*
 * Visitor: add a customer to a retention state.
 */
static void
RetentionVisitor(void *arg, int64 key, const ActivityEntry *e, int n)
{
	RetentionAdd(((FinalState *) arg)->t, e, n);
}

bool
ActivityMapVisitArg(FunctionCallInfo fcinfo, int argno, ActivityVisitor fn, void *arg, PeriodUnit *unit)
{
	ActivityMapFlat *flat;
	ActivityMap *m;

	if (PG_ARGISNULL(argno))
		return false;
	m = MapArg(fcinfo, argno, &flat);
	if (m != NULL ? !m->has_unit || m->table->members == 0 : flat->ncustomers == 0)
		return false;
	*unit = m != NULL ? m->unit : flat->unit;
	if (m != NULL)
		MapVisit(m, fn, arg);
	else
		FlatVisit(flat, fn, arg);
	return true;
}

/*
 * Final function body: the cohort or retention state of every customer in
 * the map (NULL for an empty map).
 */
static Datum
MapFinal(FunctionCallInfo fcinfo, int kind)
{
	FinalState	fs = {PG_INT32_MAX, PG_INT32_MIN, NULL};
	PeriodUnit	unit;

	if (!ActivityMapVisitArg(fcinfo, 0, RangeVisitor, &fs, &unit))
		PG_RETURN_NULL();
	fs.t = TriAlloc(kind, unit, fs.lo, (int64) fs.hi - fs.lo + 1);
	ActivityMapVisitArg(fcinfo, 0, kind == TRI_COHORT ? CohortVisitor : RetentionVisitor, &fs, &unit);
	PG_RETURN_POINTER(fs.t);
}

PG_FUNCTION_INFO_V1(activity_map_cohort_final);

/*
 * Final function of cohort_agg(customer_id, period, amount).
 */
Datum
activity_map_cohort_final(PG_FUNCTION_ARGS)
{
	return MapFinal(fcinfo, TRI_COHORT);
}

PG_FUNCTION_INFO_V1(activity_map_retention_final);

/*
 * Final function of retention_agg(customer_id, period [, amount]).
 */
Datum
activity_map_retention_final(PG_FUNCTION_ARGS)
{
	return MapFinal(fcinfo, TRI_RETENTION);
}

/*
 * A flat map from a list of (customer, activity) pairs in strictly
 * increasing customer order, all of one unit.
 */
static ActivityMapFlat *
FlatFromList(int64 *keys, ActivityData **acts, int n)
{
	Size		size = MAP_FLAT_HDR;
	ActivityMapFlat *f;
	char	   *p;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (i > 0 && keys[i] <= keys[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid activity_map value"),
					 errdetail("Customers must be listed once each, in increasing order.")));
		if (i > 0)
			CheckActivityUnit(acts[0]->unit, acts[i]->unit, "activity_map");
		size += MAXALIGN(sizeof(int64)) + MAXALIGN(VARSIZE(acts[i]));
	}
	f = palloc0(size);
	SET_VARSIZE(f, size);
	f->version = MAP_VERSION;
	f->unit = n > 0 ? acts[0]->unit : 0;
	f->ncustomers = n;
	p = (char *) f + MAP_FLAT_HDR;
	for (i = 0; i < n; i++)
	{
		memcpy(p, &keys[i], sizeof(int64));
		p += MAXALIGN(sizeof(int64));
		memcpy(p, acts[i], VARSIZE(acts[i]));
		p += MAXALIGN(VARSIZE(acts[i]));
	}
	return f;
}

/*
 * The flat form of a map argument (flattening an expanded one).
 */
static ActivityMapFlat *
FlatArg(FunctionCallInfo fcinfo, int argno)
{
	ActivityMapFlat *flat;
	ActivityMap *m = MapArg(fcinfo, argno, &flat);

	if (m == NULL)
		return flat;
	if (m->flat == NULL)
		MapBuildFlat(m);
	return (ActivityMapFlat *) m->flat;
}

PG_FUNCTION_INFO_V1(activity_map_in);

/*
 * Text input: <customer id>=<activity>;... (see the file header).
 */
Datum
activity_map_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char	   *copy = pstrdup(input);
	int			cap = 16;
	int64	   *keys = palloc(sizeof(int64) * cap);
	ActivityData **acts = palloc(sizeof(ActivityData *) * cap);
	int			n = 0;
	char	   *item = copy;

	while (*item != '\0')
	{
		char	   *semi = strchr(item, ';');
		char	   *eq = strchr(item, '=');
		const char *s = item;
		bool		neg = (*s == '-');

		if (semi)
			*semi = '\0';
		if (eq == NULL || (semi && eq > semi))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type activity_map: \"%s\"", input),
					 errdetail("Expected \"<customer id>=<customer_activity>;...\".")));
		*eq = '\0';
		if (n == cap)
		{
			cap *= 2;
			keys = repalloc(keys, sizeof(int64) * cap);
			acts = repalloc(acts, sizeof(ActivityData *) * cap);
		}
		if (neg)
			s++;
		keys[n] = ParseCount(&s, "activity_map", item);
		if (neg)
			keys[n] = -keys[n];
		if (*s != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type activity_map: \"%s\"", input),
					 errdetail("A customer id must be an integer.")));
		acts[n] = (ActivityData *) DatumGetPointer(DirectFunctionCall1(activity_in, CStringGetDatum(eq + 1)));
		n++;
		if (semi == NULL)
			break;
		item = semi + 1;
		if (*item == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type activity_map: \"%s\"", input),
					 errdetail("Nothing follows the last \";\".")));
	}
	PG_RETURN_POINTER(FlatFromList(keys, acts, n));
}

/* what OutVisitor appends to */
typedef struct OutState
{
	StringInfoData buf;			/* the text so far */
	PeriodUnit	unit;			/* the map's unit */
} OutState;

/*
 * Visitor: append "<id>=<activity>" to the OutState in arg.
 */
static void
OutVisitor(void *arg, int64 key, const ActivityEntry *e, int n)
{
	StringInfo	out = &((OutState *) arg)->buf;
	ActivityData *a = ActivityEncode(((OutState *) arg)->unit, e, n);

	if (out->len > 0)
		appendStringInfoChar(out, ';');
	appendStringInfo(out, INT64_FORMAT "=%s", key,
					 DatumGetCString(DirectFunctionCall1(activity_out, PointerGetDatum(a))));
	pfree(a);
}

PG_FUNCTION_INFO_V1(activity_map_out);

/*
 * Text output (see the file header).
 */
Datum
activity_map_out(PG_FUNCTION_ARGS)
{
	ActivityMapFlat *f = FlatArg(fcinfo, 0);
	OutState	out;

	initStringInfo(&out.buf);
	out.unit = f->unit;
	FlatVisit(f, OutVisitor, &out);
	PG_RETURN_CSTRING(out.buf.data);
}

PG_FUNCTION_INFO_V1(activity_map_send);

/*
 * Binary output: version, number of customers (int4), then per customer its
 * id (int8) and its customer_activity in binary form (int4 length, bytes).
 */
Datum
activity_map_send(PG_FUNCTION_ARGS)
{
	ActivityMapFlat *f = FlatArg(fcinfo, 0);
	const char *p = (const char *) f + MAP_FLAT_HDR;
	StringInfoData out;
	int			i;

	pq_begintypsend(&out);
	pq_sendbyte(&out, MAP_VERSION);
	pq_sendint32(&out, f->ncustomers);
	for (i = 0; i < f->ncustomers; i++)
	{
		int64		key;
		ActivityData *a;
		bytea	   *b;

		memcpy(&key, p, sizeof(int64));
		p += MAXALIGN(sizeof(int64));
		a = (ActivityData *) p;
		b = DatumGetByteaPP(DirectFunctionCall1(activity_send, PointerGetDatum(a)));
		pq_sendint64(&out, key);
		pq_sendint32(&out, VARSIZE_ANY_EXHDR(b));
		pq_sendbytes(&out, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
		p += MAXALIGN(VARSIZE(a));
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&out));
}

PG_FUNCTION_INFO_V1(activity_map_recv);

/*
 * Binary input (see activity_map_send), validated like text input.
 */
Datum
activity_map_recv(PG_FUNCTION_ARGS)
{
	StringInfo	in = (StringInfo) PG_GETARG_POINTER(0);
	int32		n;
	int64	   *keys;
	ActivityData **acts;
	int			i;

	if (pq_getmsgbyte(in) != MAP_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external activity_map value"),
				 errdetail("Unknown format version.")));
	n = pq_getmsgint(in, 4);
	if (n < 0 || n > (in->len - in->cursor) / 12)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external activity_map value"),
				 errdetail("The number of customers is out of range.")));
	keys = palloc(sizeof(int64) * Max(n, 1));
	acts = palloc(sizeof(ActivityData *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		StringInfoData part;
		int32		len;

		keys[i] = pq_getmsgint64(in);
		len = pq_getmsgint(in, 4);
		if (len < 0 || len > in->len - in->cursor)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid external activity_map value"),
					 errdetail("An activity's length is out of range.")));
		part.data = (char *) pq_getmsgbytes(in, len);
		part.len = part.maxlen = len;
		part.cursor = 0;
		acts[i] = (ActivityData *) DatumGetPointer(DirectFunctionCall1(activity_recv, PointerGetDatum(&part)));
		if (part.cursor != part.len)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid external activity_map value"),
					 errdetail("An activity has trailing bytes.")));
	}
	PG_RETURN_POINTER(FlatFromList(keys, acts, n));
}
