-- Job schedules: intervals and five-field cron expressions, next run times in a time zone
-- (retention.next_run_time), and every kind of bad schedule.
SET TIME ZONE 'UTC';
\set SHOW_CONTEXT never
SELECT s, retention.schedule_is_cron(s) AS is_cron,
       retention.next_run_time(s, '2026-03-05 10:07:30+00') AS next
FROM unnest(ARRAY['15 minutes', '1 hour', '90 seconds', '1 day', '1 month', '1 mon 2 days 03:00',
                  '* * * * *', '*/5 * * * *', '0 * * * *', '30 2 * * *', '0 0 1 * *', '0 0 * * 0',
                  '0 0 * * 7', '0 9 * * mon-fri', '0 9 * * MON,wed', '15,45 8-10 * * *',
                  '0 0 29 2 *', '0 12 1 jan,jul *', '10-50/20 * * * *', '5/15 * * * *',
                  '0 0 13 * fri', '@hourly', '@daily', '@weekly', '@monthly', '@yearly']) s;

-- day of month and day of week both restricted: either matches (Vixie cron)
SELECT retention.next_run_time('0 0 13 * 5', t) FROM (VALUES (timestamptz '2026-01-01'),
       ('2026-02-01'), ('2026-03-01')) v(t);
-- successive runs of a schedule
WITH RECURSIVE r(n, t) AS (
  SELECT 1, retention.next_run_time('0 */6 * * *', '2026-12-31 20:00+00')
  UNION ALL SELECT n + 1, retention.next_run_time('0 */6 * * *', t) FROM r WHERE n < 4)
SELECT n, t FROM r;
-- the job's time zone: 02:30 local in Paris, winter (UTC+1) and summer (UTC+2)
SELECT retention.next_run_time('30 2 * * *', '2026-01-10 12:00+00', 'Europe/Paris') AS winter,
       retention.next_run_time('30 2 * * *', '2026-07-10 12:00+00', 'Europe/Paris') AS summer;
-- daylight saving: 02:30 does not exist on 2026-03-29 in Paris (skipped), and 02:30 on
-- 2026-10-25 happens twice (fires once)
SELECT retention.next_run_time('30 2 * * *', '2026-03-28 12:00+00', 'Europe/Paris') AS after_gap;
SELECT retention.next_run_time('30 2 * * *', '2026-10-24 12:00+00', 'Europe/Paris') AS first,
       retention.next_run_time('30 2 * * *',
           retention.next_run_time('30 2 * * *', '2026-10-24 12:00+00', 'Europe/Paris'),
           'Europe/Paris') AS next;
-- calendar intervals are added on the local calendar: one day across the change stays 24h local
SELECT retention.next_run_time('1 day', '2026-03-28 12:00+01', 'Europe/Paris') AS local_day,
       retention.next_run_time('1 day', '2026-03-28 12:00+01', 'UTC') AS utc_day,
       retention.next_run_time('1 month', '2026-01-31 00:00+00', 'UTC') AS month_end;
-- minute boundaries: strictly after
SELECT retention.next_run_time('* * * * *', '2026-03-05 10:07:00+00') AS on_boundary,
       retention.next_run_time('* * * * *', '2026-03-05 10:06:59.999999+00') AS just_before;

-- bad schedules, each with its SQLSTATE
\set VERBOSITY sqlstate
SELECT retention.next_run_time('', now());
SELECT retention.next_run_time('   ', now());
SELECT retention.next_run_time('* * * *', now());
SELECT retention.next_run_time('* * * * * *', now());
SELECT retention.next_run_time('60 * * * *', now());
SELECT retention.next_run_time('* 24 * * *', now());
SELECT retention.next_run_time('* * 0 * *', now());
SELECT retention.next_run_time('* * 32 * *', now());
SELECT retention.next_run_time('* * * 13 *', now());
SELECT retention.next_run_time('* * * * 8', now());
SELECT retention.next_run_time('5-1 * * * *', now());
SELECT retention.next_run_time('*/0 * * * *', now());
SELECT retention.next_run_time('*/x * * * *', now());
SELECT retention.next_run_time('1,,2 * * * *', now());
SELECT retention.next_run_time('mon * * * *', now());
SELECT retention.next_run_time('* * * foo *', now());
SELECT retention.next_run_time('0 0 30 2 *', now());
SELECT retention.next_run_time('@often', now());
SELECT retention.next_run_time('every day', now());
SELECT retention.next_run_time('0 seconds', now());
SELECT retention.next_run_time('-5 minutes', now());
SELECT retention.next_run_time('500 milliseconds', now());
SELECT retention.next_run_time('1 day', now(), 'Mars/Olympus');
SELECT retention.next_run_time('1 day', 'infinity');
\set VERBOSITY default
SELECT retention.next_run_time('61 * * * *', now());
SELECT retention.next_run_time('0 0 31 2,4 *', now());
SELECT retention.next_run_time('1 day', now(), 'Mars/Olympus');
