-- The loyalty-tier job's own functions: create_loyalty_job checks its program, schedule and
-- name before it touches retention.jobs; refresh_loyalty_job runs only loyalty jobs. (A
-- loyalty job under the scheduler is tested in test/t/002_loyalty_job.pl.)
SET TIME ZONE 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
CREATE TABLE club_sales (customer_id int, sold_on date, total numeric(10,2));
SELECT retention.create_loyalty_program('club', 'club_sales', 'customer_id', 'sold_on', 'total', 'calendar_year',
  '[{"name": "gold", "rank": 1, "min_amount": 100}]') > 0 AS created;
SELECT retention.create_loyalty_job('club_daily', 'nope', '1 day');
SELECT retention.create_loyalty_job('club_daily', 'club', 'every day');
SELECT retention.create_loyalty_job('club_daily', 'club', '0 3 * * *', 'Mars/Olympus');
SELECT retention.create_loyalty_job('', 'club', '1 day');
SELECT retention.create_loyalty_job('club_daily', 'club', NULL);
SELECT retention.refresh_loyalty_job('nope');
SELECT retention.create_cohort_job('cohorts', 'club_sales', 'customer_id', 'sold_on', 'total', 'month',
  'club_activity', 'club_cohorts', '1 hour') > 0 AS created;
SELECT retention.create_loyalty_job('cohorts', 'club', '1 day');
SELECT retention.refresh_loyalty_job('cohorts');
SELECT job_name, job_type FROM retention.jobs WHERE job_name IN ('club_daily', 'cohorts');

-- another role sees neither the program nor its refresh
CREATE ROLE loyalty_clerk;
SET ROLE loyalty_clerk;
SELECT count(*) FROM retention.loyalty_programs;
SELECT retention.loyalty_status('club', 1);
SELECT retention.refresh_loyalty('club');
UPDATE retention.loyalty_programs SET grace_days = 5;
RESET ROLE;
DROP ROLE loyalty_clerk;
SELECT retention.drop_job('cohorts', drop_tables => true);
SELECT retention.drop_loyalty_program('club', drop_tables => true);
DROP TABLE club_sales;
