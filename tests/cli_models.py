"""What the SQLite and MySQL versioned-side tests share: two versions of a small SQLAlchemy models
module, the CLI run in this process, and the shape every user error has."""

from __future__ import annotations

from click.testing import CliRunner

from schemashift.cli import cli

MODELS_V1 = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
'''

MODELS_V2 = MODELS_V1 + '''
    email: Mapped[str | None] = mapped_column(String(200), unique=True)


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
'''


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code: int, err: str) -> str:
    assert code == 1 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("schemashift: "), err
    return lines[0]
