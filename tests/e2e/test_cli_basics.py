"""The installed `finops-tui` command: help, version, per-command help with --home, bad config."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=full, timeout=120)


def test_help_and_version() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert "--home" in out.stdout and "--db" in out.stdout and "Commands:" in out.stdout
    ver = run("--version")
    assert ver.returncode == 0 and ver.stdout.startswith("finops-tui, version ")


def test_every_command_has_help_with_a_home(tmp_path: Path) -> None:
    names = []
    listing = run("--help").stdout.split("Commands:")[1]
    for line in listing.splitlines():
        if line.startswith("  ") and line.strip():
            names.append(line.split()[0])
    assert {"info", "config"} <= set(names)
    for name in names:
        out = run("--home", str(tmp_path), name, "--help")
        assert out.returncode == 0, (name, out.stderr)
        assert "Usage: finops-tui" in out.stdout


def test_info_on_an_empty_home(tmp_path: Path) -> None:
    out = run("--home", str(tmp_path / "h"), "info", "--json")
    assert out.returncode == 0, out.stderr
    assert '"cost_rows": 0' in out.stdout


def test_a_bad_config_exits_2_naming_key_and_file(tmp_path: Path) -> None:
    (tmp_path / "finops-tui.toml").write_text("[targets]\nallocation_pc = 3\n")
    out = run("--home", str(tmp_path), "config")
    assert out.returncode == 2
    assert "targets.allocation_pc" in out.stderr and "finops-tui.toml" in out.stderr
    assert "Traceback" not in out.stderr
