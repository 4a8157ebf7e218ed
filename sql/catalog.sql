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
-- table with its own heap scan)
SELECT p.oid::regprocedure AS not_parallel_safe, p.provolatile, p.proparallel
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_retention'
WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AND p.proparallel <> 's'
ORDER BY 1::text;

-- the operators work without the extension's schema on the search path
SHOW search_path;
SELECT '2026-03'::retention.customer_period = '2026-03' AS eq,
       '2026-03'::retention.customer_period < '2026-04' AS lt,
       '2026-03'::retention.customer_period + 1 AS plus,
       '2026-03'::retention.customer_period - '2026-01'::retention.customer_period AS minus,
       '2026-03'::retention.customer_period @> date '2026-03-31' AS contains,
       (SELECT max(p) FROM unnest(ARRAY['2026-03', '2026-05']::retention.customer_period[]) p) AS max;
