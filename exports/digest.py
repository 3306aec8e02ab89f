"""Owner digests: a markdown summary per owner (overdue, due this week, other open actions) to paste into
chat or mail. Names, handles, titles and teams are user text: escaped as the minutes escape it
(exports.markdown.inline, which strips terminal controls first), so a name never becomes a link or HTML."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from exports.markdown import inline
from rituals.actions import ActionView


def week_end(today: date) -> date:
    """The last day (Sunday) of today's ISO week."""
    return today + timedelta(days=7 - today.isoweekday())


def _line(view: ActionView) -> str:
    parts = [f"- #{view.id} {inline(view.title)}"]
    if view.due_date is not None:
        late = f", {view.days_overdue} day{'s' if view.days_overdue != 1 else ''} late" if view.overdue else ""
        parts.append(f"(due {view.due_date.isoformat()}{late})")
    parts.append(f"[{view.status.replace('_', ' ')}]")  # a status word of the product, not user text
    if view.team:
        parts.append(f"team {inline(view.team)}")
    return " ".join(parts)


def owner_digest(owner_name: str, owner_handle: str, views: Iterable[ActionView], today: date) -> str:
    """One owner's digest. ``views`` are that owner's actions; closed ones are ignored."""
    open_views = [v for v in views if v.is_open]
    end = week_end(today)
    overdue = [v for v in open_views if v.overdue]
    this_week = [v for v in open_views if not v.overdue and v.due_date is not None and today <= v.due_date <= end]
    rest = [v for v in open_views if v not in overdue and v not in this_week]
    lines = [f"## Actions for {inline(owner_name)} (@{inline(owner_handle)}), {today.isoformat()}", "",
             f"{len(open_views)} open, {len(overdue)} overdue, {len(this_week)} due this week "
             f"(to {end.isoformat()}).", ""]
    for title, group in (("Overdue", overdue), ("Due this week", this_week), ("Other open", rest)):
        if group:
            lines += [f"### {title}", *(_line(v) for v in group), ""]
    if not open_views:
        lines += ["Nothing open. Thank you!", ""]
    lines.append("Update with `finops-tui actions update ID --status done` (or --due DATE, --note TEXT).")
    return "\n".join(lines) + "\n"


def digest(views: Iterable[ActionView], today: date, owner: str | None = None) -> str:
    """Digests for every owner holding open actions (or just ``owner``, a handle), one after another."""
    by_owner: dict[str, list[ActionView]] = {}
    names: dict[str, str] = {}
    for v in views:
        by_owner.setdefault(v.owner, []).append(v)
        names[v.owner] = v.owner_name
    handles = [owner] if owner is not None else sorted(h for h, vs in by_owner.items() if any(v.is_open for v in vs))
    if not handles:
        return "No open actions.\n"
    parts = [owner_digest(names.get(h, h), h, by_owner.get(h, []), today) for h in handles]
    return "\n---\n\n".join(parts)
