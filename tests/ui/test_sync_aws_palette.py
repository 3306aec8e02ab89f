"""The palette's "Sync AWS" runs the sync in a worker (against moto's server on loopback) and reports."""

from __future__ import annotations

import pytest

from finops_tui.app import FinOpsApp
from tests.workers import workers_done


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
                       "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    yield
    server.stop()


async def test_palette_sync_runs_in_a_worker_and_reports(home, moto_endpoint) -> None:
    app = FinOpsApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Sync AWS" in titles
        app.action_sync_aws()
        await workers_done(app)
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("requests ($" in m and "forecast:" in m for m in messages), messages
    assert home.costs.meta("aws_synced_at") is not None
    assert int(home.costs.meta("aws_requests_total")) > 0
