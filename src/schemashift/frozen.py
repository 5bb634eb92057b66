"""Frozen dataclasses for what a diff makes by the tens of thousands: model objects and statements.

`@dataclass(frozen=True)` gives an `__init__` that sets each field through `object.__setattr__`,
one call per field: for GitLab's 14,000 columns of 17 fields that is half of what building them
costs. `@frozen` is that same dataclass (fields, signature, equality, hashing, immutability), with
an `__init__` that sets the instance's `__dict__` in one step.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")


@overload
def frozen(cls: type[T], /) -> type[T]: ...


@overload
def frozen(*, order: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T] | None = None, /, *, order: bool = False) -> Any:
    def make(cls: type[T]) -> type[T]:
        made = dataclass(frozen=True, order=order)(cls)
        made.__init__ = _one_step_init(made)  # type: ignore[misc]
        return made

    return make if cls is None else make(cls)


def _one_step_init(cls: type) -> Callable[..., None]:
    """An `__init__` with the signature dataclasses gave `cls`; defaults are passed in by name."""
    if hasattr(cls, "__post_init__") or any(f.default_factory is not MISSING or not f.init for f in fields(cls)):
        raise TypeError(f"{cls.__name__}: @frozen takes plain fields only (no factory, init=False or __post_init__)")
    generated = cls.__init__
    params = list(inspect.signature(generated).parameters.values())[1:]
    namespace: dict[str, Any] = {"_set": object.__setattr__}
    arguments = []
    for p in params:
        if p.kind is p.KEYWORD_ONLY and "*" not in arguments:
            arguments.append("*")
        if p.default is p.empty:
            arguments.append(p.name)
        else:
            namespace[f"_default_{p.name}"] = p.default
            arguments.append(f"{p.name}=_default_{p.name}")
    values = ", ".join(f"{p.name!r}: {p.name}" for p in params)
    exec(f"def __init__(self, {', '.join(arguments)}):\n    _set(self, '__dict__', {{{values}}})\n", namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__annotations__ = generated.__annotations__
    init.__qualname__ = generated.__qualname__
    return init
