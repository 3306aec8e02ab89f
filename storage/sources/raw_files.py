"""Billing files as DuckDB reads them: finding them (files, folders, globs), checking their headers, and
opening each as a relation with ``__row``, the 1-based data row, so that any problem names the file, row and
column. CSV is loaded as text in file order; Parquet is scanned in place with its own types.
"""

from __future__ import annotations

import csv
import errno
import glob
import gzip
import io
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
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
# DuckDB's CSV read buffer, given explicitly: left to its default beside an 8 MB max_line_size, a 5M-row
# CSV file's read took 2.4 s against 2.1 s with this.
CSV_BUFFER_BYTES = 4 * MAX_LINE_BYTES
# FOCUS has about 60 columns and a legacy CUR with many tags a few hundred; beyond this a file is no
# billing export (and every per-column check would make it slow), so it is refused before it is read.
MAX_COLUMNS = 1000


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
    ordered: bool = True  # False: a CSV read in one pass as it is staged, ``__row`` NULL (open_raw)
    # A CSV file's first value of each column among its first data rows (csv_first_values): what the
    # timestamp columns' format is read from (storage.sources.files.timestamp_format).
    first_values: dict[str, str] = field(default_factory=dict)

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
def _is_data_name(p: Path) -> bool:
    return p.name.lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)


def _not_a_file(path: Path) -> LoadProblem | None:
    """What ``path`` is when it is not a readable regular file or folder (None when it is one)."""
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return LoadProblem("a symbolic link loop (the link points, through other links, back at itself)",
                               str(path))
        if path.is_symlink():
            return LoadProblem(f"a broken symbolic link (to {os.readlink(path)!r})", str(path))
        if exc.errno in (errno.EACCES, errno.EPERM):
            return LoadProblem("cannot be read (permission denied)", str(path))
        if exc.errno == errno.ENOENT:
            return LoadProblem("no such file or folder", str(path))
        return LoadProblem(f"cannot be read ({exc.strerror})", str(path))
    mode = st.st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    what = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")
    return LoadProblem(f"{what}, not a billing file: import regular files only", str(path))


def _readable(path: Path) -> None:
    """Refuse a regular file this user cannot open (checked by opening: root ignores the mode bits)."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        why = "permission denied" if isinstance(exc, PermissionError) else exc.strerror or str(exc)
        raise LoadError([LoadProblem(f"cannot be read ({why})", str(path))]) from exc


def _walk(folder: Path, seen: set[tuple[int, int]]) -> list[Path]:
    """Every billing file under ``folder``, following links to folders; any entry that cannot be listed
    or read fails the whole import (never a silent skip, as Path.rglob does)."""
    try:
        st = folder.stat()
        key = (st.st_dev, st.st_ino)
        if key in seen:
            raise LoadError([LoadProblem("a symbolic link loop (a link inside points back at a folder above it)",
                                         str(folder))])
        seen = seen | {key}
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        why = "permission denied" if isinstance(exc, PermissionError) else exc.strerror or str(exc)
        raise LoadError([LoadProblem(f"this folder cannot be read ({why}); nothing was imported",
                                     str(folder))]) from exc
    found: list[Path] = []
    for entry in entries:
        p = Path(entry.path)
        problem = _not_a_file(p)
        if problem is not None:
            if _is_data_name(p) or "loop" in problem.message or "permission" in problem.message:
                raise LoadError([problem])
            continue  # a pipe or broken link named like no billing file is not billing input
        if p.is_dir():
            found.extend(_walk(p, seen))
        elif _is_data_name(p):
            _readable(p)
            found.append(p)
    return found


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files, folders (searched recursively) and globs, as a sorted list of CSV/CSV.gz/Parquet files.
    Anything named or found that cannot be read (a folder, a file, a link loop, a pipe or device named
    like a billing file) refuses the whole import, naming it."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        problem = _not_a_file(p)
        if problem is not None and glob.has_magic(str(raw)) and problem.message == "no such file or folder":
            found = []
            for f in sorted(Path(f) for f in glob.glob(str(p), recursive=True)):
                bad = _not_a_file(f)
                if bad is not None and _is_data_name(f):
                    raise LoadError([bad])
                if bad is None and f.is_file() and _is_data_name(f):
                    _readable(f)
                    found.append(f)
            if not found:
                raise LoadError([LoadProblem("no CSV, CSV.gz or Parquet files match", str(raw))])
            out.extend(found)
        elif problem is not None:
            raise LoadError([problem])
        elif p.is_dir():
            found = sorted(_walk(p, set()))
            if not found:
                raise LoadError([LoadProblem("no CSV, CSV.gz or Parquet files in this folder", str(p))])
            out.extend(found)
        else:
            _readable(p)
            out.append(p)
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


FIRST_ROWS = 100  # the data rows csv_first_values looks at


def csv_first_values(path: Path, names: list[str]) -> dict[str, str]:
    """Each column's first value (stripped, not one of NULL_WORDS) among the file's first FIRST_ROWS data
    rows, by the column names DuckDB holds (``names``, in header order). Only a hint: an unreadable head gives
    what was read before it."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    found: dict[str, str] = {}
    try:
        with opener(path, "rb") as fh:
            text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
            rows = csv.reader(text)
            next(rows, None)
            for n, row in enumerate(rows):
                for name, value in zip(names, row, strict=False):
                    if name not in found and value.strip() not in NULL_WORDS:
                        found[name] = value.strip()
                if n + 1 >= FIRST_ROWS or len(found) == len(names):
                    break
    except (OSError, EOFError, csv.Error):
        pass
    return found


def _check_names(path: Path, names: list[str]) -> dict[str, str]:
    """Refuse a header DuckDB cannot hold; returns {name to hold the column under: header name} for the legacy
    CUR's tag and cost-category columns that differ only in case (``user:Team`` and ``user:team`` are two
    AWS tags, so two columns, but DuckDB's names ignore case)."""
    if not names or all(not n for n in names):
        raise LoadError([LoadProblem("the file has no header (it is empty)", str(path))])
    if len(names) > MAX_COLUMNS:
        raise LoadError([LoadProblem(f"{len(names):,} columns: more than the {MAX_COLUMNS:,} a billing export has; "
                                     "is this a billing file?", str(path))])
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


def _csv_reason(text: str) -> str:
    """The sentence of a DuckDB CSV error that says what is wrong (not the line, fixes or settings)."""
    lines = [ln.strip() for ln in text.splitlines()]
    skip = ("csv error on line", "original line", "possible fixes", "*", "file =")
    for i, ln in enumerate(lines):
        if not ln or ln.lower().startswith(skip) or "=" in ln and "(" in ln:
            continue
        if i > 0 and lines[i - 1].lower().startswith("original line"):
            continue  # the quoted line itself
        return ln.rstrip(".")
    return ""


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
    elif "unterminated quote" in text.lower():
        msg = (f"unterminated quote at line {line.group(1)}: a field opened with \" is never closed"
               if line else "unterminated quote: a field opened with \" is never closed")
    else:
        msg = _csv_reason(text) if line else ""
        if not msg:
            first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "unreadable")
            msg = re.sub(r"^[A-Za-z ]*Error:\s*", "", first)
        if line:
            msg = f"{msg} (line {line.group(1)})"
    return LoadProblem(msg, str(path), row if row and row > 0 else None)


def _csv_reader(path: Path, types: dict[str, str], timestamp_format: str | None = None) -> str:
    cols = "{" + ", ".join(f"{lit(n)}: {lit(t)}" for n, t in types.items()) + "}"
    fmt = f"timestampformat = {lit(timestamp_format)}, " if timestamp_format else ""
    return (f"read_csv({lit(str(path))}, header = true, delim = ',', quote = '\"', escape = '\"', "
            f"columns = {cols}, {fmt}nullstr = [{', '.join(lit(w) for w in NULL_WORDS)}], "
            f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {CSV_BUFFER_BYTES}, strict_mode = true, "
            "auto_detect = false)")


def _one_pass_relation(reader: str) -> str:
    return f"(SELECT *, CAST(NULL AS BIGINT) AS __row FROM {reader})"


def with_types(raw: RawFile, doubles: Iterable[str], timestamps: Iterable[str] = (),
               timestamp_format: str | None = None) -> RawFile:
    """A CSV file read in one pass (open_raw ``ordered=False``) with the columns ``doubles`` parsed as DOUBLE
    and ``timestamps`` as TIMESTAMP in ``timestamp_format`` by the reader itself, instead of as text and a
    cast per row.

    Numbers: 0.5 s of the store pass of a 5M-row import (five columns). The reader's parse is DuckDB's cast
    from text, so a value it reads is the value ``TRY_CAST(trim(text) AS DOUBLE)`` gives.
    Timestamps: the reader's parse is ``strptime(text, timestamp_format)``, which the ordered read also
    accepts for a column whose first value has that format (typed_expr), with the same value.
    tests/unit/test_import_one_pass.py holds both equal. A value the reader cannot read fails the read with a
    ConversionException, and the import is redone with the file read in order, which names its row (so does
    a cell of white space only, which the ordered read takes as empty: correct, only slower)."""
    assert raw.kind == "csv" and not raw.ordered, "only a CSV file read in one pass"
    doubles, timestamps = set(doubles), set(timestamps)
    assert not timestamps or timestamp_format, "timestamps need their format"
    types = {c: ("DOUBLE" if c in doubles else "TIMESTAMP" if c in timestamps else t) for c, t in raw.types.items()}
    return replace(raw, types=types,
                   relation=_one_pass_relation(_csv_reader(raw.path, types, timestamp_format if timestamps else None)))


def open_raw(con: duckdb.DuckDBPyConnection, path: Path, index: int, *, ordered: bool = True) -> RawFile:
    """Read one file into a relation with ``__row`` (CSV is loaded as text in file order; Parquet is
    scanned in place with its row numbers). ``ordered=False`` leaves a CSV file where it is: the relation
    reads it (in parallel, in no order) each time it is scanned, and ``__row`` is NULL."""
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
            reader = _csv_reader(path, dict.fromkeys(names, "VARCHAR"))
            first = csv_first_values(path, names)
            if not ordered:
                return RawFile(path, kind, names, dict.fromkeys(names, "VARCHAR"), _one_pass_relation(reader),
                               labels=renamed, ordered=False, first_values=first)
            # Insertion order is kept for this load so that rowid is the data row of the file.
            con.execute("SET preserve_insertion_order = true")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM {reader}")
            con.execute("SET preserve_insertion_order = false")
            return RawFile(path, kind, names, dict.fromkeys(names, "VARCHAR"),
                           f"(SELECT *, rowid + 1 AS __row FROM {table})", labels=renamed, first_values=first)
        src = f"read_parquet({lit(str(path))}, file_row_number = true)"
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()
    except READ_ERRORS(duckdb) as exc:
        raise LoadError([duckdb_problem(path, exc)]) from exc
    names = [r[0] for r in described]
    _check_names(path, names)
    return RawFile(path, kind, names, {r[0]: r[1] for r in described},
                   f"(SELECT *, file_row_number + 1 AS __row FROM {src})")
