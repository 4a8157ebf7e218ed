-- The cohort-refresh job called directly (retention.refresh_cohort_job with a fixed "now"):
-- after every batch of new source rows, including late rows (dated before earlier refreshes),
-- rows inserted under savepoints, rolled-back rows and rows with NULLs, the incrementally kept
-- tables equal a full rebuild and a from-scratch computation, in both cohort modes.
SET TIME ZONE 'UTC';
\set SHOW_CONTEXT never
CREATE TABLE orders (junk int, customer_id int, ordered_at timestamptz, amount numeric(10,2));
SELECT retention.create_cohort_job('orders_on', 'orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'orders_activity', 'orders_cohorts', '1 hour') > 0 AS created;
SELECT retention.create_cohort_job('orders_after', 'orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'after_activity', 'after_cohorts', '0 3 * * *', 'Europe/Paris', 'on_or_after') > 0 AS created;
SELECT retention.create_cohort_job('orders_full', 'orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'full_activity', 'full_cohorts', '1 day') > 0 AS created;
\d orders_activity
\d orders_cohorts

-- rows that differ between a job's tables and the same tables computed from scratch
CREATE FUNCTION pg_temp.mismatches(act regclass, coh regclass, mode text, tz text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  m bigint;
BEGIN
  EXECUTE format($q$
    WITH want AS (SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', %2$L), coalesce(amount, 0))::text AS a
                  FROM orders WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL GROUP BY 1),
         have AS (SELECT customer_id, activity::text AS a FROM %1$s)
    SELECT count(*) FROM ((TABLE want EXCEPT TABLE have) UNION ALL (TABLE have EXCEPT TABLE want)) x$q$, act, tz) INTO n;
  EXECUTE format($q$
    WITH a AS (SELECT retention.activity_agg(retention.customer_period(ordered_at, 'month', %3$L), coalesce(amount, 0)) AS activity
               FROM orders WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL GROUP BY customer_id),
         want AS (SELECT t::text AS r FROM retention.cohort_table((SELECT retention.cohort_agg(activity) FROM a), %2$L) t),
         have AS (SELECT (cohort, age, cohort_size, customers, retention, revenue)::text AS r FROM %1$s)
    SELECT count(*) FROM ((TABLE want EXCEPT TABLE have) UNION ALL (TABLE have EXCEPT TABLE want)) x$q$, coh, mode, tz) INTO m;
  RETURN n + m;
END $$;
CREATE FUNCTION pg_temp.refresh_and_check() RETURNS TABLE (job text, written bigint, mismatches bigint)
LANGUAGE sql AS $$
  SELECT 'orders_on', retention.refresh_cohort_job('orders_on', now => '2026-06-01'),
         pg_temp.mismatches('orders_activity', 'orders_cohorts', 'on', 'UTC')
  UNION ALL
  SELECT 'orders_after', retention.refresh_cohort_job('orders_after', now => '2026-06-01'),
         pg_temp.mismatches('after_activity', 'after_cohorts', 'on_or_after', 'Europe/Paris')
  UNION ALL
  SELECT 'orders_full', retention.refresh_cohort_job('orders_full', full_refresh => true, now => '2026-06-01'),
         pg_temp.mismatches('full_activity', 'full_cohorts', 'on', 'UTC')
$$;

-- before any row: empty tables
SELECT * FROM pg_temp.refresh_and_check();
-- batch 1
INSERT INTO orders VALUES (0, 1, '2026-01-05', 10), (0, 1, '2026-02-11', 20.5), (0, 2, '2026-01-20', 5),
  (0, 3, '2026-02-01', 7.25), (0, 3, '2026-02-28 23:30+00', 1), (0, 4, '2026-03-03', 100);
SELECT * FROM pg_temp.refresh_and_check();
SELECT * FROM orders_cohorts ORDER BY cohort, age;
-- batch 2: a new month (every cohort gets a new age), a new customer, repeat orders; the
-- source loses a column and gains one with a default (old rows read it from the catalog)
ALTER TABLE orders DROP COLUMN junk;
ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT 'web';
INSERT INTO orders VALUES (2, '2026-04-02', 3), (4, '2026-04-30', 1.5), (5, '2026-04-15', 9.99), (1, '2026-02-20', 1);
SELECT * FROM pg_temp.refresh_and_check();
-- batch 3: late rows, dated before the earlier refreshes: customer 3 moves to an earlier
-- cohort, customer 6 arrives in an old month, the January cohort grows
INSERT INTO orders VALUES (3, '2025-12-24', 50), (6, '2026-01-31 23:59+00', 2), (6, '2026-03-01', 2);
SELECT * FROM pg_temp.refresh_and_check();
SELECT * FROM orders_cohorts ORDER BY cohort, age;
-- batch 4: rows under savepoints (subtransactions), a rolled-back savepoint and a rolled-back
-- transaction, rows with NULLs (ignored)
BEGIN;
INSERT INTO orders VALUES (7, '2026-04-01', 1);
SAVEPOINT a;
INSERT INTO orders VALUES (7, '2026-05-01', 2), (1, '2026-05-02', 3);
RELEASE SAVEPOINT a;
SAVEPOINT b;
INSERT INTO orders VALUES (8, '2026-05-01', 1000);
ROLLBACK TO SAVEPOINT b;
COMMIT;
BEGIN;
INSERT INTO orders VALUES (9, '2026-05-01', 1000);
ROLLBACK;
INSERT INTO orders VALUES (NULL, '2026-05-01', 1, 'web'), (10, NULL, 1, 'web'), (11, '2026-05-09', NULL, 'shop');
SELECT * FROM pg_temp.refresh_and_check();
-- nothing new: nothing written
SELECT * FROM pg_temp.refresh_and_check();
-- a cohort left empty: a late row moves customer 11, alone in the May cohort, to April
INSERT INTO orders VALUES (11, '2026-04-09', 4);
SELECT * FROM pg_temp.refresh_and_check();
SELECT count(*) FILTER (WHERE cohort::text = '2026-05') AS may_rows FROM orders_cohorts;
-- larger random batches
SELECT setseed(0.5);
INSERT INTO orders SELECT 1 + (random() * 200)::int, timestamptz '2025-06-01' + random() * interval '400 days',
  round((random() * 100)::numeric, 2) FROM generate_series(1, 2000);
SELECT * FROM pg_temp.refresh_and_check();
INSERT INTO orders SELECT 150 + (random() * 200)::int, timestamptz '2025-01-01' + random() * interval '600 days',
  round((random() * 100)::numeric, 2) FROM generate_series(1, 1000);
SELECT * FROM pg_temp.refresh_and_check();
-- a full rebuild of an incremental job gives the same tables
SELECT retention.refresh_cohort_job('orders_on', true, '2026-06-02') > 0 AS rebuilt,
       pg_temp.mismatches('orders_activity', 'orders_cohorts', 'on', 'UTC');
SELECT job_name, watermark IS NOT NULL AS has_watermark, last_refresh FROM retention.jobs ORDER BY job_id;
-- a watermark is a transaction id of the cluster it was taken in, which it records; one taken
-- in another cluster (as after restoring a dump there) is not gone on from: the next refresh
-- reads every row again (and writes the whole tables), the one after is incremental again
SELECT node_watermarks->>'system' = (SELECT system_identifier FROM pg_control_system())::text AS stamped
FROM retention.jobs WHERE job_name = 'orders_on';
UPDATE retention.jobs SET node_watermarks = '{"system": "1"}' WHERE job_name = 'orders_on';
SELECT retention.refresh_cohort_job('orders_on', false, '2026-06-03') > 0 AS full_after_restore,
       pg_temp.mismatches('orders_activity', 'orders_cohorts', 'on', 'UTC');
SELECT retention.refresh_cohort_job('orders_on', false, '2026-06-03') AS written_next_time;

-- a view source has no row versions to follow: every refresh is a full rebuild
CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount >= 50;
SELECT retention.create_cohort_job('view_job', 'big_orders', 'customer_id', 'ordered_at', NULL,
       'quarter', 'view_activity', 'view_cohorts', '1 day') > 0 AS created;
SELECT retention.refresh_cohort_job('view_job') > 0 AS written;
INSERT INTO orders VALUES (1000, '2026-01-01', 75);
SELECT retention.refresh_cohort_job('view_job') > 0 AS written;
SELECT count(*) AS customers, sum(retention.orders(activity)) AS orders FROM view_activity;
SELECT count(DISTINCT customer_id) AS customers, count(*) AS orders FROM big_orders;

-- a date source column and a partitioned source
CREATE TABLE visits (customer text, day date, amount int) PARTITION BY RANGE (day);
CREATE TABLE visits_2025 PARTITION OF visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE visits_2026 PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT retention.create_cohort_job('visits', 'visits', 'customer', 'day', 'amount', 'week',
       'public.visit_activity', 'public.visit_cohorts', '*/10 * * * *') > 0 AS created;
INSERT INTO visits VALUES ('a', '2026-01-05', 1), ('b', '2025-12-29', 2), ('a', '2026-01-14', 3);
SELECT retention.refresh_cohort_job('visits');
INSERT INTO visits VALUES ('c', '2025-12-30', 1), ('a', '2026-01-20', 1);
SELECT retention.refresh_cohort_job('visits');
SELECT * FROM visit_cohorts ORDER BY cohort, age;
SELECT count(*) AS mismatches FROM (
  (SELECT t.* FROM retention.cohort_table((SELECT retention.cohort_agg(a) FROM
     (SELECT retention.activity_agg(retention.customer_period(day, 'week'), amount) a FROM visits GROUP BY customer) x)) t
   EXCEPT SELECT * FROM visit_cohorts)
  UNION ALL
  (SELECT * FROM visit_cohorts EXCEPT SELECT t.* FROM retention.cohort_table((SELECT retention.cohort_agg(a) FROM
     (SELECT retention.activity_agg(retention.customer_period(day, 'week'), amount) a FROM visits GROUP BY customer) x)) t)) d;

-- new_rows, the scan of incremental refreshes of plain tables: the rows of a transaction
-- window, with columns added later filled in; frozen rows are old
CREATE TABLE scan_src (a int, b text);
INSERT INTO scan_src VALUES (1, 'one');
SELECT pg_snapshot_xmin(pg_current_snapshot()) AS mark \gset
INSERT INTO scan_src VALUES (2, 'two'), (3, 'three');
ALTER TABLE scan_src ADD COLUMN c int DEFAULT 42;
SELECT * FROM retention.new_rows(NULL::scan_src, :'mark', pg_snapshot_xmin(pg_current_snapshot())) ORDER BY a;
SELECT count(*) AS all_rows FROM retention.new_rows(NULL::scan_src, '0', pg_snapshot_xmin(pg_current_snapshot()));
SELECT count(*) AS none FROM retention.new_rows(NULL::scan_src, pg_snapshot_xmin(pg_current_snapshot()), '18446744073709551615');
VACUUM (FREEZE) scan_src;
SELECT count(*) AS frozen_are_old FROM retention.new_rows(NULL::scan_src, '3', pg_snapshot_xmin(pg_current_snapshot()));
SELECT count(*) AS full_sees_frozen FROM retention.new_rows(NULL::scan_src, '0', pg_snapshot_xmin(pg_current_snapshot()));
\set VERBOSITY sqlstate
SELECT * FROM retention.new_rows(NULL::scan_src, NULL, '1');
SELECT * FROM retention.new_rows(NULL::int, '0', '1');
SELECT * FROM retention.new_rows(NULL::big_orders, '0', '1');
SELECT * FROM retention.new_rows(NULL::visits, '0', '1');
ALTER TABLE scan_src ENABLE ROW LEVEL SECURITY;
CREATE ROLE regress_retention_scan;
GRANT SELECT ON scan_src TO regress_retention_scan;
SET ROLE regress_retention_scan;
SELECT * FROM retention.new_rows(NULL::scan_src, '0', '1');
RESET ROLE;
REVOKE SELECT ON scan_src FROM regress_retention_scan;
SET ROLE regress_retention_scan;
SELECT * FROM retention.new_rows(NULL::scan_src, '0', '1');
RESET ROLE;
\set VERBOSITY default
SELECT * FROM retention.new_rows(NULL::scan_src, NULL, '1');
SELECT * FROM retention.new_rows(NULL::int, '0', '1');
SELECT * FROM retention.new_rows(NULL::big_orders, '0', '1');
DROP ROLE regress_retention_scan;

-- xmin_is_new: frozen rows count as old, and only the window [since, upto) is new
CREATE TABLE frozen_src (x int);
INSERT INTO frozen_src VALUES (1);
SELECT retention.xmin_is_new(tableoid, ctid, xmin, '0', pg_snapshot_xmin(pg_current_snapshot())) AS full_sees_it,
       retention.xmin_is_new(tableoid, ctid, xmin, pg_snapshot_xmin(pg_current_snapshot()), '18446744073709551615') AS later_window
FROM frozen_src;
VACUUM (FREEZE) frozen_src;
SELECT retention.xmin_is_new(tableoid, ctid, xmin, '0', pg_snapshot_xmin(pg_current_snapshot())) AS full_sees_it,
       retention.xmin_is_new(tableoid, ctid, xmin, '3', '18446744073709551615') AS incremental_sees_it
FROM frozen_src;

SELECT retention.drop_job(job_name, drop_tables => true) FROM retention.jobs ORDER BY job_id;
SELECT count(*) AS jobs, (SELECT count(*) FROM retention.job_runs) AS runs FROM retention.jobs;
SELECT to_regclass('orders_activity') IS NULL AS dropped;
DROP VIEW big_orders;
DROP TABLE orders, visits, frozen_src, scan_src;
