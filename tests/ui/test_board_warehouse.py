"""The board on a home whose cost engine is Athena and cannot answer (no region here): the app says why in
a notification and keeps running, instead of dying on the worker's error."""

from __future__ import annotations

from finops_tui.app import FinOpsApp
from finops_tui.screens.board import BoardScreen
from storage.clock import Clock
from storage.home import Home
from tests.conftest import FIXED_TODAY
from tests.workers import workers_done


async def test_a_warehouse_that_cannot_answer_is_a_notification(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    (path / "finops-tui.toml").write_text('[warehouse]\nengine = "athena"\ndatabase = "cur"\ntable = "t"\n')
    app = FinOpsApp(Home(path, clock_override=Clock(FIXED_TODAY)))
    async with app.run_test(size=(120, 40)) as pilot:
        await workers_done(pilot.app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        notes = [n.message for n in app._notifications]
        assert any("no AWS region" in m for m in notes), notes
