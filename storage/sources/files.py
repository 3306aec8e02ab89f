"""Billing export files into the cost store: what FOCUS (focus.py), CUR 2.0 (cur.py) and legacy CUR
(cur_legacy.py) imports share; shapes.py tells them apart.

A file is read by DuckDB as it is (CSV as text, Parquet with its own types) into a relation carrying
``__row``, the 1-based data row. The source module says which raw columns it needs and as what (number,
timestamp, text, tags, map); one aggregate pass with TRY_CAST finds the first bad row per column, so a
bad value is named by file, row and column without a Python loop over rows. The typed columns then feed
the source's mapping onto FOCUS columns, staged through ``storage.loader.Staging`` (written, checked and
swapped per (BillingAccountId, BillingPeriodStart) in one transaction). All files of one import go into one
staging: one bad file means nothing is stored.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.costs import one_row
from storage.loader import LoadError, LoadProblem, LoadSummary, Staging
from storage.sources.cur_columns import is_spread_map
from storage.sources.shapes import FORMATS, detect, label

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

    from storage.costs import CostStore

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
NULL_WORDS = ("", "NULL", "null")
MAX_LINE_BYTES = 8 * 1024 * 1024
# ISO 8601 dates and times as FOCUS requires them; DuckDB alone would read "4/1/25" as the year 4.
ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)?"
KINDS = ("num", "ts", "text", "tags", "map", "raw")
Progress = Callable[[str, float], None]


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass
class RawFile:
    """One file as DuckDB reads it: ``relation`` is SQL yielding its columns plus ``__row``. ``aliases``
    maps a name the mapping reads (lower case) to the file's column standing in for it; ``labels`` maps a
    column DuckDB holds under another name back to the header's (case variants, see _check_names)."""

    path: Path
    kind: str  # "csv" or "parquet"
    columns: list[str]
    types: dict[str, str]
    relation: str
    aliases: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.path)

    def find(self, name: str) -> str | None:
        """The file's own spelling of a column, matched case-insensitively (or through ``aliases``)."""
        want = name.lower()
        if want in self.aliases:
            return self.aliases[want]
        return next((c for c in self.columns if c.lower() == want), None)

    def label(self, column: str) -> str:
        """A column's name as the file's header spells it."""
        return self.labels.get(column, column)


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


@dataclass
class FileReport:
    path: str
    format: str
    shape: str
    rows: int
    absent_columns: list[str]
    ignored_columns: list[str]


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
            "files": [vars(f) for f in self.files],
            "notes": s.notes,
        }


# -- finding and opening files --------------------------------------------------------------------------
def _is_data_file(p: Path) -> bool:
    name = p.name.lower()
    return p.is_file() and name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files, folders (searched recursively) and globs, as a sorted list of CSV/CSV.gz/Parquet files."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if _is_data_file(f))
            if not found:
                raise LoadError([LoadProblem("no CSV, CSV.gz or Parquet files in this folder", str(p))])
            out.extend(found)
        elif p.is_file():
            out.append(p)
        elif glob.has_magic(str(raw)):
            found = sorted(Path(f) for f in glob.glob(str(p), recursive=True) if _is_data_file(Path(f)))
            if not found:
                raise LoadError([LoadProblem("no CSV, CSV.gz or Parquet files match", str(raw))])
            out.extend(found)
        else:
            raise LoadError([LoadProblem("no such file or folder", str(raw))])
    seen: set[Path] = set()
    unique: list[Path] = []
    for f in out:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    raise LoadError([LoadProblem("not a CSV, CSV.gz or Parquet file (by its name)", str(path))])


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline(MAX_LINE_BYTES)
    except (OSError, EOFError) as exc:
        raise LoadError([LoadProblem(f"cannot be read ({exc})", str(path))]) from exc
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError([LoadProblem("the header is not UTF-8 text", str(path))]) from exc
    header = next(csv.reader(io.StringIO(text)), [])
    return [h.strip() for h in header]


def _check_names(path: Path, names: list[str]) -> dict[str, str]:
    """Refuse a header DuckDB cannot hold; returns {name to hold the column under: header name} for the legacy
    CUR's tag and cost-category columns that differ only in case (``user:Team`` and ``user:team`` are two
    AWS tags, so two columns, but DuckDB's names ignore case)."""
    if not names or all(not n for n in names):
        raise LoadError([LoadProblem("the file has no header (it is empty)", str(path))])
    seen: dict[str, str] = {}
    renamed: dict[str, str] = {}
    for n in names:
        if not n:
            raise LoadError([LoadProblem("a column has an empty name in the header", str(path))])
        if n.lower() in seen:
            if n != seen[n.lower()] and is_spread_map(n):
                held = next(f"{n}#{k}" for k in range(2, len(names) + 2) if f"{n}#{k}".lower() not in seen)
                renamed[held] = n
                seen[held.lower()] = held
                continue
            raise LoadError([LoadProblem(f"column {n!r} appears more than once in the header (also as "
                                         f"{seen[n.lower()]!r})", str(path), column=n)])
        seen[n.lower()] = n
    return renamed


def READ_ERRORS(duckdb) -> tuple[type[Exception], ...]:  # noqa: N802 - reads as a constant
    """DuckDB errors that mean the file is bad (a binder or internal error is our bug, not the user's)."""
    return (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


def duckdb_problem(path: Path, exc: Exception) -> LoadProblem:
    """A DuckDB read error as one line naming the file (and the row where DuckDB says which)."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    row = int(line.group(1)) - 1 if line else None
    if "unicode" in text.lower() or "utf-8" in text.lower():
        msg = "not UTF-8 text (convert the file to UTF-8)"
    elif "Expected Number of Columns" in text or "number of columns" in text.lower():
        msg = "the row has a different number of fields from the header"
    elif "maximum line size" in text.lower():
        msg = f"a line is longer than {MAX_LINE_BYTES // 1024 // 1024} MB"
    elif "parquet" in text.lower() or "magic bytes" in text.lower() or "footer" in text.lower():
        msg = "not a readable Parquet file (truncated or damaged)"
    else:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "unreadable")
        msg = re.sub(r"^[A-Za-z ]*Error:\s*", "", first)
    return LoadProblem(msg, str(path), row if row and row > 0 else None)


def open_raw(con: duckdb.DuckDBPyConnection, path: Path, index: int) -> RawFile:
    """Read one file into a relation with ``__row`` (CSV is loaded as text in file order; Parquet is
    scanned in place with its row numbers)."""
    import duckdb

    kind = _kind(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError([LoadProblem(f"cannot be read ({exc.strerror})", str(path))]) from exc
    if size == 0:
        raise LoadError([LoadProblem("the file is empty", str(path))])
    try:
        if kind == "csv":
            header = _csv_header(path)
            renamed = _check_names(path, header)
            held = {header_name: name for name, header_name in renamed.items()}
            names = [held.get(n, n) for n in header]
            table = f"raw_{index}"
            cols = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
            # Insertion order is kept for this load so that rowid is the data row of the file.
            con.execute("SET preserve_insertion_order = true")
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv({lit(str(path))}, header = true, "
                f"delim = ',', quote = '\"', escape = '\"', columns = {cols}, nullstr = "
                f"[{', '.join(lit(w) for w in NULL_WORDS)}], max_line_size = {MAX_LINE_BYTES}, "
                "strict_mode = true, auto_detect = false)")
            con.execute("SET preserve_insertion_order = false")
            return RawFile(path, kind, names, dict.fromkeys(names, "VARCHAR"),
                           f"(SELECT *, rowid + 1 AS __row FROM {table})", labels=renamed)
        src = f"read_parquet({lit(str(path))}, file_row_number = true)"
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()
    except READ_ERRORS(duckdb) as exc:
        raise LoadError([duckdb_problem(path, exc)]) from exc
    names = [r[0] for r in described]
    _check_names(path, names)
    return RawFile(path, kind, names, {r[0]: r[1] for r in described},
                   f"(SELECT *, file_row_number + 1 AS __row FROM {src})")


# -- typing raw columns ---------------------------------------------------------------------------------
def _text(col: str) -> str:
    return f"CASE WHEN {col} IN ('', 'NULL', 'null') THEN NULL ELSE {col} END"


def _present(col: str) -> str:
    """True where a text cell holds a value (white space and the NULL words are empty)."""
    return f"trim({col}) NOT IN ('', 'NULL', 'null')"


def typed_expr(raw: RawFile, name: str, kind: str) -> tuple[str, str | None]:
    """(SQL giving the typed value, SQL true where a present value is bad or None when it cannot be)."""
    col = raw.find(name)
    if col is None:
        return {"num": "CAST(NULL AS DOUBLE)", "ts": "CAST(NULL AS TIMESTAMP)"}.get(kind,
                                                                                     "CAST(NULL AS VARCHAR)"), None
    c, typ = q(col), raw.types[col].upper()
    is_text = typ == "VARCHAR"
    present = _present(f"CAST({c} AS VARCHAR)")
    if kind == "num":
        if not is_text and re.match(r"(DOUBLE|FLOAT|REAL|DECIMAL|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|U)", typ):
            return f"CAST({c} AS DOUBLE)", None
        val = f"TRY_CAST(trim(CAST({c} AS VARCHAR)) AS DOUBLE)"
        return val, f"{present} AND {val} IS NULL"
    if kind == "ts":
        if typ.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"timezone('UTC', {c})", None
        if typ.startswith(("TIMESTAMP", "DATE")):
            return f"CAST({c} AS TIMESTAMP)", None
        s = f"trim(CAST({c} AS VARCHAR))"
        val = (f"CASE WHEN regexp_full_match({s}, {lit(ISO_TIMESTAMP)}) THEN "
               f"timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) END")
        return val, f"{present} AND ({val}) IS NULL"
    if kind in ("tags", "map"):
        if typ.startswith(("MAP", "STRUCT")) or typ.endswith("[]"):
            return f"CAST(to_json({c}) AS VARCHAR)", None
        return _text(f"CAST({c} AS VARCHAR)"), None
    if kind == "text":
        return (_text(c) if is_text else f"CAST({c} AS VARCHAR)"), None
    return (_text(c) if is_text else c), None  # raw: kept as the file types it


def _bad_message(kind: str, column: str, value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    if kind == "num":
        return f"not a number: {shown!r}"
    return f"not an ISO 8601 timestamp: {shown!r}"


def check_values(con: duckdb.DuckDBPyConnection, raw: RawFile, needs: dict[str, str]) -> list[LoadProblem]:
    """The first bad row of every typed column, found in one aggregate pass."""
    checks = []
    for name, kind in needs.items():
        _val, bad = typed_expr(raw, name, kind)
        if bad is not None:
            checks.append((name, kind, bad))
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
        problems.append(LoadProblem(_bad_message(kind, col, value), raw.name, int(row), col))
    return sorted(problems, key=lambda p: p.row or 0)


def typed_cte(raw: RawFile, needs: dict[str, str]) -> str:
    cols = ", ".join(f"{typed_expr(raw, n, k)[0]} AS {q(n)}" for n, k in needs.items())
    return f"t AS (SELECT {cols}, __row FROM {raw.relation})"


def with_defaults(exprs: dict[str, str], staging: Staging) -> dict[str, str]:
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
    out["BillingAccountId"] = (f"coalesce(NULLIF(TRIM({get('BillingAccountId')}), ''), "
                               f"{lit(staging.default_billing_account)})")
    out["BillingCurrency"] = f"upper(coalesce(NULLIF(TRIM({get('BillingCurrency')}), ''), {lit(staging.default_currency)}))"
    return out


def stage_file(staging: Staging, raw: RawFile, mapping: Mapping) -> int:
    """Check, then stage one file's rows (and commitment terms); the number of rows staged."""
    import duckdb

    con = staging.con
    assert con is not None
    if mapping.aliases:
        raw = replace(raw, aliases={**raw.aliases, **mapping.aliases})
    try:
        problems = check_values(con, raw, mapping.needs)
        if problems:
            raise LoadError(problems)
        cte = typed_cte(raw, mapping.needs)
        selects = []
        for branch, where in mapping.branches:
            exprs = with_defaults(branch, staging)
            body = ", ".join(f"{e} AS {q(n)}" for n, e in exprs.items())
            selects.append(f"SELECT {body}, {lit(raw.name)} AS _source, __row AS _row FROM t"
                           + (f" WHERE {where}" if where else ""))
        # Parquet is staged as a view over the file (read once, at the swap); CSV text is already a table.
        rows = staging.append_sql(f"WITH {cte} " + " UNION ALL BY NAME ".join(selects), lazy=raw.kind == "parquet")
        if rows and mapping.commitments_sql:
            staging.stage_commitments(f"WITH {cte} {mapping.commitments_sql}")
    except READ_ERRORS(duckdb) as exc:
        raise LoadError([duckdb_problem(raw.path, exc)]) from exc
    if rows == 0:
        raise LoadError([LoadProblem("no data rows (only a header)", raw.name)])
    return rows


# -- one import -----------------------------------------------------------------------------------------
def map_file(raw: RawFile, fmt: str | None) -> Mapping:
    """The mapping of one file: ``fmt`` (one of FORMATS) or the shape its header shows (shapes.detect)."""
    from storage.sources import cur, cur_legacy, focus

    fmt = fmt or detect(raw.columns)
    if fmt == "cur2":
        return cur.mapping(raw)
    if fmt in ("cur-legacy", "cur-legacy-athena"):
        return cur_legacy.mapping(raw, fmt)
    if fmt == "focus":
        return focus.mapping(raw)
    raise LoadError([LoadProblem(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")])


class _Progress:
    """Reports (message, overall fraction): phases set a span of the bar, and a thread turns DuckDB's
    progress of the running query into a position inside that span (a 5M-row file is one query)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, say: Progress | None) -> None:
        import threading

        self.con, self.say = con, say
        self.label, self.lo, self.hi, self.last = "", 0.0, 0.0, 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True) if say else None
        if self.thread:
            con.execute("SET enable_progress_bar = true")
            con.execute("SET enable_progress_bar_print = false")
            self.thread.start()

    def phase(self, label: str, lo: float, hi: float) -> None:
        self.label, self.lo, self.hi = label, lo, hi
        self._report(lo)

    def _report(self, fraction: float) -> None:
        if self.say and fraction >= self.last:
            self.last = fraction
            self.say(self.label, fraction)

    def _poll(self) -> None:
        while not self.stop.wait(0.25):
            try:
                pct = self.con.query_progress()
            except Exception:  # noqa: BLE001 - progress is best effort; the import reports its own errors
                return
            if pct and pct > 0:
                self._report(self.lo + (self.hi - self.lo) * min(pct, 100.0) / 100.0)

    def close(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join()


def import_files(store: CostStore, paths: Sequence[str | Path], *, fmt: str | None = None,
                 currency: str = "USD", billing_account: str = "unknown",
                 progress: Progress | None = None, imported_at: datetime | None = None) -> ImportResult:
    """Import billing files in one transaction; raises LoadError (nothing stored) on any bad input.
    ``progress`` hears (message, fraction 0-1) from this thread and from a polling thread; ``imported_at``
    (the home's clock) stamps the import."""
    files = expand_paths(paths)
    sizes = [max(f.stat().st_size, 1) for f in files]
    total, done = float(sum(sizes)), 0.0
    reports: list[FileReport] = []
    with Staging(store, default_currency=currency, default_billing_account=billing_account) as staging:
        assert staging.con is not None
        staging.con.execute("SET TimeZone = 'UTC'")
        bar = _Progress(staging.con, progress)
        spans = {"validating": (0.6, 0.65), "normalising tags": (0.65, 0.7), "storing and checking": (0.7, 1.0)}
        try:
            for i, (path, size) in enumerate(zip(files, sizes, strict=True)):
                bar.phase(f"reading {path.name} ({i + 1}/{len(files)})", 0.6 * done / total,
                          0.6 * (done + size) / total)
                raw = open_raw(staging.con, path, i)
                mapping = map_file(raw, fmt)
                rows = stage_file(staging, raw, mapping)
                if raw.kind == "csv":
                    staging.con.execute(f"DROP TABLE raw_{i}")
                reports.append(FileReport(raw.name, mapping.format, label(mapping.format), rows, mapping.absent,
                                          mapping.ignored))
                done += size
            summary = staging.commit(source=", ".join(str(f) for f in files)[:1000],
                                     on_phase=lambda ph: bar.phase(ph, *spans.get(ph, (0.7, 1.0))),
                                     imported_at=imported_at)
        finally:
            bar.close()
    if progress:
        progress("done", 1.0)
    return ImportResult(summary, reports, summary.currency or currency)
