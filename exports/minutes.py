"""Minutes for any ritual run, as GitHub-flavoured markdown rendered through ``templates/minutes.md.j2``
(HTML and plain text are rendered from that markdown: ``exports.minutes_formats``).

A document a team pastes into its wiki unedited: a **summary** first (the headline figures with their
units and targets, the decisions, the new actions with owners and due dates, what changed since the last
run), then **one section per step** of the ritual (prose and small tables, the step's notes where they
were taken), then an **appendix** with the detail tables. Figures are formatted by the kind their
ritual's definition declares (``Ritual.fields``, ``Headline.unit``), never guessed from a name.

The same run renders to the same bytes (no generation time, stored order everywhere). A closed run
renders only from what it froze at close: its numbers, notes, decisions and attendees, and its snapshot
(the actions as they stood, the people mentioned, the previous run's headlines; ``rituals.run_snapshot``),
so a later status change or rename never moves its minutes. An open run is a draft read from the live
records; a run closed before snapshots existed says so and shows its actions as they are now.

A ritual's own content comes from ``exports/minutes_<kind>.py`` (imported before a run of that kind is
rendered), which calls ``register_minutes(kind, MinutesSpec(...))``: a renderer per step, an optional
summary line and the appendix. Renderers build markdown with ``exports.markdown`` so user text stays
escaped, and read figures through ``MinutesContext.fig`` so each is shown by its declared kind.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from exports import markdown as md
from exports.format import figure_text, headline_target, headline_text, signed_change
from exports.sanitize import plain
from rituals.ritual import RITUAL_BY_KIND, Headline, Ritual
from rituals.run_snapshot import action_entries, all_people, previous_run
from rituals.runs import get_run
from storage.records import RitualRun

if TYPE_CHECKING:
    from jinja2 import Environment

    from storage.home import Home

TEMPLATES = Path(__file__).with_name("templates")
SectionRenderer = Callable[["MinutesContext"], str | None]
AppendixRenderer = Callable[["MinutesContext"], list[tuple[str, str]]]
_SECTIONS: dict[str, list[SectionRenderer]] = {}
_MISSING = object()


@dataclass(frozen=True)
class MinutesSpec:
    """A ritual's own part of its minutes: a body per step id (None when the step has nothing to show),
    a line under the summary's figures, and the appendix's (heading, markdown) detail tables."""

    steps: Mapping[str, SectionRenderer] = field(default_factory=dict)
    summary: SectionRenderer | None = None
    appendix: AppendixRenderer | None = None


_SPECS: dict[str, MinutesSpec] = {}


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
    """What a renderer reads: the run, its figures (frozen when closed; what the close would freeze in a
    preview; none in a draft), the people and actions (from the snapshot when closed), the previous run."""

    run: RitualRun
    title: str
    definition: Ritual | None
    people: dict[int, MinutesPerson]
    handles: dict[str, MinutesPerson]
    actions: list[MinutesAction]
    currency: str | None
    numbers: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None
    previous: Any = _MISSING  # the previous run's entry, None when there is none, _MISSING when not frozen
    extra: dict[str, Any] = field(default_factory=dict)

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

    def fig(self, path: str, value: Any, *, exact: bool = True, currency: str | None = None) -> str:
        """The figure ``value`` found at ``path`` in the frozen numbers, as text by its declared kind
        (money in ``currency`` or the figures' own). Not escaped: wrap it in ``md.cell``/``md.inline``."""
        if self.definition is None:
            return figure_text(value, "text")
        return figure_text(value, self.definition.field_kind(path), currency or self.currency, exact=exact)

    def headlines(self) -> list[Headline]:
        if self.definition is None or not self.numbers:
            return []
        return self.definition.headlines(self.numbers)

    @property
    def readable(self) -> bool:
        """Figures the ritual's renderers read: frozen in the shape its headlines know (not an older one)."""
        return any(h.value is not None for h in self.headlines())


def register_minutes(kind: str, spec: MinutesSpec) -> None:
    """The ritual ``kind``'s own part of its minutes (step bodies, summary line, appendix)."""
    _SPECS[kind] = spec


def register_section(kind: str, renderer: SectionRenderer) -> None:
    """Add a section (markdown with its own ``##`` heading) to the minutes of every run of ``kind``, after
    the steps and before the appendix, in registration order. Registering it twice has no effect."""
    renderers = _SECTIONS.setdefault(kind, [])
    if renderer not in renderers:
        renderers.append(renderer)


def unregister_section(kind: str, renderer: SectionRenderer) -> None:
    if renderer in _SECTIONS.get(kind, []):
        _SECTIONS[kind].remove(renderer)


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
    return env


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def build_context(session: Session, run: RitualRun, default_currency: str | None = None,
                  numbers: dict[str, Any] | None = None) -> MinutesContext:
    """What the minutes of ``run`` read; ``numbers`` stands in for an open run's figures (the Record
    step's preview of what closing would freeze)."""
    snapshot = run.snapshot if run.status == "closed" else None
    if snapshot is not None:
        people = [MinutesPerson(p.get("id"), p["handle"], p["name"]) for p in snapshot.get("people", [])]
        entries = list(snapshot.get("actions", []))
        previous = snapshot.get("previous", _MISSING)
    else:
        live = all_people(session)
        people = [MinutesPerson(p.id, p.handle, p.name) for p in live.values()]
        entries = action_entries(session, run.id, live) if run.id is not None else []
        previous = previous_run(session, run) if run.status != "closed" else _MISSING
    definition = RITUAL_BY_KIND.get(run.kind)
    figures = numbers if numbers is not None else (run.numbers or None) if run.status == "closed" else None
    found = (figures or {}).get("currency")
    currency = found if isinstance(found, str) else default_currency
    return MinutesContext(run=run, title=definition.title if definition else run.kind, definition=definition,
                          people={p.id: p for p in people if p.id is not None}, handles={p.handle: p for p in people},
                          actions=[MinutesAction.of(a) for a in entries], currency=currency, numbers=figures,
                          snapshot=snapshot, previous=previous)


def _step_heading(kind: str, step: str) -> str:
    """The step's title as the ritual's definition gives it (the screen shows the same)."""
    definition = RITUAL_BY_KIND.get(kind)
    if definition is None:
        return step.replace("_", " ").replace("-", " ").strip().capitalize() or step
    return definition.step_title(step)


def _step_title(ctx: MinutesContext, step: str) -> str:
    return _step_heading(ctx.run.kind, step)


def _note(ctx: MinutesContext, step: str) -> str:
    text = plain(ctx.run.notes.get(step, ""))
    return md.quote(text, "**Notes.**") if text.strip() else ""


def figures_table(ctx: MinutesContext) -> str:
    """The headline figures with their units and targets, as the ritual's definition reads them (the
    board, the screens and the Record step show the same figures through the same function)."""
    heads = ctx.headlines()
    if not ctx.readable:
        return ""  # numbers frozen in another shape (runs of older versions)
    rows = [[md.cell(h.title), md.cell(headline_text(h.value, h.unit, h.currency)),
             md.cell(headline_target(h.target, h.unit, h.currency) or "-")] for h in heads]
    return md.table(["figure", "value", "target"], rows, ["left", "right", "right"])


def decisions_markdown(ctx: MinutesContext) -> str:
    items = []
    for d in ctx.run.decisions:
        meta = [f"by {ctx.person_text(d.get('by'))}" if d.get("by") else "",
                f"at step {_step_title(ctx, d['step'])}" if d.get("step") else ""]
        suffix = ", ".join(m for m in meta if m)
        items.append(md.block(d.get("text", ""), "  ") + (f" _({md.cell(suffix)})_" if suffix else ""))
    out = md.bullets(items) if items else "None recorded."
    note = _note(ctx, "decisions")
    return out + ("\n\n" + note if note else "")


def actions_markdown(ctx: MinutesContext) -> str:
    if not ctx.actions:
        return "None created in this run."
    return md.table(["#", "action", "owner", "due", "status"], [
        [str(a.id), md.cell(a.title), md.cell(a.owner_text), md.cell(a.due_date or "-"),
         md.cell(a.status.replace("_", " "))] for a in ctx.actions
    ], ["right", "left", "left", "left", "left"])


def since_markdown(ctx: MinutesContext) -> str | None:
    """The headline figures against the previous closed run's (None when that was not frozen)."""
    if ctx.previous is _MISSING or not ctx.numbers:
        return None
    if not ctx.previous:
        return f"No earlier closed {md.inline(ctx.title.lower())} to compare with."
    then = {h["key"]: h for h in ctx.previous.get("headlines", [])}
    rows = []
    for h in ctx.headlines():
        old = then.get(h.key)
        if old is None:
            continue
        rows.append([md.cell(h.title), md.cell(headline_text(old.get("value"), h.unit, h.currency)),
                     md.cell(headline_text(h.value, h.unit, h.currency)),
                     md.cell(signed_change(h.value, old.get("value"), h.unit, h.currency))])
    prev = ctx.previous
    head = f"Against {md.inline(prev['period'])} (run {prev['run_id']}):"
    if not rows:
        return head + " no figure in common."
    return head + "\n\n" + md.table(["figure", md.cell(prev["period"]), md.cell(ctx.run.period), "change"], rows,
                                    ["left", "right", "right", "right"])


def summary_markdown(ctx: MinutesContext) -> str:
    """The minutes' summary section (heading included): what the Record step shows before the close."""
    _load_kind_module(ctx.run.kind)
    spec = _SPECS.get(ctx.run.kind, MinutesSpec())
    parts = ["## Summary", ""]
    table = figures_table(ctx)
    if table:
        parts += [table, ""]
        line = spec.summary(ctx) if spec.summary else None
        if line:
            parts += [line, ""]
    elif ctx.draft and ctx.numbers is None:
        parts += ["The figures are frozen when the run is closed.", ""]
    elif ctx.numbers:
        parts += ["The figures were frozen in a shape these minutes do not read (an older version); the appendix "
                  "shows them as frozen.", ""]
    else:
        parts += ["No figures recorded.", ""]
    parts += ["### Decisions", "", decisions_markdown(ctx), "", "### New actions", "", actions_markdown(ctx), ""]
    since = since_markdown(ctx)
    if since:
        parts += ["### Since the last run", "", since, ""]
    return "\n".join(parts).rstrip("\n") + "\n"


def _steps(ctx: MinutesContext, spec: MinutesSpec) -> list[tuple[str, str]]:
    out = []
    steps = ctx.definition.steps if ctx.definition else ()
    for step in steps:
        renderer = spec.steps.get(step.id)
        body = renderer(ctx) if renderer is not None and ctx.readable else None
        note = _note(ctx, step.id)
        text = "\n\n".join(p for p in (body, note) if p) or (
            "Nothing recorded at this step." if not ctx.draft else "No notes yet.")
        out.append((md.inline(step.title), text.strip("\n")))
    return out


def _other_notes(ctx: MinutesContext) -> list[tuple[str, str]]:
    """Notes kept under a step the ritual does not have (renamed steps, older runs), by step id."""
    known = {s.id for s in ctx.definition.steps} | {"decisions"} if ctx.definition else set()
    return [(md.inline(_step_title(ctx, step)), md.block(text)) for step, text in ctx.run.notes.items()
            if step not in known and plain(text).strip()]


def _header(ctx: MinutesContext) -> str:
    run = ctx.run
    who = ctx.person_text(person_id=run.facilitator_id) if run.facilitator_id else None
    state = (f"Closed {_when(run.closed_at)}" if not ctx.draft else f"Opened {_when(run.opened_at)}, still open")
    line = f"{state}, run {run.id}" + (f", facilitated by {who}" if who else "") + "."
    attendees = [ctx.person_text(h) for h in run.attendees]
    return md.inline(line) + "\\\n" + md.inline("Attendees: " + (", ".join(attendees) if attendees
                                                               else "none recorded") + ".")


def render_context(ctx: MinutesContext) -> str:
    run = ctx.run
    _load_kind_module(run.kind)
    spec = _SPECS.get(run.kind, MinutesSpec())
    appendix = spec.appendix(ctx) if spec.appendix is not None and ctx.readable else []
    if ctx.numbers and not ctx.readable:
        appendix = [*appendix, ("Figures as frozen", frozen_json(ctx.numbers))]
    out = _env().get_template("minutes.md.j2").render(
        title=md.inline(ctx.title), period=md.inline(run.period), draft=ctx.draft, legacy=ctx.legacy,
        header=_header(ctx), summary=summary_markdown(ctx), steps=_steps(ctx, spec),
        sections=[text for renderer in _SECTIONS.get(run.kind, []) if (text := renderer(ctx))],
        other_notes=_other_notes(ctx), appendix=[(h, body) for h, body in appendix if body])
    return plain(out).rstrip("\n") + "\n"  # no control byte reaches a minutes file, whatever a section did


def frozen_json(numbers: dict[str, Any]) -> str:
    """Figures the minutes cannot read, as frozen: a JSON code block (no line of JSON can close the fence,
    and nothing inside a fence is markup)."""
    import json

    return "```json\n" + plain(json.dumps(numbers, indent=2, ensure_ascii=False)) + "\n```"


def render_summary(session: Session, run: RitualRun, numbers: dict[str, Any] | None = None,
                   default_currency: str | None = None) -> str:
    """The summary the minutes of ``run`` open with; ``numbers`` previews an open run's close."""
    return summary_markdown(build_context(session, run, default_currency, numbers))


def render_minutes(session: Session, run_id: int, default_currency: str | None = None) -> str:
    """The minutes of run ``run_id`` (RunNotFound when there is none); an open run renders as a draft."""
    run = get_run(session, run_id)
    from exports.sanitize import plain

    # Whatever a section forgot to escape, no terminal control byte leaves in the minutes.
    return plain(render_context(build_context(session, run, default_currency)))


def write_minutes(home: Home, run_id: int) -> Path:
    """Render run ``run_id``'s minutes into ``HOME/minutes/`` (what the app's ``m`` does); the file."""
    with home.records.session() as s:
        run = get_run(s, run_id)
        text = render_minutes(s, run_id, home.config.currency)
    path = home.path / "minutes" / minutes_filename(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def minutes_filename(run: RitualRun, ext: str = "md") -> str:
    return f"{run.kind}-{run.period}-{run.id}.{ext}"


def rows_table(ctx: MinutesContext, path: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]],
               *, limit: int | None = None) -> str:
    """The rows of the frozen list at ``path`` as a table of ``columns`` ((field, header) pairs), each
    cell shown by the field's declared kind (numbers right-aligned); at most ``limit`` rows."""
    if ctx.definition is None:
        raise ValueError("a figures table needs the ritual's definition")
    kinds = [ctx.definition.field_kind(f"{path}[].{key}") for key, _ in columns]
    body = [[md.cell(figure_text(r.get(key), kind, r.get("currency") if isinstance(r.get("currency"), str)
                                 else ctx.currency, exact=True)) for (key, _), kind in zip(columns, kinds, strict=True)]
            for r in (rows if limit is None else rows[:limit])]
    return md.table([md.cell(h) for _, h in columns], body,
                    ["left" if k in ("text", "date") else "right" for k in kinds])
