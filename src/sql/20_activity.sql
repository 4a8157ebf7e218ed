
-- customer_activity: one customer's active periods with orders and revenue (src/activity.c)

CREATE TYPE retention.customer_activity;
CREATE FUNCTION retention.customer_activity_in(cstring) RETURNS retention.customer_activity
	AS 'MODULE_PATHNAME', 'activity_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_activity_out(retention.customer_activity) RETURNS cstring
	AS 'MODULE_PATHNAME', 'activity_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_activity_recv(internal) RETURNS retention.customer_activity
	AS 'MODULE_PATHNAME', 'activity_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_activity_send(retention.customer_activity) RETURNS bytea
	AS 'MODULE_PATHNAME', 'activity_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.customer_activity (
	INPUT = retention.customer_activity_in, OUTPUT = retention.customer_activity_out,
	RECEIVE = retention.customer_activity_recv, SEND = retention.customer_activity_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended);
COMMENT ON TYPE retention.customer_activity IS
	'one customer''s history at one period kind: active periods with orders and revenue (text: first|bitmap|orders:revenue,...)';
COMMENT ON FUNCTION retention.customer_activity_in(cstring) IS 'text input of customer_activity';
COMMENT ON FUNCTION retention.customer_activity_out(retention.customer_activity) IS 'text output of customer_activity';
COMMENT ON FUNCTION retention.customer_activity_recv(internal) IS 'binary input of customer_activity';
COMMENT ON FUNCTION retention.customer_activity_send(retention.customer_activity) IS 'binary output of customer_activity';

CREATE FUNCTION retention.activity_agg_trans(retention.customer_activity, retention.customer_period, numeric)
	RETURNS retention.customer_activity
	AS 'MODULE_PATHNAME', 'activity_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_agg_trans(retention.customer_activity, retention.customer_period, numeric) IS
	'transition function of activity_agg(period, amount)';
CREATE FUNCTION retention.activity_agg_trans(retention.customer_activity, retention.customer_period)
	RETURNS retention.customer_activity
	AS 'MODULE_PATHNAME', 'activity_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_agg_trans(retention.customer_activity, retention.customer_period) IS
	'transition function of activity_agg(period)';

CREATE FUNCTION retention.activity_merge(retention.customer_activity, retention.customer_activity)
	RETURNS retention.customer_activity
	AS 'MODULE_PATHNAME', 'activity_merge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_merge(retention.customer_activity, retention.customer_activity) IS
	'union of two activities of one customer: active in either, orders and revenue summed per period';
CREATE FUNCTION retention.activity_subtract(retention.customer_activity, retention.customer_activity)
	RETURNS retention.customer_activity
	AS 'MODULE_PATHNAME', 'activity_subtract' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.activity_subtract(retention.customer_activity, retention.customer_activity) IS
	'the first activity without the orders and revenue of the second, which must be part of it (inverse of activity_merge); NULL when nothing is left';

CREATE AGGREGATE retention.activity_agg(retention.customer_period, numeric) (
	SFUNC = retention.activity_agg_trans, STYPE = retention.customer_activity,
	COMBINEFUNC = retention.activity_merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.activity_agg(retention.customer_period, numeric) IS
	'one customer''s activity from their orders (period, amount); use with GROUP BY customer';
CREATE AGGREGATE retention.activity_agg(retention.customer_period) (
	SFUNC = retention.activity_agg_trans, STYPE = retention.customer_activity,
	COMBINEFUNC = retention.activity_merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.activity_agg(retention.customer_period) IS
	'one customer''s activity from their order periods (revenue 0); use with GROUP BY customer';
CREATE AGGREGATE retention.activity_union(retention.customer_activity) (
	SFUNC = retention.activity_merge, STYPE = retention.customer_activity,
	COMBINEFUNC = retention.activity_merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.activity_union(retention.customer_activity) IS
	'union of many activities of one customer (incremental maintenance)';

CREATE FUNCTION retention.first_period(retention.customer_activity) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME', 'activity_first_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.first_period(retention.customer_activity) IS
	'the first period the customer was active in (their cohort)';
CREATE FUNCTION retention.last_period(retention.customer_activity) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME', 'activity_last_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.last_period(retention.customer_activity) IS
	'the last period the customer was active in';
CREATE FUNCTION retention.active_periods(retention.customer_activity) RETURNS int
	AS 'MODULE_PATHNAME', 'activity_active_periods' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.active_periods(retention.customer_activity) IS
	'the number of periods the customer was active in';
CREATE FUNCTION retention.orders(retention.customer_activity) RETURNS bigint
	AS 'MODULE_PATHNAME', 'activity_orders' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.orders(retention.customer_activity) IS
	'the customer''s total number of orders';
CREATE FUNCTION retention.revenue(retention.customer_activity) RETURNS numeric
	AS 'MODULE_PATHNAME', 'activity_revenue' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.revenue(retention.customer_activity) IS
	'the customer''s total revenue (exact)';
CREATE FUNCTION retention.activity_periods(retention.customer_activity,
	OUT period retention.customer_period, OUT orders int, OUT revenue numeric)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'activity_periods' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION retention.activity_periods(retention.customer_activity) IS
	'one row per active period of the customer: (period, orders, revenue)';
