-- Bad loyalty programs are rejected with a clear error and leave nothing behind: through
-- create_loyalty_program, and through a direct UPDATE of retention.loyalty_programs.
SET TIME ZONE 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
\set VERBOSITY default
CREATE TABLE sales (customer_id bigint, sold_at timestamptz, total numeric, note text, label int);
CREATE SEQUENCE a_sequence;
CREATE FUNCTION pg_temp.try(tiers jsonb, win text DEFAULT 'calendar_year', months int DEFAULT NULL,
  fiscal int DEFAULT NULL, years int DEFAULT NULL, smonths int DEFAULT NULL, policy text DEFAULT 'reevaluate',
  grace int DEFAULT 0, excl text DEFAULT NULL, m text DEFAULT 'all', base text DEFAULT 'member',
  amount text DEFAULT 'total', tz text DEFAULT 'UTC') RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM retention.create_loyalty_program('bad', 'sales', 'customer_id', 'sold_at', amount, win, tiers,
    base_tier => base, window_months => months, fiscal_first_month => fiscal, status_years => years,
    status_months => smonths, downgrade_policy => policy, grace_days => grace, exclude => excl, match => m,
    timezone => tz);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN format('%s: %s', SQLSTATE, SQLERRM);
END $$;
\set vib '{"name": "VIB", "rank": 1, "min_amount": 350}'
\set rouge '{"name": "Rouge", "rank": 2, "min_amount": 1000}'
SELECT x.what, pg_temp.try(x.tiers::jsonb, x.win, x.months, x.fiscal, x.years, x.smonths, x.policy, x.grace, x.excl, x.m, x.base, x.amount, x.tz) AS outcome
FROM (VALUES
  ('thresholds out of rank order', '[{"name": "VIB", "rank": 2, "min_amount": 350}, {"name": "Rouge", "rank": 1, "min_amount": 1000}]', 'calendar_year', NULL::int, NULL::int, NULL::int, NULL::int, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('equal thresholds', '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('orders out of rank order', '[{"name": "S", "rank": 1, "min_orders": 5}, {"name": "G", "rank": 2, "min_orders": 3, "min_amount": 10}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('unknown window', '[' || :'vib' || ']', 'lunar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('negative amount', '[{"name": "VIB", "rank": 1, "min_amount": -1}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('amount with 5 decimals', '[{"name": "VIB", "rank": 1, "min_amount": 350.00001}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('negative orders', '[{"name": "VIB", "rank": 1, "min_orders": -2}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('duplicate tier names', '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "VIB", "rank": 2, "min_amount": 1000}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('duplicate ranks', '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 1, "min_amount": 1000}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('tier named like the base tier', '[{"name": "member", "rank": 1, "min_amount": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('empty base tier', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', '', 'total', 'UTC'),
  ('no tiers', '[]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('tiers not an array', '{"name": "VIB"}', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('tier not an object', '[1]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('tier without name', '[{"rank": 1, "min_amount": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('tier with empty name', '[{"name": "", "rank": 1, "min_amount": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('rank zero', '[{"name": "VIB", "rank": 0, "min_amount": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('fractional rank', '[{"name": "VIB", "rank": 1.5, "min_amount": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('rank as text', '[{"name": "VIB", "rank": "1", "min_amount": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('amount as text', '[{"name": "VIB", "rank": 1, "min_amount": "350"}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('fractional orders', '[{"name": "VIB", "rank": 1, "min_orders": 2.5}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('no threshold', '[{"name": "VIB", "rank": 1}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('unknown tier attribute', '[{"name": "VIB", "rank": 1, "min_spend": 350}]', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('spend threshold without amount column', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', NULL, 'UTC'),
  ('rolling without months', '[' || :'vib' || ']', 'rolling_months', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('rolling with 0 months', '[' || :'vib' || ']', 'rolling_months', 0, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('rolling with status_years', '[' || :'vib' || ']', 'rolling_months', 12, NULL, 1, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('months on a year window', '[' || :'vib' || ']', 'calendar_year', 12, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('status_months on a year window', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, 3, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('negative status_years', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, -1, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('negative status_months', '[' || :'vib' || ']', 'rolling_months', 12, NULL, NULL, -1, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('fiscal year without first month', '[' || :'vib' || ']', 'fiscal_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('fiscal first month 13', '[' || :'vib' || ']', 'fiscal_year', NULL, 13, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('first month on a calendar year', '[' || :'vib' || ']', 'calendar_year', NULL, 4, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('unknown downgrade policy', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'two_tiers', 0, NULL, 'all', 'member', 'total', 'UTC'),
  ('negative grace period', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', -30, NULL, 'all', 'member', 'total', 'UTC'),
  ('unknown match', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'most', 'member', 'total', 'UTC'),
  ('unknown time zone', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, NULL, 'all', 'member', 'total', 'Mars/Olympus'),
  ('exclusion: unknown column', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 's.kind = ''gift''', 'all', 'member', 'total', 'UTC'),
  ('exclusion: not boolean', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 's.label', 'all', 'member', 'total', 'UTC'),
  ('exclusion: syntax', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 's.total <', 'all', 'member', 'total', 'UTC'),
  ('exclusion: two statements', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 'true; DROP TABLE sales', 'all', 'member', 'total', 'UTC'),
  ('exclusion: comment', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 'true --', 'all', 'member', 'total', 'UTC'),
  ('exclusion: block comment', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 'true /* x */', 'all', 'member', 'total', 'UTC'),
  ('exclusion: empty', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, ' ', 'all', 'member', 'total', 'UTC'),
  ('exclusion: aggregate', '[' || :'vib' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 'sum(s.total) > 0', 'all', 'member', 'total', 'UTC'),
  ('a good one', '[' || :'vib' || ',' || :'rouge' || ']', 'calendar_year', NULL, NULL, NULL, NULL, 'reevaluate', 0, 's.note = ''gift card''', 'all', 'member', 'total', 'UTC')
) x(what, tiers, win, months, fiscal, years, smonths, policy, grace, excl, m, base, amount, tz);
-- the good one is the only program, with its two tables
SELECT program_name, tier_table, history_table FROM retention.loyalty_programs WHERE source = 'public.sales';
SELECT relname FROM pg_class WHERE relname LIKE 'bad\_%' AND relkind = 'r' ORDER BY 1;

-- full messages with detail and hint, for a few
SELECT retention.create_loyalty_program('p1', 'sales', 'customer_id', 'sold_at', 'total', 'calendar_year',
  '[{"name": "VIB", "rank": 2, "min_amount": 350}, {"name": "Rouge", "rank": 1, "min_amount": 1000}]');
SELECT retention.create_loyalty_program('p1', 'sales', 'customer_id', 'sold_at', 'total', 'weekly', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('p1', 'sales', 'customer_id', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]', exclude => 's.nope');
-- source and columns
SELECT retention.create_loyalty_program('p1', 'sales', 'client', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('p1', 'sales', 'customer_id', 'note', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('p1', 'sales', 'customer_id', 'sold_at', 'note', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('p1', 'sales', 'customer_id', 'sold_at', 'amount', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('p1', 'a_sequence', 'customer_id', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('p1', 'sales', 'customer_id', 'sold_at', 'total', NULL, '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('', 'sales', 'customer_id', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
-- names: the program and its tables
SELECT retention.create_loyalty_program('good', 'sales', 'customer_id', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]');
SELECT retention.create_loyalty_program('p2', 'sales', 'customer_id', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]', tier_table => 'sales');
SELECT retention.create_loyalty_program('p2', 'sales', 'customer_id', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]', tier_table => 'x', history_table => 'x');
SELECT retention.create_loyalty_program('p2', 'sales', 'customer_id', 'sold_at', 'total', 'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]', tier_table => 'a.b.c');
SELECT count(*) FROM retention.loyalty_programs WHERE source = 'public.sales';

-- the rules are data: a direct UPDATE is validated the same way
UPDATE retention.loyalty_programs SET tiers = '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 300}]'
WHERE program_name = 'good';
UPDATE retention.loyalty_programs SET qualification_window = 'rolling_months' WHERE program_name = 'good';
UPDATE retention.loyalty_programs SET qualification_window = 'rolling_months', window_months = 12, status_years = NULL
WHERE program_name = 'good' RETURNING qualification_window, window_months, status_years, status_months;
UPDATE retention.loyalty_programs SET exclude = 's.total < 0 OR s.note = ''gift card''' WHERE program_name = 'good' RETURNING exclude;
UPDATE retention.loyalty_programs SET source = 'nowhere' WHERE program_name = 'good';

-- unknown programs and NULL dates
SELECT retention.loyalty_status('nope', 1);
SELECT retention.refresh_loyalty('nope');
SELECT retention.refresh_loyalty('good', NULL);
SELECT retention.loyalty_status('good', 1, NULL);
SELECT retention.drop_loyalty_program('nope');
-- a refresh after the source lost a column fails cleanly and keeps the previous result
INSERT INTO sales VALUES (1, '2026-01-05', 400, NULL, NULL);
SELECT retention.refresh_loyalty('good', '2026-02-01');
ALTER TABLE sales RENAME COLUMN total TO amount;
SELECT retention.refresh_loyalty('good', '2026-03-01');
SELECT customer_id, tier, since FROM good_tiers;
ALTER TABLE sales RENAME COLUMN amount TO total;
-- amounts are exact to 1/10000: a finer amount in the source is an error, not a rounding
INSERT INTO sales VALUES (2, '2026-01-06', 0.00001, NULL, NULL);
SELECT retention.refresh_loyalty('good', '2026-02-01');
SELECT retention.loyalty_status('good', 2::bigint, '2026-02-01');
DELETE FROM sales WHERE customer_id = 2;
SELECT retention.refresh_loyalty('good', 'infinity');
-- a tier table edited by hand: an incremental refresh refuses a stored state that does not
-- fit the program and changes nothing; a full refresh replays everyone and repairs it
SELECT retention.refresh_loyalty('good', '2026-02-01') >= 0 AS refreshed;
UPDATE good_tiers SET tier_rank = 7 WHERE customer_id = 1;
INSERT INTO sales VALUES (1, '2026-02-02', 10, NULL, NULL);
SELECT retention.refresh_loyalty('good', '2026-02-03');
UPDATE good_tiers SET tier_rank = 1, qualified_until = '{2027-01-01,2028-01-01}' WHERE customer_id = 1;
SELECT retention.refresh_loyalty('good', '2026-02-03');
SELECT customer_id, tier_rank, qualifying_amount, qualified_until FROM good_tiers;
SELECT retention.refresh_loyalty('good', '2026-02-03', full_refresh => true) > 0 AS repaired;
SELECT customer_id, tier_rank, qualifying_amount, qualified_until FROM good_tiers;
DELETE FROM sales WHERE sold_at = '2026-02-02';
-- the engine's resume arguments, called directly
CREATE FUNCTION pg_temp.resume(after date, rank int, member date, qualified date[], copies int DEFAULT 1) RETURNS text
LANGUAGE sql AS $$
  SELECT (retention.loyalty_resume_agg(d, 100, true, '2026-01-31', 'calendar_year', NULL, NULL, 1, NULL, 'reevaluate', 0,
          'all', 'member', '{VIB}', '{1}', '{350}', '{NULL}', after, r, s, e, NULL, m, q)).state::text
  FROM (SELECT '2026-01-10'::date, NULL::int, NULL::date, NULL::date, NULL::date, NULL::date[]
        UNION ALL SELECT NULL, rank, '2025-05-01', CASE WHEN rank > 0 THEN date '2027-01-01' END, member, qualified
        FROM generate_series(1, copies)) x(d, r, s, e, m, q) $$;
SELECT pg_temp.resume('2026-01-05', 0, '2025-05-01', '{NULL}');	-- fine
SELECT pg_temp.resume(NULL, 0, '2025-05-01', '{NULL}');
SELECT pg_temp.resume('2026-02-05', 0, '2025-05-01', '{NULL}');
SELECT pg_temp.resume('2026-01-05', 0, NULL, '{NULL}');
SELECT pg_temp.resume('2026-01-05', 0, '2025-05-01', '{NULL,NULL}');
SELECT pg_temp.resume('2026-01-05', 0, '2025-05-01', '{infinity}');
SELECT pg_temp.resume('2026-01-05', 0, 'infinity', '{NULL}');
SELECT pg_temp.resume('2026-01-05', 0, '2025-05-01', '{NULL}', copies => 2);
-- dropping a program with its tables
SELECT retention.drop_loyalty_program('good', drop_tables => true);
SELECT count(*) FROM retention.loyalty_programs WHERE source = 'public.sales';
SELECT to_regclass('good_tiers'), to_regclass('good_tier_history');
SELECT retention.drop_loyalty_program('bad', drop_tables => true);
DROP TABLE sales;
DROP SEQUENCE a_sequence;
-- dates at the edges of PostgreSQL's range
CREATE TABLE edge_sales (customer_id int, sold_on date, total numeric);
INSERT INTO edge_sales VALUES (1, '5874897-12-01', 500), (2, '4713-01-20 BC', 500), (2, '4712-03-01 BC', 500);
SELECT retention.create_loyalty_program('edge', 'edge_sales', 'customer_id', 'sold_on', 'total', 'rolling_months',
  '[{"name": "VIB", "rank": 1, "min_amount": 350}]', window_months => 12) > 0 AS created;
SELECT retention.loyalty_status('edge', 1, '5874897-12-31');
SELECT tier, since, expires, window_start FROM retention.loyalty_status('edge', 2, '4712-06-01 BC');
SELECT * FROM retention.loyalty_history('edge', 2, '4711-06-01 BC');
SELECT retention.drop_loyalty_program('edge', drop_tables => true);
DROP TABLE edge_sales;
