-- Loyalty tiers on CDNOW (docs/loyalty.md): a calendar-year program, Silver from $100 and
-- Gold from $300 spent in a year, status through the next year. The tier job refreshes it as
-- of 1997-12-31 and as of 1998-06-30; the report shows the tier counts, the tier migration
-- between the two dates, and what some customers still need to spend.
\echo
\echo == Loyalty tiers: Silver from $100, Gold from $300 a calendar year, held through the next year
SELECT retention.create_loyalty_program('cdnow_club', 'orders', 'customer_id', 'ordered_on', 'amount',
  'calendar_year', '[{"name": "Silver", "rank": 1, "min_amount": 100}, {"name": "Gold", "rank": 2, "min_amount": 300}]',
  base_tier => 'Member', status_years => 1) > 0 AS program_created \gset
-- the tier job's refresh, as the scheduler runs it, but as of two fixed days of 1997-1998
-- (the scheduler would refresh as of today)
CREATE FUNCTION pg_temp.tier_run(d date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  IF NOT EXISTS (SELECT FROM retention.jobs WHERE job_name = 'cdnow_tiers') THEN
    PERFORM retention.create_loyalty_job('cdnow_tiers', 'cdnow_club', '1 day');
    PERFORM retention.pause_job('cdnow_tiers');
  END IF;
  n := retention.refresh_loyalty_job('cdnow_tiers', now => d::timestamptz);
  RETURN format('tier job cdnow_tiers as of %s: %s rows written', d, n);
END $$;
SELECT pg_temp.tier_run('1997-12-31') AS run;
CREATE TEMP TABLE tiers_1997 AS SELECT customer_id, tier, tier_rank FROM cdnow_club_tiers;
SELECT pg_temp.tier_run('1998-06-30') AS run;

\echo
\echo == Tier counts
SELECT t.tier, a.customers AS "1997-12-31", b.customers AS "1998-06-30"
FROM (VALUES ('Gold', 2), ('Silver', 1), ('Member', 0)) t(tier, r)
LEFT JOIN (SELECT tier, count(*) AS customers FROM tiers_1997 GROUP BY 1) a USING (tier)
LEFT JOIN (SELECT tier, count(*) AS customers FROM cdnow_club_tiers GROUP BY 1) b USING (tier)
ORDER BY t.r DESC;

\echo
\echo == Tier migration, 1997-12-31 (rows) to 1998-06-30 (columns)
SELECT a.tier AS "1997-12-31",
       count(*) FILTER (WHERE b.tier = 'Gold') AS "Gold",
       count(*) FILTER (WHERE b.tier = 'Silver') AS "Silver",
       count(*) FILTER (WHERE b.tier = 'Member') AS "Member"
FROM tiers_1997 a JOIN cdnow_club_tiers b USING (customer_id)
GROUP BY a.tier, a.tier_rank ORDER BY a.tier_rank DESC;

\echo
\echo == Tier changes recorded, by reason and month
SELECT to_char(changed_on, 'YYYY-MM') AS month, reason, count(*) FROM cdnow_club_tier_history
GROUP BY 1, 2 ORDER BY 1, 2;

\echo
\echo == Customers closest to the next tier on 1998-06-30
SELECT customer_id, tier, since, expires, qualifying_amount AS spent_1998, next_tier, amount_to_next
FROM cdnow_club_tiers WHERE next_tier IS NOT NULL AND qualifying_amount > 0
ORDER BY amount_to_next, customer_id LIMIT 5;
\echo (the same for one customer, from the plain SQL function)
SELECT tier, qualifying_amount, next_tier, amount_to_next FROM retention.loyalty_status('cdnow_club', 1, '1998-06-30');
