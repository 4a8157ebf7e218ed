-- pg_retention 0.1.0 -> 0.2.0 (ALTER EXTENSION pg_retention UPDATE TO '0.2.0')
-- Written by hand: each change of src/sql/ since 0.1.0, in the order it was made. The
-- upgrade test checks that an updated 0.1.0 install has the same catalog as a fresh 0.2.0.
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.2.0'" to load this file. \quit

-- Issue 11: jobs and loyalty programs run with exactly their owner's rights (src/run_as.c,
-- src/job_run.c); roles compared by OID; run history written by the extension only; every
-- function with a pinned search_path or a bound body; internals not executable by PUBLIC.

-- roles by OID
-- Roles by OID (src/run_as.c): who is calling, and may that role run what another owns?
CREATE FUNCTION retention.current_role_id() RETURNS regrole
	AS 'MODULE_PATHNAME', 'current_role_id' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.current_role_id() IS
	'the current user as a regrole, by OID (the default owner of jobs and loyalty programs)';

CREATE FUNCTION retention.can_run_as(role regrole) RETURNS boolean
	AS 'MODULE_PATHNAME', 'can_run_as' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.can_run_as(regrole) IS
	'may the current user see, change and run what the role owns? (the role itself, roles that may SET ROLE to it, superusers)';

-- jobs: owner by OID, names unique per owner, policies by OID; run rows read-only for users
ALTER TABLE retention.jobs ALTER COLUMN owner SET DEFAULT retention.current_role_id();
ALTER TABLE retention.jobs DROP CONSTRAINT jobs_job_name_key;
ALTER TABLE retention.jobs ADD UNIQUE (owner, job_name);
COMMENT ON COLUMN retention.jobs.owner IS 'the role the job runs as (its creator); job names are unique per owner';
DROP POLICY jobs_owner ON retention.jobs;
DROP POLICY job_runs_owner ON retention.job_runs;
CREATE POLICY jobs_owner ON retention.jobs
	USING (retention.can_run_as(owner)) WITH CHECK (retention.can_run_as(owner));
CREATE POLICY job_runs_owner ON retention.job_runs FOR SELECT
	USING (retention.can_run_as(owner));
REVOKE INSERT, UPDATE, DELETE ON retention.job_runs FROM PUBLIC;

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
CREATE OR REPLACE FUNCTION retention.new_rows_scan(src regclass, since xid8, upto xid8, OUT scan text, OUT filter text)
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

-- The row of a job the current role may see, locked when lock is true: its own job of that
-- name, else the only visible one; an error when there is none or several.
CREATE OR REPLACE FUNCTION retention.job_lookup(job_name text, lock boolean DEFAULT false)
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

DROP FUNCTION retention.job_target_name(text, text);
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

-- create_cohort_job's work; unqualified target names go into schema (create_cohort_job passes
-- the caller's current schema, which the pinned search_path here cannot see).
CREATE FUNCTION retention.create_cohort_job_in(schema name,
	job_name text, source regclass, customer_column text, time_column text, amount_column text,
	period_kind text, activity_table text, cohort_table text, schedule text,
	timezone text, mode text)
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
	IF source IS NULL OR customer_column IS NULL OR time_column IS NULL OR period_kind IS NULL
		OR schedule IS NULL OR timezone IS NULL OR mode IS NULL THEN
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
COMMENT ON FUNCTION retention.create_cohort_job_in(name, text, regclass, text, text, text, text, text, text, text, text, text) IS
	'internal: create_cohort_job with the schema that unqualified target names go into';

-- A body bound at creation (no search_path lookups at call time) that passes the caller's
-- current schema on.
CREATE OR REPLACE FUNCTION retention.create_cohort_job(
	job_name text, source regclass, customer_column text, time_column text, amount_column text,
	period_kind text, activity_table text, cohort_table text, schedule text,
	timezone text DEFAULT 'UTC', mode text DEFAULT 'on')
	RETURNS bigint LANGUAGE sql
	RETURN retention.create_cohort_job_in(pg_catalog.current_schema(), job_name, source, customer_column,
		time_column, amount_column, period_kind, activity_table, cohort_table, schedule, timezone, mode);
COMMENT ON FUNCTION retention.create_cohort_job(text, regclass, text, text, text, text, text, text, text, text, text) IS
	'create a cohort-refresh job: creates the activity and cohort tables (unqualified names in the current schema), which the job keeps fresh from the source on the schedule; the job runs as the calling role';

CREATE OR REPLACE FUNCTION retention.alter_job(job_name text, schedule text DEFAULT NULL, timezone text DEFAULT NULL,
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
	tracked boolean;
	cust text := c->>'customer_column';
	upto xid8;
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
	tracked := retention.source_tracks_rows(src);

	-- Every transaction below upto has finished, so the rows it inserted are visible from
	-- the next statement on; rows of later transactions are left for the next refresh.
	upto := pg_snapshot_xmin(pg_current_snapshot());
	incremental := NOT full_refresh AND tracked AND retention.watermark_usable(j.watermark, upto);
	IF tracked THEN
		SELECT x.scan, x.filter INTO scan, filter
		FROM retention.new_rows_scan(src, CASE WHEN incremental THEN j.watermark ELSE '0'::xid8 END, upto) x;
	ELSE
		filter := 'true';		-- views and the like: always a full rebuild of every row
	END IF;
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

	UPDATE retention.jobs x SET watermark = upto, last_refresh = refresh_cohort_job_as_owner.now
	WHERE x.job_id = j.job_id;
	RETURN written;
END $$;
COMMENT ON FUNCTION retention.refresh_cohort_job_as_owner(bigint, boolean, timestamptz) IS
	'internal: the refresh of a cohort job, run as its owner in a security-restricted operation by refresh_cohort_job and job runs';

CREATE OR REPLACE FUNCTION retention.refresh_cohort_job(job_name text, full_refresh boolean DEFAULT false, now timestamptz DEFAULT now())
	RETURNS bigint AS 'MODULE_PATHNAME', 'refresh_cohort_job' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.refresh_cohort_job(text, boolean, timestamptz) IS
	'refresh a cohort job''s tables in the calling transaction, as the job''s owner: only source rows added since the last refresh (full_refresh: all rows); returns the rows written';

DROP FUNCTION retention.job_record_failure(bigint, text, text, boolean);
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

CREATE OR REPLACE FUNCTION retention.job_execute(run_id bigint, scheduled boolean) RETURNS retention.job_runs
	AS 'MODULE_PATHNAME', 'job_execute' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.job_execute(bigint, boolean) IS
	'internal: run the job of a running run row once, as its owner in a security-restricted operation, and record the outcome (the scheduler''s step)';

CREATE OR REPLACE FUNCTION retention.run_job(job_name text) RETURNS retention.job_runs
	AS 'MODULE_PATHNAME', 'run_job' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.run_job(text) IS
	'run a job now in the calling session, as its owner in a security-restricted operation, recording the run; a failure is recorded, reported as a warning and returned';

REVOKE EXECUTE ON FUNCTION retention.job_run_start(bigint, text), retention.job_run_finish(bigint, bigint, text, text, boolean),
	retention.job_execute(bigint, boolean), retention.refresh_cohort_job_as_owner(bigint, boolean, timestamptz) FROM PUBLIC;

-- The scheduler's steps (src/worker.c); not for users.
CREATE OR REPLACE FUNCTION retention.scheduler_startup() RETURNS bigint
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

CREATE OR REPLACE FUNCTION retention.scheduler_claim(OUT run_id bigint, OUT owner oid, OUT job_name text)
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

-- loyalty programs: owner by OID, names unique per owner, policy by OID
ALTER TABLE retention.loyalty_programs ALTER COLUMN owner SET DEFAULT retention.current_role_id();
ALTER TABLE retention.loyalty_programs DROP CONSTRAINT loyalty_programs_program_name_key;
ALTER TABLE retention.loyalty_programs ADD UNIQUE (owner, program_name);
COMMENT ON COLUMN retention.loyalty_programs.owner IS 'the role the program''s refreshes and evaluations run as (its creator); program names are unique per owner';
DROP POLICY loyalty_programs_owner ON retention.loyalty_programs;
CREATE POLICY loyalty_programs_owner ON retention.loyalty_programs
	USING (retention.can_run_as(owner)) WITH CHECK (retention.can_run_as(owner));

CREATE FUNCTION retention.loyalty_check_exclusion(owner regrole, source regclass, exclude text) RETURNS void
	AS 'MODULE_PATHNAME', 'loyalty_check_exclusion' LANGUAGE C STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.loyalty_check_exclusion(regrole, regclass, text) IS
	'internal: check a loyalty program''s exclusion expression against its source as the program''s owner, restricted (the validation trigger''s step)';

-- Validate a program row (BEFORE INSERT OR UPDATE): every rule a program must follow.
CREATE OR REPLACE FUNCTION retention.loyalty_validate() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	p retention.loyalty_programs := NEW;
	src regclass;
	relk "char";
	t jsonb;
	k text;
	n int;
	prev record;
	typ regtype;
	msg text;
	state text;
BEGIN
	-- a refresh recording its date needs no new validation
	IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - '{last_as_of,last_refresh,watermark}'::text[]
		= to_jsonb(OLD) - '{last_as_of,last_refresh,watermark}'::text[] THEN
		RETURN NEW;
	END IF;
	-- the program runs as its owner: only roles that may become the owner define it (the row
	-- level security check comes after this trigger, which runs the owner's code)
	IF NOT retention.can_run_as(p.owner) THEN
		RAISE EXCEPTION 'permission denied to define a loyalty program owned by %', p.owner
			USING ERRCODE = 'insufficient_privilege',
			DETAIL = 'A program runs as its owner; only the owner, roles that may SET ROLE to it and superusers may define it.';
	END IF;
	-- changed rules: the stored states no longer apply, the next refresh replays everyone
	NEW.watermark := NULL;
	IF p.program_name IS NULL OR p.program_name = '' THEN
		RAISE EXCEPTION 'loyalty program name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p.qualification_window IS NULL
		OR p.qualification_window NOT IN ('calendar_year', 'fiscal_year', 'rolling_months', 'anniversary_year') THEN
		RAISE EXCEPTION 'unknown qualification window "%"', p.qualification_window
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use calendar_year, fiscal_year, rolling_months or anniversary_year.';
	END IF;
	IF p.qualification_window = 'rolling_months' THEN
		IF p.window_months IS NULL OR p.window_months < 1 OR p.window_months > 120 THEN
			RAISE EXCEPTION 'a rolling_months window needs window_months between 1 and 120, not %',
				coalesce(p.window_months::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF p.status_years IS NOT NULL THEN
			RAISE EXCEPTION 'status_years applies to year windows only'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'A rolling_months program holds a status for status_months.';
		END IF;
		NEW.status_months := coalesce(p.status_months, 0);
	ELSE
		IF p.window_months IS NOT NULL THEN
			RAISE EXCEPTION 'window_months applies to rolling_months windows only' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF p.status_months IS NOT NULL THEN
			RAISE EXCEPTION 'status_months applies to rolling_months windows only'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'A year-window program holds a status for status_years.';
		END IF;
		NEW.status_years := coalesce(p.status_years, 1);
	END IF;
	IF coalesce(NEW.status_years, 0) < 0 OR coalesce(NEW.status_years, 0) > 10
		OR coalesce(NEW.status_months, 0) < 0 OR coalesce(NEW.status_months, 0) > 120 THEN
		RAISE EXCEPTION 'status duration out of range' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'status_years must be between 0 and 10, status_months between 0 and 120.';
	END IF;
	IF p.qualification_window = 'fiscal_year' THEN
		IF p.fiscal_first_month IS NULL OR p.fiscal_first_month NOT BETWEEN 1 AND 12 THEN
			RAISE EXCEPTION 'a fiscal_year window needs fiscal_first_month between 1 and 12, not %',
				coalesce(p.fiscal_first_month::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSIF p.fiscal_first_month IS NOT NULL THEN
		RAISE EXCEPTION 'fiscal_first_month applies to fiscal_year windows only' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p.downgrade_policy NOT IN ('reevaluate', 'one_tier') THEN
		RAISE EXCEPTION 'unknown downgrade policy "%"', p.downgrade_policy USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use reevaluate (fall to the tier still qualified for) or one_tier (one rank at a time).';
	END IF;
	IF p.grace_days < 0 OR p.grace_days > 3660 THEN
		RAISE EXCEPTION 'grace period of % days is out of range', p.grace_days USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'The grace period must be between 0 and 3660 days.';
	END IF;
	IF p.match NOT IN ('all', 'any') THEN
		RAISE EXCEPTION 'unknown threshold match "%"', p.match USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use all (every threshold of a tier must be met) or any (one is enough).';
	END IF;
	IF p.base_tier IS NULL OR p.base_tier = '' THEN
		RAISE EXCEPTION 'base tier name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM now() AT TIME ZONE p.timezone;		-- validates the time zone

	-- tiers
	IF jsonb_typeof(p.tiers) IS DISTINCT FROM 'array' OR jsonb_array_length(p.tiers) = 0 THEN
		RAISE EXCEPTION 'tiers must be a non-empty JSON array' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'For example: [{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 1000}].';
	END IF;
	FOR t IN SELECT x FROM jsonb_array_elements(p.tiers) x LOOP
		IF jsonb_typeof(t) <> 'object' THEN
			RAISE EXCEPTION 'a tier must be a JSON object, not %', t USING ERRCODE = 'invalid_parameter_value';
		END IF;
		FOR k IN SELECT jsonb_object_keys(t) LOOP
			IF k NOT IN ('name', 'rank', 'min_amount', 'min_orders') THEN
				RAISE EXCEPTION 'unknown tier attribute "%"', k USING ERRCODE = 'invalid_parameter_value',
					HINT = 'A tier has a name, a rank, min_amount and/or min_orders.';
			END IF;
		END LOOP;
		IF jsonb_typeof(t->'name') IS DISTINCT FROM 'string' OR t->>'name' = '' THEN
			RAISE EXCEPTION 'every tier needs a non-empty name' USING ERRCODE = 'invalid_parameter_value',
				DETAIL = format('Tier %s has none.', t);
		END IF;
		IF jsonb_typeof(t->'rank') IS DISTINCT FROM 'number' OR (t->>'rank')::numeric <> trunc((t->>'rank')::numeric)
			OR (t->>'rank')::numeric NOT BETWEEN 1 AND 1000 THEN
			RAISE EXCEPTION 'tier "%" needs a whole rank between 1 and 1000', t->>'name'
				USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Rank 0 is the base tier.';
		END IF;
		IF t ? 'min_amount' AND jsonb_typeof(t->'min_amount') IS DISTINCT FROM 'number' THEN
			RAISE EXCEPTION 'min_amount of tier "%" must be a number', t->>'name' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF t ? 'min_orders' AND (jsonb_typeof(t->'min_orders') IS DISTINCT FROM 'number'
								 OR (t->>'min_orders')::numeric <> trunc((t->>'min_orders')::numeric)) THEN
			RAISE EXCEPTION 'min_orders of tier "%" must be a whole number', t->>'name' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF (t->>'min_amount')::numeric <> round((t->>'min_amount')::numeric, 4) THEN
			RAISE EXCEPTION 'min_amount of tier "%" has more than 4 decimal places', t->>'name'
				USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Amounts are exact to 1/10000.';
		END IF;
		IF (t->>'min_amount')::numeric < 0 OR (t->>'min_orders')::numeric < 0 THEN
			RAISE EXCEPTION 'tier "%" has a negative threshold', t->>'name' USING ERRCODE = 'invalid_parameter_value',
				DETAIL = 'Thresholds on spend and orders must be zero or more.';
		END IF;
		IF (t->>'min_orders')::numeric > 2147483647 THEN
			RAISE EXCEPTION 'min_orders of tier "%" is out of range', t->>'name' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NOT (t ? 'min_amount' OR t ? 'min_orders') THEN
			RAISE EXCEPTION 'tier "%" has no threshold', t->>'name' USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Give min_amount, min_orders or both.';
		END IF;
		IF t ? 'min_amount' AND p.amount_column IS NULL THEN
			RAISE EXCEPTION 'tier "%" has a spend threshold but the program has no amount column', t->>'name'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	SELECT x->>'name' INTO k FROM jsonb_array_elements(p.tiers) x
	GROUP BY x->>'name' HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'duplicate tier name "%"', k USING ERRCODE = 'duplicate_object';
	END IF;
	IF EXISTS (SELECT FROM jsonb_array_elements(p.tiers) x WHERE x->>'name' = p.base_tier) THEN
		RAISE EXCEPTION 'tier name "%" is the base tier''s name', p.base_tier USING ERRCODE = 'duplicate_object';
	END IF;
	SELECT (x->>'rank')::int INTO n FROM jsonb_array_elements(p.tiers) x
	GROUP BY (x->>'rank')::int HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'duplicate tier rank %', n USING ERRCODE = 'duplicate_object';
	END IF;
	-- every threshold a tier shares with a lower tier must be higher than that tier's
	SELECT lo.x->>'name' AS lo_name, hi.x->>'name' AS hi_name,
		   CASE WHEN (hi.x->>'min_amount')::numeric <= (lo.x->>'min_amount')::numeric THEN 'spend' ELSE 'orders' END AS what
	INTO prev
	FROM jsonb_array_elements(p.tiers) lo(x), jsonb_array_elements(p.tiers) hi(x)
	WHERE (hi.x->>'rank')::int > (lo.x->>'rank')::int
	  AND ((hi.x->>'min_amount')::numeric <= (lo.x->>'min_amount')::numeric
		   OR (hi.x->>'min_orders')::numeric <= (lo.x->>'min_orders')::numeric)
	ORDER BY (lo.x->>'rank')::int, (hi.x->>'rank')::int LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'tier thresholds must increase with rank' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Tier "%s" ranks above "%s" but its %s threshold is not higher.', prev.hi_name, prev.lo_name, prev.what);
	END IF;

	-- the source and its columns
	src := to_regclass(p.source);
	IF src IS NULL THEN
		RAISE EXCEPTION 'relation "%" does not exist', p.source USING ERRCODE = 'undefined_table';
	END IF;
	SELECT c.relkind, format('%I.%I', s.nspname, c.relname) INTO relk, NEW.source
	FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE c.oid = src;
	IF relk NOT IN ('r', 'p', 'v', 'm', 'f') THEN
		RAISE EXCEPTION '"%" is not a table or view', p.source USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT has_table_privilege(p.owner, src, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', p.source USING ERRCODE = 'insufficient_privilege',
			DETAIL = format('A loyalty program reads its source as its owner, %s, who may not read it.', p.owner);
	END IF;
	SELECT a.atttypid INTO typ FROM pg_attribute a
	WHERE a.attrelid = src AND a.attname = p.customer_column AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', p.customer_column, p.source USING ERRCODE = 'undefined_column';
	END IF;
	SELECT a.atttypid INTO typ FROM pg_attribute a
	WHERE a.attrelid = src AND a.attname = p.time_column AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', p.time_column, p.source USING ERRCODE = 'undefined_column';
	END IF;
	IF typ NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
		RAISE EXCEPTION 'time column "%" is of type %', p.time_column, typ USING ERRCODE = 'datatype_mismatch',
			HINT = 'Use a date, timestamp or timestamptz column.';
	END IF;
	IF p.amount_column IS NOT NULL THEN
		SELECT a.atttypid INTO typ FROM pg_attribute a
		WHERE a.attrelid = src AND a.attname = p.amount_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'column "%" of relation "%" does not exist', p.amount_column, p.source USING ERRCODE = 'undefined_column';
		END IF;
		IF typ NOT IN ('numeric'::regtype, 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype,
					   'real'::regtype, 'double precision'::regtype) THEN
			RAISE EXCEPTION 'amount column "%" is of type %', p.amount_column, typ USING ERRCODE = 'datatype_mismatch',
				HINT = 'Use a numeric, integer or floating-point column.';
		END IF;
	END IF;
	IF p.exclude IS NOT NULL THEN
		IF p.exclude ~ '(;|--|/\*)' OR btrim(p.exclude) = '' THEN
			RAISE EXCEPTION 'invalid exclusion expression: %', p.exclude USING ERRCODE = 'syntax_error',
				DETAIL = 'An exclusion is one boolean expression, without semicolons or comments.';
		END IF;
		BEGIN
			-- the expression is the owner's code: planned as the owner, restricted (src/job_run.c)
			PERFORM retention.loyalty_check_exclusion(p.owner, src, p.exclude);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
			RAISE EXCEPTION 'invalid exclusion expression: %', p.exclude USING ERRCODE = state,
				DETAIL = msg, HINT = 'Write a boolean expression on the source row, aliased s, such as s.amount < 0.';
		END;
	END IF;
	RETURN NEW;
END $$;
COMMENT ON FUNCTION retention.loyalty_validate() IS
	'internal: reject a loyalty program row that breaks a rule (window, thresholds, tiers, source columns, exclusion)';

-- The row of a program the current role may see, locked when lock is true: its own program
-- of that name, else the only visible one; an error when there is none or several.
CREATE OR REPLACE FUNCTION retention.loyalty_lookup(program_name text, lock boolean DEFAULT false)
	RETURNS retention.loyalty_programs
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	p retention.loyalty_programs;
	others text;
BEGIN
	SELECT * INTO p FROM retention.loyalty_programs x WHERE x.program_name = loyalty_lookup.program_name
		AND x.owner = retention.current_role_id();
	IF NOT FOUND THEN
		SELECT string_agg(x.owner::text, ', ' ORDER BY x.owner::text) INTO others
		FROM retention.loyalty_programs x WHERE x.program_name = loyalty_lookup.program_name;
		IF others LIKE '%, %' THEN
			RAISE EXCEPTION 'loyalty program name "%" is ambiguous', program_name USING ERRCODE = 'ambiguous_parameter',
				DETAIL = format('Roles %s each own a program of that name.', others),
				HINT = 'Use it as its owner (SET ROLE).';
		END IF;
		SELECT * INTO p FROM retention.loyalty_programs x WHERE x.program_name = loyalty_lookup.program_name;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'loyalty program "%" does not exist', program_name USING ERRCODE = 'undefined_object',
				HINT = 'Programs are listed in retention.loyalty_programs; a role sees the programs of the roles it may become.';
		END IF;
	END IF;
	IF lock THEN
		SELECT * INTO p FROM retention.loyalty_programs x WHERE x.program_id = p.program_id FOR UPDATE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'loyalty program "%" does not exist', program_name USING ERRCODE = 'undefined_object';
		END IF;
	END IF;
	RETURN p;
END $$;
COMMENT ON FUNCTION retention.loyalty_lookup(text, boolean) IS
	'internal: the row of a loyalty program the current role may see (its own first), optionally locked';

-- The row of a program locked by its refresh, which runs as the program's owner: an error
-- when the program was dropped or given to another role since the refresh began.
CREATE FUNCTION retention.loyalty_lock_as_owner(program_id bigint) RETURNS retention.loyalty_programs
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	p retention.loyalty_programs;
BEGIN
	SELECT * INTO p FROM retention.loyalty_programs x WHERE x.program_id = loyalty_lock_as_owner.program_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'loyalty program % does not exist', program_id USING ERRCODE = 'undefined_object';
	ELSIF p.owner <> retention.current_role_id() THEN
		RAISE EXCEPTION 'loyalty program "%" changed owner during its refresh', p.program_name
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Refresh it again.';
	END IF;
	RETURN p;
END $$;
COMMENT ON FUNCTION retention.loyalty_lock_as_owner(bigint) IS
	'internal: lock the row of the loyalty program being refreshed as its owner (an error when it was dropped or changed owner)';

-- create_loyalty_program's work; unqualified table names go into schema (create_loyalty_program
-- passes the caller's current schema, which the pinned search_path here cannot see).
CREATE FUNCTION retention.create_loyalty_program_in(schema name,
	program_name text, source regclass, customer_column text, time_column text, amount_column text,
	qualification_window text, tiers jsonb, base_tier text, window_months int, fiscal_first_month int,
	status_years int, status_months int, downgrade_policy text, grace_days int, exclude text,
	match text, timezone text, tier_table text, history_table text)
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	id bigint;
	cust_type text;
	tt text;
	ht text;
	t text;
BEGIN
	IF program_name IS NULL OR source IS NULL OR customer_column IS NULL OR time_column IS NULL
		OR qualification_window IS NULL OR tiers IS NULL OR base_tier IS NULL OR downgrade_policy IS NULL
		OR grace_days IS NULL OR match IS NULL OR timezone IS NULL THEN
		RAISE EXCEPTION 'only amount_column, window_months, fiscal_first_month, status_years, status_months, exclude, tier_table and history_table may be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF EXISTS (SELECT FROM retention.loyalty_programs x WHERE x.program_name = create_loyalty_program_in.program_name
			   AND x.owner = retention.current_role_id()) THEN
		RAISE EXCEPTION 'loyalty program "%" already exists', program_name USING ERRCODE = 'duplicate_object';
	END IF;
	IF NOT has_table_privilege(source, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', source USING ERRCODE = 'insufficient_privilege',
			DETAIL = 'A loyalty program reads its source with the privileges of the role that creates it.';
	END IF;
	tt := retention.target_table_name(coalesce(tier_table, program_name || '_tiers'), 'tier table', schema);
	ht := retention.target_table_name(coalesce(history_table, program_name || '_tier_history'), 'history table', schema);
	FOREACH t IN ARRAY ARRAY[tt, ht] LOOP
		IF to_regclass(t) IS NOT NULL THEN
			RAISE EXCEPTION 'relation "%" already exists', t USING ERRCODE = 'duplicate_table',
				HINT = 'A loyalty program creates its tier and history tables: choose new names or drop the old tables.';
		END IF;
	END LOOP;
	IF tt = ht THEN
		RAISE EXCEPTION 'tier and history tables must differ' USING ERRCODE = 'invalid_parameter_value';
	END IF;

	INSERT INTO retention.loyalty_programs (program_name, source, customer_column, time_column, amount_column,
		timezone, exclude, qualification_window, window_months, fiscal_first_month, status_years, status_months,
		downgrade_policy, grace_days, match, base_tier, tiers, tier_table, history_table)
	VALUES (program_name, (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
						   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = source), customer_column, time_column, amount_column, timezone, exclude,
		qualification_window, window_months, fiscal_first_month, status_years, status_months,
		downgrade_policy, grace_days, match, base_tier, tiers, tt, ht)
	RETURNING program_id INTO id;

	SELECT format_type(a.atttypid, a.atttypmod) INTO cust_type FROM pg_attribute a
	WHERE a.attrelid = source AND a.attname = customer_column;
	EXECUTE format('CREATE TABLE %s (%I %s PRIMARY KEY, tier text NOT NULL, tier_rank int NOT NULL, '
				   'since date NOT NULL, expires date, grace_ends date, window_start date, '
				   'window_end date, qualifying_amount numeric NOT NULL, qualifying_orders bigint NOT NULL, '
				   'amount_to_keep numeric, orders_to_keep bigint, next_tier text, amount_to_next numeric, '
				   'orders_to_next bigint, member_since date NOT NULL, qualified_until date[] NOT NULL)',
				   tt, customer_column, cust_type);
	EXECUTE format('CREATE TABLE %s (%I %s NOT NULL, changed_on date NOT NULL, from_tier text NOT NULL, '
				   'to_tier text NOT NULL, reason text NOT NULL CHECK (reason IN '
				   '(''qualified'', ''expired'', ''downgraded'', ''grace ended'')), '
				   'PRIMARY KEY (%I, changed_on))', ht, customer_column, cust_type, customer_column);
	EXECUTE format('COMMENT ON TABLE %s IS %L', tt, format('current loyalty tier per customer, kept by pg_retention program %s', program_name));
	EXECUTE format('COMMENT ON TABLE %s IS %L', ht, format('loyalty tier changes, kept by pg_retention program %s', program_name));
	RETURN id;
END $$;
COMMENT ON FUNCTION retention.create_loyalty_program_in(name, text, regclass, text, text, text, text, jsonb, text, int, int, int, int, text, int, text, text, text, text, text) IS
	'internal: create_loyalty_program with the schema that unqualified table names go into';

-- A body bound at creation (no search_path lookups at call time) that passes the caller's
-- current schema on.
CREATE OR REPLACE FUNCTION retention.create_loyalty_program(
	program_name text, source regclass, customer_column text, time_column text, amount_column text,
	qualification_window text, tiers jsonb,
	base_tier text DEFAULT 'member', window_months int DEFAULT NULL, fiscal_first_month int DEFAULT NULL,
	status_years int DEFAULT NULL, status_months int DEFAULT NULL,
	downgrade_policy text DEFAULT 'reevaluate', grace_days int DEFAULT 0, exclude text DEFAULT NULL,
	match text DEFAULT 'all', timezone text DEFAULT 'UTC',
	tier_table text DEFAULT NULL, history_table text DEFAULT NULL)
	RETURNS bigint LANGUAGE sql
	RETURN retention.create_loyalty_program_in(pg_catalog.current_schema(), program_name, source, customer_column,
		time_column, amount_column, qualification_window, tiers, base_tier, window_months, fiscal_first_month,
		status_years, status_months, downgrade_policy, grace_days, exclude, match, timezone, tier_table, history_table);
COMMENT ON FUNCTION retention.create_loyalty_program(text, regclass, text, text, text, text, jsonb, text, int, int, int, int, text, int, text, text, text, text, text) IS
	'define a loyalty-tier program over an order source and create its tier and tier-history tables (unqualified names in the current schema); returns the program id';

-- One customer's evaluation, run as the program's owner in a security-restricted operation by
-- loyalty_evaluate (src/job_run.c); not executable by PUBLIC.
CREATE FUNCTION retention.loyalty_evaluate_as_owner(program_id bigint, customer anyelement, as_of date)
	RETURNS retention.loyalty_result
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	p retention.loyalty_programs;
	r retention.loyalty_result;
	tz text;
BEGIN
	SELECT * INTO p FROM retention.loyalty_programs x WHERE x.program_id = loyalty_evaluate_as_owner.program_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'loyalty program % does not exist', program_id USING ERRCODE = 'undefined_object';
	END IF;
	IF as_of IS NULL THEN
		RAISE EXCEPTION 'as_of must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	tz := retention.loyalty_set_timezone(p.timezone);
	EXECUTE format('SELECT (e.r).* FROM (%s) e',
				   retention.loyalty_eval_sql(p, as_of, format('s.%I = $1', p.customer_column)))
		INTO r USING customer;
	PERFORM retention.loyalty_set_timezone(tz);
	RETURN r;
END $$;
COMMENT ON FUNCTION retention.loyalty_evaluate_as_owner(bigint, anyelement, date) IS
	'internal: one customer''s evaluation in a loyalty program, run as its owner in a security-restricted operation by loyalty_evaluate';

CREATE OR REPLACE FUNCTION retention.loyalty_evaluate(program_name text, customer anyelement, as_of date DEFAULT current_date)
	RETURNS retention.loyalty_result
	AS 'MODULE_PATHNAME', 'loyalty_evaluate' LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.loyalty_evaluate(text, anyelement, date) IS
	'one customer''s standing and tier history in a loyalty program as of a date, evaluated as the program''s owner (NULL without source rows)';

-- The refresh of a loyalty program, run as its owner in a security-restricted operation by
-- refresh_loyalty (src/job_run.c); not executable by PUBLIC.
CREATE FUNCTION retention.refresh_loyalty_as_owner(program_id bigint, as_of date, rebuild boolean, full_refresh boolean)
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp SET client_min_messages = warning
	-- the refresh is one statement of several parts, most of them small: compiling it costs
	-- more than it saves
	SET jit = off AS $$
DECLARE
	p retention.loyalty_programs := retention.loyalty_lock_as_owner(program_id);	-- serializes refreshes
	program_name text := p.program_name;
	tt regclass;
	ht regclass;
	src regclass;
	tracked boolean;
	cust text;
	tcol text;
	n bigint;
	written bigint := 0;
	tz text;
	upto xid8;
	incremental boolean;
	after date := p.last_as_of;
	lo date;
	entering text;
	scan text;
	xmin_test text;
	eval text;
	hist_cond text;
	hist_conflict text;
	pre text := '';
	stale text;
	fields text;
	cols text;
	sets text;
	tcols text;
	ecols text;
BEGIN
	IF as_of IS NULL OR rebuild IS NULL OR full_refresh IS NULL THEN
		RAISE EXCEPTION 'as_of, rebuild and full_refresh must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'datetime_field_overflow';
	END IF;
	tt := to_regclass(p.tier_table);
	ht := to_regclass(p.history_table);
	IF tt IS NULL OR ht IS NULL THEN
		RAISE EXCEPTION 'relation "%" of loyalty program "%" does not exist',
			CASE WHEN tt IS NULL THEN p.tier_table ELSE p.history_table END, program_name
			USING ERRCODE = 'undefined_table', HINT = 'Drop the program and create it again.';
	END IF;
	src := to_regclass(p.source);
	IF src IS NULL THEN
		RAISE EXCEPTION 'relation "%" of loyalty program "%" does not exist', p.source, p.program_name
			USING ERRCODE = 'undefined_table', HINT = 'Recreate the table, or point the program at another source.';
	END IF;
	tracked := retention.source_tracks_rows(src);
	cust := p.customer_column;
	tcol := p.time_column;

	-- Every transaction below upto has finished, so the rows it inserted are visible to the
	-- statements below; rows of later transactions count as new at the next refresh (the
	-- watermark test of the cohort jobs, docs/jobs.md).
	upto := pg_snapshot_xmin(pg_current_snapshot());
	-- Incremental: go on from the states the tier table holds as of the last refresh's date.
	-- Otherwise every customer is replayed from all its rows.
	incremental := NOT rebuild AND NOT full_refresh AND after IS NOT NULL AND as_of >= after
		AND tracked AND retention.watermark_usable(p.watermark, upto);

	tz := retention.loyalty_set_timezone(p.timezone);
	IF NOT incremental THEN
		-- the history first: a rebuild (after the rules changed) or a refresh as of an earlier
		-- date removes what the replay does not give any more
		IF rebuild THEN
			EXECUTE format('DELETE FROM %s', ht);
			GET DIAGNOSTICS n = ROW_COUNT;
			written := written + n;
		ELSIF as_of < after THEN
			EXECUTE format('DELETE FROM %s WHERE changed_on > %L', ht, as_of);
			GET DIAGNOSTICS n = ROW_COUNT;
			written := written + n;
		END IF;
		eval := retention.loyalty_eval_sql(p, as_of);
		-- history: the changes dated on or after the previous refresh's date (a later run on
		-- the same day records that day's new changes; all of them on the first refresh or a
		-- rebuild)
		hist_cond := CASE WHEN rebuild OR after IS NULL THEN 'true' ELSE format('c.changed_on >= %L', after) END;
		hist_conflict := 'DO NOTHING';
		-- customers without rows any more leave the tier table
		stale := format('DELETE FROM %1$s t WHERE NOT EXISTS (SELECT FROM e WHERE e.customer = t.%2$I) RETURNING 1', tt, cust);
	ELSE
		-- Everything below is one statement, so one snapshot: the late rows found are exactly
		-- those the replay reads.
		-- Late rows: rows inserted since the last refresh (any visible row whose inserting
		-- transaction is not below the watermark), dated on or before its date. Their
		-- customers are replayed from all their rows and get their history recorded anew.
		SELECT x.scan, x.filter INTO scan, xmin_test
		FROM retention.new_rows_scan(src, p.watermark, '18446744073709551615'::xid8) x;
		pre := format('late AS MATERIALIZED (SELECT DISTINCT s.%1$I AS customer FROM %2$s s '
					  'WHERE s.%1$I IS NOT NULL AND s.%3$I < %4$s AND %5$s), ',
					  cust, scan, tcol, retention.loyalty_day_start(p, after + 1), xmin_test);
		-- the customers whose standing can change between the two dates: rows dated after the
		-- last refresh, rows leaving a rolling window, statuses, grace periods and year windows
		-- ending, late rows. The others' tier rows stay as they are.
		entering := format('s.%1$I >= %2$s AND s.%1$I < %3$s', tcol,
						   retention.loyalty_day_start(p, after + 1), retention.loyalty_day_start(p, as_of + 1));
		IF p.qualification_window = 'rolling_months' THEN
			-- a row of day o leaves the window on o + window_months months: those leaving
			-- after the last refresh, up to as_of
			entering := entering || format(' OR s.%1$I >= %2$s AND s.%1$I < %3$s', tcol,
				retention.loyalty_day_start(p, retention.loyalty_first_in_window(after, p.window_months)),
				retention.loyalty_day_start(p, retention.loyalty_first_in_window(as_of, p.window_months)));
		END IF;
		pre := pre || format('events AS MATERIALIZED (SELECT s.%1$I AS customer FROM %2$s s WHERE s.%1$I IS NOT NULL AND (%3$s) '
							 'UNION SELECT t.%1$I FROM %4$s t WHERE t.expires <= %5$L OR t.grace_ends <= %5$L OR t.window_end <= %5$L '
							 'UNION SELECT customer FROM late), ',
							 cust, src, entering, tt, as_of);
		-- the rows a replay from the stored state needs: those of the qualification window of
		-- the day after the last refresh on (rows before it are in the stored state)
		lo := CASE p.qualification_window
			WHEN 'rolling_months' THEN retention.loyalty_first_in_window(after + 1, p.window_months)
			WHEN 'calendar_year' THEN date_trunc('year', after + 1)::date
			WHEN 'fiscal_year' THEN make_date(extract(year FROM after + 1)::int
											  - (extract(month FROM after + 1) < p.fiscal_first_month)::int,
											  p.fiscal_first_month, 1)
			ELSE ((after + 1) - interval '1 year')::date - 7 END;
		eval := retention.loyalty_eval_sql(p, as_of,
			format('s.%1$I IN (SELECT customer FROM events) AND (s.%2$I >= %3$s OR s.%1$I IN (SELECT customer FROM late))',
				   cust, tcol, retention.loyalty_day_start(p, lo)),
			after,
			format('t.%1$I IN (SELECT customer FROM events) AND NOT EXISTS (SELECT FROM late WHERE late.customer = t.%1$I)', cust));
		-- a late customer's history is recorded anew (changes on days the replay no longer
		-- gives are deleted, the others upserted); the others' replay gives only changes after
		-- the last refresh's date
		stale := format('DELETE FROM %1$s h WHERE h.%2$I IN (SELECT customer FROM late) AND NOT EXISTS '
						'(SELECT FROM e, unnest(e.h) c WHERE e.customer = h.%2$I AND c.changed_on = h.changed_on) RETURNING 1', ht, cust);
		hist_cond := 'true';
		hist_conflict := 'DO UPDATE SET from_tier = excluded.from_tier, to_tier = excluded.to_tier, reason = excluded.reason '
			'WHERE (h.from_tier, h.to_tier, h.reason) IS DISTINCT FROM (excluded.from_tier, excluded.to_tier, excluded.reason)';
	END IF;

	-- One statement evaluates the customers and writes both tables with plain INSERT, UPDATE
	-- and DELETE: readers see the previous rows until commit and are not blocked. Tier rows
	-- are rewritten only when they change.
	-- A rolling window is the same for everybody and moves every day: it is not stored per
	-- row (it ends at last_as_of), so that a daily refresh rewrites only the customers whose
	-- standing changed. Changed rows are updated in place and new customers inserted (no
	-- ON CONFLICT, which locks every row it looks at: refreshes of a program take turns on
	-- the program's row, so no one else inserts customers meanwhile).
	SELECT string_agg(CASE WHEN p.qualification_window = 'rolling_months' AND col IN ('window_start', 'window_end')
						   THEN format('NULL::date AS %I', col) ELSE format('(st).%1$I AS %1$I', col) END, ', ' ORDER BY i),
		   string_agg(format('%I', col), ', ' ORDER BY i),
		   string_agg(format('%1$I = e.%1$I', col), ', ' ORDER BY i),
		   string_agg(format('t.%I', col), ', ' ORDER BY i),
		   string_agg(format('e.%I', col), ', ' ORDER BY i)
	INTO fields, cols, sets, tcols, ecols
	FROM unnest(ARRAY['tier', 'tier_rank', 'since', 'expires', 'grace_ends', 'window_start', 'window_end',
					  'qualifying_amount', 'qualifying_orders', 'amount_to_keep', 'orders_to_keep', 'next_tier',
					  'amount_to_next', 'orders_to_next', 'member_since', 'qualified_until']) WITH ORDINALITY c(col, i);
	EXECUTE format('WITH %1$s e AS MATERIALIZED (SELECT customer, h, %2$s FROM '
				   '(SELECT customer, (r).state AS st, (r).history AS h FROM (%3$s) x OFFSET 0) y), '
				   'upd AS (UPDATE %4$s AS t SET %5$s FROM e WHERE t.%6$I = e.customer '
				   'AND (%7$s) IS DISTINCT FROM (%8$s) RETURNING 1), '
				   'ins AS (INSERT INTO %4$s (%6$I, %9$s) SELECT customer, %9$s FROM e '
				   'WHERE NOT EXISTS (SELECT FROM %4$s t WHERE t.%6$I = e.customer) RETURNING 1), '
				   'removed AS (%10$s), '
				   'hist AS (INSERT INTO %11$s AS h (%6$I, changed_on, from_tier, to_tier, reason) '
				   'SELECT e.customer, c.changed_on, c.from_tier, c.to_tier, c.reason FROM e, unnest(e.h) c WHERE %12$s '
				   'ON CONFLICT (%6$I, changed_on) %13$s RETURNING 1) '
				   'SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins) + (SELECT count(*) FROM removed) '
				   '+ (SELECT count(*) FROM hist)',
				   pre, fields, eval, tt, sets, cust, tcols, ecols, cols, stale, ht, hist_cond, hist_conflict)
		INTO n;
	PERFORM retention.loyalty_set_timezone(tz);
	written := written + n;

	UPDATE retention.loyalty_programs x SET last_as_of = refresh_loyalty_as_owner.as_of, last_refresh = now(),
		watermark = CASE WHEN tracked THEN upto END
	WHERE x.program_id = p.program_id;
	RETURN written;
END $$;
COMMENT ON FUNCTION retention.refresh_loyalty_as_owner(bigint, date, boolean, boolean) IS
	'internal: the refresh of a loyalty program, run as its owner in a security-restricted operation by refresh_loyalty';

CREATE OR REPLACE FUNCTION retention.refresh_loyalty(program_name text, as_of date DEFAULT current_date, rebuild boolean DEFAULT false,
	full_refresh boolean DEFAULT false)
	RETURNS bigint AS 'MODULE_PATHNAME', 'refresh_loyalty' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.refresh_loyalty(text, date, boolean, boolean) IS
	'as the program''s owner, bring a loyalty program''s tier table and tier-history table up to a date in the calling transaction: incrementally from the stored states when it can, else (first run, changed rules, full_refresh, rebuild, an earlier date) by replaying every customer; rebuild also recomputes the history; returns the rows written';

-- The loyalty-tier job: a row in retention.jobs of type loyalty_refresh whose config names the
-- program; each run refreshes the program as of the run's date in the job's time zone. The job
-- belongs to the program's owner (its runs are the program's refreshes), whoever creates it.
CREATE OR REPLACE FUNCTION retention.create_loyalty_job(job_name text, program_name text, schedule text, timezone text DEFAULT 'UTC')
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	p retention.loyalty_programs;
	id bigint;
	next timestamptz;
BEGIN
	IF job_name IS NULL OR job_name = '' THEN
		RAISE EXCEPTION 'job name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF schedule IS NULL OR timezone IS NULL THEN
		RAISE EXCEPTION 'schedule and timezone must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	p := retention.loyalty_lookup(program_name);
	IF EXISTS (SELECT FROM retention.jobs j WHERE j.job_name = create_loyalty_job.job_name AND j.owner = p.owner) THEN
		RAISE EXCEPTION 'job "%" already exists', job_name USING ERRCODE = 'duplicate_object';
	END IF;
	next := retention.next_run_time(schedule, now(), timezone);	-- validates schedule and time zone
	INSERT INTO retention.jobs (job_name, job_type, owner, schedule, timezone, config, next_run)
	VALUES (job_name, 'loyalty_refresh', p.owner, schedule, timezone,
			jsonb_build_object('program', p.program_name),
			next)
	RETURNING job_id INTO id;
	RETURN id;
END $$;
COMMENT ON FUNCTION retention.create_loyalty_job(text, text, text, text) IS
	'create a job that refreshes a loyalty program on a schedule as of the run''s date in the job''s time zone; the job belongs to, and runs as, the program''s owner';

-- The run of a loyalty-tier job, as the job's owner in a security-restricted operation, by
-- refresh_loyalty_job and job runs (src/job_run.c); not executable by PUBLIC. The program is
-- refreshed by refresh_loyalty, as the program's owner.
CREATE FUNCTION retention.refresh_loyalty_job_as_owner(job_id bigint, now timestamptz)
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	j retention.jobs := retention.job_lock_as_owner(job_id);
	n bigint;
BEGIN
	IF j.job_type <> 'loyalty_refresh' THEN
		RAISE EXCEPTION 'job "%" is not a loyalty-tier job', j.job_name USING ERRCODE = 'wrong_object_type';
	END IF;
	IF now IS NULL THEN
		RAISE EXCEPTION 'now must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	n := retention.refresh_loyalty(j.config->>'program', (refresh_loyalty_job_as_owner.now AT TIME ZONE j.timezone)::date);
	UPDATE retention.jobs x SET last_refresh = refresh_loyalty_job_as_owner.now WHERE x.job_id = j.job_id;
	RETURN n;
END $$;
COMMENT ON FUNCTION retention.refresh_loyalty_job_as_owner(bigint, timestamptz) IS
	'internal: the run of a loyalty-tier job, as its owner in a security-restricted operation (refresh_loyalty_job and job runs)';

CREATE OR REPLACE FUNCTION retention.refresh_loyalty_job(job_name text, now timestamptz DEFAULT now())
	RETURNS bigint AS 'MODULE_PATHNAME', 'refresh_loyalty_job' LANGUAGE C PARALLEL UNSAFE;
COMMENT ON FUNCTION retention.refresh_loyalty_job(text, timestamptz) IS
	'run a loyalty-tier job''s refresh in the calling transaction, as the job''s owner, as of the date of "now" in the job''s time zone; returns the rows written';

REVOKE EXECUTE ON FUNCTION retention.refresh_loyalty_as_owner(bigint, date, boolean, boolean),
	retention.refresh_loyalty_job_as_owner(bigint, timestamptz), retention.loyalty_evaluate_as_owner(bigint, anyelement, date),
	retention.loyalty_validate() FROM PUBLIC;

-- Privileges of the extension's internals. A function with an internal argument is a support
-- function (aggregate transition and final functions, planner support): PostgreSQL calls it
-- without checking EXECUTE (aggregates check their owner's), and no user needs to call it.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace OPERATOR(pg_catalog.=) 'retention'::regnamespace
			   AND 'internal'::regtype OPERATOR(pg_catalog.=) ANY (p.proargtypes::oid[])
			 ORDER BY 1 LOOP
		EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END $$;

-- Issue 14: CLV a team can trust and act on (docs/clv.md). Everything below is new in 0.2.0
-- and created exactly as src/sql/50_clv.sql creates it in a fresh install.

-- Forecasts for one customer after the end of observation T: a window (T + t1, T + t2],
-- the conditional distribution of the purchases in it with a prediction interval, and CLV
-- as a schedule per period (docs/clv.md, "Forecasts").
CREATE FUNCTION retention.expected_purchases(model retention.bgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.mbgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'mbgnbd_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.paretonbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'paretonbd_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.bgbb_model, from_period integer, to_period integer, frequency integer, recency integer, periods integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgbb_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.bgnbd_model, n integer, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.mbgnbd_model, n integer, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'mbgnbd_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.paretonbd_model, n integer, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'paretonbd_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.bgbb_model, n integer, from_period integer, to_period integer, frequency integer, recency integer, periods integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgbb_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.bgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'bgnbd_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.mbgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'mbgnbd_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.paretonbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'paretonbd_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.bgbb_model, from_period integer, to_period integer, frequency integer, recency integer, periods integer,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'bgbb_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.clv_schedule(model retention.bgnbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS TABLE (period integer, t_start float8, t_end float8, expected_purchases float8, expected_spend float8,
	expected_revenue float8, discount_factor float8, discounted_value float8, cumulative_value float8, p_alive float8)
AS 'MODULE_PATHNAME', 'bgnbd_clv_schedule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
CREATE FUNCTION retention.clv_schedule(model retention.mbgnbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS TABLE (period integer, t_start float8, t_end float8, expected_purchases float8, expected_spend float8,
	expected_revenue float8, discount_factor float8, discounted_value float8, cumulative_value float8, p_alive float8)
AS 'MODULE_PATHNAME', 'mbgnbd_clv_schedule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
CREATE FUNCTION retention.clv_schedule(model retention.paretonbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS TABLE (period integer, t_start float8, t_end float8, expected_purchases float8, expected_spend float8,
	expected_revenue float8, discount_factor float8, discounted_value float8, cumulative_value float8, p_alive float8)
AS 'MODULE_PATHNAME', 'paretonbd_clv_schedule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION retention.expected_purchases(retention.bgnbd_model, float8, float8, integer, float8, float8) IS
	'BG/NBD: expected purchases in the window (T + t1, T + t2] of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.mbgnbd_model, float8, float8, integer, float8, float8) IS
	'MBG/NBD: expected purchases in the window (T + t1, T + t2] of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.paretonbd_model, float8, float8, integer, float8, float8) IS
	'Pareto/NBD: expected purchases in the window (T + t1, T + t2] of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.bgbb_model, integer, integer, integer, integer, integer) IS
	'BG/BB: expected transactions at opportunities periods + from_period + 1 .. periods + to_period of a customer with (frequency, recency, periods)';
COMMENT ON FUNCTION retention.prob_purchases(retention.bgnbd_model, integer, float8, float8, integer, float8, float8) IS
	'BG/NBD: probability that a customer with (frequency, recency, T) makes exactly n purchases in (T + t1, T + t2]';
COMMENT ON FUNCTION retention.prob_purchases(retention.mbgnbd_model, integer, float8, float8, integer, float8, float8) IS
	'MBG/NBD: probability that a customer with (frequency, recency, T) makes exactly n purchases in (T + t1, T + t2]';
COMMENT ON FUNCTION retention.prob_purchases(retention.paretonbd_model, integer, float8, float8, integer, float8, float8) IS
	'Pareto/NBD: probability that a customer with (frequency, recency, T) makes exactly n purchases in (T + t1, T + t2]';
COMMENT ON FUNCTION retention.prob_purchases(retention.bgbb_model, integer, integer, integer, integer, integer, integer) IS
	'BG/BB: probability that a customer with (frequency, recency, periods) makes exactly n transactions in the window of opportunities';
COMMENT ON FUNCTION retention.purchases_interval(retention.bgnbd_model, float8, float8, integer, float8, float8, float8) IS
	'BG/NBD: equal-tailed prediction interval for a customer''s purchases in (T + t1, T + t2], with its coverage and the expected purchases';
COMMENT ON FUNCTION retention.purchases_interval(retention.mbgnbd_model, float8, float8, integer, float8, float8, float8) IS
	'MBG/NBD: equal-tailed prediction interval for a customer''s purchases in (T + t1, T + t2], with its coverage and the expected purchases';
COMMENT ON FUNCTION retention.purchases_interval(retention.paretonbd_model, float8, float8, integer, float8, float8, float8) IS
	'Pareto/NBD: equal-tailed prediction interval for a customer''s purchases in (T + t1, T + t2], with its coverage and the expected purchases';
COMMENT ON FUNCTION retention.purchases_interval(retention.bgbb_model, integer, integer, integer, integer, integer, float8) IS
	'BG/BB: equal-tailed prediction interval for a customer''s transactions in the window of opportunities, with its coverage and the expected transactions';
COMMENT ON FUNCTION retention.clv_schedule(retention.bgnbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'CLV as a schedule (BG/NBD x Gamma-Gamma): per period expected purchases and revenue, discount factor, discounted value, P(alive); the discounted values add up to clv()';
COMMENT ON FUNCTION retention.clv_schedule(retention.mbgnbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'CLV as a schedule (MBG/NBD x Gamma-Gamma): per period expected purchases and revenue, discount factor, discounted value, P(alive); the discounted values add up to clv()';
COMMENT ON FUNCTION retention.clv_schedule(retention.paretonbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'CLV as a schedule (Pareto/NBD x Gamma-Gamma): per period expected purchases and revenue, discount factor, discounted value, P(alive); the discounted values add up to clv()';

-- The fitting state itself, for refits and the bootstrap: aggregates that stop at the
-- fit_state (combinable like the fitting aggregates), its patterns, and resamples of it.
CREATE AGGREGATE retention.fit_state_rft(frequency integer, recency float8, t float8) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_rft(frequency integer, recency float8, t float8, weight bigint) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_discrete(frequency integer, recency integer, periods integer) (
	SFUNC = retention.fit_state_discrete_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_discrete(frequency integer, recency integer, periods integer, weight bigint) (
	SFUNC = retention.fit_state_discrete_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_spend(frequency integer, monetary_value float8) (
	SFUNC = retention.fit_state_spend_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_spend(frequency integer, monetary_value float8, weight bigint) (
	SFUNC = retention.fit_state_spend_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_survival(periods integer, churned boolean) (
	SFUNC = retention.fit_state_survival_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_survival(periods integer, churned boolean, weight bigint) (
	SFUNC = retention.fit_state_survival_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.fit_state_rft(integer, float8, float8) IS
	'the fit_state of (frequency, recency, T) rows, as bgnbd_fit, paretonbd_fit and mbgnbd_fit build it (fit it with bgnbd_fit_final ...)';
COMMENT ON AGGREGATE retention.fit_state_rft(integer, float8, float8, bigint) IS
	'the fit_state of (frequency, recency, T) patterns with weights';
COMMENT ON AGGREGATE retention.fit_state_discrete(integer, integer, integer) IS
	'the fit_state of discrete-time (frequency, recency, periods) rows, as bgbb_fit builds it';
COMMENT ON AGGREGATE retention.fit_state_discrete(integer, integer, integer, bigint) IS
	'the fit_state of discrete-time (frequency, recency, periods) patterns with weights';
COMMENT ON AGGREGATE retention.fit_state_spend(integer, float8) IS
	'the fit_state of (frequency, mean repeat-purchase value) rows, as gammagamma_fit builds it';
COMMENT ON AGGREGATE retention.fit_state_spend(integer, float8, bigint) IS
	'the fit_state of (frequency, mean value) patterns with weights';
COMMENT ON AGGREGATE retention.fit_state_survival(integer, boolean) IS
	'the fit_state of (periods, churned) rows, as sbg_fit builds it';
COMMENT ON AGGREGATE retention.fit_state_survival(integer, boolean, bigint) IS
	'the fit_state of (periods, churned) patterns with weights';

CREATE FUNCTION retention.fit_state_patterns(state retention.fit_state)
RETURNS TABLE (frequency integer, recency float8, t float8, weight bigint)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_resample(state retention.fit_state, seed bigint, replicate integer)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.fit_state_patterns(retention.fit_state) IS
	'the patterns of an rft or discrete fit_state with their weights (t holds the periods of discrete states)';
COMMENT ON FUNCTION retention.fit_state_resample(retention.fit_state, bigint, integer) IS
	'bootstrap replicate number replicate of seed: the state''s customers drawn with replacement, as the *_bootstrap functions draw them (replicate 0: the state itself)';

CREATE FUNCTION retention.bgnbd_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.bgnbd_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.mbgnbd_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.mbgnbd_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.paretonbd_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.paretonbd_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.bgbb_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.bgbb_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.gammagamma_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.gammagamma_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.sbg_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.sbg_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.bgnbd_bootstrap(retention.fit_state, integer, bigint) IS
	'BG/NBD fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement (1 .. replicates); the same seed gives the same rows';
COMMENT ON FUNCTION retention.mbgnbd_bootstrap(retention.fit_state, integer, bigint) IS
	'MBG/NBD fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.paretonbd_bootstrap(retention.fit_state, integer, bigint) IS
	'Pareto/NBD fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.bgbb_bootstrap(retention.fit_state, integer, bigint) IS
	'BG/BB fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.gammagamma_bootstrap(retention.fit_state, integer, bigint) IS
	'Gamma-Gamma fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.sbg_bootstrap(retention.fit_state, integer, bigint) IS
	'sBG fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';

-- Holdout evaluation: how a fitted purchase model predicts customers' holdout purchases
-- (docs/clv.md, "Evaluation").
CREATE TYPE retention.holdout_state;
CREATE FUNCTION retention.holdout_state_in(cstring) RETURNS retention.holdout_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_state_out(retention.holdout_state) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_state_recv(internal) RETURNS retention.holdout_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_state_send(retention.holdout_state) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.holdout_state (
	INPUT = retention.holdout_state_in,
	OUTPUT = retention.holdout_state_out,
	RECEIVE = retention.holdout_state_recv,
	SEND = retention.holdout_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE retention.holdout_state IS
	'state of holdout_agg: the model, totals, errors and moments of predicted against actual holdout purchases, per calibration frequency';
COMMENT ON FUNCTION retention.holdout_state_in(cstring) IS 'text input of holdout_state';
COMMENT ON FUNCTION retention.holdout_state_out(retention.holdout_state) IS 'canonical text output of holdout_state';
COMMENT ON FUNCTION retention.holdout_state_recv(internal) IS 'binary input of holdout_state';
COMMENT ON FUNCTION retention.holdout_state_send(retention.holdout_state) IS 'binary output of holdout_state';

CREATE FUNCTION retention.holdout_bgnbd_accum(retention.holdout_state, retention.bgnbd_model, integer, float8, float8, float8, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_bgnbd_rfm_accum(retention.holdout_state, retention.bgnbd_model, retention.rfm_holdout)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_mbgnbd_accum(retention.holdout_state, retention.mbgnbd_model, integer, float8, float8, float8, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_mbgnbd_rfm_accum(retention.holdout_state, retention.mbgnbd_model, retention.rfm_holdout)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_paretonbd_accum(retention.holdout_state, retention.paretonbd_model, integer, float8, float8, float8, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_paretonbd_rfm_accum(retention.holdout_state, retention.paretonbd_model, retention.rfm_holdout)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_bgbb_accum(retention.holdout_state, retention.bgbb_model, integer, integer, integer, integer, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_combine(retention.holdout_state, retention.holdout_state)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.holdout_bgnbd_accum(retention.holdout_state, retention.bgnbd_model, integer, float8, float8, float8, integer) IS
	'transition of holdout_agg (BG/NBD)';
COMMENT ON FUNCTION retention.holdout_bgnbd_rfm_accum(retention.holdout_state, retention.bgnbd_model, retention.rfm_holdout) IS
	'transition of holdout_agg (BG/NBD, rfm_holdout rows)';
COMMENT ON FUNCTION retention.holdout_mbgnbd_accum(retention.holdout_state, retention.mbgnbd_model, integer, float8, float8, float8, integer) IS
	'transition of holdout_agg (MBG/NBD)';
COMMENT ON FUNCTION retention.holdout_mbgnbd_rfm_accum(retention.holdout_state, retention.mbgnbd_model, retention.rfm_holdout) IS
	'transition of holdout_agg (MBG/NBD, rfm_holdout rows)';
COMMENT ON FUNCTION retention.holdout_paretonbd_accum(retention.holdout_state, retention.paretonbd_model, integer, float8, float8, float8, integer) IS
	'transition of holdout_agg (Pareto/NBD)';
COMMENT ON FUNCTION retention.holdout_paretonbd_rfm_accum(retention.holdout_state, retention.paretonbd_model, retention.rfm_holdout) IS
	'transition of holdout_agg (Pareto/NBD, rfm_holdout rows)';
COMMENT ON FUNCTION retention.holdout_bgbb_accum(retention.holdout_state, retention.bgbb_model, integer, integer, integer, integer, integer) IS
	'transition of holdout_agg (BG/BB)';
COMMENT ON FUNCTION retention.holdout_combine(retention.holdout_state, retention.holdout_state) IS
	'combine function of holdout_agg';

CREATE AGGREGATE retention.holdout_agg(model retention.bgnbd_model, frequency integer, recency float8, "T" float8, duration float8, actual integer) (
	SFUNC = retention.holdout_bgnbd_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.holdout_agg(model retention.bgnbd_model, customer retention.rfm_holdout) (
	SFUNC = retention.holdout_bgnbd_rfm_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.bgnbd_model, integer, float8, float8, float8, integer) IS
	'BG/NBD holdout evaluation: customers'' calibration (frequency, recency, T), holdout length and actual holdout purchases against the model''s expected purchases';
COMMENT ON AGGREGATE retention.holdout_agg(retention.bgnbd_model, retention.rfm_holdout) IS
	'BG/NBD holdout evaluation of rfm_holdout_agg rows';
CREATE AGGREGATE retention.holdout_agg(model retention.mbgnbd_model, frequency integer, recency float8, "T" float8, duration float8, actual integer) (
	SFUNC = retention.holdout_mbgnbd_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.holdout_agg(model retention.mbgnbd_model, customer retention.rfm_holdout) (
	SFUNC = retention.holdout_mbgnbd_rfm_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.mbgnbd_model, integer, float8, float8, float8, integer) IS
	'MBG/NBD holdout evaluation: customers'' calibration (frequency, recency, T), holdout length and actual holdout purchases against the model''s expected purchases';
COMMENT ON AGGREGATE retention.holdout_agg(retention.mbgnbd_model, retention.rfm_holdout) IS
	'MBG/NBD holdout evaluation of rfm_holdout_agg rows';
CREATE AGGREGATE retention.holdout_agg(model retention.paretonbd_model, frequency integer, recency float8, "T" float8, duration float8, actual integer) (
	SFUNC = retention.holdout_paretonbd_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.holdout_agg(model retention.paretonbd_model, customer retention.rfm_holdout) (
	SFUNC = retention.holdout_paretonbd_rfm_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.paretonbd_model, integer, float8, float8, float8, integer) IS
	'Pareto/NBD holdout evaluation: customers'' calibration (frequency, recency, T), holdout length and actual holdout purchases against the model''s expected purchases';
COMMENT ON AGGREGATE retention.holdout_agg(retention.paretonbd_model, retention.rfm_holdout) IS
	'Pareto/NBD holdout evaluation of rfm_holdout_agg rows';
CREATE AGGREGATE retention.holdout_agg(model retention.bgbb_model, frequency integer, recency integer, periods integer, future_periods integer, actual integer) (
	SFUNC = retention.holdout_bgbb_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.bgbb_model, integer, integer, integer, integer, integer) IS
	'BG/BB holdout evaluation: calibration (frequency, recency, periods), holdout opportunities and actual holdout transactions against the expected';

CREATE FUNCTION retention.holdout_metrics(state retention.holdout_state, OUT customers bigint, OUT actual bigint,
	OUT predicted float8, OUT mae float8, OUT rmse float8, OUT bias float8, OUT correlation float8)
RETURNS record AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_table(state retention.holdout_state, max_frequency integer DEFAULT 7)
RETURNS TABLE (frequency integer, and_more boolean, customers bigint, actual bigint, predicted float8,
	mean_actual float8, mean_predicted float8)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION retention.holdout_metrics(retention.holdout_state) IS
	'customers, actual and predicted holdout purchases in total, mean absolute error, root mean squared error, bias (mean predicted - actual) and correlation of a holdout evaluation';
COMMENT ON FUNCTION retention.holdout_table(retention.holdout_state, integer) IS
	'calibration against holdout purchases by calibration frequency 0 .. max_frequency - 1 and max_frequency and more: customers, actual and predicted totals and means';

-- Tracking: expected against actual repeat purchases per period of a population that
-- joined over time (Fader, Hardie & Lee 2005, Figure 1).
CREATE TYPE retention.tracking_state;
CREATE FUNCTION retention.tracking_state_in(cstring) RETURNS retention.tracking_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.tracking_state_out(retention.tracking_state) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.tracking_state_recv(internal) RETURNS retention.tracking_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.tracking_state_send(retention.tracking_state) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.tracking_state (
	INPUT = retention.tracking_state_in,
	OUTPUT = retention.tracking_state_out,
	RECEIVE = retention.tracking_state_recv,
	SEND = retention.tracking_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE retention.tracking_state IS
	'state of tracking_agg: customers'' first purchases (births) and repeat purchase periods per period (text form "first period:births,repeats;...")';
COMMENT ON FUNCTION retention.tracking_state_in(cstring) IS 'text input of tracking_state';
COMMENT ON FUNCTION retention.tracking_state_out(retention.tracking_state) IS 'text output of tracking_state';
COMMENT ON FUNCTION retention.tracking_state_recv(internal) IS 'binary input of tracking_state';
COMMENT ON FUNCTION retention.tracking_state_send(retention.tracking_state) IS 'binary output of tracking_state';
CREATE FUNCTION retention.tracking_accum(retention.tracking_state, retention.customer_activity)
RETURNS retention.tracking_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_combine(retention.tracking_state, retention.tracking_state)
RETURNS retention.tracking_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_accum(retention.tracking_state, retention.customer_activity) IS 'transition of tracking_agg';
COMMENT ON FUNCTION retention.tracking_combine(retention.tracking_state, retention.tracking_state) IS 'combine function of tracking_agg';
CREATE AGGREGATE retention.tracking_agg(activity retention.customer_activity) (
	SFUNC = retention.tracking_accum, STYPE = retention.tracking_state,
	COMBINEFUNC = retention.tracking_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.tracking_agg(retention.customer_activity) IS
	'tracking state of customers'' activities (one per customer, by day, week, month, ...): first purchases and repeat purchase periods per period';

CREATE FUNCTION retention.tracking_table(model retention.bgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'bgnbd_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.bgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'bgnbd_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.bgnbd_model, retention.tracking_state, text, integer, date, integer) IS
	'BG/NBD tracking: expected and actual repeat purchases per report period (report_periods periods of the activities each, model time in time_unit), cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.bgnbd_model, retention.tracking_state, text, integer, date, integer, boolean, text) IS
	'BG/NBD tracking as an SVG line chart: actual and expected repeat purchases per period or cumulative, the calibration end marked';
CREATE FUNCTION retention.tracking_table(model retention.mbgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'mbgnbd_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.mbgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mbgnbd_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.mbgnbd_model, retention.tracking_state, text, integer, date, integer) IS
	'MBG/NBD tracking: expected and actual repeat purchases per report period (report_periods periods of the activities each, model time in time_unit), cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.mbgnbd_model, retention.tracking_state, text, integer, date, integer, boolean, text) IS
	'MBG/NBD tracking as an SVG line chart: actual and expected repeat purchases per period or cumulative, the calibration end marked';
CREATE FUNCTION retention.tracking_table(model retention.paretonbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'paretonbd_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.paretonbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'paretonbd_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.paretonbd_model, retention.tracking_state, text, integer, date, integer) IS
	'Pareto/NBD tracking: expected and actual repeat purchases per report period (report_periods periods of the activities each, model time in time_unit), cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.paretonbd_model, retention.tracking_state, text, integer, date, integer, boolean, text) IS
	'Pareto/NBD tracking as an SVG line chart: actual and expected repeat purchases per period or cumulative, the calibration end marked';
CREATE FUNCTION retention.tracking_table(model retention.bgbb_model, state retention.tracking_state,
	report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'bgbb_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.bgbb_model, state retention.tracking_state,
	report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'bgbb_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.bgbb_model, retention.tracking_state, integer, date, integer) IS
	'BG/BB tracking: expected and actual transactions per report period, one opportunity per period of the activities, cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.bgbb_model, retention.tracking_state, integer, date, integer, boolean, text) IS
	'BG/BB tracking as an SVG line chart: actual and expected transactions per period or cumulative, the calibration end marked';

-- RFM scores and segments: quintile thresholds of a customer base in one aggregate, then
-- each customer's scores and segment against them (docs/clv.md, "Segments").
CREATE TYPE retention.rfm_quantile_state;
CREATE FUNCTION retention.rfm_quantile_state_in(cstring) RETURNS retention.rfm_quantile_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_state_out(retention.rfm_quantile_state) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_state_recv(internal) RETURNS retention.rfm_quantile_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_state_send(retention.rfm_quantile_state) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.rfm_quantile_state (
	INPUT = retention.rfm_quantile_state_in,
	OUTPUT = retention.rfm_quantile_state_out,
	RECEIVE = retention.rfm_quantile_state_recv,
	SEND = retention.rfm_quantile_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE retention.rfm_quantile_state IS
	'state of rfm_score_agg: the distinct recency, frequency and monetary values with their counts (text form "customers|v:c,...|...|...")';
COMMENT ON FUNCTION retention.rfm_quantile_state_in(cstring) IS 'text input of rfm_quantile_state';
COMMENT ON FUNCTION retention.rfm_quantile_state_out(retention.rfm_quantile_state) IS 'canonical text output of rfm_quantile_state';
COMMENT ON FUNCTION retention.rfm_quantile_state_recv(internal) IS 'binary input of rfm_quantile_state';
COMMENT ON FUNCTION retention.rfm_quantile_state_send(retention.rfm_quantile_state) IS 'binary output of rfm_quantile_state';
CREATE TYPE retention.rfm_scores AS (customers bigint, recency_thresholds float8[],
	frequency_thresholds float8[], monetary_thresholds float8[]);
COMMENT ON TYPE retention.rfm_scores IS
	'quintile thresholds of a customer base (rfm_score_agg), worst to best per dimension: what rfm_score and rfm_segment score customers against';
CREATE FUNCTION retention.rfm_quantile_accum(retention.rfm_quantile_state, float8, float8, float8)
RETURNS retention.rfm_quantile_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_combine(retention.rfm_quantile_state, retention.rfm_quantile_state)
RETURNS retention.rfm_quantile_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.rfm_score_final(retention.rfm_quantile_state)
RETURNS retention.rfm_scores AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.rfm_quantile_accum(retention.rfm_quantile_state, float8, float8, float8) IS 'transition of rfm_score_agg';
COMMENT ON FUNCTION retention.rfm_quantile_combine(retention.rfm_quantile_state, retention.rfm_quantile_state) IS 'combine function of rfm_score_agg';
COMMENT ON FUNCTION retention.rfm_score_final(retention.rfm_quantile_state) IS 'final function of rfm_score_agg: the quintile thresholds';
CREATE AGGREGATE retention.rfm_score_agg(recency float8, frequency float8, monetary float8) (
	SFUNC = retention.rfm_quantile_accum, STYPE = retention.rfm_quantile_state,
	COMBINEFUNC = retention.rfm_quantile_combine, FINALFUNC = retention.rfm_score_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.rfm_score_agg(float8, float8, float8) IS
	'quintile thresholds of customers'' recency (time since the last purchase), frequency and monetary value, for rfm_score and rfm_segment';
CREATE FUNCTION retention.rfm_score(scores retention.rfm_scores, recency float8, frequency float8, monetary float8,
	OUT r integer, OUT f integer, OUT m integer, OUT segment text)
RETURNS record AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_segment(scores retention.rfm_scores, recency float8, frequency float8, monetary float8)
RETURNS text AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_segment(r integer, f integer, m integer)
RETURNS text AS 'MODULE_PATHNAME', 'rfm_segment_of' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.rfm_score(retention.rfm_scores, float8, float8, float8) IS
	'a customer''s recency, frequency and monetary scores (1-5, quintiles of the population in scores) and segment';
COMMENT ON FUNCTION retention.rfm_segment(retention.rfm_scores, float8, float8, float8) IS
	'a customer''s named segment (Champions, Loyal, ..., Lost) from their scores against the population''s quintiles';
COMMENT ON FUNCTION retention.rfm_segment(integer, integer, integer) IS
	'the named segment of recency, frequency and monetary scores (each 1-5)';

-- At risk: why a scored customer needs attention, comparing this scoring with the last.
CREATE FUNCTION retention.at_risk(p_alive float8, previous_p_alive float8, expected float8,
	previous_expected float8, value float8, p_alive_drop float8 DEFAULT 0.2,
	expected_drop float8 DEFAULT 0.5, high_value float8 DEFAULT NULL, low_p_alive float8 DEFAULT 0.3)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
	WHEN previous_p_alive - p_alive > p_alive_drop THEN 'p_alive fell'
	WHEN previous_expected > 0 AND (previous_expected - expected) / previous_expected > expected_drop
		THEN 'expected purchases fell'
	WHEN value >= high_value AND p_alive < low_p_alive THEN 'valuable and likely gone'
END;
COMMENT ON FUNCTION retention.at_risk(float8, float8, float8, float8, float8, float8, float8, float8, float8) IS
	'why a customer is at risk, or NULL: P(alive) fell by more than p_alive_drop since the previous scoring, expected purchases fell by more than the share expected_drop, or value is at least high_value with P(alive) below low_p_alive';

-- Functions with internal arguments are support functions: not executable by PUBLIC (as
-- src/sql/90_privileges.sql does for a fresh install).
REVOKE EXECUTE ON FUNCTION retention.holdout_state_recv(internal), retention.tracking_state_recv(internal),
	retention.rfm_quantile_state_recv(internal) FROM PUBLIC;

-- Issue 12: pg_retention on Citus. Refreshes over a distributed source keep one watermark per
-- node group, taken on that node (jobs.node_watermarks, loyalty_programs.node_watermarks), and
-- filter the shards with xmin_is_new_on_node; reference tables and replicated shards are
-- refused for incremental refresh; jobs are refused on worker nodes; cohort jobs may keep
-- distributed targets (targets => 'distributed'); loyalty days of timestamptz rows use
-- local_date(ts, zone), right on workers whatever their TimeZone; a loyalty refresh over a
-- Citus table evaluates its customers in a statement of its own (query_rows).

COMMENT ON FUNCTION retention.customer_period(timestamptz, text) IS
	'the period of the given kind that contains the timestamp''s date in the session time zone of the node that evaluates it (under Citus a worker''s: prefer the form with a time zone)';

CREATE FUNCTION retention.local_date(timestamptz, tz text) RETURNS date
	AS 'MODULE_PATHNAME', 'local_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.local_date(timestamptz, text) IS
	'the calendar date of an instant in the given time zone, as (ts AT TIME ZONE tz)::date but with the zone looked up once per query; the same on every node';

CREATE FUNCTION retention.node_group() RETURNS int
	AS 'MODULE_PATHNAME', 'node_group' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.node_group() IS
	'this server''s Citus node group (pg_dist_local_group: 0 on the coordinator), NULL when Citus is not installed';

CREATE FUNCTION retention.xmin_is_new_on_node(tableoid oid, ctid tid, xmin xid, groups int[], since xid8[], upto xid8[])
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'xmin_is_new_on_node' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.xmin_is_new_on_node(oid, tid, xid, int[], xid8[], xid8[]) IS
	'xmin_is_new with the transaction window [since[i], upto[i]) of the Citus node group groups[i] that evaluates it; the watermark test of refreshes over distributed tables, pushed down to the shards';

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

CREATE FUNCTION retention.node_watermark(old jsonb) RETURNS jsonb
	LANGUAGE sql STABLE SET search_path = pg_catalog, retention, pg_temp
	RETURN (SELECT jsonb_build_object('group', g, 'upto', upto::text,
									  'usable', coalesce(retention.watermark_usable((old->>(g::text))::xid8, upto), false))
			FROM (SELECT retention.node_group() AS g, pg_snapshot_xmin(pg_current_snapshot()) AS upto) x);
COMMENT ON FUNCTION retention.node_watermark(jsonb) IS
	'internal: this node''s Citus group, the xmin of a new snapshot, and whether the old watermark of this group can be gone on from';

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

CREATE FUNCTION retention.source_changes(src regclass, watermark xid8, node_watermarks jsonb,
	want_incremental boolean, open_end boolean, what text,
	OUT incremental boolean, OUT scan text, OUT filter text, OUT new_watermark xid8, OUT new_node_watermarks jsonb)
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	kind text := (retention.citus_layout(src)).kind;
	usable boolean;
	top xid8 := '18446744073709551615';
BEGIN
	incremental := false;
	scan := src::text;
	filter := 'true';
	IF kind = 'distributed' AND NOT row_security_active(src) THEN
		SELECT x.taken, x.usable INTO new_node_watermarks, usable FROM retention.node_watermarks(src, node_watermarks) x;
		incremental := want_incremental AND usable;
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
		incremental := want_incremental AND retention.watermark_usable(watermark, new_watermark);
		SELECT x.scan, x.filter INTO scan, filter
		FROM retention.new_rows_scan(src, CASE WHEN incremental THEN watermark ELSE '0' END,
									 CASE WHEN open_end THEN top ELSE new_watermark END) x;
	END IF;
END $$;
COMMENT ON FUNCTION retention.source_changes(regclass, xid8, jsonb, boolean, boolean, text) IS
	'internal: how a refresh reads its source (all rows, or those added since the stored watermark or per-node watermarks) and the watermark(s) it leaves; an error for an incremental refresh of a Citus source whose changes cannot be tracked';

ALTER TABLE retention.jobs ADD COLUMN node_watermarks jsonb;
COMMENT ON COLUMN retention.jobs.node_watermarks IS
	'for a source distributed by Citus, the watermark of each node group holding its shards, taken on that node, and a digest of the shard placements: {"layout": ..., "nodes": {group: id}}';

CREATE OR REPLACE FUNCTION retention.refresh_cohort_job_as_owner(job_id bigint, full_refresh boolean, now timestamptz)
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

DROP FUNCTION retention.create_cohort_job(text, regclass, text, text, text, text, text, text, text, text, text);
DROP FUNCTION retention.create_cohort_job_in(name, text, regclass, text, text, text, text, text, text, text, text, text);

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

CREATE FUNCTION retention.create_cohort_job(
	job_name text, source regclass, customer_column text, time_column text, amount_column text,
	period_kind text, activity_table text, cohort_table text, schedule text,
	timezone text DEFAULT 'UTC', mode text DEFAULT 'on', targets text DEFAULT 'local')
	RETURNS bigint LANGUAGE sql
	RETURN retention.create_cohort_job_in(pg_catalog.current_schema(), job_name, source, customer_column,
		time_column, amount_column, period_kind, activity_table, cohort_table, schedule, timezone, mode, targets);
COMMENT ON FUNCTION retention.create_cohort_job(text, regclass, text, text, text, text, text, text, text, text, text, text) IS
	'create a cohort-refresh job: creates the activity and cohort tables (unqualified names in the current schema; targets => ''distributed'' under Citus: the activity table colocated with the distributed source, the cohort table a reference table), which the job keeps fresh from the source on the schedule; the job runs as the calling role';

ALTER TABLE retention.loyalty_programs ADD COLUMN node_watermarks jsonb;
COMMENT ON COLUMN retention.loyalty_programs.node_watermarks IS
	'for a source distributed by Citus, the watermark of each node group holding its shards as of the last refresh, taken on that node, and a digest of the shard placements; NULL as watermark is';

CREATE OR REPLACE FUNCTION retention.loyalty_validate() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	p retention.loyalty_programs := NEW;
	src regclass;
	relk "char";
	t jsonb;
	k text;
	n int;
	prev record;
	typ regtype;
	msg text;
	state text;
BEGIN
	-- a refresh recording its date needs no new validation
	IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - '{last_as_of,last_refresh,watermark,node_watermarks}'::text[]
		= to_jsonb(OLD) - '{last_as_of,last_refresh,watermark,node_watermarks}'::text[] THEN
		RETURN NEW;
	END IF;
	-- the program runs as its owner: only roles that may become the owner define it (the row
	-- level security check comes after this trigger, which runs the owner's code)
	IF NOT retention.can_run_as(p.owner) THEN
		RAISE EXCEPTION 'permission denied to define a loyalty program owned by %', p.owner
			USING ERRCODE = 'insufficient_privilege',
			DETAIL = 'A program runs as its owner; only the owner, roles that may SET ROLE to it and superusers may define it.';
	END IF;
	-- changed rules: the stored states no longer apply, the next refresh replays everyone
	NEW.watermark := NULL;
	NEW.node_watermarks := NULL;
	IF p.program_name IS NULL OR p.program_name = '' THEN
		RAISE EXCEPTION 'loyalty program name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p.qualification_window IS NULL
		OR p.qualification_window NOT IN ('calendar_year', 'fiscal_year', 'rolling_months', 'anniversary_year') THEN
		RAISE EXCEPTION 'unknown qualification window "%"', p.qualification_window
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use calendar_year, fiscal_year, rolling_months or anniversary_year.';
	END IF;
	IF p.qualification_window = 'rolling_months' THEN
		IF p.window_months IS NULL OR p.window_months < 1 OR p.window_months > 120 THEN
			RAISE EXCEPTION 'a rolling_months window needs window_months between 1 and 120, not %',
				coalesce(p.window_months::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF p.status_years IS NOT NULL THEN
			RAISE EXCEPTION 'status_years applies to year windows only'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'A rolling_months program holds a status for status_months.';
		END IF;
		NEW.status_months := coalesce(p.status_months, 0);
	ELSE
		IF p.window_months IS NOT NULL THEN
			RAISE EXCEPTION 'window_months applies to rolling_months windows only' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF p.status_months IS NOT NULL THEN
			RAISE EXCEPTION 'status_months applies to rolling_months windows only'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'A year-window program holds a status for status_years.';
		END IF;
		NEW.status_years := coalesce(p.status_years, 1);
	END IF;
	IF coalesce(NEW.status_years, 0) < 0 OR coalesce(NEW.status_years, 0) > 10
		OR coalesce(NEW.status_months, 0) < 0 OR coalesce(NEW.status_months, 0) > 120 THEN
		RAISE EXCEPTION 'status duration out of range' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'status_years must be between 0 and 10, status_months between 0 and 120.';
	END IF;
	IF p.qualification_window = 'fiscal_year' THEN
		IF p.fiscal_first_month IS NULL OR p.fiscal_first_month NOT BETWEEN 1 AND 12 THEN
			RAISE EXCEPTION 'a fiscal_year window needs fiscal_first_month between 1 and 12, not %',
				coalesce(p.fiscal_first_month::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSIF p.fiscal_first_month IS NOT NULL THEN
		RAISE EXCEPTION 'fiscal_first_month applies to fiscal_year windows only' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p.downgrade_policy NOT IN ('reevaluate', 'one_tier') THEN
		RAISE EXCEPTION 'unknown downgrade policy "%"', p.downgrade_policy USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use reevaluate (fall to the tier still qualified for) or one_tier (one rank at a time).';
	END IF;
	IF p.grace_days < 0 OR p.grace_days > 3660 THEN
		RAISE EXCEPTION 'grace period of % days is out of range', p.grace_days USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'The grace period must be between 0 and 3660 days.';
	END IF;
	IF p.match NOT IN ('all', 'any') THEN
		RAISE EXCEPTION 'unknown threshold match "%"', p.match USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use all (every threshold of a tier must be met) or any (one is enough).';
	END IF;
	IF p.base_tier IS NULL OR p.base_tier = '' THEN
		RAISE EXCEPTION 'base tier name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM now() AT TIME ZONE p.timezone;		-- validates the time zone

	-- tiers
	IF jsonb_typeof(p.tiers) IS DISTINCT FROM 'array' OR jsonb_array_length(p.tiers) = 0 THEN
		RAISE EXCEPTION 'tiers must be a non-empty JSON array' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'For example: [{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 1000}].';
	END IF;
	FOR t IN SELECT x FROM jsonb_array_elements(p.tiers) x LOOP
		IF jsonb_typeof(t) <> 'object' THEN
			RAISE EXCEPTION 'a tier must be a JSON object, not %', t USING ERRCODE = 'invalid_parameter_value';
		END IF;
		FOR k IN SELECT jsonb_object_keys(t) LOOP
			IF k NOT IN ('name', 'rank', 'min_amount', 'min_orders') THEN
				RAISE EXCEPTION 'unknown tier attribute "%"', k USING ERRCODE = 'invalid_parameter_value',
					HINT = 'A tier has a name, a rank, min_amount and/or min_orders.';
			END IF;
		END LOOP;
		IF jsonb_typeof(t->'name') IS DISTINCT FROM 'string' OR t->>'name' = '' THEN
			RAISE EXCEPTION 'every tier needs a non-empty name' USING ERRCODE = 'invalid_parameter_value',
				DETAIL = format('Tier %s has none.', t);
		END IF;
		IF jsonb_typeof(t->'rank') IS DISTINCT FROM 'number' OR (t->>'rank')::numeric <> trunc((t->>'rank')::numeric)
			OR (t->>'rank')::numeric NOT BETWEEN 1 AND 1000 THEN
			RAISE EXCEPTION 'tier "%" needs a whole rank between 1 and 1000', t->>'name'
				USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Rank 0 is the base tier.';
		END IF;
		IF t ? 'min_amount' AND jsonb_typeof(t->'min_amount') IS DISTINCT FROM 'number' THEN
			RAISE EXCEPTION 'min_amount of tier "%" must be a number', t->>'name' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF t ? 'min_orders' AND (jsonb_typeof(t->'min_orders') IS DISTINCT FROM 'number'
								 OR (t->>'min_orders')::numeric <> trunc((t->>'min_orders')::numeric)) THEN
			RAISE EXCEPTION 'min_orders of tier "%" must be a whole number', t->>'name' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF (t->>'min_amount')::numeric <> round((t->>'min_amount')::numeric, 4) THEN
			RAISE EXCEPTION 'min_amount of tier "%" has more than 4 decimal places', t->>'name'
				USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Amounts are exact to 1/10000.';
		END IF;
		IF (t->>'min_amount')::numeric < 0 OR (t->>'min_orders')::numeric < 0 THEN
			RAISE EXCEPTION 'tier "%" has a negative threshold', t->>'name' USING ERRCODE = 'invalid_parameter_value',
				DETAIL = 'Thresholds on spend and orders must be zero or more.';
		END IF;
		IF (t->>'min_orders')::numeric > 2147483647 THEN
			RAISE EXCEPTION 'min_orders of tier "%" is out of range', t->>'name' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NOT (t ? 'min_amount' OR t ? 'min_orders') THEN
			RAISE EXCEPTION 'tier "%" has no threshold', t->>'name' USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Give min_amount, min_orders or both.';
		END IF;
		IF t ? 'min_amount' AND p.amount_column IS NULL THEN
			RAISE EXCEPTION 'tier "%" has a spend threshold but the program has no amount column', t->>'name'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	SELECT x->>'name' INTO k FROM jsonb_array_elements(p.tiers) x
	GROUP BY x->>'name' HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'duplicate tier name "%"', k USING ERRCODE = 'duplicate_object';
	END IF;
	IF EXISTS (SELECT FROM jsonb_array_elements(p.tiers) x WHERE x->>'name' = p.base_tier) THEN
		RAISE EXCEPTION 'tier name "%" is the base tier''s name', p.base_tier USING ERRCODE = 'duplicate_object';
	END IF;
	SELECT (x->>'rank')::int INTO n FROM jsonb_array_elements(p.tiers) x
	GROUP BY (x->>'rank')::int HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'duplicate tier rank %', n USING ERRCODE = 'duplicate_object';
	END IF;
	-- every threshold a tier shares with a lower tier must be higher than that tier's
	SELECT lo.x->>'name' AS lo_name, hi.x->>'name' AS hi_name,
		   CASE WHEN (hi.x->>'min_amount')::numeric <= (lo.x->>'min_amount')::numeric THEN 'spend' ELSE 'orders' END AS what
	INTO prev
	FROM jsonb_array_elements(p.tiers) lo(x), jsonb_array_elements(p.tiers) hi(x)
	WHERE (hi.x->>'rank')::int > (lo.x->>'rank')::int
	  AND ((hi.x->>'min_amount')::numeric <= (lo.x->>'min_amount')::numeric
		   OR (hi.x->>'min_orders')::numeric <= (lo.x->>'min_orders')::numeric)
	ORDER BY (lo.x->>'rank')::int, (hi.x->>'rank')::int LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'tier thresholds must increase with rank' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Tier "%s" ranks above "%s" but its %s threshold is not higher.', prev.hi_name, prev.lo_name, prev.what);
	END IF;

	-- the source and its columns
	src := to_regclass(p.source);
	IF src IS NULL THEN
		RAISE EXCEPTION 'relation "%" does not exist', p.source USING ERRCODE = 'undefined_table';
	END IF;
	SELECT c.relkind, format('%I.%I', s.nspname, c.relname) INTO relk, NEW.source
	FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE c.oid = src;
	IF relk NOT IN ('r', 'p', 'v', 'm', 'f') THEN
		RAISE EXCEPTION '"%" is not a table or view', p.source USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT has_table_privilege(p.owner, src, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', p.source USING ERRCODE = 'insufficient_privilege',
			DETAIL = format('A loyalty program reads its source as its owner, %s, who may not read it.', p.owner);
	END IF;
	PERFORM retention.refuse_untracked_citus_source(src, format('loyalty program "%s"', p.program_name), true);
	SELECT a.atttypid INTO typ FROM pg_attribute a
	WHERE a.attrelid = src AND a.attname = p.customer_column AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', p.customer_column, p.source USING ERRCODE = 'undefined_column';
	END IF;
	SELECT a.atttypid INTO typ FROM pg_attribute a
	WHERE a.attrelid = src AND a.attname = p.time_column AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', p.time_column, p.source USING ERRCODE = 'undefined_column';
	END IF;
	IF typ NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
		RAISE EXCEPTION 'time column "%" is of type %', p.time_column, typ USING ERRCODE = 'datatype_mismatch',
			HINT = 'Use a date, timestamp or timestamptz column.';
	END IF;
	IF p.amount_column IS NOT NULL THEN
		SELECT a.atttypid INTO typ FROM pg_attribute a
		WHERE a.attrelid = src AND a.attname = p.amount_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'column "%" of relation "%" does not exist', p.amount_column, p.source USING ERRCODE = 'undefined_column';
		END IF;
		IF typ NOT IN ('numeric'::regtype, 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype,
					   'real'::regtype, 'double precision'::regtype) THEN
			RAISE EXCEPTION 'amount column "%" is of type %', p.amount_column, typ USING ERRCODE = 'datatype_mismatch',
				HINT = 'Use a numeric, integer or floating-point column.';
		END IF;
	END IF;
	IF p.exclude IS NOT NULL THEN
		IF p.exclude ~ '(;|--|/\*)' OR btrim(p.exclude) = '' THEN
			RAISE EXCEPTION 'invalid exclusion expression: %', p.exclude USING ERRCODE = 'syntax_error',
				DETAIL = 'An exclusion is one boolean expression, without semicolons or comments.';
		END IF;
		BEGIN
			-- the expression is the owner's code: planned as the owner, restricted (src/job_run.c)
			PERFORM retention.loyalty_check_exclusion(p.owner, src, p.exclude);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
			RAISE EXCEPTION 'invalid exclusion expression: %', p.exclude USING ERRCODE = state,
				DETAIL = msg, HINT = 'Write a boolean expression on the source row, aliased s, such as s.amount < 0.';
		END;
	END IF;
	RETURN NEW;
END $$;
COMMENT ON FUNCTION retention.loyalty_validate() IS
	'internal: reject a loyalty program row that breaks a rule (window, thresholds, tiers, source columns, exclusion)';

CREATE OR REPLACE FUNCTION retention.loyalty_eval_sql(p retention.loyalty_programs, as_of date, cond text DEFAULT 'true',
	resume_after date DEFAULT NULL, state_cond text DEFAULT 'false')
	RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	src regclass := to_regclass(p.source);
	col text;
	rows text;
	amount text;
	counted text;
	day text;
BEGIN
	IF src IS NULL THEN
		RAISE EXCEPTION 'relation "%" of loyalty program "%" does not exist', p.source, p.program_name
			USING ERRCODE = 'undefined_table', HINT = 'Recreate the table, or point the program at another source.';
	END IF;
	-- the source may have changed since the program was defined
	FOREACH col IN ARRAY ARRAY[p.customer_column, p.time_column, p.amount_column] LOOP
		IF col IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = src AND a.attname = col
										   AND a.attnum > 0 AND NOT a.attisdropped) THEN
			RAISE EXCEPTION 'column "%" of relation "%" does not exist', col, p.source
				USING ERRCODE = 'undefined_column',
				HINT = format('Loyalty program "%s" reads it; restore the column or change the program.', p.program_name);
		END IF;
	END LOOP;
	amount := CASE WHEN p.amount_column IS NULL THEN '0::numeric' ELSE format('s.%I::numeric', p.amount_column) END;
	counted := CASE WHEN p.exclude IS NULL THEN 'true' ELSE format('NOT coalesce((%s)::boolean, false)', p.exclude) END;
	-- the day of a row: a timestamptz's in the program's time zone, named in the query so that
	-- every node reading rows (Citus workers too) takes the same day; local_date looks the zone
	-- up once per query, where AT TIME ZONE does so for each row
	IF (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = src AND a.attname = p.time_column
		AND a.attnum > 0 AND NOT a.attisdropped) = 'timestamptz'::regtype THEN
		day := format('retention.local_date(s.%I, %L)', p.time_column, p.timezone);
	ELSE
		day := format('s.%I::date', p.time_column);
	END IF;
	-- the source rows up to as_of
	rows := format('FROM %1$s s WHERE s.%2$I IS NOT NULL AND s.%3$I < %4$s AND (%5$s)',
				   src, p.customer_column, p.time_column, retention.loyalty_day_start(p, as_of + 1), cond);
	IF resume_after IS NULL THEN
		RETURN format('SELECT s.%1$I AS customer, %2$s AS r %3$s GROUP BY s.%1$I',
					  p.customer_column, retention.loyalty_agg_sql(p, day, amount, counted, as_of), rows);
	END IF;
	RETURN format('SELECT x.customer, %1$s AS r FROM ('
				  'SELECT s.%2$I AS customer, %3$s AS day, %4$s AS amount, %5$s AS counted, NULL::int AS tier_rank, '
				  'NULL::date AS since, NULL::date AS expires, NULL::date AS grace_ends, NULL::date AS member_since, '
				  'NULL::date[] AS qualified_until %6$s '
				  'UNION ALL SELECT t.%2$I, NULL, NULL, NULL, t.tier_rank, t.since, t.expires, t.grace_ends, t.member_since, '
				  't.qualified_until FROM %7$s t WHERE %8$s) x GROUP BY x.customer',
				  retention.loyalty_agg_sql(p, 'x.day', 'x.amount', 'x.counted', as_of,
					  format('%L::date, x.tier_rank, x.since, x.expires, x.grace_ends, x.member_since, x.qualified_until', resume_after)),
				  p.customer_column, day, amount, counted, rows, p.tier_table, state_cond);
END $$;
COMMENT ON FUNCTION retention.loyalty_eval_sql(retention.loyalty_programs, date, text, date, text) IS
	'internal: the query that evaluates the customers of a loyalty program as of a date, from all their rows or from stored states (days of timestamptz rows in the program''s time zone, named in the query)';

CREATE FUNCTION retention.query_rows(query text) RETURNS SETOF record
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
BEGIN
	RETURN QUERY EXECUTE query;
END $$;
COMMENT ON FUNCTION retention.query_rows(text) IS
	'internal: run a query as a statement of its own and return its rows (a loyalty refresh over a Citus table reads its evaluation this way)';

CREATE OR REPLACE FUNCTION retention.refresh_loyalty_as_owner(program_id bigint, as_of date, rebuild boolean, full_refresh boolean)
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp SET client_min_messages = warning
	-- the refresh is one statement of several parts, most of them small: compiling it costs
	-- more than it saves
	SET jit = off AS $$
DECLARE
	p retention.loyalty_programs := retention.loyalty_lock_as_owner(program_id);	-- serializes refreshes
	program_name text := p.program_name;
	tt regclass;
	ht regclass;
	src regclass;
	cust text;
	tcol text;
	n bigint;
	written bigint := 0;
	tz text;
	upto xid8;
	node_upto jsonb;
	incremental boolean;
	after date := p.last_as_of;
	lo date;
	entering text;
	scan text;
	xmin_test text;
	eval text;
	hist_cond text;
	hist_conflict text;
	pre text := '';
	stale text;
	fields text;
	cols text;
	sets text;
	tcols text;
	ecols text;
BEGIN
	IF as_of IS NULL OR rebuild IS NULL OR full_refresh IS NULL THEN
		RAISE EXCEPTION 'as_of, rebuild and full_refresh must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'datetime_field_overflow';
	END IF;
	tt := to_regclass(p.tier_table);
	ht := to_regclass(p.history_table);
	IF tt IS NULL OR ht IS NULL THEN
		RAISE EXCEPTION 'relation "%" of loyalty program "%" does not exist',
			CASE WHEN tt IS NULL THEN p.tier_table ELSE p.history_table END, program_name
			USING ERRCODE = 'undefined_table', HINT = 'Drop the program and create it again.';
	END IF;
	src := to_regclass(p.source);
	IF src IS NULL THEN
		RAISE EXCEPTION 'relation "%" of loyalty program "%" does not exist', p.source, p.program_name
			USING ERRCODE = 'undefined_table', HINT = 'Recreate the table, or point the program at another source.';
	END IF;
	cust := p.customer_column;
	tcol := p.time_column;

	-- Every transaction below upto (on a distributed source: below each node's entry of
	-- node_upto) has finished, so the rows it inserted are visible to the statements below;
	-- rows of later transactions count as new at the next refresh (the watermark test of the
	-- cohort jobs, docs/jobs.md). Incremental: go on from the states the tier table holds as
	-- of the last refresh's date. Otherwise every customer is replayed from all its rows.
	-- Late rows (below) are those of any transaction from the watermark on: replaying a
	-- customer twice is harmless.
	SELECT x.incremental, x.scan, x.filter, x.new_watermark, x.new_node_watermarks
	INTO incremental, scan, xmin_test, upto, node_upto
	FROM retention.source_changes(src, p.watermark, p.node_watermarks,
								  NOT rebuild AND NOT full_refresh AND after IS NOT NULL AND as_of >= after, true,
								  format('loyalty program "%s"', program_name)) x;

	tz := retention.loyalty_set_timezone(p.timezone);
	IF NOT incremental THEN
		-- the history first: a rebuild (after the rules changed) or a refresh as of an earlier
		-- date removes what the replay does not give any more
		IF rebuild THEN
			EXECUTE format('DELETE FROM %s', ht);
			GET DIAGNOSTICS n = ROW_COUNT;
			written := written + n;
		ELSIF as_of < after THEN
			EXECUTE format('DELETE FROM %s WHERE changed_on > %L', ht, as_of);
			GET DIAGNOSTICS n = ROW_COUNT;
			written := written + n;
		END IF;
		eval := retention.loyalty_eval_sql(p, as_of);
		-- history: the changes dated on or after the previous refresh's date (a later run on
		-- the same day records that day's new changes; all of them on the first refresh or a
		-- rebuild)
		hist_cond := CASE WHEN rebuild OR after IS NULL THEN 'true' ELSE format('c.changed_on >= %L', after) END;
		hist_conflict := 'DO NOTHING';
		-- customers without rows any more leave the tier table
		stale := format('DELETE FROM %1$s t WHERE NOT EXISTS (SELECT FROM e WHERE e.customer = t.%2$I) RETURNING 1', tt, cust);
		-- Over a Citus table, the evaluation of every customer runs as a query of its own
		-- (pushed down to the shards), whose result the statement below reads from memory:
		-- as part of the statement, Citus would plan it as a subplan whose result file each
		-- reader of e parses again (docs/citus.md). An incremental refresh evaluates few
		-- customers and is left as it is.
		IF (retention.citus_layout(src)).kind IS NOT NULL THEN
			eval := format('SELECT * FROM retention.query_rows(%L) AS q(customer %s, r retention.loyalty_result)',
						   eval, (retention.job_column(src, cust)).typname);
		END IF;
	ELSE
		-- Everything below is one statement, so one snapshot: the late rows found are exactly
		-- those the replay reads.
		-- Late rows: rows inserted since the last refresh (any visible row whose inserting
		-- transaction is not below the watermark), dated on or before its date. Their
		-- customers are replayed from all their rows and get their history recorded anew.
		pre := format('late AS MATERIALIZED (SELECT DISTINCT s.%1$I AS customer FROM %2$s s '
					  'WHERE s.%1$I IS NOT NULL AND s.%3$I < %4$s AND %5$s), ',
					  cust, scan, tcol, retention.loyalty_day_start(p, after + 1), xmin_test);
		-- the customers whose standing can change between the two dates: rows dated after the
		-- last refresh, rows leaving a rolling window, statuses, grace periods and year windows
		-- ending, late rows. The others' tier rows stay as they are.
		entering := format('s.%1$I >= %2$s AND s.%1$I < %3$s', tcol,
						   retention.loyalty_day_start(p, after + 1), retention.loyalty_day_start(p, as_of + 1));
		IF p.qualification_window = 'rolling_months' THEN
			-- a row of day o leaves the window on o + window_months months: those leaving
			-- after the last refresh, up to as_of
			entering := entering || format(' OR s.%1$I >= %2$s AND s.%1$I < %3$s', tcol,
				retention.loyalty_day_start(p, retention.loyalty_first_in_window(after, p.window_months)),
				retention.loyalty_day_start(p, retention.loyalty_first_in_window(as_of, p.window_months)));
		END IF;
		pre := pre || format('events AS MATERIALIZED (SELECT s.%1$I AS customer FROM %2$s s WHERE s.%1$I IS NOT NULL AND (%3$s) '
							 'UNION SELECT t.%1$I FROM %4$s t WHERE t.expires <= %5$L OR t.grace_ends <= %5$L OR t.window_end <= %5$L '
							 'UNION SELECT customer FROM late), ',
							 cust, src, entering, tt, as_of);
		-- the rows a replay from the stored state needs: those of the qualification window of
		-- the day after the last refresh on (rows before it are in the stored state)
		lo := CASE p.qualification_window
			WHEN 'rolling_months' THEN retention.loyalty_first_in_window(after + 1, p.window_months)
			WHEN 'calendar_year' THEN date_trunc('year', after + 1)::date
			WHEN 'fiscal_year' THEN make_date(extract(year FROM after + 1)::int
											  - (extract(month FROM after + 1) < p.fiscal_first_month)::int,
											  p.fiscal_first_month, 1)
			ELSE ((after + 1) - interval '1 year')::date - 7 END;
		eval := retention.loyalty_eval_sql(p, as_of,
			format('s.%1$I IN (SELECT customer FROM events) AND (s.%2$I >= %3$s OR s.%1$I IN (SELECT customer FROM late))',
				   cust, tcol, retention.loyalty_day_start(p, lo)),
			after,
			format('t.%1$I IN (SELECT customer FROM events) AND NOT EXISTS (SELECT FROM late WHERE late.customer = t.%1$I)', cust));
		-- a late customer's history is recorded anew (changes on days the replay no longer
		-- gives are deleted, the others upserted); the others' replay gives only changes after
		-- the last refresh's date
		stale := format('DELETE FROM %1$s h WHERE h.%2$I IN (SELECT customer FROM late) AND NOT EXISTS '
						'(SELECT FROM e, unnest(e.h) c WHERE e.customer = h.%2$I AND c.changed_on = h.changed_on) RETURNING 1', ht, cust);
		hist_cond := 'true';
		hist_conflict := 'DO UPDATE SET from_tier = excluded.from_tier, to_tier = excluded.to_tier, reason = excluded.reason '
			'WHERE (h.from_tier, h.to_tier, h.reason) IS DISTINCT FROM (excluded.from_tier, excluded.to_tier, excluded.reason)';
	END IF;

	-- One statement evaluates the customers and writes both tables with plain INSERT, UPDATE
	-- and DELETE: readers see the previous rows until commit and are not blocked. Tier rows
	-- are rewritten only when they change.
	-- A rolling window is the same for everybody and moves every day: it is not stored per
	-- row (it ends at last_as_of), so that a daily refresh rewrites only the customers whose
	-- standing changed. Changed rows are updated in place and new customers inserted (no
	-- ON CONFLICT, which locks every row it looks at: refreshes of a program take turns on
	-- the program's row, so no one else inserts customers meanwhile).
	SELECT string_agg(CASE WHEN p.qualification_window = 'rolling_months' AND col IN ('window_start', 'window_end')
						   THEN format('NULL::date AS %I', col) ELSE format('(st).%1$I AS %1$I', col) END, ', ' ORDER BY i),
		   string_agg(format('%I', col), ', ' ORDER BY i),
		   string_agg(format('%1$I = e.%1$I', col), ', ' ORDER BY i),
		   string_agg(format('t.%I', col), ', ' ORDER BY i),
		   string_agg(format('e.%I', col), ', ' ORDER BY i)
	INTO fields, cols, sets, tcols, ecols
	FROM unnest(ARRAY['tier', 'tier_rank', 'since', 'expires', 'grace_ends', 'window_start', 'window_end',
					  'qualifying_amount', 'qualifying_orders', 'amount_to_keep', 'orders_to_keep', 'next_tier',
					  'amount_to_next', 'orders_to_next', 'member_since', 'qualified_until']) WITH ORDINALITY c(col, i);
	EXECUTE format('WITH %1$s e AS MATERIALIZED (SELECT customer, h, %2$s FROM '
				   '(SELECT customer, (r).state AS st, (r).history AS h FROM (%3$s) x OFFSET 0) y), '
				   'upd AS (UPDATE %4$s AS t SET %5$s FROM e WHERE t.%6$I = e.customer '
				   'AND (%7$s) IS DISTINCT FROM (%8$s) RETURNING 1), '
				   'ins AS (INSERT INTO %4$s (%6$I, %9$s) SELECT customer, %9$s FROM e '
				   'WHERE NOT EXISTS (SELECT FROM %4$s t WHERE t.%6$I = e.customer) RETURNING 1), '
				   'removed AS (%10$s), '
				   'hist AS (INSERT INTO %11$s AS h (%6$I, changed_on, from_tier, to_tier, reason) '
				   'SELECT e.customer, c.changed_on, c.from_tier, c.to_tier, c.reason FROM e, unnest(e.h) c WHERE %12$s '
				   'ON CONFLICT (%6$I, changed_on) %13$s RETURNING 1) '
				   'SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins) + (SELECT count(*) FROM removed) '
				   '+ (SELECT count(*) FROM hist)',
				   pre, fields, eval, tt, sets, cust, tcols, ecols, cols, stale, ht, hist_cond, hist_conflict)
		INTO n;
	PERFORM retention.loyalty_set_timezone(tz);
	written := written + n;

	UPDATE retention.loyalty_programs x SET last_as_of = refresh_loyalty_as_owner.as_of, last_refresh = now(),
		watermark = upto, node_watermarks = node_upto
	WHERE x.program_id = p.program_id;
	RETURN written;
END $$;
COMMENT ON FUNCTION retention.refresh_loyalty_as_owner(bigint, date, boolean, boolean) IS
	'internal: the refresh of a loyalty program, run as its owner in a security-restricted operation by refresh_loyalty';

CREATE OR REPLACE FUNCTION retention.create_loyalty_job(job_name text, program_name text, schedule text, timezone text DEFAULT 'UTC')
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, retention, pg_temp AS $$
DECLARE
	p retention.loyalty_programs;
	id bigint;
	next timestamptz;
BEGIN
	IF job_name IS NULL OR job_name = '' THEN
		RAISE EXCEPTION 'job name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF schedule IS NULL OR timezone IS NULL THEN
		RAISE EXCEPTION 'schedule and timezone must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	p := retention.loyalty_lookup(program_name);
	IF EXISTS (SELECT FROM retention.jobs j WHERE j.job_name = create_loyalty_job.job_name AND j.owner = p.owner) THEN
		RAISE EXCEPTION 'job "%" already exists', job_name USING ERRCODE = 'duplicate_object';
	END IF;
	PERFORM retention.refuse_on_worker(format('job "%s"', job_name));
	next := retention.next_run_time(schedule, now(), timezone);	-- validates schedule and time zone
	INSERT INTO retention.jobs (job_name, job_type, owner, schedule, timezone, config, next_run)
	VALUES (job_name, 'loyalty_refresh', p.owner, schedule, timezone,
			jsonb_build_object('program', p.program_name),
			next)
	RETURNING job_id INTO id;
	RETURN id;
END $$;
COMMENT ON FUNCTION retention.create_loyalty_job(text, text, text, text) IS
	'create a job that refreshes a loyalty program on a schedule as of the run''s date in the job''s time zone; the job belongs to, and runs as, the program''s owner';

-- Watermarks carry the system identifier of the cluster they were taken in: after a restored
-- dump or a pg_upgrade the next refresh is a full one, instead of trusting transaction ids of
-- another cluster (issue 13's cross-major test found this). Watermarks this update finds are
-- stamped with this cluster's identifier: an update in place keeps its incremental refreshes.
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
CREATE OR REPLACE FUNCTION retention.source_changes(src regclass, watermark xid8, node_watermarks jsonb,
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

COMMENT ON COLUMN retention.jobs.node_watermarks IS
	'where the watermarks were taken: the system identifier of the cluster ({"system": ...}; a watermark of another cluster, after a restore, is not gone on from) and, for a source distributed by Citus, the watermark of each node group holding its shards, taken on that node, and a digest of the shard placements ({"layout": ..., "nodes": {group: id}})';
COMMENT ON COLUMN retention.loyalty_programs.node_watermarks IS
	'where the watermarks of the last refresh were taken: the system identifier of the cluster (a watermark of another cluster, after a restore, is not gone on from) and, for a source distributed by Citus, the watermark of each node group holding its shards, taken on that node, and a digest of the shard placements; NULL as watermark is';
UPDATE retention.jobs SET node_watermarks = coalesce(node_watermarks, '{}')
	|| jsonb_build_object('system', (SELECT system_identifier FROM pg_control_system())::text)
WHERE watermark IS NOT NULL OR node_watermarks IS NOT NULL;
UPDATE retention.loyalty_programs SET node_watermarks = coalesce(node_watermarks, '{}')
	|| jsonb_build_object('system', (SELECT system_identifier FROM pg_control_system())::text)
WHERE watermark IS NOT NULL OR node_watermarks IS NOT NULL;
