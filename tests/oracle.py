"""The oracle that judges the differ, independent of schemashift's own inspector.

`catalog_snapshot(url)` reads a database's catalogs with plain SQL and PostgreSQL's own `pg_get_*def`
functions into a plain dict: {section: {object key: {attribute: value}}}. Objects are keyed by name,
never by OID; column order inside a table is ignored (a diff can only append columns), nothing else is.
`assert_same_catalog(a, b)` fails with a readable list of differences.

`roundtrip(server, a_db, b_db)` is the project's rule for one diff: apply `diff(A, B)` to a copy of A,
then (1) diffing again must give nothing and (2) the catalogs must be equal. `check_both` runs it in
both directions.

Not compared: tablespaces, foreign servers/wrappers, casts, languages, operator classes and families,
text search objects, database-level settings; extension-owned objects, system schemas and the
`schemashift_history` table are left out.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import traceback
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql as pgsql

HISTORY_TABLE = "schemashift_history"
SYSTEM_SCHEMA_RE = r"^(pg_catalog|information_schema|pg_toast.*|pg_temp_.*)$"

# A namespace filter usable as `{NS_OK.format(n="n")}`: not a system schema, inside the filters.
NS_OK = """(
    {n}.nspname !~ %(system_re)s
    AND (%(schemas)s::text[] IS NULL OR {n}.nspname = ANY(%(schemas)s::text[]))
    AND NOT ({n}.nspname = ANY(%(exclude)s::text[]))
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                    AND d.objid = {n}.oid AND d.deptype = 'e'))"""


def _not_ext(catalog: str, oid: str) -> str:
    """SQL: the object is not a member of an extension."""
    return (
        f"NOT EXISTS (SELECT 1 FROM pg_depend xd WHERE xd.classid = '{catalog}'::regclass "
        f"AND xd.objid = {oid} AND xd.deptype = 'e')"
    )


def _acl(column: str, kind: str, owner: str) -> str:
    """SQL: an ACL as a sorted text array, NULL read as the built-in default it means."""
    return (
        f"ARRAY(SELECT x::text FROM unnest(coalesce({column}, acldefault('{kind}', {owner}))) x ORDER BY 1)"
    )


# Relations we compare (tables, views, sequences, indexes ...): a CTE every relation query joins.
RELS = f"""
WITH rels AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_class", "c.oid")}
    AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I', 'c')
    AND c.relname <> %(history)s
    AND NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                    WHERE i.indexrelid = c.oid AND t.relname = %(history)s)
    AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                      AND t.relname = %(history)s)
)
"""

QUERIES: dict[str, str] = {
    # One row per schema.
    "schemas": f"""
SELECT n.nspname AS key, pg_get_userbyid(n.nspowner) AS owner, {_acl("n.nspacl", "n", "n.nspowner")} AS acl,
       obj_description(n.oid, 'pg_namespace') AS comment
FROM pg_namespace n WHERE {NS_OK.format(n="n")}""",
    # One row per extension, in a compared schema.
    "extensions": """
SELECT x.extname AS key, n.nspname AS schema, x.extversion AS version,
       obj_description(x.oid, 'pg_extension') AS comment
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
WHERE (n.nspname !~ %(system_re)s OR n.nspname = 'pg_catalog')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
  AND NOT (n.nspname = ANY(%(exclude)s::text[]))""",
    # Tables, views, materialized views, sequences, foreign tables (not indexes, not composite types).
    "relations": RELS + f"""
SELECT r.nspname || '.' || r.relname AS key, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner,
  CASE WHEN c.relkind = 'S' THEN {_acl("c.relacl", "s", "c.relowner")}
       ELSE {_acl("c.relacl", "r", "c.relowner")} END AS acl,
  obj_description(c.oid, 'pg_class') AS comment,
  ARRAY(SELECT o FROM unnest(c.reloptions) o ORDER BY 1) AS options,
  c.relpersistence AS persistence, c.relrowsecurity AS row_security,
  c.relforcerowsecurity AS force_row_security, c.relreplident AS replica_identity,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
  pg_get_expr(c.relpartbound, c.oid) AS partition_bound,
  ARRAY(SELECT p.oid::regclass::text FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
        WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
  am.amname AS access_method,
  CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END AS of_type,
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,
  CASE WHEN c.relkind = 'm' THEN c.relispopulated END AS populated
FROM rels r JOIN pg_class c ON c.oid = r.oid LEFT JOIN pg_am am ON am.oid = c.relam
WHERE r.relkind NOT IN ('i', 'I', 'c')""",
    # Columns of tables, views, foreign tables (not composite types): keyed by name, order ignored.
    "columns": RELS + """
SELECT r.nspname || '.' || r.relname || '.' || a.attname AS key,
  format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
  pg_get_expr(ad.adbin, ad.adrelid) AS "default", a.attidentity AS identity, a.attgenerated AS generated,
  CASE WHEN a.attcollation <> t.typcollation THEN
    (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co
     JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation,
  col_description(a.attrelid, a.attnum) AS comment,
  CASE WHEN a.attacl IS NOT NULL AND cardinality(a.attacl) > 0 THEN
    ARRAY(SELECT x::text FROM unnest(a.attacl) x ORDER BY 1) END AS acl,
  CASE WHEN c.relispartition THEN NULL ELSE a.attislocal END AS is_local,
  CASE WHEN c.relispartition THEN NULL ELSE a.attinhcount END AS inherited_count,
  CASE WHEN coalesce(a.attstattarget, -1) >= 0 THEN a.attstattarget END AS statistics,
  CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage,
  nullif(a.attcompression, '') AS compression,
  -- Debian's PostgreSQL 15.20 stamps every table column with a `pg_attver=N` option of its own
  -- (N differs per table; RESET does not remove it): the server's bookkeeping, not the schema's.
  ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE left(o, 10) <> 'pg_attver=' ORDER BY 1) AS options
FROM rels r JOIN pg_class c ON c.oid = r.oid
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')""",
    # Table constraints (incl. PostgreSQL 18's named NOT NULL constraints), keyed by table and name;
    # an inherited NOT NULL by its column, since PostgreSQL picks its name (the child's own on ATTACH,
    # the parent's on PARTITION OF) and refuses to rename it.
    "constraints": RELS + """
SELECT r.nspname || '.' || r.relname || '.' || CASE WHEN con.contype = 'n' AND con.coninhcount > 0
    THEN '(NOT NULL ' || (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = con.conrelid
                          AND a.attnum = con.conkey[1]) || ')' ELSE con.conname END AS key,
  con.contype AS type,
  pg_get_constraintdef(con.oid) AS definition, con.condeferrable AS deferrable,
  con.condeferred AS deferred, con.convalidated AS validated,
  CASE WHEN c.relispartition THEN NULL ELSE con.conislocal END AS is_local,
  CASE WHEN c.relispartition THEN NULL ELSE con.coninhcount END AS inherited_count,
  -- On a partition, NO INHERIT of a PRIMARY KEY / UNIQUE / EXCLUDE only records how it was made
  -- (PARTITION OF clones it false, ATTACH keeps the partition's own true); pg_dump does not keep it.
  CASE WHEN c.relispartition AND con.contype IN ('p', 'u', 'x') THEN NULL ELSE con.connoinherit END AS no_inherit,
  obj_description(con.oid, 'pg_constraint') AS comment
FROM rels r JOIN pg_class c ON c.oid = r.oid JOIN pg_constraint con ON con.conrelid = r.oid""",
    # Indexes, keyed by name (index names are unique per schema).
    "indexes": RELS + """
SELECT r.nspname || '.' || r.relname AS key, pg_get_indexdef(i.indexrelid) AS definition,
  i.indisclustered AS clustered, i.indisreplident AS replica_identity,
  obj_description(i.indexrelid, 'pg_class') AS comment,
  (SELECT p.oid::regclass::text FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
   WHERE h.inhrelid = i.indexrelid) AS parent,
  ARRAY(SELECT a.attnum || '=' || a.attstattarget FROM pg_attribute a
        WHERE a.attrelid = i.indexrelid AND coalesce(a.attstattarget, -1) >= 0 ORDER BY a.attnum) AS statistics
FROM rels r JOIN pg_index i ON i.indexrelid = r.oid""",
    # Sequences' own settings and the column that owns them.
    "sequences": RELS + """
SELECT r.nspname || '.' || r.relname AS key, format_type(s.seqtypid, NULL) AS type, s.seqstart AS start,
  s.seqincrement AS increment, s.seqmax AS max, s.seqmin AS min, s.seqcache AS cache, s.seqcycle AS cycle,
  (SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname) || ' ' || d.deptype::text
   FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
   WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
     AND d.deptype IN ('a', 'i')) AS owned_by
FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid""",
    # Functions, procedures, aggregates, window functions: keyed by name and argument types.
    "functions": f"""
SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
  p.prokind AS kind, pg_get_userbyid(p.proowner) AS owner, {_acl("p.proacl", "f", "p.proowner")} AS acl,
  obj_description(p.oid, 'pg_proc') AS comment,
  CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
  CASE WHEN p.prokind = 'a' THEN pg_get_function_result(p.oid) END AS result,
  CASE WHEN p.prokind = 'a' THEN p.proparallel END AS parallel,
  CASE WHEN p.prokind = 'a' THEN (
    SELECT jsonb_build_object(
      'kind', g.aggkind, 'direct_args', g.aggnumdirectargs, 'sfunc', g.aggtransfn::regprocedure::text,
      'finalfunc', nullif(g.aggfinalfn, 0)::regprocedure::text,
      'combinefunc', nullif(g.aggcombinefn, 0)::regprocedure::text,
      'serialfunc', nullif(g.aggserialfn, 0)::regprocedure::text,
      'deserialfunc', nullif(g.aggdeserialfn, 0)::regprocedure::text,
      'msfunc', nullif(g.aggmtransfn, 0)::regprocedure::text,
      'minvfunc', nullif(g.aggminvtransfn, 0)::regprocedure::text,
      'mfinalfunc', nullif(g.aggmfinalfn, 0)::regprocedure::text,
      'finalextra', g.aggfinalextra, 'mfinalextra', g.aggmfinalextra,
      'finalmodify', g.aggfinalmodify, 'mfinalmodify', g.aggmfinalmodify,
      'sortop', nullif(g.aggsortop, 0)::regoperator::text, 'stype', format_type(g.aggtranstype, NULL),
      'sspace', g.aggtransspace, 'mstype', nullif(g.aggmtranstype, 0)::regtype::text,
      'msspace', g.aggmtransspace, 'initcond', g.agginitval, 'minitcond', g.aggminitval)
    FROM pg_aggregate g WHERE g.aggfnoid = p.oid) END AS aggregate
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_proc", "p.oid")}""",
    # Triggers (not the internal ones behind foreign keys), keyed by table and name.
    "triggers": RELS + """
SELECT r.nspname || '.' || r.relname || '.' || t.tgname AS key, pg_get_triggerdef(t.oid) AS definition,
  t.tgenabled AS enabled, obj_description(t.oid, 'pg_trigger') AS comment
FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid WHERE NOT t.tgisinternal""",
    # Rewrite rules other than a view's own _RETURN rule.
    "rules": RELS + """
SELECT r.nspname || '.' || r.relname || '.' || w.rulename AS key, pg_get_ruledef(w.oid) AS definition,
  w.ev_enabled AS enabled, obj_description(w.oid, 'pg_rewrite') AS comment
FROM rels r JOIN pg_rewrite w ON w.ev_class = r.oid WHERE w.rulename <> '_RETURN'""",
    # Row-level security policies.
    "policies": RELS + """
SELECT r.nspname || '.' || r.relname || '.' || p.polname AS key, p.polcmd AS command,
  p.polpermissive AS permissive,
  ARRAY(SELECT CASE WHEN x = 0 THEN 'public' ELSE pg_get_userbyid(x) END FROM unnest(p.polroles) x
        ORDER BY 1) AS roles,
  pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
  obj_description(p.oid, 'pg_policy') AS comment
FROM rels r JOIN pg_policy p ON p.polrelid = r.oid""",
    # User-defined types: enums (labels in order), domains, composite, range and base types.
    "types": RELS.replace("WITH rels AS", "WITH rels0 AS") + f""", composite AS (SELECT oid FROM rels0)
SELECT n.nspname || '.' || t.typname AS key, t.typtype AS kind, pg_get_userbyid(t.typowner) AS owner,
  {_acl("t.typacl", "T", "t.typowner")} AS acl, obj_description(t.oid, 'pg_type') AS comment,
  CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
                                       ORDER BY e.enumsortorder) END AS labels,
  CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
  CASE WHEN t.typtype = 'd' THEN t.typnotnull END AS not_null,
  CASE WHEN t.typtype = 'd' THEN pg_get_expr(t.typdefaultbin, 0) END AS "default",
  CASE WHEN t.typtype = 'd' AND t.typcollation <> (SELECT b.typcollation FROM pg_type b WHERE b.oid = t.typbasetype)
       THEN t.typcollation::regcollation::text END AS collation,
  CASE WHEN t.typtype = 'd' THEN (
    SELECT jsonb_object_agg(con.conname, jsonb_build_array(pg_get_constraintdef(con.oid), con.convalidated,
                                                           obj_description(con.oid, 'pg_constraint')))
    FROM pg_constraint con WHERE con.contypid = t.oid) END AS constraints,
  CASE WHEN t.typtype = 'c' THEN ARRAY(
    SELECT quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attcollation <> at.typcollation THEN ' COLLATE ' || a.attcollation::regcollation::text
                   ELSE '' END
           || coalesce(' -- ' || col_description(a.attrelid, a.attnum), '')
    FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
    WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) END AS attributes,
  CASE WHEN t.typtype = 'r' THEN (
    SELECT jsonb_build_object('subtype', format_type(g.rngsubtype, NULL),
      'collation', nullif(g.rngcollation, 0)::regcollation::text,
      'opclass', (SELECT oc.opcname FROM pg_opclass oc WHERE oc.oid = g.rngsubopc),
      'canonical', nullif(g.rngcanonical, 0)::regprocedure::text,
      'subdiff', nullif(g.rngsubdiff, 0)::regprocedure::text,
      'multirange', format_type(g.rngmultitypid, NULL))
    FROM pg_range g WHERE g.rngtypid = t.oid) END AS range,
  CASE WHEN t.typtype = 'b' THEN jsonb_build_object(
      'input', t.typinput::regprocedure::text, 'output', t.typoutput::regprocedure::text,
      'receive', nullif(t.typreceive, 0)::regprocedure::text, 'send', nullif(t.typsend, 0)::regprocedure::text,
      'length', t.typlen, 'byval', t.typbyval, 'align', t.typalign, 'storage', t.typstorage,
      'category', t.typcategory, 'preferred', t.typispreferred, 'delimiter', t.typdelim,
      'element', nullif(t.typelem, 0)::regtype::text, 'default', t.typdefault) END AS base
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_type", "t.oid")}
  AND t.typtype IN ('e', 'd', 'c', 'r', 'b')
  AND (t.typrelid = 0 OR t.typrelid IN (SELECT oid FROM rels0 WHERE relkind = 'c'))
  AND NOT (t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid))""",
    # User-defined collations.
    "collations": f"""
SELECT n.nspname || '.' || co.collname AS key, pg_get_userbyid(co.collowner) AS owner,
  obj_description(co.oid, 'pg_collation') AS comment,
  to_jsonb(co) - 'oid' - 'collname' - 'collnamespace' - 'collowner' - 'collversion' - 'collencoding' AS settings
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_collation", "co.oid")}""",
    # User-defined operators.
    "operators": f"""
SELECT o.oid::regoperator::text AS key, pg_get_userbyid(o.oprowner) AS owner,
  obj_description(o.oid, 'pg_operator') AS comment, o.oprkind AS kind, o.oprcanmerge AS merges,
  o.oprcanhash AS hashes, format_type(o.oprresult, NULL) AS result, o.oprcode::regprocedure::text AS function,
  nullif(o.oprcom, 0)::regoperator::text AS commutator, nullif(o.oprnegate, 0)::regoperator::text AS negator,
  nullif(o.oprrest, 0)::regprocedure::text AS restrict, nullif(o.oprjoin, 0)::regprocedure::text AS "join"
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_operator", "o.oid")}""",
    # Extended statistics objects.
    "statistics": f"""
SELECT n.nspname || '.' || s.stxname AS key, pg_get_userbyid(s.stxowner) AS owner,
  pg_get_statisticsobjdef(s.oid) AS definition, s.stxstattarget AS target,
  obj_description(s.oid, 'pg_statistic_ext') AS comment
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_statistic_ext", "s.oid")}""",
    # Text search dictionaries: template and options.
    "ts_dictionaries": f"""
SELECT n.nspname || '.' || d.dictname AS key, pg_get_userbyid(d.dictowner) AS owner,
  obj_description(d.oid, 'pg_ts_dict') AS comment,
  (SELECT tn.nspname || '.' || t.tmplname FROM pg_ts_template t JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
   WHERE t.oid = d.dicttemplate) AS template, d.dictinitoption AS options
FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_ts_dict", "d.oid")}""",
    # Text search configurations: parser and every mapping row (token type number, order, dictionary).
    "ts_configurations": f"""
SELECT n.nspname || '.' || c.cfgname AS key, pg_get_userbyid(c.cfgowner) AS owner,
  obj_description(c.oid, 'pg_ts_config') AS comment,
  (SELECT pn.nspname || '.' || p.prsname FROM pg_ts_parser p JOIN pg_namespace pn ON pn.oid = p.prsnamespace
   WHERE p.oid = c.cfgparser) AS parser,
  ARRAY(SELECT m.maptokentype || ':' || m.mapseqno || ':' || m.mapdict::regdictionary::text
        FROM pg_ts_config_map m WHERE m.mapcfg = c.oid ORDER BY m.maptokentype, m.mapseqno) AS mappings
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
WHERE {NS_OK.format(n="n")} AND {_not_ext("pg_ts_config", "c.oid")}""",
    # Default privileges (ALTER DEFAULT PRIVILEGES), per role, schema and object kind.
    "default_privileges": """
SELECT pg_get_userbyid(d.defaclrole) || ' ' || coalesce(n.nspname, '*') || ' ' || d.defaclobjtype::text AS key,
  ARRAY(SELECT x::text FROM unnest(d.defaclacl) x ORDER BY 1) AS acl
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
WHERE (n.oid IS NULL AND %(schemas)s::text[] IS NULL)
   OR (n.nspname !~ %(system_re)s AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
       AND NOT (n.nspname = ANY(%(exclude)s::text[])))""",
    # Event triggers: database-wide, compared only when no schema list is given.
    "event_triggers": f"""
SELECT e.evtname AS key, e.evtevent AS event, e.evtfoid::regprocedure::text AS function,
  e.evtenabled AS enabled, ARRAY(SELECT x FROM unnest(e.evttags) x ORDER BY 1) AS tags,
  pg_get_userbyid(e.evtowner) AS owner, obj_description(e.oid, 'pg_event_trigger') AS comment
FROM pg_event_trigger e WHERE %(schemas)s::text[] IS NULL AND {_not_ext("pg_event_trigger", "e.oid")}""",
    # Publications: database-wide, compared only when no schema list is given.
    "publications": """
SELECT p.pubname AS key, pg_get_userbyid(p.pubowner) AS owner,
  to_jsonb(p) - 'oid' - 'pubname' - 'pubowner' AS settings,
  ARRAY(SELECT t::text FROM pg_publication_tables t WHERE t.pubname = p.pubname ORDER BY 1) AS tables,
  obj_description(p.oid, 'pg_publication') AS comment
FROM pg_publication p WHERE %(schemas)s::text[] IS NULL""",
}


def catalog_snapshot(
    url: str, schemas: Iterable[str] | None = None, exclude_schemas: Iterable[str] | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Everything we compare about a database, read in one snapshot, keyed by object names."""
    params = {
        "system_re": SYSTEM_SCHEMA_RE,
        "schemas": list(schemas) if schemas is not None else None,
        "exclude": list(exclude_schemas or []),
        "history": HISTORY_TABLE,
    }
    snapshot: dict[str, dict[str, dict[str, Any]]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # Qualify every name that pg_get_*def and the reg* types print, as pg_dump does.
        conn.execute("SET LOCAL search_path = ''")
        for section, query in QUERIES.items():
            rows = conn.execute(query, params, prepare=False)  # type: ignore[arg-type]
            names = [d.name for d in rows.description or []]
            entries: dict[str, dict[str, Any]] = {}
            for row in rows:
                record = dict(zip(names, row, strict=True))
                key = record.pop("key")
                entries[key] = {k: _plain(v) for k, v in record.items()}
            snapshot[section] = entries
        conn.execute("COMMIT")
    return snapshot


def _plain(value: Any) -> Any:
    """A JSON-like value, so that snapshots compare and print simply."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def snapshot_differences(a: dict, b: dict, a_name: str = "A", b_name: str = "B") -> list[str]:
    """Readable lines, one per differing object attribute; empty when the snapshots are equal."""
    lines: list[str] = []
    for section in sorted(set(a) | set(b)):
        sa, sb = a.get(section, {}), b.get(section, {})
        for key in sorted(set(sa) | set(sb)):
            if key not in sb:
                lines.append(f"{section} {key}: only in {a_name}: {_short(sa[key])}")
            elif key not in sa:
                lines.append(f"{section} {key}: only in {b_name}: {_short(sb[key])}")
            elif sa[key] != sb[key]:
                for field in sorted(set(sa[key]) | set(sb[key])):
                    va, vb = sa[key].get(field), sb[key].get(field)
                    if va != vb:
                        lines.append(f"{section} {key} {field}: {a_name}={_short(va)} {b_name}={_short(vb)}")
    return lines


def _short(value: Any, limit: int = 400) -> str:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if v not in (None, [], {})}
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def assert_same_catalog(url_a: str, url_b: str, **filters: Any) -> None:
    """Fail, listing the differences, unless both databases have the same catalog (column order aside)."""
    diffs = snapshot_differences(catalog_snapshot(url_a, **filters), catalog_snapshot(url_b, **filters))
    if diffs:
        raise AssertionError(_report("catalogs differ", diffs))


def _report(title: str, lines: list[str], limit: int = int(os.environ.get("ORACLE_LINES", "40"))) -> str:
    shown = lines[:limit]
    more = f"\n  ... and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{title} ({len(lines)}):\n  " + "\n  ".join(shown) + more


def prefer_tmpfs(min_free: int = 2 << 30) -> None:
    """Put throwaway clusters (made under `tempfile.gettempdir()`) on /dev/shm when it is roomy.

    `CREATE DATABASE` copies hundreds of small files; on a busy disk that takes ~0.3 s, on tmpfs ~15 ms.
    Call before the first server starts. Docker's default 64 MB /dev/shm is left alone.
    """
    shm = "/dev/shm"
    if os.environ.get("SCHEMASHIFT_TEST_TMPDIR"):
        shm = os.environ["SCHEMASHIFT_TEST_TMPDIR"]
    elif not (os.path.isdir(shm) and os.access(shm, os.W_OK)):
        return
    else:
        stat = os.statvfs(shm)
        if stat.f_bavail * stat.f_frsize < min_free:
            return
    os.environ["TMPDIR"] = shm
    tempfile.tempdir = shm


# --- loading SQL and judging one diff -------------------------------------------------------------


class LoadError(Exception):
    """The corpus SQL itself does not load: not the differ's fault."""


def split_statements(text: str) -> list[str]:
    """SQL text as statements: with the parser when it can, else with the scanner (lenient)."""
    import pglast

    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("\\"))
    try:
        return [s for s in pglast.split(text) if s.strip()]
    except Exception:  # noqa: BLE001 - pglast raises several kinds; the scanner is the fallback
        return [s for s in pglast.split(text, with_parser=False) if s.strip()]


def run_sql(url: str, text: str, search_path: str | None = None, lenient: bool = False) -> None:
    """Run SQL text statement by statement in autocommit, as psql does; LoadError on the first error.

    `lenient` (for sqldef's cases, which sqldef sorts itself and whose runner leaves schemas in place):
    statements that fail are retried after the others until no progress is made, and a schema that
    "does not exist" is created.
    """
    pending = split_statements(text)
    with psycopg.connect(url, autocommit=True) as conn:
        if search_path:
            conn.execute(pgsql.SQL("SET search_path = {}").format(pgsql.SQL(search_path)))
        while pending:
            failed: list[tuple[str, psycopg.Error]] = []
            for statement in pending:
                try:
                    conn.execute(statement, prepare=False)  # type: ignore[arg-type]
                except psycopg.Error as exc:
                    if not lenient:
                        raise LoadError(f"{_first_line(exc)} in: {statement.strip()[:200]}") from None
                    failed.append((statement, exc))
            if len(failed) == len(pending):
                missing = {m.group(1) for _, e in failed if (m := re.search(r'schema "([^"]+)" does not exist', str(e)))}
                if not missing:
                    statement, exc = failed[0]
                    raise LoadError(f"{_first_line(exc)} in: {statement.strip()[:200]}")
                for name in sorted(missing):
                    conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(name)))
            pending = [statement for statement, _ in failed]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def roundtrip(
    url_a: str, url_b: str, *, filters: dict[str, Any] | None = None, label: str = "A->B", online: bool = False,
    models: dict[str, Any] | None = None,
) -> list[str]:
    """Apply diff(A, B) to A; return the failures of the oracle (empty list: the diff is right).
    `online`: the plan's lock-light form (`--online`), applied as `sync` applies it.
    `models`: schemashift's models (same filters) by URL of databases unchanged since they were read,
    shared by calls so that no unchanged database is inspected twice; B's is added, A's dropped.

    Mutates the database at url_a.
    """
    from schemashift.online_flags import OnlineOptions

    import schemashift

    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    models = {} if models is None else models
    try:
        if url_b not in models:  # B is not changed: inspected once, used twice
            models[url_b] = schemashift.inspect(url_b, **filters)
        target = models[url_b]
        source = models.pop(url_a) if url_a in models else schemashift.inspect(url_a, **filters)
        plan = schemashift.diff_schemas(source, target, online=OnlineOptions() if online else None)
    except Exception as exc:  # noqa: BLE001 - any failure of the differ is a failed case
        return [f"{label}: diff failed: {_first_line(exc)}{_where(exc)}"]
    try:
        schemashift.apply(plan, url_a)
    except Exception as exc:  # noqa: BLE001
        return [f"{label}: apply failed: {_first_line(exc)}\n--- plan:\n{_plan_sql(plan)}"]
    failures: list[str] = []
    try:
        again = schemashift.diff_schemas(schemashift.inspect(url_a, **filters), target)
        if again:
            failures.append(
                f"{label}: diff after apply is not empty:\n{_plan_sql(again)}\n--- plan applied:\n{_plan_sql(plan)}"
            )
    except Exception as exc:  # noqa: BLE001
        failures.append(f"{label}: diff after apply failed: {_first_line(exc)}{_where(exc)}")
    diffs = snapshot_differences(catalog_snapshot(url_a, **filters), catalog_snapshot(url_b, **filters),
                                 "applied", "target")
    if diffs:
        failures.append(f"{label}: " + _report("catalogs differ after apply", diffs)
                        + f"\n--- plan applied:\n{_plan_sql(plan)}")
    return failures


def _plan_sql(plan: Any, limit: int = 4000) -> str:
    try:
        text = str(plan.sql)
    except Exception as exc:  # noqa: BLE001
        text = f"<plan.sql failed: {_first_line(exc)}>"
    return text if len(text) <= limit else text[:limit] + "\n..."


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""


class Cluster:
    """Scratch databases on one schemashift `Server`, for the corpus and property tests.

    Databases are made with `CREATE DATABASE ... TEMPLATE` (file copy where it is the faster
    strategy) from a prepared template; the `schemashift.dialects.postgres.servers` server stays the owner of the
    cluster and of its lifetime.
    """

    def __init__(self, server: Any) -> None:
        self.server = server
        self.admin = psycopg.connect(server.admin_url, autocommit=True)
        self.major = self.admin.info.server_version // 10000
        self.version = self.admin.info.server_version
        self._n = 0
        self.made: set[str] = set()
        self.loaded: dict[str, str | LoadError] = {}  # loaded databases kept for reuse, by content key

    def url(self, name: str) -> str:
        return self.server.url(name)

    def create(self, template: str = "template0") -> str:
        """A new database cloned from `template`; nobody may be connected to the template."""
        self._n += 1
        name = f"ss_{os.getpid()}_{self._n}"
        strategy = pgsql.SQL(" STRATEGY FILE_COPY") if self.major >= 18 else pgsql.SQL("")
        query = pgsql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
            pgsql.Identifier(name), pgsql.Identifier(template), strategy
        )
        try:
            self.admin.execute(query)
        except psycopg.errors.ObjectInUse:
            # Someone (say a differ that keeps its connections) still reads the template.
            self.admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [template]
            )
            self.admin.execute(query)
        self.made.add(name)
        return name

    def drop(self, name: str) -> None:
        self.admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
        self.made.discard(name)

    def load(
        self, text: str, template: str = "template0", search_path: str | None = None, lenient: bool = False
    ) -> str:
        """A new database with `text` run in it; LoadError (and nothing left behind) if it does not load."""
        name = self.create(template)
        try:
            run_sql(self.url(name), text, search_path, lenient)
        except BaseException:
            self.drop(name)
            raise
        return name

    def check_both(
        self, db_a: str, db_b: str, *, filters: dict[str, Any] | None = None, mutable: bool = False,
        online: bool = False,
    ) -> list[str]:
        """The oracle in both directions on two loaded databases.

        They stay untouched unless `mutable`, in which case A is changed into B, then B back into (a
        copy of) A: one scratch copy instead of two.
        """
        copies = [self.create(db_a)] if mutable else [self.create(db_a), self.create(db_b)]
        a_from, b_from, a_target = (db_a, db_b, copies[0]) if mutable else (copies[0], copies[1], db_a)
        models: dict[str, Any] = {}  # B's, read in A->B, is B->A's source when B itself is changed back
        try:
            return roundtrip(
                self.url(a_from), self.url(db_b), filters=filters, label="A->B", online=online, models=models
            ) + roundtrip(self.url(b_from), self.url(a_target), filters=filters, label="B->A", online=online,
                          models=models)
        finally:
            for name in copies:
                self.drop(name)

    def check_sql(
        self, a_sql: str, b_sql: str, *, template: str = "template0", search_path: str | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[str]:
        """Load A and B (LoadError if either does not load), then `check_both`."""
        db_a = self.load(a_sql, template, search_path)
        try:
            db_b = self.load(b_sql, template, search_path)
        except BaseException:
            self.drop(db_a)
            raise
        try:
            return self.check_both(db_a, db_b, filters=filters, mutable=True)
        finally:
            self.drop(db_a)
            self.drop(db_b)

    def close(self) -> None:
        for name in list(self.made):
            with contextlib.suppress(psycopg.Error):
                self.drop(name)
        self.admin.close()
