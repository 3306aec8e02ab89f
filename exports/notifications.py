"""The text of a notification: a title and a short, link-free body (what, how much, who, what to do).

Every value from data or people (team names, service names, action titles) passes through
``exports.sanitize.plain`` (one line each), so a chat channel or a mail reader never receives a control
sequence. No line items, only the few resource ids that name the problem, nothing from tags beyond the
allocation key the config lists.
"""

from __future__ import annotations

from typing import Any

from exports.format import counted, money, pct
from exports.sanitize import plain
from rituals.notices import ANOMALIES, OVERDUE, PREREAD, SWEEP, Notice


def _t(value: Any) -> str:
    return plain(value, one_line=True)


def _team(team: Any) -> str:
    return _t(team) if team else "the FinOps practice"


def _share(value: Any) -> str:
    return f", {value:.0f}% of the excess" if isinstance(value, int | float) else ""


def anomaly_text(d: dict[str, Any]) -> tuple[str, str]:
    cur = _t(d["currency"])
    title = f"Cost anomaly: {money(d['impact'], cur)} over expected on {_t(d['dimension'])} {_t(d['what'])}"
    lines = [f"What: {_t(d['dimension'])} {_t(d['what'])} spent {money(d['actual'], cur)} against "
             f"{money(d['expected'], cur)} expected, {d['start']} to {d['end']} (end exclusive, "
             f"{counted(d['days'], 'day')}).",
             f"How much: {money(d['impact'], cur)} above expected.",
             f"Who: team {_team(d['team'])}."]
    if d["root_causes"]:
        lines.append("Top root causes: " + "; ".join(
            f"{_t(r['dimension'])} {_t(r['value'])}" + (f" ({_t(r['name'])})" if r.get("name") else "")
            + _share(r.get("share_pct")) for r in d["root_causes"]) + ".")
    lines.append(f"Cases: {', '.join(_t(c) for c in d['cases'])}.")
    lines.append(f"What to do: acknowledge it with `{_t(d['ack_command'])}`, then find the cause and set its "
                 "status (finops-tui anomalies status CASE STATUS).")
    return title, "\n".join(lines)


def overdue_text(d: dict[str, Any]) -> tuple[str, str]:
    n = len(d["actions"])
    title = f"{counted(n, 'overdue action')} for {_t(d['owner_name'])}"
    lines = [f"Who: {_t(d['owner_name'])} ({_t(d['owner'])}), team {_team(d['team'])}.",
             f"What: {counted(n, 'action')} past the due date:"]
    for a in d["actions"]:
        lines.append(f"- #{a['id']} {_t(a['title'])} (due {a['due_date']}, {counted(a['days_overdue'], 'day')} late, "
                     f"{_t(a['status']).replace('_', ' ')})")
    lines.append("What to do: finish them, or move the due date: finops-tui actions update ID --status done "
                 "(or --due YYYY-MM-DD).")
    return title, "\n".join(lines)


def sweep_text(d: dict[str, Any]) -> tuple[str, str]:
    cur = _t(d["currency"])
    met = {True: "meets", False: "is below", None: "has no figure against"}[d["meets_target"]]
    cov = pct(d["coverage_pct"])
    head = f"Allocation coverage {cov} {met} the {pct(d['target_pct'], 0)} target"
    lines = [f"Week {d['week']} sweep ({d['start']} to {d['end']}, end exclusive): {head}; "
             f"{money(d['unallocated_cost'], cur)} of {money(d['total_cost'], cur)} has no owner."]
    if d.get("team") is None:
        title = f"Tag sweep {d['week']}: coverage {cov}"
        if d.get("leaks"):
            lines.append("Where it leaks: " + "; ".join(f"{_t(x['account'])} {money(x['unallocated_cost'], cur)}"
                                                         for x in d["leaks"]) + ".")
        lines.append(f"Open tag fixes: {d['open_fixes']:,}.")
        lines.append("What to do: run the sweep (finops-tui sweep) and assign the fixes.")
        return title, "\n".join(lines)
    team = _t(d["team"])
    key = _t(d["allocation_key"])
    title = f"Tag sweep {d['week']} for {team}: {money(d['untagged_cost'], cur)} untagged"
    lines.append(f"Team {team}: {money(d['team_cost'], cur)} of spend, {pct(d['by_tag_pct'])} carried by its own "
                 f"{key} tag; {money(d['untagged_cost'], cur)} without it (allocated by account rule).")
    if d["unallocated_suggested_cost"]:
        lines.append(f"Unallocated spend that looks like yours: {money(d['unallocated_suggested_cost'], cur)}"
                     + (f" (e.g. {', '.join(_t(r) for r in d['resources'])})" if d["resources"] else "") + ".")
    lines.append(f"Open tag fixes: {d['open_fixes']:,}" + (":" if d["fixes"] else "."))
    for f in d["fixes"]:
        lines.append(f"- #{f['id']} {_t(f['title'])}" + (f" (due {f['due_date']})" if f["due_date"] else ""))
    lines.append(f"What to do: tag the resources with {key}={team} and close the fixes.")
    return title, "\n".join(lines)


def preread_text(d: dict[str, Any]) -> tuple[str, str]:
    cur = _t(d["currency"])
    who = _team(d["team"])
    title = f"Monthly review {d['month']} on {d['review_date']}: pre-read for {who}"
    lines = [f"The review of {d['month']} is on {d['review_date']}."]
    s = d.get("spend")
    if s:
        change = f", {s['change_pct']:+.1f}% month over month" if isinstance(s.get("change_pct"), int | float) else ""
        budget = f" against a budget of {money(s['budget'], cur)}" if isinstance(s.get("budget"), int | float) else ""
        lines.append(f"Spend: {money(s['spend'], cur)}{budget}{change}.")
    if d["drivers"]:
        lines.append("Drivers: " + "; ".join(f"{_t(x['service'])} {x['change']:+,.0f} {cur}" for x in d["drivers"]) + ".")
    if d["anomalies"]:
        lines.append("Anomaly events: " + "; ".join(
            f"{_t(e['event'])} {money(e['impact'], cur)} ({'untriaged' if e['untriaged'] else _t(e['status'])})"
            for e in d["anomalies"]) + ".")
    if d["actions"]:
        lines.append(f"Open actions ({len(d['actions'])}):")
        lines += [f"- #{a['id']} {_t(a['title'])} ({_t(a['owner'])}, due {a['due_date'] or '-'}"
                  + (", overdue" if a["overdue"] else "") + ")" for a in d["actions"]]
    if d["proposals"]:
        lines.append("Proposed at the review:")
        lines += [f"- {_t(p['title'])} ({_t(p['owner'] or 'no owner')})" for p in d["proposals"]]
    lines.append("What to do: read the agenda (finops-tui agenda monthly) and bring your actions up to date.")
    return title, "\n".join(lines)


RENDER = {ANOMALIES: anomaly_text, OVERDUE: overdue_text, SWEEP: sweep_text, PREREAD: preread_text}


def render(notice: Notice) -> tuple[str, str]:
    """(title, body) of a notice, both sanitised."""
    title, body = RENDER[notice.kind](notice.data)
    return plain(title, one_line=True), plain(body)


def test_message(team: str | None) -> tuple[str, str]:
    return (plain(f"finops-tui test message for {_team(team)}", one_line=True),
            plain(f"This channel receives finops-tui notifications for {_team(team)}. Nothing to do."))
