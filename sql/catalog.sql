--
-- Catalog hygiene for every object the extension installs: each one is commented, and
-- each C function declares its volatility and parallel safety deliberately.
--
-- objects without a comment (must be empty)
SELECT pg_describe_object(d.classid, d.objid, 0) AS uncommented
FROM pg_depend d
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_retention'
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL
  -- PostgreSQL 17 and later also list the types made along with another object as members:
  -- array types and tables' row types, described by the object they belong to
  AND NOT (d.classid = 'pg_type'::regclass AND d.objid IN
           (SELECT typarray FROM pg_type UNION ALL
            SELECT reltype FROM pg_class WHERE relkind <> 'c' UNION ALL
            SELECT rngmultitypid FROM pg_range))
ORDER BY 1;

-- C functions that are not PARALLEL SAFE (each must be there on purpose: new_rows scans a
-- table with its own heap scan; the others run a job's or program's SQL as its owner and write)
SELECT p.oid::regprocedure AS not_parallel_safe, p.provolatile, p.proparallel
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_retention'
WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AND p.proparallel <> 's'
ORDER BY p.oid::regprocedure::text;

-- SQL and PL/pgSQL functions whose name lookups depend on the caller's search_path (must be
-- empty): each either pins search_path to the catalog and the extension's schema, or has a
-- body bound at creation (RETURN / BEGIN ATOMIC), whose names were resolved then
SELECT p.oid::regprocedure AS unpinned, p.proconfig
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_retention'
WHERE p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
  AND p.prosqlbody IS NULL
  AND NOT coalesce(p.proconfig && ARRAY['search_path=pg_catalog, retention, pg_temp', 'search_path=pg_catalog, pg_temp'], false)
ORDER BY p.oid::regprocedure::text;

-- functions PUBLIC may execute that take an internal argument (must be empty: support
-- functions are called by PostgreSQL without an EXECUTE check)
SELECT p.oid::regprocedure AS internal_but_public
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_retention'
WHERE 'internal'::regtype = ANY (p.proargtypes::oid[])
  AND has_function_privilege('public', p.oid, 'execute')
ORDER BY p.oid::regprocedure::text;

-- SECURITY DEFINER functions: only the run bookkeeping, not executable by PUBLIC, pinned
SELECT p.oid::regprocedure AS security_definer, has_function_privilege('public', p.oid, 'execute') AS public_may_run,
       p.proconfig
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_retention'
WHERE p.prosecdef
ORDER BY p.oid::regprocedure::text;

-- internal functions and who may execute them: the ones PUBLIC may execute are called by
-- the owner's refresh or the caller's API functions and give nothing beyond what the
-- caller could do itself (row level security, privilege checks, text building); the others
-- are reached only from C (src/job_run.c) or the scheduler
SELECT p.oid::regprocedure AS internal_function, has_function_privilege('public', p.oid, 'execute') AS public_may_run
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_retention'
WHERE obj_description(p.oid, 'pg_proc') LIKE 'internal:%'
  AND NOT 'internal'::regtype = ANY (p.proargtypes::oid[])
ORDER BY 2, p.oid::regprocedure::text;

-- the operators work without the extension's schema on the search path
SHOW search_path;
SELECT '2026-03'::retention.customer_period = '2026-03' AS eq,
       '2026-03'::retention.customer_period < '2026-04' AS lt,
       '2026-03'::retention.customer_period + 1 AS plus,
       '2026-03'::retention.customer_period - '2026-01'::retention.customer_period AS minus,
       '2026-03'::retention.customer_period @> date '2026-03-31' AS contains,
       (SELECT max(p) FROM unnest(ARRAY['2026-03', '2026-05']::retention.customer_period[]) p) AS max;
