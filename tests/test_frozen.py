"""`@frozen` behaves as `@dataclass(frozen=True)`: same signature, equality, hashing, immutability."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from schemashift.frozen import frozen
from schemashift.model import Column, Grant, Table


@frozen
class _Base:
    a: int
    b: str = "b"
    c: tuple[int, ...] = dataclasses.field(default=(), kw_only=True)


@frozen
class _Child(_Base):
    d: int | None = None
    e: int = dataclasses.field(default=0, compare=False)


@dataclasses.dataclass(frozen=True)
class _Reference:
    a: int
    b: str = "b"
    c: tuple[int, ...] = dataclasses.field(default=(), kw_only=True)
    d: int | None = None
    e: int = dataclasses.field(default=0, compare=False)


def test_the_signature_is_the_dataclass_one() -> None:
    assert str(inspect.signature(_Child)) == str(inspect.signature(_Reference))


@pytest.mark.parametrize(("args", "kwargs"), [((1,), {}), ((1, "x", 3), {"c": (4,)}), ((), {"a": 2, "e": 9})])
def test_fields_defaults_equality_and_hash_match_dataclass(args: tuple, kwargs: dict) -> None:
    made, reference = _Child(*args, **kwargs), _Reference(*args, **kwargs)
    assert dataclasses.asdict(made) == dataclasses.asdict(reference)
    assert made == _Child(*args, **kwargs) and hash(made) == hash(_Child(*args, **kwargs))
    assert made == dataclasses.replace(made, e=made.e + 1)  # compare=False is ignored, as in dataclasses
    assert made != dataclasses.replace(made, a=made.a + 1)


def test_wrong_calls_fail_as_with_dataclass() -> None:
    for call in (lambda cls: cls(), lambda cls: cls(1, "b", None, 0, (1,)), lambda cls: cls(1, z=2)):
        with pytest.raises(TypeError):
            call(_Child)
        with pytest.raises(TypeError):
            call(_Reference)


def test_instances_stay_immutable() -> None:
    column = Column("id", "bigint", not_null=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.name = "other"  # type: ignore[misc]
    table = Table("public", "t", columns=(column,))
    assert table.column("id") is column  # the cached lookup still works on a frozen instance
    assert sorted([Grant("b", "SELECT"), Grant("a", "UPDATE")])[0].grantee == "a"  # order=True kept


def test_fields_it_cannot_set_in_one_step_are_refused() -> None:
    with pytest.raises(TypeError, match="plain fields only"):
        @frozen
        class _Factory:
            items: list[int] = dataclasses.field(default_factory=list)
