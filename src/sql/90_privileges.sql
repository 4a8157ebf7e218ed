
-- Privileges of the extension's internals. A function with an internal argument is a support
-- function (aggregate transition and final functions, planner support): PostgreSQL calls it
-- without checking EXECUTE (aggregates check their owner's), and no user needs to call it.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace OPERATOR(pg_catalog.=) 'retention'::regnamespace
			   AND 'internal'::regtype OPERATOR(pg_catalog.=) ANY (p.proargtypes::oid[])
			 ORDER BY 1 LOOP
		EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END $$;
