"""A ritual's findings computed step by step: the monthly agenda reports each item as it is computed (the
carried actions, then spend with the showback it reads, then unit economics, anomalies and coverage), each
report a part of the very agenda returned at the end, and the agenda is the same with or without the
reports. The cost store is held open for the reads of one computation (``CostStore.held``): figures are the
same, and a writer waits for the hold to end (one of the holding thread is refused, not deadlocked)."""

from __future__ import annotations

import threading
import time

import pytest

from rituals.definitions.monthly_review import RITUAL as MONTHLY
from rituals.definitions.tag_sweep import RITUAL as SWEEP
from rituals.monthly_review import build_agenda
from rituals.ritual import Request, plain_json
from rituals.session import RunSession
from storage import costs as cost_store
from storage.costs import CostStoreError


def test_the_agenda_reports_its_items_in_the_order_of_the_steps(demo_home) -> None:
    build_agenda(demo_home)  # the first detection stores the cases (the next agendas say none is new)
    parts: list[dict] = []
    agenda = plain_json(build_agenda(demo_home, progress=parts.append))
    assert agenda == plain_json(build_agenda(demo_home))  # the same agenda without the reports
    items = [[k for k in p if k in ("actions", "showback", "spend", "unit_economics", "anomalies", "coverage",
                                    "decisions")] for p in parts]
    assert items == [["actions"], ["actions", "showback", "spend"],
                     ["actions", "showback", "spend", "unit_economics"],
                     ["actions", "showback", "spend", "unit_economics", "anomalies"],
                     ["actions", "showback", "spend", "unit_economics", "anomalies", "coverage"]]
    for part in parts:  # each report is the final agenda's own figures, keys in the final order
        assert {k: agenda[k] for k in part} == part
        assert list(part) == [k for k in agenda if k in part]
    assert parts[1]["spend"]["total"]["spend"] == agenda["spend"]["total"]["spend"]


def test_a_session_passes_the_reports_and_freezes_the_same_numbers(demo_home) -> None:
    session = RunSession(demo_home, MONTHLY)
    session.open()
    session.findings()  # the first detection stores the cases
    parts: list[dict] = []
    stepwise = session.findings_in_steps(parts.append)
    plain = session.findings()
    assert stepwise.as_json() == plain.as_json()
    assert parts and all(set(p) < set(plain.as_json()) for p in parts)
    headless = MONTHLY.findings(demo_home, session.period, run_id=session.run_id)
    assert headless.as_json() == plain.as_json()


def test_a_held_store_gives_the_same_figures_and_is_released(demo_home) -> None:
    window = SWEEP.window(demo_home, "2026-W44")
    request = Request(window, "2026-W44")
    plain = SWEEP.compute(demo_home, request).as_json()  # each read opens the file itself
    assert SWEEP.computed(demo_home, request).as_json() == plain
    with demo_home.costs.held(), demo_home.costs.held():  # holds nest
        assert cost_store._HELD
        assert SWEEP.compute(demo_home, request).as_json() == plain
    assert not cost_store._HELD  # released: nothing of this process keeps the file open
    demo_home.costs.set_meta({"held_test": "1"})  # a writer gets the file
    assert demo_home.costs.meta("held_test") == "1"


def test_a_writer_waits_for_the_hold_and_one_inside_it_is_refused(demo_home) -> None:
    store = demo_home.costs
    held, release, wrote = threading.Event(), threading.Event(), []

    def reader() -> None:
        with store.held():
            held.set()
            release.wait(30)
            wrote.append(("released", time.monotonic()))

    t = threading.Thread(target=reader)
    t.start()
    assert held.wait(30)
    with store.held():  # a write inside a hold of the same thread would wait for itself: refused at once
        with pytest.raises(CostStoreError, match="held open for reading by this thread"):
            store.set_meta({"inside": "1"})
    threading.Timer(0.3, release.set).start()
    store.set_meta({"after": "1"})  # waits for the other thread's hold to end, then writes
    wrote.append(("wrote", time.monotonic()))
    t.join(30)
    assert [w for w, _ in wrote] == ["released", "wrote"]
    assert store.meta("after") == "1" and store.meta("inside") is None

    with store.held():
        other = []
        w = threading.Thread(target=lambda: other.append(_try_write(store)))
        w.start()
        w.join(30)
    assert other and "being read by this process" in other[0]

    # An import attaches the store read-write to its own connection: it waits for a hold the same way.
    import duckdb

    release.clear()
    held.clear()
    t = threading.Thread(target=reader)
    t.start()
    assert held.wait(30)
    threading.Timer(0.3, release.set).start()
    con = duckdb.connect(":memory:")
    cost_store.attach_store(con, store.path)
    attached = time.monotonic()
    con.execute("INSERT OR REPLACE INTO store.meta VALUES ('attached', '1')")
    con.close()
    t.join(30)
    assert wrote[-1][0] == "released" and wrote[-1][1] <= attached
    assert store.meta("attached") == "1"


def _try_write(store) -> str:
    try:
        cost_store.connect(store.path, read_only=False, timeout_s=0.2).close()
        return "wrote"
    except CostStoreError as exc:
        return str(exc)


def test_a_hold_asks_the_catalog_once_and_the_next_hold_sees_a_change(tmp_path, monkeypatch) -> None:
    import json

    from storage.config import load_config
    from storage.costs import CostStore
    from storage.schema import DATA_TABLE, stored_columns
    from storage.sql_log import SQL_LOG_ENV

    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    with store.writer():
        pass  # the schema
    log = tmp_path / "sql.log"
    monkeypatch.setenv(SQL_LOG_ENV, str(log))

    def asked() -> int:
        lines = log.read_text().splitlines() if log.exists() else []
        return sum("information_schema.columns" in (json.loads(x).get("sql") or "") for x in lines)

    with store.held():
        for _ in range(3):
            with store.reader() as con:
                columns = stored_columns(con)
    assert asked() == 1 and "x_held_test" not in columns  # three connections of one hold, one question
    with store.reader() as con:  # no hold: asked again
        assert stored_columns(con) == columns
    assert asked() == 2
    with store.writer() as con:
        con.execute(f"ALTER TABLE {DATA_TABLE} ADD COLUMN x_held_test VARCHAR")
    with store.held(), store.reader() as con:
        assert "x_held_test" in stored_columns(con)  # the memo ended with its hold
    assert not cost_store._CON_MEMO


def test_the_quarterly_review_reports_its_scorecard_before_the_maturity_grid(demo_home, monkeypatch) -> None:
    import rituals.maturity as maturity
    from rituals.definitions.quarterly_review import RITUAL as QUARTERLY

    seen: list[object] = []
    real = maturity.assess

    def assess(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append("assess")
        return real(*args, **kwargs)

    monkeypatch.setattr(maturity, "assess", assess)
    session = RunSession(demo_home, QUARTERLY, "2026-Q3")
    session.open()
    stepwise = session.findings_in_steps(seen.append)
    [part] = [p for p in seen if isinstance(p, dict)]
    assert seen.index(part) < seen.index("assess")  # on screen before the evidence is gathered
    assert part == plain_json(stepwise.as_json()) == plain_json(session.findings().as_json())
