-- A scheduled, incremental cohort job on CDNOW (pg_retention: create_cohort_job, the scheduler,
-- run_job, job_runs). With shared_preload_libraries = 'pg_retention' the background scheduler
-- runs the job (PGR_EXTRA_CONF="shared_preload_libraries = 'pg_retention'" scripts/demo.sh);
-- without it, the demo runs the same code by hand with retention.run_job.
\echo
\echo '== a cohort job: monthly cohorts of CDNOW, refreshed every 5 seconds =='
SELECT retention.create_cohort_job('cdnow_monthly', source => 'orders', customer_column => 'customer_id',
       time_column => 'ordered_on', amount_column => 'amount', period_kind => 'month',
       activity_table => 'cdnow_activity', cohort_table => 'cdnow_cohorts', schedule => '5 seconds') AS job_id;
SELECT job_name, owner, schedule, timezone, next_run > now() AS scheduled FROM retention.jobs;

-- wait for the scheduler's next successful run of the job (or run it by hand without one)
CREATE FUNCTION pg_temp.wait_for_run() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  last bigint := (SELECT coalesce(max(run_id), 0) FROM retention.job_runs WHERE status <> 'running');
BEGIN
  IF NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler') THEN
    PERFORM retention.run_job('cdnow_monthly');
    RETURN 'no scheduler running (not preloaded): ran the job with retention.run_job';
  END IF;
  FOR i IN 1 .. 120 LOOP
    IF EXISTS (SELECT FROM retention.job_runs WHERE run_id > last AND status = 'succeeded') THEN
      RETURN 'the scheduler ran the job';
    END IF;
    PERFORM pg_sleep(0.5);
  END LOOP;
  RETURN 'the scheduler did not run the job within a minute';
END $$;
SELECT pg_temp.wait_for_run() AS first_run;
SELECT trigger, status, rows, finished_at - started_at AS took FROM retention.job_runs ORDER BY run_id DESC LIMIT 1;
\echo
\echo '== the job''s cohort table (first cohorts, first ages) =='
SELECT cohort, cohort_size,
       string_agg(lpad(to_char(100 * retention, 'FM990.0'), 5), ' ' ORDER BY age) AS "retention % at age 0 .. 5"
FROM cdnow_cohorts WHERE age <= 5 AND cohort::text <= '1997-03' GROUP BY cohort, cohort_size ORDER BY cohort;

\echo
\echo '== new orders arrive: 300 repeat orders in July 1998 and 50 late March-1997 orders of new customers =='
CREATE TEMP TABLE before AS SELECT * FROM cdnow_cohorts;
INSERT INTO orders (customer_id, ordered_on, cds, amount)
SELECT customer_id, date '1998-07-01' + (customer_id % 28), 1, 15.99
FROM (SELECT DISTINCT customer_id FROM orders ORDER BY customer_id LIMIT 300) c;
INSERT INTO orders (customer_id, ordered_on, cds, amount)
SELECT 900000 + g, date '1997-03-01' + g % 28, 1, 20 FROM generate_series(1, 50) g;
SELECT pg_temp.wait_for_run() AS next_run;
SELECT trigger, status, rows, finished_at - started_at AS took FROM retention.job_runs ORDER BY run_id DESC LIMIT 1;
\echo
\echo '== what the incremental run changed: cells of the cohort table that differ from before =='
SELECT n.cohort, n.age, o.cohort_size AS size_before, n.cohort_size AS size_after,
       o.customers AS customers_before, n.customers AS customers_after, o.revenue AS revenue_before, n.revenue AS revenue_after
FROM cdnow_cohorts n LEFT JOIN before o ON o.cohort::text = n.cohort::text AND o.age = n.age
WHERE o.age IS NULL OR (o.cohort_size, o.customers, o.revenue) IS DISTINCT FROM (n.cohort_size, n.customers, n.revenue)
ORDER BY n.cohort, n.age LIMIT 12;
SELECT count(*) AS changed_or_new_cells FROM cdnow_cohorts n LEFT JOIN before o ON o.cohort::text = n.cohort::text AND o.age = n.age
WHERE o.age IS NULL OR (o.cohort_size, o.customers, o.revenue) IS DISTINCT FROM (n.cohort_size, n.customers, n.revenue);

\echo
\echo '== the run history =='
SELECT run_id, trigger, status, rows, started_at::time(0) AS started, message FROM retention.job_runs ORDER BY run_id;
SELECT retention.pause_job('cdnow_monthly') IS NOT NULL AS paused;
