-- Forecasts after the end of observation: expected purchases in a window, the conditional
-- distribution of the purchases in it, prediction intervals, CLV as a schedule, the
-- bootstrap over customers, and the bounds on a fit (time limit, cancel).
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

-- A window (T + t1, T + t2]: the difference of the cumulative expectations; (0, t] is the
-- familiar expected_purchases(model, t, ...) (1.226 for FHL's customer over 39 weeks).
SELECT round(retention.expected_purchases(bg, 0, 39, 2, 30.43, 38.86)::numeric, 3) AS bg_0_39,
       retention.expected_purchases(bg, 0, 39, 2, 30.43, 38.86) = retention.expected_purchases(bg, 39, 2, 30.43, 38.86) AS same_as_cumulative,
       round(retention.expected_purchases(bg, 13, 39, 2, 30.43, 38.86)::numeric, 4) AS bg_13_39,
       round((retention.expected_purchases(bg, 39, 2, 30.43, 38.86) - retention.expected_purchases(bg, 13, 2, 30.43, 38.86))::numeric, 4) AS difference,
       retention.expected_purchases(bg, 13, 13, 2, 30.43, 38.86) AS empty_window
FROM models;
SELECT round(retention.expected_purchases(mbg, 13, 39, 2, 30.43, 38.86)::numeric, 4) AS mbg_13_39,
       round((retention.expected_purchases(mbg, 39, 2, 30.43, 38.86) - retention.expected_purchases(mbg, 13, 2, 30.43, 38.86))::numeric, 4) AS mbg_difference,
       round(retention.expected_purchases(pareto, 13, 39, 2, 30.43, 38.86)::numeric, 4) AS pareto_13_39,
       round((retention.expected_purchases(pareto, 39, 2, 30.43, 38.86) - retention.expected_purchases(pareto, 13, 2, 30.43, 38.86))::numeric, 4) AS pareto_difference,
       round(retention.expected_purchases(bgbb, 2, 5, 3, 4, 6)::numeric, 4) AS bgbb_2_5,
       round((retention.expected_purchases(bgbb, 5, 3, 4, 6) - retention.expected_purchases(bgbb, 2, 3, 4, 6))::numeric, 4) AS bgbb_difference
FROM models;

-- The conditional distribution P(N = n | x, t_x, T) in a window: it sums to one and its
-- mean is the expected purchases, for every model, from T and from 13 weeks on.
SELECT model, t1, round(sum(p)::numeric, 9) AS total, round(sum(n * p)::numeric, 6) AS mean,
       round(max(expected)::numeric, 6) AS expected
FROM (SELECT 'BG/NBD' AS model, t1, n, retention.prob_purchases(bg, n, t1, 39, x, tx, tt) AS p,
             retention.expected_purchases(bg, t1, 39, x, tx, tt) AS expected
      FROM models, (VALUES (0), (13)) w(t1), (VALUES (2, 30.43, 38.86)) c(x, tx, tt), generate_series(0, 80) n
      UNION ALL
      SELECT 'MBG/NBD', t1, n, retention.prob_purchases(mbg, n, t1, 39, x, tx, tt),
             retention.expected_purchases(mbg, t1, 39, x, tx, tt)
      FROM models, (VALUES (0), (13)) w(t1), (VALUES (2, 30.43, 38.86)) c(x, tx, tt), generate_series(0, 80) n
      UNION ALL
      SELECT 'Pareto/NBD', t1, n, retention.prob_purchases(pareto, n, t1, 39, x, tx, tt),
             retention.expected_purchases(pareto, t1, 39, x, tx, tt)
      FROM models, (VALUES (0), (13)) w(t1), (VALUES (2, 30.43, 38.86)) c(x, tx, tt), generate_series(0, 80) n
      UNION ALL
      SELECT 'BG/BB', t1, n, retention.prob_purchases(bgbb, n, t1, 5, 3, 4, 6),
             retention.expected_purchases(bgbb, t1, 5, 3, 4, 6)
      FROM models, (VALUES (0), (2)) w(t1), generate_series(0, 5) n) s
GROUP BY model, t1 ORDER BY model, t1;
-- a frequent buyer too (x = 20): the distribution moves to the right and still adds up
SELECT round(sum(p)::numeric, 9) AS total, round(sum(n * p)::numeric, 6) AS mean,
       round(retention.expected_purchases(bg, 0, 52, 20, 37, 38.86)::numeric, 6) AS expected,
       round(max(p)::numeric, 4) AS mode_probability
FROM models, LATERAL (SELECT n, retention.prob_purchases(bg, n, 0, 52, 20, 37, 38.86) AS p
                      FROM generate_series(0, 200) n) s GROUP BY bg;
-- a brand-new customer (x = 0, t_x = 0, T = 0) follows the new-customer distribution of
-- FHL (2005) eq. 8, an independent formula (prob_purchases(model, n, t))
SELECT n, round(retention.prob_purchases(bg, n, 0, 39, 0, 0, 0)::numeric, 10) AS conditional,
       round(retention.prob_purchases(bg, n, 39)::numeric, 10) AS new_customer
FROM models, generate_series(0, 4) n ORDER BY n;
-- a customer who has not bought for long is more likely to buy nothing
SELECT round(retention.prob_purchases(bg, 0, 0, 39, 2, 5, 38.86)::numeric, 4) AS quiet_since_week_5,
       round(retention.prob_purchases(bg, 0, 0, 39, 2, 38, 38.86)::numeric, 4) AS bought_in_week_38
FROM models;

-- Prediction intervals: the equal-tailed interval of that distribution, recomputed here
-- from prob_purchases: P(N < lower) and P(N > upper) are each at most (1 - level) / 2.
SELECT (i).lower, (i).upper, round((i).coverage::numeric, 4) AS coverage, round((i).expected::numeric, 4) AS expected,
       round((SELECT sum(retention.prob_purchases(bg, n, 0, 52, 20, 37, 38.86)) FROM generate_series(0, (i).lower - 1) n)::numeric, 4) AS below,
       round((1 - (SELECT sum(retention.prob_purchases(bg, n, 0, 52, 20, 37, 38.86)) FROM generate_series(0, (i).upper) n))::numeric, 4) AS above,
       round((SELECT sum(retention.prob_purchases(bg, n, 0, 52, 20, 37, 38.86)) FROM generate_series(0, (i).lower) n)::numeric, 4) AS at_or_below_lower
FROM (SELECT retention.purchases_interval(bg, 0, 52, 20, 37, 38.86, 0.8) AS i, bg FROM models) s;
SELECT 'BG/NBD' AS model, (retention.purchases_interval(bg, 0, 39, 2, 30.43, 38.86)).lower,
       (retention.purchases_interval(bg, 0, 39, 2, 30.43, 38.86)).upper FROM models
UNION ALL SELECT 'MBG/NBD', (retention.purchases_interval(mbg, 0, 39, 2, 30.43, 38.86)).lower,
       (retention.purchases_interval(mbg, 0, 39, 2, 30.43, 38.86)).upper FROM models
UNION ALL SELECT 'Pareto/NBD', (retention.purchases_interval(pareto, 0, 39, 2, 30.43, 38.86)).lower,
       (retention.purchases_interval(pareto, 0, 39, 2, 30.43, 38.86)).upper FROM models
UNION ALL SELECT 'BG/BB', (retention.purchases_interval(bgbb, 0, 5, 6, 6, 6, 0.5)).lower,
       (retention.purchases_interval(bgbb, 0, 5, 6, 6, 6, 0.5)).upper FROM models;

-- CLV as a schedule: 12 months of 4.345 weeks at 1% a month. The discounted values are
-- clv()'s terms, so they add up to clv() exactly; P(alive) falls month by month.
SELECT period, round(t_end::numeric, 3) AS t_end, round(expected_purchases::numeric, 4) AS purchases,
       round(expected_revenue::numeric, 3) AS revenue, round(discount_factor::numeric, 4) AS discount,
       round(discounted_value::numeric, 3) AS value, round(cumulative_value::numeric, 3) AS cumulative,
       round(p_alive::numeric, 4) AS p_alive
FROM models, retention.clv_schedule(bg, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 4.345) ORDER BY period;
CREATE TEMP TABLE schedules AS
SELECT 'BG/NBD' AS model, retention.clv(bg, gg, 2, 30.43, 38.86, 22.35, 36, 0.01, 4.345) AS clv, s.*
FROM models, retention.clv_schedule(bg, gg, 2, 30.43, 38.86, 22.35, 36, 0.01, 4.345) s
UNION ALL
SELECT 'MBG/NBD', retention.clv(mbg, gg, 2, 30.43, 38.86, 22.35, 36, 0.01, 4.345), s.*
FROM models, retention.clv_schedule(mbg, gg, 2, 30.43, 38.86, 22.35, 36, 0.01, 4.345) s
UNION ALL
SELECT 'Pareto/NBD', retention.clv(pareto, gg, 2, 30.43, 38.86, 22.35, 36, 0.01, 4.345), s.*
FROM models, retention.clv_schedule(pareto, gg, 2, 30.43, 38.86, 22.35, 36, 0.01, 4.345) s;
SELECT model, sum(discounted_value ORDER BY period) = clv AS sum_equals_clv,
       max(cumulative_value) = clv AS last_cumulative_equals_clv,
       bool_and(expected_revenue = expected_spend * expected_purchases) AS revenue_is_spend_times_purchases,
       bool_and(p_alive < previous_p_alive) AS p_alive_falls, count(*) AS periods
FROM (SELECT *, lag(p_alive, 1, 1.0) OVER (PARTITION BY model ORDER BY period) AS previous_p_alive FROM schedules) s
GROUP BY model, clv ORDER BY 1;
-- P(alive) at the start equals p_alive() and falls by the model's survival afterwards
SELECT round(retention.p_alive(pareto, 2, 30.43, 38.86)::numeric, 6) AS p_alive_now,
       round(max(s.p_alive) FILTER (WHERE period = 1)::numeric, 6) AS after_one_month,
       round((retention.p_alive(pareto, 2, 30.43, 38.86) * ((pareto).beta + 38.86) ^ (pareto).s
              / ((pareto).beta + 38.86 + 4.345) ^ (pareto).s)::numeric, 6) AS pareto_survival_formula
FROM models, retention.clv_schedule(pareto, gg, 2, 30.43, 38.86, 22.35, 3, 0.01, 4.345) s GROUP BY pareto;
SELECT count(*) AS no_periods FROM models, retention.clv_schedule(bg, gg, 2, 30.43, 38.86, 22.35, 0, 0.01, 4.345);

-- Bootstrap over customers: replicate 0 is the fit to all customers, the others refit
-- resamples drawn with replacement; a seed gives the same rows every time.
CREATE TEMP TABLE state AS SELECT retention.fit_state_rft(frequency, recency, t) AS s FROM cdnow;
SELECT (retention.bgnbd_fit_final(s)).log_likelihood = (SELECT (bg).log_likelihood FROM models) AS state_fits_like_bgnbd_fit,
       (SELECT sum(weight) FROM retention.fit_state_patterns(s)) AS customers,
       (SELECT count(*) FROM retention.fit_state_patterns(s)) AS patterns
FROM state;
CREATE TEMP TABLE boot AS SELECT b.* FROM state, retention.bgnbd_bootstrap(s, 200, 42) b;
SELECT count(*) AS rows, count(*) FILTER (WHERE (model).converged) AS converged,
       bool_and((model).customers = 2357) AS same_customers,
       (SELECT (model).r FROM boot WHERE replicate = 0) = (SELECT (bg).r FROM models) AS replicate_0_is_the_fit
FROM boot;
-- the replicates' spread of r matches the standard error from the Hessian (0.013)
SELECT round(stddev((model).r)::numeric, 3) AS bootstrap_se_r, round((SELECT (bg).se_r FROM models)::numeric, 3) AS hessian_se_r,
       round(percentile_cont(0.025) WITHIN GROUP (ORDER BY (model).r)::numeric, 2) AS r_lo,
       round(percentile_cont(0.975) WITHIN GROUP (ORDER BY (model).r)::numeric, 2) AS r_hi
FROM boot WHERE replicate > 0;
-- the same seed repeats, another seed differs
SELECT (SELECT array_agg((model).r ORDER BY replicate) FROM state, retention.bgnbd_bootstrap(s, 5, 42) b)
       = (SELECT array_agg((model).r ORDER BY replicate) FROM boot WHERE replicate <= 5) AS same_seed_same_rows,
       (SELECT array_agg((model).r ORDER BY replicate) FROM state, retention.bgnbd_bootstrap(s, 5, 43) b)
       <> (SELECT array_agg((model).r ORDER BY replicate) FROM boot WHERE replicate <= 5) AS other_seed_other_rows;
-- a replicate as a state: the same customers, re-weighted, and the same fit as in its row
SELECT (SELECT sum(weight) FROM retention.fit_state_patterns(r)) AS customers,
       (SELECT count(*) FROM retention.fit_state_patterns(r)) < 1016 AS fewer_patterns,
       round((retention.bgnbd_fit_final(r)).r::numeric, 4) AS refit_r,
       round((SELECT (model).r FROM boot WHERE replicate = 7)::numeric, 4) AS bootstrap_r,
       retention.fit_state_resample(s, 42, 0)::text = s::text AS replicate_0_is_the_state
FROM (SELECT s, retention.fit_state_resample(s, 42, 7) AS r FROM state) x;
-- any total, per replicate, from the state's re-weighted patterns: purchases in 39 weeks
SELECT count(*) AS replicates, round(min(total)) < round(max(total)) AS totals_vary,
       round(max(total) FILTER (WHERE replicate = 0)) AS all_customers
FROM (SELECT b.replicate, sum(p.weight * retention.expected_purchases(b.model, 39, p.frequency, p.recency, p.t)) AS total
      FROM state, boot b, retention.fit_state_patterns(retention.fit_state_resample(s, 42, b.replicate)) p
      WHERE b.replicate <= 20 GROUP BY b.replicate) t;
-- the other models bootstrap the same way
SELECT 'Pareto/NBD' AS model, count(*) FILTER (WHERE (model).converged) AS converged FROM state, retention.paretonbd_bootstrap(s, 5, 1) b
UNION ALL SELECT 'MBG/NBD', count(*) FILTER (WHERE (model).converged) FROM state, retention.mbgnbd_bootstrap(s, 5, 1) b
UNION ALL SELECT 'BG/BB', count(*) FILTER (WHERE (model).converged)
FROM (SELECT retention.fit_state_discrete(frequency, recency, periods, weights) AS s FROM donations) d, retention.bgbb_bootstrap(s, 5, 1) b
UNION ALL SELECT 'Gamma-Gamma', count(*) FILTER (WHERE (model).converged)
FROM (SELECT retention.fit_state_spend(x, zbar) AS s FROM cdnow_m) d, retention.gammagamma_bootstrap(s, 5, 1) b
UNION ALL SELECT 'sBG', count(*) FILTER (WHERE (model).converged)
FROM (SELECT retention.fit_state_survival(p, c, w) AS s
      FROM (VALUES (1, true, 369::bigint), (2, true, 163), (3, true, 86), (4, true, 56), (5, true, 37),
                   (6, true, 27), (7, true, 21), (7, false, 241)) v(p, c, w)) d, retention.sbg_bootstrap(s, 5, 1) b;

-- The fit_state aggregates run in parallel like the fitting aggregates.
CREATE TABLE cdnow_big AS SELECT c.* FROM cdnow c, generate_series(1, 20) g;
ANALYZE cdnow_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT retention.fit_state_rft(frequency, recency, t) FROM cdnow_big;
SELECT (SELECT retention.fit_state_rft(frequency, recency, t) FROM cdnow_big)::text
       = (SELECT retention.fit_state_rft(frequency, recency, t, 20) FROM cdnow)::text AS parallel_equals_weighted;
RESET ALL;
SET extra_float_digits = 0;
DROP TABLE cdnow_big;

-- A fit is bounded: retention.fit_time_limit stops it with a status (20,000 distinct
-- patterns take far longer than 1 ms to fit) ...
CREATE TEMP TABLE many AS
SELECT g % 25 AS frequency, CASE WHEN g % 25 = 0 THEN 0 ELSE (g % 997) / 10.0 END AS recency,
       100 + (g % 997) / 10.0 + g / 1000.0 AS t
FROM generate_series(1, 20000) g;
SET retention.fit_time_limit = 1;
SELECT (m).converged, (m).status FROM (SELECT retention.paretonbd_fit(frequency, recency, t) AS m FROM many) s;
RESET retention.fit_time_limit;
SHOW retention.fit_time_limit;
-- ... and can be cancelled (10,000 bootstrap replicates take many seconds)
SET statement_timeout = '100ms';
SELECT count(*) FROM state, retention.bgnbd_bootstrap(s, 10000, 1);
RESET statement_timeout;
-- degenerate data (37 customers with 79 to 81 repeat purchases) end at once, unconverged
SELECT (m).converged, (m).status
FROM (SELECT retention.paretonbd_fit(79 + i % 3, 300.0 + i, 400.0 + i) AS m FROM generate_series(1, 37) i) s;

-- Errors.
\set VERBOSITY sqlstate
SELECT retention.expected_purchases(bg, -1, 39, 2, 30.43, 38.86) FROM models;
SELECT retention.expected_purchases(bg, 40, 39, 2, 30.43, 38.86) FROM models;
SELECT retention.expected_purchases(bg, 0, 'Infinity', 2, 30.43, 38.86) FROM models;
SELECT retention.expected_purchases(bg, 'NaN', 39, 2, 30.43, 38.86) FROM models;
SELECT retention.expected_purchases(bg, 0, 39, 2, 40, 38.86) FROM models;
SELECT retention.expected_purchases(bgbb, -1, 5, 3, 4, 6) FROM models;
SELECT retention.expected_purchases(bgbb, 5, 2, 3, 4, 6) FROM models;
SELECT retention.prob_purchases(bg, -1, 0, 39, 2, 30.43, 38.86) FROM models;
SELECT retention.prob_purchases(bg, 2000000, 0, 39, 2, 30.43, 38.86) FROM models;
SELECT retention.prob_purchases(pareto, 1, 39, 0, 2, 30.43, 38.86) FROM models;
SELECT retention.prob_purchases(bgbb, 1, 0, 20000, 3, 4, 6) FROM models;
SELECT retention.purchases_interval(bg, 0, 39, 2, 30.43, 38.86, 1) FROM models;
SELECT retention.purchases_interval(bg, 0, 39, 2, 30.43, 38.86, 0) FROM models;
SELECT retention.purchases_interval(mbg, 0, 39, 2, 30.43, 38.86, 'NaN') FROM models;
SELECT retention.purchases_interval(bgbb, 0, 5, 7, 4, 6) FROM models;
SELECT * FROM models, retention.clv_schedule(bg, gg, 2, 30.43, 38.86, 22.35, -1, 0.01, 4.345);
SELECT * FROM models, retention.clv_schedule(pareto, gg, 2, 30.43, 38.86, 22.35, 12, -0.01, 4.345);
SELECT * FROM models, retention.clv_schedule(mbg, gg, 2, 30.43, 38.86, 22.35, 12, 0.01, 0);
SELECT * FROM models, retention.clv_schedule(bg, gg, 2, 30.43, 38.86, 0, 12, 0.01, 4.345);
SELECT count(*) FROM state, retention.bgnbd_bootstrap(s, 0, 1);
SELECT count(*) FROM state, retention.bgnbd_bootstrap(s, 100001, 1);
SELECT count(*) FROM state, retention.bgbb_bootstrap(s, 5, 1);
SELECT retention.fit_state_resample(s, 1, -1) FROM state;
SELECT count(*) FROM retention.fit_state_patterns('spend:2,10,1');
SET retention.fit_time_limit = 0;
\set VERBOSITY default
SELECT retention.expected_purchases(bg, 40, 39, 2, 30.43, 38.86) FROM models;
SELECT retention.purchases_interval(bg, 0, 39, 2, 30.43, 38.86, 1.5) FROM models;
SELECT count(*) FROM state, retention.bgnbd_bootstrap(s, 0, 1);
