"""Template databases kept on the scratch server, so a source built once is not built again.

Building a source's database is most of a call's cost: a migrations folder replayed, a large `.sql`
file loaded. Both are pure functions of their input and of the server, so the result is kept as a
database on the scratch server itself, named after a key: the SHA-256 of the server's identity
(`version()`, which names the build, and the binaries' folder), schemashift's version, the kind of
source and its content (for a replay, the chained hash `schemashift.sum` holds for the migration, so
an edited file changes every later key and nothing stale is ever found). A hit is cloned
(`CREATE DATABASE … TEMPLATE`) or, for a read-only source, read where it is.

Everything the cache knows lives in the server: the templates are the databases named
`sstpl_<key>`, each with a JSON comment (kind, label, last use); no file on the client can
disagree with it. A template is built under a temporary `schemashift_new_*` name and renamed into
place, so a reader never sees one half made; of two processes that build the same key at once, the
second rename fails and its copy is dropped. Beyond the bound (count and bytes), the least recently
used are dropped; one in use (a clone running holds it, a reader is connected) is skipped, never
forced. Templates live where scratch databases do (a kept server's RAM tablespace, where a copy of
a small database costs milliseconds rather than a busy disk's tenths of a second), so, like them,
they go when a kept server starts again (its sweep of what killed runs left clears them too).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ...errors import ServerError
from .servers import Server

PREFIX = "sstpl_"  # not `schemashift_`: those are scratch databases, each dropped by whoever made it
BUILDING_PREFIX = "schemashift_new_"
FORMAT = "1"  # bump when what a template holds changes meaning


@dataclass(frozen=True)
class CachePolicy:
    """Whether templates are kept, and how many (count and bytes) before the oldest go."""

    enabled: bool = True
    max_templates: int = 64
    max_bytes: int = 1 << 30


_override: CachePolicy | None = None


def disable(off: bool = True) -> None:
    """`--no-cache`: this process neither reads nor writes templates (until `disable(False)`)."""
    global _override
    _override = CachePolicy(enabled=False) if off else None


def policy() -> CachePolicy:
    """The policy from `--no-cache`, else the settings (`cache`, `cache_templates`, `cache_mb`:
    flags, `SCHEMASHIFT_*`, config file)."""
    if _override is not None:
        return _override
    from ...config import load_settings

    settings = load_settings({})
    return CachePolicy(settings.cache, settings.cache_templates, settings.cache_mb << 20)


@dataclass(frozen=True)
class Template:
    name: str
    used: float
    size: int
    kind: str
    label: str


class TemplateCache:
    """The templates of one server. Its own admin connection, so a clone or a rename never waits
    behind the server's scratch-database statements of another thread."""

    def __init__(self, server: Server, policy: CachePolicy) -> None:
        self.server = server
        self.policy = policy
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None

    def _execute(self, query: sql.Composable, params: Sequence[object] = ()) -> list[tuple]:
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.server.admin_url, autocommit=True)
            cur = self._conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    @functools.cached_property
    def _identity(self) -> bytes:
        from importlib.metadata import version

        ((server,),) = self._execute(sql.SQL("SELECT version()"))
        return "\0".join([FORMAT, version("schemashift"), server, str(self.server.bin_dir)]).encode()

    def key(self, kind: str, *parts: str | bytes) -> str:
        """The template name for `kind` built from `parts` on this server."""
        digest = hashlib.sha256(self._identity + b"\0" + kind.encode())
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(b"\0" + hashlib.sha256(data).digest())
        return PREFIX + digest.hexdigest()[:48]  # 54 characters: names stop at 63

    def longest(self, names: Sequence[str]) -> int:
        """The longest cached prefix of a chain of keys (each one's content includes all before it):
        the position after the last key that is cached, 0 if none is."""
        if not self.policy.enabled or not names:
            return 0
        found = {name for (name,) in self._execute(
            sql.SQL("SELECT datname FROM pg_database WHERE datname = ANY(%s)"), [list(names)])}
        for index in reversed([i for i, name in enumerate(names) if name in found]):
            if self.touch(names[index]):
                return index + 1
        return 0

    def touch(self, name: str) -> bool:
        """Mark a template as just used (the LRU order), keeping its kind and label; False when it
        is gone (another process evicted it meanwhile)."""
        rows = self._execute(sql.SQL("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                     "WHERE datname = %s"), [name])
        if not rows:
            return False
        meta = _meta(rows[0][0])
        try:
            self._comment(name, meta.get("kind", ""), meta.get("label", ""))
        except psycopg.errors.InvalidCatalogName:
            return False
        return True

    def _comment(self, name: str, kind: str, label: str) -> None:
        text = json.dumps({"kind": kind, "label": label, "used": time.time()})
        self._execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(text)))

    def save(self, database: str, name: str, kind: str, label: str, *, readable: bool = False,
             move: bool = False) -> None:
        """Keep `database` as the template `name`: a copy of it, or (`move`) the database itself,
        renamed. A `readable` template may be connected to, read-only by default; the others take no
        connections, so a clone of them never finds one in the way."""
        if not self.policy.enabled:
            return
        building = BUILDING_PREFIX + uuid.uuid4().hex[:16]
        ident = sql.Identifier(building)
        if move:
            self._execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(database), ident))
        else:
            self._execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY TABLESPACE {}").format(
                ident, sql.Identifier(database), sql.Identifier(self.server.scratch_tablespace or "pg_default")))
        self._comment(building, kind, label)
        if readable:
            self._execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(ident))
        else:
            self._execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(ident))
        try:
            self._execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(ident, sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:  # another process kept the same key first
            self._drop(building)

    def templates(self) -> list[Template]:
        """Every template on the server, most recently used first."""
        rows = self._execute(sql.SQL(
            "SELECT datname, shobj_description(oid, 'pg_database'), pg_database_size(oid) FROM pg_database "
            "WHERE datname LIKE %s"), [PREFIX.replace("_", "\\_") + "%"])
        found = [Template(name, float(meta.get("used", 0)), size, meta.get("kind", ""), meta.get("label", ""))
                 for name, comment, size in rows for meta in [_meta(comment)]]
        return sorted(found, key=lambda t: t.used, reverse=True)

    def evict(self) -> None:
        """Drop the least recently used templates beyond the bound (once a build has saved all it
        saves: measuring every template's size is the dearest query here)."""
        count = size = 0
        for template in self.templates():
            count, size = count + 1, size + template.size
            if count > self.policy.max_templates or size > self.policy.max_bytes:
                if not self._drop(template.name):
                    count, size = count - 1, size - template.size  # in use: it stays, and counts

    def clone(self, name: str) -> str | None:
        """A new scratch database copied from the template `name`; None if it went meanwhile."""
        try:
            return self.server.create_database(template=name)
        except ServerError:
            if self._execute(sql.SQL("SELECT 1 FROM pg_database WHERE datname = %s"), [name]):
                raise
            return None

    def _drop(self, name: str) -> bool:
        """Drop a template unless something uses it; whether it went."""
        if self._execute(sql.SQL("SELECT 1 FROM pg_stat_activity WHERE datname = %s"), [name]):
            return False
        try:
            self._execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        except psycopg.errors.ObjectInUse:
            return False
        return True


def _meta(comment: str | None) -> dict[str, str]:
    try:
        meta = json.loads(comment or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


@contextlib.contextmanager
def loaded(server: Server, kind: str, parts: Sequence[str | bytes], label: str,
           build: Callable[[], str]) -> Iterator[str]:
    """The URL of a database, for reading, that `build` (which returns a new scratch database's
    name) makes from `parts`: the template kept for them, read where it is; on a miss, built first
    and kept (renamed when it is already where templates live, else copied there). With the cache
    off, the scratch database itself, dropped on exit."""
    cache = cache_for(server)
    if not cache.policy.enabled:
        database = build()
        try:
            yield server.url(database)
        finally:
            server.drop_database(database)
        return
    name = cache.key(kind, *parts)
    if not cache.longest([name]):
        cache.save(build(), name, kind, label, readable=True, move=True)
        cache.evict()
    yield server.url(name)


_caches: dict[int, TemplateCache] = {}
_caches_lock = threading.Lock()


def cache_for(server: Server) -> TemplateCache:
    """The process's cache on `server`, under the policy of the moment."""
    wanted = policy()
    with _caches_lock:
        cache = _caches.get(id(server))
        if cache is None or cache.server is not server or cache.policy != wanted:
            cache = _caches[id(server)] = TemplateCache(server, wanted)
        return cache
