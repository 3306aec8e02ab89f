"""Real receivers on loopback for the notification tests: an HTTP server capturing Apprise's ``json://``
posts, and an aiosmtpd SMTP server for ``mailto://``. Both fail (not skip) when they cannot start."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A free TCP port on loopback (aiosmtpd's Controller(port=0) does not report the port it got)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int  # what the receiver answered


@dataclass
class JsonReceiver:
    """Captures every POST; answers each path with the next status of ``script[path]`` (then 200)."""

    script: dict[str, list[int]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    port: int = 0
    delay: float = 0.0  # seconds before answering: keeps a sender busy while another run starts

    def __post_init__(self) -> None:
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with lock:
                    queue = receiver.script.get(self.path, [])
                    status = queue.pop(0) if queue else 200
                    receiver.posts.append(Post(self.path, dict(self.headers), json.loads(raw or b"{}"), status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, extra: str = "") -> str:
        return f"json://127.0.0.1:{self.port}{path}{extra}"

    def delivered(self, path: str | None = None) -> list[Post]:
        """The posts answered with success (to ``path``)."""
        return [p for p in self.posts if p.status < 400 and (path is None or p.path == path)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailReceiver:
    """An aiosmtpd server on a free loopback port, keeping every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                from email import message_from_bytes, policy

                outer.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self, sender: str, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={to}"

    def close(self) -> None:
        self.controller.stop()
