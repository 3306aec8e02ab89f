"""Billing export files into the cost store: what FOCUS (focus.py), CUR 2.0 (cur.py) and legacy CUR
(cur_legacy.py) imports share; shapes.py tells them apart and raw_files.py finds and opens them.

A file is read by DuckDB as it is (CSV as text, Parquet with its own types) into a relation carrying
``__row``, the 1-based data row. An import with CSV files first reads each in one pass, without row numbers:
the checks below ride as a guard on the rows the swap writes, so the file is parsed once, by the write
into the store (its numbers and timestamps parsed by the reader, its tags folded from the rows written),
never copied in memory; a file whose timestamp columns are spelt in more than one way is parsed once more
before, to type each column's distinct values once (_type_maps). Any refusal, or a note naming a row, redoes
the import with the files read in order (a text table per CSV file), which names file, row and column. The source module says which raw columns it needs and as what (number,
timestamp, text, tags, map); one aggregate pass with TRY_CAST finds the first bad row per column, so a
bad value is named by file, row and column without a Python loop over rows. The typed columns then feed
the source's mapping onto FOCUS columns, staged through ``storage.loader.Staging`` (written, checked and
swapped per (BillingAccountId, BillingPeriodStart) in one transaction). All files of one import go into one
staging: one bad file means nothing is stored.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.costs import one_row
from storage.loader import PHASES, LoadError, LoadProblem, LoadSummary, RowsNeeded, Staging, guarded
from storage.sources.focus_values import check_rows
from storage.sources.raw_files import (
    READ_ERRORS,
    RawFile,
    duckdb_problem,
    expand_paths,
    lit,
    open_raw,
    q,
    with_types,
)
from storage.sources.shapes import FORMATS, detect, label

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

    from storage.costs import CostStore

__all__ = ["FORMATS", "ImportResult", "Mapping", "RawFile", "import_files", "lit", "q"]

# ISO 8601 dates and times as FOCUS requires them; DuckDB alone would read "4/1/25" as the year 4.
ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)?"
KINDS = ("num", "ts", "period", "text", "tags", "map", "raw")
# The spellings of a timestamp a CSV file's first value may show (the value's pattern, its strptime format):
# a CSV file read in one pass has its timestamp columns parsed by DuckDB's reader in that format
# (raw_files.with_types), and the ordered read accepts what the format reads (typed_expr).
TIMESTAMP_FORMATS = (
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "%Y-%m-%dT%H:%M:%SZ"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z", "%Y-%m-%dT%H:%MZ"),
)
# A billing period is a calendar period as the provider states it: an offset on its start is dropped
# (2026-10-01T00:00:00+05:00 is the period 2026-10), never used to shift it into another month.
TIME_AND_OFFSET = r"([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)$"
NONZERO_OFFSET = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*[+-](0[1-9]|1\d|2[0-4]|00:?(0[1-9]|[1-5]\d))"
# The raw columns that give BillingAccountId, per shape (FOCUS, CUR 2.0 / Athena, legacy CUR).
ACCOUNT_SOURCES = ("BillingAccountId", "bill_payer_account_id")
Progress = Callable[[str, float], None]


@dataclass
class Mapping:
    """How one file becomes FOCUS rows. ``needs`` maps a raw column (any case) to its kind; absent ones
    read as NULL. Each branch is (FOCUS column -> SQL over the typed relation ``t``, WHERE or None)."""

    format: str
    needs: dict[str, str]
    branches: list[tuple[dict[str, str], str | None]]
    absent: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    commitments_sql: str | None = None  # SELECT over t with the commitment_inventory columns
    aliases: dict[str, str] = field(default_factory=dict)  # read name -> file column (RawFile.aliases)
    version_basis: str = ""  # what says which version of the format the file is
    missing_mandatory: list[str] = field(default_factory=list)  # FOCUS 1.0 mandatory columns accepted as missing
    supplied: list[str] = field(default_factory=list)  # mandatory columns absent, filled by --billing-account/--currency
    value_checks: list[Any] = field(default_factory=list)  # focus_values.ValueCheck over the typed rows
    contracts_sql: str | None = None  # SELECT over t with the contract_commitments columns (no line items)
    pods_sql: str | None = None  # SELECT over t: count and unblended cost of container split rows (cur.py)


@dataclass
class FileReport:
    path: str
    format: str
    shape: str
    rows: int
    absent_columns: list[str]
    ignored_columns: list[str]
    version_basis: str = ""
    missing_mandatory: list[str] = field(default_factory=list)  # accepted as missing: the file is partial FOCUS
    supplied: list[str] = field(default_factory=list)  # absent, given by an option (--billing-account, --currency)


@dataclass
class ImportResult:
    load: LoadSummary
    files: list[FileReport]
    currency: str

    def as_dict(self) -> dict[str, Any]:
        s = self.load
        return {
            "rows": s.rows,
            "replaced": s.replaced,
            "import_id": s.import_id,
            "currency": self.currency,
            "providers": s.providers,
            "accounts": s.accounts,
            "billing_periods": s.periods,
            "folded_tag_keys": s.folded_keys,
            "commitments": s.commitments,
            "contract_commitments": s.contracts,
            "billed_basis": "billing period (BillingPeriodStart): each period's BilledCost is its invoice's",
            "multi_month_charges": s.multi_month,
            "partial_focus": {f.path: f.missing_mandatory for f in self.files if f.missing_mandatory},
            "files": [vars(f) for f in self.files],
            "notes": s.notes,
        }


# -- typing raw columns ---------------------------------------------------------------------------------
def _text(col: str) -> str:
    return f"CASE WHEN {col} IN ('', 'NULL', 'null') THEN NULL ELSE {col} END"


def _present(col: str) -> str:
    """True where a text cell holds a value (white space and the NULL words are empty)."""
    return f"trim({col}) NOT IN ('', 'NULL', 'null')"


def timestamp_format(value: str | None) -> str | None:
    """The strptime format of a timestamp spelt as ``value`` is (TIMESTAMP_FORMATS), or None."""
    if value is None:
        return None
    return next((fmt for pattern, fmt in TIMESTAMP_FORMATS if re.fullmatch(pattern, value)), None)


def typed_expr(raw: RawFile, name: str, kind: str) -> tuple[str, str | None]:
    """(SQL giving the typed value, SQL true where a present value is bad or None when it cannot be)."""
    col = raw.find(name)
    if col is None:
        return {"num": "CAST(NULL AS DOUBLE)", "ts": "CAST(NULL AS TIMESTAMP)", "period": "CAST(NULL AS TIMESTAMP)"}.get(kind,
                                                                                     "CAST(NULL AS VARCHAR)"), None
    c, typ = q(col), raw.types[col].upper()
    is_text = typ == "VARCHAR"
    present = _present(f"CAST({c} AS VARCHAR)")
    if kind == "num":
        if not is_text and re.match(r"(DOUBLE|FLOAT|REAL|DECIMAL|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|U)", typ):
            return f"CAST({c} AS DOUBLE)", None
        val = f"TRY_CAST(trim(CAST({c} AS VARCHAR)) AS DOUBLE)"
        return val, f"{present} AND {val} IS NULL"
    if kind == "period":
        if typ.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"timezone('UTC', {c})", None
        if typ.startswith(("TIMESTAMP", "DATE")):
            return f"CAST({c} AS TIMESTAMP)", None
        s = f"trim(CAST({c} AS VARCHAR))"
        val = _or_format(raw, col, f"CASE WHEN regexp_full_match({s}, {lit(ISO_TIMESTAMP)}) THEN "
                                   f"TRY_CAST(regexp_replace({s}, {lit(TIME_AND_OFFSET)}, '\\1') AS TIMESTAMP) END")
        return val, f"{present} AND ({val}) IS NULL"
    if kind == "ts":
        if typ.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"timezone('UTC', {c})", None
        if typ.startswith(("TIMESTAMP", "DATE")):
            return f"CAST({c} AS TIMESTAMP)", None
        s = f"trim(CAST({c} AS VARCHAR))"
        val = _or_format(raw, col, f"CASE WHEN regexp_full_match({s}, {lit(ISO_TIMESTAMP)}) THEN "
                                   f"timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) END")
        return val, f"{present} AND ({val}) IS NULL"
    if kind in ("tags", "map"):
        if typ.startswith(("MAP", "STRUCT")) or typ.endswith("[]"):
            return f"CAST(to_json({c}) AS VARCHAR)", None
        return _text(f"CAST({c} AS VARCHAR)"), None
    if kind == "text":
        return (_text(c) if is_text else f"CAST({c} AS VARCHAR)"), None
    return (_text(c) if is_text else c), None  # raw: kept as the file types it


def _or_format(raw: RawFile, col: str, iso: str) -> str:
    """A text timestamp column's typing ``iso``, or else the value as the format of the column's first value
    reads it: what the one-pass read's reader accepts (raw_files.with_types), the ordered read accepts too,
    with the same value (strptime also reads unpadded fields, 2026-1-3 5:7:9, and white space around them)."""
    fmt = timestamp_format(raw.first_values.get(col))
    if fmt is None:
        return iso
    # Only a value that starts with a four-digit year: strptime's %Y also reads "26-10-05" as the year 26,
    # which is refused here as not ISO 8601 (the reader's year 26 is refused by the bounds on charge dates,
    # and the import redone in order, which then names it as this says).
    cell = f"CAST({q(col)} AS VARCHAR)"
    return f"coalesce({iso}, CASE WHEN regexp_matches({cell}, '^\\s*\\d{{4}}-') THEN try_strptime({cell}, {lit(fmt)}) END)"


def _bad_message(kind: str, column: str, value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    if kind == "required":
        return f"{column} is empty (every row needs its billing account)"
    if kind == "num":
        return f"not a number: {shown!r}"
    return f"not an ISO 8601 timestamp: {shown!r}"


def value_checks(raw: RawFile, needs: dict[str, str], required: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(name, kind, SQL over the raw relation true on a bad row) of every typed column and ``required`` one."""
    checks = []
    for name, kind in needs.items():
        _val, bad = typed_expr(raw, name, kind)
        if bad is not None:
            checks.append((name, kind, bad))
    for name in required:
        col = raw.find(name)
        if col is not None:
            checks.append((name, "required", f"{q(col)} IS NULL OR NOT {_present(f'CAST({q(col)} AS VARCHAR)')}"))
    return checks


def check_values(con: duckdb.DuckDBPyConnection, raw: RawFile, needs: dict[str, str],
                 required: tuple[str, ...] = ()) -> list[LoadProblem]:
    """The first bad row of every typed column (and the first empty one of each ``required`` column),
    found in one aggregate pass."""
    checks = value_checks(raw, needs, required)
    if not checks:
        return []
    aggs = ", ".join(f"min(__row) FILTER (WHERE {bad})" for _n, _k, bad in checks)
    firsts = one_row(con, f"SELECT {aggs} FROM {raw.relation}")
    problems = []
    for (name, kind, _bad), row in zip(checks, firsts, strict=True):
        if row is None:
            continue
        col = raw.find(name) or name
        value = one_row(con, f"SELECT CAST({q(col)} AS VARCHAR) FROM {raw.relation} WHERE __row = ?", [row])[0]
        problems.append(LoadProblem(_bad_message(kind, raw.label(col), value or ""), raw.name, int(row),
                                    raw.label(col)))
    return sorted(problems, key=lambda p: p.row or 0)


def account_source(raw: RawFile, needs: dict[str, str]) -> str | None:
    """The name (as the mapping reads it) of the file's column giving BillingAccountId, if it has one."""
    return next((n for n in ACCOUNT_SOURCES if n in needs and raw.find(n) is not None), None)


def typed_cte(raw: RawFile, needs: dict[str, str], raw_guard: str | None = None) -> str:
    """The typed relation ``t``; ``raw_guard`` (SQL over the raw columns) becomes its column ``__bad``."""
    cols = ", ".join(f"{typed_expr(raw, n, k)[0]} AS {q(n)}" for n, k in needs.items())
    bad = f", ({raw_guard}) AS __bad" if raw_guard else ""
    return f"t AS (SELECT {cols}, __row{bad} FROM {raw.relation})"


# A timestamp column of a CSV file read in one pass is typed once per distinct value (a bill repeats a few
# thousand charge hours): its values' ISO check and time-zone cast cost most of the row's typing. A column
# with more distinct values than this is typed row by row.
MAP_LIMIT = 200_000


def _one_pass(raw: RawFile, mapping: Mapping, account: str | None,
              maps: dict[str, str] | None = None, *, tally: bool = False) -> tuple[str, str]:
    """For a file read in one pass (no row numbers): the typed CTE, and the guard over ``t`` true on a row
    that check_values or check_rows would refuse (the swap raises on it, and the load is redone with row
    numbers to name it). Raises RowsNeeded for mappings that read the file more than once.

    ``maps`` (timestamp need -> a table of its distinct raw values typed, _type_maps) replaces that column's
    typing by a join; ``tally``: each text timestamp column's raw text also rides in ``t`` as ``__ts<i>``
    for _type_maps to collect. Every value the CTE gives is the ordered read's (typed_expr): numbers are
    first cast as they are (the cast skips the white space trim() removes), then as trim() leaves them; a
    CSV cell the text kinds would empty ('', NULL, null) is already NULL as read_csv's nullstr reads it."""
    if (mapping.contracts_sql or mapping.commitments_sql or mapping.pods_sql
            or not any(where is None for _b, where in mapping.branches)):
        raise RowsNeeded("a mapping that reads the file more than once")
    # check_values' test of a typed column is "present AND typed value IS NULL": here the typed value is
    # computed once and the test reads it.
    inner, flags, joins = [], [], []
    for i, (name, kind) in enumerate(mapping.needs.items()):
        val, bad = typed_expr(raw, name, kind)
        col = raw.find(name)
        if bad is None:
            if col is not None and raw.kind == "csv" and raw.types[col] == "VARCHAR" and val in (
                    _text(q(col)), _text(f"CAST({q(col)} AS VARCHAR)")):
                val = q(col)
            inner.append(f"{val} AS {q(name)}")
            continue
        assert col is not None
        present = _present(f"CAST({q(col)} AS VARCHAR)")
        if bad not in (f"{present} AND {val} IS NULL", f"{present} AND ({val}) IS NULL"):
            raise RowsNeeded(f"a check of {name} this pass does not know")
        if kind in ("ts", "period") and maps is not None and name in maps:
            joins.append(f" LEFT JOIN {maps[name]} __m{i} ON __raw.{q(col)} = __m{i}.__k")
            inner.append(f"__m{i}.__v AS {q(name)}")
            # A value the map lacks (the file changed since the tally) is a present value typed NULL: refused.
            inner.append(f"coalesce(__m{i}.__p, __raw.{q(col)} IS NOT NULL) AS __p{i}")
            flags.append(f"coalesce(__p{i} AND {q(name)} IS NULL, false)")
            continue
        if kind in ("ts", "period") and tally:
            inner.append(f"{q(col)} AS __ts{i}")
        if kind == "num" and val.startswith("TRY_CAST(trim("):
            # Cast as it is first (no trim's copy of every value); whether the cell was empty is asked only
            # where the value is NULL.
            inner.append(f"coalesce(TRY_CAST({q(col)} AS DOUBLE), {val}) AS {q(name)}")
            inner.append(f"{q(col)} AS __c{i}")
            flags.append(f"coalesce(CASE WHEN {q(name)} IS NULL THEN {_present(f'CAST(__c{i} AS VARCHAR)')} END, "
                         "false)")
            continue
        inner.append(f"{val} AS {q(name)}")
        inner.append(f"{present} AS __p{i}")
        flags.append(f"coalesce(__p{i} AND {q(name)} IS NULL, false)")
    for _name, _kind, bad in value_checks(raw, {}, (account,) if account else ()):  # the account is required
        inner.append(f"coalesce({bad}, false) AS __required")
        flags.append("__required")
    bad_col = f", ({' OR '.join(flags)}) AS __bad" if flags else ""
    source = f"{raw.relation} __raw{''.join(joins)}"
    cte = f"t AS (SELECT *{bad_col} FROM (SELECT {', '.join(inner)}, __row FROM {source}) t0)"
    guard = " OR ".join([*(["t.__bad"] if flags else []), *(f"coalesce({c.bad}, false)" for c in mapping.value_checks)])
    return cte, guard


def _type_maps(staging: Staging, raw: RawFile, mapping: Mapping, account: str | None) -> dict[str, str]:
    """One pass over a CSV file read in one pass whose timestamps the reader cannot parse in one format
    (stage_file): per text timestamp column with at most MAP_LIMIT distinct values, a table of those values
    typed as typed_expr types them (``__k`` raw text, ``__v`` value, ``__p`` present)."""
    con = staging.con
    assert con is not None
    cte, _guard = _one_pass(raw, mapping, account, tally=True)
    stamps = {i: (name, kind) for i, (name, kind) in enumerate(mapping.needs.items())
              if kind in ("ts", "period") and f"__ts{i}" in cte}
    if not stamps:
        return {}
    cols = [f"__ts{i}" for i in stamps]
    staging.map_passes += 1
    pre = staging.scratch_name("pre")
    con.execute(f"CREATE TABLE memory.{pre} AS WITH {cte} SELECT {', '.join(f'grouping({c}) AS g_{c}' for c in cols)}, "
                f"{', '.join(cols)} FROM t GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in cols)})")
    maps = {}
    for i, (name, kind) in stamps.items():
        c = f"__ts{i}"
        if one_row(con, f"SELECT count(*) FROM memory.{pre} WHERE g_{c} = 0")[0] > MAP_LIMIT:
            continue
        first = raw.first_values.get(raw.find(name) or "")
        one = replace(raw, columns=[c], types={c: "VARCHAR"}, aliases={name.lower(): c},
                      first_values={c: first} if first is not None else {})
        val, _bad = typed_expr(one, name, kind)
        table = staging.scratch_name("stamps")
        con.execute(f"CREATE TABLE memory.{table} AS SELECT {c} AS __k, {val} AS __v, "
                    f"{_present(f'CAST({c} AS VARCHAR)')} AS __p FROM memory.{pre} WHERE g_{c} = 0 AND {c} IS NOT NULL")
        maps[name] = f"memory.{table}"
    con.execute(f"DROP TABLE memory.{pre}")
    return maps


def reader_timestamps(raw: RawFile, needs: dict[str, str], account: str | None) -> tuple[list[str], str | None]:
    """The timestamp columns of a CSV file read in one pass that its reader can parse, and their format: the
    columns read only as timestamps whose first value has a format (timestamp_format), when all have the
    same one. ([], None) when some such column's first value has none or the formats differ: the columns
    are then typed through maps of their distinct values (_type_maps). A column empty in the first rows is
    typed row by row."""
    cols = [c for c, kinds in _column_kinds(raw, needs).items() if kinds <= {"ts", "period"} and c != account and c in raw.first_values]
    formats = {timestamp_format(raw.first_values[c]) for c in cols}
    if len(formats) != 1 or None in formats:
        return [], None
    return cols, formats.pop()


def with_defaults(exprs: dict[str, str], staging: Staging, has_account: bool = True) -> dict[str, str]:
    """The staging's defaults (Staging._fill) applied in the SELECT, so that the fill rewrites no rows."""
    def get(name: str) -> str:
        return exprs.get(name, "NULL")

    out = dict(exprs)
    if "EffectiveCost" in exprs or "BilledCost" in exprs:
        out["EffectiveCost"] = f"coalesce({get('EffectiveCost')}, {get('BilledCost')})"
        out["BilledCost"] = f"coalesce({get('BilledCost')}, {get('EffectiveCost')})"
    # A billing period the file does not give is left out: the store's line_items view derives it from
    # ChargePeriodStart (as storage.costs.PERIOD_DEFAULTS says), which is cheaper than storing it.
    if "ChargePeriodStart" in exprs:
        month = f"date_trunc('month', {exprs['ChargePeriodStart']})"
        if "BillingPeriodStart" in exprs:
            out["BillingPeriodStart"] = f"CAST(coalesce({get('BillingPeriodStart')}, {month}) AS TIMESTAMP)"
        if "BillingPeriodEnd" in exprs:
            out["BillingPeriodEnd"] = (f"CAST(coalesce({get('BillingPeriodEnd')}, {month} + INTERVAL 1 MONTH) "
                                       "AS TIMESTAMP)")
    if has_account or staging.default_billing_account is None:
        # Empty cells of the file's own column were refused (check_values): --billing-account fills only a
        # file without the column, so one file never mixes a stated account with an assumed one.
        out["BillingAccountId"] = f"NULLIF(TRIM({get('BillingAccountId')}), '')"
    else:
        out["BillingAccountId"] = lit(staging.default_billing_account)
    out["BillingCurrency"] = f"upper(coalesce(NULLIF(TRIM({get('BillingCurrency')}), ''), {lit(staging.default_currency)}))"
    return out


def number_columns(raw: RawFile, needs: dict[str, str], account: str | None) -> list[str]:
    """The file's columns read only as numbers (every need on them is "num", and none is the account)."""
    return [c for c, kinds in _column_kinds(raw, needs).items() if kinds == {"num"} and c != account]


def _column_kinds(raw: RawFile, needs: dict[str, str]) -> dict[str, set[str]]:
    """Each of the file's columns the mapping reads, with the kinds it reads it as."""
    found: dict[str, set[str]] = {}
    for name, kind in needs.items():
        col = raw.find(name)
        if col is not None:
            found.setdefault(col, set()).add(kind)
    return found


def stage_file(staging: Staging, raw: RawFile, mapping: Mapping) -> int | None:
    """Check, then stage one file's rows (and commitment terms); the number of rows staged, or None when the
    commit counts them as it writes them (Staging.source_rows)."""
    import duckdb

    con = staging.con
    assert con is not None
    if mapping.aliases:
        raw = replace(raw, aliases={**raw.aliases, **mapping.aliases})
    account = account_source(raw, mapping.needs)
    maps_needed = False
    if raw.kind == "csv" and not raw.ordered:
        stamps, fmt = reader_timestamps(raw, mapping.needs, account)
        raw = with_types(raw, number_columns(raw, mapping.needs, account), stamps, fmt)
        maps_needed = fmt is None and any(
            raw.find(n) in raw.first_values for n, k in mapping.needs.items() if k in ("ts", "period"))
    guard = ""
    rows: int | None
    try:
        if raw.ordered:
            problems = check_values(con, raw, mapping.needs, (account,) if account else ())
            if problems:
                raise LoadError(problems)
            cte = typed_cte(raw, mapping.needs)
            problems = check_rows(con, raw, cte, mapping.value_checks)
            if problems:
                raise LoadError(problems)
        else:
            # The file is read by the write into the store alone, unless its timestamps need the pass of
            # _type_maps first.
            maps = _type_maps(staging, raw, mapping, account) if maps_needed else {}
            cte, guard = _one_pass(raw, mapping, account, maps)
        if mapping.contracts_sql:
            rows = staging.stage_contracts(f"WITH {cte} {mapping.contracts_sql}")
            if rows == 0:
                raise LoadError([LoadProblem("no data rows (only a header)", raw.name)])
            return rows
        if account is None and staging.default_billing_account is None:
            raise LoadError([LoadProblem(
                "no BillingAccountId column (nor bill_payer_account_id / bill/PayerAccountId): say whose bill "
                "this is with --billing-account ID", raw.name, column="BillingAccountId")])
        selects = []
        for branch, where in mapping.branches:
            exprs = with_defaults(branch, staging, account is not None)
            if guard and where is None:  # every row passes here: the checks ride on a column always written
                exprs["BillingAccountId"] = guarded(guard, exprs["BillingAccountId"])
            body = ", ".join(f"{e} AS {q(n)}" for n, e in exprs.items())
            selects.append(f"SELECT {body}, {lit(raw.name)} AS _source, __row AS _row FROM t"
                           + (f" WHERE {where}" if where else ""))
        # Staged as a view over the file (Parquet, a CSV read in one pass) or its text table (CSV read in
        # order): the swap writes the typed rows into the store straight from it.
        rows = staging.append_sql(f"WITH {cte} " + " UNION ALL BY NAME ".join(selects), lazy=True, source=raw.name,
                                  tally=raw.ordered or raw.kind != "csv")
        if mapping.commitments_sql:
            staging.stage_commitments(f"WITH {cte} {mapping.commitments_sql}")
        if mapping.pods_sql:
            pods, dropped = one_row(con, f"WITH {cte} {mapping.pods_sql}")
            if pods:
                staging.notes.append(
                    f"{raw.name}: {pods:,} Kubernetes pod / ECS task split-cost row{'s' if pods != 1 else ''} "
                    "(EKSPod-EC2, ECSTask-EC2) kept as allocation rows: their nodes' EC2 rows carry the cost, so "
                    f"they add nothing to the totals ({float(dropped):,.2f} unblended on them not counted)")
    except READ_ERRORS(duckdb) as exc:
        if not raw.ordered:  # named as DuckDB names it when the file is read in order
            raise RowsNeeded("a read error") from exc
        raise LoadError([duckdb_problem(raw.path, exc)]) from exc
    if rows == 0:
        raise LoadError([LoadProblem("no data rows (only a header)", raw.name)])
    return rows


# -- one import -----------------------------------------------------------------------------------------
def map_file(raw: RawFile, fmt: str | None, *, currency: str | None = None, account_given: bool = False,
             accepted: tuple[str, ...] = ()) -> Mapping:
    """The mapping of one file: ``fmt`` (one of FORMATS) or the shape its header shows (shapes.detect).
    ``currency``: the currency given for FOCUS files without BillingCurrency (None: not given);
    ``account_given``: --billing-account was given; ``accepted``: the FOCUS mandatory columns a file may lack
    (--accept-missing, focus.accepted_columns)."""
    from storage.sources import cur, cur_legacy, focus

    fmt = fmt or detect(raw.columns)
    if fmt == "cur2":
        return cur.mapping(raw)
    if fmt in ("cur-legacy", "cur-legacy-athena"):
        return cur_legacy.mapping(raw, fmt)
    if fmt == "focus":
        return focus.mapping(raw, currency_given=currency is not None, account_given=account_given,
                             accepted=accepted)
    if fmt == "focus-contract-commitment":
        return focus.contract_mapping(raw, currency=currency or "")
    raise LoadError([LoadProblem(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")])


# The share of the bar each phase after the reading takes, as at 5M rows (bench/import_phases.py), and the
# estimated length of the phases whose progress DuckDB does not report usefully: a one-pass store pass that
# joins timestamp maps against the pass that made them (8.4 s against 2.5 s at 5M rows, 1.7 s against 0.5 s
# at 1M), the rollup (with the tag columns' write and the commit, which follow it) against the store pass
# (3.2 s against 8.0 s for a CSV file, 2.1 s against 4.5 s for Parquet).
PHASE_SHARES = {"validating": 0.005, "normalising tags": 0.035, "storing": 0.68, "checking": 0.05,
                "summing the daily rollup": 0.23}
# The reading's share: CSV files read in order (a text table per file) are most of such an import; a CSV
# file read in one pass is read again as it is stored; Parquet is read as it is stored.
READ_SHARES = {"ordered csv": 0.6, "one-pass csv": 0.02, "other": 0.05}
STORE_PER_READ = 3.4
ROLLUP_PER_STORE = 0.4


def phase_spans(read: float, order: Sequence[str] = PHASES) -> dict[str, tuple[float, float]]:
    """Each phase's span of the bar after a reading that takes ``read`` of it, the phases in ``order``."""
    spans, lo = {}, read
    for name in order:
        spans[name] = (lo, lo + (1.0 - read) * PHASE_SHARES[name])
        lo = spans[name][1]
    return spans


class _Progress:
    """Reports (message, overall fraction): phases set a span of the bar, and a thread turns DuckDB's
    progress of the running query into a position inside that span (a 5M-row file is one query), or, for a
    phase given an ``expected`` length, the time spent against it (never past 97% before the phase ends)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, say: Progress | None) -> None:
        import threading

        self.con, self.say = con, say
        # The current phase, replaced whole so that the polling thread never mixes two phases:
        # (label, lo, hi, started, expected seconds or None).
        self.current: tuple[str, float, float, float, float | None] = ("", 0.0, 0.0, time.monotonic(), None)
        self.last = 0.0
        self.lock = threading.Lock()
        self.durations: dict[str, float] = {}  # seconds each finished phase took
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True) if say else None
        if self.thread:
            con.execute("SET enable_progress_bar = true")
            con.execute("SET enable_progress_bar_print = false")
            self.thread.start()

    def phase(self, label: str, lo: float, hi: float, *, expected: float | None = None) -> None:
        now = time.monotonic()
        before, *_span, started, _expected = self.current
        if before:
            self.durations[before] = now - started
        self.current = (label, lo, hi, now, expected if expected and expected > 0 else None)
        self._report(label, lo)

    def _report(self, label: str, fraction: float) -> None:
        with self.lock:
            if self.say and fraction >= self.last:
                self.last = fraction
                self.say(label, fraction)

    def _poll(self) -> None:
        while not self.stop.wait(0.25):
            label, lo, hi, started, expected = self.current
            if expected:
                self._report(label, lo + (hi - lo) * min(0.97, (time.monotonic() - started) / expected))
                continue
            try:
                pct = self.con.query_progress()
            except Exception:  # noqa: BLE001 - progress is best effort; the import reports its own errors
                return
            if pct and pct > 0 and self.current[0] == label:
                self._report(label, lo + (hi - lo) * min(pct, 100.0) / 100.0)

    def close(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join()


def import_files(store: CostStore, paths: Sequence[str | Path], *, fmt: str | None = None,
                 currency: str | None = None, fallback_currency: str = "USD", billing_account: str | None = None,
                 progress: Progress | None = None, imported_at: datetime | None = None,
                 accept_missing: Sequence[str] = ()) -> ImportResult:
    """Import billing files in one transaction; raises LoadError (nothing stored) on any bad input.
    ``currency`` is the currency given explicitly (``--currency``): a FOCUS file without BillingCurrency is
    refused without it. ``fallback_currency`` is the currency of CUR rows without one (the configured one).
    ``billing_account`` is the BillingAccountId of files without that column (a file without it is refused
    when none is given). ``accept_missing`` names the FOCUS 1.0 mandatory columns a FOCUS file may lack (it is
    then imported as partial, and says so). ``progress`` hears (message, fraction 0-1) from this thread and from a polling
    thread; ``imported_at`` (the home's clock) stamps the import and dates the bounds on charge dates."""
    import duckdb

    files = expand_paths(paths)
    # CSV files are first read in one pass each (parsed once, into the store; no copy in memory). Anything that would name a row (a note on a row) and every refusal redo the import with
    # the files read in order, which names file, row and column, and refuses, exactly as before.
    if any(f.name.lower().endswith((".csv", ".csv.gz")) for f in files):
        redo: tuple[type[Exception], ...] = (RowsNeeded, LoadError, *READ_ERRORS(duckdb))
        try:
            return _import(store, files, fmt, currency, fallback_currency, billing_account, progress, imported_at,
                           accept_missing, one_pass=True)
        except redo:
            if progress:
                progress("checking the files row by row", 0.0)
    return _import(store, files, fmt, currency, fallback_currency, billing_account, progress, imported_at,
                   accept_missing, one_pass=False)


def _import(store: CostStore, files: list[Path], fmt: str | None, currency: str | None, fallback_currency: str,
            billing_account: str | None, progress: Progress | None, imported_at: datetime | None,
            accept_missing: Sequence[str], *, one_pass: bool) -> ImportResult:
    from storage.sources.focus import accepted_columns

    currency = currency.upper() if currency else None
    accepted = accepted_columns(tuple(accept_missing))
    sizes = [max(f.stat().st_size, 1) for f in files]
    total, done = float(sum(sizes)), 0.0
    reports: list[FileReport] = []
    counted_later: list[bool] = []
    with Staging(store, default_currency=currency or fallback_currency.upper(),
                 default_billing_account=billing_account, named_rows=not one_pass) as staging:
        assert staging.con is not None
        staging.con.execute("SET TimeZone = 'UTC'")
        bar = _Progress(staging.con, progress)
        csv_files = any(f.name.lower().endswith((".csv", ".csv.gz")) for f in files)
        read = READ_SHARES[("one-pass csv" if one_pass else "ordered csv") if csv_files else "other"]
        started = time.monotonic()
        reading = 0.0

        def on_phase(name: str) -> None:
            # DuckDB's own progress of a one-pass store pass that joins the timestamp maps is no guide (it
            # weighs the small joined tables' known rows against a CSV scan it guesses a few dozen rows for,
            # and reads 97% from the start): its length is then estimated from the pass that made the maps,
            # as is the rollup's from the store pass. Without a join it follows the bytes read.
            spans = phase_spans(read, staging.phases)
            expected = None
            if name == "storing" and one_pass and staging.map_passes:
                expected = STORE_PER_READ * reading
            elif name == "summing the daily rollup" and bar.durations.get("storing"):
                expected = ROLLUP_PER_STORE * bar.durations["storing"]
            bar.phase(name, *spans.get(name, (read, 1.0)), expected=expected)

        try:
            for i, (path, size) in enumerate(zip(files, sizes, strict=True)):
                bar.phase(f"reading {path.name} ({i + 1}/{len(files)})", read * done / total,
                          read * (done + size) / total)
                raw = open_raw(staging.con, path, i, ordered=not one_pass)
                mapping = map_file(raw, fmt, currency=currency, account_given=billing_account is not None,
                                   accepted=accepted)
                rows = stage_file(staging, raw, mapping)
                # rows None: counted as the commit writes them (filled in below)
                reports.append(FileReport(raw.name, mapping.format, label(mapping.format), rows or 0, mapping.absent,
                                          mapping.ignored, mapping.version_basis, mapping.missing_mandatory,
                                          mapping.supplied))
                counted_later.append(rows is None)
                done += size
            reading = time.monotonic() - started
            staging.partial = {r.path: r.missing_mandatory for r in reports if r.missing_mandatory}
            summary = staging.commit(source=", ".join(str(f) for f in files)[:1000],
                                     on_phase=on_phase,
                                     imported_at=imported_at)
            for report, later in zip(reports, counted_later, strict=True):
                if later:
                    report.rows = staging.source_rows[report.path]
        finally:
            bar.close()
    if progress:
        progress("done", 1.0)
    return ImportResult(summary, reports, summary.currency or currency or fallback_currency.upper())
