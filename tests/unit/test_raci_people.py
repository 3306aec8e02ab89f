"""The RACI rules (exactly one A, warnings for no R), the seeded table, role resolution, people and teams,
and who is acting."""

from __future__ import annotations

import pytest

from rituals import raci
from rituals.people import (
    UnknownPerson,
    add_account,
    add_person,
    add_team,
    edit_person,
    list_people,
    list_teams,
    resolve_actor,
    retire_person,
    team_for_account,
)
from rituals.raci import RaciError, check_raci, check_row, ensure_raci, load_raci, save_raci_row

pytestmark = pytest.mark.records_engines  # SQLite and PostgreSQL: tests/records_engines.py


@pytest.fixture
def records(home):
    store = home.records
    ensure_raci(store)
    return store


@pytest.fixture
def company(records):
    with records.write() as s:
        add_person(s, "ana", "Ana Lopez", "FinOps lead")
        add_person(s, "bea", "Bea Chen", "finance", email="bchen@example.com")
        add_person(s, "bob", "Bob Late", "finance")
        add_person(s, "carl", "Carl [dev]", "engineering")
        add_person(s, "dina", "Dina Ops", "engineering")
        add_person(s, "lee", "Lee Boss", "leadership")
        add_team(s, "web", owner="carl")
        add_team(s, "data", owner="dina")
        add_account(s, "web", "111111111111", account_name="web-prod")
    return records


@pytest.mark.parametrize(("letters", "errors"), [
    ({"finance": "R", "finops_lead": "C"}, 1),  # zero A
    ({"finance": "AR", "finops_lead": "C"}, 0),  # one A
    ({"finance": "AR", "finops_lead": "A"}, 1),  # two A
])
def test_exactly_one_accountable(letters, errors) -> None:
    verdict = check_row("Budgets", {k: raci.parse_letters(v) for k, v in letters.items()})
    assert len(verdict.errors) == errors
    if errors:
        assert "'Budgets'" in verdict.errors[0]


def test_a_row_without_r_is_warned_not_refused(records) -> None:
    with records.write() as s:
        warnings = save_raci_row(s, raci.FORECAST, {"finance": ["A"], "finops_lead": ["C"]})
    assert warnings and "no R" in warnings[0] and raci.FORECAST in warnings[0]
    with records.session() as s:
        row = next(r for r in load_raci(s) if r.activity == raci.FORECAST)
    assert row.letters == {"finance": ("A",), "finops_lead": ("C",)}


@pytest.mark.parametrize("letters", [{"finance": ["R"]}, {"finance": ["A", "R"], "leadership": ["A"]}])
def test_saving_zero_or_two_a_is_refused_naming_the_row(records, letters) -> None:
    with pytest.raises(RaciError, match="Budgets and guardrails"), records.write() as s:
        save_raci_row(s, raci.BUDGETS, letters)
    with records.session() as s:  # nothing changed
        row = next(r for r in load_raci(s) if r.activity == raci.BUDGETS)
    assert row.letters["finance"] == ("R", "A") and "leadership" in row.letters


def test_the_seeded_table_is_the_default_and_passes_the_check(records) -> None:
    assert ensure_raci(records) == 0  # seeded once only
    with records.session() as s:
        rows = load_raci(s)
    assert [r.activity for r in rows] == [r.activity for r in raci.default_raci()]
    assert len(rows) == 10
    verdict = check_raci(rows)
    assert verdict.ok and verdict.warnings == []
    tagging = rows[0]
    assert tagging.letters["finops_lead"] == ("R", "A") and tagging.notes["engineering"] == "apply tags"


def test_role_resolution(company) -> None:
    with company.session() as s:
        r = raci.Raci(s)
        # engineering resolves to the owning team's owner
        assert r.owner_for(raci.ANOMALIES, team="web").handle == "carl"
        assert r.owner_for(raci.ANOMALIES, team="DATA").handle == "dina"
        # without a team, the R who is also A
        assert r.owner_for(raci.ANOMALIES).handle == "ana"
        assert r.accountable_for(raci.ANOMALIES).handle == "ana"
        # finance names one person: the first added of two
        assert r.accountable_for(raci.COMMITMENTS).handle == "bea"
        assert r.owner_for(raci.COMMITMENTS).handle == "bea"
        assert r.accountable_for(raci.TRADE_OFFS).handle == "lee"
        assert r.accountable_for(raci.RIGHTSIZING, team="web").handle == "carl"
        with pytest.raises(RaciError, match="name the team"):
            r.accountable_for(raci.RIGHTSIZING)
        with pytest.raises(RaciError, match="no RACI activity"):
            r.owner_for("Juggling")
        assert raci.owner_for(s, raci.TAGGING, team="web").handle == "carl"
    with company.write() as s:
        retire_person(s, "bea")
    with company.session() as s:
        assert raci.accountable_for(s, raci.BUDGETS).handle == "bob"


def test_people_teams_and_accounts(company) -> None:
    with company.session() as s:
        people = {p.handle: p for p in list_people(s)}
        teams = {t.name: t for t in list_teams(s)}
        assert people["carl"].owns == ("web",) and people["carl"].teams == ("web",)
        assert teams["web"].accounts == (("111111111111", "web-prod"),)
        assert team_for_account(s, "111111111111").name == "web"
        assert team_for_account(s, "999") is None
    with pytest.raises(ValueError, match="already exists"), company.write() as s:
        add_person(s, "ANA", "Another Ana", "finance")
    with pytest.raises(ValueError, match="role must be one of"), company.write() as s:
        add_person(s, "zed", "Zed", "accounting")
    with pytest.raises(ValueError, match="owned by team web"), company.write() as s:
        add_account(s, "data", "111111111111")
    with company.write() as s:
        add_account(s, "data", "111111111111", move=True)
        edit_person(s, "bea", join=["data"])
        done = retire_person(s, "carl")
    assert any("team web" in w for w in done.warnings)
    with company.session() as s:
        assert team_for_account(s, "111111111111").name == "data"
        assert [p.handle for p in list_people(s)] == ["ana", "bea", "bob", "dina", "lee"]
        assert "bea" in {t.name: t for t in list_teams(s)}["data"].members


def test_who_is_acting(company) -> None:
    with company.session() as s:
        assert resolve_actor(s, "Bea", env={"FINOPS_TUI_USER": "carl"}).handle == "bea"
        assert resolve_actor(s, None, env={"FINOPS_TUI_USER": "carl"}).handle == "carl"
        assert resolve_actor(s, None, env={}, os_user="dina").handle == "dina"
        assert resolve_actor(s, None, env={}, os_user="bchen").handle == "bea"  # e-mail local part
        with pytest.raises(UnknownPerson, match="unknown person 'mallory'"):
            resolve_actor(s, None, env={}, os_user="mallory")
        with pytest.raises(UnknownPerson, match="FINOPS_TUI_USER"):
            resolve_actor(s, None, env={"FINOPS_TUI_USER": "ghost"})
    with company.write() as s:
        retire_person(s, "dina")
    with company.session() as s, pytest.raises(UnknownPerson, match="retired"):
        resolve_actor(s, "dina", env={})


def test_owners_of_many_teams_read_the_teams_and_people_once(company) -> None:
    """A sweep asks the RACI for the owner of every team: after the first, each answer comes from the teams
    and people one RACI read, with no statement per team, and an unknown team is still an error."""
    from sqlalchemy import event

    with company.write() as s:
        for i in range(12):
            add_team(s, f"team-{i:02d}", owner="carl" if i % 2 else "dina")
    with company.session() as s:
        r = raci.Raci(s)
        assert r.owner_for(raci.TAGGING, team="web").handle == "carl"
        statements: list[str] = []
        engine = s.get_bind()
        listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(engine, "before_cursor_execute", listen)
        try:
            owners = [r.owner_for(raci.TAGGING, team=f"Team-{i:02d}").handle for i in range(12)]
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        assert owners == ["dina", "carl"] * 6
        assert statements == []
        with pytest.raises(RaciError, match="no team 'nobody'"):
            r.owner_for(raci.TAGGING, team="nobody")
