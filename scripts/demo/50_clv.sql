-- Customer lifetime value on CDNOW: RFM summaries in weeks, BG/NBD and Gamma-Gamma fitted
-- in the database, the 10 most valuable customers and the 10 most at risk.
\echo
\echo '== Customer lifetime value (BG/NBD x Gamma-Gamma, weeks, observed to 1998-06-30) =='
CREATE TEMP TABLE demo_rfm AS
SELECT customer_id, (r).frequency, (r).recency, (r).t, (r).monetary_value
FROM (SELECT customer_id, retention.rfm_agg(ordered_on, amount, date '1998-06-30', 'week') AS r
      FROM orders GROUP BY customer_id) s;

CREATE TEMP TABLE demo_models AS
SELECT retention.bgnbd_fit(frequency, recency, t) AS bg,
       -- Gamma-Gamma describes positive spend: CDNOW has some $0 orders
       retention.gammagamma_fit(frequency, monetary_value) FILTER (WHERE monetary_value > 0) AS gg
FROM demo_rfm;

\echo 'Fitted models (time unit: weeks)'
SELECT round((bg).r::numeric, 3) AS r, round((bg).alpha::numeric, 3) AS alpha,
       round((bg).a::numeric, 3) AS a, round((bg).b::numeric, 3) AS b,
       round((bg).log_likelihood::numeric, 1) AS log_likelihood, (bg).converged,
       round((gg).p::numeric, 2) AS p, round((gg).q::numeric, 2) AS q,
       round((gg).gamma::numeric, 2) AS gamma, (gg).converged AS gg_converged
FROM demo_models;

\echo '10 most valuable customers: 12-month CLV (months of 4.345 weeks, 1% a month)'
SELECT customer_id, frequency, round(recency::numeric, 1) AS recency_weeks, round(t::numeric, 1) AS t_weeks,
       round(monetary_value::numeric, 2) AS avg_repeat_value,
       round(retention.p_alive(bg, frequency, recency, t)::numeric, 3) AS p_alive,
       round(retention.expected_purchases(bg, 52, frequency, recency, t)::numeric, 2) AS purchases_next_52w,
       round(retention.clv(bg, gg, frequency, recency, t, monetary_value, 12, 0.01, 4.345)::numeric, 2) AS clv_12m
FROM demo_rfm, demo_models
WHERE frequency = 0 OR monetary_value > 0
ORDER BY clv_12m DESC, customer_id LIMIT 10;

\echo '10 repeat buyers most at risk: lowest probability of still being a customer'
SELECT customer_id, frequency, round(recency::numeric, 1) AS recency_weeks, round(t::numeric, 1) AS t_weeks,
       round(monetary_value::numeric, 2) AS avg_repeat_value,
       to_char(retention.p_alive(bg, frequency, recency, t), '9.99EEEE') AS p_alive
FROM demo_rfm, demo_models
WHERE frequency > 0
ORDER BY retention.p_alive(bg, frequency, recency, t), frequency DESC, customer_id LIMIT 10;
