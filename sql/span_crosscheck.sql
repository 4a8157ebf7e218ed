--
-- span_table against a plain-SQL computation of the same definitions (docs/revenue.md) on
-- generated subscriptions (three seeds; months and quarters; all three churn conventions),
-- and span_agg as a parallel aggregate.
--
SET search_path = retention, public;
SET datestyle = ISO;

-- customers take 1-3 subscriptions starting within 900 days of 2022-01-01, lasting 1-400 days,
-- one in five still running; a customer's subscriptions may overlap or leave gaps
CREATE TEMP TABLE subs (c int NOT NULL, s date NOT NULL, e date);
CREATE FUNCTION pg_temp.make_spans(seed float8, customers int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE subs;
  PERFORM setseed(seed);
  INSERT INTO subs
  SELECT c, st, CASE WHEN random() < 0.2 THEN NULL ELSE st + 1 + floor(random() * 400)::int END
  FROM (SELECT c, date '2022-01-01' + floor(random() * 900)::int AS st
        FROM generate_series(1, customers) c,
             LATERAL generate_series(1, 1 + floor(random() * 3)::int + 0 * c) k) x;
  RETURN (SELECT count(*) FROM subs);
END $$;

-- plain SQL: each customer's subscribed days (range_agg), their ranges numbered with a window
-- function, and every customer x period from the first to the last period with an event
CREATE FUNCTION pg_temp.plain_span(kind text, conv text)
RETURNS TABLE (period customer_period, customers_start bigint, new_customers bigint, customers_end bigint,
               retained bigint, reactivated bigint, lost bigint, churned_customers bigint, churn_events bigint,
               new_lost bigint, churned_back bigint, crr numeric, churn_numerator bigint,
               churn_denominator bigint, churn_rate numeric, convention_used text)
LANGUAGE sql AS $$
WITH cov AS (SELECT c, range_agg(subscription_span(s, e)) AS m FROM subs GROUP BY c),
r AS (SELECT c, customer_period(lower(x), kind) AS lp,
             CASE WHEN upper(x) IS NOT NULL THEN customer_period(upper(x), kind) END AS up,
             row_number() OVER (PARTITION BY c ORDER BY lower(x)) AS i
      FROM cov, unnest(m) x),
ev AS (SELECT lp AS p FROM r UNION SELECT up FROM r WHERE up IS NOT NULL),
grid AS (SELECT g.p FROM (SELECT min(p) AS lo, max(p) AS hi FROM ev) b, periods(b.lo, b.hi) g(p)),
firsts AS (SELECT c, lp AS p FROM r WHERE i = 1),
ends AS (SELECT c, up AS p, count(*) AS n FROM r WHERE up IS NOT NULL GROUP BY 1, 2),
f AS (SELECT cov.c, g.p,
             cov.m @> (start_date(g.p) - 1) AS at_start, cov.m @> (end_date(g.p) - 1) AS at_end,
             fi.c IS NOT NULL AS is_new, coalesce(en.n, 0) AS ends
      FROM cov CROSS JOIN grid g LEFT JOIN firsts fi ON fi.c = cov.c AND fi.p = g.p
           LEFT JOIN ends en ON en.c = cov.c AND en.p = g.p),
per AS (SELECT p, count(*) FILTER (WHERE at_start) AS s, count(*) FILTER (WHERE is_new) AS n,
               count(*) FILTER (WHERE at_end) AS e, count(*) FILTER (WHERE at_start AND at_end) AS retained,
               count(*) FILTER (WHERE NOT at_start AND NOT is_new AND at_end) AS react,
               count(*) FILTER (WHERE at_start AND NOT at_end) AS lost,
               count(*) FILTER (WHERE ends > 0) AS churned, coalesce(sum(ends), 0)::bigint AS events,
               count(*) FILTER (WHERE is_new AND NOT at_end) AS new_lost,
               count(*) FILTER (WHERE ends > 0 AND at_end) AS back,
               count(*) FILTER (WHERE ends > 0 AND NOT is_new AND NOT at_end) AS cm
        FROM f GROUP BY p),
q AS (SELECT *, CASE conv WHEN 'standard' THEN lost WHEN 'chartmogul' THEN cm ELSE events END AS num,
                CASE conv WHEN 'stripe' THEN s + n ELSE s END AS den
      FROM per)
SELECT p, s, n, e, retained, react, lost, churned, events, new_lost, back,
       round((e - n) * 100.0 / nullif(s, 0), 2), num, den, round(num * 100.0 / nullif(den, 0), 2), conv
FROM q
$$;

CREATE FUNCTION pg_temp.check_all()
RETURNS TABLE (kind text, convention text, result_rows bigint, mismatches bigint)
LANGUAGE plpgsql AS $$
DECLARE
  k text; cv text; ss span_state;
BEGIN
  FOREACH k IN ARRAY ARRAY['month', 'quarter'] LOOP
    SELECT span_agg(m, k) INTO ss FROM (SELECT range_agg(subscription_span(s, e)) AS m FROM subs GROUP BY c) x;
    FOREACH cv IN ARRAY ARRAY['standard', 'chartmogul', 'stripe'] LOOP
      RETURN QUERY SELECT k, cv, (SELECT count(*) FROM span_table(ss, cv)),
        (SELECT count(*) FROM ((SELECT * FROM span_table(ss, cv) EXCEPT ALL SELECT * FROM pg_temp.plain_span(k, cv))
                               UNION ALL
                               (SELECT * FROM pg_temp.plain_span(k, cv) EXCEPT ALL SELECT * FROM span_table(ss, cv))) x);
    END LOOP;
    -- identities: E = retained + reactivated + N - new_lost, S = E of the previous period
    RETURN QUERY SELECT k, 'identities', (SELECT count(*) FROM span_table(ss)),
      (SELECT count(*) FROM (SELECT *, lag(customers_end, 1, 0::bigint) OVER (ORDER BY period) AS prev_end
                             FROM span_table(ss)) t
       WHERE customers_end <> retained + reactivated + new_customers - new_lost
          OR customers_start <> prev_end OR retained <> customers_start - lost);
    RETURN QUERY SELECT k, 'text round trip', 1::bigint, (ss::text::span_state::text <> ss::text)::int::bigint;
  END LOOP;
END $$;

SELECT pg_temp.make_spans(0.1, 300) AS rows;
SELECT * FROM pg_temp.check_all();
SELECT pg_temp.make_spans(0.5, 250) AS rows;
SELECT * FROM pg_temp.check_all();
SELECT pg_temp.make_spans(-0.7, 200) AS rows;
SELECT * FROM pg_temp.check_all();

-- parallel plans: Partial Aggregate in the workers, the same state as the serial plan
SELECT pg_temp.make_spans(0.3, 3000) AS rows;
CREATE TABLE span_par AS SELECT c, range_agg(subscription_span(s, e)) AS m FROM subs GROUP BY c;
ALTER TABLE span_par SET (parallel_workers = 2);
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS SELECT span_agg(m, 'month')::text AS s FROM span_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT span_agg(m, 'month') FROM span_par;
SELECT span_agg(m, 'month')::text = (SELECT s FROM serial) AS parallel_equals_serial FROM span_par;
DROP TABLE span_par;
