"""FOCUS 1.0-1.3 billing files (AWS, Azure, Google Cloud, Oracle, SaaS exports) onto the cost store.

Headers match case-insensitively; the version is told by the columns each release added (1.1:
CapacityReservationId, CommitmentDiscountQuantity, ServiceSubcategory, SkuMeter, SkuPriceDetails; 1.2:
InvoiceId, PricingCurrency, BillingAccountType, SubAccountType; 1.3: ServiceProviderName, HostProviderName,
Allocated*). FOCUS 1.3's ServiceProviderName is read as ProviderName; every column the store has no
column for (x_ columns, other FOCUS columns such as ListUnitPrice or the 1.3 Allocated* columns, a
provider's own extras) is kept in x_Extras as text. Only ChargePeriodStart and one of EffectiveCost /
BilledCost are required; the summary lists the stored FOCUS columns a file did not have. FOCUS 0.5 and
1.0-preview files are refused (their AmortizedCost, ChargeType and "On-Demand" values would be read wrong),
as is a file that is not FOCUS, named when recognisable (storage.sources.shapes).
"""

from __future__ import annotations

from storage.loader import LoadError, LoadProblem
from storage.schema import FOCUS_COLUMNS
from storage.sources.files import Mapping
from storage.sources.raw_files import RawFile, lit, q
from storage.sources.shapes import FOCUS_INSTEAD, focus_before_1, missing_columns

# What FOCUS 0.5 and 1.0-preview called columns that 1.0 renamed or removed.
PRE_1_0_NAMES = {"amortizedcost", "chargetype", "chargesubcategory", "usagequantity", "usageunit", "region"}
KIND_OF_TYPE = {"DOUBLE": "num", "TIMESTAMP": "ts", "VARCHAR": "text"}
REQUIRED = "ChargePeriodStart"
COSTS = ("EffectiveCost", "BilledCost")
# Renamed in FOCUS 1.3 (the old name still wins when a file has both).
RENAMED = {"ServiceProviderName": "ProviderName"}
VERSION_MARKERS = [
    ("1.3", ("serviceprovidername", "hostprovidername", "allocatedmethodid", "allocatedresourceid",
             "allocatedtags", "allocatedmethoddetails", "allocatedresourcename")),
    ("1.2", ("invoiceid", "pricingcurrency", "billingaccounttype", "subaccounttype")),
    ("1.1", ("capacityreservationid", "commitmentdiscountquantity", "servicesubcategory", "skumeter",
             "skupricedetails")),
]


def version(columns: list[str]) -> str:
    names = {c.lower() for c in columns}
    for ver, markers in VERSION_MARKERS:
        if names.intersection(markers):
            return ver
    return "1.0"


def stored_columns() -> list[str]:
    """The FOCUS columns the store keeps as columns (x_Extras is built, not read)."""
    return [c for c in FOCUS_COLUMNS if c != "x_Extras"]


def mapping(raw: RawFile) -> Mapping:
    old = focus_before_1(raw.columns)
    if old:
        renamed = [c for c in raw.columns if c.lower() in PRE_1_0_NAMES]
        raise LoadError([LoadProblem(
            f"FOCUS {old} (columns {', '.join(renamed)}, renamed in FOCUS 1.0): the importer reads FOCUS 1.0-1.3;"
            f" create a FOCUS 1.0 or later export ({FOCUS_INSTEAD}) and import that", raw.name)])
    missing = [c for c in (REQUIRED,) if raw.find(c) is None]
    if not any(raw.find(c) for c in COSTS):
        missing.append(" or ".join(COSTS))
    if missing:
        raise LoadError([LoadProblem(missing_columns(raw.columns, "focus", missing), raw.name)])
    needs: dict[str, str] = {}
    exprs: dict[str, str] = {}
    for name in stored_columns():
        kind = "tags" if name == "Tags" else KIND_OF_TYPE[FOCUS_COLUMNS[name]]
        if raw.find(name) is not None:
            needs[name] = kind
            exprs[name] = f"t.{q(name)}"
    for new, old in RENAMED.items():
        if raw.find(new) is not None:
            needs[new] = "text"
            exprs[old] = f"coalesce(t.{q(old)}, t.{q(new)})" if old in exprs else f"t.{q(new)}"
            needs.setdefault(old, "text")
    known = {c.lower() for c in (*needs, "x_Extras")}
    extras = [c for c in raw.columns if c.lower() not in known]
    for name in extras:
        needs[name] = "text"
    if extras:
        pairs = ", ".join(f"{{'k': {lit(n)}, 'v': t.{q(n)}}}" for n in extras)
        kept = f"list_filter([{pairs}], lambda e: e.v IS NOT NULL)"
        exprs["x_Extras"] = (f"CASE WHEN len({kept}) = 0 THEN NULL "
                             f"ELSE CAST(to_json(map_from_entries({kept})) AS VARCHAR) END")
    absent = [c for c in stored_columns() if not c.startswith("x_") and c not in exprs]
    return Mapping(format=f"focus-{version(raw.columns)}", needs=needs, branches=[(exprs, None)],
                   absent=absent, ignored=[])
