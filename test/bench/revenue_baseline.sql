-- Plain-SQL baseline of the revenue benchmark: monthly MRR movements, GRR, NRR and quick ratio
-- from mrr(customer_id, month, mrr) with window functions (lag/lead over each customer's paying
-- months), the same definitions as retention.revenue_table (docs/revenue.md).
WITH x AS (
  SELECT customer_id, month, mrr,
         lag(month) OVER w AS prev_month, lag(mrr) OVER w AS prev_mrr, lead(month) OVER w AS next_month
  FROM mrr WINDOW w AS (PARTITION BY customer_id ORDER BY month)),
moves AS (
  SELECT month,
         sum(mrr) AS mrr_end, count(*) AS customers_end,
         sum(mrr) FILTER (WHERE prev_month IS NULL) AS new_mrr,
         sum(mrr - prev_mrr) FILTER (WHERE prev_month = month - interval '1 month' AND mrr > prev_mrr) AS expansion_mrr,
         sum(prev_mrr - mrr) FILTER (WHERE prev_month = month - interval '1 month' AND mrr < prev_mrr) AS contraction_mrr,
         sum(mrr) FILTER (WHERE prev_month < month - interval '1 month') AS reactivation_mrr
  FROM x GROUP BY month),
churn AS (
  SELECT (month + interval '1 month')::date AS month, sum(mrr) AS churned_mrr
  FROM x WHERE next_month IS NULL OR next_month > month + interval '1 month' GROUP BY 1),
t AS (
  SELECT m.month, coalesce(lag(m.mrr_end) OVER (ORDER BY m.month), 0) AS mrr_start,
         coalesce(m.new_mrr, 0) AS new_mrr, coalesce(m.expansion_mrr, 0) AS expansion_mrr,
         coalesce(m.contraction_mrr, 0) AS contraction_mrr, coalesce(c.churned_mrr, 0) AS churned_mrr,
         coalesce(m.reactivation_mrr, 0) AS reactivation_mrr, m.mrr_end
  FROM moves m LEFT JOIN churn c USING (month))
SELECT month, mrr_start, new_mrr, expansion_mrr, contraction_mrr, churned_mrr, reactivation_mrr, mrr_end,
       round((mrr_start - contraction_mrr - churned_mrr) * 100 / nullif(mrr_start, 0), 2) AS grr,
       round((mrr_start + expansion_mrr - contraction_mrr - churned_mrr) * 100 / nullif(mrr_start, 0), 2) AS nrr,
       round((new_mrr + expansion_mrr + reactivation_mrr) / nullif(contraction_mrr + churned_mrr, 0), 2) AS quick_ratio
FROM t
