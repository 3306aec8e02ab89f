"""The configuration: shipped defaults merged with the home folder's finops-tui.toml.

Every key a user can set exists in the shipped defaults file; a key that does not is reported with its
dotted name and the file, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CONFIG_NAME = "finops-tui.toml"

# Tables whose keys are the user's own (alias spellings, tag keys, team names), with the type of value.
_FREE_TABLES: dict[str, type | tuple[type, ...]] = {
    "taxonomy.aliases": str,
    "taxonomy.allowed_values": list,
    "shared_costs.fixed_pct": (int, float),
    "unit_economics.spend": str,
    "unit_economics.per": (int, float),
    "keys": str,  # binding id -> key string(s); the app checks the ids against its bindings
    "explorer.views": dict,
    "containers.namespaces": str,  # Kubernetes namespace (or ECS service) -> team
    "containers.labels": str,  # "LABEL=VALUE" -> team
}
_SPLIT_METHODS = ("proportional", "even", "fixed")
THEMES = ("dark", "light", "high-contrast")


# The explorer's vocabulary (checked here so a saved view with a typo fails when the config loads).
EXPLORER_DIMENSIONS = ("team", "account", "service", "region", "charge_category", "resource", "cluster",
                       "namespace")
EXPLORER_GRAINS = ("day", "week", "month")
EXPLORER_COSTS = {"effective": "EffectiveCost", "billed": "BilledCost", "list": "ListCost"}
EXPLORER_PRESETS = ("last_7_days", "last_30_days", "last_90_days", "month_to_date", "last_month",
                    "last_3_months", "last_6_months", "last_12_months", "custom")
_VIEW_KEYS = ("group_by", "filters", "excludes", "preset", "start", "end", "granularity", "cost")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


def fold_key(key: str) -> str:
    """DESIGN.md's tag-key rule: fold case and surrounding white space, nothing else."""
    return key.strip().lower()


@dataclass(frozen=True)
class Taxonomy:
    allocation_key: str = "team"
    required_keys: tuple[str, ...] = ("environment", "service", "cost-center", "owner")
    aliases: dict[str, str] = field(default_factory=dict)
    allowed_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Which ChargeCategory rows count as spend for allocation coverage (FOCUS Usage includes unused commitment).
    charge_categories: tuple[str, ...] = ("Usage",)

    @property
    def keys(self) -> tuple[str, ...]:
        """The allocation key first, then the other required keys, without repeats."""
        out: list[str] = []
        for key in (self.allocation_key, *self.required_keys):
            if key not in out:
                out.append(key)
        return tuple(out)

    def canonical_key(self, raw: str) -> str:
        folded = fold_key(raw)
        return self.aliases.get(folded, folded)


@dataclass(frozen=True)
class Targets:
    allocation_pct: float = 90.0
    commitment_coverage_pct: float = 75.0
    forecast_variance_pct: float = 15.0


@dataclass(frozen=True)
class SharedCosts:
    method: str = "proportional"
    shared_accounts: tuple[str, ...] = ()
    fixed_pct: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CommitmentsConfig:
    lookback_days: int = 30
    baseline_percentile: float = 10.0
    discount_rate_pct: float = 25.0
    term_years: int = 1
    payment_option: str = "No Upfront"
    eligible_services: tuple[str, ...] = ()


LOOKBACK_DAYS = (7, 30, 60)
TERM_YEARS = (1, 3)
PAYMENT_OPTIONS = ("No Upfront", "Partial Upfront", "All Upfront")


@dataclass(frozen=True)
class UnitEconomicsConfig:
    """Which spend each business metric divides ("total" or a team name) and per how many units."""

    spend: dict[str, str] = field(default_factory=dict)
    per: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CalendarConfig:
    sweep_weekday: int = 1
    monthly_review_day: int = 5
    quarter_start_months: tuple[int, ...] = (1, 4, 7, 10)


@dataclass(frozen=True)
class AnomalyConfig:
    min_impact: float = 100.0
    min_impact_pct: float = 40.0
    min_history_days: int = 14


Filters = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ExplorerView:
    """What the explorer shows: group-by dimensions, include/exclude filters (dimension -> values), the
    window (a preset, or ``custom`` with start inclusive and end exclusive), granularity and cost column."""

    group_by: tuple[str, ...] = ("team",)
    filters: Filters = ()
    excludes: Filters = ()
    preset: str = "last_30_days"
    start: date | None = None
    end: date | None = None
    granularity: str = "day"
    cost: str = "effective"

    def as_toml_lines(self) -> list[str]:
        """The view as the keys of a ``[explorer.views.NAME]`` table."""
        def strings(values: list[str]) -> str:
            return "[" + ", ".join(_toml_string(v) for v in values) + "]"

        lines = [f"group_by = {strings(list(self.group_by))}"]
        if self.filters:
            lines.append(f"filters = {strings([filter_text(d, v) for d, v in self.filters])}")
        if self.excludes:
            lines.append(f"excludes = {strings([filter_text(d, v) for d, v in self.excludes])}")
        lines.append(f"preset = {_toml_string(self.preset)}")
        if self.preset == "custom" and self.start and self.end:
            lines += [f'start = "{self.start.isoformat()}"', f'end = "{self.end.isoformat()}"']
        lines += [f"granularity = {_toml_string(self.granularity)}", f"cost = {_toml_string(self.cost)}"]
        return lines


def _toml_string(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'


def filter_text(dimension: str, values: tuple[str, ...]) -> str:
    return f"{dimension}={','.join(values)}"


def explorer_dimension(raw: str, taxonomy: Taxonomy) -> str:
    """A group-by or filter dimension in its one spelling: a built-in one (team, account, service, region,
    charge_category, resource, cluster, namespace), ``tag:KEY`` (a Kubernetes label is a tag of its pods) (the key folded and aliased), or a bare taxonomy key (read as
    its tag). The built-in names win over tag keys of the same name (``tag:service`` is the tag)."""
    name = raw.strip()
    folded = name.lower().replace("-", "_").replace(" ", "_")
    if folded in EXPLORER_DIMENSIONS:
        return folded
    if name.lower().startswith("tag:"):
        key = taxonomy.canonical_key(name[4:])
        if not key:
            raise ValueError(f"dimension {raw!r} names no tag key (use tag:KEY)")
        return f"tag:{key}"
    key = taxonomy.canonical_key(name)
    if key and key in taxonomy.keys:
        return f"tag:{key}"
    raise ValueError(f"unknown dimension {raw!r}; use one of {', '.join(EXPLORER_DIMENSIONS)}, a taxonomy key "
                     f"({', '.join(taxonomy.keys)}) or tag:KEY")


def parse_filter(text: str, taxonomy: Taxonomy) -> tuple[str, tuple[str, ...]]:
    """``DIMENSION=V1,V2`` -> (dimension, values). ``(none)`` matches rows without a value."""
    dim, sep, values = text.partition("=")
    if not sep:
        raise ValueError(f"filter {text!r} must be DIMENSION=VALUE[,VALUE...]")
    items = tuple(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
    if not items:
        raise ValueError(f"filter {text!r} names no value")
    return explorer_dimension(dim, taxonomy), items


def merge_filters(pairs: list[tuple[str, tuple[str, ...]]]) -> Filters:
    """Filters on the same dimension given twice: their values together."""
    out: dict[str, tuple[str, ...]] = {}
    for dim, values in pairs:
        out[dim] = tuple(dict.fromkeys([*out.get(dim, ()), *values]))
    return tuple(out.items())


def build_view(*, group_by: list[str], filters: list[str], excludes: list[str], preset: str | None,
               start: date | None, end: date | None, granularity: str, cost: str,
               taxonomy: Taxonomy) -> ExplorerView:
    """An ExplorerView from its parts as a person types them; a ValueError names the part that is wrong."""
    dims = tuple(dict.fromkeys(explorer_dimension(g, taxonomy) for g in group_by if g.strip()))
    if not dims:
        raise ValueError("group by names no dimension")
    if granularity not in EXPLORER_GRAINS:
        raise ValueError(f"granularity must be one of {', '.join(EXPLORER_GRAINS)}, got {granularity!r}")
    if cost not in EXPLORER_COSTS:
        raise ValueError(f"cost must be one of {', '.join(EXPLORER_COSTS)}, got {cost!r}")
    if start is not None or end is not None:
        preset = preset or "custom"
    preset = preset or "last_30_days"
    if preset not in EXPLORER_PRESETS:
        raise ValueError(f"preset must be one of {', '.join(EXPLORER_PRESETS)}, got {preset!r}")
    if preset == "custom":
        if start is None or end is None:
            raise ValueError("a custom window needs both start and end")
        if start >= end:
            raise ValueError(f"start {start.isoformat()} must be before end {end.isoformat()}")
    elif start is not None or end is not None:
        raise ValueError(f"start and end go with the custom preset, not {preset}")
    return ExplorerView(dims, merge_filters([parse_filter(f, taxonomy) for f in filters]),
                        merge_filters([parse_filter(f, taxonomy) for f in excludes]), preset, start, end,
                        granularity, cost)


IDLE_SPLITS = ("proportional", "platform")


@dataclass(frozen=True)
class ContainersConfig:
    """How the cost of shared Kubernetes / ECS nodes is allocated from CUR 2.0 split cost allocation data:
    who pays a node's unused capacity (``proportional``: each pod its share, as AWS splits it; ``platform``:
    ``platform_team`` keeps it whole), and which team a pod's namespace (an ECS task's service) or a
    Kubernetes label value (``(label, value)``) belongs to. A pod's own allocation-key label wins over both."""

    idle: str = "proportional"
    platform_team: str = "platform"
    namespaces: dict[str, str] = field(default_factory=dict)
    labels: dict[tuple[str, str], str] = field(default_factory=dict)


def _containers(ct: dict[str, Any], where: str) -> ContainersConfig:
    if ct["idle"] not in IDLE_SPLITS:
        raise ConfigError(f"{where}: key 'containers.idle' must be one of {', '.join(IDLE_SPLITS)}, "
                          f"got {ct['idle']!r}")
    platform = ct["platform_team"].strip()
    if ct["idle"] == "platform" and not platform:
        raise ConfigError(f"{where}: key 'containers.platform_team' must name a team when idle is \"platform\"")
    namespaces = {}
    for ns, team in ct["namespaces"].items():
        if not ns.strip() or not team.strip():
            raise ConfigError(f"{where}: key 'containers.namespaces.{ns}' must map a namespace to a team name")
        namespaces[ns.strip()] = team.strip()
    labels: dict[tuple[str, str], str] = {}
    for text, team in ct["labels"].items():
        label, sep, value = text.partition("=")
        if not sep or not label.strip() or not value.strip() or not team.strip():
            raise ConfigError(f"{where}: key 'containers.labels.\"{text}\"' must be \"LABEL=VALUE\" = \"team\"")
        labels[(fold_key(label), value.strip())] = team.strip()
    return ContainersConfig(ct["idle"], platform, namespaces, labels)


@dataclass(frozen=True)
class NotifyConfig:
    preread_days: int = 3
    retry_after_minutes: float = 5.0
    retry_max_hours: float = 6.0


@dataclass(frozen=True)
class AwsConfig:
    """Timeouts of the AWS sync, in seconds (the defaults fail an unresponsive endpoint in under a minute)."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    dataset_deadline_s: float = 30.0


WAREHOUSE_ENGINES = ("duckdb", "athena")
WAREHOUSE_SHAPES = ("cur2", "focus1.2")


@dataclass(frozen=True)
class WarehouseConfig:
    """Which engine answers the named cost queries (``[warehouse]``); the Athena fields matter only there."""

    engine: str = "duckdb"
    database: str = ""
    table: str = ""
    view: str = "finops_line_items"
    shape: str = "cur2"
    workgroup: str = "primary"
    output_location: str = ""
    region: str = ""
    profile: str = ""
    max_scan_gb: float = 0.0

    @property
    def is_athena(self) -> bool:
        return self.engine == "athena"


def _warehouse(wh: dict[str, Any], where: str) -> WarehouseConfig:
    if wh["engine"] not in WAREHOUSE_ENGINES:
        raise ConfigError(f"{where}: key 'warehouse.engine' must be one of {', '.join(WAREHOUSE_ENGINES)}, "
                          f"got {wh['engine']!r}")
    if wh["shape"] not in WAREHOUSE_SHAPES:
        raise ConfigError(f"{where}: key 'warehouse.shape' must be one of {', '.join(WAREHOUSE_SHAPES)}, "
                          f"got {wh['shape']!r}")
    if wh["max_scan_gb"] < 0:
        raise ConfigError(f"{where}: key 'warehouse.max_scan_gb' must be 0 (no bound) or more")
    for key in ("database", "table", "view"):
        value = wh[key]
        if value and not all(c.isalnum() or c == "_" for c in value):
            raise ConfigError(f"{where}: key 'warehouse.{key}' must be letters, digits and _ only, got {value!r}")
    if wh["engine"] == "athena":
        missing = [k for k in ("database", "table", "view") if not wh[k]]
        if missing:
            raise ConfigError(f"{where}: engine \"athena\" needs warehouse.{', warehouse.'.join(missing)}")
    if wh["output_location"] and not wh["output_location"].startswith("s3://"):
        raise ConfigError(f"{where}: key 'warehouse.output_location' must be an s3:// URL")
    return WarehouseConfig(wh["engine"], wh["database"], wh["table"], wh["view"], wh["shape"], wh["workgroup"],
                           wh["output_location"], wh["region"], wh["profile"], float(wh["max_scan_gb"]))


@dataclass(frozen=True)
class Config:
    taxonomy: Taxonomy
    targets: Targets
    shared_costs: SharedCosts
    calendar: CalendarConfig
    timezone: str
    currency: str
    source: Path | None = None
    anomalies: AnomalyConfig = field(default_factory=AnomalyConfig)
    commitments: CommitmentsConfig = field(default_factory=CommitmentsConfig)
    unit_economics: UnitEconomicsConfig = field(default_factory=UnitEconomicsConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    theme: str = "dark"
    keys: dict[str, str] = field(default_factory=dict)  # the app's keymap: binding id -> keys
    explorer_views: dict[str, ExplorerView] = field(default_factory=dict)
    aws: AwsConfig = field(default_factory=AwsConfig)
    containers: ContainersConfig = field(default_factory=ContainersConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _defaults_text() -> str:
    return resources.files("storage").joinpath("defaults", CONFIG_NAME).read_text(encoding="utf-8")


def default_config_text() -> str:
    """The shipped defaults, commented, as a user would copy them."""
    return _defaults_text()


def _check_shape(user: dict[str, Any], defaults: dict[str, Any], where: str, prefix: str = "") -> None:
    for key, value in user.items():
        dotted = f"{prefix}{key}"
        if dotted in _FREE_TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: key '{dotted}' must be a table")
            want = _FREE_TABLES[dotted]
            for sub, subval in value.items():
                if not isinstance(subval, want) or isinstance(subval, bool):
                    raise ConfigError(f"{where}: key '{dotted}.{sub}' has the wrong type ({type(subval).__name__})")
            continue
        if key not in defaults:
            raise ConfigError(f"{where}: unknown key '{dotted}'")
        expected = defaults[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: key '{dotted}' must be a table")
            _check_shape(value, expected, where, dotted + ".")
            continue
        ok = isinstance(value, type(expected)) and not (isinstance(value, bool) and not isinstance(expected, bool))
        if isinstance(expected, float) and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ConfigError(
                f"{where}: key '{dotted}' must be {type(expected).__name__}, got {type(value).__name__}"
            )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _build(data: dict[str, Any], where: str, source: Path | None) -> Config:
    tx = data["taxonomy"]
    aliases = {fold_key(k): fold_key(v) for k, v in tx["aliases"].items()}
    allowed: dict[str, tuple[str, ...]] = {}
    for key, values in tx["allowed_values"].items():
        if not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{where}: key 'taxonomy.allowed_values.{key}' must be a list of strings")
        allowed[fold_key(key)] = tuple(values)
    alloc = fold_key(tx["allocation_key"])
    if not alloc:
        raise ConfigError(f"{where}: key 'taxonomy.allocation_key' must not be empty")
    required = tx["required_keys"]
    if not all(isinstance(v, str) and v.strip() for v in required):
        raise ConfigError(f"{where}: key 'taxonomy.required_keys' must be a list of non-empty strings")
    categories = tx["charge_categories"]
    if not categories or not all(isinstance(v, str) and v.strip() for v in categories):
        raise ConfigError(f"{where}: key 'taxonomy.charge_categories' must be a non-empty list of ChargeCategory "
                          "names")
    taxonomy = Taxonomy(alloc, tuple(fold_key(k) for k in required), aliases, allowed,
                        tuple(v.strip() for v in categories))

    tg = data["targets"]
    for key, value in tg.items():
        if not 0 <= float(value) <= 100:
            raise ConfigError(f"{where}: key 'targets.{key}' must be between 0 and 100")
    targets = Targets(**{k: float(v) for k, v in tg.items()})

    sc = data["shared_costs"]
    if sc["method"] not in _SPLIT_METHODS:
        raise ConfigError(f"{where}: key 'shared_costs.method' must be one of {', '.join(_SPLIT_METHODS)}")
    fixed = {k: float(v) for k, v in sc["fixed_pct"].items()}
    if sc["method"] == "fixed" and abs(sum(fixed.values()) - 100.0) > 0.01:
        raise ConfigError(f"{where}: key 'shared_costs.fixed_pct' must add up to 100 when method is fixed")
    shared = SharedCosts(sc["method"], tuple(str(a) for a in sc["shared_accounts"]), fixed)

    cal = data["calendar"]
    if not 1 <= cal["sweep_weekday"] <= 7:
        raise ConfigError(f"{where}: key 'calendar.sweep_weekday' must be 1 (Monday) to 7 (Sunday)")
    if not 1 <= cal["monthly_review_day"] <= 28:
        raise ConfigError(f"{where}: key 'calendar.monthly_review_day' must be 1 to 28")
    months = cal["quarter_start_months"]
    if len(months) != 4 or not all(isinstance(m, int) and 1 <= m <= 12 for m in months):
        raise ConfigError(f"{where}: key 'calendar.quarter_start_months' must list four months 1-12")
    calendar = CalendarConfig(cal["sweep_weekday"], cal["monthly_review_day"], tuple(sorted(months)))

    gen = data["general"]
    try:
        ZoneInfo(gen["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: key 'general.timezone' is not a known time zone: {gen['timezone']!r}") from exc
    currency = gen["currency"].strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ConfigError(f"{where}: key 'general.currency' must be a three-letter ISO code")
    an = data["anomalies"]
    if an["min_impact"] < 0 or not 0 <= an["min_impact_pct"] <= 1000 or an["min_history_days"] < 1:
        raise ConfigError(f"{where}: keys 'anomalies.*' must be min_impact >= 0, min_impact_pct 0-1000 and "
                          "min_history_days >= 1")
    anomalies = AnomalyConfig(float(an["min_impact"]), float(an["min_impact_pct"]), int(an["min_history_days"]))
    theme = data["ui"]["theme"]
    if theme not in THEMES:
        raise ConfigError(f"{where}: key 'ui.theme' must be one of {', '.join(THEMES)}, got {theme!r}")
    keys = {}
    for binding, value in data["keys"].items():
        if not value.strip() or any(not part.strip() for part in value.split(",")):
            raise ConfigError(f"{where}: key 'keys.{binding}' must name one or more keys, comma separated")
        keys[binding] = ",".join(part.strip() for part in value.split(","))
    aws = data["aws"]
    if not all(0 < float(aws[k]) <= 3600 for k in ("connect_timeout_s", "read_timeout_s", "dataset_deadline_s")):
        raise ConfigError(f"{where}: keys 'aws.*_s' must be seconds above 0 and at most 3600")
    return Config(taxonomy, targets, shared, calendar, gen["timezone"], currency, source, anomalies,
                  _commitments(data["commitments"], where), _unit_economics(data["unit_economics"], where),
                  _notify(data["notify"], where), theme, keys,
                  _explorer_views(data["explorer"]["views"], where, taxonomy),
                  AwsConfig(float(aws["connect_timeout_s"]), float(aws["read_timeout_s"]),
                            float(aws["dataset_deadline_s"])),
                  _containers(data["containers"], where),
                  _warehouse(data["warehouse"], where))


def _notify(nt: dict[str, Any], where: str) -> NotifyConfig:
    if not 0 <= nt["preread_days"] <= 28:
        raise ConfigError(f"{where}: key 'notify.preread_days' must be 0 to 28")
    if float(nt["retry_after_minutes"]) < 0 or float(nt["retry_max_hours"]) < 0:
        raise ConfigError(f"{where}: keys 'notify.retry_after_minutes' and 'notify.retry_max_hours' must be >= 0")
    return NotifyConfig(int(nt["preread_days"]), float(nt["retry_after_minutes"]), float(nt["retry_max_hours"]))


def _explorer_views(views: dict[str, Any], where: str, taxonomy: Taxonomy) -> dict[str, ExplorerView]:
    out: dict[str, ExplorerView] = {}
    for name, raw in views.items():
        at = f"{where}: key 'explorer.views.{name}"
        if not name.strip():
            raise ConfigError(f"{where}: an explorer view needs a name")
        unknown = sorted(set(raw) - set(_VIEW_KEYS))
        if unknown:
            raise ConfigError(f"{at}': unknown key '{unknown[0]}' (a view has {', '.join(_VIEW_KEYS)})")
        lists = {}
        for key in ("group_by", "filters", "excludes"):
            value = raw.get(key, ["team"] if key == "group_by" else [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{at}.{key}' must be a list of strings")
            lists[key] = value
        scalars: dict[str, Any] = {}
        for key, default in (("preset", None), ("granularity", "day"), ("cost", "effective")):
            value = raw.get(key, default)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{at}.{key}' must be a string")
            scalars[key] = value
        days: dict[str, date | None] = {}
        for key in ("start", "end"):
            value = raw.get(key)
            if isinstance(value, str):
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    raise ConfigError(f"{at}.{key}' must be an ISO date YYYY-MM-DD, got {value!r}") from None
            if value is not None and not isinstance(value, date):
                raise ConfigError(f"{at}.{key}' must be an ISO date YYYY-MM-DD")
            days[key] = value
        try:
            out[name] = build_view(group_by=lists["group_by"], filters=lists["filters"],
                                   excludes=lists["excludes"], preset=scalars["preset"], start=days["start"],
                                   end=days["end"], granularity=scalars["granularity"], cost=scalars["cost"],
                                   taxonomy=taxonomy)
        except ValueError as exc:
            raise ConfigError(f"{at}': {exc}") from exc
    return out


def save_explorer_view(home: Path, name: str, view: ExplorerView) -> Path:
    """Add ``view`` as ``[explorer.views.NAME]`` to the home's config file (created when absent), keeping
    the rest of the file as it is. A name already saved is refused; the file is only replaced once the new
    text loads as a valid configuration."""
    name = name.strip()
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"a view name is letters, digits, '-' and '_', got {name!r}")
    path = Path(home) / CONFIG_NAME
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    current = load_config(home)
    if name in current.explorer_views:
        raise ValueError(f"{path}: a view named {name!r} is already saved; pick another name or edit the file")
    block = "\n".join([f"[explorer.views.{name}]", *view.as_toml_lines()])
    new = (text.rstrip("\n") + "\n\n" if text.strip() else "") + block + "\n"
    try:
        user = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot add the view ({exc})") from exc
    defaults = tomllib.loads(_defaults_text())
    _check_shape(user, defaults, str(path))
    _build(_merge(defaults, user), str(path), path)
    tmp = path.with_name(f".{CONFIG_NAME}.{os.getpid()}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _unit_economics(ue: dict[str, Any], where: str) -> UnitEconomicsConfig:
    per = {k: float(v) for k, v in ue["per"].items()}
    if any(v <= 0 for v in per.values()):
        raise ConfigError(f"{where}: key 'unit_economics.per' values must be positive")
    spend = {k: v.strip() for k, v in ue["spend"].items()}
    if not all(spend.values()):
        raise ConfigError(f"{where}: key 'unit_economics.spend' values must be \"total\" or a team name")
    return UnitEconomicsConfig(spend, per)


def _commitments(cm: dict[str, Any], where: str) -> CommitmentsConfig:
    if cm["lookback_days"] not in LOOKBACK_DAYS:
        raise ConfigError(f"{where}: key 'commitments.lookback_days' must be one of 7, 30, 60")
    if not 0 <= float(cm["baseline_percentile"]) <= 100:
        raise ConfigError(f"{where}: key 'commitments.baseline_percentile' must be between 0 and 100")
    if not 0 <= float(cm["discount_rate_pct"]) < 100:
        raise ConfigError(f"{where}: key 'commitments.discount_rate_pct' must be at least 0 and below 100")
    if cm["term_years"] not in TERM_YEARS:
        raise ConfigError(f"{where}: key 'commitments.term_years' must be 1 or 3")
    if cm["payment_option"] not in PAYMENT_OPTIONS:
        raise ConfigError(f"{where}: key 'commitments.payment_option' must be one of {', '.join(PAYMENT_OPTIONS)}")
    services = cm["eligible_services"]
    if not all(isinstance(v, str) and v.strip() for v in services):
        raise ConfigError(f"{where}: key 'commitments.eligible_services' must be a list of service names")
    return CommitmentsConfig(cm["lookback_days"], float(cm["baseline_percentile"]), float(cm["discount_rate_pct"]),
                             cm["term_years"], cm["payment_option"], tuple(v.strip() for v in services))


def load_config(home: Path | None) -> Config:
    """The defaults, overlaid with ``home/finops-tui.toml`` when it exists."""
    defaults = tomllib.loads(_defaults_text())
    if home is None:
        return _build(defaults, "defaults", None)
    path = Path(home) / CONFIG_NAME
    if not path.exists():
        return _build(defaults, "defaults", None)
    try:
        user = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    _check_shape(user, defaults, str(path))
    return _build(_merge(defaults, user), str(path), path)
