"""The monthly cost review's minutes: the agenda's seven items with the figures frozen at close (money with
its currency, percentages, unicode sparklines), then the action log: actions created in the meeting,
carried actions changed during it, and those still open (as frozen in the run's snapshot at close; a draft,
or a run closed before snapshots existed, reads them live). A run frozen without an agenda (older history)
falls back to the generic figure tables."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.minutes import MinutesContext, register_numbers, register_section
from exports.monthly_review import ITEMS, item_markdown
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW


def _is_agenda(numbers: dict[str, Any]) -> bool:
    return "actions" in numbers and "month" in numbers and "spend" in numbers


def agenda_numbers(ctx: MinutesContext) -> list[tuple[str, str]]:
    n = ctx.run.numbers or {}
    if not _is_agenda(n):
        return md.numbers_sections(n)
    return [(f"{i}. {title}", item_markdown(n, key)) for i, (key, title) in enumerate(ITEMS, 1)]


def _field(name: str) -> str:
    return {"status": "status", "due_date": "due date", "note": "note"}.get(name, name.replace("_", " "))


def action_log_section(ctx: MinutesContext) -> str | None:
    from sqlalchemy.orm import object_session

    from rituals.review_actions import ActionLog, action_log

    run = ctx.run
    if not (ctx.draft or _is_agenda(run.numbers or {})):
        return None
    if ctx.frozen:
        frozen = (ctx.snapshot or {}).get("action_log")
        if not isinstance(frozen, dict):
            return None
        log = ActionLog(**{k: frozen.get(k) or [] for k in ("new", "changed", "still_open")})
    else:
        session = object_session(run)
        day = run.closed_at or run.opened_at
        if session is None or day is None:
            return None
        log = action_log(session, run, day.date())  # type: ignore[arg-type]
    out = ["## Action log", ""]
    out += ["### New in this review", ""]
    if log.new:
        out += [md.table(["#", "action", "owner", "due"], [
            [str(a["id"]), md.cell(a["title"]), md.cell(a["owner"]), str(a["due_date"] or "-")] for a in log.new],
            ["right", "left", "left", "left"]), ""]
    else:
        out += ["None.", ""]
    out += ["### Changed in this review", ""]
    if log.changed:
        out += [md.table(["#", "action", "change", "note", "by"], [
            [str(c["id"]), md.cell(c["title"]),
             md.cell(f"{_field(c['field'])}: {c['old'] or '-'} → {c['new'] or '-'}" if c["field"] != "note"
                     else "note"),
             md.cell(c["note"] or "-"), md.cell(c["by"])] for c in log.changed],
            ["right", "left", "left", "left", "left"]), ""]
    else:
        out += ["None.", ""]
    out += ["### Still open from earlier reviews", ""]
    if log.still_open:
        out += [md.table(["#", "action", "owner", "due", "status"], [
            [str(a["id"]), md.cell(a["title"]), md.cell(a["owner"]),
             md.cell(f"{a['due_date'] or '-'}" + (" (overdue)" if a["overdue"] else "")),
             md.cell(a["status"].replace("_", " "))] for a in log.still_open],
            ["right", "left", "left", "left", "left"])]
    else:
        out.append("None.")
    return "\n".join(out).rstrip() + "\n"


register_numbers(MONTHLY_REVIEW, agenda_numbers)
register_section(MONTHLY_REVIEW, action_log_section)
