"""`python:` sources: the models are compiled once and reused while none of the files the import
read changed; an edit to any of them (the models, a module they import) is seen at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import schemashift

MODELS = '''
from pathlib import Path
Path(__file__).with_name("imports.log").open("a").write("imported\\n")  # how often the models were imported
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from columns import extra

class Base(DeclarativeBase):
    pass

class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    locals().update(extra())
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SCHEMASHIFT_MODELS_CACHE", raising=False)
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "columns.py").write_text("from sqlalchemy.orm import mapped_column\nfrom sqlalchemy import Text\n"
                                         "def extra():\n    return {'note': mapped_column(Text)}\n")
    return tmp_path


def imports(project: Path) -> int:
    return (project / "imports.log").read_text().count("imported")


def columns(schema: schemashift.model.Schema) -> list[str]:
    return [c.name for c in schema.objects[("table", "main", "item")].columns]


@pytest.mark.parametrize("how", ["library", "cli"])
def test_compiled_once_and_recompiled_after_an_edit(project: Path, how: str) -> None:
    def read() -> list[str]:
        if how == "library":  # a child Python compiles them: nothing stays in this process
            return columns(schemashift.inspect("python:models:Base", dialect="sqlite"))
        # the CLI's own process compiles them itself (compile_in_this_process)
        result = subprocess.run([sys.executable, "-m", "schemashift", "dump", "python:models:Base", "--dialect",
                                 "sqlite"], capture_output=True, text=True, env={**os.environ, "SCHEMASHIFT_SERVER_IDLE": "0"})
        assert result.returncode == 0, result.stderr
        return [c for c in ("id", "note", "size") if f'"{c}"' in result.stdout]

    assert read() == ["id", "note"]
    assert read() == ["id", "note"]
    assert imports(project) == 1
    (project / "columns.py").write_text((project / "columns.py").read_text()
                                        .replace("Text)}", "Text), 'size': mapped_column(Text)}"))
    assert read() == ["id", "note", "size"]
    assert imports(project) == 2


def test_the_cache_can_be_turned_off(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMASHIFT_MODELS_CACHE", "0")
    for _ in range(2):
        assert columns(schemashift.inspect("python:models:Base", dialect="sqlite")) == ["id", "note"]
    assert imports(project) == 2
