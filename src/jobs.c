/*-------------------------------------------------------------------------
 *
 * jobs.c
 *	  C helpers of the cohort-refresh job: the watermark test that picks the
 *	  source rows added since the previous refresh.
 *
 * The watermark of a job is a 64-bit transaction id W: every row whose
 * inserting transaction id (xmin) is below W has been folded into the job's
 * tables. A refresh takes W' = the xmin of its snapshot (the oldest
 * transaction still running), so every transaction below W' has finished and
 * its rows, when committed, are visible; it then reads the rows with
 * W <= xmin < W'. Each row is thus read by exactly one refresh, whatever its
 * timestamp, whether it was inserted under a savepoint, and whatever the
 * isolation level (docs/jobs.md explains why not pg_visible_in_snapshot).
 *
 * A row's xmin is 32 bits; it is widened to 64 bits against the next
 * transaction id, which is exact for every unfrozen row (freezing happens
 * long before 2^31 transactions). A frozen row's xmin may be older than 2^32
 * transactions and so cannot be widened: frozen rows count as old (64-bit id
 * 0), which is why the tuple header is looked at for candidate rows.
 *
 * Under Citus each node has transaction ids of its own: a distributed table
 * gets one watermark per node group, and xmin_is_new_on_node() applies the
 * window of the node evaluating it (docs/citus.md); new_rows() refuses such
 * tables, whose shell on the coordinator holds no rows.
 *
 * Two ways to apply the test: xmin_is_new(), a filter on the executor's scan
 * (any heap table, partitioned ones too), and new_rows(), a scan of its own
 * for plain heap tables that tests the raw xmin in the tuple header before
 * anything else and skips pages the visibility map marks all-frozen (only
 * frozen, hence old, rows): several times cheaper per row. Every row of the
 * source is looked at, so this scan is a fixed part of the cost of every
 * incremental refresh.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/visibilitymap.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "storage/predicate.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "jobs.h"

/* per-query cache of xmin_is_new and xmin_is_new_on_node */
typedef struct XminCache
{
	uint64		next;			/* next 64-bit transaction id when the query started */
	Oid			checked_rel;	/* last relation found readable and a heap table */
	uint64		since;			/* xmin_is_new_on_node: this node's window, from */
	uint64		upto;			/* ... to (exclusive) */
} XminCache;

/*
 * Widen a 32-bit xid to 64 bits against next (the next transaction id):
 * the latest 64-bit id not after next whose low 32 bits are xid.
 * Permanent (non-normal) ids are 0, "older than everything".
 */
uint64
WidenXid(TransactionId xid, uint64 next)
{
	uint32		back;

	if (!TransactionIdIsNormal(xid))
		return 0;
	back = (uint32) next - (uint32) xid;
	if ((uint64) back > next)
		return 0;
	return next - back;
}

/*
 * May the current user read the rows of relid as they are? With SELECT on it
 * and no row level security in force, or the same on a partitioned table it
 * belongs to (through which the rows are read).
 */
static bool
MayReadAllRows(Oid relid)
{
	List	   *rels = list_make1_oid(relid);
	ListCell   *lc;

	if (get_rel_relispartition(relid))
		rels = list_concat(rels, get_partition_ancestors(relid));
	foreach(lc, rels)
	{
		Oid			rel = lfirst_oid(lc);

		if (pg_class_aclcheck(rel, GetUserId(), ACL_SELECT) == ACLCHECK_OK &&
			check_enable_rls(rel, InvalidOid, true) != RLS_ENABLED)
			return true;
	}
	return false;
}

/*
 * Is the tuple at tid in relation relid frozen? The relation must be a heap
 * table whose rows the current user may read (MayReadAllRows): the answer
 * tells about the tuple header.
 */
static bool
TupleIsFrozen(Oid relid, ItemPointer tid, TransactionId xmin, XminCache *cache)
{
	Relation	rel;
	Buffer		buf;
	Page		page;
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	ItemId		item;
	bool		frozen = false;

	if (cache->checked_rel != relid)
	{
		char	   *relname = get_rel_name(relid);

		if (relname == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", relid)));
		if (!MayReadAllRows(relid))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", relname),
					 errdetail("xmin_is_new reads tuple headers: it needs SELECT on the table, without row level security in force.")));
	}
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (cache->checked_rel != relid)
	{
		if (rel->rd_rel->relkind != RELKIND_RELATION ||
			rel->rd_tableam != GetHeapamTableAmRoutine())
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("incremental refresh needs heap tables, \"%s\" is not one",
							RelationGetRelationName(rel)),
					 errhint("Use a full refresh, or a plain or partitioned table as the source.")));
		cache->checked_rel = relid;
	}
	buf = ReadBuffer(rel, ItemPointerGetBlockNumber(tid));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
	{
		item = PageGetItemId(page, off);
		if (ItemIdIsNormal(item))
		{
			HeapTupleHeader tup = (HeapTupleHeader) PageGetItem(page, item);

			frozen = HeapTupleHeaderXminFrozen(tup) &&
				HeapTupleHeaderGetRawXmin(tup) == xmin;
		}
	}
	UnlockReleaseBuffer(buf);
	relation_close(rel, AccessShareLock);
	return frozen;
}

/*
 * The by-value first column of the first row of a query on Citus's catalogs
 * (one optional oid parameter, $1): false when the citus extension is not
 * installed in this database or the query gives no row or NULL.
 */
static bool
CitusCatalogValue(const char *query, Oid arg, Datum *value)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(arg)};
	bool		isnull = true;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(query, OidIsValid(arg) ? 1 : 0, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		*value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	return !isnull;
}

/*
 * The Citus node group of this server: pg_dist_local_group.groupid (0 on the
 * coordinator, and on a server that no coordinator has added as a worker),
 * or -1 when the citus extension is not installed in this database.
 */
int
LocalCitusGroup(void)
{
	Datum		group;

	if (!CitusCatalogValue("SELECT groupid FROM pg_catalog.pg_dist_local_group", InvalidOid, &group))
		return -1;
	return DatumGetInt32(group);
}

/*
 * Is relid a table in Citus's metadata (distributed, reference or Citus
 * local)? On the coordinator such a table is a shell whose rows are in its
 * shards, usually on other nodes.
 */
static bool
IsCitusTable(Oid relid)
{
	Datum		found;

	return CitusCatalogValue("SELECT true FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1",
							 relid, &found);
}

PG_FUNCTION_INFO_V1(node_group);

/*
 * node_group() returns int: this server's Citus node group (0 on the
 * coordinator), NULL without Citus.
 */
Datum
node_group(PG_FUNCTION_ARGS)
{
	int			group = LocalCitusGroup();

	if (group < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(group);
}

/*
 * The test of xmin_is_new: is the row's widened xmin in [since, upto),
 * frozen rows counting as transaction 0? cache is the call site's, created
 * by GetXminCache.
 */
static bool
XminIsNew(Oid relid, ItemPointer tid, TransactionId xmin, uint64 since, uint64 upto,
		  XminCache *cache)
{
	uint64		x = WidenXid(xmin, cache->next);

	/*
	 * Where frozenness changes the answer, look at the tuple: an incremental
	 * window must not take a frozen row whose old xmin aliases into it, and a
	 * full rebuild (since = 0) must take a frozen row whose xmin aliases above
	 * upto. Elsewhere the answer is the same either way.
	 */
	if (x != 0 &&
		((since > 0 && x >= since && x < upto) || (since == 0 && x >= upto)) &&
		TupleIsFrozen(relid, tid, xmin, cache))
		x = 0;
	return x >= since && x < upto;
}

/* the per-query cache of an xmin test's call site */
static XminCache *
GetXminCache(FunctionCallInfo fcinfo)
{
	XminCache  *cache = (XminCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(XminCache));
		cache->next = U64FromFullTransactionId(ReadNextFullTransactionId());
		cache->checked_rel = InvalidOid;
		cache->upto = 0;
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

PG_FUNCTION_INFO_V1(xmin_is_new);

/*
 * xmin_is_new(tableoid oid, ctid tid, xmin xid, since xid8, upto xid8):
 * is the row's inserting transaction in [since, upto)? Frozen rows count as
 * transaction 0, so they are new only for since = 0 (a full rebuild).
 * Called in the WHERE clause of the scan of the source table. Where it must
 * look at the tuple, it needs SELECT on the table (or a partitioned table
 * above it) without row level security in force, and locks it.
 */
Datum
xmin_is_new(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);
	TransactionId xmin = PG_GETARG_TRANSACTIONID(2);
	uint64		since = U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(3));
	uint64		upto = U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(4));

	PG_RETURN_BOOL(XminIsNew(relid, tid, xmin, since, upto, GetXminCache(fcinfo)));
}

PG_FUNCTION_INFO_V1(xmin_is_new_on_node);

/*
 * xmin_is_new_on_node(tableoid oid, ctid tid, xmin xid, groups int[],
 * since xid8[], upto xid8[]): xmin_is_new with the window of the Citus node
 * group evaluating it: groups[i]'s window is [since[i], upto[i]). The filter
 * of a refresh over a distributed table, pushed down to the shards: each
 * node's transaction ids are its own, so each node gets its own window
 * (docs/citus.md). A node whose group has no window raises an error rather
 * than reading nothing.
 */
Datum
xmin_is_new_on_node(PG_FUNCTION_ARGS)
{
	XminCache  *cache = (XminCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
	{
		ArrayType  *groups = PG_GETARG_ARRAYTYPE_P(3);
		ArrayType  *since = PG_GETARG_ARRAYTYPE_P(4);
		ArrayType  *upto = PG_GETARG_ARRAYTYPE_P(5);
		Datum	   *g,
				   *s,
				   *u;
		bool	   *gn,
				   *sn,
				   *un;
		int			ng,
					ns,
					nu,
					i;
		int			group = Max(LocalCitusGroup(), 0);	/* without Citus: one node, group 0 */
		bool		found = false;

		deconstruct_array(groups, INT4OID, 4, true, TYPALIGN_INT, &g, &gn, &ng);
		deconstruct_array(since, XID8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &s, &sn, &ns);
		deconstruct_array(upto, XID8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &u, &un, &nu);
		if (ng != ns || ng != nu)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("the groups, since and upto arrays of xmin_is_new_on_node must have the same length")));
		for (i = 0; i < ng; i++)
			if (gn[i] || sn[i] || un[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("the arrays of xmin_is_new_on_node must not contain NULLs")));
		cache = GetXminCache(fcinfo);
		for (i = 0; i < ng && !found; i++)
		{
			if (DatumGetInt32(g[i]) == group)
			{
				cache->since = U64FromFullTransactionId(DatumGetFullTransactionId(s[i]));
				cache->upto = U64FromFullTransactionId(DatumGetFullTransactionId(u[i]));
				found = true;
			}
		}
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no transaction window for Citus node group %d", group),
					 errdetail("The refresh took the watermarks of the node groups that held the source's shards when it began."),
					 errhint("Run the refresh again: a shard may have moved to another node meanwhile.")));
	}
	PG_RETURN_BOOL(XminIsNew(PG_GETARG_OID(0), (ItemPointer) PG_GETARG_POINTER(1),
							 PG_GETARG_TRANSACTIONID(2), cache->since, cache->upto, cache));
}

PG_FUNCTION_INFO_V1(new_rows);

/*
 * new_rows(source anyelement, since xid8, upto xid8) returns setof anyelement:
 * the rows of a plain heap table (source is a NULL of its row type) visible
 * to the current snapshot whose inserting transaction is in [since, upto),
 * frozen rows counting as transaction 0. With since > 0, pages all-frozen in
 * the visibility map are not read. Requires SELECT on the table and refuses
 * tables with row level security in force (it reads the heap directly).
 */
Datum
new_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			rowtype = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			relid = OidIsValid(rowtype) ? get_typ_typrelid(rowtype) : InvalidOid;
	uint64		since;
	uint64		upto;
	uint64		next;
	Relation	rel;
	Snapshot	snapshot = GetActiveSnapshot();
	BlockNumber nblocks;
	BlockNumber blk;
	BufferAccessStrategy strategy;
	Buffer		vmbuf = InvalidBuffer;
	TupleTableSlot *slot;
	HeapTuple  *found;
	int			nfound;
	AclResult	acl;
	bool		narrow;
	uint32		since32;
	uint32		width32;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the transaction bounds of new_rows must not be NULL")));
	since = U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(1));
	upto = U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(2));
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("the first argument of new_rows must be a table's row type"),
				 errhint("Pass NULL::schema.table.")));
	if (snapshot == NULL)
		elog(ERROR, "no active snapshot");

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_tableam != GetHeapamTableAmRoutine())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("new_rows needs a plain heap table, \"%s\" is not one",
						RelationGetRelationName(rel))));
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, RelationGetRelationName(rel));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("new_rows cannot read \"%s\": row level security is in force",
						RelationGetRelationName(rel))));
	/* a Citus table's rows are in its shards: scanning the shell would find none */
	if (IsCitusTable(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("new_rows cannot read \"%s\": it is a Citus table, whose rows are in its shards",
						RelationGetRelationName(rel)),
				 errhint("Filter the table with xmin_is_new_on_node, giving each node group its own transaction window (docs/citus.md).")));

	InitMaterializedSRF(fcinfo, 0);
	PredicateLockRelation(rel, snapshot);
	next = U64FromFullTransactionId(ReadNextFullTransactionId());
	nblocks = RelationGetNumberOfBlocks(rel);
	strategy = GetAccessStrategy(BAS_BULKREAD);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	found = palloc(sizeof(HeapTuple) * MaxHeapTuplesPerPage);

	/*
	 * With since > 0 only unfrozen rows with a normal xmin x can be new, and
	 * x - since < upto - since, so the low 32 bits of the raw xmin differ
	 * from since's by less than the window's width (mod 2^32). When the
	 * window is also narrower than 2^32 transactions (always, in an
	 * incremental refresh) that test on the raw xmin rejects nearly every
	 * row at once, before the tuple header is decoded; rows passing it get
	 * the exact test. A full scan (since = 0) must also take frozen rows,
	 * whatever their raw xmin, so it skips the shortcut.
	 */
	narrow = since > 0 && upto > since && upto - since < ((uint64) 1 << 32);
	since32 = (uint32) since;
	width32 = (uint32) (upto - since);

	for (blk = 0; blk < nblocks; blk++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off;
		OffsetNumber maxoff;
		int			i;

		CHECK_FOR_INTERRUPTS();
		/* all-frozen pages hold only old rows */
		if (since > 0 && VM_ALL_FROZEN(rel, blk, &vmbuf))
			continue;
		buf = ReadBufferExtended(rel, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		nfound = 0;
		if (!PageIsNew(page))
		{
			maxoff = PageGetMaxOffsetNumber(page);
			for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
			{
				ItemId		item = PageGetItemId(page, off);
				HeapTupleData tuple;
				uint64		x;

				if (!ItemIdIsNormal(item))
					continue;
				tuple.t_data = (HeapTupleHeader) PageGetItem(page, item);
				if (narrow &&
					(uint32) (HeapTupleHeaderGetRawXmin(tuple.t_data) - since32) >= width32)
					continue;
				tuple.t_len = ItemIdGetLength(item);
				tuple.t_tableOid = relid;
				ItemPointerSet(&tuple.t_self, blk, off);
				x = HeapTupleHeaderXminFrozen(tuple.t_data) ? 0 :
					WidenXid(HeapTupleHeaderGetRawXmin(tuple.t_data), next);
				if (x < since || x >= upto)
					continue;
				if (!HeapTupleSatisfiesVisibility(&tuple, snapshot, buf))
					continue;
				found[nfound++] = heap_copytuple(&tuple);
			}
		}
		UnlockReleaseBuffer(buf);

		/* out of the buffer lock: the tuplestore may write to disk */
		for (i = 0; i < nfound; i++)
		{
			ExecStoreHeapTuple(found[i], slot, true);
			slot_getallattrs(slot);		/* fills in columns added later with defaults */
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, slot->tts_values, slot->tts_isnull);
			ExecClearTuple(slot);
		}
	}
	if (BufferIsValid(vmbuf))
		ReleaseBuffer(vmbuf);
	ExecDropSingleTupleTableSlot(slot);
	FreeAccessStrategy(strategy);
	table_close(rel, NoLock);
	return (Datum) 0;
}
