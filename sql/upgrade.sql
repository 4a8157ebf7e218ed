-- The extension installs at its default version, and every version it can be updated to
-- is reachable: 0.1.0 updates to 0.2.0.
SELECT extname, extversion, extrelocatable, extnamespace::regnamespace
FROM pg_extension WHERE extname = 'pg_retention';
SELECT name, default_version FROM pg_available_extensions WHERE name = 'pg_retention';
SELECT source, target, path FROM pg_extension_update_paths('pg_retention') WHERE path IS NOT NULL
ORDER BY 1, 2;
-- dropping removes every member object (the schema stays: PostgreSQL creates it for the
-- control file's schema setting and does not make it a member), and re-creating works
DROP EXTENSION pg_retention;
SELECT count(*) AS leftover_objects
FROM pg_depend d JOIN pg_namespace n ON n.oid = d.refobjid
WHERE d.refclassid = 'pg_namespace'::regclass AND n.nspname = 'retention';
CREATE EXTENSION pg_retention;
SELECT extversion FROM pg_extension WHERE extname = 'pg_retention';
-- the released 0.1.0 installs and updates to the default version
DROP EXTENSION pg_retention;
CREATE EXTENSION pg_retention VERSION '0.1.0';
ALTER EXTENSION pg_retention UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_retention';
