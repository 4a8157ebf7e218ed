--
-- The customer metrics docs/metrics.md computes with plain SQL (repeat purchase rate, purchase
-- frequency, average order value, revenue per customer, upsell ratio, referral rate), run on
-- the hand-worked example of the docs, from the order rows and from customer_activity.
--
SET search_path = retention, public;

CREATE TEMP TABLE shop_orders (customer_id int, ordered_on date, product_type text, amount numeric(10,2));
INSERT INTO shop_orders VALUES
  (1, '2024-01-05', 'books', 10), (1, '2024-02-11', 'music', 30),
  (2, '2024-01-20', 'books', 20),
  (3, '2024-01-02', 'books', 5), (3, '2024-03-08', 'books', 15), (3, '2024-03-30', 'books', 40),
  (4, '2024-02-14', 'music', 50);
CREATE TEMP TABLE shop_customers (customer_id int, referred_by int);
INSERT INTO shop_customers VALUES (1, NULL), (2, NULL), (3, NULL), (4, 1);

-- repeat purchase rate: customers with more than one order / all customers
SELECT count(*) FILTER (WHERE orders > 1) AS repeat_customers, count(*) AS customers,
       round(100.0 * count(*) FILTER (WHERE orders > 1) / count(*), 2) AS repeat_purchase_rate
FROM (SELECT customer_id, count(*) AS orders FROM shop_orders GROUP BY customer_id) c;

-- purchase frequency, average order value, revenue per customer
SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers, sum(amount) AS revenue,
       round(count(*)::numeric / count(DISTINCT customer_id), 2) AS purchase_frequency,
       round(sum(amount) / count(*), 2) AS average_order_value,
       round(sum(amount) / count(DISTINCT customer_id), 2) AS revenue_per_customer
FROM shop_orders;

-- the same from a per-customer activity table (orders() and revenue() of each activity)
CREATE TEMP TABLE shop_months AS
SELECT customer_id, activity_agg(customer_period(ordered_on, 'month'), amount) AS activity
FROM shop_orders GROUP BY customer_id;
SELECT count(*) FILTER (WHERE orders(activity) > 1) AS repeat_customers, count(*) AS customers,
       sum(orders(activity)) AS orders, sum(revenue(activity)) AS revenue,
       round(sum(revenue(activity)) / sum(orders(activity)), 2) AS average_order_value
FROM shop_months;

-- upsell ratio: customers who bought more than one product type / customers who bought one
SELECT count(*) FILTER (WHERE types > 1) AS multi_type_customers, count(*) FILTER (WHERE types = 1) AS one_type_customers,
       round(count(*) FILTER (WHERE types > 1)::numeric / nullif(count(*) FILTER (WHERE types = 1), 0), 2) AS upsell_ratio
FROM (SELECT customer_id, count(DISTINCT product_type) AS types FROM shop_orders GROUP BY customer_id) c;

-- referral rate: referred customers / all customers acquired
SELECT count(referred_by) AS referred, count(*) AS customers,
       round(100.0 * count(referred_by) / count(*), 2) AS referral_rate
FROM shop_customers;
