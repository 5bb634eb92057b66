"""The public Python API (re-exported from `schemashift`): inspect, diff, apply, Migration."""

from __future__ import annotations

from .plan import Plan


def inspect(source: str, **options: object):  # -> Schema
    raise NotImplementedError


def diff(source: str, target: str, **options: object) -> Plan:
    raise NotImplementedError


def apply(plan: Plan, url: str) -> None:
    raise NotImplementedError


class Migration:
    pass
