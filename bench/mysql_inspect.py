"""MariaDB inspection against `mariadb-dump --no-data` of the same database: a 200-table schema
(columns of several types, a primary key, a unique and a plain index, a CHECK, a foreign key to
the table before, a view per ten tables), each timed as the best of 5 runs on a throwaway mariadbd.

Prints both times and their ratio (the issue's bar: inspection <= 1.5x the dump), and writes the
figures to bench/results/mysql_inspect-<time>.json.

    .venv/bin/python bench/mysql_inspect.py
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from schemashift.dialects.mysql import inspect_connection, load_text, start_server

TABLES = 200
RUNS = 5


def schema_sql(n: int) -> str:
    out = []
    for i in range(n):
        fk = f", parent_id int, FOREIGN KEY (parent_id) REFERENCES t{i - 1} (id)" if i else ""
        out.append(f"CREATE TABLE t{i} (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, code varchar(40) NOT NULL,"
                   f" amount decimal(12,2) DEFAULT 0, note text, created timestamp DEFAULT CURRENT_TIMESTAMP,"
                   f" UNIQUE KEY code_u (code), KEY created_k (created), CHECK (amount >= 0){fk})"
                   f" COMMENT 'table {i}';")
        if i % 10 == 0:
            out.append(f"CREATE VIEW v{i} AS SELECT id, code FROM t{i} WHERE amount > 0;")
    return "\n".join(out)


def best(fn: object) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    server = start_server()
    try:
        db = server.create()
        load_text(server.target, db, schema_sql(TABLES))

        def inspect() -> None:
            with server.target.connect(db) as conn:
                inspect_connection(conn)

        def dump() -> None:
            subprocess.run(["mariadb-dump", "--no-defaults", f"--socket={server.target.unix_socket}", "--user=root",
                            "--no-data", "--routines", "--events", "--triggers", db],
                           check=True, stdout=subprocess.DEVNULL)

        inspect()  # warm both: the first information_schema read opens every table
        dump()
        t_inspect, t_dump = best(inspect), best(dump)
        ratio = t_inspect / t_dump
        print(f"{TABLES} tables: schemashift inspect {t_inspect * 1000:.0f} ms, mariadb-dump --no-data"
              f" {t_dump * 1000:.0f} ms, ratio {ratio:.2f} (bar: <= 1.5)")
        out = Path(__file__).with_name("results") / f"mysql_inspect-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps({"tables": TABLES, "inspect_s": t_inspect, "dump_s": t_dump, "ratio": ratio},
                                  indent=2) + "\n")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
