"""Anomaly cases on the demo company: every injected anomaly becomes a case routed to its team, detecting
again never duplicates, triage stamps the times TTD/TTR are measured on (time-zone aware), actions go to
the RACI's owner, AWS anomalies are deduplicated against local ones and feedback is sent back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from rituals import anomaly_cases as ac
from rituals import anomaly_events as ev
from rituals.anomaly_report import kpis, report, triage
from storage.records import Action, AnomalyCase, Person, Team

BERLIN = ZoneInfo("Europe/Berlin")


# -- TTD / TTR arithmetic -------------------------------------------------------------------------------

def test_ttd_counts_from_midnight_utc_of_the_first_day_whatever_the_zone_of_the_timestamp():
    ack = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)  # 08:00 UTC
    assert ac.ttd_hours(date(2026, 11, 24), ack) == pytest.approx(32.0)
    assert ac.ttd_hours(date(2026, 11, 24), ack.astimezone(UTC)) == pytest.approx(32.0)
    assert ac.ttd_hours(date(2026, 11, 24), None) is None


def test_ttr_across_a_daylight_saving_change_is_real_elapsed_time():
    ack = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # UTC+1
    resolved = datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)  # UTC+2: 23 hours later
    assert ac.ttr_hours(ack, resolved) == pytest.approx(23.0)
    assert ac.ttr_hours(ack, None) is None


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        ac.ttd_hours(date(2026, 1, 1), datetime(2026, 1, 2, 3, 0))


def test_bands_follow_the_finops_model():
    assert [ac.band(h) for h in (None, 2.0, 24.0, 25.0, 168.0, 169.0)] == [None, "run", "run", "walk", "walk",
                                                                         "crawl"]


def test_historical_means_ended_before_the_first_load_with_a_grace_for_billing_lag():
    first = date(2026, 11, 27)
    assert ac.is_historical(date(2026, 11, 10), first)
    assert not ac.is_historical(date(2026, 11, 25), first)  # ended two days before: live when loaded
    assert not ac.is_historical(date(2026, 1, 1), None)


# -- cases on the demo company --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synced(tmp_path_factory, demo_truth_and_path):
    """One demo copy synced once for the read-only checks of this module."""
    import shutil

    from storage.clock import Clock
    from storage.home import Home
    from tests.conftest import FIXED_TODAY

    dst = tmp_path_factory.mktemp("anomaly-cases") / "demo"
    shutil.copytree(demo_truth_and_path[1], dst)
    home = Home(dst, clock_override=Clock(FIXED_TODAY))
    result = ac.sync_cases(home)
    yield home, result
    home.close()


def _cases(home) -> list[AnomalyCase]:
    with home.records.session() as s:
        return list(s.exec(select(AnomalyCase)))


def test_every_injected_anomaly_becomes_a_case_routed_to_its_team(synced, demo_truth):
    home, result = synced
    cases = _cases(home)
    assert len(result.new) == len(cases) > 0
    with home.records.session() as s:
        teams = {t.id: t for t in s.exec(select(Team))}
        people = {p.id: p for p in s.exec(select(Person))}
    for x in demo_truth.anomalies:
        case = next(c for c in cases if c.dimension == "service" and c.value == x.service and c.start == x.start)
        assert case.end == x.end
        assert case.impact == pytest.approx(x.extra_per_day * (x.end - x.start).days, rel=0.25)
        assert teams[case.owner_team_id].name == x.team
        # The RACI's R for anomaly response in an engineering team is the team's owner.
        assert case.assignee_id == teams[case.owner_team_id].owner_id
        assert people[case.assignee_id].active
        assert case.root_causes[0]["contribution"] > 0
        top_resource = next(r for r in case.root_causes if r["dimension"] == "resource")
        assert x.account_id in top_resource["value"]
        assert case.status == "new" and case.first_seen is not None
    # Anomalies that ended long before the data was loaded are historical; the live one is not.
    by_key = {x.key: x for x in demo_truth.anomalies}
    live = [c for c in cases if not c.historical]
    assert {c.start for c in live} == {by_key["reindex"].start}


def test_detecting_again_never_duplicates_a_case(synced):
    home, first = synced
    again = ac.sync_cases(home)
    assert again.new == [] and again.updated == len(first.new)
    assert len(_cases(home)) == len(first.new)


def test_the_report_lists_the_window_and_check_counts_untriaged(synced):
    home, _ = synced
    with home.records.session() as s:
        numbers = report(s, date(2026, 11, 20), date(2026, 11, 27), "USD")
    assert numbers["count"] == 3 and numbers["untriaged"] == 3
    first = numbers["anomalies"][0]
    for key in ("id", "start", "end", "dimension", "value", "expected_cost", "actual_cost", "impact", "impact_pct",
                "status", "owner_team", "root_causes", "historical"):
        assert key in first
    assert first["owner_team"] == "search"
    assert [a["impact"] for a in numbers["anomalies"]] == sorted((a["impact"] for a in numbers["anomalies"]),
                                                                 reverse=True)


def test_triage_stamps_times_and_kpis_measure_them(demo_home, demo_truth):
    ac.sync_cases(demo_home)
    reindex = next(x for x in demo_truth.anomalies if x.key == "reindex")
    cid = next(c.id for c in _cases(demo_home) if c.dimension == "service" and c.start == reindex.start)
    ack_at = datetime(2026, 11, 25, 10, 30, tzinfo=BERLIN)
    case = ac.acknowledge(demo_home.records, cid, now=ack_at)
    assert case.status == "acknowledged" and case.acknowledged_at == ack_at
    with pytest.raises(ValueError, match="already acknowledged"):
        ac.acknowledge(demo_home.records, cid, now=ack_at)
    ac.set_status(demo_home.records, cid, "investigating", now=ack_at + timedelta(hours=1), category="new_workload")
    ac.set_status(demo_home.records, cid, "resolved", now=ack_at + timedelta(hours=5), note="scaled the cluster down")
    with pytest.raises(ValueError, match="cannot go back"):
        ac.set_status(demo_home.records, cid, "new", now=ack_at)
    with pytest.raises(ac.StaleCase):
        ac.set_status(demo_home.records, cid, "investigating", now=ack_at, if_version=1)
    stored = next(c for c in _cases(demo_home) if c.id == cid)
    assert stored.acknowledged_at == ack_at and stored.resolved_at == ack_at + timedelta(hours=5)
    assert stored.category == "new_workload" and stored.notes[0]["text"] == "scaled the cluster down"
    assert [h["field"] for h in stored.history] == ["detected", "status", "status", "category", "status"]
    numbers = kpis(_cases(demo_home))
    assert numbers["ttd"]["n"] == 1
    assert numbers["ttd"]["median_hours"] == pytest.approx(24 + 9.5)  # 2026-11-24 00:00 UTC -> 11-25 09:30 UTC
    assert numbers["ttd"]["median_band"] == "walk"
    assert numbers["ttr"]["median_hours"] == pytest.approx(5.0) and numbers["ttr"]["p90_band"] == "run"
    # A false positive: acknowledged and closed at once, counted in the false-positive share.
    other = next(c.id for c in _cases(demo_home) if c.status == "new" and c.historical)
    ac.set_status(demo_home.records, other, "false_positive", now=ack_at)
    numbers = kpis(_cases(demo_home))
    assert numbers["false_positive_pct"] == pytest.approx(50.0)
    assert numbers["ttd"]["n"] == 1  # the historical one stays out of TTD
    # Reopening clears resolved_at.
    ac.set_status(demo_home.records, cid, "investigating", now=ack_at + timedelta(hours=6))
    assert next(c for c in _cases(demo_home) if c.id == cid).resolved_at is None


def test_actions_and_reassignment_follow_the_raci(demo_home):
    ac.sync_cases(demo_home)
    case = next(c for c in _cases(demo_home) if c.dimension == "account" and not c.historical)
    now = demo_home.clock.now()
    action = ac.create_case_action(demo_home.records, case.id, now=now, due_date=date(2026, 12, 4))
    with demo_home.records.session() as s:
        stored = s.get(Action, action.id)
        team = s.get(Team, case.owner_team_id)
        assert stored.owner_id == team.owner_id and stored.kind == "anomaly_fix"
        assert (stored.entity_kind, stored.entity_key) == ("anomaly_case", case.id)
        other = next(t for t in s.exec(select(Team)) if t.id != team.id and t.owner_id is not None)
    moved = ac.assign(demo_home.records, case.id, other.name, now=now)
    assert moved.owner_team_id == other.id and moved.assignee_id == other.owner_id
    noted = ac.add_note(demo_home.records, case.id, "[red]not markup[/red]", now=now)
    assert noted.notes[-1]["text"] == "[red]not markup[/red]"
    assert [h["field"] for h in noted.history][-3:] == ["action", "owner_team", "note"]
    with pytest.raises(ac.CaseNotFound):
        ac.add_note(demo_home.records, "an-nope", "x", now=now)


def _aws_table(home, rows) -> None:
    import json

    from storage.sources.aws_tables import create_tables

    with home.costs.writer() as con:
        create_tables(con)
        for r in rows:
            con.execute("INSERT INTO aws_anomalies VALUES (?, ?, ?, 'arn:monitor', ?, ?, ?, ?, ?, ?, 80, 70, NULL, ?)",
                        [r["id"], r["start"], r["end"], r["value"], r["impact"], r["impact"], r["actual"],
                         r["actual"] - r["impact"], 50.0, json.dumps(r.get("causes", []))])


def test_aws_anomalies_are_deduplicated_and_get_feedback(demo_home, demo_truth):
    reindex = next(x for x in demo_truth.anomalies if x.key == "reindex")
    _aws_table(demo_home, [
        {"id": "aws-dup", "start": reindex.start + timedelta(days=1), "end": None,
         "value": "Amazon OpenSearch Service", "impact": 1100.0, "actual": 3000.0},
        {"id": "aws-own", "start": date(2026, 11, 2), "end": date(2026, 11, 3), "value": "111100000003",
         "impact": 400.0, "actual": 900.0,
         "causes": [{"Service": "Amazon GuardDuty", "LinkedAccount": "111100000003", "Region": "us-east-1",
                     "Impact": {"Contribution": 400.0}}]},
    ])
    numbers = triage(demo_home, date(2026, 10, 28), date(2026, 11, 27))
    aws_ids = {a["aws_anomaly_id"]: a for a in numbers["anomalies"] if a["aws_anomaly_id"]}
    assert sorted(a["aws_anomaly_id"] for a in numbers["anomalies"] if a["aws_anomaly_id"]) == ["aws-dup", "aws-own"]
    assert aws_ids["aws-dup"]["source"] == "local" and aws_ids["aws-dup"]["dimension"] == "service"
    own = aws_ids["aws-own"]
    assert own["source"] == "aws" and own["dimension"] == "account" and own["end"] == date(2026, 11, 4)
    assert own["owner_team"] == "platform"  # the account's team
    assert own["root_causes"][0]["contribution"] == 400.0
    # Detecting again keeps one case per AWS anomaly.
    again = triage(demo_home, date(2026, 10, 28), date(2026, 11, 27))
    assert again["new_cases"] == [] and again["count"] == numbers["count"]

    import boto3
    from botocore.stub import Stubber

    from storage.sources.aws_client import AwsClients, RequestLedger

    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("provide_anomaly_feedback", {"AnomalyId": "aws-own"},
                      {"AnomalyId": "aws-own", "Feedback": "NO"})
    stub.activate()
    clients = AwsClients(ledger=RequestLedger())
    clients.use("ce", client)
    with pytest.raises(ValueError, match="still new"):
        ac.send_feedback(demo_home, own["id"], clients=clients)
    ac.set_status(demo_home.records, own["id"], "false_positive", now=demo_home.clock.now())
    assert ac.send_feedback(demo_home, own["id"], clients=clients) == "NO"
    stub.assert_no_pending_responses()
    with demo_home.costs.reader() as con:
        assert con.execute("SELECT feedback FROM aws_anomalies WHERE anomaly_id = 'aws-own'").fetchone()[0] == "NO"
    with pytest.raises(ValueError, match="not an AWS anomaly"):
        local = next(c.id for c in _cases(demo_home) if not c.aws_anomaly_id)
        ac.send_feedback(demo_home, local, clients=clients)


def test_the_cases_of_one_spike_form_one_event(synced, demo_truth):
    home, _ = synced
    cases = _cases(home)
    events = ev.event_groups(cases)
    # Each injected anomaly's service, account and team cases (and the total's, where it alarmed) are one event.
    for x in demo_truth.anomalies:
        service = next(c for c in cases if c.dimension == "service" and c.value == x.service and c.start == x.start)
        group = {c.id: c for c in cases if c.id in events[service.id]}
        assert {c.dimension for c in group.values()} >= {"service", "account", "team"}
        assert {c.value for c in group.values() if c.dimension == "team"} == {x.team}
        lead = group[events[service.id][0]]
        assert lead.impact == max(c.impact for c in group.values())
        assert all(events[c] == events[service.id] for c in group)
    # Different spikes never share an event.
    leads = {events[next(c.id for c in cases if c.dimension == "service" and c.value == x.service
                         and c.start == x.start)][0] for x in demo_truth.anomalies}
    assert len(leads) == len(demo_truth.anomalies)
    with home.records.session() as s:
        numbers = report(s, date(2026, 11, 20), date(2026, 11, 27), "USD")
    assert numbers["count"] == 3 and numbers["events"] == 1 and numbers["untriaged_events"] == 1
    assert {a["event"] for a in numbers["anomalies"]} == {numbers["anomalies"][0]["id"]}
    assert all(len(a["related"]) == 2 for a in numbers["anomalies"])


def test_an_event_link_needs_overlap_and_a_cause_carrying_most_of_the_excess():
    from types import SimpleNamespace as Case

    def case(cid, dim, value, start, days, impact, causes=()):
        return Case(id=cid, dimension=dim, value=value, start=date(2026, 11, start),
                    end=date(2026, 11, start + days), impact=impact,
                    root_causes=[{"dimension": d, "value": v, "share_pct": p} for d, v, p in causes])

    svc = case("s", "service", "EC2", 10, 3, 900.0, [("account", "111", 95.0)])
    acct = case("a", "account", "111", 11, 2, 950.0, [("service", "EC2", 97.0)])
    minor = case("m", "service", "S3", 10, 3, 150.0, [("account", "111", 60.0)])  # S3 is a small cause of "a"
    later = case("l", "account", "111", 13, 2, 500.0, [("service", "EC2", 99.0)])  # starts when "s" ended
    weak = case("w", "service", "RDS", 10, 3, 300.0, [("account", "222", 40.0)])
    events = ev.event_groups([svc, acct, minor, later, weak])
    assert events["s"] == events["a"] == events["m"] == ["a", "s", "m"]
    assert events["l"] == ["l"] and events["w"] == ["w"]


def test_acknowledging_an_event_acknowledges_its_new_cases(demo_home):
    ac.sync_cases(demo_home)
    now = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    with demo_home.records.session() as s:
        numbers = report(s, date(2026, 11, 20), date(2026, 11, 27), "USD")
    first, *others = numbers["anomalies"]
    ac.acknowledge(demo_home.records, others[0]["id"], now=now)
    done = ev.acknowledge_event(demo_home.records, first["id"], now=now + timedelta(hours=1))
    assert sorted(done) == sorted([first["id"], others[1]["id"]])
    with demo_home.records.session() as s:
        stored = {c.id: c for c in s.exec(select(AnomalyCase)) if c.id in {a["id"] for a in numbers["anomalies"]}}
    assert {c.status for c in stored.values()} == {"acknowledged"}
    assert stored[others[0]["id"]].acknowledged_at < stored[first["id"]].acknowledged_at
    with pytest.raises(ValueError, match="no case of the event"):
        ev.acknowledge_event(demo_home.records, first["id"], now=now)


def _stored_case(cid: str, dim: str, value: str, impact: float, causes: list[tuple[str, str, float]],
                 start: date = date(2026, 11, 10), days: int = 3, **kw) -> AnomalyCase:
    return AnomalyCase(id=cid, dimension=dim, value=value, start=start, end=start + timedelta(days=days),
                       expected_cost=100.0, actual_cost=100.0 + impact, impact=impact, currency="USD",
                       root_causes=[{"dimension": d, "value": v, "share_pct": p, "contribution": impact}
                                    for d, v, p in causes], notes=[], history=[], **kw)


def test_an_event_seen_in_four_dimensions_has_one_impact(home):
    """One spike of about 1,000 a day in EC2 of account 111 (team data) shows in its service, account, team
    and total series: four cases, one event, impact 1,010 (the largest case), never 3,980 (their sum). A
    second spike in S3 of account 222 has no team case: it is routed to the team owning 222 (web)."""
    from rituals.anomaly_report import summary_text
    from rituals.monthly_review import anomalies_item
    from rituals.people import add_person, add_team
    from storage.records import TeamAccount

    with home.records.write() as s:
        add_person(s, "ana", "Ana", "finops_lead")
        web = add_team(s, "web", owner="ana")
        s.add(TeamAccount(account_id="222", team_id=web.id, account_name="web-prod"))
        s.add_all([
            _stored_case("svc", "service", "EC2", 1000.0, [("account", "111", 95.0)]),
            _stored_case("acct", "account", "111", 990.0, [("service", "EC2", 97.0)]),
            _stored_case("team", "team", "data", 980.0, [("account", "111", 96.0)]),
            _stored_case("tot", "total", "total", 1010.0, [("service", "EC2", 90.0)]),
            _stored_case("s3", "service", "S3", 200.0, [("account", "222", 80.0)], status="acknowledged",
                         acknowledged_at=datetime(2026, 11, 11, 6, tzinfo=UTC)),
        ])
    with home.records.session() as s:
        numbers = report(s, date(2026, 11, 1), date(2026, 12, 1), "USD")
    assert (numbers["events"], numbers["count"], numbers["impact"]) == (2, 5, 1010.0 + 200.0)
    assert (numbers["untriaged_events"], numbers["untriaged"]) == (1, 4)
    spike, s3 = numbers["by_event"]  # untriaged first
    assert (spike["id"], spike["impact"], spike["cases"]) == ("tot", 1010.0, ["tot", "svc", "acct", "team"])
    assert spike["owner_team"] == "data" and spike["dimensions"] == ["account", "service", "team", "total"]
    assert (s3["id"], s3["impact"], s3["owner_team"], s3["untriaged"]) == ("s3", 200.0, "web", False)
    assert {a["id"]: a["event"] for a in numbers["anomalies"]} == {
        "svc": "tot", "acct": "tot", "team": "tot", "tot": "tot", "s3": "s3"}
    # TTD over events: the S3 event was acknowledged 30 h after 00:00 UTC on its first day.
    assert numbers["kpis"]["ttd"]["n"] == 1 and numbers["kpis"]["ttd"]["median_hours"] == 30.0
    assert numbers["kpis"]["per_month"] == [{"month": "2026-11", "events": 2, "impact": 1210.0, "cases": 5}]
    assert summary_text({**numbers, "currency": "USD"}) == "2 events (5 cases), 1 untriaged; impact 1,210 USD"

    # The monthly agenda counts the same events and impact.
    item = anomalies_item(home, date(2026, 11, 1), date(2026, 12, 1), detect=False)
    assert (item["events"], item["impact"], item["untriaged_events"], item["count"]) == (2, 1210.0, 1, 5)
    from rituals.definitions.anomaly_triage import headlines

    shown = {h.key: h.value for h in headlines(numbers)}
    assert (shown["events"], shown["untriaged_events"], shown["impact"], shown["count"]) == (2, 1, 1210.0, 5)
