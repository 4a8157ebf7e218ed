-- A database as a pg_retention user leaves it, made with the API of the oldest release (0.1.0)
-- so that every upgrade test can start from it: orders, a cohort job and a loyalty program
-- with a tier job (one owned by an ordinary role), their run history, the tables they fill,
-- and a table holding a value of every stored state type. Read back by reports.sql.
-- Expects the extension to be installed and the role regress_analyst to exist.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- orders from 2020 and 2021: every loyalty status has long ended by any date the tests run
-- on, so refreshing the tier tables "as of today" gives the same rows on every day
CREATE TABLE orders (customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL, amount numeric(10, 2) NOT NULL);
INSERT INTO orders
SELECT c, timestamptz '2020-01-01 09:00+00' + ((c * 37 + i * 53) % 700) * interval '1 day' + (i % 7) * interval '1 hour',
       ((c * i * 31) % 400) + 0.25 * (i % 4)
FROM generate_series(1, 200) c, generate_series(1, 1 + c % 6) i;
GRANT SELECT ON orders TO regress_analyst;
GRANT CREATE ON SCHEMA public TO regress_analyst;

-- jobs and their runs (run by hand here; the scheduler runs them later in the tests)
SELECT retention.create_cohort_job('monthly', 'orders', 'customer_id', 'ordered_at', 'amount', 'month',
       'monthly_activity', 'monthly_cohorts', '1 second');
SELECT retention.create_loyalty_program('club', 'orders', 'customer_id', 'ordered_at', 'amount', 'calendar_year',
       '[{"name": "Silver", "rank": 1, "min_amount": 500}, {"name": "Gold", "rank": 2, "min_amount": 1000, "min_orders": 4}]',
       base_tier => 'Member', status_years => 1, grace_days => 30);
SELECT retention.create_loyalty_job('tiers', 'club', '1 second');
SET ROLE regress_analyst;
SELECT retention.create_cohort_job('weekly', 'orders', 'customer_id', 'ordered_at', 'amount', 'week',
       'weekly_activity', 'weekly_cohorts', '1 second', mode => 'on_or_after');
RESET ROLE;
SELECT retention.run_job('monthly');
SELECT retention.run_job('tiers');
SELECT retention.run_job('weekly');

-- stored states: one value of each state type, and periods of every kind
CREATE TABLE customer_months AS
SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) AS activity
FROM orders GROUP BY customer_id;
CREATE TABLE customer_rfm AS
SELECT customer_id, retention.rfm_agg(ordered_at::date, amount, date '2022-01-01', 'week') AS rfm,
       retention.rfm_holdout_agg(ordered_at::date, amount, date '2021-07-01', date '2022-01-01', 'week') AS holdout
FROM orders GROUP BY customer_id;
CREATE TABLE stored_states AS
SELECT (SELECT retention.cohort_agg(activity) FROM customer_months) AS cohorts,
       (SELECT retention.retention_agg(activity) FROM customer_months) AS retention,
       (SELECT retention.revenue_agg(activity) FROM customer_months) AS revenue,
       (SELECT retention.activity_map_agg(customer_id, retention.customer_period(ordered_at, 'month', 'UTC'), amount)
        FROM orders) AS activity_map,
       (SELECT retention.span_agg(spans, 'month')
        FROM (SELECT range_agg(retention.subscription_span(ordered_at::date, ordered_at::date + 45)) AS spans
              FROM orders GROUP BY customer_id) s) AS spans,
       (SELECT retention.bgnbd_fit((rfm).frequency, (rfm).recency, (rfm).t) FROM customer_rfm) AS bgnbd,
       (SELECT retention.gammagamma_fit((rfm).frequency, (rfm).monetary_value)
        FROM customer_rfm WHERE (rfm).frequency > 0) AS gammagamma,
       (SELECT retention.sbg_fit(p, p < 8) FROM generate_series(1, 10) p) AS sbg,
       (SELECT retention.nps_agg(s % 11) FROM generate_series(1, 50) s) AS nps,
       (SELECT retention.csat_agg(s % 5 + 1, 5) FROM generate_series(1, 50) s) AS csat;
CREATE TABLE stored_periods AS
SELECT kind, retention.customer_period(date '2026-03-05', kind) AS period
FROM unnest(ARRAY['day', 'week', 'week:sun', 'month', 'quarter', 'half', 'year', 'fiscal_month:apr',
                  'fiscal_quarter:apr', 'fiscal_half:apr', 'fiscal_year:apr', 'retail_week',
                  'retail_period', 'retail_quarter', 'retail_year']) kind;
CREATE INDEX ON stored_periods (period);
