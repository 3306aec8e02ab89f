"""Notifications in process, against real receivers on loopback (tests/receivers.py): what each kind says
and to whom, routing on the demo, the log that sends once, backoff, secrets kept out of the records, and
time to acknowledge from the stored times."""

from __future__ import annotations

import os
import re
import shutil
import stat
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from exports.delivery import notify
from rituals.channels import add_channel, list_channels, remove_channel
from storage.channel_secrets import mask_url, read_secrets, scrub, secrets_in, secrets_path
from storage.clock import Clock
from storage.home import Home
from storage.records import Action, AnomalyCase, Notification, Person, Team
from tests.receivers import JsonReceiver

PRE_READ_DAY = date(2026, 12, 3)  # two days before the review of 2026-11 on 2026-12-05 (preread_days 3)


@pytest.fixture
def receiver():
    r = JsonReceiver()
    yield r
    r.close()


def _demo_copy(demo_truth_and_path, tmp_path, today: date) -> Home:
    dst = tmp_path / "demo"
    shutil.copytree(demo_truth_and_path[1], dst)
    return Home(dst, clock_override=Clock(today))


def _team_channels(home: Home, receiver: JsonReceiver) -> list[str]:
    with home.records.session() as s:
        teams = sorted(t.name for t in s.exec(select(Team)))
    for team in teams:
        add_channel(home.records, home.path, team, receiver.url(f"/t/{team}"), now=home.clock.now())
    add_channel(home.records, home.path, "practice", receiver.url("/practice"), now=home.clock.now())
    return teams


def _team_of_path(path: str) -> str | None:
    return path.removeprefix("/t/") if path.startswith("/t/") else None


def _dump(records) -> str:  # type: ignore[no-untyped-def]
    """Every row of every table as text."""
    from sqlmodel import SQLModel

    out = []
    with records.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            out += [repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{table.name}"'))]
    return "\n".join(out)


def test_the_command_spells_the_statuses_and_kinds_the_records_and_rituals_define():
    from finops_tui.commands import anomalies
    from finops_tui.commands import notify as notify_cmd
    from rituals.notices import KINDS
    from storage.records import ANOMALY_CATEGORIES, ANOMALY_STATUSES

    assert anomalies.STATUSES == tuple(s for s in ANOMALY_STATUSES if s != "new")
    assert anomalies.CATEGORIES == ANOMALY_CATEGORIES
    assert notify_cmd.KINDS == KINDS


def test_scrub_hides_what_apprise_privacy_urls_and_logs_carry():
    import apprise

    slack = "slack://T1JJ3T3L2Q/A1BRTD4JDX/TIiajkdnlazkcOXrIdevi7FQ/#general"
    hook = "json://127.0.0.1:9/hook/SECRETPATHTOKEN1?+X-Auth=HeaderSecret42"
    logs = {slack: "POST https://hooks.slack.com/services/T1JJ3T3L2Q/A1BRTD4JDX/TIiajkdnlazkcOXrIdevi7FQ failed",
            hook: "POST http://127.0.0.1:9/hook/SECRETPATHTOKEN1 headers {'X-Auth': 'HeaderSecret42'} failed"}
    secrets = {slack: ("T1JJ3T3L2Q", "A1BRTD4JDX", "TIiajkdnlazkcOXrIdevi7FQ"),
               hook: ("SECRETPATHTOKEN1", "HeaderSecret42")}
    for url in (slack, hook):
        a = apprise.Apprise()
        assert a.add(url)
        privacy = a[0].url(privacy=True)
        assert any(s in privacy or f"{s[0]}...{s[-1]}" in privacy for s in secrets[url])  # what Apprise leaks
        clean = scrub(f"Failed to send to {privacy} ; {logs[url]} ({url})", [url])
        for secret in secrets[url]:
            assert secret not in clean, (secret, clean)
        assert "Failed to send to" in clean and "failed" in clean
    assert mask_url(hook) == "json://127.0.0.1:9/***/***?+X-Auth=***"
    assert "TIiajkdnlazkcOXrIdevi7FQ" in secrets_in(slack)


@pytest.mark.records_engines
def test_a_channel_secret_lives_in_a_0600_file_and_never_in_the_records(home, records_engine):
    from rituals.people import add_team

    with home.records.write() as s:
        add_team(s, "payments")
    url = "json://127.0.0.1:9/hooks/PaymentsTokenXYZ123?+X-Api-Key=KeyValue987654"
    view = add_channel(home.records, home.path, "payments", url, now=home.clock.now())
    env = add_channel(home.records, home.path, "practice", "env:FINOPS_SLACK_PRACTICE", now=home.clock.now())
    path = secrets_path(home.path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(read_secrets(home.path).values()) == [url]
    dump = _dump(home.records)
    for secret in ("PaymentsTokenXYZ123", "KeyValue987654", url):
        assert secret not in dump
    assert "env:FINOPS_SLACK_PRACTICE" in dump  # a reference to the variable, not its value
    with home.records.session() as s:
        views = {v.id: v for v in list_channels(s, home.path)}
    assert views[view.id].label == "json://127.0.0.1:9/***/***?+X-Api-Key=***" and views[view.id].usable
    assert views[env.id].team is None and not views[env.id].usable
    assert "FINOPS_SLACK_PRACTICE is not set" in (views[env.id].problem or "")
    os.chmod(path, 0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        read_secrets(home.path)
    os.chmod(path, 0o600)
    remove_channel(home.records, home.path, view.id, now=home.clock.now())
    assert read_secrets(home.path) == {}


def test_each_kind_says_what_how_much_who_and_what_to_do(demo_truth_and_path, tmp_path, receiver):
    home = _demo_copy(demo_truth_and_path, tmp_path, PRE_READ_DAY)
    teams = _team_channels(home, receiver)
    report = notify(home)
    assert report.ok and not report.unrouted
    by_kind: dict[str, list] = {}
    with home.records.session() as s:
        for row in s.exec(select(Notification)):
            by_kind.setdefault(row.kind, []).append(row)
        cases = list(s.exec(select(AnomalyCase)))
        people = {p.id: p for p in s.exec(select(Person))}
        team_names = {t.id: t.name for t in s.exec(select(Team))}
        actions = list(s.exec(select(Action)))
    posts = {(p.body["title"], p.path): p for p in receiver.delivered()}
    assert len(posts) == len(receiver.posts) == sum(len(v) for v in by_kind.values())
    for p in receiver.posts:
        assert set(p.body) >= {"version", "title", "message", "type"}

    # Anomalies: the one live, untriaged demo event, to the team its team-dimension case names.
    live = [c for c in cases if not c.historical and c.status == "new"]
    team_case = next(c for c in live if c.dimension == "team")
    impact = max(c.impact for c in live)
    [anomaly] = [p for p in receiver.posts if p.body["title"].startswith("Cost anomaly")]
    assert anomaly.path == f"/t/{team_case.value}"
    assert anomaly.body["title"] == f"Cost anomaly: {impact:,.0f} {live[0].currency} over expected on " \
                                    f"{team_case.dimension} {team_case.value}"
    lead = max(live, key=lambda c: (c.impact, c.id))
    for c in live:
        assert c.id in anomaly.body["message"] and c.notified_at is not None
    assert f"finops-tui anomalies ack {lead.id}" in anomaly.body["message"]
    assert f"Who: team {team_case.value}." in anomaly.body["message"]

    # Overdue actions: every open action due before today, once, in its owner's message.
    late = [a for a in actions if a.status in ("open", "in_progress", "blocked") and a.due_date
            and a.due_date < PRE_READ_DAY]
    assert late
    overdue = [p for p in receiver.posts if "overdue action" in p.body["title"]]
    for a in late:
        owner = people[a.owner_id]
        [post] = [p for p in overdue if f"#{a.id} {a.title}" in p.body["message"]]
        assert post.body["title"].endswith(f"for {owner.name}")
        assert f"{(PRE_READ_DAY - a.due_date).days} day" in post.body["message"]
        if a.team_id is not None:
            assert post.path == f"/t/{team_names[a.team_id]}"

    # The weekly sweep: the practice hears coverage against the target, each team its own tag fixes.
    week = f"{PRE_READ_DAY.isocalendar().year}-W{PRE_READ_DAY.isocalendar().week:02d}"
    sweeps = {p.path: p for p in receiver.posts if p.body["title"].startswith(f"Tag sweep {week}")}
    assert set(sweeps) == {"/practice", *(f"/t/{t}" for t in teams)}
    from rituals.tag_fixes import compute_sweep, default_window

    coverage = compute_sweep(home, *default_window(PRE_READ_DAY)).as_json()["coverage_pct"]
    assert sweeps["/practice"].body["title"] == f"Tag sweep {week}: coverage {coverage:.1f}%"
    for a in actions:
        if a.kind == "tag_fix" and a.status in ("open", "in_progress", "blocked") and a.team_id is not None:
            assert f"#{a.id} {a.title}" in sweeps[f"/t/{team_names[a.team_id]}"].body["message"]

    # The pre-read: two days before the review of November on 5 December, to every team.
    prereads = {p.path: p for p in receiver.posts if p.body["title"].startswith("Monthly review")}
    assert set(prereads) == {"/practice", *(f"/t/{t}" for t in teams)}
    for t in teams:
        body = prereads[f"/t/{t}"]
        assert body.body["title"] == f"Monthly review 2026-11 on 2026-12-05: pre-read for {t}"
        assert body.body["message"].startswith("The review of 2026-11 is on 2026-12-05.")

    # Nothing is sent twice: a second run finds every message in the log.
    again = notify(home)
    assert again.ok and again.logged == 0 and not again.outcomes
    assert len(receiver.posts) == len(posts)


def test_routing_on_the_demo_sends_each_anomaly_event_to_its_owning_team(demo_truth_and_path, tmp_path, receiver):
    from rituals.anomaly_cases import sync_cases

    home = _demo_copy(demo_truth_and_path, tmp_path, date(2026, 11, 27))
    sync_cases(home)  # the demo's anomalies become cases; as if the data had been loaded before any of them:
    with home.records.write() as s:
        s.execute(text("UPDATE anomaly_case SET historical = :f"), params={"f": False})
    _team_channels(home, receiver)
    report = notify(home, ("anomalies",))
    assert report.ok
    with home.records.session() as s:
        cases = {c.id: c for c in s.exec(select(AnomalyCase))}
        account_team = {a: t for a, t in s.execute(text(
            "SELECT ta.account_id, t.name FROM team_account ta JOIN team t ON t.id = ta.team_id"))}
    seen: list[str] = []
    for post in receiver.posts:
        ids = re.search(r"Cases: (.*)\.", post.body["message"]).group(1).split(", ")
        seen += ids
        group = [cases[i] for i in ids]
        team = next((c.value for c in group if c.dimension == "team"), None)
        if team is None:
            account = next(c.value for c in group if c.dimension == "account")
            team = account_team.get(account)
        assert _team_of_path(post.path) == team, (post.path, ids)
    assert sorted(seen) == sorted(cases)  # every case in exactly one message
    assert len(receiver.posts) >= 8


def test_a_failed_delivery_waits_for_its_backoff_and_names_the_channel(demo_truth_and_path, tmp_path, receiver):
    home = _demo_copy(demo_truth_and_path, tmp_path, date(2026, 11, 27))
    receiver.script["/t/search"] = [500, 500]
    add_channel(home.records, home.path, "search", receiver.url("/t/search", "?+X-Token=SearchHeaderSecret1"),
                now=home.clock.now())
    first = notify(home, ("anomalies",))
    [u] = first.undelivered
    assert not first.ok and u["channel"] == f"json://127.0.0.1:{receiver.port}/***/***?+X-Token=***"
    assert "500" in u["last_error"] and "SearchHeaderSecret1" not in repr(first.as_json())
    assert u["next_attempt_at"] - home.clock.now() > timedelta(minutes=4)  # 5 minutes by default
    second = notify(home, ("anomalies",))
    assert not second.outcomes and len(receiver.posts) == 1  # not yet due
    with home.records.write() as s:
        s.execute(text("UPDATE notification SET next_attempt_at = NULL"))
    third = notify(home, ("anomalies",))
    assert not third.ok and third.undelivered[0]["attempts"] == 2
    with home.records.session() as s:
        row = s.exec(select(Notification)).one()
    # The second failure waits twice as long as the first.
    assert row.next_attempt_at - third.outcomes[0].retry_at == timedelta(0)
    assert (row.next_attempt_at - home.clock.now()) > timedelta(minutes=9)


def test_time_to_acknowledge_is_from_the_stored_notified_and_acknowledged_times(demo_truth_and_path, tmp_path,
                                                                              receiver):
    from rituals.anomaly_events import acknowledge_event
    from rituals.anomaly_report import triage
    from rituals.kpis import TOO_FEW_CASES, scorecard

    home = _demo_copy(demo_truth_and_path, tmp_path, date(2026, 11, 27))
    add_channel(home.records, home.path, "search", receiver.url("/t/search"), now=home.clock.now())
    assert notify(home, ("anomalies",)).ok
    with home.records.session() as s:
        live = [c for c in s.exec(select(AnomalyCase)) if c.notified_at is not None]
    lead = max(live, key=lambda c: (c.impact, c.id))
    acknowledge_event(home.records, lead.id, now=min(c.notified_at for c in live) + timedelta(hours=2, minutes=30))
    with home.records.session() as s:
        stored = [s.get(AnomalyCase, c.id) for c in live]
    expected = (min(c.acknowledged_at for c in stored) - min(c.notified_at for c in stored)).total_seconds() / 3600
    numbers = triage(home, date(2026, 11, 1), date(2026, 11, 28))
    [event] = [e for e in numbers["by_event"] if e["id"] == lead.id]
    assert event["tta_hours"] == pytest.approx(expected, abs=0.01) and event["notified_at"] is not None
    for c in (c for c in numbers["anomalies"] if c["event"] == lead.id):
        one = next(x for x in stored if x.id == c["id"])
        assert c["tta_hours"] == pytest.approx((one.acknowledged_at - one.notified_at).total_seconds() / 3600, abs=0.01)
    assert numbers["kpis"]["tta"]["n"] == 1
    card = scorecard(home, "2026-Q4").as_json()
    [tta] = [k for k in card["kpis"] if k["key"] == "anomaly_tta_median_hours"]
    assert tta["value"] == pytest.approx(expected, abs=0.01)
    assert tta["stage"] is None and tta["stage_note"] == TOO_FEW_CASES and tta["cases"] == 1


def test_without_cost_data_the_overdue_actions_still_go_and_the_rest_says_why(home, receiver):
    from datetime import UTC, datetime

    from rituals.actions import create_action
    from rituals.people import add_person, add_team

    with home.records.write() as s:
        ana = add_person(s, "ana", "Ana Lopez", "engineering")
        team = add_team(s, "web", owner="ana")
        create_action(s, title="rotate the keys", owner_id=ana.id, now=datetime(2026, 11, 1, tzinfo=UTC),
                      team_id=team.id, due_date=date(2026, 11, 20))
    add_channel(home.records, home.path, "web", receiver.url("/t/web"), now=home.clock.now())
    report = notify(home)
    assert report.ok and set(report.skipped) == {"anomalies", "sweep", "preread"}
    assert all("no cost data" in why for why in report.skipped.values())
    [post] = receiver.posts
    assert post.path == "/t/web" and post.body["title"] == "1 overdue action for Ana Lopez"
    assert "#1 rotate the keys (due 2026-11-20, 7 days late, open)" in post.body["message"]


def test_messages_pass_user_text_through_the_sanitiser():
    from datetime import date as d

    from exports.notifications import render
    from exports.sanitize import has_controls
    from rituals.notices import Notice

    evil = "web\x1b]52;c;cm0gLXJmIH4=\x07\x1b[31m [prod]\r\n\x00x"
    notice = Notice("overdue", "k", evil, ["action:1@2026-11-20"], {
        "owner": "ana", "owner_name": evil, "team": evil, "today": d(2026, 11, 27),
        "actions": [{"id": 1, "title": evil, "due_date": d(2026, 11, 20), "days_overdue": 7, "status": "open"}]})
    title, body = render(notice)
    assert not has_controls(title) and not has_controls(body)
    assert "\x1b" not in title + body and "\r" not in title + body and "\x00" not in title + body
    assert "web [prod]" in title and "#1 web [prod]" in body  # the readable text (and the brackets) stay
