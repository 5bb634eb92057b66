"""The template cache (dialects/postgres: template_cache, replay_cache): a replay starts from the longest
cached prefix of the folder and runs only what follows; an edited file is never served from a stale
template; the bound evicts the least recently used; two replays at once share one template; `.sql`
sources are loaded once per content.

Every count here is what the runner reports it ran (`runner.up`'s count of migrations applied),
never a time.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

import schemashift
from migration_helpers import Folder, cli_run
from schemashift.dialects.postgres import replay_cache, servers, template_cache
from schemashift.dialects.postgres.loader import load_into_scratch
from schemashift.migrations.replay import REPLAY_HISTORY, replayed
from schemashift.sqlfiles import SqlFile

COUNT = 300
LOG = "schemashift.dialects.postgres.replay_cache"


@pytest.fixture(autouse=True)
def fresh_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default policy, whatever a config file or an earlier `--no-cache` said."""
    monkeypatch.setattr(template_cache, "_override", None)
    for name in ("SCHEMASHIFT_CACHE", "SCHEMASHIFT_CACHE_TEMPLATES", "SCHEMASHIFT_CACHE_MB"):
        monkeypatch.delenv(name, raising=False)


def generate(folder: Folder, count: int, tag: str, start: int = 1) -> None:
    """`count` migrations, each a table (and an index every third): `tag` makes the folder's content,
    and so its keys, its own."""
    for i in range(start, start + count):
        up = f"CREATE TABLE t{i} (id int PRIMARY KEY, note text DEFAULT '{tag}');"
        if i % 3 == 0:
            up += f"\nCREATE INDEX t{i}_note ON t{i} (note);"
        (folder.path / f"{i:04d}_t{i}.sql").write_text(f"-- schemashift:up\n{up}\n-- schemashift:down\nDROP TABLE t{i};\n")
    folder.rehash()


def replays(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int]]:
    """(migrations from a template, migrations applied) of each replay logged so far."""
    return [record.args[1:] for record in caplog.records if record.name == LOG]  # type: ignore[index, misc]


@pytest.fixture
def big(folder: Folder) -> Folder:
    generate(folder, COUNT, uuid.uuid4().hex)
    return folder


def test_second_check_after_a_new_migration_replays_only_it(big: Folder, url: str, shift,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    assert shift(big, url, "up").code == 0
    assert shift(big, url, "check").code == 0
    generate(big, 1, "added", start=COUNT + 1)
    assert shift(big, url, "up").code == 0
    result = shift(big, url, "check")
    assert result.code == 0, result.err
    assert replays(caplog) == [(0, COUNT), (COUNT, 1)]
    assert shift(big, url, "check").code == 0
    assert replays(caplog)[-1] == (COUNT + 1, 0)


def test_an_edited_migration_is_never_served_from_a_stale_template(big: Folder, server: servers.Server,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    first = replay_cache.build(server, big.path, None, REPLAY_HISTORY)
    server.drop_database(first.database)
    edited = big.path / "0150_t150.sql"
    edited.write_text(edited.read_text().replace("note text", "note varchar(20)"))
    big.rehash()
    with replayed(big.path) as url:
        cached = schemashift.inspect(url)
        with psycopg.connect(url) as conn:
            (kind,) = conn.execute("SELECT atttypid::regtype::text FROM pg_attribute "
                                   "WHERE attrelid = 't150'::regclass AND attname = 'note'").fetchone()
    assert kind == "character varying"
    # The checkpoint before the edit is where it starts; every later template is stale and unused.
    below = max(p for p in replay_cache._checkpoints(0, COUNT) if p < 150)
    assert replays(caplog)[-1] == (below, COUNT - below)
    template_cache.disable()
    with replayed(big.path) as url:
        assert schemashift.inspect(url) == cached
    assert replays(caplog)[-1] == (0, COUNT)


def test_editing_the_newest_migration_replays_only_it(folder: Folder, server: servers.Server,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    generate(folder, 30, uuid.uuid4().hex)
    server.drop_database(replay_cache.build(server, folder.path, None, REPLAY_HISTORY).database)
    newest = folder.path / "0030_t30.sql"
    newest.write_text(newest.read_text().replace("PRIMARY KEY", "UNIQUE"))
    folder.rehash()
    server.drop_database(replay_cache.build(server, folder.path, None, REPLAY_HISTORY).database)
    assert replays(caplog) == [(0, 30), (29, 1)]


def test_templates_beyond_the_bound_are_evicted_oldest_first(make_folder, server: servers.Server,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMASHIFT_CACHE_TEMPLATES", "4")
    labels = []
    for n in range(3):  # each a folder of 2 migrations: 2 templates (the last two are checkpoints)
        folder = make_folder(f"m{n}")
        generate(folder, 2, uuid.uuid4().hex)
        server.drop_database(replay_cache.build(server, folder.path, None, REPLAY_HISTORY).database)
        labels.append(str(folder.path.resolve()))
    kept = template_cache.cache_for(server).templates()
    assert len(kept) == 4
    assert [t.label.rsplit("/", 1)[0] for t in kept] == [labels[2]] * 2 + [labels[1]] * 2
    assert kept == sorted(kept, key=lambda t: t.used, reverse=True)


def test_two_replays_at_once_both_succeed_and_keep_one_template(folder: Folder, server: servers.Server) -> None:
    generate(folder, 40, uuid.uuid4().hex)
    sides = [servers.DevServer(server.admin_url) for _ in range(2)]  # two connections, as two processes have
    results: dict[int, replay_cache.Replayed] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = replay_cache.build(sides[index], folder.path, None, REPLAY_HISTORY)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 2
    mine = [t for t in template_cache.cache_for(server).templates() if t.label.startswith(str(folder.path.resolve()))]
    assert sorted(t.label.rsplit("/", 1)[1] for t in mine) == ["0039_t39.sql", "0040_t40.sql"]
    with psycopg.connect(server.admin_url) as conn:
        assert not conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                [template_cache.BUILDING_PREFIX + "%"]).fetchall()
    for index, side in enumerate(sides):
        with psycopg.connect(side.url(results[index].database)) as conn:
            assert conn.execute("SELECT count(*) FROM pg_class WHERE relname ~ '^t[0-9]+$'").fetchone() == (40,)
        side.close()


def test_a_sql_file_is_loaded_once_per_content(server: servers.Server, tmp_path: Path) -> None:
    loads: list[str] = []

    def load(text: str) -> str:
        def build() -> str:
            loads.append(text)
            return load_into_scratch(server, [SqlFile("s.sql", text)])

        with template_cache.loaded(server, "sql", [text], "s.sql", build) as url:
            assert ("table", "public", "a") in schemashift.inspect(url).objects
            return url

    first = f"CREATE TABLE a (id int PRIMARY KEY, tag text DEFAULT '{uuid.uuid4().hex}');"
    url = load(first)
    assert load(first) == url and loads == [first]
    changed = first.replace("tag text", "tag varchar(40)")
    assert load(changed) != url and loads == [first, changed]
    with psycopg.connect(url) as conn:  # read-only by default: a reader cannot change the template
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE b ()")


def test_a_sql_file_diff_reads_the_cached_template(server: servers.Server, tmp_path: Path) -> None:
    a, b = tmp_path / "a.sql", tmp_path / "b.sql"
    tag = uuid.uuid4().hex
    a.write_text(f"CREATE TABLE a (id int, tag text DEFAULT '{tag}');\n")
    b.write_text(f"CREATE TABLE a (id int, tag text DEFAULT '{tag}', note text);\n")
    before = {t.name for t in template_cache.cache_for(server).templates()}
    plan = schemashift.diff(str(a), str(b))
    made = {t.name for t in template_cache.cache_for(server).templates()} - before
    assert len(made) == 2
    assert schemashift.diff(str(a), str(b)).sql == plan.sql
    assert {t.name for t in template_cache.cache_for(server).templates()} - before == made
    b.write_text(b.read_text().replace("note text", "note int"))
    assert "integer" in schemashift.diff(str(a), str(b)).sql


def test_no_cache_builds_afresh_and_keeps_nothing(big: Folder, url: str, shift, server: servers.Server,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    before = {t.name for t in template_cache.cache_for(server).templates()}
    assert shift(big, url, "up").code == 0
    assert shift(big, url, "check", "--no-cache").code == 0
    assert replays(caplog) == [(0, COUNT)]
    assert {t.name for t in template_cache.cache_for(server).templates()} == before


def test_diff_no_cache_loads_the_files_and_keeps_nothing(server: servers.Server, tmp_path: Path) -> None:
    a, b = tmp_path / "a.sql", tmp_path / "b.sql"
    a.write_text(f"CREATE TABLE a (id int, tag text DEFAULT '{uuid.uuid4().hex}');\n")
    b.write_text(a.read_text().replace("tag text", "tag text, note varchar(9)"))
    before = {t.name for t in template_cache.cache_for(server).templates()}
    result = cli_run("diff", "--no-cache", str(a), str(b))
    assert result.code == 2 and "character varying(9)" in result.out, result.err
    assert {t.name for t in template_cache.cache_for(server).templates()} == before


def test_bad_cache_settings_are_one_line(folder: Folder, url: str, shift, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMASHIFT_CACHE", "maybe")
    assert "cache must be on or off, not 'maybe'" in shift(folder, url, "check").one_line_error()
    monkeypatch.setenv("SCHEMASHIFT_CACHE", "off")
    monkeypatch.setenv("SCHEMASHIFT_CACHE_TEMPLATES", "many")
    assert "cache_templates must be a whole number" in cli_run("diff", "empty", "empty").one_line_error()
