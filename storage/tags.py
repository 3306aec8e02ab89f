"""Tag normalisation, done once per distinct Tags value at load time (never per row, never per query).

Keys fold case and surrounding white space (DESIGN.md); taxonomy aliases then map folded spellings onto
canonical keys. Values keep their spelling; only empty values count as missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from storage.config import Taxonomy

MAX_TAGS_CHARS = 65_536


def tag_column(key: str) -> str:
    """The cost-store column holding a normalised taxonomy key (``cost-center`` -> ``tag_cost_center``)."""
    return "tag_" + re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


class TagsError(ValueError):
    """A Tags value that is not a JSON object of strings."""


def parse_tags(raw: Any) -> dict[str, str]:
    """A Tags cell (JSON text, a mapping, or a list of key/value pairs from a Parquet map) as a dict."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        items: Iterable[tuple[Any, Any]] = raw.items()
    elif isinstance(raw, list | tuple):
        items = [(p["key"], p["value"]) if isinstance(p, dict) else tuple(p) for p in raw]
    else:
        text = str(raw).strip()
        if text in ("", "NULL", "null", "{}"):
            return {}
        if len(text) > MAX_TAGS_CHARS:
            raise TagsError(f"Tags value is {len(text):,} characters (at most {MAX_TAGS_CHARS:,})")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TagsError(f"Tags is not valid JSON ({exc.msg} at character {exc.pos})") from exc
        if not isinstance(obj, dict):
            raise TagsError("Tags must be a JSON object")
        items = obj.items()
    out: dict[str, str] = {}
    for key, value in items:
        if value is None:
            continue
        out[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return out


@dataclass
class FoldReport:
    """Which raw key spellings were folded into which canonical key (for the import summary)."""

    variants: dict[str, set[str]] = field(default_factory=dict)
    stripped: int = 0  # distinct Tags values whose keys or values held control characters (removed)

    def add(self, raw: str, canonical: str) -> None:
        if raw != canonical:
            self.variants.setdefault(canonical, set()).add(raw)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in sorted(self.variants.items())}


def normalise(tags: dict[str, str], taxonomy: Taxonomy, report: FoldReport | None = None) -> dict[str, str]:
    """Folded keys (case, white space, aliases) -> values; the first non-empty spelling wins."""
    out: dict[str, str] = {}
    for raw_key, value in tags.items():
        key = taxonomy.canonical_key(raw_key)
        if not key:
            continue
        if report is not None:
            report.add(raw_key, key)
        if value is None or not str(value).strip():
            out.setdefault(key, "")
            continue
        if not out.get(key):
            out[key] = value
    return out


def folded_json(tags: dict[str, str]) -> str:
    """The normalised map as canonical JSON (sorted keys, so equal maps give equal text)."""
    return json.dumps({k: v for k, v in tags.items() if v != ""}, sort_keys=True, ensure_ascii=False)

