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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/xid8.h"

#include "jobs.h"

/* per-query cache of xmin_is_new */
typedef struct XminCache
{
	uint64		next;			/* next 64-bit transaction id when the query started */
	Oid			checked_rel;	/* last relation found to be a heap table */
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
 * Is the tuple at tid in relation relid frozen? The relation must be a heap
 * table, already locked by the calling scan.
 */
static bool
TupleIsFrozen(Oid relid, ItemPointer tid, TransactionId xmin, XminCache *cache)
{
	Relation	rel = table_open(relid, NoLock);
	Buffer		buf;
	Page		page;
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	ItemId		item;
	bool		frozen = false;

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
	table_close(rel, NoLock);
	return frozen;
}

PG_FUNCTION_INFO_V1(xmin_is_new);

/*
 * xmin_is_new(tableoid oid, ctid tid, xmin xid, since xid8, upto xid8):
 * is the row's inserting transaction in [since, upto)? Frozen rows count as
 * transaction 0, so they are new only for since = 0 (a full rebuild).
 * Called in the WHERE clause of the scan of the source table.
 */
Datum
xmin_is_new(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);
	TransactionId xmin = PG_GETARG_TRANSACTIONID(2);
	uint64		since = U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(3));
	uint64		upto = U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(4));
	XminCache  *cache = (XminCache *) fcinfo->flinfo->fn_extra;
	uint64		x;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(XminCache));
		cache->next = U64FromFullTransactionId(ReadNextFullTransactionId());
		cache->checked_rel = InvalidOid;
		fcinfo->flinfo->fn_extra = cache;
	}
	x = WidenXid(xmin, cache->next);
	/* rows that would be read: make sure their xmin is not a frozen alias */
	if (x != 0 && ((x >= since && x < upto) || (since == 0 && x >= upto)) &&
		TupleIsFrozen(relid, tid, xmin, cache))
		x = 0;
	PG_RETURN_BOOL(x >= since && x < upto);
}
