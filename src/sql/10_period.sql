
-- ===========================================================================
-- customer_period: a calendar reporting period of one kind (src/period.c)
-- ===========================================================================

CREATE TYPE retention.customer_period;

CREATE FUNCTION retention.customer_period_in(cstring) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_period_out(retention.customer_period) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_period_recv(internal) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_period_send(retention.customer_period) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE retention.customer_period (
	INPUT = retention.customer_period_in,
	OUTPUT = retention.customer_period_out,
	RECEIVE = retention.customer_period_recv,
	SEND = retention.customer_period_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE retention.customer_period IS
	'a calendar reporting period of one kind: day, ISO week, month, quarter, half, year, fiscal or retail 4-5-4 period';

COMMENT ON FUNCTION retention.customer_period_in(cstring) IS 'text input of customer_period';
COMMENT ON FUNCTION retention.customer_period_out(retention.customer_period) IS 'canonical text output of customer_period';
COMMENT ON FUNCTION retention.customer_period_recv(internal) IS 'binary input of customer_period';
COMMENT ON FUNCTION retention.customer_period_send(retention.customer_period) IS 'binary output of customer_period';

-- constructors
CREATE FUNCTION retention.customer_period(date, kind text) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME', 'customer_period_from_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period(date, text) IS
	'the period of the given kind that contains the date';
CREATE FUNCTION retention.customer_period(timestamp, kind text) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME', 'customer_period_from_timestamp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period(timestamp, text) IS
	'the period of the given kind that contains the timestamp''s date';
CREATE FUNCTION retention.customer_period(timestamptz, kind text) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME', 'customer_period_from_timestamptz' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period(timestamptz, text) IS
	'the period of the given kind that contains the timestamp''s date in the session time zone of the node that evaluates it (under Citus a worker''s: prefer the form with a time zone)';
CREATE FUNCTION retention.customer_period(timestamptz, kind text, tz text) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME', 'customer_period_from_timestamptz_zone' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period(timestamptz, text, text) IS
	'the period of the given kind that contains the timestamp''s date in the given time zone';
CREATE FUNCTION retention.local_date(timestamptz, tz text) RETURNS date
	AS 'MODULE_PATHNAME', 'local_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.local_date(timestamptz, text) IS
	'the calendar date of an instant in the given time zone, as (ts AT TIME ZONE tz)::date but with the zone looked up once per query; the same on every node';

-- comparison
CREATE FUNCTION retention.customer_period_lt(retention.customer_period, retention.customer_period) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_le(retention.customer_period, retention.customer_period) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_eq(retention.customer_period, retention.customer_period) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_ne(retention.customer_period, retention.customer_period) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_ge(retention.customer_period, retention.customer_period) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_gt(retention.customer_period, retention.customer_period) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_cmp(retention.customer_period, retention.customer_period) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_sortsupport(internal) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_period_hash(retention.customer_period) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION retention.customer_period_hash_extended(retention.customer_period, int8) RETURNS int8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

COMMENT ON FUNCTION retention.customer_period_lt(retention.customer_period, retention.customer_period) IS 'implementation of < operator';
COMMENT ON FUNCTION retention.customer_period_le(retention.customer_period, retention.customer_period) IS 'implementation of <= operator';
COMMENT ON FUNCTION retention.customer_period_eq(retention.customer_period, retention.customer_period) IS 'implementation of = operator';
COMMENT ON FUNCTION retention.customer_period_ne(retention.customer_period, retention.customer_period) IS 'implementation of <> operator';
COMMENT ON FUNCTION retention.customer_period_ge(retention.customer_period, retention.customer_period) IS 'implementation of >= operator';
COMMENT ON FUNCTION retention.customer_period_gt(retention.customer_period, retention.customer_period) IS 'implementation of > operator';
COMMENT ON FUNCTION retention.customer_period_cmp(retention.customer_period, retention.customer_period) IS 'btree comparison: by kind, then by time';
COMMENT ON FUNCTION retention.customer_period_sortsupport(internal) IS 'btree sort support';
COMMENT ON FUNCTION retention.customer_period_hash(retention.customer_period) IS 'hash opclass support';
COMMENT ON FUNCTION retention.customer_period_hash_extended(retention.customer_period, int8) IS 'seeded hash opclass support';

-- The operators (and min/max) live in pg_catalog, which is always on the search path, so
-- that `p = '2026-03'`, `p + 1` or `min(p)` work without schema-qualifying the operator;
-- their functions stay in schema retention. They are members of the extension and go with it.
CREATE OPERATOR pg_catalog.< (
	LEFTARG = retention.customer_period, RIGHTARG = retention.customer_period,
	FUNCTION = retention.customer_period_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = retention.customer_period, RIGHTARG = retention.customer_period,
	FUNCTION = retention.customer_period_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR pg_catalog.= (
	LEFTARG = retention.customer_period, RIGHTARG = retention.customer_period,
	FUNCTION = retention.customer_period_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = retention.customer_period, RIGHTARG = retention.customer_period,
	FUNCTION = retention.customer_period_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = retention.customer_period, RIGHTARG = retention.customer_period,
	FUNCTION = retention.customer_period_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = retention.customer_period, RIGHTARG = retention.customer_period,
	FUNCTION = retention.customer_period_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

COMMENT ON OPERATOR pg_catalog.< (retention.customer_period, retention.customer_period) IS 'earlier than (periods order by kind, then by time)';
COMMENT ON OPERATOR pg_catalog.<= (retention.customer_period, retention.customer_period) IS 'earlier than or the same period';
COMMENT ON OPERATOR pg_catalog.= (retention.customer_period, retention.customer_period) IS 'the same period';
COMMENT ON OPERATOR pg_catalog.<> (retention.customer_period, retention.customer_period) IS 'not the same period';
COMMENT ON OPERATOR pg_catalog.>= (retention.customer_period, retention.customer_period) IS 'later than or the same period';
COMMENT ON OPERATOR pg_catalog.> (retention.customer_period, retention.customer_period) IS 'later than';

CREATE OPERATOR CLASS retention.customer_period_ops
	DEFAULT FOR TYPE retention.customer_period USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 retention.customer_period_cmp(retention.customer_period, retention.customer_period),
	FUNCTION 2 retention.customer_period_sortsupport(internal),
	FUNCTION 4 btequalimage(oid);
COMMENT ON OPERATOR CLASS retention.customer_period_ops USING btree IS
	'btree ordering of customer_period: by kind, then by time';
COMMENT ON OPERATOR FAMILY retention.customer_period_ops USING btree IS
	'btree ordering of customer_period: by kind, then by time';

CREATE OPERATOR CLASS retention.customer_period_hash_ops
	DEFAULT FOR TYPE retention.customer_period USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 retention.customer_period_hash(retention.customer_period),
	FUNCTION 2 retention.customer_period_hash_extended(retention.customer_period, int8);
COMMENT ON OPERATOR CLASS retention.customer_period_hash_ops USING hash IS
	'hashing of customer_period';
COMMENT ON OPERATOR FAMILY retention.customer_period_hash_ops USING hash IS
	'hashing of customer_period';

-- min and max
CREATE FUNCTION retention.customer_period_smaller(retention.customer_period, retention.customer_period)
	RETURNS retention.customer_period
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period_smaller(retention.customer_period, retention.customer_period) IS
	'the earlier of two periods';
CREATE FUNCTION retention.customer_period_larger(retention.customer_period, retention.customer_period)
	RETURNS retention.customer_period
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period_larger(retention.customer_period, retention.customer_period) IS
	'the later of two periods';
CREATE AGGREGATE pg_catalog.min(retention.customer_period) (
	SFUNC = retention.customer_period_smaller, STYPE = retention.customer_period,
	COMBINEFUNC = retention.customer_period_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_catalog.min(retention.customer_period) IS 'the earliest period';
CREATE AGGREGATE pg_catalog.max(retention.customer_period) (
	SFUNC = retention.customer_period_larger, STYPE = retention.customer_period,
	COMBINEFUNC = retention.customer_period_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_catalog.max(retention.customer_period) IS 'the latest period';

-- arithmetic
CREATE FUNCTION retention.customer_period_pl_int(retention.customer_period, int4) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.int_pl_customer_period(int4, retention.customer_period) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_period_mi_int(retention.customer_period, int4) RETURNS retention.customer_period
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention.customer_period_mi(retention.customer_period, retention.customer_period) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period_pl_int(retention.customer_period, int4) IS 'the period n periods later';
COMMENT ON FUNCTION retention.int_pl_customer_period(int4, retention.customer_period) IS 'the period n periods later';
COMMENT ON FUNCTION retention.customer_period_mi_int(retention.customer_period, int4) IS 'the period n periods earlier';
COMMENT ON FUNCTION retention.customer_period_mi(retention.customer_period, retention.customer_period) IS
	'number of periods between two periods of the same kind';

CREATE OPERATOR pg_catalog.+ (
	LEFTARG = retention.customer_period, RIGHTARG = int4,
	FUNCTION = retention.customer_period_pl_int, COMMUTATOR = OPERATOR(pg_catalog.+)
);
CREATE OPERATOR pg_catalog.+ (
	LEFTARG = int4, RIGHTARG = retention.customer_period,
	FUNCTION = retention.int_pl_customer_period, COMMUTATOR = OPERATOR(pg_catalog.+)
);
CREATE OPERATOR pg_catalog.- (
	LEFTARG = retention.customer_period, RIGHTARG = int4,
	FUNCTION = retention.customer_period_mi_int
);
CREATE OPERATOR pg_catalog.- (
	LEFTARG = retention.customer_period, RIGHTARG = retention.customer_period,
	FUNCTION = retention.customer_period_mi
);
COMMENT ON OPERATOR pg_catalog.+ (retention.customer_period, int4) IS 'the period n periods later';
COMMENT ON OPERATOR pg_catalog.+ (int4, retention.customer_period) IS 'the period n periods later';
COMMENT ON OPERATOR pg_catalog.- (retention.customer_period, int4) IS 'the period n periods earlier';
COMMENT ON OPERATOR pg_catalog.- (retention.customer_period, retention.customer_period) IS
	'number of periods between two periods of the same kind';

-- accessors
CREATE FUNCTION retention.start_date(retention.customer_period) RETURNS date
	AS 'MODULE_PATHNAME', 'customer_period_start_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.start_date(retention.customer_period) IS 'first day of the period';
CREATE FUNCTION retention.end_date(retention.customer_period) RETURNS date
	AS 'MODULE_PATHNAME', 'customer_period_end_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.end_date(retention.customer_period) IS 'first day after the period (exclusive end)';
CREATE FUNCTION retention.kind(retention.customer_period) RETURNS text
	AS 'MODULE_PATHNAME', 'customer_period_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.kind(retention.customer_period) IS 'the period''s kind, as the constructors accept it';

CREATE FUNCTION retention.customer_period_to_daterange(retention.customer_period) RETURNS daterange
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period_to_daterange(retention.customer_period) IS
	'the period as [start_date, end_date)';
CREATE CAST (retention.customer_period AS daterange)
	WITH FUNCTION retention.customer_period_to_daterange(retention.customer_period);
COMMENT ON CAST (retention.customer_period AS daterange) IS 'the period as [start_date, end_date)';

-- containment of a date
CREATE FUNCTION retention.customer_period_contains_date(retention.customer_period, date) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.customer_period_contains_date(retention.customer_period, date) IS
	'implementation of @> operator';
CREATE FUNCTION retention.date_contained_by_customer_period(date, retention.customer_period) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention.date_contained_by_customer_period(date, retention.customer_period) IS
	'implementation of <@ operator';
CREATE OPERATOR pg_catalog.@> (
	LEFTARG = retention.customer_period, RIGHTARG = date,
	FUNCTION = retention.customer_period_contains_date,
	COMMUTATOR = OPERATOR(pg_catalog.<@),
	RESTRICT = contsel, JOIN = contjoinsel
);
CREATE OPERATOR pg_catalog.<@ (
	LEFTARG = date, RIGHTARG = retention.customer_period,
	FUNCTION = retention.date_contained_by_customer_period,
	COMMUTATOR = OPERATOR(pg_catalog.@>),
	RESTRICT = contsel, JOIN = contjoinsel
);
COMMENT ON OPERATOR pg_catalog.@> (retention.customer_period, date) IS 'does the period contain the date?';
COMMENT ON OPERATOR pg_catalog.<@ (date, retention.customer_period) IS 'is the date inside the period?';

-- series
CREATE FUNCTION retention.periods("from" retention.customer_period, "to" retention.customer_period)
	RETURNS SETOF retention.customer_period
	AS 'MODULE_PATHNAME', 'customer_period_series' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION retention.periods(retention.customer_period, retention.customer_period) IS
	'every period from "from" to "to" inclusive, in order (both of one kind)';

-- text casts (explicit ones, so they are listed and documented; they use the I/O functions)
CREATE CAST (retention.customer_period AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS retention.customer_period) WITH INOUT;
COMMENT ON CAST (retention.customer_period AS text) IS 'canonical text of the period';
COMMENT ON CAST (text AS retention.customer_period) IS 'parses the canonical text of a period';
