-- Scoring functions: expected purchases, probability alive, P(X(t) = n), expected spend,
-- discounted CLV, sBG survival, retention and DERL.
SET extra_float_digits = 0;
CREATE TEMP TABLE cdnow (id int, frequency int, recency float8, t float8);
\copy cdnow FROM 'test/data/cdnow_customers_summary.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE cdnow_m (id int, x int, t_x float8, t float8, zbar float8);
\copy cdnow_m FROM PROGRAM 'tr -d "\r" < test/data/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE donations (frequency int, recency int, periods int, weights bigint);
\copy donations FROM 'test/data/donations.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE models AS
SELECT (SELECT retention.bgnbd_fit(frequency, recency, t) FROM cdnow) AS bg,
       (SELECT retention.paretonbd_fit(frequency, recency, t) FROM cdnow) AS pareto,
       (SELECT retention.mbgnbd_fit(frequency, recency, t) FROM cdnow) AS mbg,
       (SELECT retention.gammagamma_fit(x, zbar) FROM cdnow_m) AS gg,
       (SELECT retention.bgbb_fit(frequency, recency, periods, weights) FROM donations) AS bgbb;

-- BG/NBD, the customer of FHL (2005): x = 2, t_x = 30.43, T = 38.86 weeks: 1.226 expected
-- purchases in the next 39 weeks (Hardie's spreadsheet).
SELECT round(retention.expected_purchases(bg, 39, 2, 30.43, 38.86)::numeric, 3) AS expected_39,
       round(retention.p_alive(bg, 2, 30.43, 38.86)::numeric, 3) AS p_alive,
       retention.p_alive(bg, 0, 0, 38.86) AS p_alive_no_repeat,
       retention.expected_purchases(bg, 0, 2, 30.43, 38.86) AS expected_0
FROM models;
-- the same from the published parameters, in a model built by hand
SELECT round(retention.expected_purchases(
         ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::retention.bgnbd_model,
         39, 2, 30.43, 38.86)::numeric, 3) AS expected_39_published;
-- a customer who has not bought for a long time is less likely alive
SELECT round(retention.p_alive(bg, 5, 10, 38.86)::numeric, 4) < round(retention.p_alive(bg, 5, 38, 38.86)::numeric, 4) AS recency_matters
FROM models;

-- P(X(t) = n) sums to one over n and its mean is the expected purchases of a new customer.
SELECT round(sum(retention.prob_purchases(bg, n, 39))::numeric, 6) AS total_probability,
       round(sum(n * retention.prob_purchases(bg, n, 39))::numeric, 4) AS mean,
       round(retention.expected_purchases(bg, 39)::numeric, 4) AS expected_new,
       round(retention.prob_purchases(bg, 0, 39)::numeric, 4) AS p0
FROM models, generate_series(0, 300) n GROUP BY bg;
-- Summed over the customers, the 39-week holdout prediction (rfm.sql counts 1,882 repeat purchase days there).
SELECT round(sum(retention.expected_purchases(bg, 39, frequency, recency, t))::numeric) AS predicted
FROM models, cdnow;

-- Pareto/NBD and MBG/NBD for the same customer.
SELECT round(retention.expected_purchases(pareto, 39, 2, 30.43, 38.86)::numeric, 3) AS pareto_expected,
       round(retention.p_alive(pareto, 2, 30.43, 38.86)::numeric, 3) AS pareto_alive,
       round(retention.expected_purchases(mbg, 39, 2, 30.43, 38.86)::numeric, 3) AS mbg_expected,
       round(retention.p_alive(mbg, 2, 30.43, 38.86)::numeric, 3) AS mbg_alive,
       round(retention.p_alive(mbg, 0, 0, 38.86)::numeric, 3) AS mbg_alive_no_repeat
FROM models;

-- BG/BB for the donors: probability alive and expected donations in the next 5 years.
SELECT frequency, recency, round(retention.p_alive(bgbb, frequency, recency, 6)::numeric, 3) AS p_alive,
       round(retention.expected_purchases(bgbb, 5, frequency, recency, 6)::numeric, 3) AS next_5
FROM models, (VALUES (0, 0), (3, 3), (3, 6), (6, 6)) v(frequency, recency) ORDER BY 1, 2;
SELECT round(sum(weights * retention.expected_purchases(bgbb, 5, frequency, recency, periods))::numeric) AS donations_next_5
FROM models, donations;

-- Gamma-Gamma expected spend: shrinks a customer's mean towards the population mean.
SELECT round(retention.expected_spend(gg, 0, 0)::numeric, 2) AS population_mean,
       round(retention.expected_spend(gg, 1, 100)::numeric, 2) AS one_repeat_100,
       round(retention.expected_spend(gg, 10, 100)::numeric, 2) AS ten_repeats_100
FROM models;

-- Discounted CLV: 12 monthly periods of 4.345 weeks (the model is in weeks), 1% a month.
-- Equal to the explicit sum of expected spend x expected purchases per month, discounted.
SELECT round(retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 4.345)::numeric, 2) AS clv,
       round(sum(retention.expected_spend(gg, 2, 22.35)
                 * (retention.expected_purchases(bg, i * 4.345, 2, 30.43, 38.86)
                    - retention.expected_purchases(bg, (i - 1) * 4.345, 2, 30.43, 38.86))
                 / 1.01 ^ i)::numeric, 2) AS explicit_sum
FROM models, generate_series(1, 12) i GROUP BY bg, gg;
SELECT round(retention.clv(pareto, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 4.345)::numeric, 2) AS pareto_clv,
       round(retention.clv(mbg, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 4.345)::numeric, 2) AS mbg_clv,
       retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, 0, 0.01, 4.345) AS no_periods
FROM models;
-- the unit matters: 12 "months" of 30 weeks (the lifetimes documentation's mix-up) is worth more
SELECT retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 30)
       > retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 4.345) AS units_matter
FROM models;

-- sBG: survival, retention rates and DERL of the high-end segment (alpha 0.668, beta 3.806).
CREATE TEMP TABLE sbg AS
SELECT retention.sbg_fit(periods, churned, n) AS m
FROM (VALUES (1, true, 131::bigint), (2, true, 126), (3, true, 90), (4, true, 60), (5, true, 42),
             (6, true, 34), (7, true, 26), (7, false, 491)) v(periods, churned, n);
SELECT t, round(retention.sbg_survival(m, t)::numeric, 3) AS survival,
       CASE WHEN t > 0 THEN round(retention.sbg_retention(m, t)::numeric, 3) END AS retention
FROM sbg, generate_series(0, 12, 3) t ORDER BY t;
-- DERL equals sum over k >= 0 of S(n + k) / S(n - 1) / (1 + d)^k, n = renewals + 1
SELECT renewals, round(retention.sbg_derl(m, 0.1, renewals)::numeric, 4) AS derl,
       round((SELECT sum(retention.sbg_survival(m, renewals + 1 + k) / retention.sbg_survival(m, renewals) / 1.1 ^ k)
              FROM generate_series(0, 400) k)::numeric, 4) AS explicit_sum
FROM sbg, (VALUES (0), (4), (10)) v(renewals) ORDER BY renewals;
SELECT round(retention.sbg_derl(m, 0.1)::numeric, 4) = round(retention.sbg_derl(m, 0.1, 0)::numeric, 4) AS default_renewals
FROM sbg;

-- Errors.
SELECT retention.expected_purchases(bg, -1, 2, 30.43, 38.86) FROM models;
SELECT retention.expected_purchases(bg, 'NaN', 2, 30.43, 38.86) FROM models;
SELECT retention.p_alive(bg, 2, 40, 38.86) FROM models;
SELECT retention.p_alive(bg, -2, 1, 38.86) FROM models;
SELECT retention.prob_purchases(bg, -1, 39) FROM models;
SELECT retention.expected_spend(gg, 2, -1) FROM models;
SELECT retention.expected_spend(ROW(6, 0.9, 15, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::retention.gammagamma_model, 2, 10);
SELECT retention.p_alive(ROW(0.2, -4, 0.8, 2.4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::retention.bgnbd_model, 2, 30, 38);
SELECT retention.p_alive(ROW(0.2, NULL, 0.8, 2.4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::retention.bgnbd_model, 2, 30, 38);
SELECT retention.p_alive(m, 0, 0, 10)
FROM (SELECT retention.bgnbd_fit(0, 0, t) AS m FROM cdnow) s;
SELECT retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, -1, 0.01, 4.345) FROM models;
SELECT retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, 12, -0.01, 4.345) FROM models;
SELECT retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 0) FROM models;
SELECT retention.clv(bg, gg, 2, 30.43, 38.86, 0, 12, 0.01, 4.345) FROM models;
SELECT retention.expected_purchases(bgbb, -1, 3, 3, 6) FROM models;
SELECT retention.p_alive(bgbb, 4, 3, 6) FROM models;
SELECT retention.sbg_survival(m, -1) FROM sbg;
SELECT retention.sbg_retention(m, 0) FROM sbg;
SELECT retention.sbg_derl(m, 0) FROM sbg;
SELECT retention.sbg_derl(m, 0.1, -1) FROM sbg;
