"""The notification log: every message is a row before it is sent, so it is sent once.

``enqueue`` adds a row per (kind, key, channel) inside a writer's transaction (a second run finds it there).
``claim`` takes the rows due for sending in one short transaction and stamps them with the claimer's
token: on PostgreSQL with ``SELECT ... FOR UPDATE SKIP LOCKED`` (a second ``notify`` skips the rows the
first is claiming instead of waiting for them), on SQLite under ``BEGIN IMMEDIATE``. Only the claimer
sends a row; it then records the outcome (``sent`` or ``failed``, the latter with a backoff before the next
attempt). A claim older than ``CLAIM_LEASE`` is taken to be a crashed run's and may be claimed again: the
only way a message can repeat is a crash between its send and its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from storage.records import AnomalyCase, Notification, NotifyChannel

CLAIM_LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class Claimed:
    """A row claimed for sending (read out of its session)."""

    id: int
    kind: str
    key: str
    channel_id: int
    team: str | None
    subjects: tuple[str, ...]
    title: str
    body: str
    attempts: int


def enqueue(session: Session, *, kind: str, key: str, channel_id: int, team: str | None, subjects: list[str],
            title: str, body: str, now: datetime) -> bool:
    """Log one message for one channel (in a writer's session); False when it is logged already."""
    found = session.exec(select(Notification.id).where(Notification.kind == kind, Notification.key == key,
                                                       Notification.channel_id == channel_id)).first()
    if found is not None:
        return False
    session.add(Notification(kind=kind, key=key, channel_id=channel_id, team=team, subjects=list(subjects),
                             title=title, body=body, created_at=now, attempts=0))
    session.flush()
    return True


def subjects_logged(session: Session, kind: str) -> set[str]:
    """Every subject (a case id, an action at its due date, a team and week) a ``kind`` row names."""
    out: set[str] = set()
    for subjects in session.exec(select(Notification.subjects).where(Notification.kind == kind)):
        out.update(subjects or [])
    return out


def _due(now: datetime) -> Any:
    return (col(Notification.sent_at).is_(None)
            & or_(col(Notification.claimed_at).is_(None), col(Notification.claimed_at) < now - CLAIM_LEASE)
            & or_(col(Notification.next_attempt_at).is_(None), col(Notification.next_attempt_at) <= now))


def claim(records: Any, *, token: str, now: datetime, kinds: tuple[str, ...] | None = None) -> list[Claimed]:
    """Claim every row due for sending (of ``kinds``, default all) for ``token``, in one transaction."""
    stmt = select(Notification).where(_due(now)).order_by(col(Notification.id))
    if kinds is not None:
        stmt = stmt.where(col(Notification.kind).in_(kinds))
    if records.is_sqlite:
        ctx = records.write()
    else:
        # Not the store's writer lock: concurrent claimers skip each other's rows instead of queueing.
        ctx = Session(records.engine, expire_on_commit=False)
        stmt = stmt.with_for_update(skip_locked=True)
    with ctx as s:
        rows = list(s.exec(stmt))
        for row in rows:
            row.claimed_at, row.claimed_by = now, token
            s.add(row)
        out = [Claimed(r.id, r.kind, r.key, r.channel_id, r.team, tuple(r.subjects or ()), r.title, r.body,
                       r.attempts) for r in rows]
        if not records.is_sqlite:
            s.commit()
    return out


def backoff(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """Wait before attempt ``attempts + 1``: ``base`` doubled per failed attempt, at most ``cap``."""
    if attempts <= 0:
        return timedelta(0)
    return min(base * (2 ** (attempts - 1)), cap)


def record_sent(records: Any, row: Claimed, *, token: str, now: datetime, stamp_cases: bool = False) -> None:
    """Mark a claimed row sent; ``stamp_cases``: its subjects are anomaly case ids, notified now."""
    with records.write() as s:
        s.exec(update(Notification).where(col(Notification.id) == row.id, col(Notification.claimed_by) == token)
               .values(sent_at=now, attempts=Notification.attempts + 1, last_error=None))
        if stamp_cases and row.subjects:
            s.exec(update(AnomalyCase).where(col(AnomalyCase.id).in_(row.subjects),
                                             col(AnomalyCase.notified_at).is_(None)).values(notified_at=now))


def record_failed(records: Any, row: Claimed, *, token: str, now: datetime, error: str, base: timedelta,
                  cap: timedelta) -> datetime:
    """Mark a claimed row failed (``error`` already scrubbed); when it may be tried again."""
    retry_at = now + backoff(row.attempts + 1, base, cap)
    with records.write() as s:
        s.exec(update(Notification).where(col(Notification.id) == row.id, col(Notification.claimed_by) == token)
               .values(attempts=Notification.attempts + 1, last_error=error[:2000], next_attempt_at=retry_at,
                       claimed_at=None, claimed_by=None))
    return retry_at


@dataclass(frozen=True)
class Undelivered:
    id: int
    kind: str
    key: str
    team: str | None
    channel: str  # the channel's masked label
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "key": self.key, "team": self.team, "channel": self.channel,
                "attempts": self.attempts, "last_error": self.last_error, "next_attempt_at": self.next_attempt_at}


def undelivered(session: Session) -> list[Undelivered]:
    """Rows not yet sent, oldest first."""
    labels = {c.id: c.label for c in session.exec(select(NotifyChannel))}
    rows = session.exec(select(Notification).where(col(Notification.sent_at).is_(None)).order_by(col(Notification.id)))
    return [Undelivered(r.id, r.kind, r.key, r.team, labels.get(r.channel_id, f"#{r.channel_id}"), r.attempts,  # type: ignore[arg-type]
                        r.last_error, r.next_attempt_at) for r in rows]


def sent_for_cases(session: Session, kind: str) -> dict[str, datetime]:
    """Case id -> when a ``kind`` notification naming it was first delivered."""
    out: dict[str, datetime] = {}
    rows = session.exec(select(Notification).where(Notification.kind == kind, col(Notification.sent_at).is_not(None)))
    for r in rows:
        for cid in r.subjects or []:
            if r.sent_at is not None and (cid not in out or r.sent_at < out[cid]):
                out[cid] = r.sent_at
    return out
