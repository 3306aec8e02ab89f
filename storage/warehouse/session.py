"""What ``CostStore.reader()`` yields when a warehouse answers: the few calls of a DuckDB connection the named
queries make (``execute``, ``executemany``, ``fetchone``/``fetchall``/``df`` on the result), so the queries
in ``storage.cost_queries`` run unchanged and the rituals never know which engine answered.

Each statement goes where its tables are: ``CREATE TEMP TABLE`` and ``INSERT`` into one are kept in memory
(and sent inline, ``storage.warehouse.dialect``), as is ``CREATE TEMP VIEW`` (``_items``: inlined as a
subquery wherever a query reads it, its line_items pointed at the mapping view); a query over ``line_items`` goes to the warehouse's
``Runner``; a query over the store's own tables (imports, meta, the AWS sync's tables, commitment terms)
reads the local DuckDB file when there is one, else an empty in-memory store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from storage.costs import CostStoreError
from storage.warehouse.dialect import LINE_ITEMS, TempTable, Translated, translate

if TYPE_CHECKING:
    import duckdb


class WarehouseError(CostStoreError):
    """A warehouse query could not run; the message says which and why. A CostStoreError: whatever copes with
    a cost store that cannot be read right now copes with a warehouse that cannot answer."""


class Runner(Protocol):
    """Runs one translated query and returns a DuckDB result over its rows (typed like DuckDB's own)."""

    def run(self, query: Translated, name: str) -> duckdb.DuckDBPyConnection: ...


@dataclass
class ViewColumns:
    """The mapping view's columns, as the session reports them to the queries' layout checks."""

    columns: list[str]


class WarehouseSession:
    """One unit of work against a warehouse (the counterpart of one read-only DuckDB connection)."""

    def __init__(self, runner: Runner, local: duckdb.DuckDBPyConnection, columns: Sequence[str], *,
                 relation: str, partition: str = "billing_period", dialect: str = "trino") -> None:
        self.runner = runner
        self.local = local
        self.view_columns = list(columns)
        self.relation = relation
        self.partition = partition
        self.dialect = dialect
        self.temps: dict[str, TempTable] = {}
        self.views: dict[str, str] = {}  # temporary views (``_items``): name -> their SELECT, inlined when read
        self.translated: list[Translated] = []  # what this session sent (the tests read it)

    # -- the layout checks of the named queries ---------------------------------------------------------
    def has_table(self, name: str) -> bool:
        if name == LINE_ITEMS or name in self.temps or name in self.views:
            return True
        row = self.local.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                 [name]).fetchone()
        return bool(row and row[0])

    def columns(self, table: str) -> list[str]:
        if table == LINE_ITEMS:
            return list(self.view_columns)
        return [r[0] for r in self.local.execute("SELECT column_name FROM information_schema.columns "
                                                 "WHERE table_name = ?", [table]).fetchall()]

    # -- statements ---------------------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="duckdb")
        if isinstance(tree, exp.Create) and tree.args.get("kind") == "TABLE":
            schema = tree.this
            name = schema.this.name
            cols = [(c.name, c.args["kind"].sql("duckdb")) for c in schema.expressions]
            self.temps[name] = TempTable(cols, [])
            return self
        if isinstance(tree, exp.Create) and tree.args.get("kind") == "VIEW":
            self.views[tree.this.name] = tree.expression.sql("duckdb")
            return self
        if isinstance(tree, exp.Insert) and tree.this.find(exp.Table).name in self.temps:
            self.executemany(sql, [list(params or [])])
            return self
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        tables = {t.name for t in tree.find_all(exp.Table) if t.name not in ctes and t.name not in self.temps}
        for view in tables & self.views.keys():  # a view's tables are the query's
            inner = sqlglot.parse_one(self.views[view], read="duckdb")
            inner_ctes = {c.alias_or_name for c in inner.find_all(exp.CTE)}
            tables = (tables - {view}) | {t.name for t in inner.find_all(exp.Table)
                                          if t.name not in inner_ctes and t.name not in self.temps}
        if LINE_ITEMS not in tables:
            if self.temps.keys() & {t.name for t in tree.find_all(exp.Table)}:
                raise WarehouseError("a query over temporary tables alone is not sent to the warehouse")
            return self.local.execute(sql, list(params or []))
        if tables - {LINE_ITEMS}:
            raise WarehouseError(f"a query joins line_items with local tables ({', '.join(sorted(tables - {LINE_ITEMS}))}), "
                                 "which the warehouse does not hold")
        query = translate(sql, params, temps=self.temps, views=self.views, columns=self.view_columns,
                          relation=self.relation, partition=self.partition,
                          write=self.dialect)
        self.translated.append(query)
        return self.runner.run(query, _name_of(sql))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> WarehouseSession:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="duckdb")
        table = tree.this.find(exp.Table) if isinstance(tree, exp.Insert) else None
        if table is None or table.name not in self.temps:
            raise WarehouseError("only a temporary table of the session can be written")
        self.temps[table.name].rows.extend(tuple(r) for r in rows)
        return self

    def close(self) -> None:
        self.local.close()


def _name_of(sql: str) -> str:
    """The named query a statement belongs to (the outermost ``storage.cost_queries`` or ``CostStore``
    function on the stack), for messages and the scan ledger; else its first words."""
    import sys

    frame = sys._getframe(1)
    found = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("storage.cost_queries.") or module == "storage.costs":
            if not frame.f_code.co_name.startswith("_") or found is None:
                found = frame.f_code.co_name
        frame = frame.f_back  # type: ignore[assignment]
    return found or " ".join(sql.split())[:60]
