--
-- customer_period against PostgreSQL's own calendar: for every day from 1990 to 2040 the
-- standard kinds agree with date_trunc, extract and to_char. Each count must be 0.
--
SET search_path = retention, public;
SET datestyle = ISO;

CREATE TEMP TABLE days AS
SELECT d::date AS d FROM generate_series(date '1990-01-01', date '2040-12-31', interval '1 day') d;

SELECT count(*) AS days,
  count(*) FILTER (WHERE customer_period(d, 'day')::text <> to_char(d, 'YYYY-MM-DD')
                      OR start_date(customer_period(d, 'day')) <> d
                      OR end_date(customer_period(d, 'day')) <> d + 1) AS day_bad,
  count(*) FILTER (WHERE customer_period(d, 'week')::text <> to_char(d, 'IYYY-"W"IW')
                      OR start_date(customer_period(d, 'week')) <> date_trunc('week', d)::date
                      OR end_date(customer_period(d, 'week')) <> (date_trunc('week', d) + interval '1 week')::date)
                      AS week_bad,
  count(*) FILTER (WHERE customer_period(d, 'month')::text <> to_char(d, 'YYYY-MM')
                      OR start_date(customer_period(d, 'month')) <> date_trunc('month', d)::date
                      OR end_date(customer_period(d, 'month')) <> (date_trunc('month', d) + interval '1 month')::date)
                      AS month_bad,
  count(*) FILTER (WHERE customer_period(d, 'quarter')::text <> extract(year FROM d) || '-Q' || extract(quarter FROM d)
                      OR start_date(customer_period(d, 'quarter')) <> date_trunc('quarter', d)::date
                      OR end_date(customer_period(d, 'quarter')) <> (date_trunc('quarter', d) + interval '3 months')::date)
                      AS quarter_bad,
  count(*) FILTER (WHERE customer_period(d, 'half')::text <> extract(year FROM d) || '-H' || (1 + (extract(month FROM d)::int - 1) / 6)
                      OR start_date(customer_period(d, 'half')) <> make_date(extract(year FROM d)::int, 1 + 6 * ((extract(month FROM d)::int - 1) / 6), 1))
                      AS half_bad,
  count(*) FILTER (WHERE customer_period(d, 'year')::text <> extract(year FROM d)::text
                      OR start_date(customer_period(d, 'year')) <> date_trunc('year', d)::date
                      OR end_date(customer_period(d, 'year')) <> (date_trunc('year', d) + interval '1 year')::date)
                      AS year_bad
FROM days;

-- weeks with another first day: the week starts on the latest such day on or before d
SELECT count(*) FILTER (WHERE start_date(customer_period(d, 'week:sun')) <> d - extract(dow FROM d)::int) AS sun_bad,
       count(*) FILTER (WHERE start_date(customer_period(d, 'week:sat')) <> d - ((extract(dow FROM d)::int + 1) % 7)) AS sat_bad,
       count(*) FILTER (WHERE customer_period(d, 'week:mon') <> customer_period(d, 'week')) AS mon_bad
FROM days;

-- fiscal kinds equal calendar kinds shifted by the first month; retail years end on the
-- Saturday nearest 31 January
SELECT count(*) FILTER (WHERE start_date(customer_period(d, 'fiscal_quarter:oct'))
                                <> (date_trunc('quarter', d + interval '3 months') - interval '3 months')::date) AS fq_bad,
       count(*) FILTER (WHERE customer_period(d, 'fiscal_year:oct')::text
                                <> 'FY' || extract(year FROM d + interval '3 months') || '/oct') AS fy_bad,
       count(*) FILTER (WHERE customer_period(d, 'fiscal_month:jul')::text
                                <> 'FY' || extract(year FROM d + interval '6 months') || '-M'
                                   || to_char(d + interval '6 months', 'MM') || '/jul') AS fm_bad
FROM days;

WITH y AS (
  SELECT y, make_date(y, 1, 31) AS jan31 FROM generate_series(1990, 2040) y
), sat AS (   -- the Saturday nearest 31 January, from first principles
  SELECT y, (SELECT s FROM generate_series(jan31 - 3, jan31 + 3, interval '1 day') s
             WHERE extract(dow FROM s) = 6)::date AS ends
  FROM y
)
SELECT count(*) FILTER (WHERE end_date(('R' || lpad((y - 1)::text, 4, '0'))::customer_period) <> ends + 1) AS retail_bad,
       count(*) FILTER (WHERE (end_date(('R' || y)::customer_period) - start_date(('R' || y)::customer_period)) = 371) AS long_years
FROM sat;

-- every day lies in exactly the period its kind says, for every kind
SELECT k, count(*) FILTER (WHERE NOT (customer_period(d, k) @> d)) AS outside,
       count(*) FILTER (WHERE customer_period(d, k)::text::customer_period <> customer_period(d, k)) AS text_round_trip_bad
FROM days, unnest(ARRAY['day', 'week', 'week:sun', 'month', 'quarter', 'half', 'year', 'fiscal_month:apr',
                        'fiscal_quarter:apr', 'fiscal_half:apr', 'fiscal_year:apr', 'retail_week',
                        'retail_period', 'retail_quarter', 'retail_year']) k
GROUP BY k ORDER BY k;

-- consecutive periods tile the calendar: each period ends where the next one starts
SELECT k, count(*) FILTER (WHERE end_date(p) <> start_date(p + 1)) AS gaps
FROM unnest(ARRAY['week', 'week:sun', 'month', 'quarter', 'half', 'year', 'fiscal_quarter:apr',
                  'retail_week', 'retail_period', 'retail_quarter', 'retail_year']) k,
     LATERAL periods(customer_period(date '1990-01-01', k), customer_period(date '2040-12-31', k)) p
GROUP BY k ORDER BY k;
