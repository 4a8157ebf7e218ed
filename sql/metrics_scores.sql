--
-- nps_agg and csat_agg: the hand-worked examples of docs/metrics.md, agreement with plain SQL,
-- parallel plans, and every user-facing error (scores outside their scale, mixed scales, NULLs).
--
SET search_path = retention, public;

-- NPS: 10 answers: 9, 10, 10, 9, 9 (promoters), 7, 8 (passives), 0, 3, 6 (detractors): (5 - 3) / 10 = 20 %
CREATE TEMP TABLE answers (id int, score int);
INSERT INTO answers VALUES (1, 9), (2, 10), (3, 10), (4, 9), (5, 9), (6, 7), (7, 8), (8, 0), (9, 3), (10, 6);
SELECT (nps_agg(score)).* FROM answers;
-- the same in plain SQL
SELECT count(*) FILTER (WHERE score >= 9) AS promoters, count(*) FILTER (WHERE score <= 6) AS detractors,
       round(100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*), 2) AS nps
FROM answers;
-- NULL answers are skipped; no answers give NULL
SELECT (nps_agg(score)).* FROM (SELECT score FROM answers UNION ALL SELECT NULL) s;
SELECT nps_agg(score) IS NULL AS no_answers FROM answers WHERE false;
-- per group, and the state itself (a score histogram)
SELECT id % 2 AS grp, nps_agg(score) FROM answers GROUP BY 1 ORDER BY 1;
SELECT nps_trans(nps_trans(NULL, 9), 3) AS histogram;

-- CSAT on a 1-5 scale: 4 and 5 are satisfied: 3 of 5
SELECT (csat_agg(score, 5)).* FROM (VALUES (5), (4), (4), (2), (1)) v(score);
-- on a 1-10 scale: 9 and 10
SELECT (csat_agg(score, 10)).* FROM (VALUES (10), (9), (8), (8)) v(score);

-- CES is the mean of the effort scores: plain avg() does it (docs/metrics.md)
SELECT count(*) AS responses, round(avg(score), 2) AS ces FROM (VALUES (2), (3), (5), (1)) v(score);

-- parallel plans equal serial ones
CREATE TABLE nps_par AS SELECT i, (i * 7919) % 11 AS score FROM generate_series(1, 20000) i;
ALTER TABLE nps_par SET (parallel_workers = 2);
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS SELECT nps_agg(score) AS n, csat_agg(score + 1, 11) AS c FROM nps_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT nps_agg(score), csat_agg(score + 1, 11) FROM nps_par;
SELECT nps_agg(score) = (SELECT n FROM serial) AS nps_same, csat_agg(score + 1, 11) = (SELECT c FROM serial) AS csat_same
FROM nps_par;
SELECT (n).* FROM serial;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
DROP TABLE nps_par;

-- errors
SELECT nps_agg(score) FROM (VALUES (9), (11)) v(score);
SELECT nps_agg(score) FROM (VALUES (-1)) v(score);
SELECT csat_agg(score, 5) FROM (VALUES (6)) v(score);
SELECT csat_agg(score, 5) FROM (VALUES (0)) v(score);
SELECT csat_agg(score, s) FROM (VALUES (3, 5), (3, 7)) v(score, s);
SELECT csat_agg(score, NULL) FROM (VALUES (3)) v(score);
SELECT csat_agg(score, 2) FROM (VALUES (1)) v(score);
SELECT csat_agg(score, 101) FROM (VALUES (1)) v(score);
SELECT score_hist_combine('{0,10,1,0,0,0,0,0,0,0,0,0,0}', '{1,5,1,0,0,0,0}');
SELECT nps_trans('{0,10,1}', 3);
SELECT nps_trans('{1,5,1,0,0,0,0}', 3);
SELECT nps_trans('{0,10,1,0,0,0,0,0,0,0,0,0,-1}', 3);
SELECT score_hist_combine(NULL, '{1,5,1,0,0,0}');
