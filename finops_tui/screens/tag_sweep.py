"""The weekly tag sweep on the ritual stepper: Coverage (headline against target, per key, the 8-week
trend) -> Where it leaks (by account and service, enter drills an account down to its resources) ->
Variants -> Assign fixes (select rows, one action each for its owner, due by the next sweep; open fixes
checked against the data and closed when verified) -> Record (the stepper freezes ``sweep --json``)."""

from __future__ import annotations

from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Label, SelectionList, Static

from exports.format import money, pct
from finops_tui.screens.stepper import RitualStepperScreen
from finops_tui.widgets.check_list import CheckList
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.kpi_strip import Kpi, KpiStrip
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from finops_tui.widgets.trend_chart import TrendChart
from rituals.definitions.tag_sweep import KIND

LABELS = {"account_id": "Account", "account_name": "Name", "service": "Service", "cost": "Spend",
          "allocated_cost": "Allocated", "unallocated_cost": "Unallocated", "coverage_pct": "Coverage",
          "share_pct": "Share of leak", "resource_id": "Resource", "suggested_owner": "Suggested owner",
          "key": "Key", "value": "Spelling", "canonical": "Canonical", "pct": "Carrying it",
          "cluster": "Cluster", "namespace": "Namespace", "team": "Team", "idle_cost": "Of which idle"}

LEAK_ORDER = ["account_name", "service", "unallocated_cost", "cost", "coverage_pct", "allocated_cost",
              "account_id"]
LEAK_PRIORITIES = {"account_name": 0, "service": 0, "unallocated_cost": 0, "cost": 0, "coverage_pct": 1,
                   "allocated_cost": 2, "account_id": 3}
RESOURCE_ORDER = ["cost", "suggested_owner", "service", "resource_id", "account_name", "account_id"]
VARIANT_COLUMNS = ["key", "value", "canonical", "cost"]
RESOURCE_PRIORITIES = {"cost": 0, "suggested_owner": 0, "resource_id": 0, "service": 1, "account_name": 2,
                       "account_id": 3}


class TagSweepScreen(RitualStepperScreen):
    kind = KIND
    LAZY_STEPS = True
    DEFAULT_CSS = """
    TagSweepScreen FrameTable { height: auto; max-height: 10; }
    TagSweepScreen #ts-candidates, TagSweepScreen #ts-checks { height: auto; max-height: 12; }
    TagSweepScreen .ts-line { height: auto; color: $text-muted; }
    """
    BINDINGS = [Binding("X", "open_explorer", "Explorer", id="ts-explorer")]

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        super().__init__(home, period, facilitator=facilitator)
        self.sweep: Any = None
        self.candidates: list[Any] = []
        self.tracked: dict[tuple[str, str], int] = {}
        self.checks: list[Any] = []

    # -- steps ----------------------------------------------------------------------------------------------
    def compose_coverage(self) -> ComposeResult:
        yield SafeStatic("Computing the sweep...", id="ts-window", classes="ts-line", markup=False)
        note = SafeStatic("", id="ts-source", classes="ts-line", markup=False)
        note.display = False  # shown when the figures come from the AWS sync's tag costs
        yield note
        yield KpiStrip([Kpi("Coverage", "loading…")], id="ts-kpis")
        yield Label("Tag hygiene: share of spend carrying each key")
        yield FrameTable(id="ts-keys", export_name="sweep-keys")
        yield TrendChart("Allocation coverage, 8 weeks", id="ts-trend")

    def compose_leaks(self) -> ComposeResult:
        yield SafeStatic("", id="ts-unused", classes="ts-line", markup=False)
        yield Label("By account (enter shows the account's unallocated resources)")
        yield FrameTable(id="ts-accounts", export_name="sweep-accounts")
        yield SafeStatic("Top unallocated resources", id="ts-drill-title", markup=False)
        yield FrameTable(id="ts-resources", export_name="sweep-resources")
        yield Label("By service")
        yield FrameTable(id="ts-services", export_name="sweep-services")
        clusters = SafeStatic("", id="ts-clusters", classes="ts-line", markup=False)
        clusters.display = False  # shown with split cost allocation data (shared EKS/ECS clusters)
        yield clusters
        spaces = FrameTable(id="ts-namespaces", export_name="sweep-namespaces")
        spaces.display = False
        yield spaces

    def compose_variants(self) -> ComposeResult:
        yield Label("Spellings of one value, with the canonical one suggested (reported, never merged)")
        yield FrameTable(id="ts-variants", export_name="sweep-variants")

    def compose_fixes(self) -> ComposeResult:
        yield SafeStatic("Select fixes (space), then create one tag-fix action each for its owner, due by the "
                     "next sweep.", classes="ts-line", markup=False)
        yield CheckList(id="ts-candidates")
        yield Button("Create actions for the selected", id="ts-create", classes="run-input")
        yield Label("Open tag fixes checked against the data (verified ones can be closed)")
        yield CheckList(id="ts-checks")
        yield Button("Close the selected verified fixes", id="ts-close-verified")

    # -- the findings: the sweep of the session's window (exactly `finops-tui sweep --json`) ----------------
    def compute_findings(self) -> Any:
        from rituals.tag_fixes import open_fix_ids

        sweep = super().compute_findings()  # the coverage painted first (show_partial_findings)
        with self.home.records.session() as s:
            self.tracked = open_fix_ids(s)
        return sweep

    SHOWS_CACHED = True
    SHOWS_PARTIAL = True

    def show_cached_findings(self, numbers: dict[str, Any]) -> None:
        self._show_coverage(numbers)

    def show_partial_findings(self, numbers: dict[str, Any]) -> None:
        # The summed spend's figures (rituals.tag_sweep.summed_coverage), while the resources are read.
        self._show_coverage(numbers)

    def _show_coverage(self, n: dict[str, Any]) -> None:
        """The Coverage step, from the sweep's ``--json`` object (fresh, or as last computed)."""
        from rituals.tag_sweep import source_note

        if not self.composed("coverage"):
            return
        start, end = self.session.window
        self.query_one("#ts-window", Static).update(safe_text(f"Window {start} to {end} (end exclusive)"))
        cur = n["currency"]
        status = None if n["coverage_pct"] is None else ("good" if n["meets_target"] else "warn")
        note = source_note(n["source"])
        source = self.query_one("#ts-source", Static)
        source.update(safe_text(note or ""))
        source.display = bool(note)
        self.query_one("#ts-kpis", KpiStrip).set_kpis([
            Kpi("Coverage", pct(n["coverage_pct"]), status, f"target {n['target_pct']:g}%"),
            Kpi("By tag", pct(n["by_tag_pct"])),
            Kpi("By rule", pct(n["by_rule_pct"]), hint="account owners, cost categories"),
            Kpi("Unallocated", money(n["unallocated_cost"], cur), hint=f"of {money(n['total_cost'], cur)}"),
        ])
        keys = [{"key": k, "pct": v} for k, v in n["by_key"].items()]
        self.query_one("#ts-keys", FrameTable).load_records(keys, ["key", "pct"], {"pct": pct}, LABELS)
        self.call_after_refresh(self._plot_trend, n)  # the figures paint first; the chart is the slow part

    def show_findings(self, sweep: Any) -> None:
        from rituals.tag_fixes import fix_candidates

        self.sweep, self.candidates = sweep, fix_candidates(sweep)
        self.checks = list(sweep.fix_checks)
        if self.composed("coverage"):
            self._show_coverage(sweep.as_json())
        if self.composed("leaks"):
            self._show_leaks(sweep)
        if self.composed("variants"):
            money_fmt = {"cost": lambda v: money(v, sweep.currency)}
            self.query_one("#ts-variants", FrameTable).load_records(sweep.variants, VARIANT_COLUMNS, money_fmt, LABELS)
        if self.composed("fixes"):
            self._show_candidates()
            self._show_checks(sweep.currency)

    def _show_leaks(self, sweep: Any) -> None:
        cur = sweep.currency
        money_fmt = {c: (lambda v, c=cur: money(v, c)) for c in ("cost", "allocated_cost", "unallocated_cost")}
        fmts = {**money_fmt, "coverage_pct": pct, "share_pct": pct}
        # The leak first (unallocated), then its context; the account id goes before the name when narrow.
        accounts = [c for c in LEAK_ORDER if c != "service"]
        self.query_one("#ts-accounts", FrameTable).load_records(sweep.by_account, accounts, fmts, LABELS,
                                                                priorities=LEAK_PRIORITIES)
        services = [c for c in LEAK_ORDER if c not in ("account_name", "account_id")]
        self.query_one("#ts-services", FrameTable).load_records(sweep.by_service, services, fmts, LABELS,
                                                                priorities=LEAK_PRIORITIES)
        self._show_resources(sweep.top_unallocated, "Top unallocated resources" + (
            " (none: no line items with tags)" if sweep.source_note else ""))
        unused = "No unused commitment in the window."
        if abs(sweep.unused_cost) > 1e-9:
            unused = (f"Unused commitment: {money(sweep.unused_cost, cur)} (its own line, not a resource; owner: "
                      f"{sweep.commitment_owner or 'no one accountable in the RACI'})")
        self.query_one("#ts-unused", Static).update(safe_text(unused))
        self._show_clusters(sweep, cur)

    def _show_checks(self, cur: str) -> None:
        checks = self.query_one("#ts-checks", SelectionList)
        checks.clear_options()
        for index, c in enumerate(self.checks):
            label = (f"#{c['action_id']} {c['title']} ({c['owner'] or '-'}): {c['verdict_text']}; moved "
                     f"{money(c['moved_cost'], cur, decimals=2)}, unallocated now "
                     f"{money(c['unallocated_cost'], cur, decimals=2)}")
            checks.add_option((safe_text(label), c["action_id"], False))
            if not c["verified"]:
                checks.disable_option_at_index(index)

    def _plot_trend(self, n: dict[str, Any]) -> None:
        trend = n["trend"]
        self.query_one("#ts-trend", TrendChart).plot(
            {"coverage %": [(w["start"], w["coverage_pct"]) for w in trend],
             "target %": [(w["start"], n["target_pct"]) for w in trend]},
            title="Allocation coverage, 8 weeks", y_label="%")

    def _show_clusters(self, sweep: Any, cur: str) -> None:
        """Each shared cluster's coverage by its pods and its nodes' idle cost, and its namespaces' teams."""
        line = "; ".join(f"Cluster {c['cluster']}: {money(c['cost'], cur)} on {c['nodes']} nodes, "
                         f"{pct(c['coverage_pct'])} allocated through {c['pods']} pods, idle "
                         f"{money(c['idle_cost'], cur)} ({pct(c['idle_pct'])})" for c in sweep.clusters)
        head = self.query_one("#ts-clusters", Static)
        head.update(safe_text(line))
        head.display = bool(sweep.clusters)
        table = self.query_one("#ts-namespaces", FrameTable)
        table.display = bool(sweep.cluster_namespaces)
        if sweep.cluster_namespaces:
            fmt = {c: (lambda v, c2=cur: money(v, c2)) for c in ("cost", "idle_cost")}
            table.load_records(sweep.cluster_namespaces, ["cluster", "namespace", "team", "cost", "idle_cost"], fmt,
                               LABELS)

    def _show_resources(self, resources: list[dict[str, Any]], title: str) -> None:
        cur = self.sweep.currency
        self.query_one("#ts-drill-title", Static).update(safe_text(title))
        # Spend and the suggested owner first: a resource id (an ARN) is long and would push them away.
        self.query_one("#ts-resources", FrameTable).load_records(
            resources, RESOURCE_ORDER, {"cost": lambda v: money(v, cur, decimals=2)}, LABELS,
            priorities=RESOURCE_PRIORITIES)

    def _show_candidates(self) -> None:
        if not self.composed("fixes"):
            return
        cur = self.sweep.currency
        box = self.query_one("#ts-candidates", SelectionList)
        box.clear_options()
        for i, c in enumerate(self.candidates):
            done = self.tracked.get((c.entity_kind, c.entity_key))
            text = f"{c.title}: {money(c.cost, cur, decimals=2)} -> {c.owner or 'no owner'}"
            if done:
                text += f" (open fix #{done})"
            box.add_option((safe_text(text), i, False))
            if done or not c.owner:
                box.disable_option_at_index(i)

    # -- drill-down ---------------------------------------------------------------------------------------
    @on(FrameTable.RowSelected, "#ts-accounts")
    def _account_selected(self, event: FrameTable.RowSelected) -> None:
        if self.sweep is None:
            return
        row = self.sweep.by_account[event.data_table.position_of(event.row_key)]  # sorted or filtered
        account = row["account_id"] if isinstance(row["account_id"], str) else None
        name = row["account_name"] if isinstance(row["account_name"], str) else account or "no account"
        self._show_resources(self.sweep.resources_of(account), f"Unallocated resources of {name}")

    # -- assigning and closing fixes ----------------------------------------------------------------------
    @on(Button.Pressed, "#ts-create")
    def create_selected(self) -> None:
        if not self.writable():
            return
        chosen = [self.candidates[i] for i in self.query_one("#ts-candidates", SelectionList).selected]
        if not chosen:
            self.notify("Select the fixes to assign first (space).", severity="warning")
            return
        self.save(lambda: self._create_fixes(chosen), "")

    def _create_fixes(self, chosen: list[Any]) -> None:
        from rituals.tag_fixes import create_fixes, next_sweep_day, open_fix_ids

        due = next_sweep_day(self.home.clock.today(), self.home.config.calendar)

        def change(s: Any, run: Any) -> list[Any]:
            made = create_fixes(s, chosen, due=due, now=self.home.clock.now(), run_id=run.id,
                                actor_id=self.session.actor_id())
            self.tracked = open_fix_ids(s)
            return made

        made = cast("list[Any]", self.session.in_transaction(change))
        self.actions.extend(made)
        self.app.call_from_thread(self._show_candidates)
        from rituals.tag_fixes import created_text

        self.status_any_thread(created_text(len(made), due))

    @on(Button.Pressed, "#ts-close-verified")
    def close_selected(self) -> None:
        ids = set(self.query_one("#ts-checks", SelectionList).selected)
        if not ids:
            self.notify("Select the verified fixes to close first (space).", severity="warning")
            return
        self._close_fixes(ids)

    @work(thread=True, group="stepper-save")
    def _close_fixes(self, ids: set[int]) -> None:
        from rituals.actions import StaleUpdate
        from rituals.tag_fixes import check_fixes, close_verified

        with self.home.records.session() as s:
            checks = [c for c in check_fixes(s, self.home.costs, self.sweep.account_teams, *self.session.window)
                      if c.action_id in ids]
        closed = 0
        for check in checks:
            try:
                close_verified(self.home.records, check, actor_id=self.session.actor_id(), now=self.home.clock.now())
                closed += 1
            except (StaleUpdate, ValueError) as exc:
                self.notify_any_thread(str(exc), severity="error")
        self.status_any_thread(f"{closed} verified fixes closed")
        self.app.call_from_thread(self.reload_findings)
