--
-- The one-pass aggregates over raw order rows and their state activity_map: same states as
-- the two-step path, text and binary round trips, bad input.
--
SET search_path = retention, public;

CREATE TEMP TABLE map_orders (c bigint, d date, amt numeric);
INSERT INTO map_orders VALUES
  (17, '2024-01-05', 11.77), (17, '2024-03-02', 12), (17, '2024-03-09', 12.00),
  (42, '2024-02-01', 5.5), (42, '2024-02-03', 0.0001),
  (-3, '2024-01-31', 100000.25), (-3, '2024-05-02', 1),
  (9000000000, '2024-07-15', 3);

-- the state: one activity per customer, in customer order
SELECT activity_map_agg(c, customer_period(d, 'month'), amt) FROM map_orders;
-- the one-pass aggregates equal the two-step ones
SELECT cohort_agg(c, customer_period(d, 'month'), amt)::text
       = (SELECT cohort_agg(a)::text FROM (SELECT activity_agg(customer_period(d, 'month'), amt) a FROM map_orders GROUP BY c) s)
       AS cohort_same,
       cohort_agg(c, customer_period(d, 'month'))::text
       = (SELECT cohort_agg(a)::text FROM (SELECT activity_agg(customer_period(d, 'month')) a FROM map_orders GROUP BY c) s)
       AS cohort_no_amount_same,
       retention_agg(c, customer_period(d, 'quarter'))::text
       = (SELECT retention_agg(a)::text FROM (SELECT activity_agg(customer_period(d, 'quarter')) a FROM map_orders GROUP BY c) s)
       AS retention_same
FROM map_orders;
-- int customer ids work too, and the final functions read a stored map
SELECT activity_map_cohort_final(activity_map_agg(c, customer_period(d, 'month'), amt))::text
       = cohort_agg(c, customer_period(d, 'month'), amt)::text AS final_from_map,
       cohort_agg(c::int, customer_period(d, 'month'), amt) FILTER (WHERE c < 1000)::text
       = cohort_agg(c, customer_period(d, 'month'), amt) FILTER (WHERE c < 1000)::text AS int_ids,
       activity_map_retention_final(activity_map_agg(c, customer_period(d, 'month'), amt))::text
       = retention_agg(c, customer_period(d, 'month'))::text AS retention_final_from_map
FROM map_orders;
-- no rows: NULL
SELECT cohort_agg(c, customer_period(d, 'month'), amt) IS NULL AS cohort_null,
       retention_agg(c, customer_period(d, 'month')) IS NULL AS retention_null
FROM map_orders WHERE false;

-- text round trip, and merging maps that share customers
SELECT m::text::activity_map::text = m::text AS round_trip
FROM (SELECT activity_map_agg(c, customer_period(d, 'month'), amt) m FROM map_orders) s;
SELECT activity_map_combine('17=2024-01|01|1:1;42=2024-02|01|1:5', '17=2024-03|01|2:2;99=2024-01|01|1:0');
SELECT activity_map_cohort_final('17=2024-01|05|1:1,2:2;42=2024-02|01|1:5');
-- a union wider than both parts together (day periods a year apart)
SELECT activity_map_combine('1=2024-01-01|01|1:1;2=2024-01-01|01|1:1', '1=2024-12-31|01|1:2;3=2024-01-01|01|1:1');

-- binary round trip through COPY (FORMAT binary)
SELECT '/tmp/pg_retention_map_' || current_setting('port') || '.bin' AS binfile \gset
CREATE TEMP TABLE maps AS SELECT activity_map_agg(c, customer_period(d, 'month'), amt) AS m FROM map_orders;
COPY maps TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE maps_copy (m activity_map);
COPY maps_copy FROM :'binfile' WITH (FORMAT binary);
SELECT a.m::text = b.m::text AS binary_round_trip FROM maps a, maps_copy b;
CREATE TEMP TABLE bad_bin (b bytea);
INSERT INTO bad_bin VALUES ('\x02'::bytea || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY maps_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || int4send(1000));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY maps_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || int4send(1) || int8send(5) || int4send(100) || '\x01'::bytea);
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY maps_copy FROM :'binfile' WITH (FORMAT binary);

-- bad text input
SELECT x::activity_map FROM (VALUES ('17')) v(x);
SELECT x::activity_map FROM (VALUES ('x=2024-01|01|1:1')) v(x);
SELECT x::activity_map FROM (VALUES ('17=2024-01|01|1:1;')) v(x);
SELECT x::activity_map FROM (VALUES ('17=2024-01|01|1:1;17=2024-02|01|1:1')) v(x);
SELECT x::activity_map FROM (VALUES ('17=2024-01|01|1:1;5=2024-02|01|1:1')) v(x);
SELECT x::activity_map FROM (VALUES ('17=2024-01|01|1:1;18=2024-Q1|01|1:1')) v(x);
SELECT x::activity_map FROM (VALUES ('17=2024-01|01|0:1')) v(x);
SELECT ''::activity_map AS empty_map, activity_map_cohort_final('') IS NULL AS empty_final;

-- bad rows: NULL customer, period or amount, negative amount, kinds mixed
SELECT cohort_agg(c, customer_period('2024-01-01'::date, 'month'), 1) FROM (VALUES (1), (NULL)) v(c);
SELECT cohort_agg(1, p, 1) FROM (VALUES (customer_period('2024-01-01'::date, 'month')), (NULL)) v(p);
SELECT cohort_agg(1, customer_period('2024-01-01'::date, 'month'), x) FROM (VALUES (1), (NULL)) v(x);
SELECT cohort_agg(1, customer_period('2024-01-01'::date, 'month'), -1);
SELECT retention_agg(c, customer_period(d, k)) FROM (VALUES (1, '2024-01-01'::date, 'month'), (2, '2024-02-01', 'week')) v(c, d, k);
SELECT activity_map_combine('17=2024-01|01|1:1', '18=2024-Q1|01|1:1');
