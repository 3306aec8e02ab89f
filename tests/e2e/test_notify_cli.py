"""`finops-tui notify` and `finops-tui channels` as cron runs them, against real receivers on loopback: two
concurrent runs send each message once (SQLite and PostgreSQL), a receiver answering 500 then 200 gets one
message after the retry, mail reaches an SMTP server, and no channel secret reaches the records, the output
or the error text. Then the headless triage of a demo anomaly event and its time to acknowledge."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from rituals.actions import create_action
from rituals.channels import add_channel
from rituals.people import add_person, add_team
from storage.channel_secrets import secrets_path
from storage.records import AnomalyCase, Notification
from tests.receivers import JsonReceiver, MailReceiver
from tests.records_engines import open_records

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.skipif(EXE is None and os.environ.get("CI") != "true", reason="finops-tui is not installed")]
TODAY = "2026-11-27"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _run(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE or "finops-tui", "--home", str(home), *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "FINOPS_TUI_TODAY": TODAY, **(env or {})})


def _dump(records) -> str:  # type: ignore[no-untyped-def]
    with records.engine.connect() as conn:
        return "\n".join(repr(tuple(r)) for t in SQLModel.metadata.sorted_tables
                         for r in conn.execute(text(f'SELECT * FROM "{t.name}"')))


def _overdue_home(home: Path, owners: int) -> None:
    """``owners`` people, each with one team and one action two days overdue."""
    home.mkdir()
    records = open_records(home)
    with records.write() as s:
        for k in range(owners):
            person = add_person(s, f"p{k}", f"Person {k}", "engineering")
            team = add_team(s, f"team{k}", owner=person.handle)
            create_action(s, title=f"fix thing {k}", owner_id=person.id, now=NOW, team_id=team.id,
                          due_date=datetime(2026, 11, 25).date())
    records.dispose()


@pytest.mark.records_engines
def test_two_concurrent_notify_runs_send_each_message_once(tmp_path: Path, records_db_url: str | None) -> None:
    owners = 12
    home = tmp_path / "home"
    _overdue_home(home, owners)
    receiver = JsonReceiver(delay=0.05)
    try:
        records = open_records(home)
        for k in range(owners):
            add_channel(records, home, f"team{k}", receiver.url(f"/t/team{k}"), now=NOW)
        records.dispose()
        env = {**os.environ, "FINOPS_TUI_TODAY": TODAY}
        procs = [subprocess.Popen([EXE or "finops-tui", "--home", str(home), "notify", "--kind", "overdue"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(2)]
        results = [p.communicate(timeout=300) for p in procs]
        for p, (_out, err) in zip(procs, results, strict=True):
            assert p.returncode == 0, err
            assert "Traceback" not in err and "locked" not in err.lower(), err
        titles = [p.body["message"] for p in receiver.posts]
        assert len(receiver.posts) == owners
        for k in range(owners):
            [post] = [p for p in receiver.posts if f"fix thing {k} " in p.body["message"]]
            assert post.path == f"/t/team{k}" and post.body["title"] == f"1 overdue action for Person {k}"
        assert len(set(titles)) == owners
        sent = [int(m) for _, err in results for m in re.findall(r"^sent overdue p(\d+):", err, re.M)]
        assert sorted(sent) == list(range(owners))  # each sent by exactly one of the two runs
        records = open_records(home)
        with records.session() as s:
            rows = list(s.exec(select(Notification)))
        records.dispose()
        assert len(rows) == owners and all(r.sent_at is not None and r.attempts == 1 for r in rows)
    finally:
        receiver.close()


def test_a_500_is_retried_once_mail_arrives_and_no_secret_leaks(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _overdue_home(home, 1)
    (home / "finops-tui.toml").write_text("[notify]\nretry_after_minutes = 0\n", encoding="utf-8")
    token, header = "HookPathToken7x9", "HeaderValue3k8"
    receiver = JsonReceiver(script={f"/hooks/{token}": [500]})
    mail = MailReceiver()
    try:
        url = receiver.url(f"/hooks/{token}", f"?+X-Api-Key={header}")
        added = _run(home, "channels", "add", "team0", url)
        assert added.returncode == 0, added.stderr
        assert _run(home, "channels", "add", "practice", mail.url("finops@example.com", "lead@example.com")).returncode == 0
        assert stat.S_IMODE(secrets_path(home).stat().st_mode) == 0o600
        unknown = _run(home, "channels", "add", "nosuchteam", url)
        garbled = _run(home, "channels", "add", "team0", f"nonsense{token}")
        assert unknown.returncode == garbled.returncode == 2, unknown.stderr + garbled.stderr
        assert "no team named 'nosuchteam'" in unknown.stderr and "Apprise does not understand" in garbled.stderr
        listed = _run(home, "channels", "list", "--json")
        shown = json.loads(listed.stdout)["channels"]
        assert {c["team"] for c in shown} == {"team0", "practice"}

        first = _run(home, "notify", "--kind", "overdue", "--json")
        assert first.returncode == 1
        report = json.loads(first.stdout)
        [u] = report["undelivered"]
        assert u["channel"] == f"json://127.0.0.1:{receiver.port}/***/***?+X-Api-Key=***"
        assert "500" in u["last_error"] and u["attempts"] == 1
        plain = _run(home, "notify", "--kind", "overdue", "--dry-run")  # names channel and error, in words
        assert plain.returncode == 1 and f"via {u['channel']}" in plain.stderr and "500" in plain.stderr

        second = _run(home, "notify", "--kind", "overdue")
        assert second.returncode == 0, second.stderr
        assert [p.status for p in receiver.posts] == [500, 200]
        [delivered] = receiver.delivered()
        assert delivered.body["title"] == "1 overdue action for Person 0"
        assert "#1 fix thing 0 (due 2026-11-25, 2 days late, open)" in delivered.body["message"]
        assert delivered.headers.get("X-Api-Key") == header  # Apprise sent the header it was given
        assert len(mail.messages) == 0  # team0 has its own channel: nothing fell back to the practice

        third = _run(home, "notify", "--kind", "overdue", "--json")
        assert third.returncode == 0 and json.loads(third.stdout)["logged"] == 0 and len(receiver.posts) == 2

        tested = _run(home, "channels", "test", "practice")
        assert tested.returncode == 0, tested.stderr
        [msg] = mail.messages
        assert msg["subject"] == "finops-tui test message for the FinOps practice" and msg["to"] == "lead@example.com"

        records = open_records(home)
        dump = _dump(records)
        records.dispose()
        everything = "\n".join([dump, added.stdout, added.stderr, listed.stdout, first.stdout, first.stderr,
                                unknown.stderr, garbled.stderr,
                                plain.stdout, plain.stderr, second.stdout, second.stderr, third.stdout])
        for secret in (token, header):
            assert secret not in everything
    finally:
        receiver.close()
        mail.close()


def test_headless_triage_acts_on_the_whole_event_and_tta_comes_from_the_stored_times(demo_home, tmp_path) -> None:
    receiver = JsonReceiver()
    try:
        added = _run(demo_home.path, "channels", "add", "search", receiver.url("/t/search"))
        assert added.returncode == 0, added.stderr
        sent = _run(demo_home.path, "notify", "--kind", "anomalies")
        assert sent.returncode == 0, sent.stderr
        [post] = receiver.posts
        case = re.search(r"finops-tui anomalies ack (\S+)`", post.body["message"]).group(1)
        acked = _run(demo_home.path, "anomalies", "ack", case, "--as", "lena")
        assert acked.returncode == 0, acked.stderr
        records = demo_home.records
        with records.session() as s:
            cases = [c for c in s.exec(select(AnomalyCase)) if c.id in post.body["message"]]
        assert len(cases) == 3 and all(c.status == "acknowledged" and c.notified_at is not None for c in cases)
        noted = _run(demo_home.path, "anomalies", "note", case, "index rebuild", "--as", "lena")
        closed = _run(demo_home.path, "anomalies", "status", case, "resolved", "--category", "new_workload",
                      "--as", "lena")
        again = _run(demo_home.path, "anomalies", "ack", case, "--as", "lena")
        assert noted.returncode == 0 and closed.returncode == 0, (noted.stderr, closed.stderr)
        assert again.returncode == 2 and "is new" in again.stderr
        listed = _run(demo_home.path, "anomalies", "--json")
        assert listed.returncode == 0, listed.stderr
        numbers = json.loads(listed.stdout)
        [event] = [e for e in numbers["by_event"] if e["id"] == case]
        with records.session() as s:
            cases = [s.get(AnomalyCase, c.id, populate_existing=True) for c in cases]
        notified = min(c.notified_at for c in cases)
        acknowledged = min(c.acknowledged_at for c in cases)
        assert event["status"] == "resolved" and all(c.category == "new_workload" for c in cases)
        assert all(n["text"] == "index rebuild" for c in cases for n in c.notes)
        assert event["tta_hours"] == pytest.approx((acknowledged - notified).total_seconds() / 3600, abs=0.01)
        assert event["tta_hours"] >= 0 and event["notified_at"] is not None
    finally:
        receiver.close()
