"""A debugging hook: with FINOPS_TUI_SQL_LOG=FILE set, every statement a read connection of the cost store
runs is appended to FILE as one JSON object a line: ``{"sql": ..., "params": [...]}``, ``{"sql": ...,
"many": [[...], ...]}`` for an executemany, ``{"register": NAME}`` for a frame registered on the connection,
``{"connect": PATH}`` when a connection opens.
bench/rituals_scale.py replays the log in a cold process as the floor of a command. Off (no wrapper, no
cost) unless the variable is set."""

from __future__ import annotations

import json
import os
import threading
from datetime import date, datetime
from typing import Any

SQL_LOG_ENV = "FINOPS_TUI_SQL_LOG"
_WRITE = threading.Lock()


def log_path() -> str | None:
    return os.environ.get(SQL_LOG_ENV) or None


def encode(value: Any) -> Any:
    """Parameters as JSON that decode() turns back into the same Python values (dates stay dates)."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": {k: encode(v) for k, v in value.items()}}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$dict" in value:
            return {k: decode(v) for k, v in value["$dict"].items()}
    return value


class LoggedConnection:
    """A DuckDB connection that logs what it runs and otherwise behaves as the connection it wraps."""

    def __init__(self, con: Any, path: str, store: str = "") -> None:
        self._con = con
        self._path = path
        self._log({"connect": store})  # a new connection: temporary tables start afresh, as in a replay

    def _log(self, entry: dict[str, Any]) -> None:
        with _WRITE, open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, default=str) + "\n")

    def execute(self, sql: str, params: Any = None) -> Any:
        self._log({"sql": sql, "params": encode(params)})
        return self._con.execute(sql) if params is None else self._con.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = [list(r) for r in rows]
        self._log({"sql": sql, "many": encode(rows)})
        return self._con.executemany(sql, rows)

    def register(self, name: str, obj: Any) -> Any:
        self._log({"register": name})
        return self._con.register(name, obj)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)
