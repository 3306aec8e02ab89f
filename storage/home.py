"""A home folder and the services built from it: config, records, costs and the clock.

The command line builds one ``Home`` and hands it to the app or to a headless command; nothing creates
services at import time. Stores open lazily so that ``--help`` and the first paint stay fast.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from storage.clock import Clock
from storage.config import CONFIG_NAME, Config, load_config

if TYPE_CHECKING:
    from storage.costs import CostStore
    from storage.db import Records

HOME_ENV = "FINOPS_TUI_HOME"
DB_ENV = "FINOPS_TUI_DB"
USER_ENV = "FINOPS_TUI_USER"
COSTS_FILE = "costs.duckdb"
RECORDS_FILE = "records.sqlite"
DEMO_MARKER = ".finops-tui-demo"
# Who each OS user of this machine said they are (My actions asks once): {"os user": "handle"}.
WHOAMI_FILE = "whoami.json"
_OPENING = threading.RLock()
# Billing data and records are private to their user: the home folder 0700, everything in it 0600.
PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_umask() -> int:
    """Make everything this process writes from now on private to its user (umask 077); the old umask."""
    return os.umask(PRIVATE_UMASK)


def _home_entries(path: Path) -> list[Path]:
    """The home folder and what sits directly in it (stores, their -wal/-shm/.wal companions, the config,
    scratch files and folders); nothing is followed through a symbolic link."""
    if not path.is_dir():
        return []
    try:
        inside = sorted(p for p in path.iterdir() if not p.is_symlink())
    except OSError:
        inside = []
    return [path, *inside]


def exposed(path: Path) -> list[tuple[Path, int]]:
    """(entry, its permission bits) for the home and each entry in it that its group or others may use.

    The one permission check of a home: ``finops-tui info`` warns with it and the doctor reports it."""
    out = []
    for entry in _home_entries(Path(path)):
        try:
            mode = stat.S_IMODE(entry.lstat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            out.append((entry, mode))
    return out


def permission_warnings(path: Path) -> list[str]:
    """One sentence per home entry others can read or enter, saying what would make it private."""
    lines = []
    for entry, mode in exposed(path):
        want = PRIVATE_DIR if entry.is_dir() else PRIVATE_FILE
        lines.append(f"{entry} is open to other users (mode {mode:04o}); it should be {want:04o} "
                     f"(chmod {want:o} '{entry}', or run any finops-tui command that writes to this home)")
    return lines


def make_private(path: Path) -> list[str]:
    """Tighten the home and the entries in it to 0700 (folders) / 0600 (files); one notice per change.
    Entries another user owns (chmod refused) are reported as such, never silently left."""
    notices = []
    for entry, mode in exposed(path):
        want = PRIVATE_DIR if entry.is_dir() else PRIVATE_FILE
        try:
            entry.chmod(want)
            notices.append(f"made {entry} private to its user (mode {mode:04o} -> {want:04o})")
        except OSError as exc:
            notices.append(f"could not make {entry} private (mode {mode:04o}): {exc.strerror}")
    return notices


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("finops-tui", appauthor=False))


def demo_home() -> Path:
    return default_home() / "demo"


@dataclass
class Home:
    """One home folder: ``finops-tui.toml``, ``records.sqlite`` and ``costs.duckdb``."""

    path: Path
    db_url: str | None = field(default=None, repr=False)  # may hold a password: see records_display_url
    clock_override: Clock | None = None
    explicit: bool = True  # named by --home or FINOPS_TUI_HOME (the demo then uses it)
    max_scan_gb: float | None = None  # --max-scan-gb: overrides [warehouse] max_scan_gb
    _records: Records | None = field(default=None, repr=False)

    @classmethod
    def resolve(cls, home: Path | str | None = None, db_url: str | None = None) -> Home:
        raw = home or os.environ.get(HOME_ENV)
        return cls(Path(raw or default_home()).expanduser(), db_url or os.environ.get(DB_ENV) or None,
                    explicit=bool(raw))

    @cached_property
    def config(self) -> Config:
        return load_config(self.path)

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_NAME

    @cached_property
    def clock(self) -> Clock:
        """FINOPS_TUI_TODAY first; a demo home then answers with the day it was generated for, so its
        history always ends "yesterday"; otherwise the system clock."""
        if self.clock_override is not None:
            return self.clock_override
        clock = Clock.from_env(self.config.tz)
        if clock.today_override is None and self.is_demo:
            as_of = self.demo_as_of()
            if as_of is not None:
                return Clock(as_of, self.config.tz)
        return clock

    def demo_as_of(self) -> date | None:
        import json

        try:
            raw = json.loads((self.path / DEMO_MARKER).read_text(encoding="utf-8")).get("as_of")
            return date.fromisoformat(raw) if raw else None
        except (OSError, ValueError, AttributeError):
            return None

    @property
    def costs_path(self) -> Path:
        return self.path / COSTS_FILE

    @cached_property
    def costs(self) -> CostStore:  # imported here: a records-only command never loads the cost store
        import dataclasses

        from storage.costs import CostStore

        warehouse = self.config.warehouse
        if self.max_scan_gb is not None:
            warehouse = dataclasses.replace(warehouse, max_scan_gb=self.max_scan_gb)
        return CostStore(self.costs_path, self.config.taxonomy, self.config.containers, warehouse=warehouse)

    @property
    def records_url(self) -> str:
        from storage.db import sqlite_url

        return self.db_url or sqlite_url(self.path / RECORDS_FILE)

    @property
    def records_display_url(self) -> str:
        """The records URL as it may be shown: its password as ``***``."""
        from storage.records_url import redact_url

        return redact_url(self.records_url)

    @property
    def records(self) -> Records:  # storage.db is imported lazily (SQLModel, SQLAlchemy)
        # Two app workers may ask at once; one opens (and migrates) the store, the other waits for it.
        with _OPENING:
            if self._records is None:
                from storage.db import Records

                if self.db_url is None:
                    self.path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
                self._records = Records(self.records_url)
            return self._records

    # -- who is at this terminal ---------------------------------------------------------------------------
    def remembered_people(self) -> dict[str, str]:
        """OS user -> the handle they chose on this machine (empty when nobody chose, or the file is unreadable)."""
        import json

        try:
            raw = json.loads((self.path / WHOAMI_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def remember_person(self, os_user: str, handle: str | None) -> None:
        """Remember (or, with None, forget) who ``os_user`` is; written whole (a crash leaves the old file)
        and readable by its owner only."""
        import json

        chosen = self.remembered_people()
        if handle is None:
            chosen.pop(os_user, None)
        else:
            chosen[os_user] = handle
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / WHOAMI_FILE
        scratch = target.with_suffix(".tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(chosen, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(scratch, target)

    # -- what the folder holds --------------------------------------------------------------------------
    @property
    def is_demo(self) -> bool:
        return (self.path / DEMO_MARKER).exists()

    def has_cost_data(self) -> bool:
        return self.config.warehouse.is_athena or self.costs_path.exists()

    def has_any_data(self) -> bool:
        """True when the folder holds anything a user could lose (stores or a config)."""
        if not self.path.exists():
            return False
        return any((self.path / name).exists() for name in (COSTS_FILE, RECORDS_FILE, CONFIG_NAME))

    def close(self) -> None:
        if self._records is not None:
            self._records.dispose()
            self._records = None
