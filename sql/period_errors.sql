--
-- customer_period: every malformed or out-of-range literal is rejected with a class-22 error.
--
SET search_path = retention, public;
SET datestyle = ISO;
\set VERBOSITY default
\set ON_ERROR_STOP 0

-- malformed (22P02) and out-of-range fields (22008); the SQLSTATE of each is listed too
CREATE FUNCTION pg_temp.try(lit text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lit::retention.customer_period;
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT lit, pg_temp.try(lit) FROM unnest(ARRAY[
  '2026-13', '2026-00', '2025-W53', '2026-W00', '2026-W54', '2026-Q5', '2026-Q0', '2026-H3', '2026-H0',
  '', '   ', '2026-03-32', '2026-02-29', '2026-04-31', '2026-03-00', '2026-03x', '2026-03-05 ',
  '2026-03-05T', '2026-03-05 10:00', '2026-3', '26-03', '202603', '2026-W1', '2026-W010', '2026-Q12',
  '2026-Q', '2026-', '-2026', '+2026', '2026-W10/', '2026-W10/xyz', '2026-03/sun', '2026/sun',
  'FY2026', 'FY2026/', 'FY2026/apl', 'FY2026-Q5/apr', 'FY2026-M13/apr', 'FY2026-M00/apr', 'FY2026-H3/apr',
  'FY2026-W10/apr', 'FY2026-P01/apr', 'FY26/apr', 'R2023-W54', 'R2024-W53', 'R2023-P13', 'R2023-P00',
  'R2023-Q5', 'R2023-H1', 'R2023-M01', 'R2023/sun', 'R2023-W53/sun', 'R23', 'X2026', 'W2026',
  '0000', '0000-01-01', '10000', '2026-03-05-01', 'null', 'Q1-2026', '2026 Q1',
  '0001-W52/sun', 'R0000', 'R9999', 'FY0001/apr', 'FY9999-M10/apr', 'FY0001/jan'
]) AS lit;

-- the messages name the bad value
SELECT '2026-13'::customer_period;
SELECT '2025-W53'::customer_period;
SELECT '2026-Q5'::customer_period;
SELECT '2026-H3'::customer_period;
SELECT ''::customer_period;
SELECT '2026-03-32'::customer_period;
SELECT '2026-03x'::customer_period;
SELECT 'R9999'::customer_period;
SELECT 'FY2026'::customer_period;
