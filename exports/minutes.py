"""Minutes for any ritual run, as GitHub-flavoured markdown rendered through ``templates/minutes.md.j2``.

The same run renders to the same bytes (no generation time, stored order everywhere). A closed run renders
only from what it froze at close: its numbers, notes, decisions and attendees, and its snapshot (the actions
as they stood, the names of the people mentioned; ``rituals.run_snapshot``), so a later status change or
rename never moves its minutes. An open run is a draft read from the live records; a run closed before
snapshots existed says so and shows its actions as they are now. Rituals add their
own sections with ``register_section(kind, renderer)``: a renderer takes the ``MinutesContext`` and returns
markdown (build it with ``exports.markdown``'s helpers so user text stays escaped), placed after the
numbers. A module ``exports/minutes_<kind>.py`` is imported before a run of that kind is rendered, so a
ritual registers its sections there and every caller (TUI, command line) sees them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from exports import markdown as md
from rituals.ritual import RITUAL_BY_KIND
from rituals.run_snapshot import action_entries, all_people
from rituals.runs import get_run
from storage.records import RitualRun

if TYPE_CHECKING:
    from jinja2 import Environment

    from storage.home import Home

TEMPLATES = Path(__file__).with_name("templates")
SectionRenderer = Callable[["MinutesContext"], str | None]
_SECTIONS: dict[str, list[SectionRenderer]] = {}
NumbersRenderer = Callable[["MinutesContext"], list[tuple[str, str]]]
_NUMBERS: dict[str, NumbersRenderer] = {}


@dataclass(frozen=True)
class MinutesPerson:
    """A person as the minutes name them (frozen at close, or live in a draft)."""

    id: int | None
    handle: str
    name: str


@dataclass(frozen=True)
class MinutesAction:
    """An action as the minutes show it (as it stood at close, or live in a draft)."""

    id: int
    title: str
    kind: str
    status: str
    owner_id: int | None
    owner: str | None
    owner_name: str | None
    due_date: str | None

    @classmethod
    def of(cls, entry: dict[str, Any]) -> MinutesAction:
        """From a snapshot's (or the live view's) action entry, ``rituals.run_snapshot.action_entries``."""
        return cls(id=entry["id"], title=entry["title"], kind=entry.get("kind") or "other", status=entry["status"],
                   owner_id=entry.get("owner_id"), owner=entry.get("owner"), owner_name=entry.get("owner_name"),
                   due_date=entry.get("due_date"))

    @property
    def owner_text(self) -> str:
        return f"{self.owner_name} ({self.owner})" if self.owner else f"person {self.owner_id}"


@dataclass
class MinutesContext:
    """What a section renderer can read: the run (numbers frozen when closed), the people and the run's
    actions (from the run's snapshot when it is closed), and the snapshot itself for a ritual's lists."""

    run: RitualRun
    title: str
    people: dict[int, MinutesPerson]
    handles: dict[str, MinutesPerson]
    actions: list[MinutesAction]
    currency: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] | None = None

    @property
    def draft(self) -> bool:
        return self.run.status != "closed"

    @property
    def frozen(self) -> bool:
        """Closed with a snapshot: render from the run only, never from live records."""
        return not self.draft and self.snapshot is not None

    @property
    def legacy(self) -> bool:
        """Closed before snapshots existed: actions and names can only be shown as they are now."""
        return not self.draft and self.snapshot is None

    def person_text(self, handle: str | None = None, person_id: int | None = None) -> str:
        person = self.people.get(person_id) if person_id is not None else self.handles.get(handle or "")
        if person is None:
            return handle or (f"person {person_id}" if person_id is not None else "-")
        return f"{person.name} ({person.handle})"


def register_section(kind: str, renderer: SectionRenderer) -> None:
    """Add a section to the minutes of every run of ``kind`` (after the numbers, in registration order).
    Registering the same renderer twice has no effect."""
    renderers = _SECTIONS.setdefault(kind, [])
    if renderer not in renderers:
        renderers.append(renderer)


def unregister_section(kind: str, renderer: SectionRenderer) -> None:
    if renderer in _SECTIONS.get(kind, []):
        _SECTIONS[kind].remove(renderer)


def register_numbers(kind: str, renderer: NumbersRenderer) -> None:
    """Render the frozen numbers of ``kind`` with ``renderer`` ((heading, markdown) pairs, escaped) instead
    of the generic tables, for a ritual whose numbers read better as its own figures."""
    _NUMBERS[kind] = renderer


def section_template(name: str) -> SectionRenderer:
    """A renderer from a template in ``exports/templates`` (same filters as the minutes; gets ``ctx``)."""

    def render(ctx: MinutesContext) -> str:
        return _env().get_template(name).render(ctx=ctx, run=ctx.run)

    return render


def _load_kind_module(kind: str) -> None:
    try:
        importlib.import_module(f"exports.minutes_{kind}")
    except ModuleNotFoundError as exc:
        if exc.name != f"exports.minutes_{kind}":
            raise


@lru_cache(maxsize=1)
def _env() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=False, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    env.filters.update(inline=md.inline, cell=md.cell, block=md.block)
    env.globals.update(table=md.table, numbers_sections=md.numbers_sections)
    return env


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def _step_heading(kind: str, step: str) -> str:
    """The step's title as the ritual's definition gives it (the screen shows the same)."""
    definition = RITUAL_BY_KIND.get(kind)
    if definition is None:
        return step.replace("_", " ").replace("-", " ").strip().capitalize() or step
    return definition.step_title(step)


def build_context(session: Session, run: RitualRun, default_currency: str | None = None) -> MinutesContext:
    snapshot = run.snapshot if run.status == "closed" else None
    if snapshot is not None:
        people = [MinutesPerson(p.get("id"), p["handle"], p["name"]) for p in snapshot.get("people", [])]
        entries = list(snapshot.get("actions", []))
    else:
        live = all_people(session)
        people = [MinutesPerson(p.id, p.handle, p.name) for p in live.values()]
        entries = action_entries(session, run.id, live) if run.id is not None else []
    spec = RITUAL_BY_KIND.get(run.kind)
    numbers = run.numbers or {}
    currency = numbers.get("currency") if isinstance(numbers.get("currency"), str) else default_currency
    return MinutesContext(run=run, title=spec.title if spec else run.kind,
                          people={p.id: p for p in people if p.id is not None}, handles={p.handle: p for p in people},
                          actions=[MinutesAction.of(a) for a in entries], currency=currency, snapshot=snapshot)


def render_context(ctx: MinutesContext) -> str:
    run = ctx.run
    _load_kind_module(run.kind)
    header = md.table(["", ""], [
        ["Ritual", md.cell(ctx.title)],
        ["Period", md.cell(run.period)],
        ["Status", "closed" if not ctx.draft else "open (draft)"],
        ["Opened", _when(run.opened_at)],
        ["Closed", _when(run.closed_at)],
        ["Facilitator", md.cell(ctx.person_text(person_id=run.facilitator_id) if run.facilitator_id else "-")],
        ["Run", str(run.id)],
    ])
    definition = RITUAL_BY_KIND.get(run.kind)
    order = [s.id for s in definition.all_steps] if definition else []
    steps = sorted((s for s, t in run.notes.items() if t.strip()),
                   key=lambda s: order.index(s) if s in order else len(order))
    notes = [(md.inline(_step_heading(run.kind, s)), md.block(run.notes[s])) for s in steps]
    decisions = []
    for d in run.decisions:
        meta = [f"by {ctx.person_text(d.get('by'))}" if d.get("by") else "",
                f"at step {_step_heading(run.kind, d['step'])}" if d.get("step") else ""]
        suffix = ", ".join(m for m in meta if m)
        decisions.append(md.block(d.get("text", ""), indent="  ") + (f" _({md.inline(suffix)})_" if suffix else ""))
    actions = ""
    if ctx.actions:
        actions = md.table(["#", "action", "owner", "due", "status"], [
            [str(a.id), md.cell(a.title), md.cell(a.owner_text), a.due_date or "-", md.cell(a.status)]
            for a in ctx.actions
        ], ["right", "left", "left", "left", "left"])
    sections = [text for renderer in _SECTIONS.get(run.kind, []) if (text := renderer(ctx))]
    out = _env().get_template("minutes.md.j2").render(
        title=ctx.title, run=run, draft=ctx.draft, legacy=ctx.legacy, header=header,
        attendees=[md.inline(ctx.person_text(h)) for h in run.attendees],
        numbers=(_NUMBERS[run.kind](ctx) if run.kind in _NUMBERS else md.numbers_sections(run.numbers))
        if run.numbers else [],
        sections=sections, notes=notes, decisions=decisions, actions=actions, summary=summary_table(run))
    return out.rstrip("\n") + "\n"


def summary_table(run: RitualRun) -> str:
    """The headline figures of a run's frozen numbers, with their units and targets, as the ritual's
    definition reads them (the board and the screens show the same figures through the same function)."""
    from exports.format import headline_target, headline_text

    definition = RITUAL_BY_KIND.get(run.kind)
    if definition is None or not run.numbers:
        return ""
    heads = definition.headlines(run.numbers)
    if all(h.value is None for h in heads):
        return ""  # numbers frozen in another shape (runs of older versions): the sections below show them
    rows = [[md.cell(h.title), headline_text(h.value, h.unit, h.currency),
             md.cell(headline_target(h.target, h.unit, h.currency) or "-")] for h in heads]
    return md.table(["figure", "value", "target"], rows, ["left", "right", "right"])


def render_minutes(session: Session, run_id: int, default_currency: str | None = None) -> str:
    """The minutes of run ``run_id`` (RunNotFound when there is none); an open run renders as a draft."""
    run = get_run(session, run_id)
    return render_context(build_context(session, run, default_currency))


def write_minutes(home: Home, run_id: int) -> Path:
    """Render run ``run_id``'s minutes into ``HOME/minutes/`` (what the app's ``m`` does); the file."""
    with home.records.session() as s:
        run = get_run(s, run_id)
        text = render_minutes(s, run_id, home.config.currency)
    path = home.path / "minutes" / minutes_filename(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def minutes_filename(run: RitualRun) -> str:
    return f"{run.kind}-{run.period}-{run.id}.md"
