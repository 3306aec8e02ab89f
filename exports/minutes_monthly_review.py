"""The monthly cost review's minutes: each agenda item is its step, with the figures frozen at close
(``exports.monthly_review``, the same layout as the agenda sent before the meeting); the carried actions
changed during the meeting under the actions step (as frozen in the run's snapshot at close; a draft reads
them live); the actions the figures proposed in the appendix. A run frozen without an agenda (older
history) shows its notes only."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.minutes import MinutesContext, MinutesSpec, SectionRenderer, register_minutes
from exports.monthly_review import decisions_md, item_markdown
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW


def _is_agenda(numbers: dict[str, Any] | None) -> bool:
    return numbers is not None and "actions" in numbers and "month" in numbers and "spend" in numbers


def _field(name: str) -> str:
    return {"status": "status", "due_date": "due date", "note": "note"}.get(name, name.replace("_", " "))


def _changed(ctx: MinutesContext) -> list[dict[str, Any]] | None:
    from sqlalchemy.orm import object_session

    from rituals.review_actions import action_log

    if ctx.frozen:
        frozen = (ctx.snapshot or {}).get("action_log")
        return list(frozen.get("changed") or []) if isinstance(frozen, dict) else None
    session = object_session(ctx.run)
    day = ctx.run.closed_at or ctx.run.opened_at
    if session is None or day is None:
        return None
    return action_log(session, ctx.run, day.date()).changed  # type: ignore[arg-type]


def item(key: str) -> SectionRenderer:
    def render(ctx: MinutesContext) -> str | None:
        return item_markdown(ctx.numbers or {}, key) if _is_agenda(ctx.numbers) else None

    return render


def actions(ctx: MinutesContext) -> str | None:
    out = [item_markdown(ctx.numbers or {}, "actions")] if _is_agenda(ctx.numbers) else []
    changed = _changed(ctx)
    if changed:
        out += ["Changed during the review:", md.table(["#", "action", "change", "note", "by"], [
            [str(c["id"]), md.cell(c["title"]),
             md.cell(f"{_field(c['field'])}: {c['old'] or '-'} → {c['new'] or '-'}" if c["field"] != "note"
                     else "note"),
             md.cell(c["note"] or "-"), md.cell(c["by"])] for c in changed],
            ["right", "left", "left", "left", "left"])]
    elif changed is not None:
        out.append("No carried action changed during the review.")
    return "\n\n".join(out) or None


def appendix(ctx: MinutesContext) -> list[tuple[str, str]]:
    n = ctx.numbers or {}
    if not _is_agenda(n) or not isinstance(n.get("decisions"), dict):
        return []
    return [("Actions the figures proposed", decisions_md(n["decisions"], n.get("currency")))]


register_minutes(MONTHLY_REVIEW, MinutesSpec(
    steps={"actions": actions, "spend": item("spend"), "showback": item("showback"),
           "unit_economics": item("unit_economics"), "anomalies": item("anomalies"), "coverage": item("coverage")},
    appendix=appendix))
