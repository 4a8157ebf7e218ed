-- Subscription revenue retention, subscription spans and churn conventions, and the customer
-- metrics users report (pg_retention: revenue_agg, cohort_nrr_table, span_agg, nps_agg).
-- CDNOW has no subscriptions, so the MRR part generates seeded ones for 5,000 customers.
\echo
\echo '== generated subscriptions: 5,000 customers, monthly MRR over 2024 (seeded) =='
SELECT setseed(0.2024);
CREATE TEMP TABLE demo_mrr AS
SELECT s.c AS customer_id, (date '2024-01-01' + make_interval(months => s.start + k))::date AS month,
       round((s.plan * (1 + 0.5 * floor(random() * 3) * (random() < 0.15)::int))::numeric, 2) AS mrr
FROM (SELECT c, floor(random() * 12)::int AS start, 10 * (1 + floor(random() * 20)) AS plan,
             1 + floor(random() * 12)::int AS life
      FROM generate_series(1, 5000) c) s,
     LATERAL generate_series(0, least(s.life, 12 - s.start) - 1) k
WHERE k = 0 OR random() >= 1.0 / 15;
CREATE TEMP TABLE customer_mrr AS
SELECT customer_id, retention.activity_agg(retention.customer_period(month, 'month'), mrr) AS activity
FROM demo_mrr GROUP BY customer_id;

\echo
\echo '== MRR movements per month =='
SELECT period, mrr_start, new_mrr, expansion_mrr, contraction_mrr, churned_mrr, reactivation_mrr, mrr_end
FROM retention.revenue_table((SELECT retention.revenue_agg(activity) FROM customer_mrr));

\echo
\echo '== GRR, NRR, revenue churn and quick ratio, with their numerators (denominator: mrr_start) =='
SELECT period, mrr_start, retained_mrr, grr, net_retained_mrr, nrr, gross_revenue_churn, net_revenue_churn,
       mrr_gained, mrr_lost, quick_ratio
FROM retention.revenue_table((SELECT retention.revenue_agg(activity) FROM customer_mrr));

\echo
\echo '== cohort NRR: each cohort''s MRR at ages 0, 1, 2, ... in % of its MRR at age 0 =='
SELECT cohort, base_revenue,
       string_agg(lpad(to_char(nrr, 'FM990'), 4), ' ' ORDER BY age) AS "NRR % at age 0, 1, 2, ..."
FROM retention.cohort_nrr_table((SELECT retention.cohort_agg(activity) FROM customer_mrr))
GROUP BY cohort, base_revenue ORDER BY cohort;

\echo
\echo '== the same customers as subscription spans: subscribers at the start and end of each month =='
CREATE TEMP TABLE demo_spans AS
SELECT customer_id,
       range_agg(retention.subscription_span(month, CASE WHEN month < '2024-12-01' THEN (month + interval '1 month')::date END)) AS spans
FROM demo_mrr GROUP BY customer_id;
\echo '(a customer paying in a month is subscribed all that month; those paying in December are still subscribed)'
SELECT period, customers_start, new_customers, customers_end, retained, reactivated, lost, crr,
       churn_numerator, churn_denominator, churn_rate
FROM retention.span_table((SELECT retention.span_agg(spans, 'month') FROM demo_spans));

\echo
\echo '== churn conventions side by side (standard L/S, ChartMogul, Stripe) =='
\echo '(these spans run whole months, so nobody joins and leaves within a month and ChartMogul''s'
\echo ' convention equals the standard one; sql/span_conventions.sql has a data set where all three differ)'
SELECT s.period, s.churn_rate AS standard, c.churn_rate AS chartmogul, t.churn_rate AS stripe
FROM retention.span_table((SELECT retention.span_agg(spans, 'month') FROM demo_spans)) s
JOIN retention.span_table((SELECT retention.span_agg(spans, 'month') FROM demo_spans), 'chartmogul') c USING (period)
JOIN retention.span_table((SELECT retention.span_agg(spans, 'month') FROM demo_spans), 'stripe') t USING (period)
ORDER BY period;

\echo
\echo '== CDNOW: the customer metrics users report (plain SQL, docs/metrics.md) =='
SELECT count(*) FILTER (WHERE n > 1) AS repeat_customers, count(*) AS customers,
       round(100.0 * count(*) FILTER (WHERE n > 1) / count(*), 2) AS repeat_purchase_rate,
       sum(n) AS orders, round(sum(n)::numeric / count(*), 2) AS purchase_frequency,
       round(sum(r) / sum(n), 2) AS average_order_value, round(sum(r) / count(*), 2) AS revenue_per_customer
FROM (SELECT customer_id, count(*) AS n, sum(amount) AS r FROM orders GROUP BY customer_id) c;
\echo '(CDNOW has no product types, referrals or survey answers; docs/metrics.md shows upsell ratio,'
\echo ' referral rate, NPS, CSAT and CES on small examples.)'
\echo
\echo '== NPS and CSAT on generated survey answers (seeded) =='
SELECT setseed(0.5);
CREATE TEMP TABLE survey AS
SELECT least(10, floor(random() * 12)::int) AS nps_answer, 1 + floor(random() * 5)::int AS csat_answer
FROM generate_series(1, 1000);
SELECT (retention.nps_agg(nps_answer)).* FROM survey;
SELECT (retention.csat_agg(csat_answer, 5)).* FROM survey;
