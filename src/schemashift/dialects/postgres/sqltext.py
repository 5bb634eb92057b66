"""Quoting, in one place: every identifier we print is quoted, every literal escaped."""

from __future__ import annotations


def ident(name: str) -> str:
    """A quoted identifier; round-trips quotes, spaces, capitals and unicode."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}" if schema else ident(name)


def literal(value: str) -> str:
    """A string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    return "'" + value.replace("'", "''") + "'"
