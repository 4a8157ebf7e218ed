-- Survey score aggregates: nps_agg and csat_agg (src/metrics.c). The other customer metrics
-- (repeat purchase rate, purchase frequency, AOV, ...) are plain SQL: see docs/metrics.md.

CREATE TYPE retention.nps_result AS (promoters bigint, passives bigint, detractors bigint,
	responses bigint, nps numeric);
COMMENT ON TYPE retention.nps_result IS
	'Net Promoter Score with its counts: nps = (promoters - detractors) / responses * 100';
CREATE TYPE retention.csat_result AS (satisfied bigint, responses bigint, csat numeric, scale_max int);
COMMENT ON TYPE retention.csat_result IS
	'customer satisfaction: csat = satisfied (top two scores) / responses * 100';

CREATE FUNCTION retention.nps_trans(bigint[], int) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.nps_trans(bigint[], int) IS
	'transition function of nps_agg: counts a 0-10 score in the histogram {0, 10, count(0), ..., count(10)}';
CREATE FUNCTION retention.csat_trans(bigint[], int, int) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.csat_trans(bigint[], int, int) IS
	'transition function of csat_agg: counts a 1..scale_max score in the histogram {1, scale_max, count(1), ...}';
CREATE FUNCTION retention.score_hist_combine(bigint[], bigint[]) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention.score_hist_combine(bigint[], bigint[]) IS
	'sum of two score histograms of one scale (combine function of nps_agg and csat_agg)';

CREATE FUNCTION retention.nps_final(h bigint[]) RETURNS retention.nps_result
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN (SELECT ROW(p, h[11] + h[10], d, r, round((p - d) * 100.0 / r, 2))::retention.nps_result
	        FROM (SELECT h[12] + h[13] AS p,
	                     (SELECT sum(x) FROM unnest(h[3:9]) x)::bigint AS d,
	                     (SELECT sum(x) FROM unnest(h[3:13]) x)::bigint AS r) s);
COMMENT ON FUNCTION retention.nps_final(bigint[]) IS
	'final function of nps_agg: promoters (9-10), passives (7-8), detractors (0-6), responses and NPS';
CREATE FUNCTION retention.csat_final(h bigint[]) RETURNS retention.csat_result
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN (SELECT ROW(s, r, round(s * 100.0 / r, 2), h[2]::int)::retention.csat_result
	        FROM (SELECT h[array_length(h, 1) - 1] + h[array_length(h, 1)] AS s,
	                     (SELECT sum(x) FROM unnest(h[3:]) x)::bigint AS r) s);
COMMENT ON FUNCTION retention.csat_final(bigint[]) IS
	'final function of csat_agg: satisfied (top two scores), responses, CSAT and the scale';

CREATE AGGREGATE retention.nps_agg(score int) (
	SFUNC = retention.nps_trans, STYPE = bigint[],
	COMBINEFUNC = retention.score_hist_combine, FINALFUNC = retention.nps_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.nps_agg(int) IS
	'Net Promoter Score of 0-10 answers with its counts: % promoters (9-10) - % detractors (0-6); NULL answers are skipped';
CREATE AGGREGATE retention.csat_agg(score int, scale_max int) (
	SFUNC = retention.csat_trans, STYPE = bigint[],
	COMBINEFUNC = retention.score_hist_combine, FINALFUNC = retention.csat_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention.csat_agg(int, int) IS
	'customer satisfaction score: % of answers in the top two scores of the 1..scale_max scale; NULL answers are skipped';
