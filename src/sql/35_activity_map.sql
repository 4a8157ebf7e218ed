
-- one-pass cohort_agg / retention_agg over raw order rows (src/activity_map.c)

CREATE TYPE retention.activity_map;
CREATE FUNCTION retention.activity_map_in(cstring) RETURNS retention.activity_map
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.activity_map_out(retention.activity_map) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.activity_map_recv(internal) RETURNS retention.activity_map
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.activity_map_send(retention.activity_map) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.activity_map (
	INPUT = retention.activity_map_in, OUTPUT = retention.activity_map_out,
	RECEIVE = retention.activity_map_recv, SEND = retention.activity_map_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);
COMMENT ON TYPE retention.activity_map IS
	'customer id -> customer_activity (state of the one-pass cohort_agg / retention_agg over raw rows; text: id=activity;...)';
COMMENT ON FUNCTION retention.activity_map_in(cstring) IS 'text input of activity_map';
COMMENT ON FUNCTION retention.activity_map_out(retention.activity_map) IS 'text output of activity_map';
COMMENT ON FUNCTION retention.activity_map_recv(internal) IS 'binary input of activity_map';
COMMENT ON FUNCTION retention.activity_map_send(retention.activity_map) IS 'binary output of activity_map';

CREATE FUNCTION retention.activity_map_trans(retention.activity_map, bigint, retention.customer_period, numeric)
	RETURNS retention.activity_map
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_map_trans(retention.activity_map, bigint, retention.customer_period, numeric) IS
	'transition function of the one-pass aggregates (customer_id, period, amount)';
CREATE FUNCTION retention.activity_map_trans(retention.activity_map, bigint, retention.customer_period)
	RETURNS retention.activity_map
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_map_trans(retention.activity_map, bigint, retention.customer_period) IS
	'transition function of the one-pass aggregates (customer_id, period)';
CREATE FUNCTION retention.activity_map_combine(retention.activity_map, retention.activity_map)
	RETURNS retention.activity_map
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_map_combine(retention.activity_map, retention.activity_map) IS
	'union of two activity maps (combine function of the one-pass aggregates)';
CREATE FUNCTION retention.activity_map_cohort_final(retention.activity_map) RETURNS retention.cohort_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_map_cohort_final(retention.activity_map) IS
	'final function of the one-pass cohort_agg: the cohort state of all customers in the map';
CREATE FUNCTION retention.activity_map_retention_final(retention.activity_map) RETURNS retention.retention_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_map_retention_final(retention.activity_map) IS
	'final function of the one-pass retention_agg: the retention state of all customers in the map';

CREATE AGGREGATE retention.cohort_agg(customer_id bigint, period retention.customer_period, amount numeric) (
	SFUNC = retention.activity_map_trans, STYPE = retention.activity_map,
	COMBINEFUNC = retention.activity_map_combine, FINALFUNC = retention.activity_map_cohort_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.cohort_agg(bigint, retention.customer_period, numeric) IS
	'one-pass cohort state straight from order rows (customer_id, period, amount), no GROUP BY needed';
CREATE AGGREGATE retention.cohort_agg(customer_id bigint, period retention.customer_period) (
	SFUNC = retention.activity_map_trans, STYPE = retention.activity_map,
	COMBINEFUNC = retention.activity_map_combine, FINALFUNC = retention.activity_map_cohort_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.cohort_agg(bigint, retention.customer_period) IS
	'one-pass cohort state straight from order rows (customer_id, period), revenue 0';
CREATE AGGREGATE retention.retention_agg(customer_id bigint, period retention.customer_period) (
	SFUNC = retention.activity_map_trans, STYPE = retention.activity_map,
	COMBINEFUNC = retention.activity_map_combine, FINALFUNC = retention.activity_map_retention_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.retention_agg(bigint, retention.customer_period) IS
	'one-pass retention state straight from order rows (customer_id, period), no GROUP BY needed';
CREATE AGGREGATE retention.activity_map_agg(customer_id bigint, period retention.customer_period, amount numeric) (
	SFUNC = retention.activity_map_trans, STYPE = retention.activity_map,
	COMBINEFUNC = retention.activity_map_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.activity_map_agg(bigint, retention.customer_period, numeric) IS
	'the one-pass aggregates'' state itself: every customer''s activity from order rows (for inspection and transport)';
