"""Catalog queries, one per object kind, each filtered by schema in SQL.

They run in one REPEATABLE READ snapshot with `search_path` empty, so every name PostgreSQL prints
(`format_type`, `pg_get_*def`, `pg_get_expr`) is schema-qualified and both sides print alike.
`%(nsp)s` is the array of namespace OIDs to read; objects that belong to an extension are skipped
(the extension itself is the object). Version-specific catalog columns are read through
`to_jsonb(row)` so one query serves PostgreSQL 15 to 18.

A database just loaded has no statistics on its catalogs, and the planner then guesses one row for
most scans. Every lookup here is therefore by an indexed key (a correlated subquery, or a join on
one), never a join to an aggregate: planned for one row, such an aggregate ran once per relation
(10 s for GitLab's schema instead of 50 ms).
"""

from __future__ import annotations


def _acl(acl: str, kind: str, owner: str) -> str:
    """An ACL as aclitem texts (`grantee=privileges/grantor`), parsed by the client: expanding it here
    (aclexplode, role names, JSON) cost more than the rest of the row. NULL means the built-in default."""
    return f"coalesce({acl}, acldefault({kind}, {owner}))::text[]"


def _comment(oid: str, catalog: str, sub: str = "0") -> str:
    """A comment as a scalar subquery: obj_description() is a SQL function, ten times slower per row."""
    return f"""(select ds.description from pg_description ds where ds.objoid = {oid}
        and ds.classoid = '{catalog}'::regclass and ds.objsubid = {sub})"""


def _collation(oid: str) -> str:
    """A collation's qualified name; callers guard it with a CASE so that it runs only when needed."""
    return f"""(select quote_ident(cn.nspname) || '.' || quote_ident(co.collname) from pg_collation co
        join pg_namespace cn on cn.oid = co.collnamespace where co.oid = {oid})"""


def _not_extension_member(catalog: str, oid: str) -> str:
    return f"""not exists (select 1 from pg_depend e where e.classid = '{catalog}'::regclass
        and e.objid = {oid} and e.deptype = 'e')"""


# Namespaces to read: not system schemas, not extension-owned, within --schema / --exclude-schema.
NAMESPACES = f"""
select n.oid, n.nspname as name, {_comment("n.oid", "pg_namespace")} as comment,
    {_acl("n.nspacl", "'n'", "n.nspowner")} as acl,
    {_acl("null", "'n'", "n.nspowner")} as default_acl
from pg_namespace n
where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    and n.nspname not like 'pg\\_temp\\_%%' and n.nspname not like 'pg\\_toast\\_temp\\_%%'
    and (cardinality(%(include)s::text[]) = 0 or n.nspname = any(%(include)s::text[]))
    and not n.nspname = any(%(exclude)s::text[])
    and {_not_extension_member("pg_namespace", "n.oid")}
order by n.nspname
"""

# Extensions whose schema is read (or all, when no schema filter is given), with their comment and
# the one CREATE EXTENSION gives them (the control file's).
EXTENSIONS = f"""
select x.oid, x.extname as name, n.nspname as schema, x.extversion as version,
    (select coalesce(json_agg(u.target), '[]') from pg_extension_update_paths(x.extname) u
        where u.source = x.extversion and u.path is not null) as updatable_to,
    {_comment("x.oid", "pg_extension")} as comment, a.comment as default_comment
from pg_extension x join pg_namespace n on n.oid = x.extnamespace
left join pg_available_extensions a on a.name = x.extname
where x.extname <> 'plpgsql' and (%(all_schemas)s or x.extnamespace = any(%(nsp)s))
order by x.extname
"""

_RELATION_ACL_KIND = "(case when c.relkind = 'S' then 's' else 'r' end)::\"char\""

# Tables, partitioned tables, views, materialized views, sequences and composite types. A partition
# bound holds only constants, so it is printed without opening the partition (as plain defaults are).
RELATIONS = f"""
select c.oid, n.nspname as schema, c.relname as name, c.relkind, c.relpersistence, c.reloptions,
    case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partition_key,
    c.relispartition,
    case when c.relispartition then pg_get_expr(c.relpartbound, 0) end as partition_bound,
    (select json_agg(json_build_array(pn.nspname, pc.relname) order by i.inhseqno)
        from pg_inherits i join pg_class pc on pc.oid = i.inhparent
        join pg_namespace pn on pn.oid = pc.relnamespace where i.inhrelid = c.oid) as parents,
    c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.relispopulated, c.reltype,
    case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end as viewdef,
    case when c.relkind in ('v', 'm') then
        (select r.oid from pg_rewrite r where r.ev_class = c.oid and r.rulename = '_RETURN') end as view_rule,
    {_comment("c.oid", "pg_class")} as comment,
    {_acl("c.relacl", _RELATION_ACL_KIND, "c.relowner")} as acl,
    {_acl("null", _RELATION_ACL_KIND, "c.relowner")} as default_acl
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relnamespace = any(%(nsp)s) and c.relkind in ('r', 'p', 'v', 'm', 'S', 'c', 'f')
    and {_not_extension_member("pg_class", "c.oid")}
order by n.nspname, c.relname
"""

# Columns of those relations, in attnum order. A plain default cannot name columns, so it is printed
# without its table: pg_get_expr() with a table opens it, which was most of this query's time.
# Comments and NOT NULL names are joined: with catalog statistics the planner hashes them, without
# (a database just loaded) it looks each up by index, which is what a subquery per row costs.
COLUMNS = f"""
select a.attrelid, a.attname as name, a.attnum, format_type(a.atttypid, a.atttypmod) as type,
    a.attnotnull, a.attidentity, a.attgenerated, a.attislocal, nn.conname as not_null_name,
    pg_get_expr(d.adbin, case when a.attgenerated <> '' then d.adrelid else 0 end) as default_expr,
    d.oid as attrdef_oid,
    case when a.attcollation <> t.typcollation then
        {_collation("a.attcollation")} end as collation,
    case when a.attstorage <> t.typstorage then a.attstorage end as storage,
    ds.description as comment, a.attacl::text[] as acl
from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_type t on t.oid = a.atttypid
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
left join (select * from pg_constraint  -- catalogued from 18 on: else never looked up
    where current_setting('server_version_num')::int >= 180000) nn on nn.conrelid = a.attrelid
    and nn.contype = 'n' and nn.conkey[1] = a.attnum and cardinality(nn.conkey) = 1
    and (nn.coninhcount = 0 or not exists (  -- inherited under a name not its parent's (attached, INHERIT)
        select 1 from pg_inherits i join pg_constraint pn on pn.conrelid = i.inhparent and pn.contype = 'n'
        and pn.conname = nn.conname where i.inhrelid = a.attrelid))
left join pg_description ds on ds.objoid = a.attrelid and ds.classoid = 'pg_class'::regclass
    and ds.objsubid = a.attnum
where c.relnamespace = any(%(nsp)s) and c.relkind in ('r', 'p', 'v', 'm', 'c', 'f')
    and a.attnum > 0 and not a.attisdropped
order by a.attrelid, a.attnum
"""

# Table and domain constraints (not NOT NULL ones, which are column properties here). Copies a table
# gets from its parent (inherited CHECKs, a partition's FK clones) are read without a definition: they
# are created with the table, and printing one costs as much as printing the parent's.
CONSTRAINTS = f"""
select con.oid, n.nspname as schema, c.relname as table_name, t.typname as type_name, con.conname as name,
    con.contype, case when con.contypid <> 0 or (con.conislocal and con.conparentid = 0)
        or (c.relispartition and con.contype in ('p', 'u', 'x') and con.conparentid <> 0)
        then pg_get_constraintdef(con.oid) end as definition,
    con.conislocal, con.conparentid,
    c.relispartition,
    pn.nspname as parent_schema, pc.relname as parent_table, pcon.conname as parent_name,
    {_comment("con.oid", "pg_constraint")} as comment
from pg_constraint con join pg_namespace n on n.oid = con.connamespace
left join pg_class c on c.oid = con.conrelid
left join pg_type t on t.oid = con.contypid
left join pg_constraint pcon on pcon.oid = con.conparentid left join pg_class pc on pc.oid = pcon.conrelid
left join pg_namespace pn on pn.oid = pc.relnamespace
where con.connamespace = any(%(nsp)s) and con.contype in ('p', 'u', 'f', 'c', 'x')
order by n.nspname, c.relname, con.conname
"""

# The column list of a `simple` index (see INDEXES) as pg_get_indexdef prints it, or NULL when a
# column is not simple. Lookups by key for each column: a join here gets hashed, ten times slower.
# A scalar subquery, guarded by a CASE, so that it runs only for indexes that may be simple.
_SIMPLE_INDEX_COLUMNS = """(select case when bool_and(oc.opcdefault and oc.opcintype = a.atttypid
            and oc.opcmethod = ic.relam and col.coll = a.attcollation and ia.attoptions is null
            and (col.opt = 0 or am.amname = 'btree'))
        then string_agg(quote_ident(a.attname) || case when col.opt & 1 = 1 then ' DESC' else '' end
            || case col.opt when 1 then ' NULLS LAST' when 2 then ' NULLS FIRST' else '' end, ', ' order by col.n) end
    from unnest(i.indkey::int2[], i.indclass::oid[], i.indcollation::oid[], i.indoption::int2[])
        with ordinality as col(attnum, opclass, coll, opt, n)
    cross join lateral (select a.attname, a.atttypid, a.attcollation from pg_attribute a
        where a.attrelid = i.indrelid and a.attnum = col.attnum) a
    cross join lateral (select ia.attoptions from pg_attribute ia where ia.attrelid = i.indexrelid
        and ia.attnum = col.n) ia
    cross join lateral (select oc.opcdefault, oc.opcintype, oc.opcmethod from pg_opclass oc
        where oc.oid = col.opclass) oc)"""

# Indexes; `constraint_oid` marks those that back a PRIMARY KEY / UNIQUE / EXCLUDE constraint, whose
# definition is the constraint's (so theirs is not printed). pg_get_indexdef costs ~90 µs an index on
# a fresh backend (it sets up a deparse context naming every column of the table), so two kinds of
# index are printed without it, exactly as it prints them:
# - `simple`: plain columns with their type's own default operator class and their column's
#   collation, no INCLUDE, WITH, WHERE or NULLS NOT DISTINCT: printed here from the catalogs;
# - `derived`: attached to a partitioned table's index with the same storage options (PostgreSQL
#   attaches only an index that matches): rebuilt by the reader from `prefix`, the part before
#   `USING`, and the parent's definition after it.
INDEXES = f"""
select i.indexrelid as oid, n.nspname as schema, ic.relname as name, tc.relname as table_name,
    case when k.oid is not null or derived then null
        else coalesce(prefix || 'USING ' || quote_ident(am.amname) || ' (' || (case when i.indexprs is null
            and i.indpred is null and i.indnatts = i.indnkeyatts and not i.indnullsnotdistinct
            and ic.reloptions is null then {_SIMPLE_INDEX_COLUMNS} end) || ')', pg_get_indexdef(i.indexrelid))
        end as definition,
    derived, prefix, i.indisclustered, tc.relkind, k.oid as constraint_oid,
    case when h.inhparent is not null then json_build_array(pn.nspname, pc.relname, h.inhparent::bigint) end
        as parent,
    {_comment("i.indexrelid", "pg_class")} as comment
from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class tc on tc.oid = i.indrelid
join pg_namespace n on n.oid = ic.relnamespace join pg_namespace tn on tn.oid = tc.relnamespace
join pg_am am on am.oid = ic.relam
left join pg_constraint k on k.conindid = i.indexrelid and k.conrelid = i.indrelid and k.contype in ('p', 'u', 'x')
left join pg_inherits h on h.inhrelid = i.indexrelid
left join pg_class pc on pc.oid = h.inhparent left join pg_namespace pn on pn.oid = pc.relnamespace
left join pg_index pi on pi.indexrelid = h.inhparent
left join pg_constraint pk on pk.conindid = pi.indexrelid and pk.conrelid = pi.indrelid and pk.contype in ('p', 'u', 'x')
cross join lateral (select pc.oid is not null and pc.relnamespace = any(%(nsp)s) and pk.oid is null
    and pc.reloptions is not distinct from ic.reloptions as derived,
    format('CREATE %%sINDEX %%s ON %%s%%s.%%s ', case when i.indisunique then 'UNIQUE ' end,
        quote_ident(ic.relname), case when ic.relkind = 'I' then 'ONLY ' end, quote_ident(tn.nspname),
        quote_ident(tc.relname)) as prefix) d
where ic.relnamespace = any(%(nsp)s) and tc.relkind in ('r', 'p', 'm')
order by n.nspname, ic.relname
"""

# Sequences with their options and what owns them ('a': OWNED BY, 'i': identity column).
SEQUENCES = """
select s.seqrelid as oid, format_type(s.seqtypid, null) as data_type, s.seqstart, s.seqincrement,
    s.seqmin, s.seqmax, s.seqcache, s.seqcycle, d.refobjid as owner_rel, d.refobjsubid as owner_col,
    d.deptype as owner_deptype
from pg_sequence s join pg_class c on c.oid = s.seqrelid
left join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.seqrelid
    and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
where c.relnamespace = any(%(nsp)s)
"""

# Enums, domains, ranges, composite types, plus arrays and row types (to map their OIDs). Range details
# come from a join over pg_range alone: as per-type subqueries they cost more than the rest of the query.
TYPES = f"""
select t.oid, n.nspname as schema, t.typname as name, t.typtype, t.typrelid, t.typelem, t.typcategory,
    case when t.typtype = 'e' then (select json_agg(e.enumlabel order by e.enumsortorder)
        from pg_enum e where e.enumtypid = t.oid) end as labels,
    case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod) end as base_type,
    t.typdefault, t.typnotnull,
    case when t.typtype = 'd' and t.typcollation <> bt.typcollation then
        {_collation("t.typcollation")} end as collation,
    rg.range,
    {_comment("t.oid", "pg_type")} as comment,
    case when t.typtype in ('e', 'd', 'r', 'c') then {_acl("t.typacl", "'T'", "t.typowner")} end as acl,
    case when t.typtype in ('e', 'd', 'r', 'c') then {_acl("null", "'T'", "t.typowner")} end as default_acl,
    {_not_extension_member("pg_type", "t.oid")} as own
from pg_type t join pg_namespace n on n.oid = t.typnamespace
left join pg_type bt on bt.oid = t.typbasetype
left join (select r.rngtypid, json_build_object(
    'subtype', format_type(r.rngsubtype, null),
    'opclass', (select quote_ident(on_.nspname) || '.' || quote_ident(oc.opcname) from pg_opclass oc
        join pg_namespace on_ on on_.oid = oc.opcnamespace where oc.oid = r.rngsubopc and not oc.opcdefault),
    'collation', case when r.rngcollation <> st.typcollation then {_collation("r.rngcollation")} end,
    'canonical', nullif(r.rngcanonical::regproc::text, '-'),
    'subdiff', nullif(r.rngsubdiff::regproc::text, '-'),
    'multirange', format_type(r.rngmultitypid, null), 'multirange_oid', r.rngmultitypid::bigint) as range
    from pg_range r join pg_type st on st.oid = r.rngsubtype) rg on rg.rngtypid = t.oid
where t.typnamespace = any(%(nsp)s)
order by n.nspname, t.typname
"""

COLLATIONS = f"""
select co.oid, n.nspname as schema, co.collname as name, to_jsonb(co) as row,
    {_comment("co.oid", "pg_collation")} as comment
from pg_collation co join pg_namespace n on n.oid = co.collnamespace
where co.collnamespace = any(%(nsp)s)
    and not exists (select 1 from pg_depend e where e.classid = 'pg_collation'::regclass
        and e.objid = co.oid and e.deptype = 'e')
"""

def _qualified_name(catalog: str, name: str, namespace: str, oid: str) -> str:
    return f"""(select quote_ident(qn.nspname) || '.' || quote_ident(qx.{name}) from {catalog} qx
        join pg_namespace qn on qn.oid = qx.{namespace} where qx.oid = {oid})"""


TEXT_SEARCH_DICTIONARIES = f"""
select d.oid, n.nspname as schema, d.dictname as name, d.dictinitoption as options,
    {_qualified_name("pg_ts_template", "tmplname", "tmplnamespace", "d.dicttemplate")} as template,
    {_comment("d.oid", "pg_ts_dict")} as comment
from pg_ts_dict d join pg_namespace n on n.oid = d.dictnamespace
where d.dictnamespace = any(%(nsp)s) and {_not_extension_member("pg_ts_dict", "d.oid")}
"""

# A configuration's mappings by token type alias (ts_token_type of its parser), dictionaries in order
# and qualified (regdictionary leaves pg_catalog's bare).
TEXT_SEARCH_CONFIGURATIONS = f"""
select c.oid, n.nspname as schema, c.cfgname as name,
    {_qualified_name("pg_ts_parser", "prsname", "prsnamespace", "c.cfgparser")} as parser,
    (select coalesce(json_agg(json_build_array(tt.alias, m.dicts) order by tt.tokid), '[]')
        from ts_token_type(c.cfgparser) tt cross join lateral (
            select array_agg({_qualified_name("pg_ts_dict", "dictname", "dictnamespace", "cm.mapdict")}
                order by cm.mapseqno) as dicts
            from pg_ts_config_map cm where cm.mapcfg = c.oid and cm.maptokentype = tt.tokid) m
        where m.dicts is not null) as mappings,
    {_comment("c.oid", "pg_ts_config")} as comment
from pg_ts_config c join pg_namespace n on n.oid = c.cfgnamespace
where c.cfgnamespace = any(%(nsp)s) and {_not_extension_member("pg_ts_config", "c.oid")}
"""

# Functions, procedures and aggregates; the definition is PostgreSQL's own text.
FUNCTIONS = f"""
select p.oid, n.nspname as schema, p.proname as name, p.prokind,
    pg_get_function_identity_arguments(p.oid) as identity_args,
    case when p.prokind <> 'a' then pg_get_functiondef(p.oid) end as definition,
    pg_get_function_result(p.oid) as result, p.proargnames, p.proargmodes,
    case when p.prokind = 'a' then (select to_jsonb(ag) || jsonb_build_object(
        'sfunc', ag.aggtransfn::regproc::text, 'stype', format_type(ag.aggtranstype, null),
        'finalfunc', nullif(ag.aggfinalfn::regproc::text, '-'),
        'combinefunc', nullif(ag.aggcombinefn::regproc::text, '-'),
        'sortop', nullif(ag.aggsortop::regoperator::text, '0'),
        'args', pg_get_function_arguments(p.oid))
        from pg_aggregate ag where ag.aggfnoid = p.oid) end as aggregate,
    {_comment("p.oid", "pg_proc")} as comment,
    {_acl("p.proacl", "'f'", "p.proowner")} as acl,
    {_acl("null", "'f'", "p.proowner")} as default_acl
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where p.pronamespace = any(%(nsp)s) and {_not_extension_member("pg_proc", "p.oid")}
    -- a range's and a multirange's constructors are the type's (internal dependency): they come
    -- and go with it, and DROP FUNCTION on them fails
    and not exists (select 1 from pg_depend x where x.classid = 'pg_proc'::regclass and x.objid = p.oid
        and x.refclassid = 'pg_type'::regclass and x.deptype = 'i')
order by n.nspname, p.proname
"""

# User triggers (not internal ones, not clones on partitions).
TRIGGERS = f"""
select t.oid, n.nspname as schema, c.relname as table_name, t.tgname as name,
    pg_get_triggerdef(t.oid) as definition, t.tgenabled,
    {_comment("t.oid", "pg_trigger")} as comment
from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
where c.relnamespace = any(%(nsp)s) and not t.tgisinternal and t.tgparentid = 0
order by n.nspname, c.relname, t.tgname
"""

EVENT_TRIGGERS = f"""
select e.oid, e.evtname as name, e.evtevent as event, e.evtfoid::regproc::text as function,
    e.evtenabled, coalesce(e.evttags, '{{}}') as tags, {_comment("e.oid", "pg_event_trigger")} as comment
from pg_event_trigger e
where not exists (select 1 from pg_depend x where x.classid = 'pg_event_trigger'::regclass
    and x.objid = e.oid and x.deptype = 'e')
"""

# Every cast the server knows (built-in and CREATE CAST), for type changes that have none.
CASTS = """
select format_type(c.castsource, null) as source, format_type(c.casttarget, null) as target from pg_cast c
"""

POLICIES = f"""
select p.oid, n.nspname as schema, c.relname as table_name, p.polname as name, p.polpermissive,
    p.polcmd, pg_get_expr(p.polqual, p.polrelid) as using_expr,
    pg_get_expr(p.polwithcheck, p.polrelid) as check_expr,
    (select coalesce(json_agg(x.role order by x.role), '[]') from (select case when r = 0 then 'PUBLIC'
        else (select rolname from pg_roles where oid = r) end as role from unnest(p.polroles) r) x) as roles,
    {_comment("p.oid", "pg_policy")} as comment
from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
where c.relnamespace = any(%(nsp)s)
"""

RULES = f"""
select r.oid, n.nspname as schema, c.relname as table_name, r.rulename as name,
    pg_get_ruledef(r.oid) as definition, r.ev_enabled, {_comment("r.oid", "pg_rewrite")} as comment
from pg_rewrite r join pg_class c on c.oid = r.ev_class join pg_namespace n on n.oid = c.relnamespace
where c.relnamespace = any(%(nsp)s) and r.rulename <> '_RETURN'
"""

STATISTICS = f"""
select s.oid, n.nspname as schema, s.stxname as name, pg_get_statisticsobjdef(s.oid) as definition,
    to_jsonb(s) -> 'stxstattarget' as target, {_comment("s.oid", "pg_statistic_ext")} as comment
from pg_statistic_ext s join pg_namespace n on n.oid = s.stxnamespace
where s.stxnamespace = any(%(nsp)s)
"""

PUBLICATIONS = f"""
select p.oid, p.pubname as name, to_jsonb(p) as row,
    (select coalesce(json_agg(json_build_array(pt.schemaname, pt.tablename) order by 1), '[]')
        from pg_publication_tables pt where pt.pubname = p.pubname and not p.puballtables) as tables,
    {_comment("p.oid", "pg_publication")} as comment
from pg_publication p
"""

DEFAULT_PRIVILEGES = """
select r.rolname as role, n.nspname as schema, d.defaclobjtype as object_type, d.defaclacl::text[] as acl,
    case when d.defaclnamespace = 0 then acldefault(case d.defaclobjtype when 'r' then 'r' when 'S' then 's'
        when 'f' then 'f' when 'T' then 'T' when 'n' then 'n' else 'r' end::"char", d.defaclrole)::text[]
    end as default_acl
from pg_default_acl d join pg_roles r on r.oid = d.defaclrole
left join pg_namespace n on n.oid = d.defaclnamespace
where d.defaclnamespace = 0 or d.defaclnamespace = any(%(nsp)s)
"""

# The catalogs whose objects the reader keeps: a dependency's end names one of them most of the time.
_READ_CATALOGS = ("pg_class", "pg_type", "pg_constraint", "pg_proc", "pg_attrdef", "pg_namespace", "pg_trigger",
                  "pg_rewrite", "pg_extension", "pg_collation", "pg_policy", "pg_event_trigger", "pg_publication",
                  "pg_statistic_ext", "pg_ts_config", "pg_ts_dict")


def _catalog_name(oid: str) -> str:
    """A catalog's name as `oid::regclass::text` prints it, compared with constants first: a name
    looked up for each of GitLab's 34,000 dependency rows was a third of the query's time."""
    cases = " ".join(f"when '{name}'::regclass then '{name}'" for name in _READ_CATALOGS)
    return f"case {oid} {cases} else {oid}::regclass::text end"


# Dependencies between user objects (OIDs past the bootstrap range), plus extension membership; not
# those of the triggers behind constraints (a sixth of GitLab's rows), which are never read.
DEPENDS = f"""
select {_catalog_name("d.classid")} as cat, d.objid, d.objsubid,
    {_catalog_name("d.refclassid")} as refcat, d.refobjid, d.refobjsubid, d.deptype
from pg_depend d
where d.deptype in ('n', 'a', 'i', 'e') and d.objid >= 16384 and d.refobjid >= 16384
    and not (d.classid = 'pg_trigger'::regclass and d.refclassid = 'pg_constraint'::regclass)
    -- rows that can only join an object to itself here (a row or array type and its relation or
    -- element, an index and its constraint) or to nothing modelled (operator family members)
    and not (d.deptype = 'i' and (d.classid, d.refclassid) in (('pg_type'::regclass, 'pg_type'::regclass),
        ('pg_type'::regclass, 'pg_class'::regclass), ('pg_class'::regclass, 'pg_constraint'::regclass)))
    and (d.deptype = 'e' or d.classid not in ('pg_amop'::regclass, 'pg_amproc'::regclass))
"""
