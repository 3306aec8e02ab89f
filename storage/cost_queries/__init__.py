"""The cost store's named queries: the only way rituals read costs.

Each takes the store (``home.costs``) and plain parameters (dates, lists, an account -> team mapping, which
becomes a temporary table inside the query's own connection) and returns a small pandas frame, a few scalars
or None. Each opens one read-only connection for its unit of work (``CostStore.reader``), never a long-lived
one. The SQL is DuckDB's dialect, written once here, grouped by what it serves:

- ``allocation``: allocation coverage, the tag sweep's frames, the tag-fix checks;
- ``spend``: showback lines, spend per month x team x service, the AWS sync's forecast and budgets;
- ``anomalies``: daily spend series, root-cause rows, the AWS sync's anomalies, account names, first load;
- ``commitments``: usage against commitments, the stored terms, AWS's own figures;
- ``contracts``: negotiated contracts (FOCUS Contract Commitment dataset) and what was applied to them;
- ``waste``: the waste ratio's rules over billing data;
- ``containers``: shared Kubernetes / ECS clusters from CUR 2.0 split cost allocation data (the ``_items``
  view allocation reads, each cluster's coverage and its nodes' idle capacity);
- ``optimization``: the inbox's own rules over line items, per resource and usage type;
- ``periods``: the billing periods held (per account and provider, with their import), and removing one;
- ``explorer``: spend grouped by any dimensions, filtered, over a window and the one before it.

``base`` holds what they share (allocation as SQL, the AWS-sync-only fallback, the rules table).
"""

from storage.cost_queries.allocation import (
    FixCosts,
    FixEntity,
    SweepData,
    allocation_costs,
    allocation_costs_of,
    fix_costs,
    sweep_data,
)
from storage.cost_queries.anomalies import (
    ROOT_CAUSE_DIMENSIONS,
    account_names,
    anomaly_series,
    aws_anomaly_rows,
    first_import_at,
    root_cause_contributions,
)
from storage.cost_queries.base import AWS_TAG_COSTS, LINE_ITEMS
from storage.cost_queries.commitments import (
    aws_commitment_usage,
    aws_recommendations,
    commitment_inventory,
    commitment_usage,
    commitment_usage_rows,
    replace_commitment_inventory,
)
from storage.cost_queries.containers import cluster_costs, idle_node_costs
from storage.cost_queries.contracts import contract_applied, contract_terms
from storage.cost_queries.explorer import NO_VALUE, explorer_costs
from storage.cost_queries.optimization import (
    has_resource_rows,
    latest_usage_day,
    optimization_purchases,
    optimization_rows,
    resource_cost,
    resource_tag_values,
    resource_usage,
)
from storage.cost_queries.periods import NothingToRemove, PeriodKey, billing_periods, remove_period
from storage.cost_queries.spend import (
    ShowbackLine,
    aws_budgets,
    aws_forecast,
    billed_by_billing_period,
    showback_costs,
    team_service_months,
)
from storage.cost_queries.waste import idle_address_costs, idle_load_balancer_costs, weekend_running_costs

__all__ = [
    "AWS_TAG_COSTS", "LINE_ITEMS", "NO_VALUE", "ROOT_CAUSE_DIMENSIONS", "FixCosts", "FixEntity", "NothingToRemove", "PeriodKey",
    "ShowbackLine", "SweepData", "account_names", "allocation_costs", "allocation_costs_of", "anomaly_series", "aws_anomaly_rows", "aws_budgets",
    "aws_commitment_usage", "aws_forecast", "cluster_costs", "aws_recommendations", "billed_by_billing_period", "billing_periods", "commitment_inventory",
    "commitment_usage", "commitment_usage_rows", "contract_applied", "contract_terms", "explorer_costs", "first_import_at", "fix_costs", "idle_address_costs", "idle_node_costs", "idle_load_balancer_costs",
    "remove_period", "replace_commitment_inventory", "root_cause_contributions", "showback_costs", "sweep_data",
    "team_service_months",
    "weekend_running_costs",
    "has_resource_rows", "latest_usage_day", "optimization_purchases", "resource_cost", "optimization_rows", "resource_tag_values", "resource_usage",
]
