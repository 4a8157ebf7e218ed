--
-- customer_period: text and binary input/output for every kind.
--
SET search_path = retention, public;
SET datestyle = ISO;

-- canonical forms of every kind read back to themselves
SELECT x AS literal, x::customer_period AS value, kind(x::customer_period),
       x::customer_period::text = x AS round_trip
FROM unnest(ARRAY[
  '2026-03-05', '2026-W10', '2026-03', '2026-Q1', '2026-H1', '2026',
  '2026-W10/sun', '2026-W10/tue', '2026-W10/wed', '2026-W10/thu', '2026-W10/fri', '2026-W10/sat',
  'FY2026-M01/apr', 'FY2026-Q1/apr', 'FY2026-H1/apr', 'FY2026/apr', 'FY2026/jan', 'FY2026-Q4/oct',
  'R2023-W53', 'R2023-P12', 'R2023-Q4', 'R2023']) AS x;

-- letters are case-insensitive, surrounding white space is ignored, a week may name its
-- first day even when it is Monday (ISO)
SELECT x AS literal, x::customer_period AS value
FROM unnest(ARRAY['2026-w10', '2026-q1', '2026-h2', 'fy2026-q1/APR', 'r2023-p01', 'r2023-w01',
                  '  2026-03  ', '2026-W10/mon', '2026-W10/SUN']) AS x;

-- ISO weeks: week 1 may start in late December, week 53 exists only in long years
SELECT x AS literal, start_date(x::customer_period), end_date(x::customer_period)
FROM unnest(ARRAY['2026-W01', '2025-W01', '2020-W01', '2020-W53', '2026-W53', '2015-W53', '2009-W53',
                  '2004-W53', '1998-W53']) AS x;

-- leap days
SELECT x::customer_period AS value, start_date(x::customer_period)
FROM unnest(ARRAY['2024-02-29', '2000-02-29', '1600-02-29']) AS x;

-- fiscal years are named for the calendar year they end in
SELECT x AS literal, start_date(x::customer_period), end_date(x::customer_period)
FROM unnest(ARRAY['FY2026/oct', 'FY2026-Q1/oct', 'FY2026-M12/oct', 'FY2026-H2/jul', 'FY2026/jan',
                  'FY2027/feb', 'FY2026-M01/dec']) AS x;

-- retail 4-5-4 years (NRF): named for the year they start in, ending on the Saturday nearest
-- 31 January; fiscal 2023 had 53 weeks, its 53rd week belongs to period 12
SELECT x AS literal, start_date(x::customer_period), end_date(x::customer_period),
       (end_date(x::customer_period) - start_date(x::customer_period)) / 7 AS weeks
FROM unnest(ARRAY['R2022', 'R2023', 'R2024', 'R2025', 'R2017', 'R2012',
                  'R2023-Q1', 'R2023-Q4', 'R2023-P01', 'R2023-P02', 'R2023-P03', 'R2023-P12',
                  'R2024-P12', 'R2023-W01', 'R2023-W53']) AS x;

-- the ends of the supported range
SELECT x::customer_period AS value, start_date(x::customer_period), end_date(x::customer_period)
FROM unnest(ARRAY['0001-01-01', '9999-12-31', '0001-W01', '9999-W51', '0001', '9999',
                  '0001-Q1', '9999-H2', 'R0001', 'R9998', 'FY0002/apr', 'FY9999/apr']) AS x;

-- explicit casts to and from text
SELECT '2026-Q1'::text::customer_period, ('2026-Q1'::customer_period)::text;

-- binary round trip through COPY (FORMAT binary) keeps every value
CREATE TEMP TABLE period_samples AS
SELECT x::customer_period AS p
FROM unnest(ARRAY['2026-03-05', '2026-W10', '2026-03', '2026-Q1', '2026-H1', '2026', '2026-W10/sun',
                  'FY2026-M01/apr', 'FY2026-Q1/apr', 'FY2026-H1/apr', 'FY2026/apr', 'R2023-W53',
                  'R2023-P12', 'R2023-Q4', 'R2023', '0001-01-01', '9999-12-31']) AS x;
SELECT '/tmp/pg_retention_period_' || current_setting('port') || '.bin' AS binfile \gset
COPY period_samples TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE period_copy (p customer_period);
COPY period_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS copied, count(*) FILTER (WHERE s.p IS NULL) AS lost
FROM period_copy c LEFT JOIN period_samples s ON s.p = c.p;
SELECT (SELECT count(*) FROM period_samples) = (SELECT count(*) FROM period_copy) AS same_count;

-- the binary input rejects a value that is no period
CREATE TEMP TABLE bad_bin (p int8);
INSERT INTO bad_bin VALUES (0), (-1), ((2::int8 << 48) | (9::int8 << 40));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY period_copy FROM :'binfile' WITH (FORMAT binary);
