"""Keys that respect focus, driven by Pilot on the stepper: focus starts on the step's main widget with its
cursor shown; in a text box the ritual's letters are text and escape leaves the box (not the ritual), after
which the ritual keys work; `?` shows the keys of the screen and of the focused widget; a `[keys]` table in
the home's config rebinds a binding by its id, and an unknown id is reported."""

from __future__ import annotations

from textual.widgets import HelpPanel, Input, Markdown, TextArea

from finops_tui.app import FinOpsApp, binding_ids
from finops_tui.widgets.check_list import CheckList
from tests.ui.test_stepper import TinyReview, _people, _settle


async def _open(app, pilot, home):  # type: ignore[no-untyped-def]
    screen = TinyReview(home, "2026-10", facilitator="ana")
    await app.push_screen(screen)
    await _settle(app, pilot)
    await pilot.pause()
    return screen


async def test_escape_leaves_a_text_box_and_the_ritual_keys_work_again(home) -> None:
    _people(home)
    app = FinOpsApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, home)
        # the step's main widget has focus, with its cursor on the first person
        attendees = screen.query_one("#stepper-attendees", CheckList)
        assert app.focused is attendees and attendees.highlighted == 0

        box = screen.query_one("#stepper-decision-input", Input)
        box.focus()
        await pilot.pause()
        # the footer says how to leave the box; `n` is text here
        active = screen.active_bindings
        assert active["escape"].binding.action == "leave_box" and active["escape"].binding.show
        await pilot.press("n", "b")
        assert box.value == "nb" and screen.steps[screen.step_index].id == "attendees"

        await pilot.press("escape")
        assert app.screen is screen  # still in the ritual
        assert app.focused is attendees
        assert screen.active_bindings["escape"].binding.action == "leave"
        await pilot.press("n")
        assert screen.steps[screen.step_index].id == "spend"

        notes = screen.query_one("#notes-spend", TextArea)
        notes.focus()
        await pilot.press("c", "escape")
        assert notes.text == "c" and app.screen is screen and not isinstance(app.focused, TextArea | Input)
        await pilot.press("b")
        assert screen.steps[screen.step_index].id == "attendees"


async def test_question_mark_shows_the_keys_of_the_screen_and_the_focused_widget(home) -> None:
    _people(home)
    app = FinOpsApp(home)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await _open(app, pilot, home)
        await pilot.press("question_mark")
        await pilot.pause()
        panel = screen.query_one(HelpPanel)
        assert "Ritual keys" in panel.query_one(Markdown).source
        await pilot.press("question_mark")
        await pilot.pause()
        assert not screen.query(HelpPanel)


async def test_a_keys_table_in_the_config_rebinds_by_id(home) -> None:
    _people(home)
    (home.path / "finops-tui.toml").write_text('[keys]\nstepper-next = "right_square_bracket"\n'
                                               'no-such-binding = "z"\n', encoding="utf-8")
    app = FinOpsApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot, home)
        screen.query_one("#stepper-steps").focus()
        await pilot.press("n")  # n no longer moves on: the keymap replaced the binding's keys
        assert screen.steps[screen.step_index].id == "attendees"
        await pilot.press("right_square_bracket")
        assert screen.steps[screen.step_index].id == "spend"
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert any("no-such-binding" in m and "finops-tui.toml" in m for m in warnings)
        assert "stepper-next" in binding_ids() and "no-such-binding" not in binding_ids()


async def test_checkboxes_read_without_colour(home) -> None:
    from textual.app import App, ComposeResult

    class Boxes(App[None]):
        def compose(self) -> ComposeResult:
            yield CheckList(("ticked", 1, True), ("not ticked", 2, False))

    app = Boxes()
    async with app.run_test(size=(40, 6)) as pilot:
        await pilot.pause()
        boxes = app.query_one(CheckList)
        lines = [boxes.render_line(y).text for y in range(2)]
        assert lines[0].startswith("[x] ticked") and lines[1].startswith("[ ] not ticked")
        boxes.focus()
        await pilot.press("down", "space")
        assert boxes.render_line(1).text.startswith("[x] not ticked")


async def test_the_theme_comes_from_the_config(home) -> None:
    (home.path / "finops-tui.toml").write_text('[ui]\ntheme = "high-contrast"\n', encoding="utf-8")
    app = FinOpsApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "finops-high-contrast"
        assert app.current_theme.background == "#000000" and app.current_theme.foreground == "#ffffff"


async def test_about_lists_every_binding_id(home) -> None:
    app = FinOpsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_about()
        await pilot.pause()
        text = app.screen.query_one(Markdown).source
        assert all(f"| {i} |" in text for i in ("stepper-next", "table-export", "anomaly-note"))
