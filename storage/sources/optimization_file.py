"""AWS Data Exports' ``COST_OPTIMIZATION_RECOMMENDATIONS`` table (CSV, CSV.gz or Parquet) read into plain
rows for the inbox. Told apart from billing files by its columns (``recommendation_id``, ``action_type``,
``estimated_monthly_savings_before_discount``).

Read: account_id, action_type, currency_code, current_resource_type, current_resource_summary,
estimated_monthly_savings_after_discount (preferred) or _before_discount, implementation_effort,
last_refresh_timestamp, recommendation_id, recommendation_lookback_period_in_days, recommendation_source,
recommended_resource_summary, region, resource_arn (or resource_id), restart_needed, rollback_possible.
A bad value refuses the file, naming the file, the row and the column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.loader import LoadError, LoadProblem
from storage.sources.raw_files import READ_ERRORS, _csv_header, _kind, duckdb_problem, lit, open_raw, q

MARKERS = {"recommendation_id", "action_type", "estimated_monthly_savings_before_discount"}
REQUIRED = ("recommendation_id", "action_type", "account_id", "estimated_monthly_savings_before_discount")
OPTIONAL = ("estimated_monthly_savings_after_discount", "currency_code", "current_resource_type",
            "current_resource_summary", "recommended_resource_summary", "implementation_effort",
            "last_refresh_timestamp", "recommendation_lookback_period_in_days", "recommendation_source", "region",
            "resource_arn", "resource_id", "restart_needed", "rollback_possible")
TRUE, FALSE = {"true", "yes", "1", "t"}, {"false", "no", "0", "f"}


def header(path: Path) -> list[str]:
    """A file's column names (CSV: its header line; Parquet: its schema)."""
    import duckdb

    if _kind(path) == "csv":
        return _csv_header(path)
    con = duckdb.connect()
    try:
        return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()]
    except READ_ERRORS(duckdb) as exc:
        raise LoadError([duckdb_problem(path, exc)]) from exc
    finally:
        con.close()


def is_recommendations_file(columns: list[str]) -> bool:
    return MARKERS <= {c.strip().lower() for c in columns}


@dataclass(frozen=True)
class FileRecommendation:
    row: int
    recommendation_id: str
    action_type: str
    account_id: str
    resource_arn: str | None
    resource_id: str
    estimated_monthly_savings: float
    currency: str
    effort: str | None
    restart_needed: bool | None
    rollback_possible: bool | None
    resource_type: str | None
    region: str | None
    current_summary: str | None
    recommended_summary: str | None
    last_refresh: str | None
    lookback_days: int | None
    recommendation_source: str | None


def _bool(value: Any, where: LoadProblem) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE | FALSE:
        return text in TRUE
    raise LoadError([where])


def _num(value: Any, where: LoadProblem) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise LoadError([where]) from exc
    if not math.isfinite(number) or abs(number) >= 1e15:
        raise LoadError([where])
    return number


def read_recommendations(path: Path) -> list[FileRecommendation]:
    import duckdb

    con = duckdb.connect()
    try:
        raw = open_raw(con, path, 0)
        missing = [c for c in REQUIRED if raw.find(c) is None]
        if missing:
            raise LoadError([LoadProblem(f"missing recommendations columns: {', '.join(missing)}", raw.name)])
        if raw.find("resource_arn") is None and raw.find("resource_id") is None:
            raise LoadError([LoadProblem("missing recommendations column: resource_arn (or resource_id)", raw.name)])
        wanted = [c for c in (*REQUIRED, *OPTIONAL) if raw.find(c) is not None]
        select = ", ".join(f"{q(raw.find(c) or c)} AS {q(c)}" for c in wanted)
        try:
            rows = con.execute(f"SELECT __row, {select} FROM {raw.relation} ORDER BY __row").fetchall()
        except READ_ERRORS(duckdb) as exc:
            raise LoadError([duckdb_problem(path, exc)]) from exc
    finally:
        con.close()
    out = []
    for row_no, *values in rows:
        r = dict(zip(wanted, values, strict=True))

        def problem(column: str, message: str, row: int = int(row_no)) -> LoadProblem:
            return LoadProblem(message, str(path), row, raw.label(raw.find(column) or column))

        for c in ("recommendation_id", "action_type", "account_id"):
            if r.get(c) is None or not str(r[c]).strip():
                raise LoadError([problem(c, "empty")])
        arn = str(r["resource_arn"]).strip() if r.get("resource_arn") else None
        rid = str(r["resource_id"]).strip() if r.get("resource_id") else None
        if not rid and arn:
            rid = arn.rsplit("/", 1)[-1] if "/" in arn else arn
        if not rid:
            raise LoadError([problem("resource_arn", "empty: the recommendation names no resource")])
        before = _num(r["estimated_monthly_savings_before_discount"],
                      problem("estimated_monthly_savings_before_discount", "not a finite number"))
        after = _num(r.get("estimated_monthly_savings_after_discount"),
                     problem("estimated_monthly_savings_after_discount", "not a finite number"))
        saving = after if after is not None else before
        if saving is None:
            raise LoadError([problem("estimated_monthly_savings_before_discount", "empty")])
        lookback = _num(r.get("recommendation_lookback_period_in_days"),
                        problem("recommendation_lookback_period_in_days", "not a number"))
        text = {k: (str(r[k]).strip() or None) if r.get(k) is not None else None for k in OPTIONAL}
        out.append(FileRecommendation(
            int(row_no), str(r["recommendation_id"]).strip(), str(r["action_type"]).strip(),
            str(r["account_id"]).strip(), arn, rid, float(saving), text["currency_code"] or "USD",
            text["implementation_effort"], _bool(r.get("restart_needed"), problem("restart_needed", "not true/false")),
            _bool(r.get("rollback_possible"), problem("rollback_possible", "not true/false")),
            text["current_resource_type"], text["region"], text["current_resource_summary"],
            text["recommended_resource_summary"], text["last_refresh_timestamp"],
            int(lookback) if lookback is not None else None, text["recommendation_source"]))
    return out


SOURCE = "data_exports"


def import_recommendation_files(store: Any, paths: list[Path], fetched_at: Any) -> tuple[int, int]:
    """Replace the stored Data Exports recommendations with those of ``paths`` (the files of one export), in
    one transaction; (rows, of which purchases). A bad file changes nothing."""
    from datetime import UTC

    from storage.sources.aws_tables import swap

    at = fetched_at.astimezone(UTC).replace(tzinfo=None)
    found = [(path, r) for path in paths for r in read_recommendations(path)]
    rows = [{"source": SOURCE, "recommendation_id": r.recommendation_id, "action_type": r.action_type,
             "resource_id": r.resource_id, "resource_arn": r.resource_arn, "account_id": r.account_id,
             "region": r.region, "resource_type": r.resource_type,
             "estimated_monthly_savings": r.estimated_monthly_savings, "estimated_monthly_cost": None,
             "currency": r.currency, "effort": r.effort, "restart_needed": r.restart_needed,
             "rollback_possible": r.rollback_possible, "current_summary": r.current_summary,
             "recommended_summary": r.recommended_summary, "last_refresh": r.last_refresh,
             "lookback_days": r.lookback_days, "fetched_at": at, "origin": f"{path.name} row {r.row}"}
            for path, r in found]
    swap(store, "optimization_recommendations", rows, where="source = ?", params=[SOURCE],
         meta={"optimization_imported_at:data_exports": at.isoformat() + "Z",
               "optimization_files": ", ".join(str(p) for p in paths)})
    purchases = sum(1 for _, r in found if r.action_type.lower().startswith("purchase"))
    return len(rows), purchases
