"""A plain HTTP endpoint on 127.0.0.1 standing in for another chat service: Apprise's
`json://` (and `form://`) notifications are posted to it, and it records each request.

`received` holds every request; `delivered` the notifications the "service" accepted (what
its users would see). `answers` scripts plain statuses (the notification is delivered, the
status is answered anyway); `fault` scripts a failure before or after delivery
(tests/http_faults.py): a 5xx or a lost answer after delivering, a 429 with Retry-After or a
closed connection before.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from typing_extensions import Self

from tests.http_faults import Fault, lose_answer, make_fault, take


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 200
    lost: str = ""  # what a fault did: "after: 500", "before: 429", ...


class FakeEndpoint:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.delivered: list[Received] = []
        self.answers: deque[int] = deque()  # statuses to answer with next; 200 when empty
        self.faults: list[Fault] = []
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

    def fault(self, *, performed: bool, answer: int | str, times: int = 1, retry_after: int | None = None,
              hang: float = 3.0) -> None:
        """The next `times` notifications are delivered first (`performed=True`) or not at all,
        then answered with `answer`: a status, "drop", "truncate", "cut" or "hang"."""
        with self._lock:
            self.faults.append(make_fault("POST", "", performed=performed, answer=answer, times=times,
                                          retry_after=retry_after, hang=hang))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                kind = self.headers.get("Content-Type", "")
                body: Any = json.loads(raw) if "json" in kind else {k: v[-1] for k, v in parse_qs(raw).items()}
                got = Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.received.append(got)
                    fault = take(fake.faults, "POST", self.path)
                    if fault is None or fault.performed:
                        fake.delivered.append(got)
                    status = fake.answers.popleft() if fake.answers else 200
                out = b"{}"
                headers = {"Content-Type": "application/json"}
                if fault is not None:
                    got.lost = f"{'after' if fault.performed else 'before'}: {fault.answer}"
                    if fault.status is None:  # drop, truncate, cut, hang
                        got.status = status if fault.answer in ("truncate", "cut") else 0
                        lose_answer(self, fault, status, headers, b'{"ok": true, "id": "delivered"}')
                        return
                    status = fault.status
                    headers.update(fault.headers)
                    out = b'{"error": "fake failure"}'
                got.status = status
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
