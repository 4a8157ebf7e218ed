--
-- customer_period constructors: from date, timestamp and timestamptz, every kind name.
--
SET search_path = retention, public;
SET datestyle = ISO;

-- every kind of one date (a Thursday in week 10 of 2026)
SELECT k AS kind_name, customer_period(date '2026-03-05', k), kind(customer_period(date '2026-03-05', k))
FROM unnest(ARRAY['day', 'week', 'week:sun', 'week:tue', 'week:saturday', 'month', 'quarter', 'half', 'year',
                  'fiscal_month:apr', 'fiscal_quarter:apr', 'fiscal_half:apr', 'fiscal_year:apr',
                  'fiscal_year:4', 'fiscal_year:october', 'fiscal_year:jan',
                  'retail_week', 'retail_period', 'retail_quarter', 'retail_year',
                  'iso_week', 'retail_month', 'Month', ' week:Mon']) AS k;

-- timestamps: without time zone, in the session zone, in a named zone
SET timezone = 'UTC';
SELECT customer_period(timestamp '2025-12-31 23:59:59', 'year') AS ts,
       customer_period(timestamptz '2025-12-31 23:30:00+00', 'month') AS session_utc,
       customer_period(timestamptz '2025-12-31 23:30:00+00', 'month', 'Europe/Berlin') AS in_berlin,
       customer_period(timestamptz '2026-01-01 02:00:00+00', 'day', 'America/New_York') AS in_new_york,
       customer_period(timestamptz '2026-01-01 02:00:00+00', 'day', 'EST') AS fixed_abbrev,
       customer_period(timestamptz '2026-01-01 02:00:00+00', 'day', 'UTC') AS utc;
SET timezone = 'Asia/Tokyo';
SELECT customer_period(timestamptz '2025-12-31 16:00:00+00', 'year') AS session_tokyo;
RESET timezone;

-- the zone form agrees with timezone(zone, ts)::date for many instants and zones
SELECT count(*) AS disagreements
FROM generate_series(timestamptz '2024-01-01 00:00+00', timestamptz '2024-12-31 00:00+00', interval '7 hours 13 minutes') t,
     unnest(ARRAY['UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'EST', 'CET', '+05']) z
WHERE customer_period(t, 'day', z) <> customer_period(timezone(z, t)::date, 'day');

-- the session-zone form agrees with the timestamp's date in that zone, for zones with one
-- fixed offset (a shortcut) and zones with daylight saving time
CREATE FUNCTION pg_temp.session_disagreements(zone text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  PERFORM set_config('timezone', zone, true);
  SELECT count(*) INTO n
  FROM generate_series(timestamptz '2023-01-01 00:00+00', timestamptz '2024-12-31 00:00+00', interval '5 hours 7 minutes') t
  WHERE customer_period(t, 'day') <> customer_period(t::date, 'day')
     OR customer_period(t, 'month') <> customer_period(date_trunc('month', t)::date, 'month');
  RETURN n;
END $$;
SELECT zone, pg_temp.session_disagreements(zone) AS disagreements
FROM unnest(ARRAY['UTC', 'Etc/GMT+5', 'Asia/Kolkata', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe']) zone;

-- the same with instants in random order (the offset cache sees them out of order)
CREATE TEMP TABLE shuffled AS
SELECT t FROM generate_series(timestamptz '1965-01-01 00:00+00', timestamptz '2040-12-31 00:00+00', interval '3 hours 17 minutes') t
ORDER BY md5(t::text);
CREATE FUNCTION pg_temp.shuffled_disagreements(zone text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  PERFORM set_config('timezone', zone, true);
  SELECT count(*) INTO n FROM shuffled WHERE customer_period(t, 'day') <> customer_period(t::date, 'day');
  RETURN n;
END $$;
SELECT zone, pg_temp.shuffled_disagreements(zone) AS disagreements
FROM unnest(ARRAY['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Europe/London']) zone;

-- a kind or zone that changes from row to row is honoured row by row
SELECT k, customer_period(date '2026-03-05', k)
FROM (VALUES ('month'), ('quarter'), ('month'), ('retail_period')) v(k);
SELECT z, customer_period(timestamptz '2026-01-01 02:00:00+00', 'day', z)
FROM (VALUES ('UTC'), ('America/New_York'), ('UTC')) v(z);

-- NULL in, NULL out
SELECT customer_period(NULL::date, 'month') IS NULL AS null_date,
       customer_period(date '2026-01-01', NULL) IS NULL AS null_kind;

-- bad kinds and zones
SELECT customer_period(date '2026-03-05', 'fortnight');
SELECT customer_period(date '2026-03-05', '');
SELECT customer_period(date '2026-03-05', 'week:funday');
SELECT customer_period(date '2026-03-05', 'fiscal_year');
SELECT customer_period(date '2026-03-05', 'fiscal_year:13');
SELECT customer_period(date '2026-03-05', 'fiscal_year:smarch');
SELECT customer_period(date '2026-03-05', 'month:apr');
SELECT customer_period(date '2026-03-05', 'retail_week:sun');
SELECT customer_period(timestamptz '2026-01-01 00:00+00', 'day', 'Mars/Olympus_Mons');

-- dates and timestamps outside the supported range
SELECT customer_period(date 'infinity', 'month');
SELECT customer_period(date '-infinity', 'month');
SELECT customer_period(timestamp 'infinity', 'month');
SELECT customer_period(timestamptz 'infinity', 'month');
SELECT customer_period(timestamptz 'infinity', 'month', 'UTC');
SELECT customer_period(date '0001-01-01' - 1, 'day');
SELECT customer_period(date '10000-01-01', 'day');
SELECT customer_period(date '9999-12-31', 'retail_year');
SELECT customer_period(date '9999-12-31', 'fiscal_year:apr');
SELECT customer_period(date '0001-01-01', 'week:sun');
