"""The schema model as JSON (`schemashift dump --format json`): every object with its comparable
fields, keyed as the differ keys it, and what it depends on; stable order, so dumps diff well."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .model import Schema


def to_json(schema: Schema) -> str:
    objects = [
        {"key": list(key), "kind": obj.kind, **_fields(obj),
         "depends_on": sorted(list(on) for on in schema.dependencies(key) if on in schema.objects)}
        for key, obj in sorted(schema.objects.items())
    ]
    return json.dumps({"server_version": schema.server_version, "objects": objects}, indent=2, ensure_ascii=False)


def _fields(obj: Any) -> dict[str, Any]:
    """The fields that take part in comparison: what makes two objects equal is what is dumped."""
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.compare}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, frozenset | set):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
