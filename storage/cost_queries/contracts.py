"""Named queries of negotiated contracts (the FOCUS 1.3 Contract Commitment dataset): their terms and what
the line items' ContractApplied says was applied to each, per billing period.

Kept apart from Savings Plans and reservations (``commitments``): a contract commitment is a spend or usage
promise to a provider, never part of commitment coverage. Stores written before FOCUS 1.3 support have no
``contract_commitments`` table and no ContractApplied column; both read as empty.
"""

from __future__ import annotations

from typing import Any

from storage.cost_queries.base import fetch_dicts, has_table, table_columns
from storage.costs import CostStore
from storage.schema import CONTRACTS_TABLE


def _has_column(con: object, table: str, column: str) -> bool:
    return column in table_columns(con, table)  # type: ignore[arg-type]


def contract_terms(store: CostStore) -> list[dict[str, Any]]:
    """Every stored contract commitment (a dict of storage.schema.CONTRACT_COLUMNS each), by period end then id."""
    with store.reader() as con:
        if con is None or not has_table(con, CONTRACTS_TABLE):
            return []
        return fetch_dicts(con, f"SELECT * FROM {CONTRACTS_TABLE} ORDER BY period_end, contract_commitment_id")


def contract_applied(store: CostStore) -> list[dict[str, Any]]:
    """What line items applied to each contract commitment, per billing period (the invoice's month): dicts
    of contract_commitment_id, period (date), applied_cost, applied_quantity, rows."""
    with store.reader() as con:
        if con is None or not _has_column(con, "line_items", "ContractApplied"):
            return []
        return fetch_dicts(con, 
            "SELECT e->>'ContractCommitmentId' AS contract_commitment_id, CAST(period AS DATE) AS period, "
            "sum(TRY_CAST(e->>'ContractCommitmentAppliedCost' AS DOUBLE)) AS applied_cost, "
            "sum(TRY_CAST(e->>'ContractCommitmentAppliedQuantity' AS DOUBLE)) AS applied_quantity, "
            "count(*) AS rows FROM (SELECT unnest(CAST(json_extract(ContractApplied, '$.Elements') AS JSON[])) AS e, "
            "date_trunc('month', BillingPeriodStart) AS period FROM line_items "
            "WHERE ContractApplied IS NOT NULL AND json_valid(ContractApplied)) "
            "GROUP BY 1, 2 ORDER BY 1, 2")
