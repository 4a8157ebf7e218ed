-- Cohorts, retention and churn on CDNOW (pg_retention: customer_activity, cohort_agg, retention_agg).
\echo
\echo '== one activity per customer and month (two-step aggregation, step 1) =='
CREATE TABLE customer_months AS
SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_on, 'month'), amount) AS activity
FROM orders GROUP BY customer_id;
SELECT count(*) AS customers, pg_size_pretty(pg_total_relation_size('customer_months')) AS table_size,
       round(avg(pg_column_size(activity)), 1) AS avg_activity_bytes
FROM customer_months;
SELECT customer_id, activity FROM customer_months ORDER BY customer_id LIMIT 3;

\echo
\echo '== monthly cohorts: share of each cohort active in the month (ages 0 .. 17) =='
SELECT cohort, cohort_size,
       string_agg(lpad(to_char(100 * retention, 'FM990.0'), 5), ' ' ORDER BY age) AS "retention % at age 0, 1, 2, ..."
FROM retention.cohort_table((SELECT retention.cohort_agg(activity) FROM customer_months))
GROUP BY cohort, cohort_size ORDER BY cohort;

\echo
\echo '== the same, "on or after": active in that month or any later one =='
SELECT cohort, cohort_size,
       string_agg(lpad(to_char(100 * retention, 'FM990.0'), 5), ' ' ORDER BY age) AS "retention % at age 0, 1, 2, ..."
FROM retention.cohort_table((SELECT retention.cohort_agg(activity) FROM customer_months), 'on_or_after')
GROUP BY cohort, cohort_size ORDER BY cohort;

\echo
\echo '== monthly CRR and churn (a customer counts when active in the month: inactivity => 1) =='
SELECT * FROM retention.retention_table((SELECT retention.retention_agg(activity) FROM customer_months));

\echo
\echo '== quarterly, counting customers active in one of the last 2 quarters (inactivity => 2), straight from the orders (one-pass) =='
SELECT * FROM retention.retention_table(
  (SELECT retention.retention_agg(customer_id, retention.customer_period(ordered_on, 'quarter')) FROM orders),
  inactivity => 2);

\echo
\echo '== growth accounting per month =='
SELECT * FROM retention.lifecycle_table((SELECT retention.retention_agg(activity) FROM customer_months));

\echo
\echo '== the cohort heatmap, written to build/cohort_heatmap.svg =='
\pset tuples_only on
\pset format unaligned
\! mkdir -p build
\o build/cohort_heatmap.svg
SELECT retention.cohort_heatmap_svg(retention.cohort_agg(activity), 'on',
       'CDNOW: share of each monthly cohort buying again, by months since the first purchase')
FROM customer_months;
\o
\pset tuples_only off
\pset format aligned
SELECT 'build/cohort_heatmap.svg' AS written, pg_size_pretty(length(retention.cohort_heatmap_svg(retention.cohort_agg(activity)))::bigint) AS size
FROM customer_months;
DROP TABLE customer_months;
