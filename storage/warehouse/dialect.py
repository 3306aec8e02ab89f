"""The named queries' SQL (DuckDB's dialect, written once in ``storage.cost_queries``) as Athena runs it.

``translate`` binds the ``?`` parameters as literals (so the text is the cache key and the golden file),
inlines the session's temporary tables (``_rules``, ``_cases``) as ``VALUES`` and its temporary views
(``_items``, the line items as allocation reads them) as subqueries, points ``line_items`` at the
warehouse's mapping view, adds the billing-period partition filter every scan of ``line_items`` with a
window needs, and writes Trino with sqlglot. ``unknown_functions`` lists what sqlglot could not type (an
``exp.Anonymous``): the tests hold that no named query produces one.

Partition pruning: the export is partitioned by ``billing_period`` ('YYYY-MM', the month of the line items'
billing period). A SELECT reading ``line_items`` whose WHERE bounds ``charge_date`` or
``BillingPeriodStart`` by literals gets ``billing_period >= 'first' AND billing_period <= 'last'``: a charge
day falls in its own billing period's month, as CUR 2.0 and FOCUS exports bill usage. A scan without such a
bound reads every partition (``Translated.months`` is then None). An inlined view's own scans of
``line_items`` get the window the outer SELECT puts on the view's alias (and so does that alias).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

LINE_ITEMS = "line_items"
PARTITION = "billing_period"
_WINDOW_COLUMNS = {"charge_date", "billingperiodstart"}


@dataclass
class TempTable:
    """A session's temporary table, kept in memory and sent inline: column names and types, and rows."""

    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Translated:
    """A named query's Trino text, and the billing periods it reads: (first, last) months as 'YYYY-MM', either
    None for an open end; ``months`` None when some scan of line_items has no window (every partition)."""

    sql: str
    months: tuple[str | None, str | None] | None
    reads_line_items: bool
    # The result's column names as the DuckDB text spells them ('' where it names none): Athena reports
    # its labels in lower case, and a frame's columns must not depend on the engine.
    columns: tuple[str, ...] = ()


def literal_sql(value: Any) -> str:
    """A parameter as a DuckDB literal (dates typed, so Trino compares dates with dates)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
    if isinstance(value, date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def bind(sql: str, params: Sequence[Any] | None) -> str:
    """``sql`` with each ``?`` placeholder (found by sqlglot's tokenizer, so a '?' inside a string stays) replaced
    by its parameter's literal."""
    import sqlglot
    from sqlglot.tokens import TokenType

    params = list(params or [])
    holes = [t for t in sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql) if t.token_type == TokenType.PLACEHOLDER]
    if len(holes) != len(params):
        raise ValueError(f"the query has {len(holes)} placeholders but {len(params)} parameters were given")
    for token, value in reversed(list(zip(holes, params, strict=True))):
        sql = sql[:token.start] + literal_sql(value) + sql[token.end + 1:]
    return sql


def _values_sql(table: TempTable) -> str:
    names = ", ".join(name for name, _ in table.columns)
    if not table.rows:
        casts = ", ".join(f"CAST(NULL AS {typ}) AS {name}" for name, typ in table.columns)
        return f"(SELECT {casts} WHERE FALSE)"
    rows = ", ".join("(" + ", ".join(f"CAST({literal_sql(v)} AS {typ})" for v, (_n, typ) in
                                     zip(row, table.columns, strict=True)) + ")" for row in table.rows)
    return f"(SELECT * FROM (VALUES {rows}) AS _v({names}))"


def _date_of(node: Any) -> date | None:
    from sqlglot import exp

    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        try:
            return date.fromisoformat(node.this.this[:10])
        except ValueError:
            return None
    return None


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _window(select: Any, alias: str) -> tuple[str | None, str | None] | None:
    """(first, last) billing months bounded by the SELECT's WHERE over ``alias``'s window columns; None: none."""
    from sqlglot import exp

    where = select.args.get("where")
    if where is None:
        return None
    parts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    lo: str | None = None
    hi: str | None = None
    for part in parts:
        if not isinstance(part, exp.GTE | exp.GT | exp.LT | exp.LTE):
            continue
        column = part.this.this if isinstance(part.this, exp.Cast) else part.this
        if not isinstance(column, exp.Column) or column.name.lower() not in _WINDOW_COLUMNS:
            continue
        if column.table and column.table != alias:
            continue
        day = _date_of(part.expression)
        if day is None:
            continue
        if isinstance(part, exp.GTE | exp.GT):
            lo = max(lo or "", _month(day))
        else:
            last = day - timedelta(days=1) if isinstance(part, exp.LT) else day
            hi = min(hi or "9999-99", _month(last))
    return (lo, hi) if lo or hi else None


def _partition_filter(select: Any, alias: str, partition: str, found: tuple[str | None, str | None]) -> None:
    """Add ``alias.partition`` between the window's first and last months to ``select``'s WHERE."""
    from sqlglot import exp

    col = exp.column(partition, table=alias)
    cond: Any = None
    if found[0]:
        cond = exp.GTE(this=col.copy(), expression=exp.Literal.string(found[0]))
    if found[1]:
        upper = exp.LTE(this=col.copy(), expression=exp.Literal.string(found[1]))
        cond = upper if cond is None else exp.and_(cond, upper)
    assert cond is not None
    select.where(cond, copy=False)


def _inline_view(table: Any, sql: str, columns: Sequence[str], partition: str) -> Any:
    """A session's temporary view (``_items``) in place of ``table``, as a subquery under the table's alias.
    Its own scans of line_items are marked with the window the outer SELECT puts on the view, so each gets
    the partition filter (a view's row of day d comes from the rows of day d, all in d's billing period);
    the outer SELECT gets the filter on the view's alias as well. DuckDB-only spellings become portable ones:
    ``li.* REPLACE (...)`` lists the line items' ``columns``, a CTE ``AS MATERIALIZED`` is a plain CTE."""
    import sqlglot
    from sqlglot import exp

    alias = table.alias_or_name
    select = table.find_ancestor(exp.Select)
    found = _window(select, alias) if select is not None else None
    view = sqlglot.parse_one(sql, read="duckdb")
    for cte in view.find_all(exp.CTE):
        cte.set("materialized", None)
    for star in list(view.find_all(exp.Star)):
        column = star.parent
        if not star.args.get("replace") or not isinstance(column, exp.Column) or not columns:
            continue
        replaced = {a.alias.lower(): a for a in star.args["replace"]}
        source = column.table
        items = [replaced[c.lower()].copy() if c.lower() in replaced else exp.column(c, table=source or None)
                 for c in columns]
        select_of = column.find_ancestor(exp.Select)
        assert select_of is not None
        at = select_of.expressions.index(column)
        select_of.set("expressions", [*select_of.expressions[:at], *items, *select_of.expressions[at + 1:]])
    for inner in view.find_all(exp.Table):
        if inner.name == LINE_ITEMS and not inner.db:
            inner.meta["window"] = found
    if found is not None and select is not None:
        _partition_filter(select, alias, partition, found)
    sub = exp.Subquery(this=view, alias=exp.TableAlias(this=exp.to_identifier(alias)))
    table.replace(sub)
    return sub


def translate(sql: str, params: Sequence[Any] | None = None, *, temps: Mapping[str, TempTable] | None = None,
              views: Mapping[str, str] | None = None, columns: Sequence[str] = (),
              relation: str = LINE_ITEMS, partition: str = PARTITION, write: str = "trino") -> Translated:
    """The query as ``write``'s dialect (Trino for Athena), bound, inlined, pointed at ``relation`` and
    partition-filtered on ``partition``. ``views``: the session's temporary views (name -> DuckDB SELECT over
    line_items, e.g. ``_items``), inlined as subqueries; ``columns``: line_items's columns (the mapping
    view's), which a ``* REPLACE`` in a view expands to."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(bind(sql, params), read="duckdb")
    temps = temps or {}
    views = views or {}
    outer_ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if table.name in views and table.name not in outer_ctes and not table.db:
            _inline_view(table, views[table.name], columns, partition)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    windows: list[tuple[str | None, str | None] | None] = []
    for table in list(tree.find_all(exp.Table)):
        name = table.name
        if name in ctes or table.db:
            continue
        if name in temps:
            alias = table.alias or name
            sub = sqlglot.parse_one(_values_sql(temps[name]), read="duckdb")
            table.replace(exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier(alias))))
        elif name == LINE_ITEMS:
            alias = table.alias_or_name
            select = table.find_ancestor(exp.Select)
            found = _window(select, alias) if select is not None else None
            if found is None and "window" in table.meta:  # a scan inside an inlined view: the view's window
                found = table.meta["window"]
            windows.append(found)
            if found is not None:
                assert select is not None
                _partition_filter(select, alias, partition, found)
            if relation != LINE_ITEMS:
                replacement = exp.to_table(relation)
                replacement.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
                table.replace(replacement)
    if write == "trino":  # DuckDB's contains(string, part); Trino's contains is an array's
        for part in list(tree.find_all(exp.Contains)):
            part.replace(exp.GT(this=exp.StrPosition(this=part.this, substr=part.expression),
                                expression=exp.Literal.number(0)))
    if write == "trino":  # Trino reads a bare GROUP BY ALL as a set quantifier with no grouping columns
        for group in list(tree.find_all(exp.Group)):
            _expand_group_by_all(group)
    for node in list(tree.find_all(exp.IgnoreNulls)):
        # DuckDB's any_value skips NULLs and so does Trino's arbitrary, which takes no IGNORE NULLS.
        if isinstance(node.this, exp.AnyValue):
            node.replace(node.this)
    months = _union(windows) if windows else None
    names = tuple(e.alias_or_name if isinstance(e, exp.Alias | exp.Column) else ""
                  for e in tree.selects) if isinstance(tree, exp.Query) else ()
    return Translated(tree.sql(dialect=write), months, bool(windows), names)


def _expand_group_by_all(group: Any) -> None:
    """DuckDB's ``GROUP BY ALL`` (every select item that is not an aggregate) spelled as the ordinals of those
    items, which Trino reads the same way."""
    from sqlglot import exp

    if not group.args.get("all") or group.expressions:
        return
    select = group.parent
    if not isinstance(select, exp.Select):
        return

    def aggregates(item: Any) -> bool:  # an aggregate or a window of this select (not of a subquery)
        return any(node.parent_select is select for node in item.find_all(exp.AggFunc, exp.Window))

    ordinals = [exp.Literal.number(i) for i, item in enumerate(select.expressions, start=1) if not aggregates(item)]
    group.set("all", None)
    group.set("expressions", ordinals)


def _union(windows: list[tuple[str | None, str | None] | None]) -> tuple[str | None, str | None] | None:
    if any(w is None for w in windows):
        return None
    los = [w[0] for w in windows if w is not None]
    his = [w[1] for w in windows if w is not None]
    return (None if None in los else min(x for x in los if x),
            None if None in his else max(x for x in his if x))


def unknown_functions(sql: str, read: str = "trino") -> list[str]:
    """Functions in ``sql`` that sqlglot does not know in ``read``'s dialect (``exp.Anonymous``): a name
    Athena may not have, or one whose meaning differs."""
    import sqlglot
    from sqlglot import exp

    return sorted({node.name for node in sqlglot.parse_one(sql, read=read).find_all(exp.Anonymous)})


def to_duckdb(trino_sql: str) -> str:
    """Trino text back in DuckDB's dialect (the tests' round trip)."""
    import sqlglot

    return sqlglot.transpile(trino_sql, read="trino", write="duckdb")[0]
