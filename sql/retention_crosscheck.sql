--
-- cohort_table, retention_table and lifecycle_table equal plain-SQL computations of the same
-- definitions (and the one-pass aggregates over raw rows build the same states as the two-step
-- ones): on generated order histories (three seeds) and on CDNOW, per month and per
-- quarter, cohort modes 'on' and 'on_or_after', inactivity windows 1 and 3.
--
SET search_path = retention, public;
SET datestyle = ISO;

CREATE TEMP TABLE ord (c int NOT NULL, d date NOT NULL, amt numeric NOT NULL);

-- customers start within 600 days of 2023-01-01 and buy 1-8 times within 1-300 days
CREATE FUNCTION pg_temp.make_orders(seed float8, customers int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE ord;
  PERFORM setseed(seed);
  INSERT INTO ord
  SELECT s.c, date '2023-01-01' + s.start + floor(random() * s.life)::int,
         round((random() * 100)::numeric, floor(random() * 5)::int)
  FROM (SELECT c, floor(random() * 600)::int AS start, 1 + floor(random() * 300)::int AS life,
               1 + floor(random() * 8)::int AS n
        FROM generate_series(1, customers) c) s, generate_series(1, s.n);
  RETURN (SELECT count(*) FROM ord);
END $$;

-- cohort matrix in plain SQL: every cohort, every age up to the last period in the data
CREATE FUNCTION pg_temp.plain_cohort(kind text, mode text)
RETURNS TABLE (cohort customer_period, age int, cohort_size bigint, customers bigint, retention numeric, revenue numeric)
LANGUAGE sql AS $$
WITH cp AS (SELECT c, customer_period(d, kind) AS p, sum(amt) AS r FROM ord GROUP BY 1, 2),
cust AS (SELECT c, min(p) AS f, max(p) AS l FROM cp GROUP BY c),
sizes AS (SELECT f AS cohort, count(*) AS n FROM cust GROUP BY 1),
grid AS (SELECT s.cohort, g.age, s.n FROM sizes s, generate_series(0, (SELECT max(p) FROM cp) - s.cohort) g(age)),
on_cells AS (SELECT cust.f AS cohort, cp.p - cust.f AS age, count(*) AS k, sum(cp.r) AS r
             FROM cp JOIN cust USING (c) GROUP BY 1, 2),
after_cells AS (SELECT g.cohort, g.age, count(cust.c) AS k
                FROM grid g LEFT JOIN cust ON cust.f = g.cohort AND cust.l >= g.cohort + g.age GROUP BY 1, 2),
counts AS (SELECT g.cohort, g.age, g.n, CASE mode WHEN 'on' THEN coalesce(o.k, 0) ELSE a.k END AS k,
                  coalesce(o.r, 0) AS r
           FROM grid g LEFT JOIN on_cells o USING (cohort, age) JOIN after_cells a USING (cohort, age))
SELECT cohort, age, n, k, round(k::numeric / n, 4), r FROM counts
$$;

-- period retention in plain SQL: a customer counts at p when active in one of p-k+1 .. p
CREATE FUNCTION pg_temp.plain_retention(kind text, k int)
RETURNS TABLE (period customer_period, customers_start bigint, new_customers bigint, customers_end bigint,
               retained bigint, reactivated bigint, lost bigint, crr numeric, churn_rate numeric)
LANGUAGE sql AS $$
WITH ap AS (SELECT DISTINCT c, customer_period(d, kind) AS p FROM ord),
bounds AS (SELECT min(p) AS lo, max(p) AS hi FROM ap),
periods AS (SELECT lo + i AS p FROM bounds, generate_series(0, hi - lo) i),
counted AS (SELECT DISTINCT ap.c, ap.p + j AS p FROM ap, bounds, generate_series(0, k - 1) j WHERE ap.p + j <= hi),
firsts AS (SELECT c, min(p) AS p FROM ap GROUP BY c),
trans AS (SELECT coalesce(x.c, y.c) AS c, coalesce(x.p, y.p) AS p, x.c IS NOT NULL AS now, y.c IS NOT NULL AS before
          FROM counted x FULL JOIN (SELECT c, p + 1 AS p FROM counted, bounds WHERE p < hi) y
               ON x.c = y.c AND x.p = y.p),
per AS (SELECT pr.p, count(*) FILTER (WHERE t.before) AS s, count(f.c) AS n, count(*) FILTER (WHERE t.now) AS e,
               count(*) FILTER (WHERE t.now AND t.before) AS retained,
               count(*) FILTER (WHERE t.now AND NOT t.before AND f.c IS NULL) AS reactivated,
               count(*) FILTER (WHERE t.before AND NOT t.now) AS lost
        FROM periods pr LEFT JOIN trans t ON t.p = pr.p LEFT JOIN firsts f ON f.c = t.c AND f.p = t.p
        GROUP BY pr.p)
SELECT p, s, n, e, retained, reactivated, lost,
       CASE WHEN s > 0 THEN round((e - n)::numeric * 100 / s, 2) END,
       CASE WHEN s > 0 THEN round(lost::numeric * 100 / s, 2) END
FROM per
$$;

-- every comparison for the orders now in ord: rows compared, and rows in one result but not the other
CREATE FUNCTION pg_temp.check_all()
RETURNS TABLE (kind text, what text, param text, result_rows bigint, mismatches bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  k text; m text; w int; cs cohort_state; rs retention_state;
BEGIN
  FOREACH k IN ARRAY ARRAY['month', 'quarter'] LOOP
    SELECT cohort_agg(a), retention_agg(a) INTO cs, rs
    FROM (SELECT activity_agg(customer_period(d, k), amt) AS a FROM ord GROUP BY c) s;
    -- the one-pass aggregates over the raw rows build the very same states
    RETURN QUERY SELECT k, 'one-pass cohort_agg', '', (SELECT count(DISTINCT c) FROM ord),
      (SELECT (cohort_agg(c, customer_period(d, k), amt)::text IS DISTINCT FROM cs::text)::int::bigint FROM ord);
    RETURN QUERY SELECT k, 'one-pass retention_agg', '', (SELECT count(DISTINCT c) FROM ord),
      (SELECT (retention_agg(c, customer_period(d, k))::text IS DISTINCT FROM rs::text)::int::bigint FROM ord);
    FOREACH m IN ARRAY ARRAY['on', 'on_or_after'] LOOP
      RETURN QUERY SELECT k, 'cohort_table', m, (SELECT count(*) FROM cohort_table(cs, m)),
        (SELECT count(*) FROM ((SELECT * FROM cohort_table(cs, m) EXCEPT ALL SELECT * FROM pg_temp.plain_cohort(k, m))
                               UNION ALL
                               (SELECT * FROM pg_temp.plain_cohort(k, m) EXCEPT ALL SELECT * FROM cohort_table(cs, m))) x);
    END LOOP;
    FOREACH w IN ARRAY ARRAY[1, 3] LOOP
      RETURN QUERY SELECT k, 'retention_table', 'K=' || w, (SELECT count(*) FROM retention_table(rs, w)),
        (SELECT count(*) FROM ((SELECT * FROM retention_table(rs, w) EXCEPT ALL SELECT * FROM pg_temp.plain_retention(k, w))
                               UNION ALL
                               (SELECT * FROM pg_temp.plain_retention(k, w) EXCEPT ALL SELECT * FROM retention_table(rs, w))) x);
      RETURN QUERY SELECT k, 'lifecycle_table', 'K=' || w, (SELECT count(*) FROM lifecycle_table(rs, w)),
        (SELECT count(*) FROM (SELECT * FROM lifecycle_table(rs, w)
                               EXCEPT ALL
                               SELECT period, new_customers, retained, reactivated, lost FROM pg_temp.plain_retention(k, w)) x);
    END LOOP;
  END LOOP;
END $$;

SELECT pg_temp.make_orders(0.1, 400) AS orders;
SELECT * FROM pg_temp.check_all();
SELECT pg_temp.make_orders(0.5, 300) AS orders;
SELECT * FROM pg_temp.check_all();
SELECT pg_temp.make_orders(-0.7, 200) AS orders;
SELECT * FROM pg_temp.check_all();

-- a single customer with a single order
TRUNCATE ord;
INSERT INTO ord VALUES (1, '2024-05-05', 9.99);
SELECT * FROM pg_temp.check_all();

-- CDNOW: 23,570 customers, 69,659 orders, 1997-01 to 1998-06
CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_master.txt'
TRUNCATE ord;
INSERT INTO ord
SELECT f[1]::int, to_date(f[2], 'YYYYMMDD'), f[4]::numeric
FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw OFFSET 1) s;
SELECT count(*) AS orders, count(DISTINCT c) AS customers, sum(amt) AS revenue FROM ord;
SELECT * FROM pg_temp.check_all();

-- CDNOW monthly cohorts at a glance, and the monthly CRR / churn series
SELECT * FROM cohort_table((SELECT cohort_agg(a) FROM (SELECT activity_agg(customer_period(d, 'month'), amt) a FROM ord GROUP BY c) s))
WHERE age IN (0, 1, 2, 17) ORDER BY cohort, age;
SELECT * FROM retention_table((SELECT retention_agg(a) FROM (SELECT activity_agg(customer_period(d, 'month'), amt) a FROM ord GROUP BY c) s));

-- the seed example: 150 customers at the start, 7 of them lost, 50 new -> 193 at the end
TRUNCATE ord;
INSERT INTO ord SELECT c, date '2024-01-10', 10 FROM generate_series(1, 150) c;
INSERT INTO ord SELECT c, date '2024-02-10', 10 FROM generate_series(8, 200) c;
SELECT * FROM retention_table((SELECT retention_agg(a) FROM (SELECT activity_agg(customer_period(d, 'month'), amt) a FROM ord GROUP BY c) s))
WHERE period = '2024-02';
SELECT crr(150, 193, 50), churn_rate(7, 150);
