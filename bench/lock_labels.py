"""What labelling a plan's locks costs beside the diff itself, on GitLab's schema (PostgreSQL 15).

Prints, for empty -> structure.sql and init_structure.sql -> structure.sql: the statements, the
seconds `api.diff_schemas` takes (labels included), the seconds `label_plan` alone takes on the
same plan, and its share.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from schemashift import api
from schemashift.runtime.gcpause import gc_paused
from schemashift.dialects.postgres.locks import label_plan
from schemashift.dialects.postgres.render_core import Context

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "gitlab"
PG15 = "/usr/lib/postgresql/15/bin"


def best(fn, runs: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return min(times), result


def main() -> None:
    schemas = {name: api.inspect(str(CORPUS / f"{name}.sql"), pg_bin=PG15) for name in ("init_structure", "structure")}
    schemas["empty"] = api.inspect("empty", pg_bin=PG15)
    figures = []
    for a, b in (("empty", "structure"), ("init_structure", "structure")):
        diff_s, plan = best(lambda: api.diff_schemas(schemas[a], schemas[b]))
        with gc_paused():  # as in api.diff_schemas, which labels the plan it renders
            label_s, _ = best(lambda: label_plan(plan, Context(schemas[a], schemas[b])))  # type: ignore[arg-type]
        figures.append({"case": f"{a} -> {b}", "statements": len(plan.statements),  # type: ignore[attr-defined]
                        "diff_seconds": round(diff_s, 3), "label_seconds": round(label_s, 3),
                        "label_share": round(label_s / diff_s, 3)})
        print(json.dumps(figures[-1]))
    out = Path(__file__).with_name("results") / f"lock_labels-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
