
-- ---------------------------------------------------------------------------------------
-- Customer lifetime value: formulas, RFM summaries, fitted BTYD / sBG models, scoring.
-- Reference: docs/clv.md.
-- ---------------------------------------------------------------------------------------

-- The state of the model-fitting aggregates: distinct data patterns with weights.
CREATE TYPE retention.fit_state;

CREATE FUNCTION retention.fit_state_in(cstring) RETURNS retention.fit_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_out(retention.fit_state) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_recv(internal) RETURNS retention.fit_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_send(retention.fit_state) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE retention.fit_state (
	INPUT = retention.fit_state_in,
	OUTPUT = retention.fit_state_out,
	RECEIVE = retention.fit_state_recv,
	SEND = retention.fit_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE retention.fit_state IS
	'state of the model-fitting aggregates: distinct data patterns and their weights (text form "layout:v,...,weight;...")';
COMMENT ON FUNCTION retention.fit_state_in(cstring) IS 'text input of fit_state';
COMMENT ON FUNCTION retention.fit_state_out(retention.fit_state) IS 'canonical text output of fit_state';
COMMENT ON FUNCTION retention.fit_state_recv(internal) IS 'binary input of fit_state';
COMMENT ON FUNCTION retention.fit_state_send(retention.fit_state) IS 'binary output of fit_state';

CREATE FUNCTION retention.fit_state_rft_accum(retention.fit_state, integer, float8, float8)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_rft_accum(retention.fit_state, integer, float8, float8, bigint)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_spend_accum(retention.fit_state, integer, float8)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_spend_accum(retention.fit_state, integer, float8, bigint)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_survival_accum(retention.fit_state, integer, boolean)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_survival_accum(retention.fit_state, integer, boolean, bigint)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_discrete_accum(retention.fit_state, integer, integer, integer)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_discrete_accum(retention.fit_state, integer, integer, integer, bigint)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_combine(retention.fit_state, retention.fit_state)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.fit_state_rft_accum(retention.fit_state, integer, float8, float8) IS
	'transition of bgnbd_fit, paretonbd_fit and mbgnbd_fit';
COMMENT ON FUNCTION retention.fit_state_rft_accum(retention.fit_state, integer, float8, float8, bigint) IS
	'transition of bgnbd_fit, paretonbd_fit and mbgnbd_fit with a pattern weight';
COMMENT ON FUNCTION retention.fit_state_spend_accum(retention.fit_state, integer, float8) IS
	'transition of gammagamma_fit';
COMMENT ON FUNCTION retention.fit_state_spend_accum(retention.fit_state, integer, float8, bigint) IS
	'transition of gammagamma_fit with a pattern weight';
COMMENT ON FUNCTION retention.fit_state_survival_accum(retention.fit_state, integer, boolean) IS
	'transition of sbg_fit';
COMMENT ON FUNCTION retention.fit_state_survival_accum(retention.fit_state, integer, boolean, bigint) IS
	'transition of sbg_fit with a pattern weight';
COMMENT ON FUNCTION retention.fit_state_discrete_accum(retention.fit_state, integer, integer, integer) IS
	'transition of bgbb_fit';
COMMENT ON FUNCTION retention.fit_state_discrete_accum(retention.fit_state, integer, integer, integer, bigint) IS
	'transition of bgbb_fit with a pattern weight';
COMMENT ON FUNCTION retention.fit_state_combine(retention.fit_state, retention.fit_state) IS
	'combine function of the model-fitting aggregates';

-- Fitted models: parameters, fit statistics, standard errors.
CREATE TYPE retention.bgnbd_model AS (
	r float8, alpha float8, a float8, b float8,
	log_likelihood float8, converged boolean, status text, iterations integer,
	customers bigint, patterns integer,
	se_r float8, se_alpha float8, se_a float8, se_b float8);
CREATE TYPE retention.paretonbd_model AS (
	r float8, alpha float8, s float8, beta float8,
	log_likelihood float8, converged boolean, status text, iterations integer,
	customers bigint, patterns integer,
	se_r float8, se_alpha float8, se_s float8, se_beta float8);
CREATE TYPE retention.mbgnbd_model AS (
	r float8, alpha float8, a float8, b float8,
	log_likelihood float8, converged boolean, status text, iterations integer,
	customers bigint, patterns integer,
	se_r float8, se_alpha float8, se_a float8, se_b float8);
CREATE TYPE retention.bgbb_model AS (
	alpha float8, beta float8, gamma float8, delta float8,
	log_likelihood float8, converged boolean, status text, iterations integer,
	customers bigint, patterns integer,
	se_alpha float8, se_beta float8, se_gamma float8, se_delta float8);
CREATE TYPE retention.gammagamma_model AS (
	p float8, q float8, gamma float8,
	log_likelihood float8, converged boolean, status text, iterations integer,
	customers bigint, patterns integer,
	se_p float8, se_q float8, se_gamma float8);
CREATE TYPE retention.sbg_model AS (
	alpha float8, beta float8,
	log_likelihood float8, converged boolean, status text, iterations integer,
	customers bigint, patterns integer,
	se_alpha float8, se_beta float8);
COMMENT ON TYPE retention.bgnbd_model IS 'fitted BG/NBD model (Fader, Hardie & Lee 2005): r, alpha, a, b and fit statistics';
COMMENT ON TYPE retention.paretonbd_model IS 'fitted Pareto/NBD model (Schmittlein et al. 1987): r, alpha, s, beta and fit statistics';
COMMENT ON TYPE retention.mbgnbd_model IS 'fitted MBG/NBD model (Batislam et al. 2007): r, alpha, a, b and fit statistics';
COMMENT ON TYPE retention.bgbb_model IS 'fitted BG/BB model (Fader, Hardie & Shang 2010): alpha, beta, gamma, delta and fit statistics';
COMMENT ON TYPE retention.gammagamma_model IS 'fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005): p, q, gamma and fit statistics';
COMMENT ON TYPE retention.sbg_model IS 'fitted shifted-beta-geometric model (Fader & Hardie 2007): alpha, beta and fit statistics';

CREATE FUNCTION retention.bgnbd_fit_final(retention.fit_state) RETURNS retention.bgnbd_model
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.paretonbd_fit_final(retention.fit_state) RETURNS retention.paretonbd_model
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.mbgnbd_fit_final(retention.fit_state) RETURNS retention.mbgnbd_model
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.bgbb_fit_final(retention.fit_state) RETURNS retention.bgbb_model
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.gammagamma_fit_final(retention.fit_state) RETURNS retention.gammagamma_model
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.sbg_fit_final(retention.fit_state) RETURNS retention.sbg_model
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.bgnbd_fit_final(retention.fit_state) IS 'fits a BG/NBD model to a fit_state (final function of bgnbd_fit)';
COMMENT ON FUNCTION retention.paretonbd_fit_final(retention.fit_state) IS 'fits a Pareto/NBD model to a fit_state (final function of paretonbd_fit)';
COMMENT ON FUNCTION retention.mbgnbd_fit_final(retention.fit_state) IS 'fits an MBG/NBD model to a fit_state (final function of mbgnbd_fit)';
COMMENT ON FUNCTION retention.bgbb_fit_final(retention.fit_state) IS 'fits a BG/BB model to a fit_state (final function of bgbb_fit)';
COMMENT ON FUNCTION retention.gammagamma_fit_final(retention.fit_state) IS 'fits a Gamma-Gamma model to a fit_state (final function of gammagamma_fit)';
COMMENT ON FUNCTION retention.sbg_fit_final(retention.fit_state) IS 'fits an sBG model to a fit_state (final function of sbg_fit)';

CREATE AGGREGATE retention.bgnbd_fit(frequency integer, recency float8, t float8) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.bgnbd_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.bgnbd_fit(frequency integer, recency float8, t float8, weight bigint) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.bgnbd_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.paretonbd_fit(frequency integer, recency float8, t float8) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.paretonbd_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.paretonbd_fit(frequency integer, recency float8, t float8, weight bigint) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.paretonbd_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.mbgnbd_fit(frequency integer, recency float8, t float8) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.mbgnbd_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.mbgnbd_fit(frequency integer, recency float8, t float8, weight bigint) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.mbgnbd_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.bgbb_fit(frequency integer, recency integer, periods integer) (
	SFUNC = retention.fit_state_discrete_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.bgbb_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.bgbb_fit(frequency integer, recency integer, periods integer, weight bigint) (
	SFUNC = retention.fit_state_discrete_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.bgbb_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.gammagamma_fit(frequency integer, monetary_value float8) (
	SFUNC = retention.fit_state_spend_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.gammagamma_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.gammagamma_fit(frequency integer, monetary_value float8, weight bigint) (
	SFUNC = retention.fit_state_spend_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.gammagamma_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.sbg_fit(periods integer, churned boolean) (
	SFUNC = retention.fit_state_survival_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.sbg_fit_final,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.sbg_fit(periods integer, churned boolean, weight bigint) (
	SFUNC = retention.fit_state_survival_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, FINALFUNC = retention.sbg_fit_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.bgnbd_fit(integer, float8, float8) IS
	'fits a BG/NBD model by maximum likelihood to (frequency, recency, T) rows, one per customer';
COMMENT ON AGGREGATE retention.bgnbd_fit(integer, float8, float8, bigint) IS
	'fits a BG/NBD model to (frequency, recency, T) patterns with weights (customers per pattern)';
COMMENT ON AGGREGATE retention.paretonbd_fit(integer, float8, float8) IS
	'fits a Pareto/NBD model by maximum likelihood to (frequency, recency, T) rows, one per customer';
COMMENT ON AGGREGATE retention.paretonbd_fit(integer, float8, float8, bigint) IS
	'fits a Pareto/NBD model to (frequency, recency, T) patterns with weights';
COMMENT ON AGGREGATE retention.mbgnbd_fit(integer, float8, float8) IS
	'fits an MBG/NBD model by maximum likelihood to (frequency, recency, T) rows, one per customer';
COMMENT ON AGGREGATE retention.mbgnbd_fit(integer, float8, float8, bigint) IS
	'fits an MBG/NBD model to (frequency, recency, T) patterns with weights';
COMMENT ON AGGREGATE retention.bgbb_fit(integer, integer, integer) IS
	'fits a BG/BB model to discrete-time (frequency, recency, periods) rows, one per customer';
COMMENT ON AGGREGATE retention.bgbb_fit(integer, integer, integer, bigint) IS
	'fits a BG/BB model to discrete-time (frequency, recency, periods) patterns with weights';
COMMENT ON AGGREGATE retention.gammagamma_fit(integer, float8) IS
	'fits a Gamma-Gamma spend model to (frequency, mean repeat-purchase value) rows; frequency 0 rows are skipped';
COMMENT ON AGGREGATE retention.gammagamma_fit(integer, float8, bigint) IS
	'fits a Gamma-Gamma spend model to (frequency, mean value) patterns with weights';
COMMENT ON AGGREGATE retention.sbg_fit(integer, boolean) IS
	'fits a shifted-beta-geometric churn model to (periods, churned) rows, one per customer';
COMMENT ON AGGREGATE retention.sbg_fit(integer, boolean, bigint) IS
	'fits a shifted-beta-geometric churn model to (periods, churned) patterns with weights, e.g. a survival table';

-- Scoring.
CREATE FUNCTION retention.expected_purchases(model retention.bgnbd_model, t float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.paretonbd_model, t float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'paretonbd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.mbgnbd_model, t float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'mbgnbd_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.bgnbd_model, t float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.bgbb_model, future_periods integer, frequency integer, recency integer, periods integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgbb_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.p_alive(model retention.bgnbd_model, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.p_alive(model retention.paretonbd_model, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'paretonbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.p_alive(model retention.mbgnbd_model, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'mbgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.p_alive(model retention.bgbb_model, frequency integer, recency integer, periods integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgbb_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.bgnbd_model, n integer, t float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_prob_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_spend(model retention.gammagamma_model, frequency integer, monetary_value float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'gammagamma_expected_spend' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.clv(model retention.bgnbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.clv(model retention.paretonbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'paretonbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.clv(model retention.mbgnbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'mbgnbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.sbg_survival(model retention.sbg_model, t integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'sbg_survival' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.sbg_retention(model retention.sbg_model, t integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'sbg_retention' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.sbg_derl(model retention.sbg_model, discount_rate float8, renewals integer DEFAULT 0)
RETURNS float8 AS 'MODULE_PATHNAME', 'sbg_derl' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION retention.expected_purchases(retention.bgnbd_model, float8, integer, float8, float8) IS
	'BG/NBD: expected purchases in the next t time units of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.paretonbd_model, float8, integer, float8, float8) IS
	'Pareto/NBD: expected purchases in the next t time units of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.mbgnbd_model, float8, integer, float8, float8) IS
	'MBG/NBD: expected purchases in the next t time units of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.bgnbd_model, float8) IS
	'BG/NBD: expected repeat purchases of a new customer in their first t time units';
COMMENT ON FUNCTION retention.expected_purchases(retention.bgbb_model, integer, integer, integer, integer) IS
	'BG/BB: expected transactions in the next future_periods opportunities of a customer with (frequency, recency, periods)';
COMMENT ON FUNCTION retention.p_alive(retention.bgnbd_model, integer, float8, float8) IS
	'BG/NBD: probability that a customer with (frequency, recency, T) is still alive at T';
COMMENT ON FUNCTION retention.p_alive(retention.paretonbd_model, integer, float8, float8) IS
	'Pareto/NBD: probability that a customer with (frequency, recency, T) is still alive at T';
COMMENT ON FUNCTION retention.p_alive(retention.mbgnbd_model, integer, float8, float8) IS
	'MBG/NBD: probability that a customer with (frequency, recency, T) is still alive at T';
COMMENT ON FUNCTION retention.p_alive(retention.bgbb_model, integer, integer, integer) IS
	'BG/BB: probability that a customer with (frequency, recency, periods) is still alive after the last period';
COMMENT ON FUNCTION retention.prob_purchases(retention.bgnbd_model, integer, float8) IS
	'BG/NBD: P(X(t) = n), probability that a new customer makes exactly n repeat purchases in t time units';
COMMENT ON FUNCTION retention.expected_spend(retention.gammagamma_model, integer, float8) IS
	'Gamma-Gamma: conditional expected value per transaction of a customer with (frequency, mean repeat value)';
COMMENT ON FUNCTION retention.clv(retention.bgnbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'discounted CLV over periods periods of period_length model time units each, discount_rate per period (BG/NBD x Gamma-Gamma)';
COMMENT ON FUNCTION retention.clv(retention.paretonbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'discounted CLV over periods periods of period_length model time units each, discount_rate per period (Pareto/NBD x Gamma-Gamma)';
COMMENT ON FUNCTION retention.clv(retention.mbgnbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'discounted CLV over periods periods of period_length model time units each, discount_rate per period (MBG/NBD x Gamma-Gamma)';
COMMENT ON FUNCTION retention.sbg_survival(retention.sbg_model, integer) IS
	'sBG: share of a cohort still active after t periods, S(t)';
COMMENT ON FUNCTION retention.sbg_retention(retention.sbg_model, integer) IS
	'sBG: retention rate of period t, the share of customers active in period t-1 who renew';
COMMENT ON FUNCTION retention.sbg_derl(retention.sbg_model, float8, integer) IS
	'sBG: discounted expected residual lifetime (in payments) of a customer who has made renewals renewals';

-- Forecasts for one customer after the end of observation T: a window (T + t1, T + t2],
-- the conditional distribution of the purchases in it with a prediction interval, and CLV
-- as a schedule per period (docs/clv.md, "Forecasts").
CREATE FUNCTION retention.expected_purchases(model retention.bgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.mbgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'mbgnbd_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.paretonbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'paretonbd_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.expected_purchases(model retention.bgbb_model, from_period integer, to_period integer, frequency integer, recency integer, periods integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgbb_expected_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.bgnbd_model, n integer, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgnbd_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.mbgnbd_model, n integer, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'mbgnbd_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.paretonbd_model, n integer, t1 float8, t2 float8, frequency integer, recency float8, "T" float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'paretonbd_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.prob_purchases(model retention.bgbb_model, n integer, from_period integer, to_period integer, frequency integer, recency integer, periods integer)
RETURNS float8 AS 'MODULE_PATHNAME', 'bgbb_prob_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.bgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'bgnbd_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.mbgnbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'mbgnbd_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.paretonbd_model, t1 float8, t2 float8, frequency integer, recency float8, "T" float8,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'paretonbd_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.purchases_interval(model retention.bgbb_model, from_period integer, to_period integer, frequency integer, recency integer, periods integer,
	level float8 DEFAULT 0.9, OUT lower integer, OUT upper integer, OUT coverage float8, OUT expected float8)
RETURNS record AS 'MODULE_PATHNAME', 'bgbb_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.clv_schedule(model retention.bgnbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS TABLE (period integer, t_start float8, t_end float8, expected_purchases float8, expected_spend float8,
	expected_revenue float8, discount_factor float8, discounted_value float8, cumulative_value float8, p_alive float8)
AS 'MODULE_PATHNAME', 'bgnbd_clv_schedule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
CREATE FUNCTION retention.clv_schedule(model retention.mbgnbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS TABLE (period integer, t_start float8, t_end float8, expected_purchases float8, expected_spend float8,
	expected_revenue float8, discount_factor float8, discounted_value float8, cumulative_value float8, p_alive float8)
AS 'MODULE_PATHNAME', 'mbgnbd_clv_schedule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
CREATE FUNCTION retention.clv_schedule(model retention.paretonbd_model, spend retention.gammagamma_model,
	frequency integer, recency float8, "T" float8, monetary_value float8,
	periods integer, discount_rate float8, period_length float8)
RETURNS TABLE (period integer, t_start float8, t_end float8, expected_purchases float8, expected_spend float8,
	expected_revenue float8, discount_factor float8, discounted_value float8, cumulative_value float8, p_alive float8)
AS 'MODULE_PATHNAME', 'paretonbd_clv_schedule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION retention.expected_purchases(retention.bgnbd_model, float8, float8, integer, float8, float8) IS
	'BG/NBD: expected purchases in the window (T + t1, T + t2] of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.mbgnbd_model, float8, float8, integer, float8, float8) IS
	'MBG/NBD: expected purchases in the window (T + t1, T + t2] of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.paretonbd_model, float8, float8, integer, float8, float8) IS
	'Pareto/NBD: expected purchases in the window (T + t1, T + t2] of a customer with (frequency, recency, T)';
COMMENT ON FUNCTION retention.expected_purchases(retention.bgbb_model, integer, integer, integer, integer, integer) IS
	'BG/BB: expected transactions at opportunities periods + from_period + 1 .. periods + to_period of a customer with (frequency, recency, periods)';
COMMENT ON FUNCTION retention.prob_purchases(retention.bgnbd_model, integer, float8, float8, integer, float8, float8) IS
	'BG/NBD: probability that a customer with (frequency, recency, T) makes exactly n purchases in (T + t1, T + t2]';
COMMENT ON FUNCTION retention.prob_purchases(retention.mbgnbd_model, integer, float8, float8, integer, float8, float8) IS
	'MBG/NBD: probability that a customer with (frequency, recency, T) makes exactly n purchases in (T + t1, T + t2]';
COMMENT ON FUNCTION retention.prob_purchases(retention.paretonbd_model, integer, float8, float8, integer, float8, float8) IS
	'Pareto/NBD: probability that a customer with (frequency, recency, T) makes exactly n purchases in (T + t1, T + t2]';
COMMENT ON FUNCTION retention.prob_purchases(retention.bgbb_model, integer, integer, integer, integer, integer, integer) IS
	'BG/BB: probability that a customer with (frequency, recency, periods) makes exactly n transactions in the window of opportunities';
COMMENT ON FUNCTION retention.purchases_interval(retention.bgnbd_model, float8, float8, integer, float8, float8, float8) IS
	'BG/NBD: equal-tailed prediction interval for a customer''s purchases in (T + t1, T + t2], with its coverage and the expected purchases';
COMMENT ON FUNCTION retention.purchases_interval(retention.mbgnbd_model, float8, float8, integer, float8, float8, float8) IS
	'MBG/NBD: equal-tailed prediction interval for a customer''s purchases in (T + t1, T + t2], with its coverage and the expected purchases';
COMMENT ON FUNCTION retention.purchases_interval(retention.paretonbd_model, float8, float8, integer, float8, float8, float8) IS
	'Pareto/NBD: equal-tailed prediction interval for a customer''s purchases in (T + t1, T + t2], with its coverage and the expected purchases';
COMMENT ON FUNCTION retention.purchases_interval(retention.bgbb_model, integer, integer, integer, integer, integer, float8) IS
	'BG/BB: equal-tailed prediction interval for a customer''s transactions in the window of opportunities, with its coverage and the expected transactions';
COMMENT ON FUNCTION retention.clv_schedule(retention.bgnbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'CLV as a schedule (BG/NBD x Gamma-Gamma): per period expected purchases and revenue, discount factor, discounted value, P(alive); the discounted values add up to clv()';
COMMENT ON FUNCTION retention.clv_schedule(retention.mbgnbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'CLV as a schedule (MBG/NBD x Gamma-Gamma): per period expected purchases and revenue, discount factor, discounted value, P(alive); the discounted values add up to clv()';
COMMENT ON FUNCTION retention.clv_schedule(retention.paretonbd_model, retention.gammagamma_model, integer, float8, float8, float8, integer, float8, float8) IS
	'CLV as a schedule (Pareto/NBD x Gamma-Gamma): per period expected purchases and revenue, discount factor, discounted value, P(alive); the discounted values add up to clv()';

-- The fitting state itself, for refits and the bootstrap: aggregates that stop at the
-- fit_state (combinable like the fitting aggregates), its patterns, and resamples of it.
CREATE AGGREGATE retention.fit_state_rft(frequency integer, recency float8, t float8) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_rft(frequency integer, recency float8, t float8, weight bigint) (
	SFUNC = retention.fit_state_rft_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_discrete(frequency integer, recency integer, periods integer) (
	SFUNC = retention.fit_state_discrete_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_discrete(frequency integer, recency integer, periods integer, weight bigint) (
	SFUNC = retention.fit_state_discrete_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_spend(frequency integer, monetary_value float8) (
	SFUNC = retention.fit_state_spend_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_spend(frequency integer, monetary_value float8, weight bigint) (
	SFUNC = retention.fit_state_spend_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_survival(periods integer, churned boolean) (
	SFUNC = retention.fit_state_survival_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.fit_state_survival(periods integer, churned boolean, weight bigint) (
	SFUNC = retention.fit_state_survival_accum, STYPE = retention.fit_state,
	COMBINEFUNC = retention.fit_state_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.fit_state_rft(integer, float8, float8) IS
	'the fit_state of (frequency, recency, T) rows, as bgnbd_fit, paretonbd_fit and mbgnbd_fit build it (fit it with bgnbd_fit_final ...)';
COMMENT ON AGGREGATE retention.fit_state_rft(integer, float8, float8, bigint) IS
	'the fit_state of (frequency, recency, T) patterns with weights';
COMMENT ON AGGREGATE retention.fit_state_discrete(integer, integer, integer) IS
	'the fit_state of discrete-time (frequency, recency, periods) rows, as bgbb_fit builds it';
COMMENT ON AGGREGATE retention.fit_state_discrete(integer, integer, integer, bigint) IS
	'the fit_state of discrete-time (frequency, recency, periods) patterns with weights';
COMMENT ON AGGREGATE retention.fit_state_spend(integer, float8) IS
	'the fit_state of (frequency, mean repeat-purchase value) rows, as gammagamma_fit builds it';
COMMENT ON AGGREGATE retention.fit_state_spend(integer, float8, bigint) IS
	'the fit_state of (frequency, mean value) patterns with weights';
COMMENT ON AGGREGATE retention.fit_state_survival(integer, boolean) IS
	'the fit_state of (periods, churned) rows, as sbg_fit builds it';
COMMENT ON AGGREGATE retention.fit_state_survival(integer, boolean, bigint) IS
	'the fit_state of (periods, churned) patterns with weights';

CREATE FUNCTION retention.fit_state_patterns(state retention.fit_state)
RETURNS TABLE (frequency integer, recency float8, t float8, weight bigint)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.fit_state_resample(state retention.fit_state, seed bigint, replicate integer)
RETURNS retention.fit_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.fit_state_patterns(retention.fit_state) IS
	'the patterns of an rft or discrete fit_state with their weights (t holds the periods of discrete states)';
COMMENT ON FUNCTION retention.fit_state_resample(retention.fit_state, bigint, integer) IS
	'bootstrap replicate number replicate of seed: the state''s customers drawn with replacement, as the *_bootstrap functions draw them (replicate 0: the state itself)';

CREATE FUNCTION retention.bgnbd_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.bgnbd_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.mbgnbd_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.mbgnbd_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.paretonbd_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.paretonbd_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.bgbb_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.bgbb_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.gammagamma_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.gammagamma_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.sbg_bootstrap(state retention.fit_state, replicates integer, seed bigint)
RETURNS TABLE (replicate integer, model retention.sbg_model)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.bgnbd_bootstrap(retention.fit_state, integer, bigint) IS
	'BG/NBD fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement (1 .. replicates); the same seed gives the same rows';
COMMENT ON FUNCTION retention.mbgnbd_bootstrap(retention.fit_state, integer, bigint) IS
	'MBG/NBD fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.paretonbd_bootstrap(retention.fit_state, integer, bigint) IS
	'Pareto/NBD fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.bgbb_bootstrap(retention.fit_state, integer, bigint) IS
	'BG/BB fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.gammagamma_bootstrap(retention.fit_state, integer, bigint) IS
	'Gamma-Gamma fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';
COMMENT ON FUNCTION retention.sbg_bootstrap(retention.fit_state, integer, bigint) IS
	'sBG fitted to all the state''s customers (replicate 0) and to replicates resamples of them drawn with replacement';

-- Closed-form CLV formulas.
CREATE FUNCTION retention.clv_simple(average_order_value numeric, purchases_per_period numeric,
	retention_periods numeric, margin numeric)
RETURNS numeric AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.clv_churn(margin numeric, arpu numeric, churn_rate numeric)
RETURNS numeric AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.clv_discounted(margin numeric, retention_rate numeric, discount_rate numeric)
RETURNS numeric AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.clv_simple(numeric, numeric, numeric, numeric) IS
	'simple CLV: average order value x purchases per period x retention periods x margin (0..1)';
COMMENT ON FUNCTION retention.clv_churn(numeric, numeric, numeric) IS
	'churn-based CLV: margin (0..1) x ARPU / churn rate per period (0 < churn <= 1)';
COMMENT ON FUNCTION retention.clv_discounted(numeric, numeric, numeric) IS
	'discounted CLV: margin per period m x retention r / (1 + discount d - r)';

-- RFM summaries per customer.
CREATE TYPE retention.rfm AS (frequency integer, recency float8, t float8, monetary_value float8);
CREATE TYPE retention.rfm_holdout AS (
	frequency_cal integer, recency_cal float8, t_cal float8, monetary_value_cal float8,
	frequency_holdout integer, monetary_value_holdout float8, duration_holdout float8);
COMMENT ON TYPE retention.rfm IS
	'a customer''s RFM summary: repeat purchase periods, recency and age T in the time unit, mean repeat-period value';
COMMENT ON TYPE retention.rfm_holdout IS
	'a customer''s RFM summary of the calibration period and purchases in the holdout period';

CREATE FUNCTION retention.rfm_accum(internal, date, numeric, date)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION retention.rfm_accum(internal, date, numeric, date, text)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION retention.rfm_accum(internal, date, numeric, date, text, text)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION retention.rfm_holdout_accum(internal, date, numeric, date, date, text)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION retention.rfm_holdout_accum(internal, date, numeric, date, date, text, text)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION retention.rfm_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION retention.rfm_serialize(internal)
RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_deserialize(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_final(internal)
RETURNS retention.rfm AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION retention.rfm_holdout_final(internal)
RETURNS retention.rfm_holdout AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION retention.rfm_accum(internal, date, numeric, date) IS 'transition of rfm_agg';
COMMENT ON FUNCTION retention.rfm_accum(internal, date, numeric, date, text) IS 'transition of rfm_agg';
COMMENT ON FUNCTION retention.rfm_accum(internal, date, numeric, date, text, text) IS 'transition of rfm_agg';
COMMENT ON FUNCTION retention.rfm_holdout_accum(internal, date, numeric, date, date, text) IS 'transition of rfm_holdout_agg';
COMMENT ON FUNCTION retention.rfm_holdout_accum(internal, date, numeric, date, date, text, text) IS 'transition of rfm_holdout_agg';
COMMENT ON FUNCTION retention.rfm_combine(internal, internal) IS 'combine function of rfm_agg and rfm_holdout_agg';
COMMENT ON FUNCTION retention.rfm_serialize(internal) IS 'serialisation of the rfm_agg state';
COMMENT ON FUNCTION retention.rfm_deserialize(bytea, internal) IS 'deserialisation of the rfm_agg state';
COMMENT ON FUNCTION retention.rfm_final(internal) IS 'final function of rfm_agg';
COMMENT ON FUNCTION retention.rfm_holdout_final(internal) IS 'final function of rfm_holdout_agg';

CREATE AGGREGATE retention.rfm_agg(purchased_on date, amount numeric, observation_end date) (
	SFUNC = retention.rfm_accum, STYPE = internal, FINALFUNC = retention.rfm_final,
	COMBINEFUNC = retention.rfm_combine, SERIALFUNC = retention.rfm_serialize,
	DESERIALFUNC = retention.rfm_deserialize, FINALFUNC_MODIFY = READ_WRITE, SSPACE = 256,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.rfm_agg(purchased_on date, amount numeric, observation_end date, time_unit text) (
	SFUNC = retention.rfm_accum, STYPE = internal, FINALFUNC = retention.rfm_final,
	COMBINEFUNC = retention.rfm_combine, SERIALFUNC = retention.rfm_serialize,
	DESERIALFUNC = retention.rfm_deserialize, FINALFUNC_MODIFY = READ_WRITE, SSPACE = 256,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.rfm_agg(purchased_on date, amount numeric, observation_end date, time_unit text, period text) (
	SFUNC = retention.rfm_accum, STYPE = internal, FINALFUNC = retention.rfm_final,
	COMBINEFUNC = retention.rfm_combine, SERIALFUNC = retention.rfm_serialize,
	DESERIALFUNC = retention.rfm_deserialize, FINALFUNC_MODIFY = READ_WRITE, SSPACE = 256,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.rfm_holdout_agg(purchased_on date, amount numeric, calibration_end date, observation_end date, time_unit text) (
	SFUNC = retention.rfm_holdout_accum, STYPE = internal, FINALFUNC = retention.rfm_holdout_final,
	COMBINEFUNC = retention.rfm_combine, SERIALFUNC = retention.rfm_serialize,
	DESERIALFUNC = retention.rfm_deserialize, FINALFUNC_MODIFY = READ_WRITE, SSPACE = 256,
	PARALLEL = SAFE);
CREATE AGGREGATE retention.rfm_holdout_agg(purchased_on date, amount numeric, calibration_end date, observation_end date, time_unit text, period text) (
	SFUNC = retention.rfm_holdout_accum, STYPE = internal, FINALFUNC = retention.rfm_holdout_final,
	COMBINEFUNC = retention.rfm_combine, SERIALFUNC = retention.rfm_serialize,
	DESERIALFUNC = retention.rfm_deserialize, FINALFUNC_MODIFY = READ_WRITE, SSPACE = 256,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.rfm_agg(date, numeric, date) IS
	'a customer''s RFM summary (frequency, recency, T, monetary_value) in days, purchases grouped by day';
COMMENT ON AGGREGATE retention.rfm_agg(date, numeric, date, text) IS
	'a customer''s RFM summary with recency and T in time_unit (day, week, month), purchases grouped by day';
COMMENT ON AGGREGATE retention.rfm_agg(date, numeric, date, text, text) IS
	'a customer''s RFM summary in time_unit, purchases grouped by period (day, week, month)';
COMMENT ON AGGREGATE retention.rfm_holdout_agg(date, numeric, date, date, text) IS
	'a customer''s calibration RFM summary and holdout purchases, purchases grouped by day';
COMMENT ON AGGREGATE retention.rfm_holdout_agg(date, numeric, date, date, text, text) IS
	'a customer''s calibration RFM summary and holdout purchases, purchases grouped by period';

-- RFM scores and segments: quintile thresholds of a customer base in one aggregate, then
-- each customer's scores and segment against them (docs/clv.md, "Segments").
CREATE TYPE retention.rfm_quantile_state;
CREATE FUNCTION retention.rfm_quantile_state_in(cstring) RETURNS retention.rfm_quantile_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_state_out(retention.rfm_quantile_state) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_state_recv(internal) RETURNS retention.rfm_quantile_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_state_send(retention.rfm_quantile_state) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.rfm_quantile_state (
	INPUT = retention.rfm_quantile_state_in,
	OUTPUT = retention.rfm_quantile_state_out,
	RECEIVE = retention.rfm_quantile_state_recv,
	SEND = retention.rfm_quantile_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE retention.rfm_quantile_state IS
	'state of rfm_score_agg: the distinct recency, frequency and monetary values with their counts (text form "customers|v:c,...|...|...")';
COMMENT ON FUNCTION retention.rfm_quantile_state_in(cstring) IS 'text input of rfm_quantile_state';
COMMENT ON FUNCTION retention.rfm_quantile_state_out(retention.rfm_quantile_state) IS 'canonical text output of rfm_quantile_state';
COMMENT ON FUNCTION retention.rfm_quantile_state_recv(internal) IS 'binary input of rfm_quantile_state';
COMMENT ON FUNCTION retention.rfm_quantile_state_send(retention.rfm_quantile_state) IS 'binary output of rfm_quantile_state';
CREATE TYPE retention.rfm_scores AS (customers bigint, recency_thresholds float8[],
	frequency_thresholds float8[], monetary_thresholds float8[]);
COMMENT ON TYPE retention.rfm_scores IS
	'quintile thresholds of a customer base (rfm_score_agg), worst to best per dimension: what rfm_score and rfm_segment score customers against';
CREATE FUNCTION retention.rfm_quantile_accum(retention.rfm_quantile_state, float8, float8, float8)
RETURNS retention.rfm_quantile_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.rfm_quantile_combine(retention.rfm_quantile_state, retention.rfm_quantile_state)
RETURNS retention.rfm_quantile_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.rfm_score_final(retention.rfm_quantile_state)
RETURNS retention.rfm_scores AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.rfm_quantile_accum(retention.rfm_quantile_state, float8, float8, float8) IS 'transition of rfm_score_agg';
COMMENT ON FUNCTION retention.rfm_quantile_combine(retention.rfm_quantile_state, retention.rfm_quantile_state) IS 'combine function of rfm_score_agg';
COMMENT ON FUNCTION retention.rfm_score_final(retention.rfm_quantile_state) IS 'final function of rfm_score_agg: the quintile thresholds';
CREATE AGGREGATE retention.rfm_score_agg(recency float8, frequency float8, monetary float8) (
	SFUNC = retention.rfm_quantile_accum, STYPE = retention.rfm_quantile_state,
	COMBINEFUNC = retention.rfm_quantile_combine, FINALFUNC = retention.rfm_score_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.rfm_score_agg(float8, float8, float8) IS
	'quintile thresholds of customers'' recency (time since the last purchase), frequency and monetary value, for rfm_score and rfm_segment';
CREATE FUNCTION retention.rfm_score(scores retention.rfm_scores, recency float8, frequency float8, monetary float8,
	OUT r integer, OUT f integer, OUT m integer, OUT segment text)
RETURNS record AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_segment(scores retention.rfm_scores, recency float8, frequency float8, monetary float8)
RETURNS text AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.rfm_segment(r integer, f integer, m integer)
RETURNS text AS 'MODULE_PATHNAME', 'rfm_segment_of' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.rfm_score(retention.rfm_scores, float8, float8, float8) IS
	'a customer''s recency, frequency and monetary scores (1-5, quintiles of the population in scores) and segment';
COMMENT ON FUNCTION retention.rfm_segment(retention.rfm_scores, float8, float8, float8) IS
	'a customer''s named segment (Champions, Loyal, ..., Lost) from their scores against the population''s quintiles';
COMMENT ON FUNCTION retention.rfm_segment(integer, integer, integer) IS
	'the named segment of recency, frequency and monetary scores (each 1-5)';

-- At risk: why a scored customer needs attention, comparing this scoring with the last.
CREATE FUNCTION retention.at_risk(p_alive float8, previous_p_alive float8, expected float8,
	previous_expected float8, value float8, p_alive_drop float8 DEFAULT 0.2,
	expected_drop float8 DEFAULT 0.5, high_value float8 DEFAULT NULL, low_p_alive float8 DEFAULT 0.3)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
	WHEN previous_p_alive - p_alive > p_alive_drop THEN 'p_alive fell'
	WHEN previous_expected > 0 AND (previous_expected - expected) / previous_expected > expected_drop
		THEN 'expected purchases fell'
	WHEN value >= high_value AND p_alive < low_p_alive THEN 'valuable and likely gone'
END;
COMMENT ON FUNCTION retention.at_risk(float8, float8, float8, float8, float8, float8, float8, float8, float8) IS
	'why a customer is at risk, or NULL: P(alive) fell by more than p_alive_drop since the previous scoring, expected purchases fell by more than the share expected_drop, or value is at least high_value with P(alive) below low_p_alive';

-- Holdout evaluation: how a fitted purchase model predicts customers' holdout purchases
-- (docs/clv.md, "Evaluation").
CREATE TYPE retention.holdout_state;
CREATE FUNCTION retention.holdout_state_in(cstring) RETURNS retention.holdout_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_state_out(retention.holdout_state) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_state_recv(internal) RETURNS retention.holdout_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_state_send(retention.holdout_state) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.holdout_state (
	INPUT = retention.holdout_state_in,
	OUTPUT = retention.holdout_state_out,
	RECEIVE = retention.holdout_state_recv,
	SEND = retention.holdout_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE retention.holdout_state IS
	'state of holdout_agg: the model, totals, errors and moments of predicted against actual holdout purchases, per calibration frequency';
COMMENT ON FUNCTION retention.holdout_state_in(cstring) IS 'text input of holdout_state';
COMMENT ON FUNCTION retention.holdout_state_out(retention.holdout_state) IS 'canonical text output of holdout_state';
COMMENT ON FUNCTION retention.holdout_state_recv(internal) IS 'binary input of holdout_state';
COMMENT ON FUNCTION retention.holdout_state_send(retention.holdout_state) IS 'binary output of holdout_state';

CREATE FUNCTION retention.holdout_bgnbd_accum(retention.holdout_state, retention.bgnbd_model, integer, float8, float8, float8, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_bgnbd_rfm_accum(retention.holdout_state, retention.bgnbd_model, retention.rfm_holdout)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_mbgnbd_accum(retention.holdout_state, retention.mbgnbd_model, integer, float8, float8, float8, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_mbgnbd_rfm_accum(retention.holdout_state, retention.mbgnbd_model, retention.rfm_holdout)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_paretonbd_accum(retention.holdout_state, retention.paretonbd_model, integer, float8, float8, float8, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_paretonbd_rfm_accum(retention.holdout_state, retention.paretonbd_model, retention.rfm_holdout)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_bgbb_accum(retention.holdout_state, retention.bgbb_model, integer, integer, integer, integer, integer)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.holdout_combine(retention.holdout_state, retention.holdout_state)
RETURNS retention.holdout_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.holdout_bgnbd_accum(retention.holdout_state, retention.bgnbd_model, integer, float8, float8, float8, integer) IS
	'transition of holdout_agg (BG/NBD)';
COMMENT ON FUNCTION retention.holdout_bgnbd_rfm_accum(retention.holdout_state, retention.bgnbd_model, retention.rfm_holdout) IS
	'transition of holdout_agg (BG/NBD, rfm_holdout rows)';
COMMENT ON FUNCTION retention.holdout_mbgnbd_accum(retention.holdout_state, retention.mbgnbd_model, integer, float8, float8, float8, integer) IS
	'transition of holdout_agg (MBG/NBD)';
COMMENT ON FUNCTION retention.holdout_mbgnbd_rfm_accum(retention.holdout_state, retention.mbgnbd_model, retention.rfm_holdout) IS
	'transition of holdout_agg (MBG/NBD, rfm_holdout rows)';
COMMENT ON FUNCTION retention.holdout_paretonbd_accum(retention.holdout_state, retention.paretonbd_model, integer, float8, float8, float8, integer) IS
	'transition of holdout_agg (Pareto/NBD)';
COMMENT ON FUNCTION retention.holdout_paretonbd_rfm_accum(retention.holdout_state, retention.paretonbd_model, retention.rfm_holdout) IS
	'transition of holdout_agg (Pareto/NBD, rfm_holdout rows)';
COMMENT ON FUNCTION retention.holdout_bgbb_accum(retention.holdout_state, retention.bgbb_model, integer, integer, integer, integer, integer) IS
	'transition of holdout_agg (BG/BB)';
COMMENT ON FUNCTION retention.holdout_combine(retention.holdout_state, retention.holdout_state) IS
	'combine function of holdout_agg';

CREATE AGGREGATE retention.holdout_agg(model retention.bgnbd_model, frequency integer, recency float8, "T" float8, duration float8, actual integer) (
	SFUNC = retention.holdout_bgnbd_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.holdout_agg(model retention.bgnbd_model, customer retention.rfm_holdout) (
	SFUNC = retention.holdout_bgnbd_rfm_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.bgnbd_model, integer, float8, float8, float8, integer) IS
	'BG/NBD holdout evaluation: customers'' calibration (frequency, recency, T), holdout length and actual holdout purchases against the model''s expected purchases';
COMMENT ON AGGREGATE retention.holdout_agg(retention.bgnbd_model, retention.rfm_holdout) IS
	'BG/NBD holdout evaluation of rfm_holdout_agg rows';
CREATE AGGREGATE retention.holdout_agg(model retention.mbgnbd_model, frequency integer, recency float8, "T" float8, duration float8, actual integer) (
	SFUNC = retention.holdout_mbgnbd_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.holdout_agg(model retention.mbgnbd_model, customer retention.rfm_holdout) (
	SFUNC = retention.holdout_mbgnbd_rfm_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.mbgnbd_model, integer, float8, float8, float8, integer) IS
	'MBG/NBD holdout evaluation: customers'' calibration (frequency, recency, T), holdout length and actual holdout purchases against the model''s expected purchases';
COMMENT ON AGGREGATE retention.holdout_agg(retention.mbgnbd_model, retention.rfm_holdout) IS
	'MBG/NBD holdout evaluation of rfm_holdout_agg rows';
CREATE AGGREGATE retention.holdout_agg(model retention.paretonbd_model, frequency integer, recency float8, "T" float8, duration float8, actual integer) (
	SFUNC = retention.holdout_paretonbd_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
CREATE AGGREGATE retention.holdout_agg(model retention.paretonbd_model, customer retention.rfm_holdout) (
	SFUNC = retention.holdout_paretonbd_rfm_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.paretonbd_model, integer, float8, float8, float8, integer) IS
	'Pareto/NBD holdout evaluation: customers'' calibration (frequency, recency, T), holdout length and actual holdout purchases against the model''s expected purchases';
COMMENT ON AGGREGATE retention.holdout_agg(retention.paretonbd_model, retention.rfm_holdout) IS
	'Pareto/NBD holdout evaluation of rfm_holdout_agg rows';
CREATE AGGREGATE retention.holdout_agg(model retention.bgbb_model, frequency integer, recency integer, periods integer, future_periods integer, actual integer) (
	SFUNC = retention.holdout_bgbb_accum, STYPE = retention.holdout_state,
	COMBINEFUNC = retention.holdout_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.holdout_agg(retention.bgbb_model, integer, integer, integer, integer, integer) IS
	'BG/BB holdout evaluation: calibration (frequency, recency, periods), holdout opportunities and actual holdout transactions against the expected';

CREATE FUNCTION retention.holdout_metrics(state retention.holdout_state, OUT customers bigint, OUT actual bigint,
	OUT predicted float8, OUT mae float8, OUT rmse float8, OUT bias float8, OUT correlation float8)
RETURNS record AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.holdout_table(state retention.holdout_state, max_frequency integer DEFAULT 7)
RETURNS TABLE (frequency integer, and_more boolean, customers bigint, actual bigint, predicted float8,
	mean_actual float8, mean_predicted float8)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION retention.holdout_metrics(retention.holdout_state) IS
	'customers, actual and predicted holdout purchases in total, mean absolute error, root mean squared error, bias (mean predicted - actual) and correlation of a holdout evaluation';
COMMENT ON FUNCTION retention.holdout_table(retention.holdout_state, integer) IS
	'calibration against holdout purchases by calibration frequency 0 .. max_frequency - 1 and max_frequency and more: customers, actual and predicted totals and means';

-- Tracking: expected against actual repeat purchases per period of a population that
-- joined over time (Fader, Hardie & Lee 2005, Figure 1).
CREATE TYPE retention.tracking_state;
CREATE FUNCTION retention.tracking_state_in(cstring) RETURNS retention.tracking_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.tracking_state_out(retention.tracking_state) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.tracking_state_recv(internal) RETURNS retention.tracking_state
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.tracking_state_send(retention.tracking_state) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE retention.tracking_state (
	INPUT = retention.tracking_state_in,
	OUTPUT = retention.tracking_state_out,
	RECEIVE = retention.tracking_state_recv,
	SEND = retention.tracking_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE retention.tracking_state IS
	'state of tracking_agg: customers'' first purchases (births) and repeat purchase periods per period (text form "first period:births,repeats;...")';
COMMENT ON FUNCTION retention.tracking_state_in(cstring) IS 'text input of tracking_state';
COMMENT ON FUNCTION retention.tracking_state_out(retention.tracking_state) IS 'text output of tracking_state';
COMMENT ON FUNCTION retention.tracking_state_recv(internal) IS 'binary input of tracking_state';
COMMENT ON FUNCTION retention.tracking_state_send(retention.tracking_state) IS 'binary output of tracking_state';
CREATE FUNCTION retention.tracking_accum(retention.tracking_state, retention.customer_activity)
RETURNS retention.tracking_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_combine(retention.tracking_state, retention.tracking_state)
RETURNS retention.tracking_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_accum(retention.tracking_state, retention.customer_activity) IS 'transition of tracking_agg';
COMMENT ON FUNCTION retention.tracking_combine(retention.tracking_state, retention.tracking_state) IS 'combine function of tracking_agg';
CREATE AGGREGATE retention.tracking_agg(activity retention.customer_activity) (
	SFUNC = retention.tracking_accum, STYPE = retention.tracking_state,
	COMBINEFUNC = retention.tracking_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.tracking_agg(retention.customer_activity) IS
	'tracking state of customers'' activities (one per customer, by day, week, month, ...): first purchases and repeat purchase periods per period';

CREATE FUNCTION retention.tracking_table(model retention.bgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'bgnbd_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.bgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'bgnbd_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.bgnbd_model, retention.tracking_state, text, integer, date, integer) IS
	'BG/NBD tracking: expected and actual repeat purchases per report period (report_periods periods of the activities each, model time in time_unit), cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.bgnbd_model, retention.tracking_state, text, integer, date, integer, boolean, text) IS
	'BG/NBD tracking as an SVG line chart: actual and expected repeat purchases per period or cumulative, the calibration end marked';
CREATE FUNCTION retention.tracking_table(model retention.mbgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'mbgnbd_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.mbgnbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mbgnbd_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.mbgnbd_model, retention.tracking_state, text, integer, date, integer) IS
	'MBG/NBD tracking: expected and actual repeat purchases per report period (report_periods periods of the activities each, model time in time_unit), cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.mbgnbd_model, retention.tracking_state, text, integer, date, integer, boolean, text) IS
	'MBG/NBD tracking as an SVG line chart: actual and expected repeat purchases per period or cumulative, the calibration end marked';
CREATE FUNCTION retention.tracking_table(model retention.paretonbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'paretonbd_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.paretonbd_model, state retention.tracking_state,
	time_unit text DEFAULT 'week', report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'paretonbd_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.paretonbd_model, retention.tracking_state, text, integer, date, integer) IS
	'Pareto/NBD tracking: expected and actual repeat purchases per report period (report_periods periods of the activities each, model time in time_unit), cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.paretonbd_model, retention.tracking_state, text, integer, date, integer, boolean, text) IS
	'Pareto/NBD tracking as an SVG line chart: actual and expected repeat purchases per period or cumulative, the calibration end marked';
CREATE FUNCTION retention.tracking_table(model retention.bgbb_model, state retention.tracking_state,
	report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, period_end date, expected float8, actual bigint,
	cumulative_expected float8, cumulative_actual bigint, holdout boolean)
AS 'MODULE_PATHNAME', 'bgbb_tracking_table' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention.tracking_svg(model retention.bgbb_model, state retention.tracking_state,
	report_periods integer DEFAULT 1, calibration_end date DEFAULT NULL, "rows" integer DEFAULT NULL,
	cumulative boolean DEFAULT false, title text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'bgbb_tracking_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.tracking_table(retention.bgbb_model, retention.tracking_state, integer, date, integer) IS
	'BG/BB tracking: expected and actual transactions per report period, one opportunity per period of the activities, cumulative, and whether after calibration_end';
COMMENT ON FUNCTION retention.tracking_svg(retention.bgbb_model, retention.tracking_state, integer, date, integer, boolean, text) IS
	'BG/BB tracking as an SVG line chart: actual and expected transactions per period or cumulative, the calibration end marked';

-- sBG from a survival table: active[1] customers at the start, active[k + 1] still active
-- after k periods.
CREATE FUNCTION retention.sbg_fit_survival(active bigint[])
RETURNS retention.sbg_model LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n int := coalesce(array_length(active, 1), 0);
	model retention.sbg_model;
BEGIN
	IF array_ndims(active) > 1 THEN
		RAISE EXCEPTION 'a survival table must be a one-dimensional array'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('The array given has %s dimensions.', array_ndims(active)),
			      HINT = 'Give the customers active at the start, then after each period: ARRAY[1000, 631, 468, ...].';
	END IF;
	IF n < 2 THEN
		RAISE EXCEPTION 'a survival table needs at least two periods'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('The array given has %s elements.', n),
			      HINT = 'Give the customers active at the start, then after each period: ARRAY[1000, 631, 468, ...].';
	END IF;
	FOR i IN 1 .. n LOOP
		IF active[i] IS NULL OR active[i] < 0 OR (i > 1 AND active[i] > active[i - 1]) THEN
			RAISE EXCEPTION 'a survival table must be non-negative and never increase'
				USING ERRCODE = 'invalid_parameter_value',
				      DETAIL = format('Element %s is %s after %s.', i, coalesce(active[i]::text, 'NULL'),
				                      CASE WHEN i > 1 THEN active[i - 1]::text ELSE 'the start' END),
				      HINT = 'Each element counts the customers of the cohort still active after that many periods.';
		END IF;
	END LOOP;
	model := (SELECT retention.sbg_fit(p, c, w)
	          FROM (SELECT k - 1 AS p, true AS c, active[k - 1] - active[k] AS w FROM generate_series(2, n) k
	                UNION ALL
	                SELECT n - 1, false, active[n]) s
	          WHERE w > 0);
	RETURN model;
END
$$;
COMMENT ON FUNCTION retention.sbg_fit_survival(bigint[]) IS
	'fits an sBG model to a survival table: customers active at the start and after each period';
