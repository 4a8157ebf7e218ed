
-- cohort_state, cohort_agg and cohort_table (src/cohort.c, src/cohort_state.c)

CREATE TYPE retention.cohort_state;
CREATE FUNCTION retention.cohort_state_in(cstring, oid, int4) RETURNS retention.cohort_state
	AS 'MODULE_PATHNAME', 'tri_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.cohort_state_out(retention.cohort_state) RETURNS cstring
	AS 'MODULE_PATHNAME', 'tri_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.cohort_state_recv(internal, oid, int4) RETURNS retention.cohort_state
	AS 'MODULE_PATHNAME', 'tri_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.cohort_state_send(retention.cohort_state) RETURNS bytea
	AS 'MODULE_PATHNAME', 'tri_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.cohort_state (
	INPUT = retention.cohort_state_in, OUTPUT = retention.cohort_state_out,
	RECEIVE = retention.cohort_state_recv, SEND = retention.cohort_state_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);
COMMENT ON TYPE retention.cohort_state IS
	'cohort x age counts and revenue over many customers (state of cohort_agg; size independent of the number of customers)';
COMMENT ON FUNCTION retention.cohort_state_in(cstring, oid, int4) IS 'text input of cohort_state';
COMMENT ON FUNCTION retention.cohort_state_out(retention.cohort_state) IS 'text output of cohort_state';
COMMENT ON FUNCTION retention.cohort_state_recv(internal, oid, int4) IS 'binary input of cohort_state';
COMMENT ON FUNCTION retention.cohort_state_send(retention.cohort_state) IS 'binary output of cohort_state';

CREATE FUNCTION retention.cohort_agg_trans(retention.cohort_state, retention.customer_activity)
	RETURNS retention.cohort_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.cohort_agg_trans(retention.cohort_state, retention.customer_activity) IS
	'transition function of cohort_agg';
CREATE FUNCTION retention.cohort_combine(retention.cohort_state, retention.cohort_state)
	RETURNS retention.cohort_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.cohort_combine(retention.cohort_state, retention.cohort_state) IS
	'sum of two cohort states (combine function of cohort_agg)';
CREATE FUNCTION retention.cohort_final(retention.cohort_state) RETURNS retention.cohort_state
	AS 'MODULE_PATHNAME', 'tri_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.cohort_final(retention.cohort_state) IS
	'final function of cohort_agg and cohort_union: the state without the empty periods left by growth';
CREATE AGGREGATE retention.cohort_agg(retention.customer_activity) (
	SFUNC = retention.cohort_agg_trans, STYPE = retention.cohort_state,
	COMBINEFUNC = retention.cohort_combine, FINALFUNC = retention.cohort_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.cohort_agg(retention.customer_activity) IS
	'cohort matrix state over customers'' activities; read it with cohort_table()';
CREATE AGGREGATE retention.cohort_union(retention.cohort_state) (
	SFUNC = retention.cohort_combine, STYPE = retention.cohort_state,
	COMBINEFUNC = retention.cohort_combine, FINALFUNC = retention.cohort_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.cohort_union(retention.cohort_state) IS
	'sum of cohort states (roll up states kept per segment or per shard)';

CREATE FUNCTION retention.cohort_table(state retention.cohort_state, mode text DEFAULT 'on',
	OUT cohort retention.customer_period, OUT age int, OUT cohort_size bigint,
	OUT customers bigint, OUT retention numeric, OUT revenue numeric)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.cohort_table(retention.cohort_state, text) IS
	'cohort x age matrix: cohort size, customers active at the age (mode ''on'') or at it or later (''on_or_after''), retention share, revenue';
CREATE FUNCTION retention.cohort_table_diff(after retention.cohort_state, before retention.cohort_state,
	mode text DEFAULT 'on',
	OUT cohort retention.customer_period, OUT age int, OUT cohort_size bigint,
	OUT customers bigint, OUT revenue numeric)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.cohort_table_diff(retention.cohort_state, retention.cohort_state, text) IS
	'the cells where cohort_table(after, mode) and cohort_table(before, mode) differ, as changes (after minus before) of cohort size, customers and revenue; a NULL state is empty';

-- retention_state, retention_agg, retention_table, lifecycle_table (src/retention.c)

CREATE TYPE retention.retention_state;
CREATE FUNCTION retention.retention_state_in(cstring, oid, int4) RETURNS retention.retention_state
	AS 'MODULE_PATHNAME', 'tri_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.retention_state_out(retention.retention_state) RETURNS cstring
	AS 'MODULE_PATHNAME', 'tri_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.retention_state_recv(internal, oid, int4) RETURNS retention.retention_state
	AS 'MODULE_PATHNAME', 'tri_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.retention_state_send(retention.retention_state) RETURNS bytea
	AS 'MODULE_PATHNAME', 'tri_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.retention_state (
	INPUT = retention.retention_state_in, OUTPUT = retention.retention_state_out,
	RECEIVE = retention.retention_state_recv, SEND = retention.retention_state_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);
COMMENT ON TYPE retention.retention_state IS
	'per-period activity gaps over many customers (state of retention_agg; answers any inactivity window)';
COMMENT ON FUNCTION retention.retention_state_in(cstring, oid, int4) IS 'text input of retention_state';
COMMENT ON FUNCTION retention.retention_state_out(retention.retention_state) IS 'text output of retention_state';
COMMENT ON FUNCTION retention.retention_state_recv(internal, oid, int4) IS 'binary input of retention_state';
COMMENT ON FUNCTION retention.retention_state_send(retention.retention_state) IS 'binary output of retention_state';

CREATE FUNCTION retention.retention_agg_trans(retention.retention_state, retention.customer_activity)
	RETURNS retention.retention_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.retention_agg_trans(retention.retention_state, retention.customer_activity) IS
	'transition function of retention_agg';
CREATE FUNCTION retention.retention_combine(retention.retention_state, retention.retention_state)
	RETURNS retention.retention_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.retention_combine(retention.retention_state, retention.retention_state) IS
	'sum of two retention states (combine function of retention_agg)';
CREATE FUNCTION retention.retention_final(retention.retention_state) RETURNS retention.retention_state
	AS 'MODULE_PATHNAME', 'tri_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.retention_final(retention.retention_state) IS
	'final function of retention_agg and retention_union: the state without the empty periods left by growth';
CREATE AGGREGATE retention.retention_agg(retention.customer_activity) (
	SFUNC = retention.retention_agg_trans, STYPE = retention.retention_state,
	COMBINEFUNC = retention.retention_combine, FINALFUNC = retention.retention_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.retention_agg(retention.customer_activity) IS
	'period retention state over customers'' activities; read it with retention_table() or lifecycle_table()';
CREATE AGGREGATE retention.retention_union(retention.retention_state) (
	SFUNC = retention.retention_combine, STYPE = retention.retention_state,
	COMBINEFUNC = retention.retention_combine, FINALFUNC = retention.retention_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.retention_union(retention.retention_state) IS
	'sum of retention states (roll up states kept per segment or per shard)';

CREATE FUNCTION retention.retention_table(state retention.retention_state, inactivity int DEFAULT 1,
	convention text DEFAULT 'standard',
	OUT period retention.customer_period, OUT customers_start bigint, OUT new_customers bigint,
	OUT customers_end bigint, OUT retained bigint, OUT reactivated bigint, OUT lost bigint,
	OUT crr numeric, OUT churn_rate numeric)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.retention_table(retention.retention_state, int, text) IS
	'per period: customers at start S, new N, at end E, retained, reactivated, lost L, CRR = (E-N)/S*100, churn = L/S*100 (convention ''stripe'': L/(S+N)*100); a customer counts when active in one of the last "inactivity" periods';
CREATE FUNCTION retention.lifecycle_table(state retention.retention_state, inactivity int DEFAULT 1,
	OUT period retention.customer_period, OUT new_customers bigint, OUT returning_customers bigint,
	OUT resurrecting_customers bigint, OUT dormant_customers bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.lifecycle_table(retention.retention_state, int) IS
	'growth accounting per period: new, returning (active before and now), resurrecting (back after a lapse), dormant (lapsed this period)';

CREATE FUNCTION retention.crr(customers_start bigint, customers_end bigint, new_customers bigint) RETURNS numeric
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.crr(bigint, bigint, bigint) IS
	'customer retention rate (E - N) / S * 100, rounded to 2 decimals; NULL when S = 0';
CREATE FUNCTION retention.churn_rate(lost bigint, customers_start bigint) RETURNS numeric
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.churn_rate(bigint, bigint) IS
	'customer churn rate L / S * 100, rounded to 2 decimals; NULL when S = 0';

-- the cohort heatmap (src/heatmap.c)

CREATE FUNCTION retention.cohort_heatmap_svg(state retention.cohort_state, mode text DEFAULT 'on',
	title text DEFAULT NULL) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.cohort_heatmap_svg(retention.cohort_state, text, text) IS
	'the triangular cohort retention heatmap as a self-contained SVG document (NULL title: a default title)';
