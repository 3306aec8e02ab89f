"""Billing files as DuckDB reads them: finding them (files, folders, globs), checking their headers, and
opening each as a relation with ``__row``, the 1-based data row, so that any problem names the file, row and
column. CSV is loaded as text in file order; Parquet is scanned in place with its own types.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from storage.loader import LoadError, LoadProblem
from storage.sources.cur_columns import is_spread_map

if TYPE_CHECKING:
    import duckdb

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
NULL_WORDS = ("", "NULL", "null")
MAX_LINE_BYTES = 8 * 1024 * 1024


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
