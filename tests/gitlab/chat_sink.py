"""A Slack incoming-webhook endpoint on 127.0.0.1 that records what it is sent.

Slack answers a good webhook post with HTTP 200 and the body `ok`
(https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ChatSink:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []  # (path, JSON body)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.posts.append((self.path, json.loads(raw or b"{}")))
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> ChatSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def texts(self, channel: str | None = None) -> list[str]:
        return [body.get("text", "") for path, body in self.posts if channel is None or path == f"/{channel}"]
