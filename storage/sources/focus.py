"""FOCUS 1.0-1.3 billing files (AWS, Azure, Google Cloud, Oracle, SaaS exports) onto the cost store.

Headers match case-insensitively. Read strictly:

- **Version**, from explicit signals only (``file_version``): an AWS Data Exports manifest beside the file
  (its FOCUS_1_x table), else a column only a later release has (1.3: ServiceProviderName, HostProviderName,
  Allocated*, ContractApplied; 1.2: InvoiceId, PricingCurrency, ...; 1.1: SkuMeter, ...). A file with none
  is "1.0" with that basis said; the absence of optional columns never lowers a version. FOCUS 0.5 and
  1.0-preview files (AmortizedCost, ChargeType, ...) are refused naming the version and the export to create.
- **Columns**: FOCUS 1.0's mandatory set is always enforced, a column FOCUS 1.3 renamed counting under
  either name (ProviderName / ServiceProviderName, PublisherName / HostProviderName). A file lacking one is
  refused, naming every column it lacks, unless the user says what to do about each: BillingAccountId and
  BillingCurrency are supplied (``--billing-account``, ``--currency``: every row needs a value); the
  descriptive ones (ACCEPTABLE: names, descriptions, ListCost, ContractedCost, pricing quantity and unit, ...)
  are accepted as missing one by one (``--accept-missing A,B``), which imports the file as *partial*, the
  accepted columns empty, and names them in the summary, ``--json`` and ``info``. The columns every figure
  rests on (costs, charge category, charge and billing periods) can be neither. The FOCUS specification's own
  example files lack up to 14 of the 21 (see tests/unit/test_focus_strict.py).
- **Values**: storage.sources.focus_values checks the enforced columns are non-null and periods end after
  they start, naming file, column, first bad row and how many rows are bad.

FOCUS 1.3's provider columns are mapped both ways with 1.0's; the Allocated* columns and ContractApplied are
kept as columns; every other column (x_ columns, FOCUS columns the store does not keep, provider extras) is
kept in x_Extras as text. The FOCUS 1.3 Contract Commitment dataset is read by ``contract_mapping``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from storage.loader import LoadError, LoadProblem
from storage.schema import FOCUS_COLUMNS
from storage.sources.files import Mapping
from storage.sources.focus_values import contract_checks, line_item_checks
from storage.sources.raw_files import RawFile, lit, q
from storage.sources.shapes import FOCUS_INSTEAD, focus_before_1, missing_columns

# What FOCUS 0.5 and 1.0-preview called columns that 1.0 renamed or removed.
PRE_1_0_NAMES = {"amortizedcost", "chargetype", "chargesubcategory", "usagequantity", "usageunit", "region"}
KIND_OF_TYPE = {"DOUBLE": "num", "TIMESTAMP": "ts", "VARCHAR": "text"}
JSON_COLUMNS = {"Tags": "tags", "AllocatedTags": "tags", "AllocatedMethodDetails": "map", "ContractApplied": "map"}
# FOCUS 1.0's mandatory columns (its "Feature level: Mandatory").
MANDATORY_1_0 = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
)
# The mandatory columns every figure rests on: a file without one is refused.
ENFORCED = ("BilledCost", "EffectiveCost", "ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd",
            "BillingPeriodStart", "BillingPeriodEnd", "BillingCurrency")
# FOCUS 1.0 name -> FOCUS 1.3 name; either counts, and each is filled from the other.
RENAMED_1_3 = {"ProviderName": "ServiceProviderName", "PublisherName": "HostProviderName"}
VERSION_MARKERS = [
    ("1.3", ("serviceprovidername", "hostprovidername", "allocatedmethodid", "allocatedresourceid",
             "allocatedtags", "allocatedmethoddetails", "allocatedresourcename", "contractapplied")),
    ("1.2", ("invoiceid", "pricingcurrency", "billingaccounttype", "subaccounttype")),
    ("1.1", ("capacityreservationid", "commitmentdiscountquantity", "servicesubcategory", "skumeter",
             "skupricedetails")),
]
MANIFEST_TABLE = re.compile(r"FOCUS_(\d+)_(\d+)")


def manifest_version(path: Path) -> tuple[str, str] | None:
    """(version, basis) from an AWS Data Exports manifest (``*Manifest.json``) in the file's folder: the
    FOCUS_1_x table its query reads."""
    try:
        manifests = sorted(p for p in path.parent.iterdir() if p.name.lower().endswith("manifest.json"))
    except OSError:
        return None
    for m in manifests:
        try:
            text = json.dumps(json.loads(m.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
        found = MANIFEST_TABLE.search(text)
        if found:
            return f"{found.group(1)}.{found.group(2)}", f"version from AWS Data Exports manifest {m.name}"
    return None


def file_version(raw: RawFile) -> tuple[str, str]:
    """(FOCUS version, what says so) from explicit signals only."""
    from_manifest = manifest_version(raw.path)
    if from_manifest:
        return from_manifest
    for ver, markers in VERSION_MARKERS:
        hit = next((c for c in raw.columns if c.lower() in markers), None)
        if hit:
            return ver, f"version from column {hit}, added in FOCUS {ver}"
    return "1.0", "no manifest and no column of a later release: read as 1.0"


def version(columns: list[str]) -> str:
    """The version the columns alone show (see file_version, which also reads a manifest)."""
    names = {c.lower() for c in columns}
    for ver, markers in VERSION_MARKERS:
        if names.intersection(markers):
            return ver
    return "1.0"


def stored_columns() -> list[str]:
    """The FOCUS columns the store keeps as columns (x_Extras is built, not read)."""
    return [c for c in FOCUS_COLUMNS if c != "x_Extras"]


def _has(raw: RawFile, name: str) -> bool:
    other = RENAMED_1_3.get(name) or next((old for old, new in RENAMED_1_3.items() if new == name), None)
    return raw.find(name) is not None or (other is not None and raw.find(other) is not None)


def _refuse_before_1_0(raw: RawFile) -> None:
    old = focus_before_1(raw.columns)
    if old:
        renamed = [c for c in raw.columns if c.lower() in PRE_1_0_NAMES]
        raise LoadError([LoadProblem(
            f"FOCUS {old} (columns {', '.join(renamed)}, renamed in FOCUS 1.0): the importer reads FOCUS 1.0-1.3;"
            f" create a FOCUS 1.0 or later export ({FOCUS_INSTEAD}) and import that", raw.name)])


# FOCUS 1.0 mandatory columns no figure rests on: a file may lack them only when the user accepts each by
# name (--accept-missing), and is then recorded as a partial FOCUS file. BillingAccountId and BillingCurrency
# are supplied instead (--billing-account, --currency): every row needs their value.
SUPPLIED = {"BillingAccountId": "--billing-account ID", "BillingCurrency": "--currency CODE"}
ACCEPTABLE = tuple(c for c in MANDATORY_1_0 if c not in ENFORCED and c not in SUPPLIED)


def accepted_columns(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The columns ``--accept-missing`` names, spelled as FOCUS does; a name that is not one of ACCEPTABLE
    (a figure's column, one to supply, or not a FOCUS 1.0 mandatory column) is refused."""
    by_lower = {c.lower(): c for c in ACCEPTABLE}
    by_lower.update({new.lower(): old for old, new in RENAMED_1_3.items()})
    out, wrong = [], []
    for part in (p.strip() for n in names for p in n.split(",")):
        if not part:
            continue
        name = by_lower.get(part.lower())
        if name is None:
            wrong.append(part)
        elif name not in out:
            out.append(name)
    if wrong:
        lowered = {w.lower() for w in wrong}
        supplied = [c for c in SUPPLIED if c.lower() in lowered]
        text = f"--accept-missing {', '.join(wrong)}: "
        if supplied:
            text += ("cannot be accepted as missing: supply "
                     + " and ".join(f"{c} with {SUPPLIED[c]}" for c in supplied) + "; ")
        text += ("only these FOCUS 1.0 mandatory columns may be accepted as missing: " + ", ".join(ACCEPTABLE)
                 + " (the costs, charge category and periods never)")
        raise LoadError([LoadProblem(text)])
    return tuple(out)


def mandatory_missing(raw: RawFile) -> list[str]:
    """The FOCUS 1.0 mandatory columns the file lacks (a renamed column counts under either name)."""
    return [c for c in MANDATORY_1_0 if not _has(raw, c)]


def _refuse_missing(raw: RawFile, missing: list[str], *, currency_given: bool, account_given: bool,
                    accepted: tuple[str, ...]) -> list[str]:
    """Refuse a file missing mandatory columns that are neither supplied nor accepted; the accepted ones
    it lacks (the file is then partial)."""
    figures = [c for c in missing if c in ENFORCED and c != "BillingCurrency"]
    if figures:
        costs = [c for c in ("EffectiveCost", "BilledCost") if c in figures]
        if "ChargePeriodStart" in figures or len(costs) == 2:  # not recognisably FOCUS: say what it may be
            named = [c for c in ("ChargePeriodStart",) if c in figures] + (
                [" or ".join(costs)] if len(costs) == 2 else [])
            raise LoadError([LoadProblem(missing_columns(raw.columns, "focus", named), raw.name)])
    given = {"BillingCurrency": currency_given, "BillingAccountId": account_given}
    to_supply = [c for c in missing if c in SUPPLIED and not given[c]]
    to_accept = [c for c in missing if c in ACCEPTABLE and c not in accepted]
    if figures or to_supply or to_accept:
        unmet = [c for c in missing if c in figures or c in to_supply or c in to_accept]
        text = (f"missing mandatory FOCUS columns: {', '.join(unmet)} (FOCUS 1.0-1.3 require them; the "
                "importer does not guess them)")
        if figures:
            text += f"; {', '.join(figures)} cannot be supplied or accepted as missing"
        if to_supply:
            text += "; supply " + " and ".join(f"{c} with {SUPPLIED[c]}" for c in to_supply)
        if to_accept:
            text += (f"; to import it as a partial FOCUS file with {', '.join(to_accept)} left empty (named in "
                     f"the summary, info and --json), add --accept-missing {','.join(to_accept)}")
        raise LoadError([LoadProblem(text, raw.name, column=unmet[0] if len(unmet) == 1 else None)])
    return [c for c in missing if c in ACCEPTABLE]


def mapping(raw: RawFile, *, currency_given: bool = False, account_given: bool = False,
            accepted: tuple[str, ...] = ()) -> Mapping:
    """``accepted``: the mandatory columns the user accepts as missing (accepted_columns)."""
    _refuse_before_1_0(raw)
    missing = mandatory_missing(raw)
    partial = _refuse_missing(raw, missing, currency_given=currency_given, account_given=account_given,
                              accepted=accepted)
    supplied = [c for c in missing if c in SUPPLIED]
    needs: dict[str, str] = {}
    exprs: dict[str, str] = {}
    for name in stored_columns():
        kind = JSON_COLUMNS.get(name) or ("period" if name.startswith("BillingPeriod")
                                          else KIND_OF_TYPE[FOCUS_COLUMNS[name]])
        if raw.find(name) is not None:
            needs[name] = kind
            exprs[name] = f"t.{q(name)}"
    for old, new in RENAMED_1_3.items():  # both ways: a 1.3 reader and a 1.0 reader each find their column
        if old in exprs and new in exprs:
            exprs[old], exprs[new] = f"coalesce(t.{q(old)}, t.{q(new)})", f"coalesce(t.{q(new)}, t.{q(old)})"
        elif old in exprs:
            exprs[new] = f"t.{q(old)}"
        elif new in exprs:
            exprs[old] = f"t.{q(new)}"
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
    ver, basis = file_version(raw)
    return Mapping(format=f"focus-{ver}", needs=needs, branches=[(exprs, None)], absent=absent, ignored=[],
                   version_basis=basis, missing_mandatory=partial, supplied=supplied,
                   value_checks=line_item_checks(raw, currency_given=currency_given))


# -- the FOCUS 1.3 Contract Commitment dataset ----------------------------------------------------------
CONTRACT_SOURCE = {  # contract_commitments column -> (FOCUS column, kind)
    "contract_commitment_id": ("ContractCommitmentId", "text"), "contract_id": ("ContractId", "text"),
    "category": ("ContractCommitmentCategory", "text"), "type": ("ContractCommitmentType", "text"),
    "description": ("ContractCommitmentDescription", "text"), "cost": ("ContractCommitmentCost", "num"),
    "quantity": ("ContractCommitmentQuantity", "num"), "unit": ("ContractCommitmentUnit", "text"),
    "period_start": ("ContractCommitmentPeriodStart", "ts"), "period_end": ("ContractCommitmentPeriodEnd", "ts"),
    "contract_period_start": ("ContractPeriodStart", "ts"), "contract_period_end": ("ContractPeriodEnd", "ts"),
    "currency": ("BillingCurrency", "text"),
}
CONTRACT_REQUIRED = ("ContractCommitmentId", "ContractId", "ContractCommitmentCategory",
                     "ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd")


def contract_mapping(raw: RawFile, *, currency: str) -> Mapping:
    """The Contract Commitment dataset: one row per contract commitment, into ``contract_commitments``."""
    missing = [c for c in CONTRACT_REQUIRED if raw.find(c) is None]
    if missing:
        raise LoadError([LoadProblem("missing mandatory FOCUS Contract Commitment columns: " + ", ".join(missing),
                                     raw.name)])
    needs = {src: kind for src, kind in CONTRACT_SOURCE.values() if raw.find(src) is not None}
    cols = []
    for name, (src, _kind) in CONTRACT_SOURCE.items():
        value = f"t.{q(src)}" if src in needs else "NULL"
        if name == "currency":  # the file's, else the one given (--currency), else unknown
            value = f"upper(coalesce({value}, {lit(currency)}))" if currency else f"upper({value})"
        cols.append(f"{value} AS {name}")
    cols.append(f"{lit(raw.name)} AS source")
    return Mapping(format="focus-1.3-contract-commitment", needs=needs, branches=[], ignored=[],
                   contracts_sql=f"SELECT {', '.join(cols)} FROM t", version_basis="version from the Contract Commitment columns (FOCUS 1.3)",
                   value_checks=contract_checks(raw))
