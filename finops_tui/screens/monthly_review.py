"""The monthly cost review in meeting mode, on the ritual stepper: attendees, then one step per agenda item
(figures from the session's findings: ``MonthlyFindings.as_json()`` is the agenda, the object
``agenda monthly --json`` prints and a closed run freezes; notes saved as typed), the carried actions walked
one by one (a status and a note each, saved on enter through the version-checked ``walk_update``), proposed
actions created inline with their RACI owner and the next review as due date, and Record. The definition's
close stores next month's forecast in the same transaction; the status line says what it stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label, OptionList, Select
from textual.widgets.option_list import Option

from finops_tui.screens.stepper import RitualStepperScreen
from finops_tui.widgets.agenda_item import AgendaItem
from finops_tui.widgets.safe_text import safe_text
from rituals.definitions.monthly_review import KIND

WALK_STATUSES = ("open", "in_progress", "blocked", "done", "dropped")


class MonthlyReviewScreen(RitualStepperScreen):
    kind = KIND
    DEFAULT_CSS = """
    MonthlyReviewScreen .mr-figures { height: auto; }
    MonthlyReviewScreen #mr-walk, MonthlyReviewScreen #mr-proposals { height: auto; max-height: 10; }
    MonthlyReviewScreen #mr-walk-status { width: 30; }
    """
    BINDINGS = [Binding("X", "open_explorer", "Explorer", id="mr-explorer")]

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        super().__init__(home, period, facilitator=facilitator)
        self.walk_rows: dict[int, dict[str, Any]] = {}

    @property
    def agenda(self) -> dict[str, Any] | None:
        return self.findings.as_json() if self.findings is not None else None

    # -- the agenda items -----------------------------------------------------------------------------------
    def _figures(self, key: str) -> ComposeResult:
        # The agenda item is the same escaped markdown the minutes carry; its tables are the app's tables.
        yield AgendaItem("Preparing the agenda from the data...", id=f"mr-{key}", classes="mr-figures",
                         export_name=f"monthly-{key}")

    def compose_actions(self) -> ComposeResult:
        yield from self._figures("actions")
        yield Label("Walk each action: highlight it, choose its status, type a note and press enter")
        yield OptionList(id="mr-walk")
        yield Select([(s.replace("_", " "), s) for s in WALK_STATUSES], id="mr-walk-status", allow_blank=True,
                     prompt="status", classes="run-input")
        yield Input(placeholder="Status note (enter saves the update)", id="mr-walk-note", classes="run-input")

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

    SHOWS_CACHED = True
    SHOWS_PARTIAL = True

    def show_cached_findings(self, numbers: dict[str, Any]) -> None:
        # The agenda's figures; the walk and the proposals (action versions, owners) wait for the fresh ones.
        self._show_items(numbers)

    def show_partial_findings(self, numbers: dict[str, Any]) -> None:
        # The items computed so far (the carried actions, then spend, ...); the others still say they are
        # being prepared.
        self._show_items(numbers, only_present=True)

    def _show_items(self, agenda: dict[str, Any], *, only_present: bool = False) -> None:
        from exports.monthly_review import ITEMS, item_markdown

        for key, _title in ITEMS:
            if not only_present or key in agenda:
                self.query_one(f"#mr-{key}", AgendaItem).update(item_markdown(agenda, key))

    def show_findings(self, findings: Any) -> None:
        agenda = findings.as_json()
        self._show_items(agenda)
        acts = agenda.get("actions", {})
        self.walk_rows = {r["id"]: dict(r) for r in [*acts.get("open", []), *acts.get("done_since", [])]}
        self._show_walk()
        proposals = (agenda.get("decisions") or {}).get("proposed_actions") or []
        listing = self.query_one("#mr-proposals", OptionList)
        listing.clear_options()
        listing.add_options([Option(safe_text(f"{p['title']} - {p.get('owner') or 'no owner'}, due {p['due_date']}"),
                                    id=str(i)) for i, p in enumerate(proposals)])

    def describe_close(self, extras: dict[str, Any]) -> str:
        if extras.get("stored"):
            return f"forecast for {extras['month']} stored ({extras['forecast']:,.0f} {extras['currency']})"
        return f"no forecast stored for {extras.get('month')}: {extras.get('reason')}"

    # -- walking the carried actions ------------------------------------------------------------------------
    def _show_walk(self) -> None:
        listing = self.query_one("#mr-walk", OptionList)
        keep = listing.highlighted
        listing.clear_options()
        listing.add_options([Option(safe_text(f"#{r['id']} {r['title']} - {r['owner']}, due {r['due_date'] or '-'}"
                                         f"{' (overdue)' if r.get('overdue') else ''}: {r['status'].replace('_', ' ')}"),
                                    id=str(r["id"])) for r in self.walk_rows.values()])
        if self.walk_rows:
            listing.highlighted = keep if keep is not None and keep < len(self.walk_rows) else 0

    @on(OptionList.OptionHighlighted, "#mr-walk")
    def _walk_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        row = self.walk_rows.get(int(event.option.id or 0))
        if row is not None:
            self.query_one("#mr-walk-status", Select).value = row["status"]

    @on(Input.Submitted, "#mr-walk-note")
    def _walk_submitted(self, event: Input.Submitted) -> None:
        listing = self.query_one("#mr-walk", OptionList)
        if listing.highlighted is None or not self.writable():
            return
        row = self.walk_rows[int(listing.get_option_at_index(listing.highlighted).id or 0)]
        status = self.query_one("#mr-walk-status", Select).value
        status = status if isinstance(status, str) and status != row["status"] else None
        note = event.value.strip() or None
        if status is None and note is None:
            self.notify("Choose a new status or type a note first.", severity="warning")
            return
        actor = self.session.actor_id()
        if actor is None:
            self.notify("No facilitator to record the update as: add people first.", severity="warning")
            return
        event.input.value = ""
        self._save_walk(row["id"], status, note, row["version"], actor)

    @work(thread=True, group="stepper-save")
    def _save_walk(self, action_id: int, status: str | None, note: str | None, version: int, actor: int) -> None:
        from rituals.review_actions import walk_update

        try:
            done = walk_update(self.home.records, action_id, actor_id=actor,
                               now=self.home.clock.now(), status=status, note=note, if_version=version,
                               tz=self.home.config.tz)
        except (RuntimeError, ValueError) as exc:  # StaleUpdate: someone else changed the action
            self.notify_any_thread(str(exc), severity="error")
            return
        row = self.walk_rows[action_id]
        row["version"] = done.version
        if status is not None:
            row["status"] = status
        self.app.call_from_thread(self._show_walk)
        self.status_any_thread(f"Action #{action_id} updated")

    # -- new actions: owner from the RACI, due by the next review ----------------------------------------------
    @on(OptionList.OptionSelected, "#mr-proposals")
    def _proposal_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None and self.agenda and self.writable():
            self._proposal_flow(self.agenda["decisions"]["proposed_actions"][int(event.option.id)])

    @work(group="stepper-dialog", exclusive=True)
    async def _proposal_flow(self, proposal: dict[str, Any]) -> None:
        owner = next((p.id for p in self.people if p.handle == proposal.get("owner")), None)
        due = proposal.get("due_date")
        await self.open_action_form(title=proposal["title"], owner_id=owner, kind=proposal.get("kind", "other"),
                                    due=date.fromisoformat(due) if isinstance(due, str) else due)

    def action_defaults(self) -> dict[str, Any]:
        from rituals.monthly_review import default_owner, next_review_date, parse_month

        handle = default_owner(self.home, self.steps[self.step_index].id)
        return {"owner_id": next((p.id for p in self.people if p.handle == handle), None),
                "due": next_review_date(self.home, parse_month(self.session.period, "period"))}
