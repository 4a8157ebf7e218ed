-- Synthetic non-contractual orders that follow the BG/NBD story, for the CLV benchmark
-- (adapted from gen_orders.sql, whose exponential lifetimes with a fixed number of orders
-- give every customer nearly the same dropout probability per purchase, so that BG/NBD's
-- beta heterogeneity is not identified there: a and b run off to infinity).
-- :customers customers acquired uniformly over 3 years to 2026-01-01. Each has a weekly
-- purchase rate (log-normal), drops out after a repeat purchase with a probability p
-- (uniform 0.01..0.20), so makes a geometric number of repeat purchases D at most; the
-- repeat purchases fall uniformly in the active life min(window, D / rate). About 10 orders
-- per customer; amounts vary around a customer's own mean.
DROP TABLE IF EXISTS orders;
CREATE UNLOGGED TABLE orders (customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL, amount numeric(12,2) NOT NULL);
SELECT setseed(0.42);
INSERT INTO orders
SELECT c.id,
       c.acq + CASE WHEN g = 0 THEN interval '0' ELSE random() * c.life END,
       round((c.spend * (0.5 + random()))::numeric, 2)
FROM (SELECT id, acq, spend,
             least(w, d / lam) * interval '7 days' AS life,
             least(d, floor(lam * least(w, d / lam) * (0.5 + random())))::int AS n
      FROM (SELECT id, acq, spend, lam,
                   extract(epoch FROM timestamptz '2026-01-01' - acq) / 604800 AS w,
                   1 + floor(ln(1 - random()) / ln(1 - p)) AS d
            FROM (SELECT id,
                         timestamptz '2023-01-01' + random() * interval '1095 days' AS acq,
                         exp(ln(0.45) + 0.9 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS lam,
                         0.01 + random() * 0.19 AS p,
                         5 + random() * 95 AS spend
                  FROM generate_series(1, :customers) id) c0) c1) c,
     generate_series(0, c.n) g;
ANALYZE orders;
