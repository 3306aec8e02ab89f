"""Delivery: Apprise sends, the notification log makes it once.

``notify`` plans the notices (``rituals.notices``), renders them (``exports.notifications``), logs one row
per notice and channel in a writer's transaction (a second run finds them there), claims the rows due
(``storage.notification_log.claim``: SKIP LOCKED on PostgreSQL), sends each with one Apprise object per
channel and records the outcome. A failure waits with backoff for a later run; its error is scrubbed of
every token of the channel's URL (Apprise's log lines and "privacy" URLs carry webhook path tokens and
``+Header`` values) before it is stored or shown.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from exports.notifications import render, test_message
from exports.sanitize import plain
from rituals.channels import channel_url, list_channels, routes
from rituals.notices import ANOMALIES, KINDS, OVERDUE, Notice, plan
from storage.channel_secrets import ChannelError, mask_url, scrub
from storage.notification_log import (
    CLAIM_LEASE,
    Claimed,
    claim,
    enqueue,
    record_failed,
    record_sent,
    subjects_logged,
    undelivered,
)

# Kinds that fall back to the practice when the team they concern has no channel (someone must act).
FALLBACK_KINDS = (ANOMALIES, OVERDUE)


def _apprise() -> Any:
    import apprise

    return apprise


def check_url(url: str) -> None:
    """A ChannelError unless Apprise understands ``url`` (an ``env:VAR`` is checked when it is used)."""
    if url.startswith("env:"):
        return
    if not _apprise().Apprise().add(url):
        raise ChannelError(f"Apprise does not understand the URL {mask_url(url)} (see the Apprise wiki for "
                           "the URL of each service: slack://, msteams://, mailto://, json://...)")


def send(url: str, title: str, body: str) -> str | None:
    """Send one message with one Apprise object; None when delivered, else the scrubbed reason."""
    apprise = _apprise()
    sender = apprise.Apprise()
    if not sender.add(url):
        return f"Apprise does not understand the URL {mask_url(url)}"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(levelname)s %(message)s") as logs:
        try:
            ok = bool(sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))
        except Exception as exc:  # noqa: BLE001  # a plugin's crash is one undelivered message, not a crash
            ok = False
            print(f"ERROR {type(exc).__name__}: {exc}", file=logs)
        text = logs.getvalue()
    if ok:
        return None
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    reason = "; ".join(dict.fromkeys(lines))[-1000:] or "Apprise reported a failure without a reason"
    # A receiver's reply is data: stored and shown without a control sequence (the one sanitiser).
    return plain(scrub(reason, [url]), one_line=True)


@dataclass
class Outcome:
    kind: str
    key: str
    team: str | None
    channel: str
    title: str
    sent: bool
    error: str | None = None
    retry_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "team": self.team, "channel": self.channel,
                "title": self.title, "sent": self.sent, "error": self.error, "retry_at": self.retry_at}


@dataclass
class NotifyReport:
    dry_run: bool
    planned: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would be sent
    logged: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    unrouted: list[dict[str, Any]] = field(default_factory=list)  # notices with no channel at all
    skipped: dict[str, str] = field(default_factory=dict)  # kind -> why it could not be planned
    undelivered: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.undelivered

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "planned": self.planned, "logged": self.logged,
                "sent": sum(o.sent for o in self.outcomes), "failed": sum(not o.sent for o in self.outcomes),
                "outcomes": [o.as_dict() for o in self.outcomes], "unrouted": self.unrouted, "skipped": self.skipped,
                "undelivered": self.undelivered}


def _targets(notice: Notice, route: dict[str | None, list[int]]) -> list[int]:
    own = route.get(notice.team, []) if notice.team is not None else route.get(None, [])
    if own or notice.team is None or notice.kind not in FALLBACK_KINDS:
        return own
    notice.fallback = True
    return route.get(None, [])


def token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def notify(home: Any, kinds: tuple[str, ...] = KINDS, *, dry_run: bool = False,
           progress: Callable[[str], None] | None = None) -> NotifyReport:
    """Plan, log, claim and send the notifications of ``kinds``; with ``dry_run`` only plan (nothing is
    logged or sent)."""
    say = progress or (lambda _text: None)
    records = home.records
    report = NotifyReport(dry_run)
    with records.session() as s:
        route = routes(s)
        labels = {v.id: v.label for v in list_channels(s, home.path)}
        logged = {k: subjects_logged(s, k) for k in kinds}
    say(f"planning {', '.join(kinds)}")
    notices = plan(home, kinds, set(route), logged, report.skipped)
    rendered = []
    for n in notices:
        title, body = render(n)
        targets = _targets(n, route)
        if not targets:
            report.unrouted.append({"kind": n.kind, "key": n.key, "team": n.team, "title": title})
        rendered.append((n, title, body, targets))
    if dry_run:
        for n, title, body, targets in rendered:
            for cid in targets:
                report.planned.append({"kind": n.kind, "key": n.key, "team": n.team, "channel": labels.get(cid),
                                       "fallback": n.fallback, "title": title, "body": body})
        with records.session() as s:
            report.undelivered = [u.as_dict() for u in undelivered(s) if u.kind in kinds]
        return report
    now = home.clock.now()
    with records.write() as s:
        for n, title, body, targets in rendered:
            # Another run may have logged these subjects since the plan was read: it sends them, not this one.
            if set(n.subjects) & subjects_logged(s, n.kind):
                continue
            for cid in targets:
                report.logged += enqueue(s, kind=n.kind, key=n.key, channel_id=cid, team=n.team,
                                         subjects=n.subjects, title=title, body=body, now=now)
    me = token()
    claimed = claim(records, token=me, now=home.clock.now(), kinds=kinds)
    cfg = home.config.notify
    base, cap = timedelta(minutes=cfg.retry_after_minutes), timedelta(hours=cfg.retry_max_hours)
    for row in claimed:
        report.outcomes.append(_deliver(home, row, me, base, cap, labels, say))
    with records.session() as s:
        mine_or_idle = [u for u in undelivered(s) if u.kind in kinds]
        in_flight = _in_flight(s, me, home.clock.now())
        report.undelivered = [u.as_dict() for u in mine_or_idle if u.id not in in_flight]
    return report


def _in_flight(session: Any, me: str, now: datetime) -> set[int]:
    """Rows another run has claimed and may be sending right now."""
    from sqlmodel import col, select

    from storage.records import Notification

    rows = session.exec(select(Notification.id).where(col(Notification.sent_at).is_(None),
                                                      col(Notification.claimed_by).is_not(None),
                                                      col(Notification.claimed_by) != me,
                                                      col(Notification.claimed_at) >= now - CLAIM_LEASE))
    return set(rows)


def _deliver(home: Any, row: Claimed, me: str, base: timedelta, cap: timedelta, labels: dict[int, str],
             say: Callable[[str], None]) -> Outcome:
    label = labels.get(row.channel_id, f"#{row.channel_id}")
    who = row.team or "the practice"
    try:
        with home.records.session() as s:
            url, label = channel_url(s, home.path, row.channel_id)
        error = send(url, row.title, row.body)
    except ChannelError as exc:
        error = plain(str(exc), one_line=True)
    now = home.clock.now()
    if error is None:
        record_sent(home.records, row, token=me, now=now, stamp_cases=row.kind == ANOMALIES)
        say(f"sent {row.kind} {row.key} to {who} ({label})")
        return Outcome(row.kind, row.key, row.team, label, row.title, True)
    retry_at = record_failed(home.records, row, token=me, now=now, error=error, base=base, cap=cap)
    say(f"failed {row.kind} {row.key} to {who} ({label}): {error}")
    return Outcome(row.kind, row.key, row.team, label, row.title, False, error, retry_at)


def test_channels(home: Any, team: str) -> list[tuple[str, str | None]]:
    """Send a test message to each of ``team``'s channels now (not logged): (label, error or None)."""
    out: list[tuple[str, str | None]] = []
    with home.records.session() as s:
        views = list_channels(s, home.path, team)
        urls: list[tuple[Any, str, str | None]] = []
        for v in views:
            try:
                urls.append((v, channel_url(s, home.path, v.id)[0], None))
            except ChannelError as exc:
                urls.append((v, "", plain(str(exc), one_line=True)))
    if not views:
        raise ValueError(f"{team} has no channel (finops-tui channels add {team} URL)")
    for v, url, problem in urls:
        title, body = test_message(v.team)
        out.append((v.label, problem or send(url, title, body)))
    return out
