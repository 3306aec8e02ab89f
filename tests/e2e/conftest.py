"""Every test in tests/e2e runs the installed `finops-tui` (a new process per command, ~0.7 s of start-up
each), so every one is marked `slow`: `pytest -m "not slow"` is the fast loop without them."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.slow)
