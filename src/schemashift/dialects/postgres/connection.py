"""Connecting to a PostgreSQL database the user named: one line saying why not, password hidden."""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ...errors import SourceError
from ...urls import normalize_url

URL_PREFIXES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_SECONDS = 10


def connect(url: str, **options: object) -> psycopg.Connection:
    """A connection to `url`, or a one-line `SourceError` saying why not (password hidden)."""
    url = normalize_url(url)
    try:
        given = conninfo_to_dict(url)
        timeout = given.get("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        return psycopg.connect(url, connect_timeout=timeout, **options)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        raise SourceError(f"cannot connect to {url}: {first_line(str(exc))}") from None


def first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "unknown error"
