-- Closed-form CLV formulas, in numeric, with their input checks.
-- simple CLV: average order value x purchases per period x retention periods x margin
SELECT retention.clv_simple(50.00, 4, 3, 0.25) AS simple_clv;
SELECT retention.clv_simple(0, 4, 3, 0.25), retention.clv_simple(50, 4, 3, 1), retention.clv_simple(50, 4, 3, 0);
-- churn-based CLV: margin x ARPU / churn
SELECT retention.clv_churn(0.30, 100.00, 0.05) AS churn_clv;
SELECT retention.clv_churn(0.30, 100.00, 1) AS churn_all;
-- discounted: m r / (1 + d - r)
SELECT retention.clv_discounted(100.00, 0.80, 0.10) AS discounted_clv;
SELECT retention.clv_discounted(100.00, 1, 0.10) AS never_churn, retention.clv_discounted(100, 0, 0) AS no_retention;
SELECT retention.clv_simple(NULL, 1, 1, 0.5) IS NULL AS strict;
-- bad input
SELECT retention.clv_simple(50, 4, 3, 1.5);
SELECT retention.clv_simple(50, 4, 3, -0.1);
SELECT retention.clv_simple(-50, 4, 3, 0.5);
SELECT retention.clv_simple(50, -4, 3, 0.5);
SELECT retention.clv_simple(50, 4, -3, 0.5);
SELECT retention.clv_simple('NaN', 4, 3, 0.5);
SELECT retention.clv_churn(0.3, 100, 0);
SELECT retention.clv_churn(0.3, 100, -0.1);
SELECT retention.clv_churn(0.3, 100, 1.5);
SELECT retention.clv_churn(2, 100, 0.1);
SELECT retention.clv_churn(0.3, -100, 0.1);
SELECT retention.clv_discounted(100, 1.2, 0.1);
SELECT retention.clv_discounted(100, 0.8, -0.1);
SELECT retention.clv_discounted(-100, 0.8, 0.1);
SELECT retention.clv_discounted(100, 1, 0);
SELECT retention.clv_discounted(100, 'Infinity', 0.1);
