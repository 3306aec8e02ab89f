"""Notification channels: where each team's (and the FinOps practice's) alerts go.

A channel is an Apprise URL (``slack://...``, ``msteams://...``, ``mailto://...``, ``json://...``) kept in
the home's 0600 secrets file, or ``env:VAR`` naming an environment variable that holds one; the records
keep only that reference and a masked label (``storage.channel_secrets``). A team may have several
channels; ``practice`` names the FinOps practice itself, which gets what no team owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, delete, select

from storage.channel_secrets import (
    ChannelError,
    env_ref,
    forget_secret,
    mask_url,
    resolve,
    store_secret,
)
from storage.records import Notification, NotifyChannel, Team

PRACTICE = "practice"  # the FinOps practice's own channels (team_id NULL)


@dataclass(frozen=True)
class ChannelView:
    id: int
    team: str | None  # None: the practice
    kind: str  # "secret" (the home's secrets file) or "env"
    label: str
    usable: bool  # its URL can be read on this machine
    problem: str | None

    @property
    def owner(self) -> str:
        return self.team or PRACTICE

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "team": self.owner, "kind": self.kind, "channel": self.label,
                "usable": self.usable, "problem": self.problem}


def team_of(session: Session, name: str) -> Team | None:
    """The team ``name`` names; None for the practice. A team that is itself called "practice" is a
    conflict the user must resolve (rename it): the word names the practice here."""
    from rituals.people import find_team, get_team

    if name.strip().lower() == PRACTICE:
        clash = find_team(session, PRACTICE)
        if clash is not None:
            raise ValueError(f"a team is named {PRACTICE!r}, which names the FinOps practice's channels here; "
                             "rename that team (finops-tui teams edit practice --rename NEW)")
        return None
    return get_team(session, name)


def add_channel(records: Any, home_path: Path, team_name: str, url: str, *, now: datetime) -> ChannelView:
    """Add a channel for ``team_name`` (or ``practice``): ``env:VAR`` as given, any other URL into the
    secrets file. The URL must already be checked by Apprise (``exports.delivery.check_url``)."""
    url = url.strip()
    if not url:
        raise ChannelError("a channel needs an Apprise URL or env:VAR")
    ref = env_ref(url)
    label = url if ref else mask_url(url)
    with records.write() as s:
        team = team_of(s, team_name)
        if ref is None:
            ref = store_secret(home_path, url)
        row = NotifyChannel(team_id=team.id if team else None, ref=ref, label=label, created_at=now)
        s.add(row)
        s.flush()
        return _view(row, team.name if team else None, home_path)


def _view(row: NotifyChannel, team: str | None, home_path: Path) -> ChannelView:
    problem = None
    try:
        resolve(home_path, row.ref)
    except ChannelError as exc:
        problem = str(exc)
    kind = "env" if row.ref.startswith("env:") else "secret"
    return ChannelView(row.id, team, kind, row.label, problem is None, problem)  # type: ignore[arg-type]


def list_channels(session: Session, home_path: Path, team_name: str | None = None) -> list[ChannelView]:
    """Active channels, the practice's first, then by team and id."""
    teams = {t.id: t.name for t in session.exec(select(Team))}
    rows = session.exec(select(NotifyChannel).where(col(NotifyChannel.retired_at).is_(None)))
    views = [_view(r, teams.get(r.team_id) if r.team_id is not None else None, home_path) for r in rows]
    if team_name is not None:
        team = team_of(session, team_name)
        views = [v for v in views if v.team == (team.name if team else None)]
    return sorted(views, key=lambda v: (v.team is not None, v.team or "", v.id))


def remove_channel(records: Any, home_path: Path, channel_id: int, *, now: datetime) -> ChannelView:
    """Retire a channel: its secret leaves the secrets file, its unsent messages are dropped, the log of
    what it was sent stays."""
    with records.write() as s:
        row = s.get(NotifyChannel, channel_id)
        if row is None or row.retired_at is not None:
            raise ValueError(f"no channel #{channel_id} (see `finops-tui channels list`)")
        team = s.get(Team, row.team_id) if row.team_id is not None else None
        view = _view(row, team.name if team else None, home_path)
        s.exec(delete(Notification).where(col(Notification.channel_id) == channel_id,
                                          col(Notification.sent_at).is_(None)))
        row.retired_at = now
        forget_secret(home_path, row.ref)
        row.ref = "removed"
        s.add(row)
    return view


def routes(session: Session) -> dict[str | None, list[int]]:
    """Team name (None: the practice) -> its active channel ids."""
    teams = {t.id: t.name for t in session.exec(select(Team))}
    out: dict[str | None, list[int]] = {}
    for row in session.exec(select(NotifyChannel).where(col(NotifyChannel.retired_at).is_(None))
                            .order_by(col(NotifyChannel.id))):
        out.setdefault(teams.get(row.team_id) if row.team_id is not None else None, []).append(row.id)  # type: ignore[arg-type]
    return out


def channel_url(session: Session, home_path: Path, channel_id: int) -> tuple[str, str]:
    """(Apprise URL, masked label) of a channel; a ChannelError when its URL cannot be read here."""
    row = session.get(NotifyChannel, channel_id)
    if row is None or row.retired_at is not None:
        raise ChannelError(f"channel #{channel_id} was removed")
    return resolve(home_path, row.ref), row.label
