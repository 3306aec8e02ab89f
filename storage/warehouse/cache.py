"""The warehouse's local cache file (``warehouse-cache.duckdb`` in the home; never ``costs.duckdb``, which
readers open read-only): each query's result, keyed by its text (which holds its window) and the signature
of the export objects it reads, and the ledger of every query run and what it scanned.

A result is stored as a DuckDB table typed from Athena's column types, and read back through DuckDB, so a
frame from Athena has the dtypes a frame from the local store has.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

PRICE_PER_TB = 5.0
TB = 1024 ** 4
MB = 1024 ** 2
MIN_BILLED = 10 * MB
# Athena's result types -> DuckDB's (anything else, maps and arrays included, is kept as text).
TYPES = {"varchar": "VARCHAR", "char": "VARCHAR", "bigint": "BIGINT", "integer": "INTEGER", "int": "INTEGER",
         "smallint": "SMALLINT", "tinyint": "TINYINT", "double": "DOUBLE", "real": "FLOAT", "float": "FLOAT",
         "decimal": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"}


def scan_cost(scanned: int) -> float:
    """What Athena bills for a query that scanned ``scanned`` bytes: $5 per TB, rounded up to the megabyte,
    10 MB at least."""
    billed = max(math.ceil(scanned / MB) * MB, MIN_BILLED)
    return billed / TB * PRICE_PER_TB


class ResultCache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def connect(self) -> duckdb.DuckDBPyConnection:
        from storage.costs import connect

        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        con = connect(self.path, read_only=False)
        con.execute("CREATE TABLE IF NOT EXISTS entries (key VARCHAR PRIMARY KEY, query_sql VARCHAR, "
                    "result_table VARCHAR, bytes_scanned BIGINT, query_id VARCHAR, created_at TIMESTAMP)")
        con.execute("CREATE TABLE IF NOT EXISTS scans (ran_at TIMESTAMP, name VARCHAR, query_id VARCHAR, "
                    "bytes_scanned BIGINT, cost DOUBLE)")
        return con

    def lookup(self, con: duckdb.DuckDBPyConnection, key: str) -> duckdb.DuckDBPyConnection | None:
        row = con.execute("SELECT result_table FROM entries WHERE key = ?", [key]).fetchone()
        return con.execute(f'SELECT * FROM "{row[0]}"') if row else None

    def store(self, con: duckdb.DuckDBPyConnection, key: str, sql: str, columns: list[tuple[str, str]],
              rows: list[list[str | None]], scanned: int, query_id: str,
              spelled: tuple[str, ...] = ()) -> duckdb.DuckDBPyConnection:
        """Keep a result (dropping the results of the same query over older data) and read it back. Its
        columns take the query's own spelling (``spelled``) where it names them."""
        table = f"r_{key[:24]}"
        names: list[str] = []
        if not columns:  # no column metadata (an emulator's empty answer): the query's own names, as text
            columns = [(s or f"_col{i}", "varchar") for i, s in enumerate(spelled or ("_col0",))]
        if len(spelled) == len(columns):
            columns = [(s or n, t) for s, (n, t) in zip(spelled, columns, strict=True)]
        for name, _ in columns:  # unique names: a result may repeat one (two unnamed columns)
            out, n = name, 1
            while out in names:
                n += 1
                out = f"{name}_{n}"
            names.append(out)
        raw = ", ".join(f'"c{i}" VARCHAR' for i in range(len(columns)))
        typed = ", ".join(f'CAST("c{i}" AS {TYPES.get(kind.split("(")[0].lower(), "VARCHAR")}) AS "{names[i]}"'
                          for i, (_n, kind) in enumerate(columns))
        con.execute("BEGIN TRANSACTION")
        try:
            for (old,) in con.execute("SELECT result_table FROM entries WHERE query_sql = ? AND key <> ?",
                                      [sql, key]).fetchall():
                con.execute(f'DROP TABLE IF EXISTS "{old}"')
            con.execute("DELETE FROM entries WHERE query_sql = ? OR key = ?", [sql, key])
            con.execute(f"CREATE TEMP TABLE _raw ({raw})")
            if rows:
                holes = ", ".join("?" for _ in columns)
                con.executemany(f"INSERT INTO _raw VALUES ({holes})", rows)
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT {typed} FROM _raw')
            con.execute("DROP TABLE _raw")
            con.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)",
                        [key, sql, table, scanned, query_id, datetime.now(UTC).replace(tzinfo=None)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return con.execute(f'SELECT * FROM "{table}"')

    def record_scan(self, name: str, query_id: str | None, scanned: int, cost: float) -> None:
        con = self.connect()
        try:
            con.execute("INSERT INTO scans VALUES (?, ?, ?, ?, ?)",
                        [datetime.now(UTC).replace(tzinfo=None), name, query_id, scanned, cost])
        finally:
            con.close()

    def scan_totals(self) -> tuple[int, int, float]:
        """(queries, bytes scanned, cost) over the ledger; zeros before any."""
        if not self.path.exists():
            return 0, 0, 0.0
        con = self.connect()
        try:
            row = con.execute("SELECT count(*), coalesce(sum(bytes_scanned), 0), coalesce(sum(cost), 0) "
                              "FROM scans").fetchone()
        finally:
            con.close()
        assert row is not None
        return int(row[0]), int(row[1]), float(row[2])

    def entries(self) -> int:
        if not self.path.exists():
            return 0
        con = self.connect()
        try:
            row = con.execute("SELECT count(*) FROM entries").fetchone()
        finally:
            con.close()
        return int(row[0]) if row else 0
