"""Each lock label is the server's truth: every kind of statement the labeller labels runs on
PostgreSQL 18 and 15, and the label must equal what the server does.

Locks: session A runs the statement inside an open transaction (for a statement that cannot run in
one, while it waits on a transaction session C keeps open); session B reads A's relation locks
from `pg_locks`, the strongest mode per relation. B's snapshot does not see what A creates, so A's
own new objects drop out of the join with `pg_class` by themselves. Tables, views, materialized
views and foreign tables are compared always, indexes and sequences when they are the statement's
subject (`whole`).

Effect: the statement is then committed on the same database; a changed `pg_class.relfilenode`
of a table that existed before means `rewrite`, else any new `seq_scan`/`idx_scan` in
`pg_stat_user_tables` means `scan`, else `instant`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg
import pytest

import corpus
from schemashift import api
from schemashift.dialects.postgres import locks
from schemashift.dialects.postgres.render_core import Context

SETUP = """
CREATE TABLE public.customers (id integer PRIMARY KEY, name character varying(20) NOT NULL, note text);
CREATE TABLE public.orders (id integer PRIMARY KEY, customer_id integer, ref_id integer, amount numeric(10,2),
    code character varying(10), flag integer, total integer, created timestamp, price numeric(10,2));
INSERT INTO public.customers SELECT g, 'c' || g, 'n' FROM generate_series(1, 1000) g;
INSERT INTO public.orders SELECT g, g, g, g, 'x', 1, g, now() FROM generate_series(1, 1000) g;
CREATE INDEX orders_code ON public.orders (code);
ALTER TABLE public.orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES public.customers (id) NOT VALID;
ALTER TABLE public.orders ADD CONSTRAINT orders_total_check CHECK (total > 0) NOT VALID;
ALTER TABLE public.orders ADD CONSTRAINT orders_flag_check CHECK (flag IS NOT NULL);
CREATE TABLE public.items (id integer PRIMARY KEY, sku text CONSTRAINT items_sku_key UNIQUE, n integer);
INSERT INTO public.items SELECT g, 's' || g, g FROM generate_series(1, 1000) g;
CREATE VIEW public.order_totals AS SELECT customer_id, sum(amount) AS total FROM public.orders GROUP BY customer_id;
CREATE SEQUENCE public.seq1;
CREATE TYPE public.mood AS ENUM ('a', 'b');
CREATE DOMAIN public.positive AS integer CHECK (VALUE > 0);
CREATE TABLE public.measures (id integer, v public.positive);
INSERT INTO public.measures SELECT g, g FROM generate_series(1, 100) g;
CREATE FUNCTION public.trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER orders_trg BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.trg();
CREATE TABLE public.events (id integer, kind integer) PARTITION BY LIST (kind);
CREATE TABLE public.events_1 PARTITION OF public.events FOR VALUES IN (1);
CREATE TABLE public.events_other PARTITION OF public.events DEFAULT;
CREATE TABLE public.events_2 (id integer, kind integer);
INSERT INTO public.events SELECT g, 1 FROM generate_series(1, 100) g;
INSERT INTO public.events_2 SELECT g, 2 FROM generate_series(1, 100) g;
CREATE TABLE public.plain (id integer);
INSERT INTO public.plain SELECT g FROM generate_series(1, 1000) g;
CREATE TABLE public.child () INHERITS (public.plain);
CREATE SCHEMA other;
CREATE TABLE public.lines (order_id integer REFERENCES public.orders (id), n integer);
CREATE UNLOGGED TABLE public.scratch (id integer);
INSERT INTO public.scratch SELECT g FROM generate_series(1, 1000) g;
"""


@dataclass(frozen=True)
class Case:
    name: str
    sql: str
    whole: bool = False  # compare indexes' and sequences' locks too: the statement is about one
    outside: bool = False  # cannot run in a transaction: observed while it waits on session C
    blocker: str = ""  # what session C holds open meanwhile
    min_major: int = 15


CASES = [
    # columns
    Case("add_column", "ALTER TABLE public.orders ADD COLUMN c1 integer"),
    Case("add_column_default", "ALTER TABLE public.orders ADD COLUMN c2 integer DEFAULT 7"),
    Case("add_column_stable_default", "ALTER TABLE public.orders ADD COLUMN c3 timestamp with time zone DEFAULT now()"),
    Case("add_column_volatile_default", "ALTER TABLE public.orders ADD COLUMN c4 double precision DEFAULT random()"),
    Case("add_column_not_null_default", "ALTER TABLE public.orders ADD COLUMN c5 integer NOT NULL DEFAULT 0"),
    Case("add_column_identity", "ALTER TABLE public.orders ADD COLUMN c6 integer GENERATED ALWAYS AS IDENTITY"),
    Case("add_column_stored", "ALTER TABLE public.orders ADD COLUMN c7 integer GENERATED ALWAYS AS (total * 2) STORED"),
    Case("add_column_virtual", "ALTER TABLE public.orders ADD COLUMN c8 integer GENERATED ALWAYS AS (total * 2) VIRTUAL",
         min_major=18),
    Case("add_column_domain", "ALTER TABLE public.orders ADD COLUMN c9 public.positive"),
    Case("add_column_partitioned", "ALTER TABLE public.events ADD COLUMN c1 integer"),
    Case("add_column_inherited", "ALTER TABLE public.plain ADD COLUMN c1 integer DEFAULT 1"),
    Case("drop_column", "ALTER TABLE public.customers DROP COLUMN note"),
    Case("type_rewrite", "ALTER TABLE public.orders ALTER COLUMN flag TYPE bigint USING flag::bigint"),
    Case("type_varchar_wider", "ALTER TABLE public.orders ALTER COLUMN code TYPE character varying(20) "
                               "USING code::character varying(20)"),
    Case("type_varchar_narrower", "ALTER TABLE public.orders ALTER COLUMN code TYPE character varying(5) "
                                  "USING code::character varying(5)"),
    Case("type_varchar_text", "ALTER TABLE public.orders ALTER COLUMN code TYPE text USING code::text"),
    Case("type_numeric_wider", "ALTER TABLE public.orders ALTER COLUMN price TYPE numeric(12,2) "
                               "USING price::numeric(12,2)"),
    Case("set_default", "ALTER TABLE public.orders ALTER COLUMN flag SET DEFAULT 3"),
    Case("drop_default", "ALTER TABLE public.orders ALTER COLUMN flag DROP DEFAULT"),
    Case("set_not_null", "ALTER TABLE public.orders ALTER COLUMN total SET NOT NULL"),
    Case("set_not_null_proven", "ALTER TABLE public.orders ALTER COLUMN flag SET NOT NULL"),
    Case("drop_not_null", "ALTER TABLE public.customers ALTER COLUMN name DROP NOT NULL"),
    Case("set_statistics", "ALTER TABLE public.orders ALTER COLUMN total SET STATISTICS 500"),
    Case("set_storage", "ALTER TABLE public.orders ALTER COLUMN code SET STORAGE EXTERNAL"),
    Case("rename_column", "ALTER TABLE public.orders RENAME COLUMN total TO grand_total"),
    # constraints
    Case("add_check", "ALTER TABLE public.orders ADD CONSTRAINT o_amount CHECK (amount >= 0)"),
    Case("add_check_not_valid", "ALTER TABLE public.orders ADD CONSTRAINT o_amount CHECK (amount >= 0) NOT VALID"),
    Case("add_fk", "ALTER TABLE public.orders ADD CONSTRAINT o_ref FOREIGN KEY (ref_id) REFERENCES public.customers(id)"),
    Case("add_fk_not_valid", "ALTER TABLE public.orders ADD CONSTRAINT o_ref FOREIGN KEY (ref_id) "
                             "REFERENCES public.customers(id) NOT VALID"),
    Case("add_unique", "ALTER TABLE public.orders ADD CONSTRAINT o_total UNIQUE (total)"),
    Case("add_primary_key", "ALTER TABLE public.plain ADD CONSTRAINT plain_pkey PRIMARY KEY (id)"),
    Case("validate_check", "ALTER TABLE public.orders VALIDATE CONSTRAINT orders_total_check"),
    Case("validate_fk", "ALTER TABLE public.orders VALIDATE CONSTRAINT orders_customer_fk"),
    Case("drop_check", "ALTER TABLE public.orders DROP CONSTRAINT orders_total_check"),
    Case("drop_fk", "ALTER TABLE public.orders DROP CONSTRAINT orders_customer_fk"),
    Case("drop_unique", "ALTER TABLE public.items DROP CONSTRAINT items_sku_key"),
    Case("drop_primary_key", "ALTER TABLE public.items DROP CONSTRAINT items_pkey"),
    Case("rename_constraint", "ALTER TABLE public.orders RENAME CONSTRAINT orders_total_check TO o_check"),
    # indexes
    Case("create_index", "CREATE INDEX o_total ON public.orders USING btree (total)", whole=True),
    Case("create_index_partitioned", "CREATE INDEX e_id ON public.events USING btree (id)", whole=True),
    Case("create_index_concurrently", "CREATE INDEX CONCURRENTLY o_total ON public.orders USING btree (total)",
         whole=True, outside=True, blocker="INSERT INTO public.orders (id, flag) VALUES (-1, 1)"),
    Case("drop_index", "DROP INDEX public.orders_code", whole=True),
    Case("drop_index_concurrently", "DROP INDEX CONCURRENTLY public.orders_code", whole=True, outside=True,
         blocker="SELECT count(*) FROM public.orders"),
    Case("rename_index", "ALTER INDEX public.orders_code RENAME TO o_code", whole=True),
    Case("cluster_on", "ALTER TABLE public.orders CLUSTER ON orders_code"),
    # views
    Case("create_view", "CREATE VIEW public.v AS SELECT id, total FROM public.orders"),
    Case("replace_view", "CREATE OR REPLACE VIEW public.order_totals AS SELECT customer_id, sum(amount) AS total, "
                         "count(*) AS n FROM public.orders GROUP BY customer_id"),
    Case("drop_view", "DROP VIEW public.order_totals"),
    Case("create_matview", "CREATE MATERIALIZED VIEW public.mv AS SELECT id FROM public.items WITH DATA"),
    Case("view_option", "ALTER VIEW public.order_totals SET (security_barrier=true)"),
    # tables
    Case("create_table", "CREATE TABLE public.t (id integer)"),
    Case("create_table_fk", "CREATE TABLE public.t (id integer REFERENCES public.customers (id))"),
    Case("create_partition", "CREATE TABLE public.events_3 PARTITION OF public.events FOR VALUES IN (3)"),
    Case("create_inherited", "CREATE TABLE public.t () INHERITS (public.plain)"),
    Case("drop_table", "DROP TABLE public.lines"),
    Case("drop_partitioned", "DROP TABLE public.events"),
    Case("rename_table", "ALTER TABLE public.items RENAME TO goods"),
    Case("set_schema", "ALTER TABLE public.items SET SCHEMA other"),
    Case("set_unlogged", "ALTER TABLE public.items SET UNLOGGED"),
    Case("set_logged", "ALTER TABLE public.scratch SET LOGGED"),
    Case("set_fillfactor", "ALTER TABLE public.orders SET (fillfactor=70)"),
    Case("reset_fillfactor", "ALTER TABLE public.orders RESET (fillfactor)"),
    Case("replica_identity", "ALTER TABLE public.orders REPLICA IDENTITY FULL"),
    Case("enable_rls", "ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY"),
    Case("attach_partition", "ALTER TABLE public.events ATTACH PARTITION public.events_2 FOR VALUES IN (2)"),
    Case("detach_partition", "ALTER TABLE public.events DETACH PARTITION public.events_1"),
    Case("no_inherit", "ALTER TABLE public.child NO INHERIT public.plain"),
    Case("inherit", "ALTER TABLE public.events_2 INHERIT public.plain"),
    # comments, grants, types, sequences
    Case("comment_table", "COMMENT ON TABLE public.orders IS 'x'"),
    Case("comment_column", "COMMENT ON COLUMN public.orders.total IS 'x'"),
    Case("comment_constraint", "COMMENT ON CONSTRAINT orders_total_check ON public.orders IS 'x'"),
    Case("comment_index", "COMMENT ON INDEX public.orders_code IS 'x'", whole=True),
    Case("comment_function", "COMMENT ON FUNCTION public.trg() IS 'x'"),
    Case("grant", "GRANT SELECT ON TABLE public.orders TO PUBLIC"),
    Case("revoke", "REVOKE SELECT ON TABLE public.orders FROM PUBLIC"),
    Case("grant_column", "GRANT UPDATE (total) ON TABLE public.orders TO PUBLIC"),
    Case("enum_add_value", "ALTER TYPE public.mood ADD VALUE 'c'"),
    Case("create_sequence", "CREATE SEQUENCE public.s2 START WITH 5", whole=True),
    Case("alter_sequence", "ALTER SEQUENCE public.seq1 INCREMENT BY 2", whole=True),
    Case("sequence_owned_by", "ALTER SEQUENCE public.seq1 OWNED BY public.orders.id", whole=True),
    Case("drop_sequence", "DROP SEQUENCE public.seq1", whole=True),
    Case("domain_add_check", "ALTER DOMAIN public.positive ADD CONSTRAINT small CHECK (VALUE < 1000000)"),
    Case("domain_add_check_not_valid", "ALTER DOMAIN public.positive ADD CONSTRAINT small CHECK (VALUE < 1000000) "
                                       "NOT VALID"),
    Case("create_function", "CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql AS 'SELECT 1'"),
    # triggers, policies, statistics
    Case("create_trigger", "CREATE TRIGGER t2 BEFORE INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION public.trg()"),
    Case("drop_trigger", "DROP TRIGGER orders_trg ON public.orders"),
    Case("disable_trigger", "ALTER TABLE public.orders DISABLE TRIGGER orders_trg"),
    Case("create_policy", "CREATE POLICY p ON public.orders AS PERMISSIVE FOR SELECT TO PUBLIC USING (total > 0)"),
    Case("create_statistics", "CREATE STATISTICS public.st ON total, flag FROM public.orders"),
]


def _runs(case: Case) -> list[tuple[str, Case]]:
    return [(server, case) for server in ("pg18", "pg15") if int(server[2:]) >= case.min_major]


PARAMS = [pair for case in CASES for pair in _runs(case)]

_TEMPLATES: dict[str, tuple[str, object]] = {}


def _template(cluster) -> tuple[str, object]:  # type: ignore[no-untyped-def]
    """The setup loaded once per server, and its schema model (the source of every case)."""
    key = cluster.url("")
    if key not in _TEMPLATES:
        name = cluster.load(SETUP)
        _TEMPLATES[key] = (name, api.inspect(cluster.url(name)))
    return _TEMPLATES[key]


LOCKS = """
SELECT n.nspname, c.relname, c.relkind, l.mode FROM pg_locks l
  JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid = %s AND l.locktype = 'relation' AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"""

_MODE_WORDS = {"AccessShareLock": "ACCESS SHARE", "RowShareLock": "ROW SHARE", "RowExclusiveLock": "ROW EXCLUSIVE",
               "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE", "ShareLock": "SHARE",
               "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE", "ExclusiveLock": "EXCLUSIVE",
               "AccessExclusiveLock": "ACCESS EXCLUSIVE"}
_ORDER = list(_MODE_WORDS.values())


def held_locks(observer: psycopg.Connection, pid: int, whole: bool) -> set[tuple[str, str, str]]:
    """The strongest mode A holds on each relation, as (schema, name, mode)."""
    strongest: dict[tuple[str, str], str] = {}
    for schema, name, relkind, mode in observer.execute(LOCKS, [pid]).fetchall():
        if not whole and relkind not in ("r", "p", "v", "m", "f"):
            continue
        mode = _MODE_WORDS[mode]
        old = strongest.get((schema, name))
        if old is None or _ORDER.index(mode) > _ORDER.index(old):
            strongest[(schema, name)] = mode
    return {(s, n, m) for (s, n), m in strongest.items()}


def _wait_until_waiting(observer: psycopg.Connection, pid: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = observer.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError("the statement never waited on the blocker")


def observe_locks(url: str, case: Case) -> set[tuple[str, str, str]]:
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        pid = a.info.backend_pid
        if not case.outside:
            a.execute("BEGIN")
            a.execute(case.sql)
            held = held_locks(b, pid, case.whole)
            a.execute("ROLLBACK")
            return held
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("BEGIN")
            c.execute(case.blocker)
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    a.execute(case.sql)
                except BaseException as exc:  # noqa: BLE001  (reported by the test below)
                    errors.append(exc)

            worker = threading.Thread(target=run)
            worker.start()
            try:
                _wait_until_waiting(b, pid)
                held = held_locks(b, pid, case.whole)
            finally:
                c.execute("ROLLBACK")
                worker.join()
            assert not errors, errors
            return held


FILES = """SELECT c.oid, c.relfilenode FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"""
SCANS = "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables"


def _counters(observer: psycopg.Connection) -> tuple[dict[int, int], int]:
    observer.execute("SELECT pg_stat_clear_snapshot()")
    files = dict(observer.execute(FILES).fetchall())
    return files, int(observer.execute(SCANS).fetchone()[0])


def observe_effect(url: str, case: Case) -> str:
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        a.execute("SELECT pg_stat_force_next_flush()")
        files, scans = _counters(b)
        a.execute(case.sql)
        a.execute("SELECT pg_stat_force_next_flush()")
        files_after, scans_after = _counters(b)
    if any(files_after.get(oid, node) != node for oid, node in files.items()):
        return "rewrite"
    return "scan" if scans_after > scans else "instant"


@pytest.mark.parametrize("server,case", PARAMS, ids=[f"{s}-{c.name}" for s, c in PARAMS])
def test_label_is_the_servers_truth(server: str, case: Case, request: pytest.FixtureRequest) -> None:
    cluster = request.getfixturevalue(server)
    template, source = _template(cluster)
    name = cluster.create(template)
    try:
        url = cluster.url(name)
        held = observe_locks(url, case)
        if case.outside:  # it committed while observed: start again from the setup
            cluster.drop(name)
            name = cluster.create(template)
            url = cluster.url(name)
        effect = observe_effect(url, case)
        target = api.inspect(url)
    finally:
        cluster.drop(name)
    label = locks.label(case.sql, Context(source, target))  # type: ignore[arg-type]
    assert label is not None
    assert {(lk.schema, lk.name, lk.mode) for lk in label.locks} == held, (label.text(), sorted(held))
    assert label.effect == effect, label.text()


def test_volatile_builtins_are_volatile(pg18: object) -> None:
    """The labeller's list of volatile built-ins says what pg_proc says."""
    rows = pg18.admin.execute(  # type: ignore[attr-defined]
        "SELECT DISTINCT proname, provolatile FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace "
        "AND proname = ANY(%s)", [sorted(locks.VOLATILE_BUILTINS)]).fetchall()
    assert {name for name, v in rows if v == "v"} == locks.VOLATILE_BUILTINS


@pytest.mark.parametrize("server", ["pg18", "pg15"])
def test_binary_coercible_pairs_are_binary_casts(server: str, request: pytest.FixtureRequest) -> None:
    """Each (old, new) pair the labeller calls binary-coercible is a `castmethod = 'b'` cast."""
    cluster = request.getfixturevalue(server)
    rows = cluster.admin.execute(
        "SELECT format_type(castsource, NULL), format_type(casttarget, NULL) FROM pg_cast WHERE castmethod = 'b'"
    ).fetchall()
    assert locks.BINARY_COERCIBLE <= {(a, b) for a, b in rows}


def test_every_statement_of_every_migra_plan_is_labelled(pg18: object) -> None:
    """No statement of a plan goes without a label: the migra corpus, both directions, in-process."""
    unlabelled = []
    for case in corpus.migra_cases():
        if case.majors == (15,):
            continue
        cluster = pg18
        dbs = [cluster.load(text, case.template, case.search_path) for text in (case.a, case.b)]  # type: ignore[attr-defined]
        try:
            a, b = (api.inspect(cluster.url(d), **case.filters) for d in dbs)  # type: ignore[attr-defined]
            for plan in (api.diff_schemas(a, b), api.diff_schemas(b, a)):
                unlabelled += [f"{case.name}: {s.sql[:80]}" for s in plan.statements if s.locks is None]
        finally:
            for d in dbs:
                cluster.drop(d)  # type: ignore[attr-defined]
    assert not unlabelled
