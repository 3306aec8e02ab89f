"""The named queries on Amazon Athena over the export in S3 (boto3's Athena, Glue and S3 clients).

Before a query runs: the partitions it reads (``billing_period`` values from Glue, their objects listed in
S3) give its cache key and the most it can scan. A result is re-used from the local cache file
(``storage.warehouse.cache``) while those objects are unchanged (same keys, sizes and ETags); a query whose
partitions add up to more than ``--max-scan-gb`` (or the workgroup's ``BytesScannedCutoffPerQuery``) stops
before it runs. After: the bytes Athena scanned are metered and priced ($5 per TB, 10 MB minimum per query;
failed queries are not billed), per command and in total.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.config import Taxonomy, WarehouseConfig
from storage.warehouse.cache import ResultCache, scan_cost
from storage.warehouse.dialect import Translated
from storage.warehouse.session import WarehouseError, WarehouseSession
from storage.warehouse.views import view_columns

if TYPE_CHECKING:
    import duckdb

GB = 1024 ** 3
PARTITION_TTL_S = 300.0  # how long a partition listing stands in a long-lived process (the TUI)
QUERY_TIMEOUT_S = 600.0
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_MISSING = ("TABLE_NOT_FOUND", "SCHEMA_NOT_FOUND", "does not exist", "not found")


class WarehouseAccessDenied(WarehouseError):
    """AWS refused an action; the message names it."""


class WarehouseMissingTable(WarehouseError):
    """The database, table or view is not there."""


class WarehouseQueryFailed(WarehouseError):
    """Athena ran the query and it failed or was cancelled; the message carries Athena's reason."""


class ScanLimitExceeded(WarehouseError):
    """A query would read more than the bound allows; it was not run."""


@dataclass(frozen=True)
class Partition:
    value: str
    location: str
    size: int
    signature: str  # the objects' keys, sizes and ETags, hashed


@dataclass
class Scan:
    name: str
    bytes_scanned: int
    cost: float
    cached: bool
    query_id: str | None = None


@dataclass
class Meter:
    """What one process's queries scanned (the cache file keeps the running total)."""

    scans: list[Scan] = field(default_factory=list)

    @property
    def queries(self) -> int:
        return sum(1 for s in self.scans if not s.cached)

    @property
    def cached(self) -> int:
        return sum(1 for s in self.scans if s.cached)

    @property
    def bytes_scanned(self) -> int:
        return sum(s.bytes_scanned for s in self.scans if not s.cached)

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.scans if not s.cached)


def _split_s3(url: str) -> tuple[str, str]:
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _action(exc: Any, service: str) -> str:
    return f"{service}:{exc.operation_name}"


class AthenaBackend:
    """The Athena engine of one home: clients, the partition listing, the cache and the meter."""

    def __init__(self, config: WarehouseConfig, taxonomy: Taxonomy, cache_path: Path, local_path: Path, *,
                 session: Any = None, max_scan_gb: float | None = None, poll_s: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 clients: dict[str, Any] | None = None) -> None:
        self.config = config
        self.taxonomy = taxonomy
        self.cache = ResultCache(cache_path)
        self.local_path = local_path
        self._session = session
        self.max_scan_gb = config.max_scan_gb if max_scan_gb is None else max_scan_gb
        self.poll_s, self.sleep, self.monotonic = poll_s, sleep, monotonic
        self.meter = Meter()
        self._clients: dict[str, Any] = dict(clients or {})  # tests hand in stubbed or loopback clients
        self._partitions: tuple[float, list[Partition]] | None = None
        self._cutoff: tuple[int | None] | None = None
        self.planned: list[tuple[str, Translated]] | None = None

    def plan(self, call: Callable[[], object]) -> list[tuple[str, Translated, list[Partition]]]:
        """What ``call`` (named queries) would send, each query with the partitions it would read; nothing
        runs on Athena."""
        self.planned = []
        try:
            call()
            planned = self.planned
        finally:
            self.planned = None
        return [(name, q, self.read_partitions(q.months)) for name, q in planned]

    # -- clients ------------------------------------------------------------------------------------------
    def client(self, name: str) -> Any:
        if name not in self._clients:
            if self._session is None:
                import boto3

                self._session = boto3.Session(profile_name=self.config.profile or None,
                                              region_name=self.config.region or None)
            self._clients[name] = self._session.client(name)
        return self._clients[name]

    def _call(self, service: str, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        try:
            return getattr(self.client(service), method)(**kwargs)
        except NoCredentialsError as exc:
            raise WarehouseAccessDenied("no AWS credentials: log in (`aws sso login --profile PROFILE`) or set "
                                        "[warehouse] profile") from exc
        except NoRegionError as exc:
            raise WarehouseError("no AWS region: set [warehouse] region (or AWS_REGION / the profile's region)") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code in _DENIED:
                raise WarehouseAccessDenied(f"AWS refused {_action(exc, service)}: {message}") from exc
            if code in ("EntityNotFoundException", "NoSuchBucket", "MetadataException") or (
                    code == "InvalidRequestException" and any(m in message for m in _MISSING)):
                raise WarehouseMissingTable(f"{_action(exc, service)}: {message} (is [warehouse] database / "
                                            "table right? `finops-tui warehouse setup` makes the view)") from exc
            raise WarehouseQueryFailed(f"{_action(exc, service)} failed ({code}): {message}") from exc
        except BotoCoreError as exc:
            raise WarehouseError(f"{service}: {exc}") from exc

    # -- the table, its partitions and the workgroup -------------------------------------------------------
    def table(self) -> dict[str, Any]:
        return self._call("glue", "get_table", DatabaseName=self.config.database, Name=self.config.table)["Table"]

    def partition_key(self) -> str | None:
        keys = self.table().get("PartitionKeys") or []
        return keys[0]["Name"] if keys else None

    def partitions(self) -> list[Partition]:
        """Every partition of the export's table with its size in S3 (one listing per PARTITION_TTL_S)."""
        now = self.monotonic()
        if self._partitions is not None and now - self._partitions[0] < PARTITION_TTL_S:
            return self._partitions[1]
        table = self.table()
        found: list[tuple[str, str]] = []
        if table.get("PartitionKeys"):
            token = None
            while True:
                kwargs = {"DatabaseName": self.config.database, "TableName": self.config.table}
                page = self._call("glue", "get_partitions", **kwargs, **({"NextToken": token} if token else {}))
                found += [(p["Values"][0], p["StorageDescriptor"]["Location"]) for p in page.get("Partitions", [])]
                token = page.get("NextToken")
                if not token:
                    break
        else:
            found.append(("*", table["StorageDescriptor"]["Location"]))
        parts = [self._listed(value, location) for value, location in sorted(found)]
        self._partitions = (now, parts)
        return parts

    def _listed(self, value: str, location: str) -> Partition:
        bucket, prefix = _split_s3(location)
        size, digest, token = 0, hashlib.sha256(), None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("s3", "list_objects_v2", **kwargs)
            for obj in page.get("Contents", []):
                size += int(obj["Size"])
                digest.update(f"{obj['Key']}\0{obj['Size']}\0{obj.get('ETag', '')}\n".encode())
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                break
        return Partition(value, location, size, digest.hexdigest())

    def read_partitions(self, months: tuple[str | None, str | None] | None) -> list[Partition]:
        parts = self.partitions()
        if months is None or (len(parts) == 1 and parts[0].value == "*"):
            return parts
        lo, hi = months
        return [p for p in parts if (lo is None or p.value >= lo) and (hi is None or p.value <= hi)]

    def workgroup_cutoff(self) -> int | None:
        """The workgroup's BytesScannedCutoffPerQuery (None: no cutoff)."""
        if self._cutoff is None:
            wg = self._call("athena", "get_work_group", WorkGroup=self.config.workgroup)["WorkGroup"]
            cut = wg.get("Configuration", {}).get("BytesScannedCutoffPerQuery")
            self._cutoff = (int(cut) if cut else None,)
        return self._cutoff[0]

    # -- queries ------------------------------------------------------------------------------------------
    @property
    def relation(self) -> str:
        return f'"{self.config.database}"."{self.config.view}"'

    @contextmanager
    def session(self, local: duckdb.DuckDBPyConnection) -> Iterator[WarehouseSession]:
        runner = _Runner(self)
        s = WarehouseSession(runner, local, view_columns(self.taxonomy), relation=self.relation)
        try:
            yield s
        finally:
            runner.close()
            s.close()

    def check_bounds(self, parts: list[Partition], name: str) -> None:
        """Raise ScanLimitExceeded when the partitions a query reads add up to more than --max-scan-gb or
        the workgroup's cutoff (Athena gives no estimate before running; their size in S3 is the most a
        query over them can scan)."""
        size = sum(p.size for p in parts)
        which = (f"{len(parts)} partitions ({parts[0].value}..{parts[-1].value})" if parts else "no partitions")
        if self.max_scan_gb and size > self.max_scan_gb * GB:
            raise ScanLimitExceeded(f"{name}: reads {which}, {size_text(size)} in S3, over --max-scan-gb "
                                    f"{self.max_scan_gb:g} ({size_text(self.max_scan_gb * GB)}); not run "
                                    "(narrow the window or raise the bound)")
        cutoff = self.workgroup_cutoff()
        if cutoff is not None and size > cutoff:
            raise ScanLimitExceeded(f"{name}: reads {which}, {size_text(size)} in S3, over workgroup "
                                    f"{self.config.workgroup}'s BytesScannedCutoffPerQuery of {size_text(cutoff)}; "
                                    "not run (Athena would cancel it)")

    def execute(self, sql: str, name: str) -> tuple[str, dict[str, Any]]:
        """Start a query, wait for it to finish; (query id, its execution). Raises with Athena's reason."""
        kwargs: dict[str, Any] = {"QueryString": sql, "WorkGroup": self.config.workgroup,
                                  "QueryExecutionContext": {"Database": self.config.database}}
        if self.config.output_location:
            kwargs["ResultConfiguration"] = {"OutputLocation": self.config.output_location}
        qid = self._call("athena", "start_query_execution", **kwargs)["QueryExecutionId"]
        deadline, delay = self.monotonic() + QUERY_TIMEOUT_S, self.poll_s
        while True:
            execution = self._call("athena", "get_query_execution", QueryExecutionId=qid)["QueryExecution"]
            status = execution["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return qid, execution
            if state in ("FAILED", "CANCELLED"):
                scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
                if state == "CANCELLED":  # a cancelled query is billed for what it scanned
                    self._record(name, qid, scanned)
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage", "")
                kind = status.get("AthenaError", {}).get("ErrorType")
                if any(m in reason for m in _MISSING):
                    raise WarehouseMissingTable(f"{name}: Athena query {qid} {state.lower()}: {reason} "
                                                "(`finops-tui warehouse setup` makes the view)")
                detail = f" (error type {kind})" if kind else ""
                raise WarehouseQueryFailed(f"{name}: Athena query {qid} {state.lower()}: {reason}{detail}")
            if self.monotonic() >= deadline:
                self._call("athena", "stop_query_execution", QueryExecutionId=qid)
                raise WarehouseQueryFailed(f"{name}: Athena query {qid} still {state.lower()} after "
                                           f"{QUERY_TIMEOUT_S:.0f} s; stopped")
            self.sleep(delay)
            delay = min(delay * 2, 5.0)

    def results(self, qid: str) -> tuple[list[tuple[str, str]], list[list[str | None]]]:
        """(column name, Athena type) and the rows as text, over every page of GetQueryResults."""
        columns: list[tuple[str, str]] = []
        rows: list[list[str | None]] = []
        token, first = None, True
        while True:
            kwargs: dict[str, Any] = {"QueryExecutionId": qid, "MaxResults": 1000}
            if token:
                kwargs["NextToken"] = token
            page = self._call("athena", "get_query_results", **kwargs)
            result = page["ResultSet"]
            if first:
                columns = [(c["Name"], c["Type"]) for c in result["ResultSetMetadata"]["ColumnInfo"]]
            batch = [[d.get("VarCharValue") for d in r.get("Data", [])] for r in result.get("Rows", [])]
            if first and batch and batch[0] == [name for name, _ in columns]:
                batch = batch[1:]  # a SELECT's first row repeats the column names
            rows += batch
            first = False
            token = page.get("NextToken")
            if not token:
                return columns, rows

    def _record(self, name: str, qid: str | None, scanned: int) -> Scan:
        scan = Scan(name, scanned, scan_cost(scanned), False, qid)
        self.meter.scans.append(scan)
        self.cache.record_scan(name, qid, scanned, scan.cost)
        return scan

    def totals(self) -> tuple[int, int, float]:
        """Queries, bytes scanned and their cost over every command of this home (the cache's ledger)."""
        return self.cache.scan_totals()


def _planned_answer(query: Translated) -> str:
    """DuckDB SQL standing in for a planned query's answer: an aggregate without GROUP BY has its one row
    (counts 0, the rest NULL), anything else no rows."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(query.sql, read="trino")
    exprs = tree.expressions if isinstance(tree, exp.Select) else []
    one = (isinstance(tree, exp.Select) and tree.args.get("group") is None
           and any(e.find(exp.AggFunc) is not None for e in exprs))
    names = list(query.columns) or [""] * max(len(exprs), 1)
    values = [("0" if isinstance(e.unalias(), exp.Count) else "NULL") if one else "NULL"
              for e in (exprs or [None] * len(names))] if exprs else ["NULL"] * len(names)
    cols = ", ".join(f'{v} AS "{n or f"_col{i}"}"' for i, (v, n) in enumerate(zip(values, names, strict=False)))
    return f"SELECT {cols}" + ("" if one else " WHERE FALSE")


class _Runner:
    """One session's runner: the cache connection opened once, results read from it."""

    def __init__(self, backend: AthenaBackend) -> None:
        self.backend = backend
        self._con: duckdb.DuckDBPyConnection | None = None

    def run(self, query: Translated, name: str) -> duckdb.DuckDBPyConnection:
        b = self.backend
        if b.planned is not None:  # planning: note the query, answer with no rows
            import duckdb

            b.planned.append((name, query))
            return duckdb.connect(":memory:").execute(_planned_answer(query))
        parts = b.read_partitions(query.months)
        signature = hashlib.sha256("".join(p.signature for p in parts).encode()).hexdigest()
        key = hashlib.sha256(f"{query.sql}\0{signature}".encode()).hexdigest()
        if self._con is None:
            self._con = b.cache.connect()
        hit = b.cache.lookup(self._con, key)
        if hit is not None:
            b.meter.scans.append(Scan(name, 0, 0.0, True))
            return hit
        b.check_bounds(parts, name)
        qid, execution = b.execute(query.sql, name)
        scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
        columns, rows = b.results(qid)
        b._record(name, qid, scanned)
        return b.cache.store(self._con, key, query.sql, columns, rows, scanned, qid, query.columns)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def size_text(n: float) -> str:
    for unit, scale in (("TB", 1024 ** 4), ("GB", GB), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{int(n)} B"


def scan_line(backend: AthenaBackend) -> str:
    """One line: this command's Athena queries (and cache hits), scanned and priced, then the running total."""
    m = backend.meter
    queries, scanned, cost = backend.totals()
    return (f"athena: {m.queries} queries ({m.cached} from the cache), {size_text(m.bytes_scanned)} scanned "
            f"(${m.cost:.6f}); running total {queries} queries, {size_text(scanned)} (${cost:.6f})")
