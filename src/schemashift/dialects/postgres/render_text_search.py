"""DDL for text search dictionaries and configurations.

A configuration is created empty from its parser and given its mappings by ALTER ... ADD MAPPING,
one statement per list of dictionaries, so that a mapping change is an ALTER, never a rebuild.
"""

from __future__ import annotations

from ...model import TextSearchConfiguration, TextSearchDictionary
from ...plan import Statement
from .render_core import ALTER, CREATE, DROP, Context, alter, annotate, create, drop, renders, target
from .sqltext import ident, qualified


@target.register
def _(obj: TextSearchDictionary) -> str:
    return f"TEXT SEARCH DICTIONARY {qualified(obj.schema, obj.name)}"


@target.register
def _(obj: TextSearchConfiguration) -> str:
    return f"TEXT SEARCH CONFIGURATION {qualified(obj.schema, obj.name)}"


def _options(pairs: list[tuple[str, str | None]]) -> str:
    """`name = value` to set, a bare name to remove (ALTER TEXT SEARCH DICTIONARY's form)."""
    return ", ".join(ident(name) if value is None else f"{ident(name)} = {value}" for name, value in pairs)


@renders(CREATE, TextSearchDictionary)
def create_dictionary(d: TextSearchDictionary, ctx: Context) -> list[Statement]:
    options = _options([("template", d.template), *d.options])
    return [create(f"CREATE {target(d)} ({options})", d, ctx)] + annotate(None, d, ctx)


@renders(DROP, TextSearchDictionary)
def drop_dictionary(d: TextSearchDictionary, ctx: Context) -> list[Statement]:
    return [drop(f"DROP {target(d)}", d, ctx, destructive=False)]


@renders(ALTER, TextSearchDictionary)
def alter_dictionary(old: TextSearchDictionary, new: TextSearchDictionary, ctx: Context) -> list[Statement]:
    before, after = dict(old.options), dict(new.options)
    changes: list[tuple[str, str | None]] = [(n, v) for n, v in new.options if before.get(n) != v]
    changes += [(n, None) for n, _ in old.options if n not in after]
    out = [alter(f"ALTER {target(new)} ({_options(changes)})", new.key, ctx, phase=new.kind)] if changes else []
    return out + annotate(old, new, ctx)


def _mapping_statements(old: TextSearchConfiguration | None, new: TextSearchConfiguration,
                        ctx: Context) -> list[Statement]:
    """ADD, ALTER and DROP MAPPING taking `old`'s mappings (none when created) to `new`'s."""
    before, after = dict(old.mappings if old else ()), dict(new.mappings)
    by_action: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for token, dicts in new.mappings:
        if before.get(token) != dicts:
            by_action.setdefault(("ALTER" if token in before else "ADD", dicts), []).append(token)
    dropped = [token for token, _ in old.mappings if token not in after] if old else []
    sqls = [f"ALTER {target(new)} {action} MAPPING FOR {', '.join(map(ident, tokens))} WITH {', '.join(dicts)}"
            for (action, dicts), tokens in by_action.items()]
    if dropped:
        sqls.append(f"ALTER {target(new)} DROP MAPPING FOR {', '.join(map(ident, dropped))}")
    return [alter(sql, new.key, ctx, phase=new.kind, requires=ctx.target.dependencies(new.key),
                  releases=ctx.source.dependencies(new.key) if old else ()) for sql in sqls]


@renders(CREATE, TextSearchConfiguration)
def create_configuration(c: TextSearchConfiguration, ctx: Context) -> list[Statement]:
    return ([create(f"CREATE {target(c)} (PARSER = {c.parser})", c, ctx)] + _mapping_statements(None, c, ctx)
            + annotate(None, c, ctx))


@renders(DROP, TextSearchConfiguration)
def drop_configuration(c: TextSearchConfiguration, ctx: Context) -> list[Statement]:
    return [drop(f"DROP {target(c)}", c, ctx, destructive=False)]


@renders(ALTER, TextSearchConfiguration)
def alter_configuration(old: TextSearchConfiguration, new: TextSearchConfiguration,
                        ctx: Context) -> list[Statement]:
    return _mapping_statements(old, new, ctx) + annotate(old, new, ctx)
