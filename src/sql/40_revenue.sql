-- revenue_state, revenue_agg, revenue_table, cohort_nrr_table (src/revenue.c, src/revenue_series.c);
-- subscription_span, span_state, span_agg, span_table (src/span.c)

CREATE TYPE retention.revenue_state;
CREATE FUNCTION retention.revenue_state_in(cstring, oid, int4) RETURNS retention.revenue_state
	AS 'MODULE_PATHNAME', 'series_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.revenue_state_out(retention.revenue_state) RETURNS cstring
	AS 'MODULE_PATHNAME', 'series_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.revenue_state_recv(internal, oid, int4) RETURNS retention.revenue_state
	AS 'MODULE_PATHNAME', 'series_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.revenue_state_send(retention.revenue_state) RETURNS bytea
	AS 'MODULE_PATHNAME', 'series_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.revenue_state (
	INPUT = retention.revenue_state_in, OUTPUT = retention.revenue_state_out,
	RECEIVE = retention.revenue_state_recv, SEND = retention.revenue_state_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);
COMMENT ON TYPE retention.revenue_state IS
	'per-period MRR and MRR movements over many customers (state of revenue_agg; size independent of the number of customers)';
COMMENT ON FUNCTION retention.revenue_state_in(cstring, oid, int4) IS 'text input of revenue_state';
COMMENT ON FUNCTION retention.revenue_state_out(retention.revenue_state) IS 'text output of revenue_state';
COMMENT ON FUNCTION retention.revenue_state_recv(internal, oid, int4) IS 'binary input of revenue_state';
COMMENT ON FUNCTION retention.revenue_state_send(retention.revenue_state) IS 'binary output of revenue_state';

CREATE FUNCTION retention.revenue_agg_trans(retention.revenue_state, retention.customer_activity)
	RETURNS retention.revenue_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.revenue_agg_trans(retention.revenue_state, retention.customer_activity) IS
	'transition function of revenue_agg';
CREATE FUNCTION retention.revenue_combine(retention.revenue_state, retention.revenue_state)
	RETURNS retention.revenue_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.revenue_combine(retention.revenue_state, retention.revenue_state) IS
	'sum of two revenue states (combine function of revenue_agg)';
CREATE FUNCTION retention.revenue_final(retention.revenue_state) RETURNS retention.revenue_state
	AS 'MODULE_PATHNAME', 'series_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.revenue_final(retention.revenue_state) IS
	'final function of revenue_agg and revenue_union: the state without the empty periods left by growth';
CREATE AGGREGATE retention.revenue_agg(retention.customer_activity) (
	SFUNC = retention.revenue_agg_trans, STYPE = retention.revenue_state,
	COMBINEFUNC = retention.revenue_combine, FINALFUNC = retention.revenue_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.revenue_agg(retention.customer_activity) IS
	'MRR movement state over customers'' activities (per-period revenue = MRR); read it with revenue_table()';
CREATE FUNCTION retention.revenue_map_final(retention.activity_map) RETURNS retention.revenue_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.revenue_map_final(retention.activity_map) IS
	'final function of the one-pass revenue_agg: the revenue state of all customers in the map';
CREATE AGGREGATE retention.revenue_agg(customer_id bigint, period retention.customer_period, mrr numeric) (
	SFUNC = retention.activity_map_trans, STYPE = retention.activity_map,
	COMBINEFUNC = retention.activity_map_combine, FINALFUNC = retention.revenue_map_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.revenue_agg(bigint, retention.customer_period, numeric) IS
	'one-pass MRR movement state straight from (customer_id, period, mrr) rows, no GROUP BY needed';
CREATE AGGREGATE retention.revenue_union(retention.revenue_state) (
	SFUNC = retention.revenue_combine, STYPE = retention.revenue_state,
	COMBINEFUNC = retention.revenue_combine, FINALFUNC = retention.revenue_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.revenue_union(retention.revenue_state) IS
	'sum of revenue states (roll up states kept per segment or per shard)';

CREATE FUNCTION retention.revenue_table(state retention.revenue_state,
	OUT period retention.customer_period, OUT mrr_start numeric, OUT new_mrr numeric,
	OUT expansion_mrr numeric, OUT contraction_mrr numeric, OUT churned_mrr numeric,
	OUT reactivation_mrr numeric, OUT mrr_end numeric,
	OUT customers_start bigint, OUT new_customers bigint, OUT expansion_customers bigint,
	OUT contraction_customers bigint, OUT churned_customers bigint, OUT reactivated_customers bigint,
	OUT customers_end bigint,
	OUT retained_mrr numeric, OUT net_retained_mrr numeric, OUT mrr_gained numeric, OUT mrr_lost numeric,
	OUT gross_revenue_churn numeric, OUT net_revenue_churn numeric, OUT grr numeric, OUT nrr numeric,
	OUT quick_ratio numeric)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.revenue_table(retention.revenue_state) IS
	'per period: MRR at start and end, new/expansion/contraction/churned/reactivation MRR and customers, gross and net revenue churn, GRR, NRR (percent of MRR at start) and quick ratio, with their numerators';

CREATE FUNCTION retention.cohort_nrr_table(state retention.cohort_state,
	OUT cohort retention.customer_period, OUT age int, OUT cohort_size bigint, OUT customers bigint,
	OUT base_revenue numeric, OUT revenue numeric, OUT nrr numeric)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.cohort_nrr_table(retention.cohort_state) IS
	'cohort net revenue retention: a cohort''s revenue at each age over its revenue at age 0, in percent';

CREATE FUNCTION retention.subscription_span(start_on date, end_on date DEFAULT NULL) RETURNS daterange
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.subscription_span(date, date) IS
	'the days [start_on, end_on) of one subscription as a daterange (NULL end: still running); errors on a NULL start or an end before the start';

CREATE TYPE retention.span_state;
CREATE FUNCTION retention.span_state_in(cstring, oid, int4) RETURNS retention.span_state
	AS 'MODULE_PATHNAME', 'series_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.span_state_out(retention.span_state) RETURNS cstring
	AS 'MODULE_PATHNAME', 'series_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.span_state_recv(internal, oid, int4) RETURNS retention.span_state
	AS 'MODULE_PATHNAME', 'series_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.span_state_send(retention.span_state) RETURNS bytea
	AS 'MODULE_PATHNAME', 'series_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.span_state (
	INPUT = retention.span_state_in, OUTPUT = retention.span_state_out,
	RECEIVE = retention.span_state_recv, SEND = retention.span_state_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);
COMMENT ON TYPE retention.span_state IS
	'per-period subscriber counts and movements over many customers'' subscription spans (state of span_agg)';
COMMENT ON FUNCTION retention.span_state_in(cstring, oid, int4) IS 'text input of span_state';
COMMENT ON FUNCTION retention.span_state_out(retention.span_state) IS 'text output of span_state';
COMMENT ON FUNCTION retention.span_state_recv(internal, oid, int4) IS 'binary input of span_state';
COMMENT ON FUNCTION retention.span_state_send(retention.span_state) IS 'binary output of span_state';

CREATE FUNCTION retention.span_agg_trans(retention.span_state, datemultirange, text)
	RETURNS retention.span_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.span_agg_trans(retention.span_state, datemultirange, text) IS
	'transition function of span_agg';
CREATE FUNCTION retention.span_combine(retention.span_state, retention.span_state)
	RETURNS retention.span_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.span_combine(retention.span_state, retention.span_state) IS
	'sum of two span states (combine function of span_agg)';
CREATE FUNCTION retention.span_final(retention.span_state) RETURNS retention.span_state
	AS 'MODULE_PATHNAME', 'series_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.span_final(retention.span_state) IS
	'final function of span_agg and span_union: the state without the empty periods left by growth';
CREATE AGGREGATE retention.span_agg(spans datemultirange, kind text) (
	SFUNC = retention.span_agg_trans, STYPE = retention.span_state,
	COMBINEFUNC = retention.span_combine, FINALFUNC = retention.span_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.span_agg(datemultirange, text) IS
	'subscriber state over customers'' subscribed days (one multirange per customer, e.g. range_agg(subscription_span(start, end))); read it with span_table()';
CREATE AGGREGATE retention.span_union(retention.span_state) (
	SFUNC = retention.span_combine, STYPE = retention.span_state,
	COMBINEFUNC = retention.span_combine, FINALFUNC = retention.span_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.span_union(retention.span_state) IS
	'sum of span states (roll up states kept per segment or per shard)';

CREATE FUNCTION retention.span_table(state retention.span_state, convention text DEFAULT 'standard',
	OUT period retention.customer_period, OUT customers_start bigint, OUT new_customers bigint,
	OUT customers_end bigint, OUT retained bigint, OUT reactivated bigint, OUT lost bigint,
	OUT churned_customers bigint, OUT churn_events bigint, OUT new_lost bigint, OUT churned_back bigint, OUT crr numeric,
	OUT churn_numerator bigint, OUT churn_denominator bigint, OUT churn_rate numeric,
	OUT convention_used text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.span_table(retention.span_state, text) IS
	'per period: subscribers at its start S and end E, new N, retained, reactivated, lost L, CRR = (E-N)/S*100 and churn by convention: standard L/S (L: at start, not at end), chartmogul churned customers without join-and-leave and churn-and-back /S, stripe subscription ends/(S+N)';
