"""The legacy AWS Cost and Usage Report, in both its deliveries, mapped onto FOCUS as CUR 2.0 is (cur.py).

- ``cur-legacy``: CSV/CSV.gz with slash names (``lineItem/UnblendedCost``, ``resourceTags/user:team``);
- ``cur-legacy-athena``: the Athena delivery (Parquet, or CSV), with the snake_case names AWS derives from
  the slash names (``line_item_unblended_cost``, ``resource_tags_user_team``).

Both are read through the snake_case names of storage.sources.cur_columns: a column of the file whose
mechanically derived snake_case name is one the mapping needs (or, failing that, one spelled alike but for
case) stands in for it, keeping its own name in messages, so the expressions are CUR 2.0's: BilledCost is the unblended cost; EffectiveCost the Savings
Plan and reservation effective cost on covered usage (SavingsPlanCoveredUsage, DiscountedUsage), 0 on
negation rows and commitment fees, whose unused part becomes an Unused row; the commitment columns and terms
(into commitment_inventory, source ``cur-legacy``) as in cur.py. What differs from CUR 2.0:

- Tags: every ``resourceTags/user:KEY`` and ``resourceTags/aws:KEY`` column (``resource_tags_user_KEY``,
  ``resource_tags_aws_KEY``), as one JSON object of the values present; ``user:`` is dropped, ``aws:``
  kept; the taxonomy folds them as for any Tags. The slash delivery keeps each key's own spelling;
  the snake_case one only has AWS's lower-cased form (``aws:created_by``).
- x_CostCategories: every ``costCategory/NAME`` (``cost_category_NAME``) column, as CUR 2.0's map is.
- ServiceName: ``product/ProductName``, else ``product/servicename``, else ``lineItem/ProductCode``;
  RegionId: ``product/regionCode``, else ``product/region``.
- No account names (a CUR 2.0 addition).
Columns such as koku's ``noTags/user:*`` are not tags; they are listed as not used.
"""

from __future__ import annotations

import json

from storage.loader import LoadError, LoadProblem
from storage.sources import cur
from storage.sources.cur_columns import COLUMNS, LEGACY_ONLY, REQUIRED, cost_category, snake, squash, tag_key
from storage.sources.files import Mapping
from storage.sources.raw_files import RawFile, lit, q
from storage.sources.shapes import missing_columns

# snake_case name -> (the legacy spelling, kind): what the mapping reads.
WANTED: dict[str, tuple[str, str]] = {snake(name): (name, kind) for name, kind in {**COLUMNS, **LEGACY_ONLY}.items()}
SOURCE = "cur-legacy"


def json_object(pairs: list[tuple[str, str]]) -> str | None:
    """SQL building a JSON object text of (key, typed column) pairs from the values present, NULL when none
    is (concatenation rather than a map: one string per row, the cheapest form the tag fold reads); None
    without pairs (the column is then left out)."""
    if not pairs:
        return None
    # Written as DuckDB's to_json writes CUR 2.0's maps, so one set of tags is one Tags text in both.
    parts = ", ".join(f"CASE WHEN t.{q(col)} IS NOT NULL THEN {lit(json.dumps(key, ensure_ascii=False) + ':')} || "
                      f"CAST(to_json(t.{q(col)}) AS VARCHAR) END" for key, col in pairs)
    return f"NULLIF('{{' || concat_ws(',', {parts}) || '}}', '{{}}')"


def _aliases(raw: RawFile) -> dict[str, str]:
    """The file's column standing in for each wanted snake_case name: the column whose name derives it, or
    else one spelled alike but for case and separators (the first, if two do)."""
    by_squash = {squash(name): name for name in WANTED}
    out: dict[str, str] = {}
    for col in raw.columns:
        name = snake(raw.label(col))
        if name in WANTED and name not in out:
            out[name] = col
    for col in raw.columns:
        name = by_squash.get(squash(raw.label(col)), "")
        if name and name not in out and col not in out.values():
            out[name] = col
    return out


def mapping(raw: RawFile, fmt: str = "cur-legacy") -> Mapping:
    aliases = _aliases(raw)
    slash = fmt == "cur-legacy"

    def shown(name: str) -> str:  # how the summary names a wanted column: the file's own style
        return WANTED[name][0] if slash else name

    missing = [shown(snake(c)) for c in REQUIRED if snake(c) not in aliases]
    if missing:
        raise LoadError([LoadProblem(missing_columns(raw.columns, fmt, missing), raw.name)])
    tags = [(key, col) for col in raw.columns if (key := tag_key(raw.label(col))) is not None]
    categories = [(name, col) for col in raw.columns if (name := cost_category(raw.label(col))) is not None]
    needs = {name: kind for name, (_spelling, kind) in WANTED.items()}
    needs.update({col: "text" for _key, col in (*tags, *categories)})
    common: dict[str, str | None] = {
        "ServiceName": "coalesce(t.product_product_name, t.product_servicename, t.line_item_product_code)",
        "RegionId": "coalesce(t.product_region_code, t.product_region)",
        "Tags": json_object(tags),
        "x_CostCategories": json_object(categories),
        "BillingAccountName": None,
        "SubAccountName": None,
    }
    used = set(aliases.values()) | {col for _key, col in (*tags, *categories)}
    ignored = [raw.label(c) for c in raw.columns if c not in used]
    absent = [shown(name) for name in cur.quiet_split([n for n in WANTED if n not in aliases], list(aliases))]
    has_terms = "savings_plan_start_time" in aliases or "reservation_start_time" in aliases
    return Mapping(format=fmt, needs=needs, branches=cur.branches(common), absent=absent, ignored=ignored,
                   commitments_sql=cur.commitments_sql(SOURCE) if has_terms else None, aliases=aliases,
                   pods_sql=cur.pods_sql() if "split_line_item_parent_resource_id" in aliases else None)
