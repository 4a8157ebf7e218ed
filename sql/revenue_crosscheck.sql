--
-- revenue_table and cohort_nrr_table against plain-SQL window-function computations of the same
-- definitions (docs/revenue.md) on generated subscription MRR (three seeds, months and
-- quarters), the hand-worked example of docs/revenue.md, parallel plans, and the state's text
-- and binary forms.
--
SET search_path = retention, public;
SET datestyle = ISO;

-- the hand-worked example of docs/revenue.md
CREATE TEMP TABLE mrr (customer_id int, month date, mrr numeric);
INSERT INTO mrr VALUES
 (1, '2024-01-01', 100), (1, '2024-02-01', 100), (1, '2024-03-01', 120), (1, '2024-04-01', 120),
 (2, '2024-01-01', 50),  (2, '2024-02-01', 30),                          (2, '2024-04-01', 40),
                         (3, '2024-02-01', 80),  (3, '2024-03-01', 80),  (3, '2024-04-01', 60),
 (4, '2024-01-01', 200), (4, '2024-02-01', 200), (4, '2024-03-01', 200),
                                                 (5, '2024-03-01', 40),  (5, '2024-04-01', 90);
CREATE TEMP TABLE hand AS
SELECT customer_id, activity_agg(customer_period(month, 'month'), mrr) AS activity FROM mrr GROUP BY customer_id;
SELECT revenue_agg(activity) FROM hand;
SELECT period, mrr_start, new_mrr, expansion_mrr, contraction_mrr, churned_mrr, reactivation_mrr, mrr_end
FROM revenue_table((SELECT revenue_agg(activity) FROM hand));
SELECT period, customers_start, new_customers, expansion_customers, contraction_customers,
       churned_customers, reactivated_customers, customers_end
FROM revenue_table((SELECT revenue_agg(activity) FROM hand));
SELECT period, retained_mrr, net_retained_mrr, mrr_gained, mrr_lost,
       gross_revenue_churn, net_revenue_churn, grr, nrr, quick_ratio
FROM revenue_table((SELECT revenue_agg(activity) FROM hand));
SELECT * FROM cohort_nrr_table((SELECT cohort_agg(activity) FROM hand)) ORDER BY cohort, age;

-- generated subscriptions: customers start within 30 months of 2022-01, stay 1-24 months on a
-- plan of 10-100, change plan now and then, pause (0) now and then, some pay in two parts
CREATE TEMP TABLE subs (c int NOT NULL, d date NOT NULL, amt numeric NOT NULL);
CREATE FUNCTION pg_temp.make_subs(seed float8, customers int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE subs;
  PERFORM setseed(seed);
  INSERT INTO subs
  SELECT s.c, (date '2022-01-01' + make_interval(months => s.start + k))::date + floor(random() * 28)::int,
         CASE WHEN random() < 0.12 THEN 0
              ELSE round((s.plan * (1 + floor(random() * 3) * (random() < 0.3)::int))::numeric / s.parts, 2) END
  FROM (SELECT c, floor(random() * 30)::int AS start, 1 + floor(random() * 24)::int AS life,
               10 * (1 + floor(random() * 10)) AS plan, 1 + (random() < 0.2)::int AS parts
        FROM generate_series(1, customers) c) s,
       generate_series(0, s.life - 1) k, generate_series(1, s.parts) part;
  RETURN (SELECT count(*) FROM subs);
END $$;

-- MRR movements in plain SQL with window functions over every customer x period from the
-- customer's first paying period to the last period in the data
CREATE FUNCTION pg_temp.plain_revenue(kind text)
RETURNS TABLE (period customer_period, mrr_start numeric, new_mrr numeric, expansion_mrr numeric,
               contraction_mrr numeric, churned_mrr numeric, reactivation_mrr numeric, mrr_end numeric,
               customers_start bigint, new_customers bigint, expansion_customers bigint,
               contraction_customers bigint, churned_customers bigint, reactivated_customers bigint,
               customers_end bigint, retained_mrr numeric, net_retained_mrr numeric, mrr_gained numeric,
               mrr_lost numeric, gross_revenue_churn numeric, net_revenue_churn numeric, grr numeric,
               nrr numeric, quick_ratio numeric)
LANGUAGE sql AS $$
WITH m AS (SELECT c, customer_period(d, kind) AS p, sum(amt) AS mrr FROM subs GROUP BY 1, 2 HAVING sum(amt) > 0),
hi AS (SELECT max(p) AS hi FROM m),
grid AS (SELECT f.c, g.p FROM (SELECT c, min(p) AS f FROM m GROUP BY c) f, hi, periods(f.f, hi.hi) g(p)),
x AS (SELECT grid.c, grid.p, coalesce(m.mrr, 0) AS cur,
             lag(coalesce(m.mrr, 0), 1, 0::numeric) OVER w AS prev,
             row_number() OVER w = 1 AS first
      FROM grid LEFT JOIN m USING (c, p) WINDOW w AS (PARTITION BY grid.c ORDER BY grid.p)),
per AS (SELECT p,
          sum(prev) AS s_mrr, sum(cur) FILTER (WHERE first) AS new_mrr,
          sum(cur - prev) FILTER (WHERE prev > 0 AND cur > prev) AS exp_mrr,
          sum(prev - cur) FILTER (WHERE cur > 0 AND prev > cur) AS con_mrr,
          sum(prev) FILTER (WHERE prev > 0 AND cur = 0) AS churn_mrr,
          sum(cur) FILTER (WHERE NOT first AND prev = 0 AND cur > 0) AS react_mrr,
          sum(cur) AS e_mrr,
          count(*) FILTER (WHERE prev > 0) AS s_n, count(*) FILTER (WHERE first) AS new_n,
          count(*) FILTER (WHERE prev > 0 AND cur > prev) AS exp_n,
          count(*) FILTER (WHERE cur > 0 AND prev > cur) AS con_n,
          count(*) FILTER (WHERE prev > 0 AND cur = 0) AS churn_n,
          count(*) FILTER (WHERE NOT first AND prev = 0 AND cur > 0) AS react_n,
          count(*) FILTER (WHERE cur > 0) AS e_n
        FROM x GROUP BY p),
z AS (SELECT p, s_mrr, coalesce(new_mrr, 0) AS new_mrr, coalesce(exp_mrr, 0) AS exp_mrr,
             coalesce(con_mrr, 0) AS con_mrr, coalesce(churn_mrr, 0) AS churn_mrr,
             coalesce(react_mrr, 0) AS react_mrr, e_mrr, s_n, new_n, exp_n, con_n, churn_n, react_n, e_n
      FROM per)
SELECT p, s_mrr, new_mrr, exp_mrr, con_mrr, churn_mrr, react_mrr, e_mrr, s_n, new_n, exp_n, con_n, churn_n,
       react_n, e_n, s_mrr - con_mrr - churn_mrr, s_mrr + exp_mrr - con_mrr - churn_mrr,
       new_mrr + exp_mrr + react_mrr, con_mrr + churn_mrr,
       round((con_mrr + churn_mrr) * 100 / nullif(s_mrr, 0), 2),
       round((con_mrr + churn_mrr - exp_mrr) * 100 / nullif(s_mrr, 0), 2),
       round((s_mrr - con_mrr - churn_mrr) * 100 / nullif(s_mrr, 0), 2),
       round((s_mrr + exp_mrr - con_mrr - churn_mrr) * 100 / nullif(s_mrr, 0), 2),
       round((new_mrr + exp_mrr + react_mrr) / nullif(con_mrr + churn_mrr, 0), 2)
FROM z
$$;

-- cohort NRR in plain SQL: a cohort's MRR at each age over its MRR at age 0 (cohort = first active period)
CREATE FUNCTION pg_temp.plain_cohort_nrr(kind text)
RETURNS TABLE (cohort customer_period, age int, cohort_size bigint, customers bigint,
               base_revenue numeric, revenue numeric, nrr numeric)
LANGUAGE sql AS $$
WITH a AS (SELECT c, customer_period(d, kind) AS p, sum(amt) AS r FROM subs GROUP BY 1, 2),
f AS (SELECT c, min(p) OVER (PARTITION BY c) AS cohort, p, r FROM a),
cells AS (SELECT cohort, p - cohort AS age, count(*) AS k, sum(r) AS r FROM f GROUP BY 1, 2),
sizes AS (SELECT cohort, k AS n, r AS r0 FROM cells WHERE age = 0),
grid AS (SELECT s.cohort, g.age, s.n, s.r0 FROM sizes s, generate_series(0, (SELECT max(p) FROM a) - s.cohort) g(age))
SELECT g.cohort, g.age, g.n, coalesce(c.k, 0), g.r0, coalesce(c.r, 0), round(coalesce(c.r, 0) * 100 / nullif(g.r0, 0), 2)
FROM grid g LEFT JOIN cells c USING (cohort, age)
$$;

CREATE FUNCTION pg_temp.check_all()
RETURNS TABLE (kind text, what text, result_rows bigint, mismatches bigint)
LANGUAGE plpgsql AS $$
DECLARE
  k text; rs revenue_state; cs cohort_state;
BEGIN
  FOREACH k IN ARRAY ARRAY['month', 'quarter'] LOOP
    SELECT revenue_agg(a), cohort_agg(a) INTO rs, cs
    FROM (SELECT activity_agg(customer_period(d, k), amt) AS a FROM subs GROUP BY c) s;
    RETURN QUERY SELECT k, 'revenue_table', (SELECT count(*) FROM revenue_table(rs)),
      (SELECT count(*) FROM ((SELECT * FROM revenue_table(rs) EXCEPT ALL SELECT * FROM pg_temp.plain_revenue(k))
                             UNION ALL
                             (SELECT * FROM pg_temp.plain_revenue(k) EXCEPT ALL SELECT * FROM revenue_table(rs))) x);
    RETURN QUERY SELECT k, 'cohort_nrr_table', (SELECT count(*) FROM cohort_nrr_table(cs)),
      (SELECT count(*) FROM ((SELECT * FROM cohort_nrr_table(cs) EXCEPT ALL SELECT * FROM pg_temp.plain_cohort_nrr(k))
                             UNION ALL
                             (SELECT * FROM pg_temp.plain_cohort_nrr(k) EXCEPT ALL SELECT * FROM cohort_nrr_table(cs))) x);
    -- identities: MRR at the end = start + new + expansion + reactivation - contraction - churn,
    -- and the next period starts where this one ended
    RETURN QUERY SELECT k, 'identities', (SELECT count(*) FROM revenue_table(rs)),
      (SELECT count(*) FROM (SELECT *, lead(mrr_start) OVER (ORDER BY period) AS next_start,
                                    lead(customers_start) OVER (ORDER BY period) AS next_n
                             FROM revenue_table(rs)) t
       WHERE mrr_end <> mrr_start + new_mrr + expansion_mrr + reactivation_mrr - contraction_mrr - churned_mrr
          OR customers_end <> customers_start + new_customers + reactivated_customers - churned_customers
          OR next_start <> mrr_end OR next_n <> customers_end);
    -- the one-pass aggregate over the raw rows builds the very same state
    RETURN QUERY SELECT k, 'one-pass revenue_agg', 1::bigint,
      (SELECT (revenue_agg(c::bigint, customer_period(d, k), amt)::text IS DISTINCT FROM rs::text)::int::bigint FROM subs);
    -- the text form reads back to the same state; revenue_union of halves gives the whole
    RETURN QUERY SELECT k, 'text round trip', 1::bigint, (rs::text::revenue_state::text <> rs::text)::int::bigint;
    RETURN QUERY SELECT k, 'revenue_union of halves', 1::bigint,
      (SELECT (revenue_union(h)::text <> rs::text)::int::bigint
       FROM (SELECT revenue_agg(a) AS h
             FROM (SELECT c, activity_agg(customer_period(d, k), amt) AS a FROM subs GROUP BY c) s
             GROUP BY c % 2) u);
  END LOOP;
END $$;

SELECT pg_temp.make_subs(0.1, 400) AS rows;
SELECT * FROM pg_temp.check_all();
SELECT pg_temp.make_subs(0.5, 300) AS rows;
SELECT * FROM pg_temp.check_all();
SELECT pg_temp.make_subs(-0.7, 250) AS rows;
SELECT * FROM pg_temp.check_all();

-- a single customer paying once
TRUNCATE subs;
INSERT INTO subs VALUES (1, '2024-05-05', 9.99);
SELECT * FROM pg_temp.check_all();

-- parallel plans: Partial Aggregate in the workers, the same state as the serial plan
SELECT pg_temp.make_subs(0.3, 2000) AS rows;
CREATE TABLE rev_par AS SELECT c, activity_agg(customer_period(d, 'month'), amt) AS a FROM subs GROUP BY c;
ALTER TABLE rev_par SET (parallel_workers = 2);
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS SELECT revenue_agg(a)::text AS s FROM rev_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT revenue_agg(a) FROM rev_par;
SELECT revenue_agg(a)::text = (SELECT s FROM serial) AS parallel_equals_serial FROM rev_par;
-- the one-pass form in parallel: partial maps merged by the combine function
CREATE TABLE rev_rows AS SELECT c::bigint AS c, customer_period(d, 'month') AS p, amt FROM subs;
ALTER TABLE rev_rows SET (parallel_workers = 2);
EXPLAIN (COSTS OFF) SELECT revenue_agg(c, p, amt) FROM rev_rows;
SELECT revenue_agg(c, p, amt)::text = (SELECT s FROM serial) AS one_pass_parallel_equals_serial FROM rev_rows;
DROP TABLE rev_par, rev_rows;
