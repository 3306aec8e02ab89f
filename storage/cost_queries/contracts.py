"""Named queries of negotiated contracts (the FOCUS 1.3 Contract Commitment dataset): their terms and what
the line items' ContractApplied says was applied to each, per billing period.

Kept apart from Savings Plans and reservations (``commitments``): a contract commitment is a spend or usage
promise to a provider, never part of commitment coverage. Stores written before FOCUS 1.3 support have no
``contract_commitments`` table and no ContractApplied column; both read as empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.cost_queries.base import has_table, table_columns
from storage.costs import CostStore
from storage.schema import CONTRACT_COLUMNS, CONTRACTS_TABLE

if TYPE_CHECKING:
    import pandas as pd

APPLIED_COLUMNS = ["contract_commitment_id", "period", "applied_cost", "applied_quantity", "rows"]


def _has_column(con: object, table: str, column: str) -> bool:
    return column in table_columns(con, table)  # type: ignore[arg-type]


def contract_terms(store: CostStore) -> pd.DataFrame:
    """Every stored contract commitment (storage.schema.CONTRACT_COLUMNS), by period end then id."""
    import pandas as pd

    with store.reader() as con:
        if con is None or not has_table(con, CONTRACTS_TABLE):
            return pd.DataFrame(columns=list(CONTRACT_COLUMNS))
        return con.execute(f"SELECT * FROM {CONTRACTS_TABLE} ORDER BY period_end, contract_commitment_id").df()


def contract_applied(store: CostStore) -> pd.DataFrame:
    """What line items applied to each contract commitment, per billing period (the invoice's month):
    columns contract_commitment_id, period (date), applied_cost, applied_quantity, rows."""
    import pandas as pd

    with store.reader() as con:
        if con is None or not _has_column(con, "line_items", "ContractApplied"):
            return pd.DataFrame(columns=APPLIED_COLUMNS)
        return con.execute(
            "SELECT e->>'ContractCommitmentId' AS contract_commitment_id, CAST(period AS DATE) AS period, "
            "sum(TRY_CAST(e->>'ContractCommitmentAppliedCost' AS DOUBLE)) AS applied_cost, "
            "sum(TRY_CAST(e->>'ContractCommitmentAppliedQuantity' AS DOUBLE)) AS applied_quantity, "
            "count(*) AS rows FROM (SELECT unnest(CAST(json_extract(ContractApplied, '$.Elements') AS JSON[])) AS e, "
            "date_trunc('month', BillingPeriodStart) AS period FROM line_items "
            "WHERE ContractApplied IS NOT NULL AND json_valid(ContractApplied)) "
            "GROUP BY 1, 2 ORDER BY 1, 2").df()
