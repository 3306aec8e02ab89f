"""The monthly cost review in meeting mode, on the ritual stepper: attendees, then one step per agenda item
(figures from ``rituals.monthly_review.build_agenda``, notes saved as typed), the carried actions walked one
by one (a status and a note each, saved on enter through the version-checked ``update_action``), proposed
actions created inline with their RACI owner and the next review as due date, and Record: closing freezes
the agenda (``agenda monthly --json``) and stores next month's forecast in the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Label, Markdown, OptionList, Select
from textual.widgets.option_list import Option

from finops_tui.modals.action_form import ActionForm
from finops_tui.screens.stepper import RitualStepperScreen, Step

WALK_STATUSES = ("open", "in_progress", "blocked", "done", "dropped")


class MonthlyReviewScreen(RitualStepperScreen):
    kind = "monthly_review"
    STEPS = (
        Step("actions", "1. Actions carried", "compose_actions"),
        Step("spend", "2. Spend, budget, forecast", "compose_spend"),
        Step("showback", "3. Showback", "compose_showback"),
        Step("unit_economics", "4. Unit economics", "compose_unit_economics"),
        Step("anomalies", "5. Anomalies", "compose_anomalies"),
        Step("coverage", "6. Coverage", "compose_coverage"),
    )
    DEFAULT_CSS = """
    MonthlyReviewScreen .mr-figures { height: auto; }
    MonthlyReviewScreen #mr-walk, MonthlyReviewScreen #mr-proposals { height: auto; max-height: 10; }
    MonthlyReviewScreen #mr-walk-status { width: 30; }
    """

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        super().__init__(home, period, facilitator=facilitator)
        self.agenda: dict[str, Any] | None = None
        self.walk_rows: dict[int, dict[str, Any]] = {}
        self.last_forecast: dict[str, Any] | None = None

    # -- the agenda -----------------------------------------------------------------------------------------
    def numbers(self) -> dict[str, Any]:
        from rituals.monthly_review import build_agenda, parse_month

        return build_agenda(self.home, parse_month(self.run.period, "period"), run_id=self.run.id)

    def _figures(self, key: str) -> ComposeResult:
        # The agenda item is the same escaped markdown the minutes carry, rendered (tables, headings).
        yield Markdown("Preparing the agenda from the data...", id=f"mr-{key}", classes="mr-figures")

    def compose_actions(self) -> ComposeResult:
        yield from self._figures("actions")
        yield Label("Walk each action: highlight it, choose its status, type a note and press enter")
        yield OptionList(id="mr-walk")
        yield Select([(s.replace("_", " "), s) for s in WALK_STATUSES], id="mr-walk-status", allow_blank=True,
                     prompt="status")
        yield Input(placeholder="Status note (enter saves the update)", id="mr-walk-note")

    def compose_spend(self) -> ComposeResult:
        yield from self._figures("spend")

    def compose_showback(self) -> ComposeResult:
        yield from self._figures("showback")

    def compose_unit_economics(self) -> ComposeResult:
        yield from self._figures("unit_economics")

    def compose_anomalies(self) -> ComposeResult:
        yield from self._figures("anomalies")

    def compose_coverage(self) -> ComposeResult:
        yield from self._figures("coverage")

    def compose_decisions(self) -> ComposeResult:
        yield from self._figures("decisions")
        yield Label("Proposed actions (enter opens one with its RACI owner and due date)")
        yield OptionList(id="mr-proposals")
        yield from super().compose_decisions()

    def _show_run(self, run: Any, people: list[Any], actions: list[Any], facilitator: Any) -> None:
        super()._show_run(run, people, actions, facilitator)
        if self.agenda is None:
            self._load_agenda()

    @work(thread=True, exclusive=True, group="mr-agenda")
    def _load_agenda(self) -> None:
        try:
            agenda = self.numbers()
        except Exception as exc:  # the meeting goes on with notes even when the figures fail
            self._notify_any_thread(f"Could not prepare the agenda: {exc}", severity="error")
            return
        self.app.call_from_thread(self._show_agenda, agenda)

    def _show_agenda(self, agenda: dict[str, Any]) -> None:
        from exports.monthly_review import ITEMS, item_markdown

        self.agenda = agenda
        for key, _title in ITEMS:
            self.query_one(f"#mr-{key}", Markdown).update(item_markdown(agenda, key))
        acts = agenda.get("actions", {})
        self.walk_rows = {r["id"]: dict(r) for r in [*acts.get("open", []), *acts.get("done_since", [])]}
        self._show_walk()
        proposals = (agenda.get("decisions") or {}).get("proposed_actions") or []
        listing = self.query_one("#mr-proposals", OptionList)
        listing.clear_options()
        listing.add_options([Option(Text(f"{p['title']} - {p.get('owner') or 'no owner'}, due {p['due_date']}"),
                                    id=str(i)) for i, p in enumerate(proposals)])

    def _show_walk(self) -> None:
        listing = self.query_one("#mr-walk", OptionList)
        keep = listing.highlighted
        listing.clear_options()
        listing.add_options([Option(Text(f"#{r['id']} {r['title']} - {r['owner']}, due {r['due_date'] or '-'}"
                                         f"{' (overdue)' if r.get('overdue') else ''}: {r['status'].replace('_', ' ')}"),
                                    id=str(r["id"])) for r in self.walk_rows.values()])
        if self.walk_rows:
            listing.highlighted = keep if keep is not None and keep < len(self.walk_rows) else 0

    def _set_editable(self, editable: bool) -> None:
        super()._set_editable(editable)
        for selector in ("#mr-walk-status", "#mr-walk-note"):
            self.query_one(selector).disabled = not editable

    # -- walking the carried actions ------------------------------------------------------------------------
    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "mr-walk" and event.option.id:
            row = self.walk_rows.get(int(event.option.id))
            if row is not None:
                self.query_one("#mr-walk-status", Select).value = row["status"]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "mr-walk-note":
            super().on_input_submitted(event)
            return
        listing = self.query_one("#mr-walk", OptionList)
        if listing.highlighted is None or self.run is None or self.run.status != "open":
            return
        option = listing.get_option_at_index(listing.highlighted)
        row = self.walk_rows[int(option.id or 0)]
        status = self.query_one("#mr-walk-status", Select).value
        status = status if isinstance(status, str) and status != row["status"] else None
        note = event.value.strip() or None
        if status is None and note is None:
            self.notify("Choose a new status or type a note first.", severity="warning")
            return
        event.input.value = ""
        self._save_walk(row["id"], status, note, row["version"])

    @work(thread=True, group="stepper-save")
    def _save_walk(self, action_id: int, status: str | None, note: str | None, version: int) -> None:
        from rituals.actions import StaleUpdate
        from rituals.review_actions import walk_update

        actor = next((p.id for p in self.people if p.handle == self.facilitator_handle), None)
        try:
            with self._write_lock:
                done = walk_update(self.home.records, action_id, actor_id=actor, now=self.home.clock.now(),
                                   status=status, note=note, if_version=version, tz=self.home.config.tz)
        except (StaleUpdate, ValueError) as exc:
            self._notify_any_thread(str(exc), severity="error")
            return
        row = self.walk_rows[action_id]
        row["version"] = done.version
        if status is not None:
            row["status"] = status
        self.app.call_from_thread(self._show_walk)
        self._status_any_thread(f"Action #{action_id} updated")

    # -- new actions: owner from the RACI, due by the next review ----------------------------------------------
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "mr-proposals" and event.option.id is not None and self.agenda:
            proposal = self.agenda["decisions"]["proposed_actions"][int(event.option.id)]
            self._proposal_flow(proposal)

    @work(group="stepper-dialog", exclusive=True)
    async def _proposal_flow(self, proposal: dict[str, Any]) -> None:
        from datetime import date

        if self.run is None or self.run.status != "open":
            self.notify("This run is closed; its record is read-only.", severity="warning")
            return
        owner = next((p.id for p in self.people if p.handle == proposal.get("owner")), None)
        due = proposal.get("due_date")
        due = date.fromisoformat(due) if isinstance(due, str) else due
        await self._action_form(title=proposal["title"], owner_id=owner, kind=proposal.get("kind", "other"),
                                due=due)

    @work(group="stepper-dialog", exclusive=True)
    async def _new_action_flow(self) -> None:
        from rituals.monthly_review import default_owner, next_review_date, parse_month

        step = self.steps[self.step_index].id
        handle = await asyncio.to_thread(default_owner, self.home, step)
        owner = next((p.id for p in self.people if p.handle == handle), None)
        due = next_review_date(self.home, parse_month(self.run.period, "period"))
        await self._action_form(owner_id=owner, due=due)

    async def _action_form(self, **initial: Any) -> None:
        people = [(f"{p.name} ({p.handle})", p.id) for p in self.people]
        values = await self.app.push_screen_wait(ActionForm(people, self.home.clock.today(), **initial))
        if values is not None:
            await asyncio.to_thread(self._store_action, values)

    # -- closing: freeze the agenda, store next month's forecast -------------------------------------------------
    CLOSE_DETAIL = "A closed run is read-only. A forecast for next month is stored in the ledger."

    def numbers_ready(self, numbers: dict[str, Any]) -> None:
        self._show_agenda(numbers)

    def after_close(self) -> bool:
        from rituals.monthly_review import parse_month, store_next_forecast

        self._status_any_thread("Run closed; storing next month's forecast...")
        outcome = store_next_forecast(self.home, parse_month(self.run.period, "period"))
        self.last_forecast = outcome
        if outcome.get("stored"):
            self._status_any_thread(f"Run closed; forecast for {outcome['month']} stored "
                                    f"({outcome['forecast']:,.0f} {outcome['currency']}). "
                                    "Press m to export the minutes.")
        else:
            message = f"Run closed; no forecast stored for {outcome.get('month')}: {outcome.get('reason')}"
            self._notify_any_thread(message, severity="warning")
        return True
