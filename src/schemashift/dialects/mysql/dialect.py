"""The MySQL/MariaDB dialect: what the shared differ asks of it, and the diff entry points."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import pymysql

from ...differ import Change, diff
from ...errors import SchemashiftError
from ...model import Key, Schema
from ...plan import Plan, order
from ...sqlfiles import SqlFile
from ..base import InspectOptions, ScratchServer
from ..one_namespace import OneNamespace
from .inspect import inspect_connection
from .loader import load_text
from .objects import SCHEMA
from .render import Renderer
from .run_backend import MysqlRunBackend
from .servers import get_server, parse_url, run, scratch_identity, server_message


class MysqlDialect(OneNamespace):
    namespace = SCHEMA
    name = "mysql"
    sqlalchemy_url = "mysql+pymysql://"

    def connect(self, url: str) -> Any:
        target = parse_url(url)
        if not target.database:
            raise SchemashiftError(f"{target.where()}: the URL names no database (mysql://user@host/DATABASE)")
        return target.connect()

    @contextlib.contextmanager
    def empty(self, server: ScratchServer) -> Iterator[str]:
        scratch = get_server(server.dev_url)
        name = scratch.create()
        try:
            yield scratch.target.url(name)
        finally:
            scratch.drop(name)

    @contextlib.contextmanager
    def loaded(self, files: list[SqlFile], server: ScratchServer) -> Iterator[str]:
        with self.empty(server) as url:
            target = parse_url(url)
            for file in files:
                load_text(target, target.database or "", file.text, file.path)
            yield url

    def scratch_identity(self, server: ScratchServer) -> str | None:
        return scratch_identity(server.dev_url)

    def for_comparison(self, sources: Iterable[object], server: ScratchServer) -> ScratchServer:
        return server

    def inspect(self, conn: Any, options: InspectOptions | None = None) -> Schema:
        return inspect_connection(conn)

    def apply(self, plan: Plan, conn: Any, *, lock_retries: int = 0) -> None:
        """Each statement on its own, as the client runs a script: MySQL commits around DDL anyway."""
        with conn.cursor() as cur:
            for st in plan.statements:
                try:
                    run(cur, st.sql)
                except pymysql.err.MySQLError as exc:
                    raise SchemashiftError(f"applying `{st.sql.splitlines()[0][:120]}` failed: "
                                           f"{server_message(exc)}") from None

    def run_backend(self) -> MysqlRunBackend:
        return MysqlRunBackend()

    def rebuilt_by_column_type_change(self, key: Key) -> bool:
        """A foreign key refuses a change of its columns' types: it is dropped and added again.
        Views and triggers read columns by name at run time and stay."""
        return key[0] == "constraint"

    def render(self, changes: list[Change], source: Schema, target: Schema) -> Plan:
        return order(Renderer(changes, source, target).statements())


def diff_schemas(source: Schema, target: Schema) -> Plan:
    """The plan that turns `source` into `target`, through the shared differ."""
    dialect = MysqlDialect()
    return dialect.render(diff(source, target, dialect), source, target)


def inspect_url(url: str) -> Schema:
    """The schema of the database a `mysql://user:pw@host:port/db` URL names (only read)."""
    target = parse_url(url)
    with target.connect() as conn:
        return inspect_connection(conn)


def diff_mysql(a_url: str, b_url: str) -> Plan:
    """The plan that turns the database `a_url` names into `b_url`'s."""
    return diff_schemas(inspect_url(a_url), inspect_url(b_url))
