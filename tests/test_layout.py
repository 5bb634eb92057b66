"""The package's layout holds: no import circles, and the shared pipeline names no engine.

Imports are read from the source (every `import` and `from … import`, at module level or inside a
function), so a circle hidden in a late import counts too; only `if TYPE_CHECKING:` blocks are left
out, since they never run.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "schemashift"

# Modules that must work for every dialect: they reach an engine only through `dialects.base`.
SHARED = ("schemashift.model", "schemashift.differ", "schemashift.plan", "schemashift.sources",
          "schemashift.api", "schemashift.cli", "schemashift.config", "schemashift.errors",
          "schemashift.sqlfiles", "schemashift.models_source", "schemashift.dialects",
          "schemashift.dialects.base", "schemashift.dialects.one_namespace", "schemashift.schema_json",
          "schemashift.urls", "schemashift.schema_cache", "schemashift.migrations.runner",
          "schemashift.migrations.backend", "schemashift.migrations.engine")
ENGINES = ("schemashift.dialects.postgres", "schemashift.dialects.sqlite", "schemashift.dialects.mysql")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    tree = ast.parse(path.read_text())
    for block in ast.walk(tree):  # annotations only: drop them before walking
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            out |= {f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {t for t in out if t in modules and t != name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_import_circles(graph):
    # Packages import their submodules only lazily (make_dialect) and submodules never need their
    # package's own names, so the graph of modules must sort.
    list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError naming the circle


def test_the_shared_pipeline_names_no_engine(graph):
    offending = {m: sorted(t for t in graph[m] if t.startswith(ENGINES)) for m in SHARED if m in graph}
    assert {m: t for m, t in offending.items() if t} == {}


def test_the_runtime_knows_no_schema(graph):
    """Process machinery (warm process, keeper, launcher) reaches the CLI only from the launcher."""
    runtime = {m: ts for m, ts in graph.items() if m.startswith("schemashift.runtime")}
    reached = {t for m, ts in runtime.items() if m != "schemashift.runtime.launch" for t in ts}
    assert {t for t in reached if not t.startswith("schemashift.runtime") and t != "schemashift.errors"} == set()
