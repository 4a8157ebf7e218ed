-- Loyalty-tier rules, checked against hand-computed expectations (docs/loyalty.md):
-- a Sephora-like calendar-year program over several years, exclusions and returns, both
-- downgrade policies, a grace period, a fiscal year, a rolling 12-month window with and
-- without a status hold, and a membership-anniversary program on order counts.
SET TIME ZONE 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
CREATE TABLE purchases (customer_id int, ordered_on date, amount numeric(10,2), kind text DEFAULT 'sale');
INSERT INTO purchases (customer_id, ordered_on, amount, kind) VALUES
  -- 1: Insider 2021-03-10, VIB 2021-06-01, Rouge 2021-11-20, earns VIB again in 2022,
  --    Rouge ends 2023-01-01 (VIB left), VIB ends 2024-01-01, Rouge again 2024-08-08
  (1, '2021-03-10', 200, 'sale'), (1, '2021-06-01', 200, 'sale'), (1, '2021-11-20', 700, 'sale'),
  (1, '2022-05-05', 400, 'sale'), (1, '2023-02-02', 100, 'sale'), (1, '2024-08-08', 1200, 'sale'),
  (1, '2025-03-01', 300, 'sale'),
  -- 2: a gift card does not count, a return does: VIB only on 2022-04-01 (exactly $350)
  (2, '2022-01-15', 300, 'sale'), (2, '2022-02-01', 100, 'gift_card'), (2, '2022-02-10', -50, 'return'),
  (2, '2022-03-01', 80, 'sale'), (2, '2022-04-01', 20, 'sale'),
  -- 3: only a gift card: a member in the base tier with nothing qualifying
  (3, '2023-07-07', 500, 'gift_card'),
  -- 5: Rouge in 2021, nothing since
  (5, '2021-05-05', 1000, 'sale'),
  -- 6: Rouge in 2021, requalifies inside the grace period
  (6, '2021-02-02', 1000, 'sale'), (6, '2023-01-20', 1000, 'sale'),
  -- 7: rolling window: VIB 2024-03-15, Rouge 2024-12-01
  (7, '2024-01-10', 200, 'sale'), (7, '2024-03-15', 200, 'sale'), (7, '2024-12-01', 900, 'sale'),
  -- 8: member since 29 February 2020: anniversary windows on order counts
  (8, '2020-02-29', 100, 'sale'), (8, '2020-06-01', 100, 'sale'), (8, '2021-02-27', 100, 'sale'),
  (8, '2021-03-01', 200, 'sale'), (8, '2021-04-01', 200, 'sale'), (8, '2021-05-01', 200, 'sale'),
  (8, '2021-06-01', 10, 'sale'), (8, '2021-07-01', 10, 'sale'),
  -- rows without a customer or a date are ignored
  (NULL, '2021-01-01', 5000, 'sale'), (9, NULL, 5000, 'sale');

-- Sephora-like: $350 VIB, $1,000 Rouge per calendar year, status through the next calendar year
SELECT retention.create_loyalty_program('sephora', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'calendar_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 1000}]',
  base_tier => 'Insider', status_years => 1, exclude => $$s.kind = 'gift_card'$$) > 0 AS created;
SELECT program_name, source, qualification_window, status_years, status_months, downgrade_policy, grace_days,
       match, base_tier, tier_table, history_table FROM retention.loyalty_programs WHERE program_name = 'sephora';
\d sephora_tiers
\d sephora_tier_history

-- customer 1, every change with its day and reason
SELECT * FROM retention.loyalty_history('sephora', 1, '2025-06-30');
-- the standing at the turning points
SELECT d, (s).tier, (s).since, (s).expires, (s).qualifying_amount, (s).amount_to_keep, (s).next_tier, (s).amount_to_next
FROM (VALUES (date '2021-03-09'), ('2021-03-10'), ('2021-05-31'), ('2021-06-01'), ('2021-11-19'), ('2021-11-20'),
             ('2022-12-31'), ('2023-01-01'), ('2023-12-31'), ('2024-01-01'), ('2024-08-08'), ('2025-06-30')) v(d),
     LATERAL (SELECT retention.loyalty_status('sephora', 1, d) AS s) x ORDER BY d;
SELECT * FROM retention.loyalty_status('sephora', 1, '2025-06-30');
-- customer 2: the gift card is excluded, the return counts
SELECT * FROM retention.loyalty_history('sephora', 2, '2025-06-30');
SELECT d, (s).tier, (s).qualifying_amount, (s).qualifying_orders, (s).amount_to_next
FROM (VALUES (date '2022-02-01'), ('2022-02-10'), ('2022-03-31'), ('2022-04-01'), ('2025-06-30')) v(d),
     LATERAL (SELECT retention.loyalty_status('sephora', 2, d) AS s) x ORDER BY d;
-- customer 3: a member through the gift card alone
SELECT * FROM retention.loyalty_status('sephora', 3, '2023-12-31');
SELECT count(*) FROM retention.loyalty_history('sephora', 3, '2023-12-31');
-- no source row (yet): no standing
SELECT retention.loyalty_status('sephora', 3, '2023-07-06') IS NULL AS not_a_member,
       retention.loyalty_status('sephora', 42, '2025-01-01') IS NULL AS unknown;
-- customer 5 under re-evaluation: Rouge straight to Insider when the status ends
SELECT * FROM retention.loyalty_history('sephora', 5, '2025-06-30');

-- the same program with one tier down at a time
SELECT retention.create_loyalty_program('sephora_step', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'calendar_year', (SELECT tiers FROM retention.loyalty_programs WHERE program_name = 'sephora'),
  base_tier => 'Insider', downgrade_policy => 'one_tier', exclude => $$s.kind = 'gift_card'$$) > 0 AS created;
-- customer 5: Rouge, then VIB for 2023, then Insider
SELECT * FROM retention.loyalty_history('sephora_step', 5, '2025-06-30');
SELECT (s).tier, (s).since, (s).expires FROM retention.loyalty_status('sephora_step', 5, '2023-06-30') s;
-- customer 1: VIB earned in 2022 is what one tier down gives anyway
SELECT * FROM retention.loyalty_history('sephora_step', 1, '2025-06-30');

-- a 30-day grace period
SELECT retention.create_loyalty_program('sephora_grace', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'calendar_year', (SELECT tiers FROM retention.loyalty_programs WHERE program_name = 'sephora'),
  base_tier => 'Insider', grace_days => 30, exclude => $$s.kind = 'gift_card'$$) > 0 AS created;
-- customer 5: Rouge kept until 2023-01-31, then Insider
SELECT * FROM retention.loyalty_history('sephora_grace', 5, '2025-06-30');
SELECT (s).tier, (s).expires, (s).grace_ends FROM retention.loyalty_status('sephora_grace', 5, '2023-01-30') s;
SELECT (s).tier, (s).since, (s).expires, (s).grace_ends FROM retention.loyalty_status('sephora_grace', 5, '2023-01-31') s;
-- customer 6: in grace on 2023-01-19, requalifies on 2023-01-20: Rouge through 2024
SELECT (s).tier, (s).since, (s).expires, (s).grace_ends FROM retention.loyalty_status('sephora_grace', 6, '2023-01-19') s;
SELECT (s).tier, (s).since, (s).expires, (s).grace_ends FROM retention.loyalty_status('sephora_grace', 6, '2023-01-20') s;
SELECT * FROM retention.loyalty_history('sephora_grace', 6, '2025-06-30');
-- one tier down after the grace period
SELECT retention.create_loyalty_program('sephora_step_grace', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'calendar_year', (SELECT tiers FROM retention.loyalty_programs WHERE program_name = 'sephora'),
  base_tier => 'Insider', downgrade_policy => 'one_tier', grace_days => 30, exclude => $$s.kind = 'gift_card'$$) > 0 AS created;
SELECT * FROM retention.loyalty_history('sephora_step_grace', 5, '2025-06-30');

-- a fiscal year starting in April, status for the qualifying year only
SELECT retention.create_loyalty_program('fiscal', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'fiscal_year', '[{"name": "VIB", "rank": 1, "min_amount": 350}]', fiscal_first_month => 4, status_years => 0) > 0 AS created;
SELECT * FROM retention.loyalty_history('fiscal', 1, '2025-06-30');
SELECT * FROM retention.loyalty_status('fiscal', 1, '2025-03-31');

-- a rolling 12-month window: the status lasts while the trailing spend qualifies
SELECT retention.create_loyalty_program('rolling', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'rolling_months', (SELECT tiers FROM retention.loyalty_programs WHERE program_name = 'sephora'),
  window_months => 12, base_tier => 'Insider') > 0 AS created;
SELECT * FROM retention.loyalty_history('rolling', 7, '2026-06-30');
SELECT * FROM retention.loyalty_status('rolling', 7, '2025-06-30');
SELECT d, (s).tier, (s).expires, (s).window_start, (s).qualifying_amount, (s).amount_to_keep, (s).amount_to_next
FROM (VALUES (date '2024-03-14'), ('2024-03-15'), ('2024-12-01'), ('2025-01-09'), ('2025-01-10'), ('2025-03-14'),
             ('2025-03-15'), ('2025-11-30'), ('2025-12-01')) v(d),
     LATERAL (SELECT retention.loyalty_status('rolling', 7, d) AS s) x ORDER BY d;
-- without the December order, VIB ends when the January order leaves the window
SELECT * FROM retention.loyalty_history('rolling', 7, '2024-11-30');
SELECT (s).tier, (s).expires FROM retention.loyalty_status('rolling', 7, '2024-11-30') s;
-- the same window with the status held 3 months after the customer stops qualifying
SELECT retention.create_loyalty_program('rolling_hold', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'rolling_months', (SELECT tiers FROM retention.loyalty_programs WHERE program_name = 'sephora'),
  window_months => 12, status_months => 3, base_tier => 'Insider') > 0 AS created;
SELECT * FROM retention.loyalty_history('rolling_hold', 7, '2026-06-30');
-- one tier down at a time on a rolling window: the lower tier holds for one window
SELECT retention.create_loyalty_program('rolling_step', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'rolling_months', (SELECT tiers FROM retention.loyalty_programs WHERE program_name = 'sephora'),
  window_months => 12, downgrade_policy => 'one_tier', base_tier => 'Insider') > 0 AS created;
SELECT * FROM retention.loyalty_history('rolling_step', 5, '2026-06-30');

-- membership anniversary (member since 29 February 2020), thresholds on orders, both needed for Gold
SELECT retention.create_loyalty_program('anniversary', 'purchases', 'customer_id', 'ordered_on', 'amount',
  'anniversary_year', '[{"name": "Silver", "rank": 10, "min_orders": 3}, {"name": "Gold", "rank": 20, "min_amount": 500, "min_orders": 5}]',
  status_years => 0) > 0 AS created;
SELECT * FROM retention.loyalty_history('anniversary', 8, '2023-01-01');
SELECT * FROM retention.loyalty_status('anniversary', 8, '2021-06-15');
SELECT * FROM retention.loyalty_status('anniversary', 8, '2022-03-10');
-- with match any, Gold needs 5 orders or $500: reached on 2021-05-01 ($600 in three orders)
UPDATE retention.loyalty_programs SET match = 'any' WHERE program_name = 'anniversary';
SELECT * FROM retention.loyalty_history('anniversary', 8, '2023-01-01');

-- the bulk refresh writes the same standings and changes into the program's tables, first as
-- of the end of 2022, then as of mid-2025 (adding only the later changes)
SELECT retention.refresh_loyalty('sephora', '2022-12-31');
SELECT customer_id, tier, since, expires, qualifying_amount, amount_to_keep, next_tier, amount_to_next FROM sephora_tiers ORDER BY 1;
SELECT * FROM sephora_tier_history ORDER BY 1, 2;
SELECT retention.refresh_loyalty('sephora', '2025-06-30');
SELECT customer_id, tier, since, expires, qualifying_amount, amount_to_keep, next_tier, amount_to_next FROM sephora_tiers ORDER BY 1;
SELECT * FROM sephora_tier_history ORDER BY 1, 2;
-- tier migration from the end of 2022 to mid-2025, as the demo prints it
SELECT from_tier, to_tier, count(*) FROM (
  SELECT customer_id, (retention.loyalty_status('sephora', customer_id, '2022-12-31')).tier AS from_tier, tier AS to_tier
  FROM sephora_tiers) m GROUP BY 1, 2 ORDER BY 1, 2;

-- clean up (the regression database is shared by the tests)
SELECT retention.drop_loyalty_program(program_name, drop_tables => true) FROM retention.loyalty_programs
WHERE source = 'public.purchases';
DROP TABLE purchases;
