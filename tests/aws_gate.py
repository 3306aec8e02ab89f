"""Loopback AWS endpoints for the sync's interruption tests: moto's server behind a gate that answers the
first N requests (forwarded to moto) and then stops answering, and a socket that never answers at all."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"}


class Gate:
    """Counts the requests that reach it; forwards the first ``answer`` to moto, holds the rest unanswered."""

    def __init__(self, moto_url: str, answer: int) -> None:
        self.moto_url, self.answer = moto_url, answer
        self.seen = 0
        self.arrived = threading.Condition()
        self.release = threading.Event()

    def wait_for(self, n: int, timeout: float = 60.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: self.seen >= n, timeout)


def _handler(gate: Gate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with gate.arrived:
                gate.seen += 1
                n = gate.seen
                gate.arrived.notify_all()
            if n > gate.answer:
                gate.release.wait(120)  # never answers while the test runs
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            req = urllib.request.Request(gate.moto_url + self.path, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    status, rh, data = resp.status, resp.headers, resp.read()
            except urllib.error.HTTPError as err:
                status, rh, data = err.code, err.headers, err.read()
            self.send_response(status)
            for k, v in rh.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def gated(moto_url: str, answer: int) -> Iterator[tuple[str, Gate]]:
    gate = Gate(moto_url, answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gate))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", gate
    finally:
        gate.release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def unresponsive() -> Iterator[str]:
    """An endpoint that accepts connections (the kernel's backlog) and never sends a byte."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def tag_results(values: list[str], day: str, amount: float) -> dict:
    """One GetCostAndUsage result of a tag key grouped by (tag, LINKED_ACCOUNT): one group per value."""
    money = {"Amount": str(amount), "Unit": "USD"}
    return {"ResultsByTime": [{"TimePeriod": {"Start": day, "End": day}, "Total": {}, "Estimated": False,
                               "Groups": [{"Keys": [v, "111111111111"],
                                           "Metrics": {"UnblendedCost": money, "AmortizedCost": money}}
                                          for v in values]}]}
