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
