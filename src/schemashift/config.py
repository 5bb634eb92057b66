"""Settings, from the most specific source to the least: command-line flags, then the environment
(`SCHEMASHIFT_<NAME>`, and `DATABASE_URL` for the URL), then `[tool.schemashift]` in the nearest
`pyproject.toml` or `schemashift.toml` (in the latter, top-level keys work too).

Every command reads the same `Settings`, so a project configures its URL, folder and history table
once. A relative `migrations` path in a config file is relative to that file, not to the cwd.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SchemashiftError
from .urls import normalize_url

CONFIG_FILES = ("schemashift.toml", "pyproject.toml")


@dataclass(frozen=True)
class Settings:
    """What a command needs to know besides its own arguments."""

    url: str | None = None
    migrations: Path = Path("migrations")
    history_table: str = "public.schemashift_history"
    lock_timeout: float = 600.0
    dev_url: str | None = None
    pg_bin: str | None = None
    # The desired schema `new`, `check` and `sync` compare with: any diff source (file, folder,
    # `python:pkg.module:metadata`, URL).
    target: str | None = None
    # The engine of sources that do not name one (.sql files, folders): postgresql, sqlite, mysql.
    dialect: str | None = None
    # `--online`: `new` and `sync` write the plan's lock-light form, each locking statement under
    # `SET LOCAL lock_timeout = online_lock_timeout`; a step that hits it is retried `lock_retries` times.
    online: bool = False
    online_lock_timeout: str = "100ms"
    lock_retries: int = 5
    # The caches (template databases on the scratch server, see template_cache; schemas, see
    # schema_cache): on or off, and the templates' bound.
    cache: bool = True
    cache_templates: int = 64
    cache_mb: int = 1024


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest config file at or above `start` holding schemashift settings, and those settings."""
    for folder in [start, *start.parents]:
        for name in CONFIG_FILES:
            path = folder / name
            if path.is_file():
                table = _read_table(path)
                if table is not None:
                    return path, table
    return None


def _read_table(path: Path) -> dict[str, Any] | None:
    import tomllib  # here: only a run that finds a config file pays for it

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SchemashiftError(f"{path}: {exc}") from None
    tool = data.get("tool")
    table = tool.get("schemashift") if isinstance(tool, dict) else None
    if table is None and path.name == "schemashift.toml":
        table = {k: v for k, v in data.items() if k != "tool"}
    if table is not None and not isinstance(table, dict):
        raise SchemashiftError(f"{path}: tool.schemashift must be a table of settings, not {table!r}")
    return None if table is None else {k.replace("-", "_"): v for k, v in table.items()}


def load_settings(
    flags: Mapping[str, object], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Settings:
    """Merge flags (None means "not given"), environment and config file into `Settings`."""
    env = os.environ if env is None else env
    found = find_config(cwd or Path.cwd())
    from_file = found[1] if found else {}
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        value = flags.get(field.name)
        if value is None:
            value = env.get(f"SCHEMASHIFT_{field.name.upper()}") or None
        if value is None and field.name == "url":
            value = env.get("DATABASE_URL") or None
        if value is None and field.name in from_file:
            value = from_file[field.name]
            if field.name in ("migrations", "target") and found and _is_path(str(value)):
                value = found[0].parent / str(value)
        if value is not None:
            values[field.name] = _convert(field.name, value)
    return Settings(**values)


def _is_path(value: str) -> bool:
    """A file or folder, as opposed to a URL or a `python:` / `migrations:` source."""
    return ":" not in value and value != "empty"


def _convert(name: str, value: object) -> object:
    """A setting's value as `Settings` holds it; one line naming the setting when it cannot be."""
    if name in ("online", "cache"):
        return _flag(name, value)
    if name in ("lock_retries", "cache_templates", "cache_mb"):
        try:
            return int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise SchemashiftError(f"{name} must be a whole number, not {value!r}") from None
    if name == "lock_timeout":
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise SchemashiftError(f"lock_timeout must be a number of seconds, not {value!r}") from None
    if not isinstance(value, (str, Path)):
        raise SchemashiftError(f"{name} must be a string, not {value!r}")
    if name == "migrations":
        return Path(str(value))
    if name in ("url", "dev_url"):
        return normalize_url(str(value))
    if name == "dialect":
        from .dialects import canonical

        return canonical(str(value))
    return str(value)


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text not in ("1", "0", "true", "false", "on", "off", "yes", "no"):
        raise SchemashiftError(f"{name} must be on or off, not {value!r}")
    return text in ("1", "true", "on", "yes")
