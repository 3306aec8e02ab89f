"""A deterministic FOCUS Parquet file with the shape of a real company's bill, and the records that go with it.

Shape (one row is one resource's charge on one day, over 90 days from 2026-08-01):
- resources bill every day; the ``rows / 90`` resource slots are spread over 150 services and 60 accounts, so
  every service x account pair that exists bills daily, except 10 "weekly" services (backups, support)
  whose resources bill on every 7th day only (their other days' rows go to daily services);
- thousands of distinct tag sets: team (40 teams, about 30% of resources untagged, the key spelled
  ``team`` / ``Team`` / `` team`` / ``TEAM``), environment (``environment`` or ``env``), cost centre,
  application (300 values) on 85% of resources;
- commitment columns: 40% of the compute services' (services 0-19) usage is covered by one of 5 Savings
  Plans (PricingCategory Committed, CommitmentDiscountStatus Used, EffectiveCost 72% of ListCost, BilledCost
  0), and each plan leaves an unused-commitment row every day;
- 2% of rows are Tax; teams in the records: ``team-00`` .. ``team-39`` each own one of the first 40 accounts;
- ``release_tags``: every tagged resource also carries its ``Name`` and a ``release`` tag that changes every
  14 days (deployments), so the distinct Tags values are about ``rows / 90 * 7 * 0.85`` (330k at 5M rows), as
  on a bill where resources carry their own names.
"""

from __future__ import annotations

from pathlib import Path

DAYS = 90
TEAMS = 40
ACCOUNTS = 60

GENERATE = """
COPY (
  WITH s AS (
    SELECT i, CAST(i % {days} AS INTEGER) AS day, CAST(i // {days} AS BIGINT) AS slot FROM range({rows}) t(i)
  ), r AS (
    SELECT i, day, slot, hash(slot) AS hs, hash(i) AS h,
           CASE WHEN slot % 150 >= 140 AND day % 7 <> 0 THEN slot % 140 ELSE slot % 150 END AS svc
    FROM s
  ), c AS (
    SELECT *, svc < 20 AND hs % 10 < 4 AS covered, slot % {accounts} AS acct,
           round(1 + (hs % 5000) / 100.0 * (0.8 + (h % 400) / 1000.0), 4) AS list_cost
    FROM r
  )
  SELECT
    TIMESTAMP '2026-08-01' + INTERVAL (day) DAY AS ChargePeriodStart,
    TIMESTAMP '2026-08-01' + INTERVAL (day + 1) DAY AS ChargePeriodEnd,
    date_trunc('month', TIMESTAMP '2026-08-01' + INTERVAL (day) DAY) AS BillingPeriodStart,
    date_trunc('month', TIMESTAMP '2026-08-01' + INTERVAL (day) DAY) + INTERVAL 1 MONTH AS BillingPeriodEnd,
    '999900000001' AS BillingAccountId,
    'USD' AS BillingCurrency,
    'AWS' AS ProviderName,
    CASE WHEN h % 50 = 0 THEN 'Tax' ELSE 'Usage' END AS ChargeCategory,
    'Usage-Based' AS ChargeFrequency,
    CASE WHEN covered THEN 'Committed' ELSE 'Standard' END AS PricingCategory,
    'service-' || CAST(svc AS VARCHAR) AS ServiceName,
    CASE WHEN svc < 20 THEN 'Compute' WHEN svc < 60 THEN 'Storage' ELSE 'Other' END AS ServiceCategory,
    lpad(CAST(100000000000 + acct AS VARCHAR), 12, '0') AS SubAccountId,
    'account-' || CAST(acct AS VARCHAR) AS SubAccountName,
    'us-east-' || CAST(slot % 4 AS VARCHAR) AS RegionId,
    'arn:aws:svc' || CAST(svc AS VARCHAR) || ':us-east-1:acct:res/r-' || lpad(CAST(slot AS VARCHAR), 9, '0')
      AS ResourceId,
    list_cost AS ListCost,
    round(list_cost * CASE WHEN covered THEN 0.72 ELSE 1 END, 4) AS EffectiveCost,
    CASE WHEN covered THEN 0 ELSE list_cost END AS BilledCost,
    CASE WHEN covered THEN 'arn:aws:savingsplans::999900000001:savingsplan/sp-' || CAST(hs % 5 AS VARCHAR) END
      AS CommitmentDiscountId,
    CASE WHEN covered THEN 'Compute Savings Plan' END AS CommitmentDiscountType,
    CASE WHEN covered THEN 'Spend' END AS CommitmentDiscountCategory,
    CASE WHEN covered THEN 'Used' END AS CommitmentDiscountStatus,
    CASE
      WHEN hs % 100 < 15 THEN NULL
      WHEN hs % 100 < 30 THEN '{{"' || (['environment', 'env'])[CAST(slot % 2 AS INTEGER) + 1] || '": "'
           || (['prod', 'dev', 'staging'])[CAST(slot % 3 AS INTEGER) + 1] || '", "app": "app-'
           || CAST(hs % 300 AS VARCHAR) || '"{release}}}'
      ELSE '{{"' || (['team', 'Team', ' team', 'TEAM'])[CAST(slot % 4 AS INTEGER) + 1] || '": "team-'
           || lpad(CAST(CASE WHEN acct < {teams} AND hs % 10 < 8 THEN acct ELSE hs % {teams} END AS VARCHAR), 2, '0')
           || '", "' || (['environment', 'env'])[CAST(slot % 2 AS INTEGER) + 1] || '": "'
           || (['prod', 'dev', 'staging'])[CAST(slot % 3 AS INTEGER) + 1] || '", "CostCenter": "cc'
           || CAST(hs % 12 AS VARCHAR) || '", "app": "app-' || CAST(hs % 300 AS VARCHAR) || '"{release}}}'
    END AS Tags,
    'Example Corp' AS BillingAccountName, CAST(NULL AS VARCHAR) AS ChargeClass,
    'service-' || CAST(svc AS VARCHAR) || ' usage' AS ChargeDescription, list_cost AS ContractedCost,
    'Amazon Web Services' AS InvoiceIssuerName, CAST(24 AS DOUBLE) AS PricingQuantity, 'Hours' AS PricingUnit,
    'Amazon Web Services' AS PublisherName
  FROM c
  UNION ALL
  SELECT  -- each Savings Plan's unused commitment, every day
    TIMESTAMP '2026-08-01' + INTERVAL (d) DAY, TIMESTAMP '2026-08-01' + INTERVAL (d + 1) DAY,
    date_trunc('month', TIMESTAMP '2026-08-01' + INTERVAL (d) DAY),
    date_trunc('month', TIMESTAMP '2026-08-01' + INTERVAL (d) DAY) + INTERVAL 1 MONTH,
    '999900000001', 'USD', 'AWS', 'Usage', 'Usage-Based', 'Committed', 'service-0', 'Compute', '100000000000',
    'account-0', 'us-east-0', NULL, 0, round(20 + p * 3.5, 4), 0,
    'arn:aws:savingsplans::999900000001:savingsplan/sp-' || CAST(p AS VARCHAR), 'Compute Savings Plan', 'Spend',
    'Unused', NULL, 'Example Corp', NULL, 'unused Savings Plan commitment', round(20 + p * 3.5, 4),
    'Amazon Web Services', 24, 'Hours', 'Amazon Web Services'
  FROM range({days}) d(d), range(5) p(p)
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
"""


RELEASE_TAGS = (", \"Name\": \"r-' || lpad(CAST(slot AS VARCHAR), 9, '0') || '\", \"release\": \"rel-' "
                "|| CAST(day // 14 AS VARCHAR) || '\"")


def generate(path: Path, rows: int, *, release_tags: bool = False) -> int:
    """Write the file (``rows`` resource-day rows plus 5 unused-commitment rows a day); the rows written.
    ``release_tags``: resources also carry their Name and a fortnightly release tag (see the module's doc)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(GENERATE.format(rows=rows, days=DAYS, accounts=ACCOUNTS, teams=TEAMS, path=path,
                                release=RELEASE_TAGS if release_tags else ""))
    n = int(con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0])
    con.close()
    return n


def team_accounts() -> dict[str, str]:
    """Account id -> owning team, as written into the records (the first 40 accounts)."""
    return {f"{100000000000 + a:012d}": f"team-{a:02d}" for a in range(TEAMS)}


def write_records(home: Path) -> None:
    """People and teams with their accounts, in the home's records (run inside the repository)."""
    from storage.home import Home
    from storage.records import Person, Team, TeamAccount

    h = Home(home)
    with h.records.write() as s:
        lead = Person(handle="lead", name="FinOps Lead", role="finops_lead")
        s.add(lead)
        s.add(Person(handle="fin", name="Finance", role="finance"))
        s.flush()
        for account, name in team_accounts().items():
            owner = Person(handle=name.replace("-", ""), name=f"Owner of {name}", role="engineering")
            s.add(owner)
            s.flush()
            team = Team(name=name, owner_id=owner.id)
            s.add(team)
            s.flush()
            s.add(TeamAccount(team_id=team.id, account_id=account, account_name=f"account-{int(account[-2:])}"))
    h.close()


def distinct_tag_sets(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    n = int(con.execute(f"SELECT count(DISTINCT Tags) FROM read_parquet('{path}')").fetchone()[0])
    con.close()
    return n
