-- What pg_retention does for Citus (docs/citus.md) that one node without Citus can check: the
-- day of an instant in a named zone (local_date, what loyalty refreshes compute days with), the
-- per-node-group watermark test (xmin_is_new_on_node: without Citus the server is group 0),
-- the Citus probes answering "not Citus", and the errors of these and of distributed targets.
-- The cluster itself is tested by test/citus/t/001_citus.pl (scripts/test.sh citus).
\set SHOW_CONTEXT never
SET TIME ZONE 'Asia/Tokyo';

-- local_date(ts, zone) = (ts AT TIME ZONE zone)::date, whatever the session's zone: instants
-- every 7 h 13 min over four years, around DST changes of both hemispheres, in zone names,
-- abbreviations with a fixed offset, a dynamic abbreviation, POSIX strings and UTC offsets
SELECT z, count(*) AS instants,
       count(*) FILTER (WHERE retention.local_date(t, z) IS DISTINCT FROM (t AT TIME ZONE z)::date) AS differ
FROM unnest(ARRAY['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney',
                  'Pacific/Chatham', 'EST', 'CEST', 'MSK', '<+0530>-05:30', 'UTC+3']) z,
     generate_series(timestamptz '2022-01-01 00:00+00', '2025-12-31', interval '7 hours 13 minutes') t
GROUP BY z ORDER BY z;
-- the same on a column whose zone changes from row to row (no caching across zones)
SELECT count(*) FILTER (WHERE retention.local_date(t, z) IS DISTINCT FROM (t AT TIME ZONE z)::date) AS differ
FROM (SELECT t, (ARRAY['Asia/Tokyo', 'America/Los_Angeles', 'UTC'])[1 + (extract(epoch FROM t)::bigint / 3600) % 3] AS z
      FROM generate_series(timestamptz '2025-03-01', '2025-04-15', interval '37 minutes') t) x;
-- the cast it replaces follows the session's zone, local_date does not
SELECT (timestamptz '2025-06-30 20:00+00')::date AS cast_in_tokyo,
       retention.local_date('2025-06-30 20:00+00', 'UTC') AS utc_day,
       retention.local_date('2025-06-30 20:00+00', 'Asia/Tokyo') AS tokyo_day;
-- infinite instants have infinite days, as with the cast; NULLs give NULL
SELECT retention.local_date('infinity', 'UTC'), retention.local_date('-infinity', 'Asia/Tokyo'),
       retention.local_date(NULL, 'UTC') IS NULL AS null_ts, retention.local_date(now(), NULL) IS NULL AS null_zone;
-- an unknown zone
SELECT retention.local_date(now(), 'Mars/Olympus');
SELECT retention.local_date(now(), '');

-- Without Citus: no node group, not a Citus table
SELECT retention.node_group() IS NULL AS no_group;
CREATE TABLE orders (customer_id int, ordered_at timestamptz, amount numeric(10,2));
SELECT * FROM retention.citus_layout('orders');

-- xmin_is_new_on_node takes the window of the group evaluating it (here 0) and gives what
-- xmin_is_new gives with that window; windows of other groups are ignored
INSERT INTO orders VALUES (1, '2025-01-01', 10);
SELECT pg_current_xact_id() AS w1 \gset
INSERT INTO orders VALUES (2, '2025-01-02', 20);
INSERT INTO orders VALUES (3, '2025-01-03', 30);
SELECT pg_current_xact_id() AS w2 \gset
INSERT INTO orders VALUES (4, '2025-01-04', 40);
SELECT customer_id,
       retention.xmin_is_new_on_node(tableoid, ctid, xmin, '{7,0,3}', ARRAY['1', :'w1', '1']::xid8[], ARRAY['2', :'w2', '2']::xid8[]) AS on_node,
       retention.xmin_is_new(tableoid, ctid, xmin, :'w1', :'w2') AS local
FROM orders ORDER BY 1;
-- whole-table windows: everything from 0 on
SELECT count(*) FILTER (WHERE retention.xmin_is_new_on_node(tableoid, ctid, xmin, '{0}', '{0}', ARRAY[pg_snapshot_xmin(pg_current_snapshot())])) AS all_rows
FROM orders;
-- errors: no window for this node's group, arrays of different lengths, NULL elements
SELECT count(*) FROM orders WHERE retention.xmin_is_new_on_node(tableoid, ctid, xmin, '{1,2}', '{0,0}', '{100,100}');
SELECT count(*) FROM orders WHERE retention.xmin_is_new_on_node(tableoid, ctid, xmin, '{0,1}', '{0}', '{100,100}');
SELECT count(*) FROM orders WHERE retention.xmin_is_new_on_node(tableoid, ctid, xmin, '{0,NULL}', '{0,0}', '{100,100}');
SELECT count(*) FROM orders WHERE retention.xmin_is_new_on_node(tableoid, ctid, xmin, '{0}', ARRAY[NULL]::xid8[], '{100}');
-- STRICT: a NULL array reads nothing
SELECT count(*) FROM orders WHERE retention.xmin_is_new_on_node(tableoid, ctid, xmin, NULL, '{0}', '{100}');

-- Cohort jobs: targets are 'local' (default) or 'distributed', which needs a Citus source
SELECT retention.create_cohort_job('j', 'orders', 'customer_id', 'ordered_at', 'amount', 'month',
       'j_activity', 'j_cohorts', '1 day', targets => 'sharded');
SELECT retention.create_cohort_job('j', 'orders', 'customer_id', 'ordered_at', 'amount', 'month',
       'j_activity', 'j_cohorts', '1 day', targets => NULL);
SELECT retention.create_cohort_job('j', 'orders', 'customer_id', 'ordered_at', 'amount', 'month',
       'j_activity', 'j_cohorts', '1 day', targets => 'distributed');
-- nothing was left behind by the refused calls
SELECT count(*) AS jobs, to_regclass('j_activity') IS NULL AND to_regclass('j_cohorts') IS NULL AS no_tables
FROM retention.jobs;
SELECT retention.create_cohort_job('j', 'orders', 'customer_id', 'ordered_at', 'amount', 'month',
       'j_activity', 'j_cohorts', '1 day', targets => 'local') > 0 AS created;
-- a local source keeps one watermark, no per-node ones (only the cluster it was taken in)
SELECT retention.refresh_cohort_job('j', now => '2026-01-01') AS written;
SELECT watermark IS NOT NULL AS watermark, node_watermarks - 'system' = '{}' AS no_node_watermarks FROM retention.jobs;
SELECT retention.drop_job('j', drop_tables => true);
DROP TABLE orders;
