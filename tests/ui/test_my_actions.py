"""Pilot: "My actions" updates a status and the history shows it; a stale edit is refused with the message.
The RACI editor refuses a row with two A; the people screen adds a person."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select
from textual.widgets import DataTable, Input, Select, Static

from finops_tui.app import FinOpsApp
from finops_tui.screens.my_actions import MyActionsScreen
from finops_tui.screens.people import PeopleScreen
from finops_tui.screens.raci import RaciScreen
from rituals.actions import create_action, update_action
from rituals.people import add_person, add_team
from rituals.raci import BUDGETS, load_raci
from storage.records import Action, ActionEvent, Person
from tests.workers import workers_done

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def seed(home) -> dict[str, int]:
    with home.records.write() as s:
        ana = add_person(s, "ana", "Ana Lopez", "finops_lead")
        carl = add_person(s, "carl", "Carl [dev]", "engineering")
        add_team(s, "web", owner="carl")
        a1 = create_action(s, title="Tag the [prod] buckets", owner_id=carl.id, now=NOW, actor_id=ana.id,
                           due_date=date(2026, 11, 20))
        create_action(s, title="Delete idle volumes", owner_id=carl.id, now=NOW, actor_id=ana.id)
        create_action(s, title="Buy the SP", owner_id=ana.id, now=NOW, actor_id=ana.id)
    return {"ana": ana.id, "carl": carl.id, "a1": a1.id}


async def settle(app, pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await workers_done(app)
    await pilot.pause()


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_my_actions_updates_a_status_and_shows_it_in_the_history(home) -> None:
    ids = seed(home)
    app = FinOpsApp(home)
    async with app.run_test(size=(150, 45)) as pilot:
        await app.push_screen(MyActionsScreen(home, handle="carl"))
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#ma-table", DataTable)
        assert table.row_count == 2  # carl's two, not ana's
        assert "Acting as Carl [dev] (carl)" in text_of(screen, "#ma-acting")
        assert screen.selected == ids["a1"]  # overdue first
        screen.query_one("#ma-status", Select).value = "in_progress"
        screen.query_one("#ma-note", Input).value = "on it"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        with home.records.session() as s:
            action = s.get(Action, ids["a1"])
            events = s.exec(select(ActionEvent).where(ActionEvent.action_id == ids["a1"])).all()
        assert (action.status, action.version) == ("in_progress", 2)
        assert [(e.field, e.old, e.new, e.actor_id, e.note) for e in events][-1] == (
            "status", "open", "in_progress", ids["carl"], "on it")
        history = screen.query_one("#ma-history", DataTable)
        changes = [str(history.get_row_at(i)[2]) for i in range(history.row_count)]
        assert changes == ["created", "status: open -> in_progress"]
        assert "Saved" in text_of(screen, "#ma-message")


async def test_a_stale_edit_is_refused_with_the_message(home) -> None:
    ids = seed(home)
    app = FinOpsApp(home)
    async with app.run_test(size=(150, 45)) as pilot:
        await app.push_screen(MyActionsScreen(home, handle="carl"))
        await settle(app, pilot)
        screen = app.screen
        assert screen.shown_version[ids["a1"]] == 1
        # Ana changes the action from her terminal while Carl's screen still shows version 1.
        update_action(home.records, ids["a1"], actor_id=ids["ana"], now=NOW, status="blocked")
        screen.query_one("#ma-status", Select).value = "done"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        message = text_of(screen, "#ma-message")
        assert "changed by Ana Lopez at 2026-11-27 09:00:00 UTC; run again" in message
        with home.records.session() as s:
            action = s.get(Action, ids["a1"])
            assert (action.status, action.version) == ("blocked", 2)
            assert not s.exec(select(ActionEvent).where(ActionEvent.actor_id == ids["carl"])).all()
        await pilot.press("r")  # reload: now the screen shows version 2 and the same edit goes through
        await settle(app, pilot)
        assert screen.shown_version[ids["a1"]] == 2
        screen.query_one("#ma-status", Select).value = "done"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        with home.records.session() as s:
            assert s.get(Action, ids["a1"]).status == "done"


async def test_an_unknown_person_cannot_act(home, monkeypatch) -> None:
    seed(home)
    monkeypatch.setenv("FINOPS_TUI_USER", "ghost")
    app = FinOpsApp(home)
    async with app.run_test(size=(150, 45)) as pilot:
        await app.push_screen(MyActionsScreen(home))
        await settle(app, pilot)
        assert "unknown person 'ghost'" in text_of(app.screen, "#ma-acting")
        assert app.screen.query_one("#ma-table", DataTable).row_count == 0


async def test_the_raci_editor_refuses_two_a_and_saves_a_good_row(home) -> None:
    app = FinOpsApp(home)
    async with app.run_test(size=(150, 45)) as pilot:
        await app.push_screen(RaciScreen(home))
        await settle(app, pilot)
        screen = app.screen
        grid = screen.query_one("#raci-grid", DataTable)
        row = [r.activity for r in screen.rows].index(BUDGETS)
        grid.move_cursor(row=row, column=4)  # leadership
        await pilot.press("a", "s")
        await settle(app, pilot)
        assert "Not saved: RACI row 'Budgets and guardrails' has 2 A" in text_of(screen, "#raci-message")
        await pilot.press("a")  # take it back, then take finops_lead's R away: one A, still an R
        grid.move_cursor(row=row, column=3)
        await pilot.press("r", "s")
        await settle(app, pilot)
        assert "Saved 'Budgets and guardrails'" in text_of(screen, "#raci-message")
    with home.records.session() as s:
        stored = next(r for r in load_raci(s) if r.activity == BUDGETS)
    assert stored.letters == {"engineering": ("C",), "finance": ("R", "A"), "leadership": ("I",)}


async def test_the_people_screen_adds_a_person(home) -> None:
    seed(home)
    app = FinOpsApp(home)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.push_screen(PeopleScreen(home))
        await settle(app, pilot)
        screen = app.screen
        assert screen.query_one("#pp-people-table", DataTable).row_count == 2
        screen.query_one("#pp-handle", Input).value = "bea"
        screen.query_one("#pp-name", Input).value = "Bea [fin]"
        screen.query_one("#pp-role", Select).value = "finance"
        screen.query_one("#pp-member-of", Input).value = "web"
        screen.query_one("#pp-save-person").press()
        await settle(app, pilot)
        assert screen.query_one("#pp-people-table", DataTable).row_count == 3
    with home.records.session() as s:
        bea = s.exec(select(Person).where(Person.handle == "bea")).one()
    assert (bea.name, bea.role) == ("Bea [fin]", "finance")


async def test_an_os_user_who_is_no_person_is_asked_once(home, monkeypatch) -> None:
    import stat

    from storage.home import WHOAMI_FILE

    seed(home)
    monkeypatch.delenv("FINOPS_TUI_USER", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "root")  # a container's user, no person in the records
    app = FinOpsApp(home)
    async with app.run_test(size=(150, 45)) as pilot:
        await app.push_screen(MyActionsScreen(home))
        await settle(app, pilot)
        screen = app.screen
        assert "unknown person 'root'" in text_of(screen, "#ma-acting")
        assert screen.query_one("#ma-whoami").display
        screen.query_one("#ma-person", Select).value = "carl"
        await pilot.click("#ma-this-is-me")
        await settle(app, pilot)
        assert "Acting as Carl [dev] (carl)" in text_of(screen, "#ma-acting")
        assert not screen.query_one("#ma-whoami").display
        assert screen.query_one("#ma-table", DataTable).row_count == 2  # carl's two actions
    assert stat.S_IMODE((home.path / WHOAMI_FILE).stat().st_mode) == 0o600
    # Remembered: the next session knows, and so do the commands (rituals.people.resolve_actor).
    from rituals.people import resolve_actor

    assert home.remembered_people() == {"root": "carl"}
    with home.records.session() as s:
        assert resolve_actor(s, remembered=home.remembered_people(), env={}, os_user="root").handle == "carl"
        assert resolve_actor(s, "ana", remembered=home.remembered_people(), env={}, os_user="root").handle == "ana"
    app = FinOpsApp(home)
    async with app.run_test(size=(150, 45)) as pilot:
        await app.push_screen(MyActionsScreen(home))
        await settle(app, pilot)
        assert "Acting as Carl [dev] (carl)" in text_of(app.screen, "#ma-acting")
        assert not app.screen.query_one("#ma-whoami").display
