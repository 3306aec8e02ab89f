"""The monthly review's agenda as markdown: each item with its figures (money with its currency,
percentages), unicode sparklines for the trends, and the proposed actions. The same renderer serves the
headless ``agenda monthly`` (before the meeting) and the minutes (the agenda as frozen at close), so what
finance reads in the invitation and in the minutes is the same layout. User text is escaped
(``exports.markdown``)."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.format import counted, money, pct
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from rituals.ritual import ritual
from rituals.showback import basis_words

SPARKS = "▁▂▃▄▅▆▇█"
# The agenda's items are the review's steps, titled as its definition titles them.
ITEMS = tuple((s.id, s.title) for s in ritual(MONTHLY_REVIEW).all_steps if s.id not in ("attendees", "record"))

STEP_LABELS = {**dict(ITEMS), "drivers": "Spend drivers"}


def sparkline(values: list[float | None]) -> str:
    """``[1, 5, 3]`` -> ``▁█▄``; missing values are a space; a flat series is a flat line."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span == 0:
            out.append(SPARKS[3])
        else:
            out.append(SPARKS[min(len(SPARKS) - 1, int((v - low) / span * (len(SPARKS) - 1) + 0.5))])
    return "".join(out)


def _m(value: Any, cur: str | None, decimals: int = 0) -> str:
    return money(value, cur, decimals=decimals) if isinstance(value, int | float) else "-"


def _signed(value: Any, cur: str | None) -> str:
    if not isinstance(value, int | float):
        return "-"
    return ("+" if value > 0 else "") + money(value, cur)


def _p(value: Any, signed: bool = False) -> str:
    if not isinstance(value, int | float):
        return "-"
    return ("+" if signed and value > 0 else "") + pct(value)


def _na(item: dict[str, Any]) -> str | None:
    if item.get("available", True):
        return None
    return md.inline(f"Not available: {item.get('reason') or 'no reason given'}.")


def _person(row: dict[str, Any]) -> str:
    name = row.get("owner_name")
    return f"{name} ({row['owner']})" if name else str(row.get("owner") or "-")


# -- the items -------------------------------------------------------------------------------------------
def actions_md(a: dict[str, Any], cur: str | None) -> str:
    if (na := _na(a)) is not None:
        return na
    since = a.get("since")
    head = (f"{len(a['open'])} open ({a['overdue']} overdue), {len(a['done_since'])} finished since the last "
            f"review" + (f" (closed {str(since)[:10]})" if since else " (no earlier review closed)") + ".")
    out = [md.inline(head), ""]
    if a["open"]:
        out += [md.table(["#", "action", "owner", "due", "status", "from review", "savings a month"], [
            [str(r["id"]), md.cell(r["title"]), md.cell(_person(r)),
             md.cell(f"{r['due_date'] or '-'}" + (f" (overdue {r['days_overdue']} d)" if r["overdue"] else "")),
             md.cell(r["status"].replace("_", " ")), md.cell(r.get("from_review") or "-"),
             _m(r.get("expected_monthly_savings"), cur)] for r in a["open"]],
            ["right", "left", "left", "left", "left", "left", "right"]), ""]
    if a["done_since"]:
        out += ["Finished since the last review:", "",
                md.table(["#", "action", "owner", "status", "finished"], [
                    [str(r["id"]), md.cell(r["title"]), md.cell(_person(r)), md.cell(r["status"]),
                     md.cell(str(r.get("finished_at") or "-")[:10])] for r in a["done_since"]],
                    ["right", "left", "left", "left", "left"]), ""]
    sv = a.get("savings")
    if isinstance(sv, dict):
        out += [md.inline(
            f"Savings: promised {_m(sv['promised'], cur)} a month by done actions, realised "
            f"{_m(sv['realised'], cur)} ({sv['verified']} verified, {sv['not_realised']} short, {sv['pending']} "
            f"waiting for a complete month, {sv['cannot_verify']} cannot be verified from this data), still open "
            f"{_m(sv['still_open'], cur)} ({_m(sv['still_open_actions'], cur)} in open actions, "
            f"{_m(sv['still_open_inbox'], cur)} in the inbox). How: {sv['how']}."), ""]
        if sv["actions"]:
            out += [md.table(["#", "action", "done", "expected a month", "realised a month", "state"], [
                [str(c["action_id"]), md.cell(c["title"]), md.cell(str(c["done_on"])[:10]),
                 _m(c["expected_monthly_savings"], cur), _m(c["realised_monthly_savings"], cur),
                 md.cell(c["state"].replace("_", " "))] for c in sv["actions"]],
                ["right", "left", "left", "right", "right", "left"]), ""]
    other = a.get("other_open") or {}
    if other:
        out.append(md.inline("Open actions of the other rituals (reviewed there): " + ", ".join(
            f"{n} from {k.replace('_', ' ')}" for k, n in other.items()) + "."))
    return "\n".join(out).rstrip()


def spend_md(s: dict[str, Any], cur: str | None, month: str) -> str:
    if (na := _na(s)) is not None:
        return na
    t = s["total"]
    trend = s.get("trend") or []
    if s.get("month_to_date"):
        line = (f"{month} so far: {_m(t['spend'], cur)} spent, {_signed(t['change'], cur)} "
                f"({_p(t['change_pct'], True)}) on the same days of the month before; budget to date "
                f"{_m(t.get('budget_to_date'), cur)} (of {_m(t['budget'], cur)} for the month)"
                + (f", {_p(t['budget_used_pct'])} used" if t.get("budget_used_pct") is not None else "")
                + (f"; forecast for the month {_m(t['forecast'], cur)} (judged once the month is over)"
                   if t.get("forecast") is not None else "; no forecast was stored for this month") + ".")
    else:
        line = (f"{month}: {_m(t['spend'], cur)} spent, {_signed(t['change'], cur)} ({_p(t['change_pct'], True)}) "
                f"on the month before; budget {_m(t['budget'], cur)}"
                + (f" ({_p(t['budget_used_pct'])} used)" if t.get("budget_used_pct") is not None else "")
                + (f"; forecast {_m(t['forecast'], cur)}" if t.get("forecast") is not None else
                   "; no forecast was stored for this month") + ".")
    out = [md.inline(line), ""]
    if trend:
        out += [md.inline(f"Spend over {trend[0]['month']} to {trend[-1]['month']}: "
                          f"{sparkline([x['spend'] for x in trend])} "
                          f"({_m(min(x['spend'] for x in trend), cur)} to {_m(max(x['spend'] for x in trend), cur)})"), ""]
    basis = "showback total (direct + shared)" if s["source"] == "showback" else "allocated spend"
    mtd = bool(s.get("month_to_date"))
    out += [md.inline(f"Per team ({basis}" + (", month to date" if mtd else "") + "):"), "",
            md.table(["team", "spend" + (" to date" if mtd else ""), "vs same days" if mtd else "vs last month",
                      "budget to date" if mtd else "budget", "used", "forecast", "variance", "6 months"], [
                [md.cell(r["team"]), _m(r["spend"], cur), md.cell(_p(r["change_pct"], True)),
                 _m(r.get("budget_to_date") if mtd else r["budget"], cur), _p(r["budget_used_pct"]),
                 _m(r["forecast"], cur), _p(r["forecast_variance_pct"]), sparkline(r.get("trend") or [])]
                for r in s["teams"]],
                ["left", "right", "right", "right", "right", "right", "right", "left"]), ""]
    if s["drivers"]:
        out += [md.inline(f"Month-over-month drivers (team x service; these moved {_signed(s['drivers_change'], cur)} "
                          f"of the {_signed(t['change'], cur)} change):"), "",
                md.table(["team", "service", "same days last month" if mtd else "last month",
                          "this month to date" if mtd else "this month", "change", "change %"], [
                    [md.cell(d["team"]), md.cell(d["service"]), _m(d["previous_spend"], cur), _m(d["spend"], cur),
                     md.cell(_signed(d["change"], cur)), md.cell(_p(d["change_pct"], True))] for d in s["drivers"]],
                    ["left", "left", "right", "right", "right", "right"]), ""]
    acc = s.get("forecast_accuracy")
    if acc:
        out.append(md.inline(
            f"Forecast accuracy for {acc['month']}: forecast {_m(acc['forecast'], cur)}, actual {_m(acc['actual'], cur)}, "
            f"variance {_p(acc['variance_pct'])} ({acc['band'] or '-'} band; target {acc['target_variance_pct']:g}%)."))
    elif mtd:
        out.append(md.inline(f"Forecast accuracy for {month}: judged once the month is over."))
    else:
        out.append(md.inline(f"Forecast accuracy for {month}: no forecast was stored for it (closing this review "
                             "stores one for next month)."))
    return "\n".join(out).rstrip()


def showback_md(s: dict[str, Any], cur: str | None) -> str:
    if (na := _na(s)) is not None:
        return na
    cur = s.get("currency") or cur
    reasons = ", ".join(f"{k.replace('_', ' ')} {_m(v, cur)}" for k, v in (s.get("shared_by_reason") or {}).items())
    out = [md.inline(f"Spend {_m(s['total'], cur, 2)} (billed {_m(s['billed_total'], cur, 2)}"
                     + (f", {basis_words(s['billed_basis'])}" if s.get("billed_basis") else "") + "); shared "
                     f"{_m(s.get('shared_total'), cur, 2)}" + (f" ({reasons})" if reasons else "")
                     + f", split {str(s.get('method', '')).replace('_', ' ')}."), ""]
    trends = s.get("team_trends") or {}
    out.append(md.table(["team", "direct", "shared", "total", "share", "trend"], [
        [md.cell(r["team"]), _m(r["direct"], cur, 2), _m(r["shared"], cur, 2), _m(r["total"], cur, 2),
         _p(r["share_pct"]), sparkline(trends.get(r["team"], []))] for r in s["teams"]],
        ["left", "right", "right", "right", "right", "left"]))
    return "\n".join(out)


def _unit(value: Any, cur: str | None, per: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    per_text = f" per {per:,.0f}" if isinstance(per, int | float) and per != 1 else ""
    return f"{value:,.4f} {cur}{per_text}" if abs(value) < 1 else f"{value:,.2f} {cur}{per_text}"


def unit_economics_md(u: dict[str, Any], cur: str | None) -> str:
    if (na := _na(u)) is not None:
        return na
    cur = u.get("currency") or cur
    if not u.get("metrics"):
        return "No business metrics recorded (finops-tui metrics import FILE.csv)."
    rows = []
    for m in u["metrics"]:
        unit_trend = [p.get("unit_cost") for p in m.get("trend", [])]
        rows.append([md.cell(m["metric"]), md.cell(m["spend_of"]), md.cell(_unit(m["unit_cost"], cur, m.get("per"))),
                     md.cell(_p(m.get("unit_cost_trend_pct"), True)), md.cell(_p(m.get("volume_trend_pct"), True)),
                     sparkline(unit_trend), "RISING while volume grows" if m.get("rising_unit_cost") else "-"])
    out = [md.table(["metric", "spend of", "unit cost", "unit cost a month", "volume a month", "trend", "flag"],
                    rows, ["left", "left", "right", "right", "right", "left", "left"])]
    if u.get("rising"):
        out += ["", md.inline("Rising unit cost: " + ", ".join(u["rising"]) + ".")]
    return "\n".join(out)


def _hours(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.1f} h" if value < 48 else f"{value / 24:,.1f} d"


def anomalies_md(a: dict[str, Any], cur: str | None) -> str:
    if (na := _na(a)) is not None:
        return na
    if "events" not in a:
        return _anomalies_by_case_md(a, cur)
    # An event is the unit of impact: its impact is the largest excess among its cases, never their sum.
    events = a.get("by_event") or []
    verb = "overlaps" if a["events"] == 1 else "overlap"
    head = (f"{counted(a['events'], 'anomaly event')} ({counted(a['count'], 'case')}) {verb} {a['start']} to "
            f"{a['end']} (end exclusive), {_m(a['impact'], cur)} impact (each event counted once, at its largest "
            f"case), {a['untriaged_events']:,} untriaged"
            + (f", {a['historical_events']:,} historical" if a.get("historical_events") else "")
            + f"; median time to detect {_hours(a['ttd_median_hours'])}, to resolve "
            f"{_hours(a['ttr_median_hours'])}"
            + (f" (over {counted(a['ttd_events'], 'acknowledged event')})" if a.get("ttd_events") else "") + ".")
    out = [md.inline(head), ""]
    if events:
        def state(e: dict[str, Any]) -> str:
            return "historical" if e["historical"] else "untriaged" if e["untriaged"] else e["status"].replace("_", " ")

        out.append(md.table(["dates", "event (lead case)", "cases", "impact", "status", "owner", "TTD", "TTR"], [
            [md.cell(f"{e['start']} to {e['end']}"), md.cell(f"{e['dimension']} {e.get('label') or e['value']}"),
             md.cell(f"{len(e['cases'])}: {', '.join(e['dimensions'])}"), _m(e["impact"], cur), md.cell(state(e)),
             md.cell(e.get("owner_team") or "-"), _hours(e["ttd_hours"]), _hours(e["ttr_hours"])] for e in events],
            ["left", "left", "left", "right", "left", "left", "right", "right"]))
    return "\n".join(out).rstrip()


def _anomalies_by_case_md(a: dict[str, Any], cur: str | None) -> str:
    """An agenda frozen before anomalies were counted by event: its cases as they were recorded."""
    noun = "anomaly overlaps" if a["count"] == 1 else "anomalies overlap"
    out = [md.inline(f"{a['count']} {noun} {a['start']} to {a['end']} (end exclusive), "
                     f"{_m(a['impact'], cur)} impact, {a['untriaged']} untriaged; median time to detect "
                     f"{_hours(a['ttd_median_hours'])}, to resolve {_hours(a['ttr_median_hours'])}."), ""]
    if a["cases"]:
        out.append(md.table(["start", "end", "what", "impact", "status", "owner", "TTD", "TTR"], [
            [str(c["start"]), str(c["end"]), md.cell(f"{c['dimension']} {c.get('label') or c['value']}"),
             _m(c["impact"], cur), md.cell(c["status"].replace("_", " ") + (" (historical)" if c["historical"] else "")),
             md.cell(c.get("owner_team") or "-"), _hours(c["ttd_hours"]), _hours(c["ttr_hours"])]
            for c in a["cases"]], ["left", "left", "left", "right", "left", "left", "right", "right"]))
    return "\n".join(out).rstrip()


def coverage_md(c: dict[str, Any], cur: str | None) -> str:
    if (na := _na(c)) is not None:
        return na
    if c.get("source") != "month":
        return _coverage_from_runs_md(c, cur)
    al, cm = c["allocation"], c["commitments"]
    out = []
    trend = [x.get("coverage_pct") for x in al.get("trend") or []]
    last = al.get("last_sweep")
    cats = ", ".join(al.get("charge_categories") or [])
    if al.get("coverage_pct") is None:
        out.append(md.inline(f"Allocation coverage: no spend from {al['start']} to {al['end']} to measure it on."))
    else:
        out.append(md.inline(
            f"Allocation coverage {_p(al['coverage_pct'])} against the {al.get('target_pct', 0):g}% target over "
            f"{al['start']} to {al['end']} (end exclusive; {cats} spend): {_m(al['unallocated_cost'], cur)} of "
            f"{_m(al['total_cost'], cur)} unallocated."
            + (f" Last sweep: {last['period']} (run {last['run_id']}) at {_p(last.get('coverage_pct'))}; "
               f"last sweeps {sparkline(trend)}." if last else " No tag sweep closed yet.")))
    out.append("")
    last = cm.get("last_review")
    if cm.get("coverage_pct") is None and cm.get("utilization_pct") is None:
        out.append(md.inline(f"Commitment coverage and utilization: no commitment-eligible spend from {cm['start']} "
                             f"to {cm['end']}."))
    else:
        esr = cm.get("effective_savings_rate_pct")
        out.append(md.inline(
            f"Commitment coverage {_p(cm.get('coverage_pct'))} against the {cm.get('target_coverage_pct', 0):g}% "
            f"target, utilization {_p(cm.get('utilization_pct'))}"
            + (f", effective savings rate {_p(esr)}" if esr is not None else "")
            + (f", {_m(cm['unused_commitment_cost'], cur)} unused" if cm.get("unused_commitment_cost") else "")
            + f" over {cm['start']} to {cm['end']}."
            + (f" Last commitment review: {last['period']} (run {last['run_id']})." if last
               else " No commitment review closed yet.")))
    return "\n".join(out)


def _coverage_from_runs_md(c: dict[str, Any], cur: str | None) -> str:
    """An agenda frozen before coverage was measured over the month: the figures the last runs froze."""
    out = []
    al, cm = c["allocation"], c["commitments"]
    if al.get("run_id") is None:
        out.append("Allocation coverage: not run yet (no closed tag sweep).")
    else:
        trend = [x.get("coverage_pct") for x in al.get("trend", [])]
        out.append(md.inline(
            f"Allocation coverage {_p(al.get('coverage_pct'))} against the {al.get('target_pct', 0):g}% target, "
            f"from the tag sweep {al['period']} (run {al['run_id']}"
            + (f", {al['start']} to {al['end']}" if al.get("start") else "") + ")"
            + (f"; {_m(al['unallocated_cost'], cur)} unallocated" if al.get("unallocated_cost") is not None else "")
            + f". Last sweeps: {sparkline(trend)}."))
    out.append("")
    if cm.get("run_id") is None:
        out.append("Commitment coverage and utilization: not run yet (no closed commitment review).")
    else:
        esr = cm.get("effective_savings_rate_pct")
        out.append(md.inline(
            f"Commitment coverage {_p(cm.get('coverage_pct'))} against the {cm.get('target_coverage_pct', 0):g}% "
            f"target, utilization {_p(cm.get('utilization_pct'))}"
            + (f", effective savings rate {_p(esr)}" if esr is not None else "")
            + f", from the commitment review {cm['period']} (run {cm['run_id']})."))
    return "\n".join(out)


def decisions_md(d: dict[str, Any], cur: str | None) -> str:
    if (na := _na(d)) is not None:
        return na
    props = d.get("proposed_actions") or []
    out = [md.inline(f"New actions are due by the next review ({d['next_review_date']}); owners default from "
                     "the RACI.")]
    if props:
        out += ["", "Proposed from the figures above:", "",
                md.table(["item", "proposed action", "owner", "due"], [
                    [md.cell(STEP_LABELS.get(p["step"], p["step"].replace("_", " "))), md.cell(p["title"]),
                     md.cell(p.get("owner") or "-"), str(p["due_date"])] for p in props],
                    ["left", "left", "left", "left"])]
    return "\n".join(out)


RENDERERS = {
    "actions": lambda a, cur: actions_md(a["actions"], cur),
    "spend": lambda a, cur: spend_md(a["spend"], cur, a["month"]),
    "showback": lambda a, cur: showback_md(a["showback"], cur),
    "unit_economics": lambda a, cur: unit_economics_md(a["unit_economics"], cur),
    "anomalies": lambda a, cur: anomalies_md(a["anomalies"], cur),
    "coverage": lambda a, cur: coverage_md(a["coverage"], cur),
    "decisions": lambda a, cur: decisions_md(a["decisions"], cur),
}


def item_markdown(agenda: dict[str, Any], key: str) -> str:
    """One agenda item's body (no heading)."""
    cur = agenda.get("currency")
    if key not in agenda:
        return "Not available: this agenda was recorded without it."
    return RENDERERS[key](agenda, cur)


def agenda_sections(agenda: dict[str, Any], level: int = 2) -> str:
    """The seven items, each under a numbered heading of ``level``."""
    out = []
    for i, (key, title) in enumerate(ITEMS, 1):
        out += [f"{'#' * level} {i}. {title}", "", item_markdown(agenda, key), ""]
    return "\n".join(out).rstrip() + "\n"


def month_status_text(status: Any) -> str | None:
    """What to know before reading an incomplete month's figures (None for a complete month)."""
    if not isinstance(status, dict) or status.get("complete", True):
        return None
    days, of = status.get("days_complete", 0), status.get("days_in_month", 0)
    compared = status.get("compared_with") or {}
    if not days:
        return (f"{status.get('month')} has no complete day yet (today is its first day): there is nothing to "
                "review yet; the figures below are empty, not a drop.")
    return (f"{status.get('month')} is not over: {days} of {of} days are complete (data through "
            f"{status.get('through')}, exclusive). Spend is month to date, compared with the same days of the "
            f"month before ({compared.get('start')} to {compared.get('end')}) and with the budget pro-rated to "
            f"{days} of {of} days.")


def agenda_markdown(agenda: dict[str, Any]) -> str:
    """The whole agenda, to paste into the meeting's invitation."""
    last = agenda.get("last_review")
    head = [f"# Monthly cost review: {md.inline(agenda['month'])}", "",
            md.inline(f"Agenda prepared on {agenda['prepared_on']} from the data; figures in "
                      f"{agenda.get('currency') or '-'}, spend is amortised cost (EffectiveCost)."
                      + (f" Last review: {last['period']} (run {last['run_id']})." if last else
                         " No earlier review closed.")), ""]
    status = month_status_text(agenda.get("month_status"))
    if status:
        head += [md.inline(status), ""]
    return "\n".join(head) + "\n" + agenda_sections(agenda)
