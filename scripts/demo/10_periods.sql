-- customer_period at work: CDNOW orders and customers bucketed by month, ISO week,
-- quarter and retail 4-5-4 period.
SET search_path = retention, public;

\echo
\echo == Orders, customers and revenue per month (first 8 months)
SELECT customer_period(ordered_on, 'month') AS month,
       count(*) AS orders, count(DISTINCT customer_id) AS customers, sum(amount) AS revenue
FROM orders GROUP BY 1 ORDER BY 1 LIMIT 8;

\echo
\echo == Per ISO week, the first 6 weeks of 1997 (week 1 of 1997 started on Monday 1996-12-30)
SELECT customer_period(ordered_on, 'week') AS week, start_date(customer_period(ordered_on, 'week')) AS starts,
       count(*) AS orders, count(DISTINCT customer_id) AS customers
FROM orders GROUP BY 1, 2 ORDER BY 1 LIMIT 6;

\echo
\echo == Per quarter, with the dates each quarter covers
SELECT customer_period(ordered_on, 'quarter') AS quarter,
       customer_period(ordered_on, 'quarter')::daterange AS dates,
       count(*) AS orders, count(DISTINCT customer_id) AS customers, sum(amount) AS revenue
FROM orders GROUP BY 1 ORDER BY 1;

\echo
\echo == Per retail 4-5-4 period (NRF calendar: retail 1997 ran 1997-02-02 .. 1998-01-31)
SELECT customer_period(ordered_on, 'retail_period') AS period,
       start_date(customer_period(ordered_on, 'retail_period')) AS starts,
       (end_date(customer_period(ordered_on, 'retail_period')) - start_date(customer_period(ordered_on, 'retail_period'))) / 7 AS weeks,
       count(*) AS orders, sum(amount) AS revenue
FROM orders GROUP BY 1, 2, 3 ORDER BY 1;

\echo
\echo == Months with no orders at all are visible against the full calendar (periods())
SELECT m AS month, count(o.customer_id) AS orders
FROM periods('1998-04', '1998-08') m
LEFT JOIN orders o ON customer_period(o.ordered_on, 'month') = m
GROUP BY m ORDER BY m;
