-- pg_retention 0.1.0 -> 0.2.0 (ALTER EXTENSION pg_retention UPDATE TO '0.2.0')
-- Written by hand: each change of src/sql/ since 0.1.0, in the order it was made. The
-- upgrade test checks that an updated 0.1.0 install has the same catalog as a fresh 0.2.0.
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.2.0'" to load this file. \quit
