--
-- Subscription spans: the seed example, one small data set on which the three churn conventions
-- differ (the example of docs/revenue.md), retention_table's convention parameter, the
-- span_state's text and binary forms, and every user-facing error.
--
SET search_path = retention, public;
SET datestyle = ISO;

CREATE TEMP TABLE subscriptions (customer_id int, started_on date, ended_on date);

-- the seed example: 150 subscribers at the start of February 2024, 7 of them cancel during
-- February, 50 new ones join: S = 150, L = 7, N = 50, E = 193, CRR 95.33 %, churn 4.67 %
INSERT INTO subscriptions
SELECT i, date '2023-12-01', CASE WHEN i <= 7 THEN date '2024-02-01' + i END FROM generate_series(1, 150) i
UNION ALL
SELECT 1000 + i, date '2024-02-01' + (i % 28), NULL FROM generate_series(1, 50) i;
SELECT period, customers_start, new_customers, customers_end, retained, reactivated, lost, crr, churn_rate
FROM span_table((SELECT span_agg(spans, 'month')
                 FROM (SELECT range_agg(subscription_span(started_on, ended_on)) AS spans
                       FROM subscriptions GROUP BY customer_id) c))
WHERE period = '2024-02';

-- how the conventions differ, on six customers in February 2024
TRUNCATE subscriptions;
INSERT INTO subscriptions VALUES
  (1, '2023-12-01', NULL),           -- a: subscribed all along
  (2, '2023-12-01', '2024-02-10'),   -- b: cancels in February
  (3, '2024-01-01', '2024-02-05'),   -- c: cancels in February ...
  (3, '2024-02-20', NULL),           --    ... and comes back before its end
  (4, '2024-02-03', '2024-02-17'),   -- d: joins and leaves in February
  (5, '2024-02-10', NULL),           -- e: joins in February
  (6, '2023-11-01', '2023-12-15'),   -- f: left in December, ...
  (6, '2024-02-01', '2024-02-25');   --    ... comes back in February and leaves again
CREATE TEMP TABLE conv AS
SELECT span_agg(spans, 'month') AS s
FROM (SELECT range_agg(subscription_span(started_on, ended_on)) AS spans FROM subscriptions GROUP BY customer_id) c;
SELECT s FROM conv;
SELECT period, customers_start, new_customers, customers_end, retained, reactivated, lost,
       churned_customers, churn_events, new_lost, churned_back, crr
FROM span_table((SELECT s FROM conv));
SELECT t.period, t.convention_used, t.churn_numerator, t.churn_denominator, t.churn_rate
FROM unnest(ARRAY['standard', 'chartmogul', 'stripe']) c, span_table((SELECT s FROM conv), c) t
WHERE t.period = '2024-02';
-- quarters: every one of these customers moves inside 2023-Q4 .. 2024-Q1
SELECT period, customers_start, new_customers, customers_end, lost, churn_events, crr, churn_rate
FROM span_table((SELECT span_agg(spans, 'quarter')
                 FROM (SELECT range_agg(subscription_span(started_on, ended_on)) AS spans
                       FROM subscriptions GROUP BY customer_id) c));

-- retention_table takes the same parameter; on period-level activity nobody joins and leaves
-- within a period, so 'chartmogul' equals 'standard', and 'stripe' divides by S + N
CREATE TEMP TABLE ret_acts AS
SELECT c, activity_agg(p) AS a
FROM (VALUES (1, '2024-01'::customer_period), (1, '2024-02'), (2, '2024-01'), (3, '2024-01'), (3, '2024-03'),
             (4, '2024-02'), (5, '2024-02'), (5, '2024-03')) v(c, p) GROUP BY c;
SELECT t.convention, r.period, r.customers_start, r.new_customers, r.lost, r.churn_rate
FROM unnest(ARRAY['standard', 'chartmogul', 'stripe']) t(convention),
     retention_table((SELECT retention_agg(a) FROM ret_acts), convention => t.convention) r;
SELECT * FROM retention_table((SELECT retention_agg(a) FROM ret_acts), 1, 'Stripe');

-- span_state: text and binary forms
SELECT s::text::span_state::text = s::text AS text_round_trip FROM conv;
SELECT '/tmp/pg_retention_span_' || current_setting('port') || '.bin' AS binfile \gset
COPY conv TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE conv_copy (s span_state);
COPY conv_copy FROM :'binfile' WITH (FORMAT binary);
SELECT c.s::text = k.s::text AS binary_round_trip FROM conv c, conv_copy k;
-- a span state is no revenue state
CREATE TEMP TABLE rev_only (r revenue_state);
COPY rev_only FROM :'binfile' WITH (FORMAT binary);
-- partial states may carry empty periods: the accessor skips them
SELECT period, customers_start, new_customers, customers_end FROM span_table('2024-01|3|1:1,1,0,0,0,0,0,0,0');
-- values no aggregate can produce
SELECT '2024-01|1|0:1,0,0,0,0,0,0,0,0'::span_state;
SELECT '2024-01|1|0:-1,0,0,0,0,0,0,0,0'::span_state;
SELECT '2024-01|1|0:0,1,1,0,0,1,1,0,1'::span_state;
SELECT '2024-01|1|0:0,1,1,0,0,2,1,0,0'::span_state;
SELECT '2024-01|2|0:1,1,0,0,0,0,0,0,0;1:0,0,0,0,2,0,0,0,0'::span_state;
SELECT '2024-01|1|0:1,1,0,0,0,0,0,0,0,0'::span_state;

-- errors users can meet
SELECT subscription_span('2024-03-01', '2024-02-01');
SELECT subscription_span(NULL, '2024-02-01');
SELECT subscription_span('-infinity', NULL);
SELECT subscription_span('2024-03-01', '-infinity');
SELECT subscription_span('2024-03-01', '2024-03-01') AS empty, subscription_span('2024-03-01') AS open,
       subscription_span('2024-03-01', 'infinity') AS open_too;
SELECT span_agg(m, NULL) FROM (VALUES ('{[2024-01-01,2024-02-01)}'::datemultirange)) v(m);
SELECT span_agg(m, 'fortnight') FROM (VALUES ('{[2024-01-01,2024-02-01)}'::datemultirange)) v(m);
SELECT span_agg(m, k) FROM (VALUES ('{[2024-01-01,2024-02-01)}'::datemultirange, 'month'),
                                   ('{[2024-01-01,2024-02-01)}', 'quarter')) v(m, k);
SELECT span_union(s) FROM (VALUES ('2024-01|1|0:1,1,0,0,0,0,0,0,0'::span_state),
                                  ('2024-Q1|1|0:1,1,0,0,0,0,0,0,0'::span_state)) v(s);
SELECT span_agg(m, 'month') FROM (VALUES ('{(,2024-02-01)}'::datemultirange)) v(m);
SELECT * FROM span_table((SELECT s FROM conv), 'netflix');
SELECT * FROM span_table((SELECT s FROM conv), NULL);
SELECT * FROM retention_table((SELECT retention_agg(a) FROM ret_acts), 1, 'baremetrics');
-- no input, NULL and empty multiranges: no state
SELECT span_agg(m, 'month') IS NULL AS no_state
FROM (VALUES (NULL::datemultirange), ('{}')) v(m);
