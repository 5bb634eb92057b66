"""A MariaDB server for the session: Debian's mariadbd, started as an unprivileged user by the
dialect's own `start_server` (skipped when mariadbd is absent, an error under CI, which installs it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from schemashift.dialects.mysql.servers import ThrowawayServer, start_server  # noqa: E402
from schemashift.errors import ServerError  # noqa: E402


@pytest.fixture(scope="session")
def mariadb() -> Iterator[ThrowawayServer]:
    try:
        server = start_server()
    except ServerError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but MariaDB cannot start: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()
