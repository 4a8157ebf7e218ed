-- Seeded subscription MRR for the revenue benchmark: :customers customers (default 1M) over 24
-- months from 2024-01. Each starts in one of the 24 months, keeps a plan of 10-200 for 1-24
-- months (within the window), pauses a month now and then (about 1 in 15 months), and changes
-- plan now and then. One row per customer and paying month: mrr(customer_id, month, mrr).
\if :{?customers}
\else
\set customers 1000000
\endif
SELECT setseed(0.42);
DROP TABLE IF EXISTS mrr;
CREATE TABLE mrr AS
SELECT s.c AS customer_id, (date '2024-01-01' + make_interval(months => s.start + k))::date AS month,
       round((s.plan * (1 + 0.5 * floor(random() * 3) * (random() < 0.15)::int))::numeric, 2) AS mrr
FROM (SELECT c, floor(random() * 24)::int AS start, 10 * (1 + floor(random() * 20)) AS plan,
             1 + floor(random() * 24)::int AS life
      FROM generate_series(1, :customers) c) s,
     LATERAL generate_series(0, least(s.life, 24 - s.start) - 1) k
WHERE k = 0 OR random() >= 1.0 / 15;
