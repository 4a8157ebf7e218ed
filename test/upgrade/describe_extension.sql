-- Describes everything pg_retention puts into a database's catalog, one fact a line, sorted,
-- with names instead of OIDs, so that two databases' descriptions can be compared with diff:
-- an updated install (0.1.0 + ALTER EXTENSION UPDATE) against a fresh one of the same version
-- (test/t/010_extension_update.pl). Run with psql -X -At -f. Each line reads
--     <object> | <what> | <value>
-- and a multi-line value (a function's definition) continues on lines "<object> | <what> +| ...".
--
-- Covered: the extension (version, configuration tables and their dump conditions); its
-- schema (owner, privileges, comment); every member object with its comment, owner,
-- privileges and initial privileges (pg_init_privs, which pg_dump compares against), and by
-- kind: functions and procedures (full definition: arguments, result, language, body,
-- volatility, strictness, parallel safety, cost, rows, security, settings), aggregates (every
-- support function, state type, initial value, sort operator, final-function modes), types
-- (every pg_type property, composite attributes, enum labels), operators (function,
-- commutator, negator, estimators, merge/hash), operator classes and families (every operator
-- and support function), casts, tables, sequences, views and indexes (columns in order with
-- types, defaults, identity, not-null, collation, comments and privileges; constraints;
-- indexes; triggers; row level security and its policies; sequence parameters and owning
-- column; view definitions; options), the dependencies of members on other objects, and
-- objects in the extension's schema that are not members.
\set QUIET on
SET search_path = pg_catalog;	-- every name outside pg_catalog comes out schema-qualified
SET extra_float_digits = 3;

CREATE TEMP TABLE facts (obj text, what text, val text);

CREATE TEMP VIEW ext AS SELECT * FROM pg_extension WHERE extname = 'pg_retention';
CREATE TEMP VIEW members AS
SELECT d.classid, d.objid, pg_describe_object(d.classid, d.objid, 0) AS obj
FROM pg_depend d, ext
WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e';

-- the extension
INSERT INTO facts
SELECT 'extension pg_retention', 'version', extversion FROM ext
UNION ALL SELECT 'extension pg_retention', 'relocatable', extrelocatable::text FROM ext
UNION ALL SELECT 'extension pg_retention', 'schema', extnamespace::regnamespace::text FROM ext
UNION ALL SELECT 'extension pg_retention', 'owner', pg_get_userbyid(extowner)::text FROM ext
UNION ALL
SELECT 'extension pg_retention', 'configuration table',
       format('%s, dump condition %L', c.cfg::regclass, coalesce(ext.extcondition[c.i], '(none)'))
FROM ext, unnest(ext.extconfig) WITH ORDINALITY c(cfg, i)
UNION ALL SELECT 'extension pg_retention', 'comment', obj_description(oid, 'pg_extension') FROM ext;

-- the schema (not a member: PostgreSQL makes it for the control file's schema setting)
INSERT INTO facts
SELECT 'schema ' || nspname, 'owner', pg_get_userbyid(nspowner)::text FROM pg_namespace n, ext WHERE n.oid = ext.extnamespace
UNION ALL SELECT 'schema ' || nspname, 'privileges', nspacl::text FROM pg_namespace n, ext WHERE n.oid = ext.extnamespace
UNION ALL SELECT 'schema ' || nspname, 'comment', obj_description(n.oid, 'pg_namespace') FROM pg_namespace n, ext WHERE n.oid = ext.extnamespace;

-- every member: that it is one, its comment, its initial privileges
INSERT INTO facts
SELECT obj, 'member', 'yes' FROM members
UNION ALL
SELECT m.obj, 'comment', obj_description(m.objid, c.relname) FROM members m JOIN pg_class c ON c.oid = m.classid
UNION ALL
SELECT m.obj, CASE WHEN i.objsubid = 0 THEN 'initial privileges'
                   ELSE format('initial privileges of column %s', (SELECT attname FROM pg_attribute WHERE attrelid = i.objoid AND attnum = i.objsubid)) END,
       format('%s (%s)', i.initprivs, CASE i.privtype WHEN 'e' THEN 'set by the extension script' ELSE 'set by initdb' END)
FROM members m JOIN pg_init_privs i ON i.classoid = m.classid AND i.objoid = m.objid;

-- functions, procedures and aggregates
INSERT INTO facts
SELECT m.obj, 'owner', pg_get_userbyid(p.proowner)::text FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
UNION ALL
SELECT m.obj, 'privileges', coalesce(p.proacl::text, '(default)') FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
UNION ALL
SELECT m.obj, 'definition', pg_get_functiondef(p.oid)
FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid WHERE p.prokind <> 'a'
UNION ALL
SELECT m.obj, 'aggregate', format(
	'(%s) returns %s; kind %s, direct arguments %s; state %s (space %s) by %s, initially %L; final %s (extra %s, modify %s); combine %s; serial %s / %s; moving state %s (space %s) by %s, inverse %s, initially %L; moving final %s (extra %s, modify %s); sort operator %s; %s, %s, strict %s',
	pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), a.aggkind, a.aggnumdirectargs,
	a.aggtranstype::regtype, a.aggtransspace, a.aggtransfn::regprocedure, a.agginitval,
	nullif(a.aggfinalfn, 0)::regprocedure, a.aggfinalextra, a.aggfinalmodify,
	nullif(a.aggcombinefn, 0)::regprocedure, nullif(a.aggserialfn, 0)::regprocedure, nullif(a.aggdeserialfn, 0)::regprocedure,
	nullif(a.aggmtranstype, 0)::regtype, a.aggmtransspace, nullif(a.aggmtransfn, 0)::regprocedure,
	nullif(a.aggminvtransfn, 0)::regprocedure, a.aggminitval,
	nullif(a.aggmfinalfn, 0)::regprocedure, a.aggmfinalextra, a.aggmfinalmodify,
	nullif(a.aggsortop, 0)::regoperator,
	CASE p.proparallel WHEN 's' THEN 'parallel safe' WHEN 'r' THEN 'parallel restricted' ELSE 'parallel unsafe' END,
	CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END, p.proisstrict)
FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
JOIN pg_aggregate a ON a.aggfnoid = p.oid;

-- types
INSERT INTO facts
SELECT m.obj, 'owner', pg_get_userbyid(t.typowner)::text FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
UNION ALL
SELECT m.obj, 'privileges', coalesce(t.typacl::text, '(default)') FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
UNION ALL
SELECT m.obj, 'type', format(
	'%s; length %s, by value %s, alignment %s, storage %s; category %s, preferred %s, delimiter %s; input %s, output %s, receive %s, send %s, typmod in %s, typmod out %s, analyze %s, subscript %s; element %s, array %s, relation %s; base %s, typmod %s, dimensions %s, not null %s, collation %s, default %L',
	CASE t.typtype WHEN 'b' THEN 'base' WHEN 'c' THEN 'composite' WHEN 'd' THEN 'domain' WHEN 'e' THEN 'enum'
	               WHEN 'p' THEN 'pseudo' WHEN 'r' THEN 'range' WHEN 'm' THEN 'multirange' END,
	t.typlen, t.typbyval, t.typalign, t.typstorage, t.typcategory, t.typispreferred, t.typdelim,
	t.typinput::regprocedure, t.typoutput::regprocedure, nullif(t.typreceive, 0)::regprocedure,
	nullif(t.typsend, 0)::regprocedure, nullif(t.typmodin, 0)::regprocedure, nullif(t.typmodout, 0)::regprocedure,
	nullif(t.typanalyze, 0)::regprocedure, nullif(t.typsubscript, 0)::regprocedure,
	nullif(t.typelem, 0)::regtype, nullif(t.typarray, 0)::regtype, nullif(t.typrelid, 0)::regclass,
	nullif(t.typbasetype, 0)::regtype, t.typtypmod, t.typndims, t.typnotnull,
	(SELECT collname FROM pg_collation WHERE oid = t.typcollation), t.typdefault)
FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
UNION ALL
SELECT m.obj, format('attribute %s', lpad((row_number() OVER (PARTITION BY t.oid ORDER BY a.attnum))::text, 3, '0')),
       format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
                   THEN ' COLLATE ' || (SELECT quote_ident(collname) FROM pg_collation WHERE oid = a.attcollation) ELSE '' END)
FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid AND t.typtype = 'c'
JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT m.obj, 'enum labels', string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM members m JOIN pg_enum e ON m.classid = 'pg_type'::regclass AND e.enumtypid = m.objid GROUP BY m.obj;

-- operators, operator classes and families, casts
INSERT INTO facts
SELECT m.obj, 'owner', pg_get_userbyid(o.oprowner)::text FROM members m JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid
UNION ALL
SELECT m.obj, 'operator', format('%s %s(%s, %s) returns %s by %s; commutator %s, negator %s, restrict %s, join %s, merges %s, hashes %s',
	o.oprnamespace::regnamespace, o.oprname, nullif(o.oprleft, 0)::regtype, nullif(o.oprright, 0)::regtype,
	o.oprresult::regtype, o.oprcode::regprocedure, nullif(o.oprcom, 0)::regoperator, nullif(o.oprnegate, 0)::regoperator,
	nullif(o.oprrest, 0)::regprocedure, nullif(o.oprjoin, 0)::regprocedure, o.oprcanmerge, o.oprcanhash)
FROM members m JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid
UNION ALL
SELECT m.obj, 'operator class', format('for %s using %s, family %s, default %s, storage %s',
	c.opcintype::regtype, am.amname, (SELECT format('%s.%s', opfnamespace::regnamespace, opfname) FROM pg_opfamily WHERE oid = c.opcfamily),
	c.opcdefault, nullif(c.opckeytype, 0)::regtype)
FROM members m JOIN pg_opclass c ON m.classid = 'pg_opclass'::regclass AND c.oid = m.objid JOIN pg_am am ON am.oid = c.opcmethod
UNION ALL
SELECT m.obj, format('operator %s(%s, %s)', ao.amopstrategy, ao.amoplefttype::regtype, ao.amoprighttype::regtype),
       format('%s, %s%s', ao.amopopr::regoperator, CASE ao.amoppurpose WHEN 's' THEN 'search' ELSE 'ordering' END,
              CASE WHEN ao.amopsortfamily <> 0 THEN ', sort family ' || ao.amopsortfamily::text ELSE '' END)
FROM members m JOIN pg_amop ao ON m.classid = 'pg_opfamily'::regclass AND ao.amopfamily = m.objid
UNION ALL
SELECT m.obj, format('function %s(%s, %s)', ap.amprocnum, ap.amproclefttype::regtype, ap.amprocrighttype::regtype),
       ap.amproc::regprocedure::text
FROM members m JOIN pg_amproc ap ON m.classid = 'pg_opfamily'::regclass AND ap.amprocfamily = m.objid
UNION ALL
SELECT m.obj, 'cast', format('%s to %s by %s, %s, %s', c.castsource::regtype, c.casttarget::regtype,
	CASE c.castmethod WHEN 'f' THEN c.castfunc::regprocedure::text WHEN 'i' THEN 'input/output' ELSE 'binary coercion' END,
	CASE c.castcontext WHEN 'e' THEN 'explicit' WHEN 'a' THEN 'on assignment' ELSE 'implicit' END, c.castmethod)
FROM members m JOIN pg_cast c ON m.classid = 'pg_cast'::regclass AND c.oid = m.objid;

-- tables, sequences, views, indexes
CREATE TEMP VIEW rels AS
SELECT m.obj, c.* FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid;
INSERT INTO facts
SELECT obj, 'owner', pg_get_userbyid(relowner)::text FROM rels
UNION ALL SELECT obj, 'privileges', coalesce(relacl::text, '(default)') FROM rels
UNION ALL SELECT obj, 'kind', format('relkind %s, persistence %s, options %s, access method %s, replica identity %s, row level security %s, forced %s',
	relkind, relpersistence, reloptions, (SELECT amname FROM pg_am WHERE oid = relam), relreplident, relrowsecurity, relforcerowsecurity) FROM rels
UNION ALL
SELECT r.obj, format('column %s', lpad((row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum))::text, 3, '0')),
       format('%I %s%s%s%s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
              CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END,
              CASE WHEN a.attgenerated <> '' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(ad.adbin, ad.adrelid) || ') STORED'
                   WHEN ad.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid) ELSE '' END,
              CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
                   THEN ' COLLATE ' || (SELECT quote_ident(collname) FROM pg_collation WHERE oid = a.attcollation) ELSE '' END,
              CASE WHEN a.attacl IS NOT NULL THEN ' privileges ' || a.attacl::text ELSE '' END,
              coalesce(' -- ' || col_description(r.oid, a.attnum), ''))
FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT r.obj, 'constraint ' || con.conname, pg_get_constraintdef(con.oid)
FROM rels r JOIN pg_constraint con ON con.conrelid = r.oid
UNION ALL
SELECT r.obj, 'index ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM rels r JOIN pg_index i ON i.indrelid = r.oid
UNION ALL
SELECT r.obj, 'trigger ' || t.tgname, pg_get_triggerdef(t.oid) || format(' (enabled %s)', t.tgenabled)
FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
UNION ALL
SELECT r.obj, 'policy ' || p.polname, format('%s FOR %s TO %s USING (%s) WITH CHECK (%s)',
	CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
	CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
	(SELECT string_agg(CASE WHEN rid = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(rid)::text END, ', ' ORDER BY 1) FROM unnest(p.polroles) rid),
	pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
FROM rels r JOIN pg_policy p ON p.polrelid = r.oid
UNION ALL
SELECT r.obj, 'rule ' || rw.rulename, pg_get_ruledef(rw.oid)
FROM rels r JOIN pg_rewrite rw ON rw.ev_class = r.oid AND rw.rulename <> '_RETURN'
UNION ALL
SELECT r.obj, 'view', pg_get_viewdef(r.oid) FROM rels r WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT r.obj, 'index', pg_get_indexdef(r.oid) FROM rels r WHERE r.relkind IN ('i', 'I')
UNION ALL
SELECT r.obj, 'sequence', format('%s start %s increment %s min %s max %s cache %s cycle %s',
	s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
UNION ALL
SELECT r.obj, 'owned by', format('%s.%I', d.refobjid::regclass, a.attname)
FROM rels r JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = r.oid
	AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE r.relkind = 'S';

-- what the members depend on (other than the extension), e.g. a function on a type
INSERT INTO facts
SELECT m.obj, 'depends on', format('%s (%s)', pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), d.deptype)
FROM members m JOIN pg_depend d ON d.classid = m.classid AND d.objid = m.objid AND d.objsubid = 0
WHERE d.deptype <> 'e' AND d.refobjid >= 16384;	-- not on built-in objects

-- objects in the extension's schema that are not members
INSERT INTO facts
SELECT 'schema ' || e.extnamespace::regnamespace::text, 'holds a non-member', x.obj
FROM ext e, LATERAL (
	SELECT pg_describe_object('pg_class'::regclass, c.oid, 0) AS obj, c.oid, 'pg_class'::regclass AS cls FROM pg_class c WHERE c.relnamespace = e.extnamespace
	UNION ALL SELECT pg_describe_object('pg_proc'::regclass, p.oid, 0), p.oid, 'pg_proc'::regclass FROM pg_proc p WHERE p.pronamespace = e.extnamespace
	UNION ALL SELECT pg_describe_object('pg_type'::regclass, t.oid, 0), t.oid, 'pg_type'::regclass FROM pg_type t WHERE t.typnamespace = e.extnamespace
	UNION ALL SELECT pg_describe_object('pg_operator'::regclass, o.oid, 0), o.oid, 'pg_operator'::regclass FROM pg_operator o WHERE o.oprnamespace = e.extnamespace
) x
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = x.cls AND d.objid = x.oid AND d.deptype IN ('e', 'i', 'a'));

-- one line per fact, multi-line values continued with "+|"
SELECT CASE WHEN l.n = 1 THEN format('%s | %s | %s', f.obj, f.what, l.line)
            ELSE format('%s | %s +| %s', f.obj, f.what, l.line) END
FROM facts f, LATERAL regexp_split_to_table(coalesce(f.val, '(null)'), E'\n') WITH ORDINALITY l(line, n)
ORDER BY f.obj COLLATE "C", f.what COLLATE "C", f.val COLLATE "C", l.n;
