"""A CSV import reads each file in one pass, without row numbers (storage.sources.files.import_files); the
import read in file order (with row numbers) stays the reference: both store the same rows, and anything
that names a row (a refusal, a note) comes from the ordered import, which the one-pass one hands over to."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import storage.sources.files as files
from storage.config import load_config
from storage.costs import CostStore
from storage.loader import FIRST_DAY, LoadError
from storage.sources.raw_files import open_raw, with_types
from tests.unit.test_allocated_tags import COLUMNS, generated


def store_at(path: Path) -> CostStore:
    return CostStore(path / "costs.duckdb", load_config(None).taxonomy)


def write_rows(path: Path, rows: list[dict], columns: list[str] = COLUMNS) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        w.writerows(rows)


def stored(store: CostStore) -> tuple[list, list]:
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        rows = con.execute("SELECT * EXCLUDE (import_id) FROM line_items ORDER BY ALL").fetchall()
        sets = con.execute("SELECT * FROM tag_sets ORDER BY ALL").fetchall()
    finally:
        con.close()
    return rows, sets


@pytest.fixture()
def passes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The one_pass flag of every _import attempt."""
    seen: list[bool] = []
    real = files._import

    def spy(*args, one_pass: bool, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(one_pass)
        return real(*args, one_pass=one_pass, **kwargs)

    monkeypatch.setattr(files, "_import", spy)
    return seen


def test_one_pass_stores_what_the_ordered_read_stores(tmp_path: Path, passes: list[bool]) -> None:
    data = tmp_path / "focus13.csv"
    rows = generated(data)
    one, ordered = store_at(tmp_path / "one"), store_at(tmp_path / "ordered")
    (tmp_path / "one").mkdir()
    (tmp_path / "ordered").mkdir()
    result = files.import_files(one, [data])
    assert passes == [True] and result.load.rows == len(rows)
    files._import(ordered, [data], None, None, "USD", None, None, None, (), one_pass=False)
    assert stored(one) == stored(ordered)
    assert len(stored(one)[0]) == len(rows)


def test_a_file_whose_timestamps_are_spelt_one_way_is_parsed_once(tmp_path: Path, passes: list[bool],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader parses the timestamps in the format of their first values, so no pass makes their maps;
    an unpadded value in that format is read as the ordered read types it, and the tags are folded from the
    rows written: the store holds what the ordered read stores."""
    data = tmp_path / "focus13.csv"
    rows = generated(data, 60)
    rows[7]["ChargePeriodStart"] = "2026-10-3T0:00:00Z"
    rows[8]["ChargePeriodEnd"] = "2026-10-09T1:0:0Z"
    write_rows(data, rows)
    maps: list[str] = []
    real = files._type_maps
    monkeypatch.setattr(files, "_type_maps", lambda staging, raw, *a: maps.append(raw.name) or real(staging, raw, *a))
    one, ordered = store_at(tmp_path / "one"), store_at(tmp_path / "ordered")
    (tmp_path / "one").mkdir()
    (tmp_path / "ordered").mkdir()
    result = files.import_files(one, [data])
    assert passes == [True] and maps == []
    assert [f.rows for f in result.files] == [len(rows)]
    files._import(ordered, [data], None, None, "USD", None, None, None, (), one_pass=False)
    assert stored(one) == stored(ordered)
    con = duckdb.connect(str(one.path), read_only=True)
    try:
        got = con.execute("SELECT count(*) FROM line_items WHERE ChargePeriodStart = TIMESTAMP '2026-10-03' "
                          "OR ChargePeriodEnd = TIMESTAMP '2026-10-09 01:00:00'").fetchone()[0]
    finally:
        con.close()
    assert got == sum(1 for r in rows if r["ChargePeriodStart"].startswith(("2026-10-03", "2026-10-3T"))
                      or r["ChargePeriodEnd"] in ("2026-10-09T01:00:00Z", "2026-10-09T1:0:0Z"))


def test_each_file_of_a_one_pass_import_has_its_rows_counted_and_an_empty_one_is_refused(
        tmp_path: Path, passes: list[bool]) -> None:
    """Nothing counts a CSV file's rows before the store pass: it counts them per file, and a file with only
    a header is refused, naming it, with nothing stored."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    rows = generated(first, 30)
    write_rows(second, rows[:11])
    (tmp_path / "h").mkdir()
    result = files.import_files(store_at(tmp_path / "h"), [first, second])
    assert passes == [True]
    assert [(f.path, f.rows) for f in result.files] == [(str(first), 30), (str(second), 11)]
    assert result.load.rows == 41
    empty = tmp_path / "empty.csv"
    write_rows(empty, [])
    (tmp_path / "h2").mkdir()
    with pytest.raises(LoadError) as exc:
        files.import_files(store_at(tmp_path / "h2"), [first, empty])
    assert (exc.value.problems[0].source, exc.value.problems[0].message) == (str(empty), "no data rows (only a header)")
    assert not (tmp_path / "h2" / "costs.duckdb").exists()


def test_a_note_naming_a_row_comes_from_the_ordered_read(tmp_path: Path, passes: list[bool]) -> None:
    data = tmp_path / "focus13.csv"
    rows = generated(data)
    rows[5]["ChargePeriodEnd"] = "2026-11-02T00:00:00Z"  # a charge spanning October and November
    write_rows(data, rows)
    (tmp_path / "h").mkdir()
    result = files.import_files(store_at(tmp_path / "h"), [data])
    assert passes == [True, False]
    assert result.load.multi_month["rows"] == 1 and result.load.multi_month["first_row"] == 6  # data row 6


def test_a_refusal_names_the_row_as_the_ordered_read_does(tmp_path: Path, passes: list[bool]) -> None:
    data = tmp_path / "focus13.csv"
    rows = generated(data)
    rows[9]["BilledCost"] = "12,5"
    write_rows(data, rows)
    (tmp_path / "h").mkdir()
    with pytest.raises(LoadError) as exc:
        files.import_files(store_at(tmp_path / "h"), [data])
    assert passes == [True, False]
    first = exc.value.problems[0]
    assert (first.source, first.row, first.column) == (str(data), 10, "BilledCost")
    assert not (tmp_path / "h" / "costs.duckdb").exists() or stored(store_at(tmp_path / "h")) == ([], [])


# Cells the one pass types differently from the ordered read (timestamps once per distinct value, numbers
# cast before trimming, text cells as read_csv's nullstr leaves them): each must store the same value.
ODD_STARTS = ["2026-10-03T00:00:00Z", "2026-10-03 00:00:00", " 2026-10-03T05:00:00+05:00", "2026-10-03",
              "2026-10-03T00:00Z", "2026-10-02T19:00:00-05:00 ", "2026-10-03 00:00:00.123456 UTC", "2026-10-03T00:00:00+0000"]
ODD_COSTS = ["1.5", " 2.25", "3 ", "\t4", "5e1", "0.000001", "-0", "1E2"]
ODD_TEXT = ["", " ", "NULL", "null", "none", " x "]


def utc(text: str) -> datetime:
    """An ISO 8601 cell as the UTC time it names (no offset: UTC)."""
    t = datetime.fromisoformat(text.strip().replace(" UTC", "+00:00"))
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def test_odd_cells_store_what_the_ordered_read_stores(tmp_path: Path, passes: list[bool]) -> None:
    data = tmp_path / "focus13.csv"
    rows = generated(data, 96)
    for i, row in enumerate(rows):
        row["ChargePeriodStart"] = ODD_STARTS[i % len(ODD_STARTS)]
        row["ChargePeriodEnd"] = "2026-10-29T00:00:00Z" if i % 2 else "2026-10-29 00:00:00+00:00"
        row["BillingPeriodStart"] = "2026-10-01T00:00:00+05:00" if i % 3 == 0 else "2026-10-01"
        row["BilledCost"] = row["EffectiveCost"] = ODD_COSTS[i % len(ODD_COSTS)]
        row["ResourceId"] = ODD_TEXT[i % len(ODD_TEXT)]
    write_rows(data, rows)
    one, ordered = store_at(tmp_path / "one"), store_at(tmp_path / "ordered")
    (tmp_path / "one").mkdir()
    (tmp_path / "ordered").mkdir()
    files.import_files(one, [data])
    assert passes == [True]
    files._import(ordered, [data], None, None, "USD", None, None, None, (), one_pass=False)
    assert stored(one) == stored(ordered)
    con = duckdb.connect(str(one.path), read_only=True)
    try:
        starts = {r[0] for r in con.execute("SELECT DISTINCT ChargePeriodStart FROM line_items").fetchall()}
        costs = sorted(r[0] for r in con.execute("SELECT DISTINCT BilledCost FROM line_items").fetchall())
        empty = con.execute("SELECT count(*) FROM line_items WHERE ResourceId IS NULL").fetchone()[0]
    finally:
        con.close()
    assert starts == {utc(v) for v in ODD_STARTS}
    assert costs == sorted({float(c) for c in ODD_COSTS})
    assert empty == sum(1 for r in rows if r["ResourceId"] in ("", "NULL", "null"))


@pytest.mark.parametrize(("column", "value"), [("ChargePeriodStart", "10/03/2026"), ("BillingPeriodEnd", "2026-11-1"),
                                               ("ChargePeriodStart", "26-10-05T03:00:00Z"),
                                               ("EffectiveCost", " "), ("BilledCost", "1.5.2")])
def test_a_bad_cell_of_a_typed_column_goes_to_the_ordered_read(tmp_path: Path, passes: list[bool], column: str,
                                                               value: str) -> None:
    data = tmp_path / "focus13.csv"
    rows = generated(data, 40)
    rows[17][column] = value
    write_rows(data, rows)
    (tmp_path / "h").mkdir()
    with pytest.raises(LoadError) as exc:
        files.import_files(store_at(tmp_path / "h"), [data])
    assert passes == [True, False]
    first = exc.value.problems[0]
    assert (first.source, first.row, first.column) == (str(data), 18, column)


def test_a_timestamp_the_tally_did_not_see_goes_to_the_ordered_read(tmp_path: Path, passes: list[bool],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the file changed between the tally and the swap: a value missing from its column's typed map is
    never stored as an empty timestamp (x_CommitmentStart may be empty, so no other check stops it). Its
    spelling differs from the other timestamp columns', so the reader cannot parse them all in one format and
    the maps are made."""
    data = tmp_path / "focus13.csv"
    rows = generated(data, 40)
    for i, row in enumerate(rows):
        row["x_CommitmentStart"] = f"2026-0{1 + i % 9}-01 00:00:00" if i % 4 else ""
    write_rows(data, rows, [*COLUMNS, "x_CommitmentStart"])
    real = files._type_maps

    def forgetful(staging, raw, mapping, account):  # type: ignore[no-untyped-def]
        maps = real(staging, raw, mapping, account)
        staging.con.execute(f"DELETE FROM {maps['x_CommitmentStart']} WHERE __k = ?", [rows[3]["x_CommitmentStart"]])
        return maps

    monkeypatch.setattr(files, "_type_maps", forgetful)
    store = store_at(tmp_path / "h")
    (tmp_path / "h").mkdir()
    files.import_files(store, [data])
    assert passes == [True, False]
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        empty = con.execute("SELECT count(*) FROM line_items WHERE x_CommitmentStart IS NULL").fetchone()[0]
    finally:
        con.close()
    assert empty == sum(1 for r in rows if not r["x_CommitmentStart"])


def test_a_line_up_to_the_line_bound_imports_and_a_longer_one_is_refused(tmp_path: Path) -> None:
    """The CSV reader's buffer (raw_files.CSV_BUFFER_BYTES) holds a line of up to MAX_LINE_BYTES: a row with a
    7 MB ResourceId stores whole; a row past the bound is refused, naming the file and the bound."""
    from storage.sources.raw_files import MAX_LINE_BYTES

    data = tmp_path / "focus13.csv"
    rows = generated(data, 12)
    rows[4]["ResourceId"] = "r" * (MAX_LINE_BYTES - 1024 * 1024)
    write_rows(data, rows)
    (tmp_path / "h").mkdir()
    store = store_at(tmp_path / "h")
    result = files.import_files(store, [data])
    assert result.load.rows == len(rows)
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        longest = con.execute("SELECT max(length(ResourceId)) FROM line_items").fetchone()[0]
    finally:
        con.close()
    assert longest == len(rows[4]["ResourceId"])

    too_long = tmp_path / "too_long.csv"
    rows[4]["ResourceId"] = "r" * (MAX_LINE_BYTES + 1024)
    write_rows(too_long, rows)
    (tmp_path / "h2").mkdir()
    with pytest.raises(LoadError) as exc:
        files.import_files(store_at(tmp_path / "h2"), [too_long])
    problem = exc.value.problems[0]
    assert problem.source == str(too_long)
    assert f"longer than {MAX_LINE_BYTES // 1024 // 1024} MB" in problem.message


# Cells a bill's number column might hold, odd ones included: signs, exponents, white space, words, separators.
NUMBER_CELLS = st.text(alphabet=st.sampled_from(list("0123456789.eE+-_ ,x\tinfatyINFATY")), max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=NUMBER_CELLS)
@example(cell="1e400")
@example(cell=" 1.5 ")
@example(cell="1_000")
@example(cell="nan")
@example(cell="-inf")
@example(cell="0x10")
@example(cell="1,5")
def test_a_number_the_one_pass_reader_parses_is_what_the_ordered_read_types(tmp_path: Path, cell: str) -> None:
    """A CSV file read in one pass has its number columns parsed by DuckDB's reader (with_types); the ordered
    read types the text (files.typed_expr: TRY_CAST, then TRY_CAST of the trimmed text). Wherever the reader
    reads a cell, it must read the value the ordered read gives (a cell it cannot read fails the read, and the
    import is redone in order)."""
    path = tmp_path / "n.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b"])
        w.writerow([cell, "x"])
    con = duckdb.connect()
    try:
        raw = with_types(open_raw(con, path, 0, ordered=False), ["a"])
        try:
            (native,) = con.execute(f"SELECT a FROM {raw.relation}").fetchone()
        except duckdb.ConversionException:
            return  # not read: the import goes to the ordered read
        text = open_raw(con, path, 1, ordered=True)
        value, bad = files.typed_expr(text, "a", "num")
        typed, refused = con.execute(f"SELECT {value}, coalesce({bad}, false) FROM {text.relation}").fetchone()
    finally:
        con.close()
    assert not refused, f"the reader read {cell!r} as {native!r}, which the ordered read refuses"
    assert repr(native) == repr(typed), cell


# Cells a bill's timestamp column might hold: mutations of a valid one (a character changed, added or
# dropped: unpadded fields, odd separators, white space, time zones) and short strings of the same characters.
STAMP_CHARS = list("0123456789-:TZ .+\tU")
FIRST_STAMPS = {"%Y-%m-%d %H:%M:%S": "2026-01-03 05:07:09", "%Y-%m-%dT%H:%M:%SZ": "2026-01-03T05:07:09Z",
                "%Y-%m-%dT%H:%M:%S": "2026-01-03T05:07:09", "%Y-%m-%dT%H:%MZ": "2026-01-03T05:07Z"}
STAMP_CELLS = st.one_of(
    st.text(alphabet=st.sampled_from(STAMP_CHARS), max_size=24),
    st.tuples(st.sampled_from([*FIRST_STAMPS.values(), "2026-12-31T23:59:59Z", "2024-02-29 00:00:00"]),
              st.integers(0, 20), st.integers(0, 2), st.sampled_from(["", *STAMP_CHARS])).map(
        lambda t: t[0][:t[1]] + t[3] + t[0][t[1] + t[2]:]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(sorted(FIRST_STAMPS)), cell=STAMP_CELLS)
@example(fmt="%Y-%m-%d %H:%M:%S", cell="2026-1-3 5:7:9")
@example(fmt="%Y-%m-%dT%H:%M:%SZ", cell="\t2026-01-03T05:07:09Z")
@example(fmt="%Y-%m-%dT%H:%M:%SZ", cell="2026-01-03T05:07:09+02:00")
@example(fmt="%Y-%m-%d %H:%M:%S", cell="2026-02-30 00:00:00")
@example(fmt="%Y-%m-%d %H:%M:%S", cell="2026-01-03 24:00:00")
@example(fmt="%Y-%m-%d %H:%M:%S", cell="   ")
@example(fmt="%Y-%m-%dT%H:%M:%SZ", cell="26-10-05T03:00:00Z")
def test_a_timestamp_the_one_pass_reader_parses_is_what_the_ordered_read_types(tmp_path: Path, fmt: str,
                                                                               cell: str) -> None:
    """A CSV file read in one pass has its timestamp columns parsed by DuckDB's reader in the format of the
    column's first value (files.reader_timestamps, raw_files.with_types); the ordered read types the text
    (files.typed_expr: the ISO 8601 check and cast, else that format). Wherever the reader reads a cell, the
    ordered read must give the same value, as a charge time (ts) and as a billing period (period)."""
    path = tmp_path / "t.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b"])
        w.writerow([FIRST_STAMPS[fmt], "first"])
        w.writerow([cell, "cell"])
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")  # as the import sets it
        one = open_raw(con, path, 0, ordered=False)
        assert files.timestamp_format(one.first_values["a"]) == fmt
        raw = with_types(one, [], ["a"], fmt)
        try:
            (native,) = con.execute(f"SELECT a FROM {raw.relation} WHERE b = 'cell'").fetchone()
        except duckdb.ConversionException:
            return  # not read: the import goes to the ordered read
        text = open_raw(con, path, 1, ordered=True)
        for kind in ("ts", "period"):
            value, bad = files.typed_expr(text, "a", kind)
            typed, refused = con.execute(f"SELECT {value}, coalesce({bad}, false) FROM {text.relation} "
                                         "WHERE b = 'cell'").fetchone()
            if refused:
                # strptime's %Y reads a short year ("26-10-05"): the ordered read refuses that as not ISO
                # 8601, and the one-pass import refuses the year by the bounds on charge dates (before
                # FIRST_DAY), then is redone in order, which names it so.
                assert native < datetime.combine(FIRST_DAY, datetime.min.time()), (cell, native, kind)
                continue
            assert typed == native, (cell, kind)
    finally:
        con.close()
