"""Loopback counterparts of the chat services Apprise talks to, each answering in its own
documented shapes: Microsoft Teams (a Power Automate "Workflows" webhook, over TLS as the
real one), Discord (execute webhook), Telegram (Bot API) and a Matrix homeserver (client-server
API). Every request is recorded; `fail` scripts the service's own error answers.

Sources for the shapes:
- Teams Workflows: POST .../workflows/{id}/triggers/manual/paths/invoke?api-version=..&sig=..
  answers 202 Accepted with no body; errors are Azure's `{"error": {"code", "message"}}`.
  https://learn.microsoft.com/azure/logic-apps/logic-apps-http-endpoint
- Discord: POST /api/webhooks/{id}/{token} answers 204 No Content (200 and the message with
  `?wait=true`); errors `{"message", "code"}` (10015 Unknown Webhook), 429 `{"message",
  "retry_after", "global"}` with Retry-After and X-RateLimit-* headers.
  https://discord.com/developers/docs/resources/webhook#execute-webhook,
  https://discord.com/developers/docs/topics/rate-limits
- Telegram: POST /bot{token}/sendMessage answers `{"ok": true, "result": Message}`; errors
  `{"ok": false, "error_code", "description", "parameters": {"retry_after"}}`.
  https://core.telegram.org/bots/api#making-requests
- Matrix: /_matrix/client/v3/login, /join/{alias}, /rooms/{id}/send/m.room.message/{txn};
  errors `{"errcode", "error"}` (M_FORBIDDEN, M_UNKNOWN_TOKEN, M_LIMIT_EXCEEDED with
  retry_after_ms). https://spec.matrix.org/latest/client-server-api/
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from typing_extensions import Self

Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (None: no body), extra headers


@dataclass
class Request:
    method: str
    path: str  # unquoted, without the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or the raw text


@dataclass
class Failure:
    match: re.Pattern[str]
    answer: Answer
    times: int


@dataclass
class Route:
    method: str
    path: re.Pattern[str]
    handler: Callable[[Request, re.Match[str]], Answer]


@dataclass
class LoopbackService:
    """An HTTP(S) server on 127.0.0.1 that records each request and answers by route."""

    name: str
    tls_dir: Path | None = None  # serve HTTPS with a self-signed certificate written there
    routes: list[Route] = field(default_factory=list)
    received: list[Request] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if self.tls_dir is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self_signed_certificate(self.tls_dir))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def route(self, method: str, path: str, handler: Callable[[Request, re.Match[str]], Answer]) -> None:
        self.routes.append(Route(method, re.compile(path), handler))

    def fail(self, status: int, body: Any, *, path: str = "", headers: dict[str, str] | None = None,
             times: int = 1) -> None:
        """The next `times` requests whose path matches `path` (a regex) get this answer."""
        with self._lock:
            self.failures.append(Failure(re.compile(path), (status, body, headers or {}), times))

    def requests(self, method: str, path: str = "") -> list[Request]:
        pattern = re.compile(path)
        return [r for r in self.received if r.method == method and pattern.search(r.path)]

    def _answer(self, request: Request) -> Answer:
        with self._lock:
            self.received.append(request)
            for failure in self.failures:
                if failure.times > 0 and failure.match.search(request.path):
                    failure.times -= 1
                    return failure.answer
        for route in self.routes:
            found = route.path.fullmatch(request.path)
            if route.method == request.method and found:
                return route.handler(request, found)
        return 404, {"error": f"no such endpoint on the fake {self.name}"}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    unquote(parts.path),
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                status, payload, headers = fake._answer(request)
                out = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A certificate and key for 127.0.0.1, written to `directory` (the client is told not to
    verify it: `verify=no` in the Apprise URL)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


# --- Microsoft Teams: a Power Automate "Workflows" webhook --------------------------------

def teams_workflows(tls_dir: Path, *, workflow: str, signature: str) -> LoopbackService:
    """The flow's HTTP trigger: the signature travels as the `sig` query parameter."""
    service = LoopbackService("Teams Workflows", tls_dir=tls_dir)

    def invoke(request: Request, found: re.Match[str]) -> Answer:
        if found.group("workflow") != workflow:
            return 404, {"error": {"code": "WorkflowNotFound",
                                   "message": f"The workflow '{found.group('workflow')}' could not be found."}}, {}
        if request.query.get("sig") != signature:
            return 401, {"error": {"code": "DirectApiInvalidAuthorizationSignature",
                                   "message": "The provided authorization signature is not valid."}}, {}
        return 202, None, {}

    service.route("POST", r"/workflows/(?P<workflow>[^/]+)/triggers/manual/paths/invoke", invoke)
    return service


TEAMS_THROTTLED = {"error": {"code": "WorkflowRequestsThrottled",
                             "message": "Number of read requests for workflow exceeded the limit."}}


# --- Discord: execute webhook ------------------------------------------------------------

def discord_webhook(*, webhook_id: str, token: str) -> LoopbackService:
    service = LoopbackService("Discord")

    def execute(request: Request, found: re.Match[str]) -> Answer:
        if found.group("id") != webhook_id or found.group("token") != token:
            return 401, {"message": "Invalid Webhook Token", "code": 50027}, {}
        limits = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
                  "X-RateLimit-Reset": f"{time.time() + 1:.3f}", "X-RateLimit-Reset-After": "1",
                  "X-RateLimit-Bucket": "abcd1234"}
        if request.query.get("wait") == "true":
            content = request.body or {}
            return 200, {"id": "1180000000000000001", "type": 0, "channel_id": "1170000000000000001",
                         "webhook_id": webhook_id, "content": content.get("content", ""),
                         "embeds": content.get("embeds", [])}, limits
        return 204, None, limits

    service.route("POST", r"/api/webhooks/(?P<id>[^/]+)/(?P<token>[^/]+)", execute)
    return service


DISCORD_UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
DISCORD_RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.01, "global": False}
DISCORD_RATE_LIMIT_HEADERS = {"Retry-After": "0", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                              "X-RateLimit-Reset-After": "0.010", "X-RateLimit-Scope": "shared"}


# --- Telegram: the Bot API ---------------------------------------------------------------

def telegram_bot_api(*, token: str, chat_id: str) -> LoopbackService:
    service = LoopbackService("Telegram")
    bot_id = int(token.split(":")[0])

    def call(request: Request, found: re.Match[str]) -> Answer:
        if found.group("token") != token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}
        method = found.group("method")
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": bot_id, "is_bot": True, "first_name": "Outage",
                                                "username": "outage_bot"}}, {}
        if method == "sendMessage":
            body = request.body or {}
            if str(body.get("chat_id")) != chat_id:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, {}
            return 200, {"ok": True, "result": {
                "message_id": len(service.requests("POST", "/sendMessage$")),
                "from": {"id": bot_id, "is_bot": True, "first_name": "Outage", "username": "outage_bot"},
                "chat": {"id": int(chat_id), "title": "Ops", "type": "supergroup"},
                "date": int(time.time()), "text": body.get("text", "")}}, {}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}

    service.route("POST", r"/bot(?P<token>[^/]+)/(?P<method>\w+)", call)
    return service


TELEGRAM_BLOCKED = {"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked from the supergroup chat"}
TELEGRAM_FLOOD = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                  "parameters": {"retry_after": 1}}


# --- Matrix: a homeserver's client-server API -----------------------------------------------

@dataclass
class MatrixRoom:
    room_id: str
    alias: str
    events: list[dict[str, Any]] = field(default_factory=list)


def matrix_homeserver(*, user: str, password: str, access_token: str, room: MatrixRoom,
                      server_name: str = "localhost") -> LoopbackService:
    """Password login hands out `access_token`; every other call must carry it as a Bearer
    token. The bot's user joins `room` by its alias and sends m.room.message events to it."""
    service = LoopbackService("Matrix")
    user_id = f"@{user}:{server_name}"
    joined: set[str] = set()
    sent: dict[str, str] = {}  # txn id -> event id: a repeated PUT is the same event (idempotent)

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {access_token}"

    def unknown_token() -> Answer:
        return 401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed.", "soft_logout": False}, {}

    def versions(request: Request, found: re.Match[str]) -> Answer:
        return 200, {"versions": ["r0.6.1", "v1.1", "v1.11"], "unstable_features": {}}, {}

    def login_flows(request: Request, found: re.Match[str]) -> Answer:
        return 200, {"flows": [{"type": "m.login.password"}]}, {}

    def login(request: Request, found: re.Match[str]) -> Answer:
        body = request.body or {}
        identifier = body.get("identifier", {}).get("user") or body.get("user")
        if body.get("type") != "m.login.password" or identifier not in (user, user_id) \
                or body.get("password") != password:
            return 403, {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"}, {}
        return 200, {"user_id": user_id, "access_token": access_token, "device_id": "OUTAGEBOT",
                     "home_server": server_name}, {}

    def register(request: Request, found: re.Match[str]) -> Answer:
        # Apprise registers the user when the login fails; public homeservers refuse that.
        return 403, {"errcode": "M_FORBIDDEN", "error": "Registration has been disabled"}, {}

    def logout(request: Request, found: re.Match[str]) -> Answer:
        if not authorised(request):
            return unknown_token()
        return 200, {}, {}

    def whoami(request: Request, found: re.Match[str]) -> Answer:
        if not authorised(request):
            return unknown_token()
        return 200, {"user_id": user_id, "device_id": "OUTAGEBOT", "is_guest": False}, {}

    def join(request: Request, found: re.Match[str]) -> Answer:
        if not authorised(request):
            return unknown_token()
        target = found.group("room")
        if target not in (room.alias, room.room_id):
            return 404, {"errcode": "M_NOT_FOUND", "error": f"Room alias {target} not found"}, {}
        joined.add(room.room_id)
        return 200, {"room_id": room.room_id}, {}

    def directory(request: Request, found: re.Match[str]) -> Answer:
        if found.group("alias") != room.alias:
            return 404, {"errcode": "M_NOT_FOUND", "error": "Room alias not found"}, {}
        return 200, {"room_id": room.room_id, "servers": [server_name]}, {}

    def joined_rooms(request: Request, found: re.Match[str]) -> Answer:
        if not authorised(request):
            return unknown_token()
        return 200, {"joined_rooms": sorted(joined)}, {}

    def state(request: Request, found: re.Match[str]) -> Answer:
        if not authorised(request):
            return unknown_token()
        # An unencrypted room has no m.room.encryption state event.
        return 404, {"errcode": "M_NOT_FOUND", "error": "Event not found."}, {}

    def send(request: Request, found: re.Match[str]) -> Answer:
        if not authorised(request):
            return unknown_token()
        if found.group("room") != room.room_id or room.room_id not in joined:
            return 403, {"errcode": "M_FORBIDDEN",
                         "error": f"User {user_id} not in room {found.group('room')}"}, {}
        txn = found.group("txn")
        if txn not in sent:
            sent[txn] = f"$event{len(sent) + 1}"
            room.events.append({"type": found.group("type"), "sender": user_id, "content": request.body,
                                "event_id": sent[txn]})
        return 200, {"event_id": sent[txn]}, {}

    api = r"/_matrix/client/(?:r0|v3)"
    service.route("GET", r"/_matrix/client/versions", versions)
    service.route("GET", api + r"/login", login_flows)
    service.route("POST", api + r"/login", login)
    service.route("POST", api + r"/register", register)
    service.route("POST", api + r"/logout", logout)
    service.route("GET", api + r"/account/whoami", whoami)
    service.route("POST", api + r"/join/(?P<room>[^/]+)", join)
    service.route("GET", api + r"/directory/room/(?P<alias>[^/]+)", directory)
    service.route("GET", api + r"/joined_rooms", joined_rooms)
    service.route("GET", api + r"/rooms/(?P<room>[^/]+)/state/(?P<type>[^/]+)(?:/.*)?", state)
    service.route("PUT", api + r"/rooms/(?P<room>[^/]+)/send/(?P<type>[^/]+)/(?P<txn>[^/]+)", send)
    return service


MATRIX_RATE_LIMITED = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 10}
