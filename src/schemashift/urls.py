"""Database URL helpers, kept free of heavy imports: the CLI's start-up reads them."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

_DRIVER = re.compile(r"^(\w+)\+\w+://")


def normalize_url(url: str) -> str:
    """SQLAlchemy's `scheme+driver://` as `scheme://` (we pick the driver), Heroku-style
    `postgres://` as `postgresql://`."""
    url = _DRIVER.sub(r"\1://", url)
    return "postgresql://" + url[len("postgres://") :] if url.startswith("postgres://") else url


def url_with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(normalize_url(url))
    return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))
