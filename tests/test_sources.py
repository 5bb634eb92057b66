"""open_source against real servers: the embedded PostgreSQL, and Debian's PostgreSQL 15 where installed."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from schemashift.errors import LoadError, SchemashiftError, SourceError
from schemashift.dialects.postgres.servers import get_server, url_with_database
from schemashift.dialects.base import ScratchServer
from schemashift.sources import open_source

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PG15_BIN = Path("/usr/lib/postgresql/15/bin")
needs_pg15 = pytest.mark.skipif(not (PG15_BIN / "postgres").exists(), reason="Debian's PostgreSQL 15 is not installed")


@pytest.fixture(scope="module")
def server():
    return get_server()


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def relations(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY relname"
        ).fetchall()
    return [name for (name,) in rows]


def scratch_databases(server) -> set[str]:
    with psycopg.connect(server.admin_url) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'schemashift%'").fetchall()
    return {name for (name,) in rows}


def load_error(spec: str, **options) -> LoadError:
    with pytest.raises(LoadError) as info:
        with open_source(spec, **options):
            pass
    return info.value


# --- URLs and `empty` -----------------------------------------------------------------------------


def test_url_is_yielded_as_is(server):
    with open_source(server.admin_url) as url:
        assert url == server.admin_url


def test_postgres_scheme_is_accepted_as_postgresql(server):
    heroku_style = "postgres://" + server.admin_url.removeprefix("postgresql://")
    with open_source(heroku_style) as url:
        assert url == server.admin_url


def test_unreachable_url_is_one_line_without_password():
    with pytest.raises(SourceError) as info:
        with open_source("postgresql://deployer:s3cret-pw@127.0.0.1:1/app"):
            pass
    message = str(info.value)
    assert message.startswith("cannot connect to postgresql://deployer:***@127.0.0.1:1/app: ")
    assert "s3cret-pw" not in message and "\n" not in message


def test_wrong_database_name_is_named(server):
    url = url_with_database(server.admin_url, "no_such_database")
    with pytest.raises(SourceError, match='database "no_such_database" does not exist'):
        with open_source(url):
            pass


def test_empty_is_a_fresh_database_dropped_after(server):
    before = scratch_databases(server)
    with open_source("empty") as url:
        assert relations(url) == []
        assert len(scratch_databases(server) - before) == 1
    assert scratch_databases(server) == before


@pytest.mark.parametrize("spec, message", [
    ("migrations:no/such/folder", r"no migrations folder at no/such/folder \(run `schemashift init`\)"),
    ("python:no_such_app.models:metadata", "python:no_such_app.models:metadata: cannot import no_such_app.models"),
])
def test_missing_migrations_and_models_say_so(server, spec, message):
    before = scratch_databases(server)
    with pytest.raises(SchemashiftError, match=message):
        with open_source(spec):
            pass
    assert scratch_databases(server) == before


# --- files and folders ----------------------------------------------------------------------------


def test_file_is_loaded_and_dropped_after(server, tmp_path):
    before = scratch_databases(server)
    spec = write(tmp_path / "s.sql", "CREATE TABLE a (id int PRIMARY KEY);\nCREATE VIEW v AS SELECT id FROM a;\n")
    with open_source(spec) as url:
        assert relations(url) == ["a", "a_pkey", "v"]
    assert scratch_databases(server) == before


def test_syntax_error_gives_file_and_line(tmp_path):
    spec = write(tmp_path / "s.sql", "-- héllo wörld, non-ASCII before the error\nCREATE TABLE a (id int);\n\nCREATE TABLE b (x int REFRENCES a);\n")
    error = load_error(spec)
    assert str(error) == f'{spec}:4: syntax error at or near "REFRENCES"'


def test_error_position_inside_a_long_statement_gives_its_line(tmp_path):
    spec = write(tmp_path / "s.sql", "CREATE TABLE a (id int);\nCREATE VIEW v AS\n  SELECT id,\n    missing_column\n  FROM a;\n")
    assert str(load_error(spec)) == f'{spec}:4: column "missing_column" does not exist'


def test_error_without_position_is_located_by_statement(server, tmp_path):
    before = scratch_databases(server)
    spec = write(tmp_path / "s.sql", "CREATE TABLE a (id int);\n\nCREATE TABLE b (id int);\nCREATE TABLE a (id int);\n")
    assert str(load_error(spec)) == f'{spec}:4: relation "a" already exists'
    assert scratch_databases(server) == before


def test_create_index_concurrently_falls_back_to_one_statement_at_a_time(tmp_path):
    spec = write(tmp_path / "s.sql", "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n")
    with open_source(spec) as url:
        assert relations(url) == ["t", "t_a"]


def test_error_after_concurrently_still_gives_its_line(tmp_path):
    spec = write(tmp_path / "s.sql", "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY ON t (a);\nSELECT nope FROM t;\n")
    assert str(load_error(spec)) == f'{spec}:3: column "nope" does not exist'


def test_enum_value_added_and_used_in_one_file_falls_back(tmp_path):
    spec = write(
        tmp_path / "s.sql",
        "BEGIN;\nCREATE TYPE mood AS ENUM ('sad');\nCOMMIT;\n"
        "ALTER TYPE mood ADD VALUE 'happy';\nCREATE TABLE t (m mood DEFAULT 'happy');\n",
    )
    with open_source(spec) as url:
        assert relations(url) == ["t"]


def test_enum_value_added_in_a_later_file_of_a_folder(tmp_path):
    write(tmp_path / "1_type.sql", "CREATE TYPE mood AS ENUM ('sad');\n")
    write(tmp_path / "2_use.sql", "ALTER TYPE mood ADD VALUE 'happy';\nCREATE TABLE t (m mood DEFAULT 'happy');\n")
    with open_source(str(tmp_path)) as url:
        assert relations(url) == ["t"]


def test_begin_without_commit_is_refused_not_rolled_back_silently(tmp_path):
    spec = write(tmp_path / "s.sql", "BEGIN;\nCREATE TABLE a (id int);\n")
    assert str(load_error(spec)) == f"{spec}: the file leaves a transaction open (BEGIN without COMMIT)"


def test_folder_loads_sql_files_sorted_by_name(tmp_path):
    write(tmp_path / "10_second.sql", "ALTER TABLE a ADD COLUMN b int;\n")
    write(tmp_path / "01_first.sql", "CREATE TABLE a (id int);\n")
    write(tmp_path / "20_third.sql", "CREATE INDEX a_b ON a (b);\n")
    write(tmp_path / "README.md", "not SQL, ignored\n")
    with open_source(str(tmp_path)) as url:
        assert relations(url) == ["a", "a_b"]


def test_folder_error_names_the_file(tmp_path):
    write(tmp_path / "1.sql", "CREATE TABLE a (id int);\n")
    bad = write(tmp_path / "2.sql", "\nALTER TABLE nope ADD COLUMN b int;\n")
    assert str(load_error(str(tmp_path))) == f'{bad}:2: relation "nope" does not exist'


def test_settings_of_one_file_do_not_leak_into_the_next(tmp_path):
    write(tmp_path / "1.sql", "SELECT pg_catalog.set_config('search_path', '', false);\n")
    write(tmp_path / "2.sql", "CREATE TABLE a (id int);\n")
    with open_source(str(tmp_path)) as url:
        assert relations(url) == ["a"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.sql", "no such file or folder"),
        ("notes.txt", "not a .sql file"),
        ("empty_folder", "folder holds no .sql files"),
    ],
)
def test_bad_paths_are_one_line_errors(tmp_path, name, message):
    if name == "notes.txt":
        write(tmp_path / name, "CREATE TABLE a ();\n")
    if name == "empty_folder":
        (tmp_path / name).mkdir()
    with pytest.raises(SourceError, match=message):
        with open_source(str(tmp_path / name)):
            pass


def test_file_that_is_not_utf8(tmp_path):
    (tmp_path / "latin1.sql").write_bytes("COMMENT ON SCHEMA public IS 'café';\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        with open_source(str(tmp_path / "latin1.sql")):
            pass


# --- psql meta-commands ---------------------------------------------------------------------------


def test_restrict_lines_from_new_pg_dump_are_skipped(tmp_path):
    spec = write(tmp_path / "dump.sql", "\\restrict abc123\nCREATE TABLE a (id int);\n\\unrestrict abc123\n")
    with open_source(spec) as url:
        assert relations(url) == ["a"]


def test_other_meta_commands_are_refused_with_their_line(tmp_path):
    spec = write(tmp_path / "dump.sql", "CREATE TABLE a (id int);\n\\connect other\n")
    assert str(load_error(spec)) == f"{spec}:2: psql meta-command \\connect is not supported: remove it, schemashift loads plain SQL"


def test_backslash_lines_inside_strings_are_sql(tmp_path):
    spec = write(tmp_path / "s.sql", "\\restrict x\nCREATE VIEW v AS SELECT $$\n\\connect x\n$$::text AS t;\n")
    with open_source(spec) as url, psycopg.connect(url) as conn:
        assert conn.execute("SELECT t FROM v").fetchone() == ("\n\\connect x\n",)


# --- extensions and the corpus --------------------------------------------------------------------


def test_missing_extension_says_which_and_how_to_pick_another_server(tmp_path):
    spec = write(tmp_path / "s.sql", "CREATE TABLE a (id int);\n\nCREATE EXTENSION no_such_extension;\n")
    message = str(load_error(spec))
    assert message.startswith(f'{spec}:3: extension "no_such_extension" is not available on the PostgreSQL ')
    assert "--pg-bin DIR" in message and "SCHEMASHIFT_PG_BIN" in message and "--dev-url URL" in message


CHINOOK = sorted(CORPUS.glob("chinook/*.sql"))
DANBOORU = sorted(CORPUS.glob("danbooru/*.sql"))
GITLAB = CORPUS / "gitlab" / "structure.sql"


@pytest.mark.parametrize("path", CHINOOK, ids=lambda p: p.name)
def test_chinook_loads_on_the_embedded_server(path):
    with open_source(str(path)) as url:
        assert "album" in relations(url)


@pytest.mark.skipif(not GITLAB.exists(), reason="corpus not found")
def test_gitlab_loads_on_the_embedded_server():
    with open_source(str(GITLAB)) as url:
        assert len(relations(url)) > 5000


@pytest.mark.skipif(not DANBOORU, reason="corpus not found")
def test_danbooru_on_the_embedded_server_names_pgcrypto():
    path = CORPUS / "danbooru" / "structure_2026-03-23_6066256fb.sql"
    assert 'extension "pgcrypto" is not available' in str(load_error(str(path)))


@needs_pg15
@pytest.mark.parametrize("path", DANBOORU, ids=lambda p: p.name)
def test_danbooru_loads_on_postgresql_15(path):
    with open_source(str(path), server=ScratchServer(bin_dir=str(PG15_BIN))) as url:
        assert "posts" in relations(url)
