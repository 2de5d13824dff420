"""A plain HTTP endpoint on 127.0.0.1 standing in for another chat service: Apprise's
`json://` (and `form://`) notifications are posted to it, and it records each request."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from typing_extensions import Self


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeEndpoint:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: deque[int] = deque()  # statuses to answer with next; 200 when empty
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def hostport(self) -> str:
        port = self._server.server_address[1]
        host = "127.0.0.1"  # bound above; server_address may type as bytes
        return f"{host}:{port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                kind = self.headers.get("Content-Type", "")
                body: Any = json.loads(raw) if "json" in kind else {k: v[-1] for k, v in parse_qs(raw).items()}
                with fake._lock:
                    fake.received.append(Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = fake.answers.popleft() if fake.answers else 200
                out = b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
