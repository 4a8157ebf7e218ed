-- The bulk refresh (retention.refresh_loyalty with a fixed "as of" date): the tier table and
-- the history table agree with the one-customer functions and, for the programs that have
-- one, with a closed form written in plain SQL, after the first (full) refresh and after
-- incremental ones, with new, late and future-dated rows in between; a refresh writes only
-- what changed, a re-run writes nothing, a rebuild follows changed rules, and a refresh as of
-- an earlier date takes back the later history.
SET TIME ZONE 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
CREATE TABLE orders (customer_id bigint, ordered_at timestamptz, amount numeric(10,2), channel text);
-- 80 customers, seeded pseudo-random orders over 2022-2025; some returns and gift cards
SELECT setseed(0.7);
INSERT INTO orders
SELECT c, timestamptz '2022-01-01' + random() * interval '1460 days',
       CASE WHEN random() < 0.05 THEN -round((random() * 100)::numeric, 2) ELSE round((random() * 400)::numeric, 2) END,
       CASE WHEN random() < 0.1 THEN 'gift_card' ELSE 'web' END
FROM generate_series(1, 80) c, generate_series(1, 1 + (c % 9));
CREATE INDEX ON orders (customer_id);

SELECT retention.create_loyalty_program('yearly', 'orders', 'customer_id', 'ordered_at', 'amount', 'calendar_year',
  '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 1000}]',
  base_tier => 'Insider', exclude => $$s.channel = 'gift_card'$$) > 0 AS created;
SELECT retention.create_loyalty_program('trailing', 'orders', 'customer_id', 'ordered_at', 'amount', 'rolling_months',
  '[{"name": "silver", "rank": 1, "min_amount": 350}, {"name": "gold", "rank": 2, "min_amount": 1000, "min_orders": 3}]',
  window_months => 12, base_tier => 'bronze', exclude => 's.amount < 0') > 0 AS created;
SELECT retention.create_loyalty_program('stepped', 'orders', 'customer_id', 'ordered_at', 'amount', 'anniversary_year',
  '[{"name": "silver", "rank": 1, "min_orders": 2}, {"name": "gold", "rank": 2, "min_orders": 4}]',
  downgrade_policy => 'one_tier', grace_days => 20) > 0 AS created;

-- differences between a program's tables and the one-customer functions as of a date
CREATE FUNCTION pg_temp.mismatches(program text, as_of date) RETURNS TABLE (tier_rows bigint, history_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
  p retention.loyalty_programs := (SELECT x FROM retention.loyalty_programs x WHERE program_name = program);
BEGIN
  EXECUTE format($q$
    WITH c AS (SELECT DISTINCT customer_id FROM orders WHERE customer_id IS NOT NULL AND (ordered_at AT TIME ZONE 'UTC')::date <= %2$L),
         w AS (SELECT c.customer_id, retention.loyalty_status(%1$L, c.customer_id, %2$L) AS x FROM c),
         -- the tier table leaves a rolling window out (it ends on the refresh's date for all)
         want AS (SELECT customer_id, (x).tier, (x).tier_rank, (x).since, (x).expires, (x).grace_ends,
                         CASE WHEN %4$L THEN NULL ELSE (x).window_start END, CASE WHEN %4$L THEN NULL ELSE (x).window_end END,
                         (x).qualifying_amount, (x).qualifying_orders, (x).amount_to_keep, (x).orders_to_keep,
                         (x).next_tier, (x).amount_to_next, (x).orders_to_next, (x).member_since, (x).qualified_until FROM w),
         have AS (SELECT * FROM %3$s)
    SELECT count(*) FROM ((TABLE want EXCEPT TABLE have) UNION ALL (TABLE have EXCEPT TABLE want)) x$q$,
    program, as_of, p.tier_table, p.qualification_window = 'rolling_months') INTO tier_rows;
  EXECUTE format($q$
    WITH c AS (SELECT DISTINCT customer_id FROM orders WHERE customer_id IS NOT NULL),
         want AS (SELECT c.customer_id, h.* FROM c, retention.loyalty_history(%1$L, c.customer_id, %2$L) h),
         have AS (SELECT * FROM %3$s WHERE customer_id IN (SELECT customer_id FROM c))
    SELECT count(*) FROM ((TABLE want EXCEPT TABLE have) UNION ALL (TABLE have EXCEPT TABLE want)) x$q$,
    program, as_of, p.history_table) INTO history_rows;
  RETURN NEXT;
END $$;

-- refreshes as of a sequence of dates; every one agrees with the one-customer functions
CREATE TABLE runs (program text, as_of date, written bigint, tier_rows bigint, history_rows bigint);
DO $$
DECLARE
  prog text;
  d date;
  n bigint;
BEGIN
  FOREACH prog IN ARRAY ARRAY['yearly', 'trailing', 'stepped'] LOOP
    FOREACH d IN ARRAY ARRAY['2022-12-31', '2023-01-01', '2023-01-25', '2025-12-31', '2025-12-31']::date[] LOOP
      n := retention.refresh_loyalty(prog, d);
      INSERT INTO runs SELECT prog, d, n, m.* FROM pg_temp.mismatches(prog, d) m;
    END LOOP;
  END LOOP;
END $$;
-- (the second refresh as of 2025-12-31 writes nothing)
SELECT program, as_of, written > 0 AS wrote, tier_rows, history_rows FROM runs ORDER BY program, as_of, written DESC;
SELECT program_name, last_as_of, watermark IS NOT NULL AS incremental_next FROM retention.loyalty_programs ORDER BY 1;

-- daily incremental refreshes while orders keep coming: each day some orders dated that day
-- (existing and new customers, returns, gift cards), late orders dated up to two years back
-- (which can change a customer's past: the customer's history is recorded anew), and orders
-- dated a few days ahead (counted when their day comes). Every day, every program's tables
-- equal the one-customer functions.
TRUNCATE runs;
CREATE TABLE orders_before AS TABLE orders;
-- two more programs for this part: a fiscal year starting in February (its window turns
-- during the six weeks), and a short rolling window with a status held two months longer
SELECT retention.create_loyalty_program('fiscal', 'orders', 'customer_id', 'ordered_at', 'amount', 'fiscal_year',
  '[{"name": "silver", "rank": 1, "min_amount": 300, "min_orders": 3}, {"name": "gold", "rank": 2, "min_amount": 900, "min_orders": 6}]',
  fiscal_first_month => 2, status_years => 0, match => 'any', downgrade_policy => 'one_tier', grace_days => 10) > 0 AS created;
SELECT retention.create_loyalty_program('quarterly', 'orders', 'customer_id', 'ordered_at', 'amount', 'rolling_months',
  '[{"name": "silver", "rank": 1, "min_amount": 200}, {"name": "gold", "rank": 2, "min_amount": 500}]',
  window_months => 3, status_months => 2, grace_days => 5, exclude => $$s.channel = 'gift_card'$$) > 0 AS created;
SELECT retention.refresh_loyalty(x, '2025-12-31') > 0 AS wrote FROM unnest(ARRAY['fiscal', 'quarterly']) x;
DO $$
DECLARE
  prog text;
  d date;
  n bigint;
BEGIN
  PERFORM setseed(0.3);
  FOR d IN SELECT generate_series(date '2026-01-01', date '2026-02-10', interval '1 day')::date LOOP
    INSERT INTO orders
    SELECT 1 + (random() * 95)::int,
           CASE WHEN k <= 3 THEN d + random() * interval '1 day'
                WHEN k = 4 THEN d - (1 + (random() * 730)::int) + random() * interval '1 day'
                ELSE d + (1 + (random() * 3)::int) + random() * interval '1 day' END,
           CASE WHEN random() < 0.08 THEN -round((random() * 80)::numeric, 2)
                WHEN k = 4 THEN round((random() * 900)::numeric, 2) ELSE round((random() * 300)::numeric, 2) END,
           CASE WHEN random() < 0.1 THEN 'gift_card' ELSE 'web' END
    FROM generate_series(1, 5) k;
    FOREACH prog IN ARRAY ARRAY['yearly', 'trailing', 'stepped', 'fiscal', 'quarterly'] LOOP
      n := retention.refresh_loyalty(prog, d);
      INSERT INTO runs SELECT prog, d, n, m.* FROM pg_temp.mismatches(prog, d) m;
    END LOOP;
  END LOOP;
END $$;
SELECT program, count(*) AS days, sum(tier_rows) AS tier_rows_differing, sum(history_rows) AS history_rows_differing,
       count(*) FILTER (WHERE written > 0) > 20 AS wrote_most_days
FROM runs GROUP BY 1 ORDER BY 1;
-- the same tables as replaying everyone from scratch
CREATE TABLE kept AS SELECT 'trailing' p, to_jsonb(t) j FROM trailing_tiers t UNION ALL SELECT 'stepped', to_jsonb(t) FROM stepped_tiers t
  UNION ALL SELECT 'yearly', to_jsonb(t) FROM yearly_tiers t;
SELECT retention.refresh_loyalty(x, '2026-02-10', full_refresh => true) AS written FROM unnest(ARRAY['yearly', 'trailing', 'stepped']) x;
SELECT count(*) AS differing FROM (
  (TABLE kept EXCEPT (SELECT 'trailing' p, to_jsonb(t) j FROM trailing_tiers t UNION ALL SELECT 'stepped', to_jsonb(t) FROM stepped_tiers t
                      UNION ALL SELECT 'yearly', to_jsonb(t) FROM yearly_tiers t))
  UNION ALL
  ((SELECT 'trailing' p, to_jsonb(t) j FROM trailing_tiers t UNION ALL SELECT 'stepped', to_jsonb(t) FROM stepped_tiers t
    UNION ALL SELECT 'yearly', to_jsonb(t) FROM yearly_tiers t) EXCEPT TABLE kept)) x;
DROP TABLE kept;
SELECT retention.drop_loyalty_program(x, drop_tables => true) FROM unnest(ARRAY['fiscal', 'quarterly']) x;
-- back to the orders and tables of 2025-12-31 (a rebuild replays everyone and records the history anew)
TRUNCATE orders;
INSERT INTO orders TABLE orders_before;
DROP TABLE orders_before;
SELECT retention.refresh_loyalty(x, '2025-12-31', rebuild => true) > 0 AS wrote FROM unnest(ARRAY['yearly', 'trailing', 'stepped']) x;
SELECT program, count(*) AS customers, count(*) FILTER (WHERE tier_rank > 0) AS with_status
FROM (SELECT 'yearly' program, tier_rank FROM yearly_tiers UNION ALL SELECT 'trailing', tier_rank FROM trailing_tiers
      UNION ALL SELECT 'stepped', tier_rank FROM stepped_tiers) x GROUP BY 1 ORDER BY 1;
SELECT reason, count(*) > 0 AS seen FROM stepped_tier_history GROUP BY 1 ORDER BY 1;
SELECT reason, count(*) > 0 AS seen FROM yearly_tier_history GROUP BY 1 ORDER BY 1;

-- closed forms: a rolling window with re-evaluation and no hold is the tier the trailing 12
-- months qualify for (returns are excluded here: a return does not take back a status
-- already reached, docs/loyalty.md); a calendar year with status through the next year is the better of
-- this year's and last year's
WITH t AS (SELECT customer_id, coalesce(sum(amount) FILTER (WHERE ordered_at::date + interval '12 months' > date '2025-12-31' AND amount >= 0), 0) AS s,
                  count(*) FILTER (WHERE ordered_at::date + interval '12 months' > date '2025-12-31' AND amount >= 0) AS n
           FROM orders GROUP BY 1),
     want AS (SELECT customer_id, CASE WHEN s >= 1000 AND n >= 3 THEN 'gold' WHEN s >= 350 THEN 'silver' ELSE 'bronze' END AS tier, s FROM t)
SELECT count(*) AS customers, count(*) FILTER (WHERE w.tier <> h.tier OR w.s <> h.qualifying_amount) AS differ
FROM want w JOIN trailing_tiers h USING (customer_id);
WITH y AS (SELECT customer_id, extract(year FROM ordered_at)::int AS yr, sum(amount) AS s FROM orders
           WHERE channel <> 'gift_card' AND ordered_at < '2026-01-01' GROUP BY 1, 2),
     -- the rank a year's running total reaches at its highest point
     peak AS (SELECT customer_id, yr, max(r) AS r FROM (
                SELECT customer_id, extract(year FROM ordered_at)::int AS yr,
                       CASE WHEN sum(amount) OVER w >= 1000 THEN 2 WHEN sum(amount) OVER w >= 350 THEN 1 ELSE 0 END AS r
                FROM orders WHERE channel <> 'gift_card'
                WINDOW w AS (PARTITION BY customer_id, extract(year FROM ordered_at) ORDER BY ordered_at::date RANGE UNBOUNDED PRECEDING)) z
              GROUP BY 1, 2),
     want AS (SELECT c.customer_id, coalesce(max(p.r), 0) AS r
              FROM (SELECT DISTINCT customer_id FROM orders) c LEFT JOIN peak p ON p.customer_id = c.customer_id AND p.yr IN (2024, 2025)
              GROUP BY 1)
SELECT count(*) AS customers, count(*) FILTER (WHERE w.r <> h.tier_rank) AS differ
FROM want w JOIN yearly_tiers h USING (customer_id);

-- changed rules: a re-run keeps the recorded history; a rebuild recomputes it
UPDATE retention.loyalty_programs SET tiers = '[{"name": "VIB", "rank": 1, "min_amount": 200}, {"name": "Rouge", "rank": 2, "min_amount": 800}]'
WHERE program_name = 'yearly';
SELECT retention.refresh_loyalty('yearly', '2025-12-31') > 0 AS wrote;
SELECT * FROM pg_temp.mismatches('yearly', '2025-12-31');
SELECT retention.refresh_loyalty('yearly', '2025-12-31', rebuild => true) > 0 AS wrote;
SELECT * FROM pg_temp.mismatches('yearly', '2025-12-31');
-- a refresh as of an earlier date: the tables describe that date again
SELECT retention.refresh_loyalty('yearly', '2023-06-30') > 0 AS wrote;
SELECT * FROM pg_temp.mismatches('yearly', '2023-06-30');
SELECT max(changed_on) <= '2023-06-30' AS no_later_history FROM yearly_tier_history;
SELECT last_as_of FROM retention.loyalty_programs WHERE program_name = 'yearly';

-- customers leave the tier table when their rows go and a full refresh runs (an incremental
-- one reads only rows added since the last refresh: deletions need full_refresh); their
-- history stays
SELECT retention.refresh_loyalty('trailing', '2025-12-31') AS written;
DELETE FROM orders WHERE customer_id = 5;
SELECT retention.refresh_loyalty('trailing', '2025-12-31') AS written;
SELECT count(*) FROM trailing_tiers WHERE customer_id = 5;
SELECT retention.refresh_loyalty('trailing', '2025-12-31', full_refresh => true) > 0 AS wrote;
SELECT count(*) FROM trailing_tiers WHERE customer_id = 5;
SELECT count(*) > 0 AS history_kept FROM trailing_tier_history WHERE customer_id = 5;
SELECT * FROM pg_temp.mismatches('trailing', '2025-12-31');

-- a second refresh on the same day records that day's new changes
SELECT retention.refresh_loyalty('trailing', '2025-12-31') AS written;
INSERT INTO orders VALUES (10002, '2025-12-31 10:00+00', 400, 'web');
SELECT retention.refresh_loyalty('trailing', '2025-12-31') AS written;
SELECT * FROM trailing_tier_history WHERE customer_id = 10002;
SELECT * FROM pg_temp.mismatches('trailing', '2025-12-31');
DELETE FROM orders WHERE customer_id = 10002;
SELECT retention.refresh_loyalty('trailing', '2025-12-31', full_refresh => true) AS written;
DELETE FROM trailing_tier_history WHERE customer_id = 10002;

-- a refresh is part of the calling transaction: rolled back, it leaves the previous result
SELECT count(*) AS before FROM trailing_tiers;
BEGIN;
INSERT INTO orders VALUES (10001, '2025-06-01', 5000, 'web');
SELECT retention.refresh_loyalty('trailing', '2025-12-31') > 0 AS wrote;
SELECT tier FROM trailing_tiers WHERE customer_id = 10001;
ROLLBACK;
SELECT count(*) AS after FROM trailing_tiers;

-- a program's time zone decides the day of a timestamptz; the session's is left as it was
CREATE TABLE tz_orders (customer_id int, ordered_at timestamptz, amount numeric);
INSERT INTO tz_orders VALUES (1, '2025-01-01 03:00+00', 400);	-- 2024-12-31 22:00 in New York
SELECT retention.create_loyalty_program('ny', 'tz_orders', 'customer_id', 'ordered_at', 'amount', 'calendar_year',
  '[{"name": "VIB", "rank": 1, "min_amount": 350}]', timezone => 'America/New_York', status_years => 0) > 0 AS created;
SELECT tier, since, expires FROM retention.loyalty_status('ny', 1, '2024-12-31');
SHOW TimeZone;
BEGIN;
SELECT retention.refresh_loyalty('ny', '2025-01-31') AS written;
SHOW TimeZone;
COMMIT;
SELECT * FROM ny_tier_history ORDER BY changed_on;
SELECT retention.drop_loyalty_program('ny', drop_tables => true);
DROP TABLE tz_orders;

SELECT retention.drop_loyalty_program(x, drop_tables => true) FROM unnest(ARRAY['yearly', 'trailing', 'stepped']) x;
DROP TABLE orders, runs;
