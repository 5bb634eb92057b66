"""The MySQL/MariaDB dialect: inspect a database, diff two of them into a Plan, load `.sql` files
into scratch databases on a throwaway mariadbd (or a server `--dev-url` names).

Wiring it into the CLI: `get_server(dev_url)` gives the scratch server, `load_path` fills a
scratch database, `diff_mysql(a_url, b_url)` / `diff_schemas(a, b)` return the shared `Plan`, and
`client_script(plan.statements)` is the text for the `mariadb` client (compound bodies between
DELIMITER lines). What it does not cover: see docs/notes-mysql.md.
"""

from .dialect import MysqlDialect, diff_mysql, diff_schemas, inspect_url
from .inspect import inspect_connection
from .loader import load_path, load_text
from .render import client_script
from .servers import NO_SERVER, Scratch, Target, ThrowawayServer, get_server, parse_url, start_server

__all__ = ["NO_SERVER", "MysqlDialect", "Scratch", "Target", "ThrowawayServer", "client_script", "diff_mysql",
           "diff_schemas", "get_server", "inspect_connection", "inspect_url", "load_path", "load_text",
           "parse_url", "start_server"]
