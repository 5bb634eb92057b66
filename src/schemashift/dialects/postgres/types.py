"""Which column type changes keep every value: the rest are destructive and need --unsafe."""

from __future__ import annotations

import re

_TYPMOD = re.compile(r"^(?P<base>[a-z ]+?)(?:\((?P<mods>[\d, ]+)\))?(?P<array>(\[\])*)$")

# Each base type converts without loss into those listed after it.
_WIDER = {
    "smallint": ("integer", "bigint", "numeric", "double precision", "text"),
    "integer": ("bigint", "numeric", "text"),
    "bigint": ("numeric", "text"),
    "real": ("double precision", "text"),
    "character varying": ("text",),
    "character": ("character varying", "text"),
    "text": ("character varying",),
    "timestamp without time zone": ("timestamp with time zone",),
    "time without time zone": ("time with time zone",),
    "bit varying": (),
    "numeric": ("text",),
}


def lossless_type_change(old: str, new: str) -> bool:
    """True when every value of `old` survives a cast to `new` unchanged."""
    a, b = _TYPMOD.match(old), _TYPMOD.match(new)
    if a is None or b is None or a["array"] != b["array"]:
        return False
    base_a, base_b = a["base"], b["base"]
    mods_a = [int(m) for m in (a["mods"] or "").split(",") if m.strip()]
    mods_b = [int(m) for m in (b["mods"] or "").split(",") if m.strip()]
    if base_a == base_b:
        return _wider_modifiers(base_a, mods_a, mods_b)
    if base_b in _WIDER.get(base_a, ()):
        return not mods_b or (base_a == "character" and bool(mods_a) and mods_b[0] >= mods_a[0])
    return False


def _wider_modifiers(base: str, old: list[int], new: list[int]) -> bool:
    if not new:
        return True  # no limit any more
    if not old:
        return False  # a limit where there was none
    if base == "numeric":
        (p1, s1), (p2, s2) = (old + [0])[:2], (new + [0])[:2]
        return s2 >= s1 and p2 - s2 >= p1 - s1
    return new[0] >= old[0]


# I/O conversion: an explicit cast from any type to these, and from these to any type, always exists.
_STRING_TYPES = frozenset({"text", "character varying", "character", "name"})
_MODIFIERS = re.compile(r"\(\d+(?:,\s*\d+)?\)")


def _base(type_name: str) -> str:
    """A type as pg_cast's format_type(oid, null) prints it: without length, precision or fields."""
    base = _MODIFIERS.sub("", type_name)
    return "interval" if base.startswith("interval") else base


def castable(old: str, new: str, casts: frozenset[tuple[str, str]], domains: dict[str, str]) -> bool:
    """Whether `USING col::new` can run on a column of type `old` (PostgreSQL's explicit casts:
    pg_cast, binary coercion, I/O conversion to and from string types, domains as their base
    types, arrays element by element). True when it cannot be told: no pg_cast rows at all."""
    while old in domains:
        old = domains[old]
    while new in domains:
        new = domains[new]
    a, b = _base(old), _base(new)
    if a == b or not casts or a in _STRING_TYPES or b in _STRING_TYPES:
        return True
    if a.endswith("[]") or b.endswith("[]"):
        if a.endswith("[]") and b.endswith("[]"):
            return castable(a[:-2], b[:-2], casts, domains)
        return False
    return (a, b) in casts
