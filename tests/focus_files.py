"""FOCUS 1.0's mandatory columns as the tests know them (written out here, not read from the product), and
what the FOCUS specification's example files lack of them: the importer refuses such a file unless the
missing columns are supplied (--billing-account, --currency) or accepted by name (--accept-missing)."""

from __future__ import annotations

import csv
from pathlib import Path

# FOCUS 1.0, "Feature level: Mandatory" (21 columns).
MANDATORY_1_0 = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
)
SUPPLIED = ("BillingAccountId", "BillingCurrency")  # by --billing-account and --currency

# The descriptive mandatory columns with a plausible value, for fixtures that are about something else.
DESCRIPTIVE = {"BillingAccountName": "Acme", "ChargeClass": None, "ChargeDescription": "m5.large hours",
               "InvoiceIssuerName": "AWS", "PricingQuantity": 1, "PricingUnit": "Hours", "ProviderName": "AWS",
               "PublisherName": "AWS", "ServiceCategory": "Compute"}


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [c.strip() for c in next(csv.reader(fh))]


def lacking(path: Path) -> list[str]:
    """The FOCUS 1.0 mandatory columns a CSV file's header lacks."""
    names = {c.lower() for c in header(path)}
    return [c for c in MANDATORY_1_0 if c.lower() not in names]


def accept_for(paths: list[Path]) -> list[str]:
    """The --accept-missing value that imports these files: what they lack, less the supplied columns."""
    return sorted({c for p in paths for c in lacking(p) if c not in SUPPLIED})


# The same as CSV text, with ListCost and ContractedCost, for fixtures that write CSV lines by hand.
DESCRIPTIVE_CSV = {**{k: "" if v is None else str(v) for k, v in DESCRIPTIVE.items()}, "ListCost": "1",
                   "ContractedCost": "1", "ServiceName": "Amazon EC2"}


def with_descriptive(text: str) -> str:
    """A hand-written FOCUS CSV (header, rows) with the descriptive mandatory columns it lacks appended."""
    lines = text.rstrip("\n").split("\n")
    names = {n.strip().lower() for n in lines[0].split(",")}
    added = [n for n in DESCRIPTIVE_CSV if n.lower() not in names]
    out = [",".join([lines[0], *added])] + [",".join([line, *(DESCRIPTIVE_CSV[n] for n in added)])
                                            for line in lines[1:]]
    return "\n".join(out) + "\n"
