"""A probe's target and an upstream's status page for tests: an HTTP server on 127.0.0.1 whose
answer the test sets (status, body, delay), recording the headers it was sent."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


class Target:
    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b"ok"
        self.content_type = "text/plain"
        self.delay = 0.0
        self.hits = 0
        self.seen_headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with target._lock:
                    target.hits += 1
                    target.seen_headers.append(dict(self.headers.items()))
                    status, body, kind, delay = target.status, target.body, target.content_type, target.delay
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, status: int, body: str | bytes = b"", *, delay: float = 0.0) -> None:
        with self._lock:
            self.status, self.delay = status, delay
            self.body = body.encode() if isinstance(body, str) else body

    def page(self, fixture: Path) -> None:
        """Serve a Statuspage JSON fixture."""
        with self._lock:
            self.status, self.content_type = 200, "application/json"
            self.body = json.dumps(json.loads(fixture.read_text(encoding="utf-8"))).encode()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
