
-- Background jobs: job and run tables, the job API and the cohort-refresh job
-- (src/cron.c, src/jobs.c, src/worker.c; design in docs/jobs.md)

-- Every role may use the extension's objects (jobs are then limited by row level security).
GRANT USAGE ON SCHEMA retention TO PUBLIC;

-- Roles by OID (src/run_as.c): who is calling, and may that role run what another owns?
CREATE FUNCTION retention.current_role_id() RETURNS regrole
	AS 'MODULE_PATHNAME', 'current_role_id' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.current_role_id() IS
	'the current user as a regrole, by OID (the default owner of jobs and loyalty programs)';
CREATE FUNCTION retention.can_run_as(role regrole) RETURNS boolean
	AS 'MODULE_PATHNAME', 'can_run_as' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.can_run_as(regrole) IS
	'may the current user see, change and run what the role owns? (the role itself, roles that may SET ROLE to it, superusers)';

CREATE FUNCTION retention.next_run_time(schedule text, after timestamptz, timezone text DEFAULT 'UTC')
	RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'next_run_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.next_run_time(text, timestamptz, text) IS
	'the first time after "after" at which a job schedule (interval or five-field cron expression) fires, in the given time zone';
CREATE FUNCTION retention.schedule_is_cron(schedule text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'schedule_is_cron' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.schedule_is_cron(text) IS
	'true for a cron expression, false for an interval; an error for an invalid schedule';
CREATE FUNCTION retention.xmin_is_new(tableoid oid, ctid tid, xmin xid, since xid8, upto xid8) RETURNS boolean
	AS 'MODULE_PATHNAME', 'xmin_is_new' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.xmin_is_new(oid, tid, xid, xid8, xid8) IS
	'is a heap row''s inserting transaction in [since, upto)? (frozen rows count as transaction 0); the watermark test of incremental refreshes';

CREATE FUNCTION retention.new_rows(source anyelement, since xid8, upto xid8) RETURNS SETOF anyelement
	AS 'MODULE_PATHNAME', 'new_rows' LANGUAGE C STABLE ROWS 1000;
COMMENT ON FUNCTION retention.new_rows(anyelement, xid8, xid8) IS
	'rows of a plain heap table (source: NULL::table) inserted by transactions in [since, upto), frozen rows counting as old; skips all-frozen pages; the scan of incremental refreshes';

-- Can an incremental refresh go on from this watermark? Rows older than
-- vacuum_freeze_min_age may be frozen, which hides them from the xmin test (docs/jobs.md).
CREATE FUNCTION retention.watermark_usable(watermark xid8, upto xid8) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, retention, pg_temp
	RETURN watermark IS NOT NULL
		AND (upto::text::numeric - watermark::text::numeric) < current_setting('vacuum_freeze_min_age')::numeric;
COMMENT ON FUNCTION retention.watermark_usable(xid8, xid8) IS
	'internal: is a refresh watermark recent enough to find the rows inserted since (not older than vacuum_freeze_min_age)?';

-- Can the rows a source gains be told apart by their inserting transaction? Yes for plain and
-- partitioned tables that the current role reads without row level security in force; other
-- sources (views, foreign tables, tables read through policies) are read in full every time.
CREATE FUNCTION retention.source_tracks_rows(src regclass) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, retention, pg_temp
	RETURN (SELECT relkind IN ('r', 'p') FROM pg_class WHERE oid = src) AND NOT row_security_active(src);
COMMENT ON FUNCTION retention.source_tracks_rows(regclass) IS
	'internal: can a refresh find the rows a source gained since a watermark (a plain or partitioned table read without row level security in force)?';

-- How to read the rows of a plain or partitioned table src inserted by transactions in
-- [since, upto): the relation to scan (alias s) and the condition on it (for sources that
-- source_tracks_rows). A plain table is read by new_rows, the C scan that reads only what it
-- must (src/jobs.c), when since > 0; otherwise the table itself with xmin_is_new.
CREATE FUNCTION retention.new_rows_scan(src regclass, since xid8, upto xid8, OUT scan text, OUT filter text)
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
BEGIN
	IF since <> '0'::xid8 AND (SELECT relkind FROM pg_class WHERE oid = src) = 'r' THEN
		scan := format('retention.new_rows(NULL::%s, %L, %L)', src, since, upto);
		filter := 'true';
	ELSE
		scan := src::text;
		filter := format('retention.xmin_is_new(s.tableoid, s.ctid, s.xmin, %L, %L)', since, upto);
	END IF;
END $$;
COMMENT ON FUNCTION retention.new_rows_scan(regclass, xid8, xid8) IS
	'internal: the relation and condition that read the rows of a table inserted by transactions in [since, upto)';

-- Citus (docs/citus.md). A distributed table's rows are in shards on several nodes, each node
-- with its own transaction ids: a refresh keeps one watermark per node group holding shards,
-- taken on that node, and its scan of the source is filtered by xmin_is_new_on_node, which
-- Citus pushes down to the shards, where each node applies its own window.
CREATE FUNCTION retention.node_group() RETURNS int
	AS 'MODULE_PATHNAME', 'node_group' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.node_group() IS
	'this server''s Citus node group (pg_dist_local_group: 0 on the coordinator), NULL when Citus is not installed';
CREATE FUNCTION retention.xmin_is_new_on_node(tableoid oid, ctid tid, xmin xid, groups int[], since xid8[], upto xid8[])
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'xmin_is_new_on_node' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.xmin_is_new_on_node(oid, tid, xid, int[], xid8[], xid8[]) IS
	'xmin_is_new with the transaction window [since[i], upto[i]) of the Citus node group groups[i] that evaluates it; the watermark test of refreshes over distributed tables, pushed down to the shards';

-- How a Citus table's rows are laid out: kind is NULL for a table Citus does not manage,
-- 'distributed' when each shard has one placement (hash- or range-distributed, single-shard
-- and Citus local tables), 'replicated' otherwise (reference tables, replicated shards: a read
-- may go to any copy, each with transaction ids of its own node, so changes cannot be told
-- apart by xmin); layout is a digest of the placements (shard, placement, group) of the table
-- and its partitions, which changes when a shard moves, splits or is copied; groups are the
-- node groups holding placements.
CREATE FUNCTION retention.citus_layout(src regclass, OUT kind text, OUT layout text, OUT groups int[])
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
BEGIN
	IF retention.node_group() IS NULL THEN
		RETURN;
	END IF;
	-- dynamic SQL: Citus's catalogs exist only where Citus is installed
	EXECUTE 'WITH rels AS (SELECT t.relid FROM pg_catalog.pg_partition_tree($1) t UNION SELECT $1), '
			'pl AS (SELECT sh.shardid, p.placementid, p.groupid FROM pg_catalog.pg_dist_shard sh '
			'JOIN pg_catalog.pg_dist_placement p ON p.shardid = sh.shardid WHERE sh.logicalrelid IN (SELECT relid FROM rels)) '
			'SELECT CASE WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition d WHERE d.logicalrelid = $1) THEN NULL '
			'WHEN (SELECT max(c) FROM (SELECT count(*) AS c FROM pl GROUP BY shardid) x) > 1 THEN ''replicated'' '
			'ELSE ''distributed'' END, '
			'(SELECT md5(string_agg(format(''%s:%s:%s'', shardid, placementid, groupid), '','' ORDER BY shardid, placementid)) FROM pl), '
			'(SELECT array_agg(DISTINCT groupid ORDER BY groupid) FROM pl)'
		INTO kind, layout, groups USING src;
	IF kind IS NULL THEN
		layout := NULL;
		groups := NULL;
	END IF;
END $$;
COMMENT ON FUNCTION retention.citus_layout(regclass) IS
	'internal: is a table distributed by Citus with one placement per shard (distributed) or replicated, a digest of its shard placements and the node groups holding them (NULL kind: not a Citus table)';

-- An error for a Citus source whose changes cannot be tracked (citus_layout: replicated):
-- what ("job \"x\"") could only read it in full. creating: what is being created, rather than
-- refreshed incrementally.
CREATE FUNCTION retention.refuse_untracked_citus_source(src regclass, what text, creating boolean) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	detail text := 'It is a Citus reference table or has replicated shards: a read may go to any copy, and each copy''s rows carry the transaction ids of its own node.';
BEGIN
	IF (retention.citus_layout(src)).kind IS DISTINCT FROM 'replicated' THEN
		RETURN;
	ELSIF creating THEN
		RAISE EXCEPTION 'cannot create % over %: its changes cannot be tracked', what, src
			USING ERRCODE = 'feature_not_supported', DETAIL = detail,
			HINT = 'Make the source a distributed table with one placement per shard (create_distributed_table), or use a view of it as the source, which every refresh reads in full.';
	ELSE
		RAISE EXCEPTION 'cannot refresh % incrementally: the changes of % cannot be tracked', what, src
			USING ERRCODE = 'feature_not_supported', DETAIL = detail,
			HINT = 'Refresh with full_refresh => true, or make the source a distributed table with one placement per shard (create_distributed_table).';
	END IF;
END $$;
COMMENT ON FUNCTION retention.refuse_untracked_citus_source(regclass, text, boolean) IS
	'internal: an error when a source is a Citus table whose changes cannot be told apart (a reference table, replicated shards), for a job or program being created or refreshed incrementally';

-- An error on a Citus worker node (node group above 0), where the scheduler never runs:
-- what names the object that would never be scheduled there.
CREATE FUNCTION retention.refuse_on_worker(what text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
BEGIN
	IF retention.node_group() > 0 THEN
		RAISE EXCEPTION 'cannot create % on a Citus worker node', what USING ERRCODE = 'feature_not_supported',
			DETAIL = format('This node is in Citus node group %s; the scheduler runs jobs only on the coordinator (group 0).',
							retention.node_group()),
			HINT = 'Create it on the coordinator.';
	END IF;
END $$;
COMMENT ON FUNCTION retention.refuse_on_worker(text) IS
	'internal: an error on a Citus worker node, where the scheduler runs no jobs';

-- The watermark of this node for a refresh, run on each node by node_watermarks: its group,
-- the xmin of a new snapshot (every transaction below it has finished), and whether the
-- refresh can go on from this node's entry in old (a map group -> watermark) on this node.
CREATE FUNCTION retention.node_watermark(old jsonb) RETURNS jsonb
	LANGUAGE sql STABLE SET search_path = pg_catalog, retention, pg_temp
	RETURN (SELECT jsonb_build_object('group', g, 'upto', upto::text,
									  'usable', coalesce(retention.watermark_usable((old->>(g::text))::xid8, upto), false))
			FROM (SELECT retention.node_group() AS g, pg_snapshot_xmin(pg_current_snapshot()) AS upto) x);
COMMENT ON FUNCTION retention.node_watermark(jsonb) IS
	'internal: this node''s Citus group, the xmin of a new snapshot, and whether the old watermark of this group can be gone on from';

-- The watermarks of the node groups holding a distributed source's shards, each taken on its
-- node (run_command_on_all_nodes, as the current role), with the source's layout:
-- taken = {"layout": digest, "nodes": {group: watermark}}; usable: can a refresh go on from
-- old (same layout, every node's watermark usable)? An error when a node cannot answer.
CREATE FUNCTION retention.node_watermarks(src regclass, old jsonb, OUT taken jsonb, OUT usable boolean)
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	l record := retention.citus_layout(src);
	answers jsonb;
	failed text;
BEGIN
	EXECUTE 'SELECT jsonb_agg(CASE WHEN r.success THEN r.result::jsonb END), '
			'string_agg(CASE WHEN NOT r.success THEN format(''node %s: %s'', r.nodeid, r.result) END, ''; '') '
			'FROM pg_catalog.run_command_on_all_nodes($1) r'
		INTO answers, failed
		USING format('SELECT retention.node_watermark(%L)', coalesce(old->'nodes', '{}'));
	IF failed IS NOT NULL THEN
		RAISE EXCEPTION 'could not take the watermarks of the nodes of %', src USING ERRCODE = 'connection_failure',
			DETAIL = failed, HINT = 'A refresh over a distributed table reads each node''s transaction ids: every node must answer.';
	END IF;
	SELECT jsonb_build_object('layout', l.layout, 'nodes', jsonb_object_agg(a->>'group', a->'upto')),
		   coalesce(bool_and((a->>'usable')::boolean), false)
	INTO taken, usable
	FROM jsonb_array_elements(answers) a WHERE (a->>'group')::int = ANY (l.groups);
	IF EXISTS (SELECT FROM unnest(l.groups) g WHERE NOT taken->'nodes' ? g::text) THEN
		RAISE EXCEPTION 'could not take the watermarks of the nodes of %', src USING ERRCODE = 'connection_failure',
			DETAIL = 'No active node answered for a group holding some of its shards.',
			HINT = 'A refresh over a distributed table reads each node''s transaction ids: every node must answer.';
	END IF;
	usable := usable AND old->>'layout' IS NOT DISTINCT FROM l.layout AND old IS NOT NULL;
END $$;
COMMENT ON FUNCTION retention.node_watermarks(regclass, jsonb) IS
	'internal: the watermarks of the Citus nodes holding a distributed source''s shards, each taken on its node, and whether a refresh can go on from the old ones';

-- What a refresh of a job or program reads from its source, and the watermark it leaves:
--   a plain or partitioned table (source_tracks_rows): one watermark, new_watermark, this
--     server's snapshot xmin, and the scan of new_rows_scan;
--   a distributed Citus table read without row level security in force: one watermark per
--     node group, new_node_watermarks (node_watermarks), and the source filtered by
--     xmin_is_new_on_node;
--   a replicated Citus table (reference tables, replicated shards): its changes cannot be
--     told apart, so only a full refresh (want_incremental false) may read it, in full;
--   other sources (views, foreign tables, tables read through policies, distributed ones
--     too): read in full.
-- incremental: want_incremental and the stored watermark(s) can be gone on from; then the
-- rows read are those of transactions from the stored watermark on, else all rows; up to the
-- new watermark, or, with open_end, up to the newest (rows read again later are harmless to
-- a caller that replays). Watermarks are transaction ids of the cluster they were taken in:
-- new_node_watermarks records its system identifier ("system"), and a watermark taken in
-- another cluster (a restored dump, a pg_upgrade) is never gone on from.
CREATE FUNCTION retention.source_changes(src regclass, watermark xid8, node_watermarks jsonb,
	want_incremental boolean, open_end boolean, what text,
	OUT incremental boolean, OUT scan text, OUT filter text, OUT new_watermark xid8, OUT new_node_watermarks jsonb)
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	kind text := (retention.citus_layout(src)).kind;
	usable boolean;
	top xid8 := '18446744073709551615';
	here jsonb := jsonb_build_object('system', (SELECT system_identifier FROM pg_control_system())::text);
	same_cluster boolean := node_watermarks->>'system' IS NOT DISTINCT FROM here->>'system';
BEGIN
	incremental := false;
	scan := src::text;
	filter := 'true';
	new_node_watermarks := here;
	IF kind = 'distributed' AND NOT row_security_active(src) THEN
		SELECT x.taken || here, x.usable INTO new_node_watermarks, usable FROM retention.node_watermarks(src, node_watermarks) x;
		incremental := want_incremental AND usable AND same_cluster;
		filter := (SELECT format('retention.xmin_is_new_on_node(s.tableoid, s.ctid, s.xmin, %L::int[], %L::xid8[], %L::xid8[])',
								 array_agg(g::int ORDER BY g::int),
								 array_agg(CASE WHEN incremental THEN (node_watermarks->'nodes'->>g)::xid8 ELSE '0' END ORDER BY g::int),
								 array_agg(CASE WHEN open_end THEN top ELSE u::xid8 END ORDER BY g::int))
				   FROM jsonb_each_text(new_node_watermarks->'nodes') n(g, u));
	ELSIF kind = 'replicated' THEN
		IF want_incremental THEN
			PERFORM retention.refuse_untracked_citus_source(src, what, false);
		END IF;
	ELSIF retention.source_tracks_rows(src) THEN
		new_watermark := pg_snapshot_xmin(pg_current_snapshot());
		incremental := want_incremental AND retention.watermark_usable(watermark, new_watermark) AND same_cluster;
		SELECT x.scan, x.filter INTO scan, filter
		FROM retention.new_rows_scan(src, CASE WHEN incremental THEN watermark ELSE '0' END,
									 CASE WHEN open_end THEN top ELSE new_watermark END) x;
	END IF;
END $$;
COMMENT ON FUNCTION retention.source_changes(regclass, xid8, jsonb, boolean, boolean, text) IS
	'internal: how a refresh reads its source (all rows, or those added since the stored watermark or per-node watermarks) and the watermark(s) it leaves; an error for an incremental refresh of a Citus source whose changes cannot be tracked';

CREATE TABLE retention.jobs (
	job_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	job_name text NOT NULL CHECK (job_name <> ''),
	job_type text NOT NULL CHECK (job_type IN ('cohort_refresh', 'loyalty_refresh')),
	owner regrole NOT NULL DEFAULT retention.current_role_id(),
	schedule text NOT NULL,
	timezone text NOT NULL DEFAULT 'UTC',
	enabled boolean NOT NULL DEFAULT true,
	config jsonb NOT NULL,
	next_run timestamptz,
	watermark xid8,
	last_refresh timestamptz,
	last_run_id bigint,
	last_status text,
	consecutive_failures int NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	node_watermarks jsonb,
	UNIQUE (owner, job_name)
);
COMMENT ON TABLE retention.jobs IS
	'pg_retention background jobs, one row per job; manage them with create_cohort_job, alter_job, pause_job, resume_job, drop_job, run_job';
COMMENT ON COLUMN retention.jobs.owner IS 'the role the job runs as (its creator); job names are unique per owner';
COMMENT ON COLUMN retention.jobs.schedule IS 'an interval (''15 minutes'') or a five-field cron expression (''*/15 * * * *'')';
COMMENT ON COLUMN retention.jobs.timezone IS 'the time zone the cron expression and calendar intervals are read in';
COMMENT ON COLUMN retention.jobs.config IS 'job parameters: source, columns, period kind, target tables, cohort mode';
COMMENT ON COLUMN retention.jobs.next_run IS 'when the scheduler runs the job next (after a failure: the retry time)';
COMMENT ON COLUMN retention.jobs.watermark IS 'source rows inserted by transactions below this id are in the targets; NULL until the first refresh';
COMMENT ON COLUMN retention.jobs.node_watermarks IS
	'where the watermarks were taken: the system identifier of the cluster ({"system": ...}; a watermark of another cluster, after a restore, is not gone on from) and, for a source distributed by Citus, the watermark of each node group holding its shards, taken on that node, and a digest of the shard placements ({"layout": ..., "nodes": {group: id}})';
COMMENT ON COLUMN retention.jobs.consecutive_failures IS 'failed runs since the last successful one (drives the retry back-off)';

CREATE TABLE retention.job_runs (
	run_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	job_id bigint NOT NULL REFERENCES retention.jobs ON DELETE CASCADE,
	owner regrole NOT NULL,
	trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
	status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
	started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished_at timestamptz,
	rows bigint,
	sqlstate text,
	message text
);
CREATE INDEX ON retention.job_runs (job_id, run_id);
COMMENT ON SEQUENCE retention.jobs_job_id_seq IS 'numbers retention.jobs';
COMMENT ON SEQUENCE retention.job_runs_run_id_seq IS 'numbers retention.job_runs';
CREATE INDEX ON retention.job_runs (status) WHERE status = 'running';
COMMENT ON TABLE retention.job_runs IS
	'one row per run of a pg_retention job: start, end, status (running, succeeded, failed), rows changed, error';
COMMENT ON COLUMN retention.job_runs.rows IS 'rows written to the job''s target tables (inserted, updated or deleted)';

-- Each role sees and changes the jobs of the roles it may become (its own), superusers all;
-- run rows are written only by the extension's own functions (job_run_start, job_run_finish).
ALTER TABLE retention.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention.job_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY jobs_owner ON retention.jobs
	USING (retention.can_run_as(owner)) WITH CHECK (retention.can_run_as(owner));
CREATE POLICY job_runs_owner ON retention.job_runs FOR SELECT
	USING (retention.can_run_as(owner));
GRANT SELECT, INSERT, UPDATE, DELETE ON retention.jobs TO PUBLIC;
GRANT SELECT ON retention.job_runs TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('retention.jobs', '');
SELECT pg_catalog.pg_extension_config_dump('retention.job_runs', '');
SELECT pg_catalog.pg_extension_config_dump('retention.jobs_job_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('retention.job_runs_run_id_seq', '');

-- The row of a job the current role may see, locked when lock is true: its own job of that
-- name, else the only visible one; an error when there is none or several.
CREATE FUNCTION retention.job_lookup(job_name text, lock boolean DEFAULT false)
	RETURNS retention.jobs
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	j retention.jobs;
	others text;
BEGIN
	SELECT * INTO j FROM retention.jobs x WHERE x.job_name = job_lookup.job_name
		AND x.owner = retention.current_role_id();
	IF NOT FOUND THEN
		SELECT string_agg(x.owner::text, ', ' ORDER BY x.owner::text) INTO others
		FROM retention.jobs x WHERE x.job_name = job_lookup.job_name;
		IF others LIKE '%, %' THEN
			RAISE EXCEPTION 'job name "%" is ambiguous', job_name USING ERRCODE = 'ambiguous_parameter',
				DETAIL = format('Roles %s each own a job of that name.', others),
				HINT = 'Run it as its owner (SET ROLE).';
		END IF;
		SELECT * INTO j FROM retention.jobs x WHERE x.job_name = job_lookup.job_name;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'job "%" does not exist', job_name USING ERRCODE = 'undefined_object',
				HINT = 'Jobs are listed in retention.jobs; a role sees the jobs of the roles it may become.';
		END IF;
	END IF;
	IF lock THEN
		SELECT * INTO j FROM retention.jobs x WHERE x.job_id = j.job_id FOR UPDATE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'job "%" does not exist', job_name USING ERRCODE = 'undefined_object';
		END IF;
	END IF;
	RETURN j;
END $$;
COMMENT ON FUNCTION retention.job_lookup(text, boolean) IS
	'internal: the row of a job the current role may see, optionally locked; an error when there is none';

-- The row of a job locked by its refresh, which runs as the job's owner: an error when the job
-- was dropped or given to another role since the refresh began.
CREATE FUNCTION retention.job_lock_as_owner(job_id bigint) RETURNS retention.jobs
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	j retention.jobs;
BEGIN
	SELECT * INTO j FROM retention.jobs x WHERE x.job_id = job_lock_as_owner.job_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'undefined_object';
	ELSIF j.owner <> retention.current_role_id() THEN
		RAISE EXCEPTION 'job "%" changed owner during its refresh', j.job_name
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Run it again.';
	END IF;
	RETURN j;
END $$;
COMMENT ON FUNCTION retention.job_lock_as_owner(bigint) IS
	'internal: lock the row of the job being refreshed as its owner (an error when it was dropped or changed owner)';

-- A table that a job or a loyalty program creates, named as the caller gave it (possibly
-- schema-qualified), quoted and qualified: an unqualified name goes into schema, where the
-- caller's CREATE TABLE would have put it. what names the table in errors.
CREATE FUNCTION retention.target_table_name(name text, what text, schema name) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	parts text[];
BEGIN
	IF name IS NULL OR name = '' THEN
		RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'invalid_parameter_value';
	END IF;
	parts := pg_catalog.parse_ident(name);
	IF cardinality(parts) > 2 THEN
		RAISE EXCEPTION 'improper % name (too many dotted names): %', what, name
			USING ERRCODE = 'syntax_error';
	END IF;
	IF cardinality(parts) = 1 THEN
		IF schema IS NULL THEN
			RAISE EXCEPTION 'no schema has been selected to create in' USING ERRCODE = 'invalid_schema_name',
				HINT = format('Qualify the %s''s name, or put an existing schema on search_path.', what);
		END IF;
		parts := ARRAY[schema::text, parts[1]];
	END IF;
	IF parts[1] = 'pg_temp' OR parts[1] ~ '^pg_(toast_)?temp_[0-9]+$' THEN
		RAISE EXCEPTION 'the % cannot be a temporary table', what USING ERRCODE = 'feature_not_supported',
			DETAIL = 'Jobs and loyalty programs run in other sessions, which cannot see it.';
	END IF;
	RETURN format('%I.%I', parts[1], parts[2]);
END $$;
COMMENT ON FUNCTION retention.target_table_name(text, text, name) IS
	'internal: a table that a job or program creates, quoted and qualified (unqualified names go into the given schema)';

-- A column of a job's source: its type and its type's SQL name, or an error.
CREATE FUNCTION retention.job_column(source regclass, col text, OUT typ regtype, OUT typname text)
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
BEGIN
	SELECT a.atttypid, format_type(a.atttypid, a.atttypmod) INTO typ, typname FROM pg_attribute a
	WHERE a.attrelid = source AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', col, source
			USING ERRCODE = 'undefined_column';
	END IF;
END $$;
COMMENT ON FUNCTION retention.job_column(regclass, text) IS
	'internal: type of a column of a job''s source; an error when there is no such column';

-- create_cohort_job's work; unqualified target names go into schema (create_cohort_job passes
-- the caller's current schema, which the pinned search_path here cannot see).
CREATE FUNCTION retention.create_cohort_job_in(schema name,
	job_name text, source regclass, customer_column text, time_column text, amount_column text,
	period_kind text, activity_table text, cohort_table text, schedule text,
	timezone text, mode text, targets text)
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	src_kind "char";
	src_name text;
	cust_type text;
	time_type regtype;
	amount_type regtype;
	act_name text;
	coh_name text;
	id bigint;
	next timestamptz;
BEGIN
	IF job_name IS NULL OR job_name = '' THEN
		RAISE EXCEPTION 'job name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM retention.refuse_on_worker(format('job "%s"', job_name));
	IF source IS NULL OR customer_column IS NULL OR time_column IS NULL OR period_kind IS NULL
		OR schedule IS NULL OR timezone IS NULL OR mode IS NULL OR targets IS NULL THEN
		RAISE EXCEPTION 'only amount_column may be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF EXISTS (SELECT FROM retention.jobs j WHERE j.job_name = create_cohort_job_in.job_name
			   AND j.owner = retention.current_role_id()) THEN
		RAISE EXCEPTION 'job "%" already exists', job_name USING ERRCODE = 'duplicate_object';
	END IF;

	SELECT c.relkind, format('%I.%I', n.nspname, c.relname) INTO src_kind, src_name
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = source;
	IF src_kind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
		RAISE EXCEPTION '"%" is not a table or view', source USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT has_table_privilege(source, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', source USING ERRCODE = 'insufficient_privilege',
			DETAIL = 'A job reads its source with the privileges of the role that creates it.';
	END IF;
	PERFORM retention.refuse_untracked_citus_source(source, format('job "%s"', job_name), true);

	cust_type := (retention.job_column(source, customer_column)).typname;
	time_type := (retention.job_column(source, time_column)).typ;
	IF time_type NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
		RAISE EXCEPTION 'time column "%" is of type %', time_column, time_type
			USING ERRCODE = 'datatype_mismatch', HINT = 'Use a date, timestamp or timestamptz column.';
	END IF;
	IF amount_column IS NOT NULL THEN
		amount_type := (retention.job_column(source, amount_column)).typ;
		IF amount_type NOT IN ('numeric'::regtype, 'smallint'::regtype, 'integer'::regtype,
							   'bigint'::regtype, 'real'::regtype, 'double precision'::regtype) THEN
			RAISE EXCEPTION 'amount column "%" is of type %', amount_column, amount_type
				USING ERRCODE = 'datatype_mismatch', HINT = 'Use a numeric, integer or floating-point column.';
		END IF;
	END IF;

	PERFORM retention.customer_period(now(), period_kind, 'UTC');	-- validates the kind
	IF mode NOT IN ('on', 'on_or_after') THEN
		RAISE EXCEPTION 'invalid cohort mode "%"', mode USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use ''on'' (active in exactly that period) or ''on_or_after'' (active in it or any later one).';
	END IF;
	next := retention.next_run_time(schedule, now(), timezone);	-- validates schedule and time zone
	IF targets NOT IN ('local', 'distributed') THEN
		RAISE EXCEPTION 'invalid targets "%"', targets USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use ''local'' (tables on this node) or ''distributed'' (under Citus: the activity table distributed with the source, the cohort table a reference table).';
	END IF;
	IF targets = 'distributed' AND (retention.citus_layout(source)).kind IS DISTINCT FROM 'distributed' THEN
		RAISE EXCEPTION 'distributed targets need a source distributed by Citus, "%" is not one', source
			USING ERRCODE = 'feature_not_supported',
			HINT = 'Distribute the source with create_distributed_table, or use targets => ''local''.';
	END IF;

	act_name := retention.target_table_name(activity_table, 'activity table', schema);
	coh_name := retention.target_table_name(cohort_table, 'cohort table', schema);
	IF to_regclass(act_name) IS NOT NULL OR to_regclass(coh_name) IS NOT NULL THEN
		RAISE EXCEPTION 'relation "%" already exists',
			CASE WHEN to_regclass(act_name) IS NOT NULL THEN activity_table ELSE cohort_table END
			USING ERRCODE = 'duplicate_table',
			HINT = 'A cohort job creates its target tables: choose new names or drop the old tables.';
	END IF;
	IF act_name = coh_name THEN
		RAISE EXCEPTION 'activity and cohort tables must differ' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- free space on every page lets incremental updates be HOT (no index insertion)
	EXECUTE format('CREATE TABLE %s (%I %s PRIMARY KEY, activity retention.customer_activity NOT NULL) '
				   'WITH (fillfactor = 80)', act_name, customer_column, cust_type);
	EXECUTE format('CREATE TABLE %s (cohort retention.customer_period NOT NULL, age int NOT NULL, '
				   'cohort_size bigint NOT NULL, customers bigint NOT NULL, retention numeric NOT NULL, '
				   'revenue numeric NOT NULL, PRIMARY KEY (cohort, age))', coh_name);
	EXECUTE format('COMMENT ON TABLE %s IS %L', act_name,
				   format('per-customer activity kept by pg_retention job %s', job_name));
	EXECUTE format('COMMENT ON TABLE %s IS %L', coh_name,
				   format('cohort table kept by pg_retention job %s', job_name));
	IF targets = 'distributed' THEN
		-- the activity table sharded like the source (its merge with the new rows runs on the
		-- shards), the small cohort table copied to every node
		EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)'
			USING act_name::regclass, customer_column, source::text;
		EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING coh_name::regclass;
	END IF;

	INSERT INTO retention.jobs (job_name, job_type, schedule, timezone, config, next_run)
	VALUES (job_name, 'cohort_refresh', schedule, timezone,
			jsonb_build_object('source', src_name, 'customer_column', customer_column,
							   'time_column', time_column, 'amount_column', amount_column,
							   'period_kind', period_kind, 'activity_table', act_name,
							   'cohort_table', coh_name, 'mode', mode),
			next)
	RETURNING job_id INTO id;
	RETURN id;
END $$;
COMMENT ON FUNCTION retention.create_cohort_job_in(name, text, regclass, text, text, text, text, text, text, text, text, text, text) IS
	'internal: create_cohort_job with the schema that unqualified target names go into';

-- A body bound at creation (no search_path lookups at call time) that passes the caller's
-- current schema on.
CREATE FUNCTION retention.create_cohort_job(
	job_name text, source regclass, customer_column text, time_column text, amount_column text,
	period_kind text, activity_table text, cohort_table text, schedule text,
	timezone text DEFAULT 'UTC', mode text DEFAULT 'on', targets text DEFAULT 'local')
	RETURNS bigint LANGUAGE sql
	RETURN retention.create_cohort_job_in(pg_catalog.current_schema(), job_name, source, customer_column,
		time_column, amount_column, period_kind, activity_table, cohort_table, schedule, timezone, mode, targets);
COMMENT ON FUNCTION retention.create_cohort_job(text, regclass, text, text, text, text, text, text, text, text, text, text) IS
	'create a cohort-refresh job: creates the activity and cohort tables (unqualified names in the current schema; targets => ''distributed'' under Citus: the activity table colocated with the distributed source, the cohort table a reference table), which the job keeps fresh from the source on the schedule; the job runs as the calling role';

CREATE FUNCTION retention.alter_job(job_name text, schedule text DEFAULT NULL, timezone text DEFAULT NULL,
	enabled boolean DEFAULT NULL, new_name text DEFAULT NULL)
	RETURNS retention.jobs
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	j retention.jobs := retention.job_lookup(job_name, true);
BEGIN
	IF new_name = '' THEN
		RAISE EXCEPTION 'job name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF new_name IS NOT NULL AND new_name <> j.job_name
		AND EXISTS (SELECT FROM retention.jobs x WHERE x.job_name = new_name AND x.owner = j.owner) THEN
		RAISE EXCEPTION 'job "%" already exists', new_name USING ERRCODE = 'duplicate_object';
	END IF;
	j.schedule := coalesce(schedule, j.schedule);
	j.timezone := coalesce(timezone, j.timezone);
	IF schedule IS NOT NULL OR timezone IS NOT NULL OR (enabled AND NOT j.enabled) THEN
		j.next_run := retention.next_run_time(j.schedule, now(), j.timezone);
	END IF;
	UPDATE retention.jobs x
	SET job_name = coalesce(new_name, x.job_name), schedule = j.schedule, timezone = j.timezone,
		enabled = coalesce(alter_job.enabled, x.enabled), next_run = j.next_run
	WHERE x.job_id = j.job_id
	RETURNING * INTO j;
	RETURN j;
END $$;
COMMENT ON FUNCTION retention.alter_job(text, text, text, boolean, text) IS
	'change a job''s schedule, time zone, enabled flag or name (NULL: unchanged); returns the job row';

CREATE FUNCTION retention.pause_job(job_name text) RETURNS retention.jobs
	LANGUAGE sql SET search_path = pg_catalog, retention, pg_temp
	RETURN retention.alter_job(job_name, enabled => false);
COMMENT ON FUNCTION retention.pause_job(text) IS 'stop scheduling a job (run_job still runs it)';
CREATE FUNCTION retention.resume_job(job_name text) RETURNS retention.jobs
	LANGUAGE sql SET search_path = pg_catalog, retention, pg_temp
	RETURN retention.alter_job(job_name, enabled => true);
COMMENT ON FUNCTION retention.resume_job(text) IS 'schedule a paused job again, from now';

-- Drop the named tables that exist and that owner owns; warn about the others. Job and
-- program configs are editable by their owners, so a config must not lead a superuser to drop
-- somebody else's table. what names the owner in the warning ("job", "program").
CREATE FUNCTION retention.drop_owned_tables(tables text[], owner regrole, what text) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY tables LOOP
		IF t IS NULL OR to_regclass(t) IS NULL THEN
			CONTINUE;
		ELSIF (SELECT relowner FROM pg_class WHERE oid = to_regclass(t)) <> owner THEN
			RAISE WARNING 'table % is not owned by the %''s owner and was not dropped', t, what;
		ELSE
			EXECUTE format('DROP TABLE %s', t);
		END IF;
	END LOOP;
END $$;
COMMENT ON FUNCTION retention.drop_owned_tables(text[], regrole, text) IS
	'drop those of the named tables that the given role owns (drop_job, drop_loyalty_program)';

CREATE FUNCTION retention.drop_job(job_name text, drop_tables boolean DEFAULT false) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	j retention.jobs := retention.job_lookup(job_name, true);
BEGIN
	DELETE FROM retention.jobs WHERE job_id = j.job_id;
	IF drop_tables THEN
		PERFORM retention.drop_owned_tables(ARRAY[j.config->>'activity_table', j.config->>'cohort_table'], j.owner, 'job');
	END IF;
END $$;
COMMENT ON FUNCTION retention.drop_job(text, boolean) IS
	'delete a job and its run history; with drop_tables, drop its target tables too';

-- The refresh of a cohort job, run as the job's owner in a security-restricted operation by
-- refresh_cohort_job and by job runs (src/job_run.c); not executable by PUBLIC.
CREATE FUNCTION retention.refresh_cohort_job_as_owner(job_id bigint, full_refresh boolean, now timestamptz)
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp SET client_min_messages = warning AS $$
DECLARE
	j retention.jobs := retention.job_lock_as_owner(job_id);	-- serializes refreshes of one job
	job_name text := j.job_name;
	c jsonb := j.config;
	src regclass;
	act regclass;
	coh regclass;
	cust text := c->>'customer_column';
	upto xid8;
	node_upto jsonb;
	filter text;
	scan text;
	period text;
	agg text;
	incremental boolean;
	n bigint;
	written bigint := 0;
	g_old retention.customer_period;
	g_new retention.customer_period;
	st_after retention.cohort_state;
	st_before retention.cohort_state;
	jit_setting text;
BEGIN
	IF full_refresh IS NULL OR now IS NULL THEN
		RAISE EXCEPTION 'full_refresh and now must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF j.job_type <> 'cohort_refresh' THEN
		RAISE EXCEPTION 'job "%" is not a cohort-refresh job', job_name USING ERRCODE = 'wrong_object_type';
	END IF;
	src := to_regclass(c->>'source');
	act := to_regclass(c->>'activity_table');
	coh := to_regclass(c->>'cohort_table');
	IF src IS NULL OR act IS NULL OR coh IS NULL THEN
		RAISE EXCEPTION 'relation "%" of job "%" does not exist',
			CASE WHEN src IS NULL THEN c->>'source' WHEN act IS NULL THEN c->>'activity_table'
				 ELSE c->>'cohort_table' END, job_name
			USING ERRCODE = 'undefined_table',
			HINT = 'Recreate the table, or drop the job and create it again.';
	END IF;

	-- Every transaction below upto (on a distributed source: below each node's entry of
	-- node_upto, taken on that node) has finished, so the rows it inserted are visible from
	-- the next statement on; rows of later transactions are left for the next refresh. Views
	-- and the like: always a full rebuild of every row.
	SELECT x.incremental, x.scan, x.filter, x.new_watermark, x.new_node_watermarks
	INTO incremental, scan, filter, upto, node_upto
	FROM retention.source_changes(src, j.watermark, j.node_watermarks, NOT full_refresh, false,
								  format('job "%s"', job_name)) x;
	IF (SELECT atttypid FROM pg_attribute WHERE attrelid = src AND attname = c->>'time_column'
		AND NOT attisdropped) = 'timestamptz'::regtype THEN
		period := format('retention.customer_period(s.%I, %L, %L)', c->>'time_column', c->>'period_kind', j.timezone);
	ELSE
		period := format('retention.customer_period(s.%I, %L)', c->>'time_column', c->>'period_kind');
	END IF;
	IF c->>'amount_column' IS NULL THEN
		agg := format('retention.activity_agg(%s)', period);
	ELSE
		-- a NULL amount counts as an order without revenue
		agg := format('retention.activity_agg(%s, coalesce(s.%I::numeric, 0))', period, c->>'amount_column');
	END IF;

	IF NOT incremental THEN
		-- full rebuild: plain DELETE and INSERT, so readers keep the old rows until commit
		EXECUTE format('DELETE FROM %s', act);
		GET DIAGNOSTICS n = ROW_COUNT;
		written := written + n;
		EXECUTE format('INSERT INTO %6$s (%1$I, activity) SELECT s.%1$I, %2$s FROM %3$s s '
					   'WHERE s.%1$I IS NOT NULL AND s.%4$I IS NOT NULL AND %5$s GROUP BY s.%1$I',
					   cust, agg, coalesce(scan, src::text), c->>'time_column', filter, act);
		GET DIAGNOSTICS n = ROW_COUNT;
		written := written + n;
		EXECUTE format('DELETE FROM %s', coh);
		GET DIAGNOSTICS n = ROW_COUNT;
		written := written + n;
		EXECUTE format('INSERT INTO %s (cohort, age, cohort_size, customers, retention, revenue) '
					   'SELECT t.cohort, t.age, t.cohort_size, t.customers, t.retention, t.revenue '
					   'FROM retention.cohort_table((SELECT retention.cohort_agg(activity) FROM %s), %L) t',
					   coh, act, c->>'mode');
		GET DIAGNOSTICS n = ROW_COUNT;
		written := written + n;
	ELSE
		-- The incremental statements' row estimates come from set-returning functions and
		-- are mostly defaults, so the planner may think them big enough to compile them
		-- (JIT), which can take longer than running them: not here (restored below).
		jit_setting := current_setting('jit');
		PERFORM set_config('jit', 'off', true);
		-- One statement: the new rows aggregated per customer (b, in key order, so that
		-- index and heap are visited in order); known customers' activities merged with
		-- theirs in place (u, which returns both the new activity and the batch's part);
		-- the other customers inserted (i); and the cohort states of the changed
		-- customers' activities after and before the batch (before = after minus the
		-- batch's part: activity_subtract inverts activity_merge). Refreshes of a job
		-- are serialized by the lock on its row, so nothing else inserts customers
		-- between u and i.
		EXECUTE format('WITH b AS MATERIALIZED (SELECT s.%1$I AS customer, %2$s AS activity FROM %3$s s '
					   'WHERE s.%1$I IS NOT NULL AND s.%4$I IS NOT NULL AND %5$s GROUP BY s.%1$I ORDER BY s.%1$I), '
					   'u AS (UPDATE %6$s t SET activity = retention.activity_merge(t.activity, b.activity) '
					   'FROM b WHERE t.%1$I = b.customer RETURNING t.%1$I AS customer, t.activity AS after, '
					   'b.activity AS added), '
					   'i AS (INSERT INTO %6$s (%1$I, activity) SELECT customer, activity FROM b '
					   'WHERE NOT EXISTS (SELECT FROM u WHERE u.customer = b.customer) RETURNING activity) '
					   'SELECT count(*), retention.cohort_agg(after), '
					   'retention.cohort_agg(retention.activity_subtract(after, added)), '
					   'max(retention.last_period(after)) '
					   'FROM (SELECT after, added FROM u UNION ALL SELECT activity, NULL FROM i) c',
					   cust, agg, coalesce(scan, src::text), c->>'time_column', filter, act)
			INTO n, st_after, st_before, g_new;
		written := written + n;
	END IF;

	IF incremental AND n > 0 THEN
		-- The last period the cohort table covers: every cohort has rows up to it, so it
		-- is the last age of the last cohort (a step back along the primary key). It grows
		-- when customers are active in a later period, and every cohort then gets rows
		-- for the new ages.
		EXECUTE format('SELECT cohort + age FROM %s ORDER BY cohort DESC, age DESC LIMIT 1', coh) INTO g_old;
		IF g_new IS NULL OR g_old > g_new THEN
			g_new := g_old;
		END IF;
		-- One statement: the changed cells (d, from the two cohort states); the cohorts with
		-- changes (s), with the change of their size and their new size; their new rows (n):
		-- every age up to the last period for a cohort whose size changes (each retention
		-- share changes; old cells are read with one range scan per such cohort), only the
		-- changed cells for the others; when the covered range grows, the new ages of
		-- cohorts of unchanged size that have no change there (zero customers and revenue:
		-- none of their customers is active after the old last period, or that would be a
		-- change). Then the rows of cohorts left empty (their customers moved to an earlier
		-- cohort because of a late row) are deleted and changed or new rows written. Cells
		-- without changes are not read, except the age-0 ones when the range grows.
		EXECUTE format('WITH d AS MATERIALIZED (SELECT * FROM retention.cohort_table_diff($1, $2, %2$L)), '
					   's AS MATERIALIZED (SELECT x.cohort, x.dsize, coalesce(o.cohort_size, 0) + x.dsize AS size '
					   'FROM (SELECT DISTINCT cohort, cohort_size AS dsize FROM d) x '
					   'LEFT JOIN %1$s o ON o.cohort = x.cohort AND o.age = 0), '
					   'n AS MATERIALIZED (SELECT s.cohort, c.age, s.size AS cohort_size, '
					   'coalesce(c.customers, 0) + coalesce(d.customers, 0) AS customers, '
					   'coalesce(c.revenue, 0) + coalesce(d.revenue, 0) AS revenue '
					   'FROM s CROSS JOIN LATERAL (SELECT a.age, o.customers, o.revenue '
					   'FROM generate_series(0, %3$L::retention.customer_period - s.cohort) a(age) '
					   'LEFT JOIN %1$s o ON o.cohort = s.cohort AND o.age = a.age OFFSET 0) c '
					   'LEFT JOIN d ON d.cohort = s.cohort AND d.age = c.age '
					   'WHERE s.dsize <> 0 AND s.size > 0 '
					   'UNION ALL SELECT d.cohort, d.age, s.size, coalesce(o.customers, 0) + d.customers, '
					   'coalesce(o.revenue, 0) + d.revenue FROM d JOIN s ON s.cohort = d.cohort AND s.dsize = 0 '
					   'LEFT JOIN %1$s o ON o.cohort = d.cohort AND o.age = d.age '
					   'UNION ALL SELECT o.cohort, a.age, o.cohort_size, 0, 0 FROM %1$s o '
					   'CROSS JOIN LATERAL generate_series(%4$L::retention.customer_period - o.cohort + 1, '
					   '%3$L::retention.customer_period - o.cohort) a(age) '
					   'WHERE %5$L AND o.age = 0 '
					   'AND NOT EXISTS (SELECT FROM s WHERE s.cohort = o.cohort AND s.dsize <> 0) '
					   'AND NOT EXISTS (SELECT FROM d WHERE d.cohort = o.cohort AND d.age = a.age)), '
					   'del AS (DELETE FROM %1$s o USING s WHERE o.cohort = s.cohort AND s.size = 0 RETURNING 1), '
					   'ins AS (INSERT INTO %1$s AS o (cohort, age, cohort_size, customers, retention, revenue) '
					   'SELECT cohort, age, cohort_size, customers, round(customers::numeric / cohort_size, 4), '
					   'round(revenue, greatest(scale(trim_scale(revenue)), 2)) FROM n '
					   'ON CONFLICT (cohort, age) DO UPDATE SET cohort_size = excluded.cohort_size, '
					   'customers = excluded.customers, retention = excluded.retention, revenue = excluded.revenue '
					   'WHERE (o.cohort_size, o.customers, o.revenue) IS DISTINCT FROM '
					   '(excluded.cohort_size, excluded.customers, excluded.revenue) RETURNING 1) '
					   'SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM ins)',
					   coh, c->>'mode', g_new, g_old, g_old IS DISTINCT FROM g_new)
			USING st_after, st_before INTO n;
		written := written + n;
	END IF;
	IF incremental THEN
		PERFORM set_config('jit', jit_setting, true);
	END IF;

	UPDATE retention.jobs x SET watermark = upto, node_watermarks = node_upto,
		last_refresh = refresh_cohort_job_as_owner.now
	WHERE x.job_id = j.job_id;
	RETURN written;
END $$;
COMMENT ON FUNCTION retention.refresh_cohort_job_as_owner(bigint, boolean, timestamptz) IS
	'internal: the refresh of a cohort job, run as its owner in a security-restricted operation by refresh_cohort_job and job runs';

CREATE FUNCTION retention.refresh_cohort_job(job_name text, full_refresh boolean DEFAULT false, now timestamptz DEFAULT now())
	RETURNS bigint AS 'MODULE_PATHNAME', 'refresh_cohort_job' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.refresh_cohort_job(text, boolean, timestamptz) IS
	'refresh a cohort job''s tables in the calling transaction, as the job''s owner: only source rows added since the last refresh (full_refresh: all rows); returns the rows written';

-- Runs of jobs. Their rows are written only by job_run_start and job_run_finish, which run as
-- the extension's owner and which no user may call: src/job_run.c calls them for run_job and
-- job_execute (the scheduler's), after checking who may run the job.
CREATE FUNCTION retention.job_run_start(job_id bigint, trigger text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	id bigint;
BEGIN
	INSERT INTO retention.job_runs (job_id, owner, trigger, status)
	SELECT j.job_id, j.owner, job_run_start.trigger, 'running' FROM retention.jobs j
	WHERE j.job_id = job_run_start.job_id
	RETURNING run_id INTO id;
	IF id IS NULL THEN
		RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'undefined_object';
	END IF;
	-- keep the latest 1000 runs of each job
	DELETE FROM retention.job_runs x WHERE x.job_id = job_run_start.job_id AND x.run_id <=
		(SELECT y.run_id FROM retention.job_runs y WHERE y.job_id = job_run_start.job_id
		 ORDER BY y.run_id DESC OFFSET 1000 LIMIT 1);
	RETURN id;
END $$;
COMMENT ON FUNCTION retention.job_run_start(bigint, text) IS
	'internal: record a running run of a job (trigger: schedule or manual) and prune its runs beyond the latest 1000; returns the run id';

-- Record the end of a running run: succeeded with rows, or (sqlstate not NULL) failed with its
-- error; a failed scheduled run retries after a back-off of 10 s doubling up to 1 hour.
CREATE FUNCTION retention.job_run_finish(run_id bigint, rows bigint, sqlstate text, message text, scheduled boolean)
	RETURNS retention.job_runs
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	r retention.job_runs;
	failed boolean := sqlstate IS NOT NULL;
BEGIN
	UPDATE retention.job_runs x SET status = CASE WHEN failed THEN 'failed' ELSE 'succeeded' END,
		finished_at = clock_timestamp(), rows = job_run_finish.rows,
		sqlstate = job_run_finish.sqlstate, message = job_run_finish.message
	WHERE x.run_id = job_run_finish.run_id AND x.status = 'running'
	RETURNING * INTO r;
	IF NOT FOUND THEN
		IF EXISTS (SELECT FROM retention.job_runs x WHERE x.run_id = job_run_finish.run_id) THEN
			RAISE EXCEPTION 'job run % has already finished', run_id
				USING ERRCODE = 'object_not_in_prerequisite_state';
		END IF;
		RETURN NULL;	-- the job, and its runs, were dropped meanwhile
	END IF;
	UPDATE retention.jobs j SET last_run_id = r.run_id, last_status = r.status,
		consecutive_failures = CASE WHEN failed THEN least(j.consecutive_failures, 1000000) + 1 ELSE 0 END,
		next_run = CASE WHEN failed AND scheduled
			THEN clock_timestamp() + least(interval '10 seconds' * 2 ^ least(j.consecutive_failures, 20),
										   interval '1 hour')
			ELSE j.next_run END
	WHERE j.job_id = r.job_id;
	RETURN r;
END $$;
COMMENT ON FUNCTION retention.job_run_finish(bigint, bigint, text, text, boolean) IS
	'internal: record the end of a running run (failed when sqlstate is given) and the job''s last status, failure count and retry back-off';

CREATE FUNCTION retention.job_execute(run_id bigint, scheduled boolean) RETURNS retention.job_runs
	AS 'MODULE_PATHNAME', 'job_execute' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.job_execute(bigint, boolean) IS
	'internal: run the job of a running run row once, as its owner in a security-restricted operation, and record the outcome (the scheduler''s step)';

CREATE FUNCTION retention.run_job(job_name text) RETURNS retention.job_runs
	AS 'MODULE_PATHNAME', 'run_job' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.run_job(text) IS
	'run a job now in the calling session, as its owner in a security-restricted operation, recording the run; a failure is recorded, reported as a warning and returned';

REVOKE EXECUTE ON FUNCTION retention.job_run_start(bigint, text), retention.job_run_finish(bigint, bigint, text, text, boolean),
	retention.job_execute(bigint, boolean), retention.refresh_cohort_job_as_owner(bigint, boolean, timestamptz) FROM PUBLIC;

-- The scheduler's steps (src/worker.c); not for users.
CREATE FUNCTION retention.scheduler_startup() RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	n bigint;
BEGIN
	WITH o AS (
		UPDATE retention.job_runs SET status = 'failed', finished_at = clock_timestamp(),
			message = 'the scheduler stopped during the run (server crash, restart or shutdown); the job''s tables were left as before the run'
		WHERE status = 'running' RETURNING job_id, run_id)
	UPDATE retention.jobs j SET last_status = 'failed', consecutive_failures = least(j.consecutive_failures, 1000000) + 1
	FROM o WHERE o.job_id = j.job_id AND j.last_run_id IS DISTINCT FROM o.run_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;
COMMENT ON FUNCTION retention.scheduler_startup() IS
	'internal: at scheduler start-up, mark the runs a crash left running as failed';

CREATE FUNCTION retention.scheduler_claim(OUT run_id bigint, OUT owner oid, OUT job_name text)
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	j retention.jobs;
	next timestamptz;
BEGIN
	LOOP
		SELECT * INTO j FROM retention.jobs WHERE enabled AND next_run <= now()
		ORDER BY next_run, job_id LIMIT 1 FOR UPDATE SKIP LOCKED;
		IF NOT FOUND THEN
			RETURN;
		END IF;
		BEGIN
			next := retention.next_run_time(j.schedule, now(), j.timezone);
		EXCEPTION WHEN OTHERS THEN
			-- a schedule edited into something invalid: park the job instead of looping on it
			UPDATE retention.jobs SET next_run = NULL, last_status = 'failed' WHERE job_id = j.job_id;
			RAISE WARNING 'pg_retention job "%" has an invalid schedule and is not scheduled: %',
				j.job_name, SQLERRM;
			CONTINUE;
		END;
		UPDATE retention.jobs SET next_run = next WHERE job_id = j.job_id;
		run_id := retention.job_run_start(j.job_id, 'schedule');
		owner := j.owner;
		job_name := j.job_name;
		RETURN;
	END LOOP;
END $$;
COMMENT ON FUNCTION retention.scheduler_claim() IS
	'internal: take the next due job, set its next run time, record a running run and prune the job''s runs beyond the latest 1000';

CREATE FUNCTION retention.scheduler_next_due() RETURNS timestamptz
	LANGUAGE sql STABLE SET search_path = pg_catalog, retention, pg_temp
	RETURN (SELECT min(next_run) FROM retention.jobs WHERE enabled);
COMMENT ON FUNCTION retention.scheduler_next_due() IS 'internal: when the next job is due';

REVOKE EXECUTE ON FUNCTION retention.scheduler_startup(), retention.scheduler_claim(),
	retention.scheduler_next_due() FROM PUBLIC;
