--
-- cohort_state and retention_state: text and binary round trips, merging in any order,
-- NULL and empty input, accessor arguments, and every kind of bad input.
--
SET search_path = retention, public;

CREATE TEMP TABLE io_acts (c int, a customer_activity);
INSERT INTO io_acts VALUES
  (1, '2024-01|05|1:11.77,2:24'), (2, '2024-02|01|2:5.5001'), (3, '2024-01|11|1:100000.25,1:1'),
  (4, '2024-03|03|1:3,1:4'), (5, NULL);

-- the states and their text forms; NULL activities are skipped
SELECT cohort_agg(a), retention_agg(a) FROM io_acts;
-- no rows, or only NULLs: NULL, as for other aggregates
SELECT cohort_agg(a) IS NULL AS cohort_null, retention_agg(a) IS NULL AS retention_null FROM io_acts WHERE c > 4;
SELECT cohort_agg(a) IS NULL AS cohort_null, retention_agg(a) IS NULL AS retention_null FROM io_acts WHERE false;

-- text round trip
SELECT cohort_agg(a)::text::cohort_state::text = cohort_agg(a)::text AS cohort_round_trip,
       retention_agg(a)::text::retention_state::text = retention_agg(a)::text AS retention_round_trip
FROM io_acts;

-- merging in any order and grouping gives the same state
SELECT count(DISTINCT cs) AS distinct_cohort_states, count(DISTINCT rs) AS distinct_retention_states
FROM (SELECT cohort_union(cs ORDER BY o)::text AS cs, retention_union(rs ORDER BY o)::text AS rs
      FROM (SELECT g, o, cohort_agg(a) AS cs, retention_agg(a) AS rs
            FROM io_acts, (VALUES (1), (2), (3)) v(g), LATERAL (SELECT (c * g * 7) % 5 AS o) x
            GROUP BY g, o, c % g) s
      GROUP BY g) t;
SELECT cohort_combine(x, y)::text = cohort_combine(y, x)::text AS combine_commutes
FROM (SELECT cohort_agg(a) FILTER (WHERE c <= 2) x, cohort_agg(a) FILTER (WHERE c > 2) y FROM io_acts) s;
SELECT cohort_combine(x, y)::text = (SELECT cohort_agg(a)::text FROM io_acts) AS combine_equals_whole
FROM (SELECT cohort_agg(a) FILTER (WHERE c <= 2) x, cohort_agg(a) FILTER (WHERE c > 2) y FROM io_acts) s;
SELECT retention_combine(x, y)::text = (SELECT retention_agg(a)::text FROM io_acts) AS combine_equals_whole
FROM (SELECT retention_agg(a) FILTER (WHERE c <= 2) x, retention_agg(a) FILTER (WHERE c > 2) y FROM io_acts) s;

-- input in time order (one more period with every customer) grows the state with slack, and
-- the final function trims it: the same state as in any other order, covering exactly the data
CREATE TEMP TABLE daily AS
SELECT k, activity_agg(customer_period(date '2024-01-01' + k + j * 3, 'day'), 1) AS a
FROM generate_series(0, 599) k, generate_series(0, k % 4) j GROUP BY k;
SELECT cohort_agg(a ORDER BY k)::text = cohort_agg(a ORDER BY k DESC)::text AS cohort_order_free,
       retention_agg(a ORDER BY k)::text = retention_agg(a ORDER BY k DESC)::text AS retention_order_free,
       (SELECT min(cohort)::text || ' .. ' || max(cohort + age)::text
        FROM cohort_table((SELECT cohort_agg(a ORDER BY k) FROM daily))) AS covered,
       (SELECT count(*) FROM retention_table((SELECT retention_agg(a ORDER BY k) FROM daily))) AS periods
FROM daily;

-- the accessors read the same answers from a state that went through text
SELECT * FROM cohort_table('2024-01|5|0.0:2,0,100012.02;0.2:1,1,24;0.4:1,1,1;1.0:1,1,5.5001');
SELECT * FROM cohort_table('2024-01|5|0.0:2,0,100012.02;0.2:1,1,24;0.4:1,1,1;1.0:1,1,5.5001', mode => 'on_or_after');
SELECT * FROM retention_table((SELECT retention_agg(a) FROM io_acts));
SELECT * FROM retention_table((SELECT retention_agg(a) FROM io_acts), inactivity => 2);
SELECT * FROM lifecycle_table((SELECT retention_agg(a) FROM io_acts));
-- a window longer than the data: nobody is ever lost
SELECT period, customers_end, lost FROM retention_table((SELECT retention_agg(a) FROM io_acts), inactivity => 1000);

-- cohort_table_diff: the cells where two cohort tables differ, as changes; one state is the
-- other after some customers changed (one moves to an earlier cohort, one is new, one is gone)
CREATE TEMP TABLE diff_acts (c int, before customer_activity, after customer_activity);
INSERT INTO diff_acts VALUES
  (1, '2024-01|05|1:11.77,2:24', '2024-01|07|1:11.77,1:1,2:24'),
  (2, '2024-02|01|2:5.5001', '2023-12|05|1:1,2:5.5001'),
  (3, NULL, '2024-06|01|1:2'),
  (4, '2024-03|03|1:3,1:4', NULL),
  (5, '2024-01|11|1:100000.25,1:1', '2024-01|11|1:100000.25,1:1');
SELECT * FROM cohort_table_diff((SELECT cohort_agg(after) FROM diff_acts), (SELECT cohort_agg(before) FROM diff_acts))
ORDER BY cohort, age;
-- equal to the difference of the two cohort tables, cell by cell, in both modes
CREATE TEMP VIEW diff_by_sql AS
SELECT m.mode, cohort, age, sum(cohort_size) AS cohort_size, sum(customers) AS customers, sum(revenue) AS revenue
FROM (VALUES ('on'), ('on_or_after')) m(mode),
  LATERAL (SELECT cohort, age, cohort_size, customers, revenue
           FROM cohort_table((SELECT cohort_agg(after) FROM diff_acts), m.mode)
           UNION ALL
           SELECT cohort, age, -cohort_size, -customers, -revenue
           FROM cohort_table((SELECT cohort_agg(before) FROM diff_acts), m.mode)) u
GROUP BY m.mode, cohort, age HAVING sum(customers) <> 0 OR sum(revenue) <> 0;
CREATE TEMP VIEW diff_by_c AS
SELECT m.mode, d.* FROM (VALUES ('on'), ('on_or_after')) m(mode),
  LATERAL cohort_table_diff((SELECT cohort_agg(after) FROM diff_acts), (SELECT cohort_agg(before) FROM diff_acts), m.mode) d;
SELECT (SELECT count(*) FROM diff_by_c WHERE mode = 'on_or_after') AS on_or_after_cells,
       (SELECT count(*) FROM ((TABLE diff_by_sql EXCEPT TABLE diff_by_c) UNION ALL
                              (TABLE diff_by_c EXCEPT TABLE diff_by_sql)) x) AS mismatches;
-- a NULL state is empty; equal states and a NULL mode give no rows; kinds must match
SELECT * FROM cohort_table_diff(NULL, '2024-01|2|0.0:2,1,3;0.1:1,1,4', 'on_or_after');
SELECT * FROM cohort_table_diff('2024-01|2|0.0:2,1,3;0.1:1,1,4', NULL);
SELECT count(*) AS no_rows FROM cohort_table_diff('2024-01|2|0.0:2,1,3;0.1:1,1,4', '2024-01|2|0.0:2,1,3;0.1:1,1,4');
SELECT count(*) AS no_rows FROM cohort_table_diff(NULL, NULL);
SELECT count(*) AS no_rows FROM cohort_table_diff('2024-01|2|0.0:2,1,3;0.1:1,1,4', NULL, NULL);
SELECT * FROM cohort_table_diff('2024-01|1|0.0:1,1,0', '2024-Q1|1|0.0:1,1,0');
SELECT * FROM cohort_table_diff('2024-01|1|0.0:1,1,0', NULL, 'sometimes');

-- binary round trip through COPY (FORMAT binary)
SELECT '/tmp/pg_retention_cohort_' || current_setting('port') || '.bin' AS binfile \gset
CREATE TEMP TABLE states AS SELECT cohort_agg(a) AS cs, retention_agg(a) AS rs FROM io_acts;
COPY states TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE states_copy (cs cohort_state, rs retention_state);
COPY states_copy FROM :'binfile' WITH (FORMAT binary);
SELECT s.cs::text = c.cs::text AS cohort_same, s.rs::text = c.rs::text AS retention_same FROM states s, states_copy c;
-- a retention state is no cohort state
CREATE TEMP TABLE cohort_only (cs cohort_state);
CREATE TEMP TABLE rs_only AS SELECT rs FROM states;
COPY rs_only TO :'binfile' WITH (FORMAT binary);
COPY cohort_only FROM :'binfile' WITH (FORMAT binary);
-- bad binary input
CREATE TEMP TABLE bad_bin (b bytea);
INSERT INTO bad_bin VALUES ('\x0101'::bytea || customer_period_send('2024-01') || int4send(0) || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY cohort_only FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x0101'::bytea || customer_period_send('2024-01') || int4send(2) || int4send(1)
                            || int4send(0) || int4send(2) || int8send(1) || int8send(1) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY cohort_only FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x0101'::bytea || customer_period_send('2024-01') || int4send(2) || int4send(1)
                            || int4send(0) || int4send(0) || int8send(1) || int8send(2) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY cohort_only FROM :'binfile' WITH (FORMAT binary);

-- bad text input: every corrupted literal is an error
SELECT x::cohort_state FROM (VALUES ('')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-02-30|1|')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|0|')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2001|')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|x|')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1,0,5')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.2:1,1,0')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|2.0:1,1,0')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.1:1,1,0;0.0:2,1,0')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1,0;0.0:1,1,0')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:2,1,0')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1,0;0.1:1,0,0')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,0,0;0.1:0,1,0')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1,0;1.0:0,0,5')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1,-1')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1,0.123456')) v(x);
SELECT x::cohort_state FROM (VALUES ('2024-01|2|0.0:1,1,0;')) v(x);
SELECT x::cohort_state FROM (VALUES ('9999-12|2|0.0:1,1,0')) v(x);
SELECT x::retention_state FROM (VALUES ('2024-01|2|0.0:1,1,0')) v(x);
SELECT x::retention_state FROM (VALUES ('2024-01|2|0.0:1,0')) v(x);
SELECT x::retention_state FROM (VALUES ('2024-01|2|0.1:1,1;1.0:0,0')) v(x);
SELECT x::retention_state FROM (VALUES ('2024-01|2|0.1:1,1;1.0:2,0')) v(x);
SELECT x::retention_state FROM (VALUES ('2024-01|2|0.0:1,1;0.1:0,1')) v(x);
-- a valid one of each, for contrast
SELECT '2024-01|2|0.0:2,1,7.5;0.1:1,1,2'::cohort_state, '2024-01|2|0.0:1,2;0.1:1,0;1.0:1,0'::retention_state;

-- accessor arguments
SELECT * FROM cohort_table((SELECT cohort_agg(a) FROM io_acts), 'after');
SELECT * FROM cohort_table((SELECT cohort_agg(a) FROM io_acts), NULL);
SELECT * FROM retention_table((SELECT retention_agg(a) FROM io_acts), 0);
SELECT * FROM retention_table((SELECT retention_agg(a) FROM io_acts), -3);
SELECT * FROM lifecycle_table((SELECT retention_agg(a) FROM io_acts), 0);

-- kinds mixed in one aggregate
SELECT cohort_agg(a) FROM (VALUES ('2024-01|01|1:1'::customer_activity), ('2024-Q1|01|1:1')) v(a);
SELECT retention_agg(a) FROM (VALUES ('2024-01|01|1:1'::customer_activity), ('2024-W01|01|1:1')) v(a);
SELECT cohort_union(s) FROM (VALUES ('2024-01|1|0.0:1,1,0'::cohort_state), ('2024-Q1|1|0.0:1,1,0')) v(s);
SELECT retention_combine('2024-01|1|0.0:1,1', '2024-Q1|1|0.0:1,1');
-- too many periods for a state (a day-level activity spanning ten years)
SELECT cohort_agg(a) FROM (SELECT activity_agg(customer_period(d, 'day')) a
                           FROM (VALUES ('2014-01-01'::date), ('2024-01-01')) v(d)) s;

-- the scalar formulas: the seed example, rounding, NULL when nobody was there at the start,
-- and their argument checks
SELECT crr(150, 193, 50) AS crr, churn_rate(7, 150) AS churn_rate;
SELECT crr(3, 2, 0), churn_rate(1, 3), crr(0, 5, 5), churn_rate(0, 0), crr(10, 30, 5);
SELECT crr(-1, 5, 1);
SELECT crr(5, -1, 0);
SELECT crr(5, 5, -1);
SELECT crr(5, 3, 4);
SELECT churn_rate(-1, 5);
SELECT churn_rate(1, -5);
SELECT churn_rate(6, 5);
