--
-- customer_activity: activity_agg, accessors, merging, text and binary I/O, bad input.
--
SET search_path = retention, public;
SET datestyle = ISO;

CREATE TEMP TABLE act_orders (c int, d date, amt numeric);
INSERT INTO act_orders VALUES
  (1, '2024-01-05', 11.77), (1, '2024-03-02', 12), (1, '2024-03-09', 12.00),
  (2, '2024-02-01', 5.5), (2, '2024-02-03', 0.0001),
  (3, '2024-01-31', 100000.25), (3, '2024-05-02', 1), (3, '2026-12-31', 0),
  (4, '2024-07-15', 99999999999.9999);

-- one activity per customer; the text form is first period | bitmap | orders:revenue per active period
CREATE TEMP TABLE acts AS
SELECT c, activity_agg(customer_period(d, 'month'), amt) AS a FROM act_orders GROUP BY c;
SELECT c, a, first_period(a), last_period(a), active_periods(a), orders(a), revenue(a)
FROM acts ORDER BY c;
SELECT c, (activity_periods(a)).* FROM acts ORDER BY c, 2;

-- the accessors agree with plain SQL over the orders
SELECT count(*) AS mismatches FROM (
  (SELECT c, customer_period(d, 'month') AS period, count(*)::int AS orders, sum(amt) AS revenue
   FROM act_orders GROUP BY 1, 2)
  EXCEPT
  (SELECT c, (activity_periods(a)).* FROM acts)) x;

-- without amounts: orders only, revenue 0; other kinds
SELECT c, activity_agg(customer_period(d, 'quarter')) FROM act_orders GROUP BY c ORDER BY c;
SELECT c, activity_agg(customer_period(d, 'week'), amt) FROM act_orders WHERE c <= 2 GROUP BY c ORDER BY c;
SELECT c, activity_agg(customer_period(d, 'fiscal_quarter:apr'), amt) FROM act_orders WHERE c <= 2 GROUP BY c ORDER BY c;

-- a customer active in many periods (a bitmap over several bytes and the heap path of the decoder)
SELECT a, active_periods(a), orders(a), revenue(a), a::text::customer_activity::text = a::text AS round_trip
FROM (SELECT activity_agg(customer_period(d::date, 'day'), 1.5) a
      FROM generate_series(date '2024-01-01', date '2024-12-31', interval '3 days') d) s \gset
SELECT :active_periods AS active_periods, :orders AS orders, :revenue AS revenue, :'round_trip' AS round_trip,
       length(:'a') AS text_length, pg_column_size(:'a'::customer_activity) AS bytes;

-- text round trip of every activity, and literal input
SELECT c, a::text::customer_activity::text = a::text AS round_trip FROM acts ORDER BY c;
SELECT '2024-01|05|1:11.77,2:24'::customer_activity;
SELECT '2024-Q1|0101|1:0,3:7.1234'::customer_activity;

-- merging: union of periods, sums per period; any order and grouping gives the same value
SELECT activity_merge('2024-01|05|1:11.77,2:24', '2024-02|03|1:1,1:1');
SELECT activity_merge(x, y)::text = activity_merge(y, x)::text AS commutes,
       activity_merge(activity_merge(x, y), z)::text = activity_merge(x, activity_merge(y, z))::text AS associates
FROM (VALUES ('2024-01|05|1:11.77,2:24'::customer_activity, '2024-02|03|1:1,1:1'::customer_activity,
              '2023-11|21|4:0.5,1:2'::customer_activity)) v(x, y, z);
-- splitting a customer's orders in two and merging equals aggregating them at once
SELECT count(*) AS mismatches FROM (
  SELECT c, activity_merge(activity_agg(customer_period(d, 'month'), amt) FILTER (WHERE d < '2024-02-15'),
                           activity_agg(customer_period(d, 'month'), amt) FILTER (WHERE d >= '2024-02-15'))::text AS m
  FROM act_orders GROUP BY c HAVING count(*) FILTER (WHERE d < '2024-02-15') > 0
                              AND count(*) FILTER (WHERE d >= '2024-02-15') > 0
  EXCEPT
  SELECT c, a::text FROM acts) x;
-- subtracting undoes merging: periods left without orders go, nothing left is NULL
SELECT activity_subtract('2024-01|0f|1:11.77,2:24,1:1,3:3', '2024-02|03|1:1,1:1');
SELECT activity_subtract('2024-01|05|1:11.77,2:24', '2024-01|05|1:11.77,2:24') IS NULL AS nothing_left;
SELECT count(*) FILTER (WHERE activity_subtract(activity_merge(x.a, y.a), y.a)::text IS DISTINCT FROM x.a::text)
         AS mismatches,
       count(*) FILTER (WHERE activity_subtract(activity_merge(x.a, y.a), x.a)::text IS DISTINCT FROM y.a::text)
         AS mismatches_other_way
FROM acts x, acts y;
-- only what is part of the activity can be subtracted (a part of one period is fine)
SELECT activity_subtract('2024-02|03|1:1,1:1', '2024-01|05|1:11.77,2:24');
SELECT activity_subtract('2024-01|05|1:11.77,2:24', '2024-03|01|1:1');
SELECT activity_subtract('2024-01|05|1:11.77,2:24', '2024-02|01|1:1');
SELECT activity_subtract('2024-01|05|1:11.77,2:24', '2024-01|01|2:1');
SELECT activity_subtract('2024-01|05|1:11.77,2:24', '2024-01|01|1:12');
SELECT activity_subtract('2024-01|05|1:11.77,2:24', '2024-01|01|1:1');
SELECT activity_subtract('2024-01|01|1:1', '2024-Q1|01|1:1');
SELECT activity_union(a ORDER BY random())::text = activity_union(a ORDER BY c DESC)::text AS union_order_free,
       activity_union(a) AS union_all
FROM acts WHERE c IN (1, 2);

-- binary round trip through COPY (FORMAT binary)
SELECT '/tmp/pg_retention_activity_' || current_setting('port') || '.bin' AS binfile \gset
COPY (SELECT c, a FROM acts) TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE acts_copy (c int, a customer_activity);
COPY acts_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS copied, count(*) FILTER (WHERE x.a::text IS DISTINCT FROM y.a::text) AS changed
FROM acts x JOIN acts_copy y USING (c);

-- bad binary input: each value is rejected with its reason
CREATE TEMP TABLE bad_bin (b bytea);
CREATE TEMP TABLE bad_copy (a customer_activity);
INSERT INTO bad_bin VALUES ('\x02'::bytea || int8send(0) || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY bad_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || int8send(0) || int4send(1) || int4send(0) || int4send(1) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY bad_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || customer_period_send('2024-01') || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY bad_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || customer_period_send('2024-01') || int4send(2)
                            || int4send(0) || int4send(1) || int8send(0) || int4send(0) || int4send(1) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY bad_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || customer_period_send('2024-01') || int4send(1)
                            || int4send(0) || int4send(0) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY bad_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || customer_period_send('2024-01') || int4send(1)
                            || int4send(0) || int4send(1) || int8send(-5));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY bad_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x01'::bytea || customer_period_send('2024-01') || int4send(1) || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY bad_copy FROM :'binfile' WITH (FORMAT binary);

-- bad text input: every corrupted literal is an error
SELECT x::customer_activity FROM (VALUES ('')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-13|01|1:0')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01||1:0')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|1|1:0')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|zz|1:0')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|02|1:0')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|0100|1:0')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|00|')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1:')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|0:5')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1:-5')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1:1.23456')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1:1.')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1:5,1:5')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|03|1:5')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1:5 ')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|3000000000:5')) v(x);
SELECT x::customer_activity FROM (VALUES ('2024-01|01|1:99999999999999999999')) v(x);
SELECT x::customer_activity FROM (VALUES ('9999-12|03|1:1,1:1')) v(x);

-- bad rows in activity_agg: NULL period, NULL amount, negative, NaN, infinite, too many decimals,
-- an amount too large to hold exactly, kinds mixed in one aggregate
SELECT activity_agg(p, 1) FROM (VALUES (customer_period('2024-01-01'::date, 'month')), (NULL)) v(p);
SELECT activity_agg(p) FROM (VALUES (customer_period('2024-01-01'::date, 'month')), (NULL)) v(p);
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), x) FROM (VALUES (1.0), (NULL)) v(x);
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), x) FROM (VALUES (1.0), (-0.01)) v(x);
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), 'NaN');
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), 'Infinity');
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), 0.00001);
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), 1e15);
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), x) FROM (VALUES (900000000000000), (900000000000000)) v(x);
SELECT activity_agg(customer_period(d, k), 1) FROM (VALUES ('2024-01-01'::date, 'month'), ('2024-02-01', 'quarter')) v(d, k);
SELECT activity_merge('2024-01|01|1:1', '2024-Q1|01|1:1');
SELECT activity_union(a) FROM (VALUES ('2024-01|01|1:1'::customer_activity), ('2024-W01|01|1:1')) v(a);
-- fine: zero, trailing zeros beyond four places, exactly four places
SELECT activity_agg(customer_period('2024-01-01'::date, 'month'), x) FROM (VALUES (0), (1.230000000), (0.0001)) v(x);
-- a day-level activity may not span more than 100000 periods
SELECT activity_agg(customer_period(d, 'day')) FROM (VALUES ('1700-01-01'::date), ('2024-01-01')) v(d);
