"""A CSV import reads each file in one pass, without row numbers (storage.sources.files.import_files); the
import read in file order (with row numbers) stays the reference: both store the same rows, and anything
that names a row (a refusal, a note) comes from the ordered import, which the one-pass one hands over to."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

import storage.sources.files as files
from storage.config import load_config
from storage.costs import CostStore
from storage.loader import LoadError
from tests.unit.test_allocated_tags import COLUMNS, generated


def store_at(path: Path) -> CostStore:
    return CostStore(path / "costs.duckdb", load_config(None).taxonomy)


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


def test_a_note_naming_a_row_comes_from_the_ordered_read(tmp_path: Path, passes: list[bool]) -> None:
    data = tmp_path / "focus13.csv"
    rows = generated(data)
    rows[5]["ChargePeriodEnd"] = "2026-11-02T00:00:00Z"  # a charge spanning October and November
    with data.open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    (tmp_path / "h").mkdir()
    result = files.import_files(store_at(tmp_path / "h"), [data])
    assert passes == [True, False]
    assert result.load.multi_month["rows"] == 1 and result.load.multi_month["first_row"] == 6  # data row 6


def test_a_refusal_names_the_row_as_the_ordered_read_does(tmp_path: Path, passes: list[bool]) -> None:
    data = tmp_path / "focus13.csv"
    rows = generated(data)
    rows[9]["BilledCost"] = "12,5"
    with data.open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    (tmp_path / "h").mkdir()
    with pytest.raises(LoadError) as exc:
        files.import_files(store_at(tmp_path / "h"), [data])
    assert passes == [True, False]
    first = exc.value.problems[0]
    assert (first.source, first.row, first.column) == (str(data), 10, "BilledCost")
    assert not (tmp_path / "h" / "costs.duckdb").exists() or stored(store_at(tmp_path / "h")) == ([], [])
