"""A fake Slack on 127.0.0.1: the Web API methods outage-bot calls, and incoming webhooks.

It answers in Slack's documented shapes (tests/fixtures/slack/responses/, SOURCES.md there),
keeps channels, messages, threads, reactions and metadata like Slack does, and records every
request. Tests point the real slack_sdk clients at it (`WebClient(base_url=fake.api_url)`,
`WebhookClient(fake.add_webhook(...))`) and assert on what it recorded and holds.

Behaviour copied from Slack, where the notifiers depend on it:
- chat.postMessage takes a channel id or name (`#name` / `name`) and answers with the id;
  chat.update, reactions.add and conversations.* take ids only.
- conversations.history lists channel-level messages only (no thread replies), newest first,
  paginated by cursor; `metadata` is included only with `include_all_metadata`.
- a private channel the app is not in does not exist for it (channel_not_found); a public one
  it is not in gives not_in_channel.
- Block Kit limits are enforced (invalid_blocks), so tests catch an oversize header or section.
- scripted failures (`fail`): `ok: false` errors, HTTP 5xx, 429 with Retry-After, before the
  method runs; `fault` also fails a call *after* it ran (the message is stored, then the answer
  is a 5xx, a closed connection, a cut body or nothing: tests/http_faults.py).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from datetime import datetime
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from typing_extensions import Self

from tests.http_faults import Fault, lose_answer, make_fault, take

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
RESPONSES = FIXTURES / "responses"

TOKEN = "xoxb-0000000000-fake-bot-token"
BOT_USER = "U0OUTAGEBOT"
BOT_ID = "B0OUTAGEBOT"
APP_ID = "A0OUTAGEBOT"
TEAM = "T0FAKETEAM"
ALL_SCOPES = frozenset(
    {"chat:write", "reactions:write", "channels:history", "groups:history", "channels:read", "groups:read", "usergroups:write"}
)
NEEDS: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "reactions.add": ("reactions:write",),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    "conversations.list": ("channels:read",),
    "usergroups.users.update": ("usergroups:write",),
}


def shape(name: str) -> dict[str, Any]:
    """A documented response, as a template for the fake's own answers."""
    return json.loads((RESPONSES / f"{name}.json").read_text())


@dataclass
class Recorded:
    api: str  # "chat.postMessage", …, or "webhook"
    path: str
    headers: dict[str, str]
    args: dict[str, Any]  # body (JSON or form) and query parameters, decoded
    status: int = 200
    answer: Any = None
    lost: str = ""  # what a fault did: "after: 500", "after: drop", "before: 429", ...


@dataclass
class Failure:
    error: str
    status: int = 200
    retry_after: int | None = None
    body: str | None = None  # raw body instead of Slack's JSON envelope (an HTML 502, say)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeChannel:
    id: str
    name: str
    private: bool = False
    member: bool = True
    archived: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first, replies included


class FakeSlack:
    def __init__(self, *, token: str = TOKEN, start: datetime | None = None) -> None:
        self.token = token
        self.scopes: set[str] = set(ALL_SCOPES)
        self.channels: dict[str, FakeChannel] = {}
        self.webhooks: dict[str, str] = {}  # path -> channel id
        self.usergroups: dict[str, dict[str, Any]] = {}  # id -> {id, handle, users}
        self.requests: list[Recorded] = []
        self._failures: dict[str, deque[Failure]] = {}
        self.faults: list[Fault] = []
        # ts as an integer of microseconds; `start`: the test's simulated time, for `oldest`
        self._clock = int(start.timestamp() * 1_000_000) if start else 1700000000_000100
        self.now: datetime | None = None
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        # A short poll keeps shutdown() quick: it waits for the serving loop to notice.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        port = self._server.server_address[1]
        host = "127.0.0.1"  # bound above; server_address may type as bytes
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    # -- setup -------------------------------------------------------------------------------
    def add_channel(
        self, name: str, *, id: str | None = None, private: bool = False, member: bool = True, archived: bool = False
    ) -> str:
        with self._lock:
            cid = id or f"{'G' if private else 'C'}{len(self.channels) + 1:08d}"
            self.channels[cid] = FakeChannel(cid, name.lstrip("#"), private, member, archived)
            return cid

    def add_webhook(self, channel_id: str) -> str:
        with self._lock:
            path = f"/services/{TEAM}/B{len(self.webhooks) + 1:08d}/secretpart{len(self.webhooks) + 1:04d}XyZ"
            self.webhooks[path] = channel_id
            return self.base + path

    def fail(
        self,
        api: str,
        error: str,
        *,
        status: int = 200,
        times: int = 1,
        retry_after: int | None = None,
        body: str | None = None,
        **extra: Any,
    ) -> None:
        """The next `times` calls of `api` ("webhook" for webhooks) fail like this."""
        with self._lock:
            queue = self._failures.setdefault(api, deque())
            for _ in range(times):
                queue.append(Failure(error, status, retry_after, body, dict(extra)))

    def fault(
        self,
        api: str,
        *,
        performed: bool,
        answer: int | str,
        times: int = 1,
        retry_after: int | None = None,
        hang: float = 3.0,
    ) -> None:
        """The next `times` calls of `api` ("webhook" for webhooks) are carried out first
        (`performed=True`: the message is stored) or not at all, and then answered with
        `answer`: an HTTP status, "drop", "truncate", "cut" or "hang" (tests/http_faults.py)."""
        with self._lock:
            self.faults.append(make_fault(api, "", performed=performed, answer=answer, times=times,
                                          retry_after=retry_after, hang=hang))

    # -- inspection --------------------------------------------------------------------------
    def calls(self, api: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if api is None or r.api == api]

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Every message in the channel, replies included, oldest first."""
        with self._lock:
            return copy.deepcopy(self.channels[channel_id].messages)

    def roots(self, channel_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages(channel_id) if _is_root(m)]

    def replies(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages(channel_id) if m.get("thread_ts") == ts and m["ts"] != ts]

    def message(self, channel_id: str, ts: str) -> dict[str, Any]:
        return next(m for m in self.messages(channel_id) if m["ts"] == ts)

    def post_as_user(self, channel_id: str, text: str, *, user: str = "U0SOMEONE") -> str:
        """A message from a person, so history holds more than the bot's posts."""
        with self._lock:
            msg = {"type": "message", "user": user, "text": text, "ts": self._next_ts(), "team": TEAM}
            self.channels[channel_id].messages.append(msg)
            return str(msg["ts"])

    def add_usergroup(self, group_id: str, handle: str, users: tuple[str, ...] = ()) -> None:
        with self._lock:
            self.usergroups[group_id] = {"id": group_id, "team_id": TEAM, "handle": handle, "name": handle, "users": list(users),
                                         "user_count": len(users), "is_usergroup": True}

    def _usergroups_users_update(self, args: dict[str, Any]) -> dict[str, Any]:
        # usergroups.users.update: `usergroup` (id) and `users` (comma-separated ids, at least one)
        group = self.usergroups.get(str(args.get("usergroup") or ""))
        if group is None:
            return _error("no_such_subteam")
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return _error("invalid_users")
        group["users"], group["user_count"] = users, len(users)
        return {"ok": True, "usergroup": copy.deepcopy(group)}

    def react_as_user(self, channel_id: str, ts: str, name: str, *, user: str) -> None:
        """A person's reaction on a message (as reactions.add by them would leave it)."""
        with self._lock:
            msg = next(m for m in self.channels[channel_id].messages if m["ts"] == ts)
            reactions = msg.setdefault("reactions", [])
            found = next((r for r in reactions if r["name"] == name), None)
            if found is None:
                reactions.append({"name": name, "users": [user], "count": 1})
            elif user not in found["users"]:
                found["users"].append(user)
                found["count"] += 1

    def reply_as_user(self, channel_id: str, thread_ts: str, text: str, *, user: str) -> str:
        """A person's reply in a thread."""
        with self._lock:
            msg = {"type": "message", "user": user, "text": text, "ts": self._next_ts(), "team": TEAM, "thread_ts": thread_ts}
            parent = next(m for m in self.channels[channel_id].messages if m["ts"] == thread_ts)
            parent.update(thread_ts=thread_ts, reply_count=parent.get("reply_count", 0) + 1, latest_reply=msg["ts"])
            self.channels[channel_id].messages.append(msg)
            return str(msg["ts"])

    # -- request handling --------------------------------------------------------------------
    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes, Fault | None]:
        """The answer to one request, and the fault (if any) that is to spoil it."""
        url = urlsplit(path)
        args = _decode(headers.get("content-type", ""), raw)
        for key, values in parse_qs(url.query).items():
            args.setdefault(key, values[-1])
        if url.path.startswith("/services/"):
            return self._webhook(url.path, headers, args)
        api = url.path.removeprefix("/api/")
        with self._lock:
            record = Recorded(api, url.path, dict(headers), args)
            self.requests.append(record)
            fault = take(self.faults, api, "")
            if fault is not None and not fault.performed:
                status, extra_headers, answer = self._fault_answer(fault, webhook=False)
            else:
                status, extra_headers, answer = self._api(api, headers, args)
                if fault is not None and fault.status is not None:
                    status, extra_headers, answer = self._fault_answer(fault, webhook=False)
            record.status, record.answer = status, answer
            if fault is not None:
                record.lost = f"{'after' if fault.performed else 'before'}: {fault.answer}"
                if fault.status is None and fault.answer not in ("truncate", "cut"):
                    record.status = 0
        body = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        content_type = "text/html" if isinstance(answer, str) else "application/json; charset=utf-8"
        return status, {"Content-Type": content_type, **extra_headers}, body, fault

    @staticmethod
    def _fault_answer(fault: Fault, *, webhook: bool) -> tuple[int, dict[str, str], Any]:
        """What Slack (or a proxy in front of it) answers with the fault's status."""
        status = fault.status or 0
        error = {429: "ratelimited" if not webhook else "rate_limited", 503: "service_unavailable"}.get(
            status, "internal_error" if status >= 500 else "invalid_request"
        )
        if webhook:
            return status, dict(fault.headers), error
        if status in (502, 504):
            return status, dict(fault.headers), "<html><body><h1>Bad Gateway</h1></body></html>"
        return status, dict(fault.headers), _error(error)

    def _scripted(self, api: str) -> Failure | None:
        queue = self._failures.get(api)
        return queue.popleft() if queue else None

    def _api(self, api: str, headers: dict[str, str], args: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        failure = self._scripted(api)
        if failure:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.body is not None:
                return failure.status, extra, failure.body
            return failure.status, extra, _error(failure.error, **failure.extra)
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else str(args.get("token", ""))
        if not token:
            return 200, {}, _error("not_authed")
        if token != self.token:
            return 200, {}, _error("invalid_auth")
        method = getattr(self, "_" + api.replace(".", "_"), None)
        if method is None:
            return 404, {}, _error("unknown_method")
        scope = self._needed_scope(api, args)
        if scope and scope not in self.scopes:
            return 200, {}, _error("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))
        return 200, {}, method(args)

    def _needed_scope(self, api: str, args: dict[str, Any]) -> str:
        needed = NEEDS.get(api, ())
        if not needed:
            return ""
        if api in ("conversations.history", "conversations.replies"):
            channel = self.channels.get(str(args.get("channel", "")))
            return needed[1] if channel and channel.private else needed[0]
        return needed[0]

    def _resolve(self, value: Any, *, names: bool) -> FakeChannel | None:
        text = str(value or "")
        channel: FakeChannel | None
        if text in self.channels:
            channel = self.channels[text]
        elif names:
            wanted = text.lstrip("#")
            channel = next((c for c in self.channels.values() if c.name == wanted), None)
        else:
            channel = None
        if channel is None or (channel.private and not channel.member):
            return None  # Slack does not show a private channel to an app outside it
        return channel

    def _next_ts(self) -> str:
        # `now`: a test's simulated time, so a message's ts says when it was posted
        self._clock = max(self._clock + 100, int(self.now.timestamp() * 1_000_000) if self.now else 0)
        seconds, micros = divmod(self._clock, 1_000_000)
        return f"{seconds}.{micros:06d}"

    # -- methods -----------------------------------------------------------------------------
    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(args.get("channel"), names=True)
        if channel is None:
            return _error("channel_not_found")
        if channel.archived:
            return _error("is_archived")
        if not channel.member:
            return _error("not_in_channel")
        problem = _check_message(args)
        if problem:
            return problem
        thread_ts = args.get("thread_ts")
        if thread_ts:
            parent = next((m for m in channel.messages if m["ts"] == thread_ts), None)
            if parent is None:
                return _error("thread_not_found")
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        msg = self._bot_message(args)
        if thread_ts:
            msg["thread_ts"] = thread_ts
            parent["latest_reply"] = msg["ts"]  # as Slack keeps it on a thread's parent
        channel.messages.append(msg)
        answer = shape("chat.postMessage")
        answer.update(channel=channel.id, ts=msg["ts"], message=copy.deepcopy(msg))
        return answer

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        msg = next((m for m in channel.messages if m["ts"] == args.get("ts")), None)
        if msg is None:
            return _error("message_not_found")
        if msg.get("bot_id") != BOT_ID:
            return _error("cant_update_message")
        problem = _check_message(args)
        if problem:
            return problem
        if "metadata" in args:
            meta = args["metadata"]
            if not isinstance(meta, dict) or "event_type" not in meta or "event_payload" not in meta:
                return _error("invalid_metadata_format")
        fresh = self._bot_message(args)
        for key in ("text", "blocks", "metadata"):
            if key in fresh:
                msg[key] = fresh[key]
        msg["edited"] = {"user": BOT_USER, "ts": self._next_ts()}
        answer = shape("chat.update")
        answer.update(channel=channel.id, ts=msg["ts"], text=msg.get("text", ""), message=copy.deepcopy(msg))
        return answer

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        msg = next((m for m in channel.messages if m["ts"] == args.get("timestamp")), None)
        if msg is None:
            return _error("message_not_found")
        name = str(args.get("name", ""))
        if not name or ":" in name or " " in name:
            return _error("invalid_name")
        reactions = msg.setdefault("reactions", [])
        found = next((r for r in reactions if r["name"] == name), None)
        if found and BOT_USER in found["users"]:
            return _error("already_reacted")
        if found:
            found["users"].append(BOT_USER)
            found["count"] += 1
        else:
            reactions.append({"name": name, "users": [BOT_USER], "count": 1})
        return shape("reactions.add")

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        if not channel.member:
            return _error("not_in_channel")
        listed = [m for m in reversed(channel.messages) if _is_root(m)]
        if args.get("oldest"):  # only messages after it (Slack: exclusive unless `inclusive`)
            listed = [m for m in listed if float(m["ts"]) > float(str(args["oldest"]))]
        return self._page("conversations.history", listed, args)

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        if not channel.member:
            return _error("not_in_channel")
        ts = args.get("ts")
        thread = [m for m in channel.messages if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread:
            return _error("thread_not_found")
        answer = self._page("conversations.history", thread, args)  # same envelope
        answer.pop("pin_count", None)
        return answer

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = str(args.get("types") or "public_channel").split(",")
        listed = []
        for c in self.channels.values():
            if (c.private and "private_channel" not in types) or (not c.private and "public_channel" not in types):
                continue
            if c.private and not c.member:
                continue
            if c.archived and _truthy(args.get("exclude_archived")):
                continue
            listed.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "name_normalized": c.name,
                    "is_channel": not c.private,
                    "is_group": False,
                    "is_im": False,
                    "is_private": c.private,
                    "is_archived": c.archived,
                    "is_member": c.member,
                }
            )
        limit = int(args.get("limit") or 100)
        start = _offset(args.get("cursor"))
        page = listed[start : start + limit]
        answer = shape("conversations.list")
        answer["channels"] = page
        more = start + limit < len(listed)
        answer["response_metadata"] = {"next_cursor": _cursor(start + limit) if more else ""}
        return answer

    def _page(self, template: str, listed: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        limit = min(int(args.get("limit") or 100), 999)
        start = _offset(args.get("cursor"))
        page = copy.deepcopy(listed[start : start + limit])
        if not _truthy(args.get("include_all_metadata")):
            for m in page:
                m.pop("metadata", None)
        more = start + limit < len(listed)
        answer = shape(template)
        answer.update(messages=page, has_more=more, pin_count=0)
        answer["response_metadata"] = {"next_cursor": _cursor(start + limit) if more else ""}
        return answer

    def _bot_message(self, args: dict[str, Any]) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM,
            "text": args.get("text", ""),
            "ts": self._next_ts(),
        }
        if args.get("blocks"):
            msg["blocks"] = args["blocks"]
        if isinstance(args.get("metadata"), dict):
            msg["metadata"] = args["metadata"]
        return msg

    # -- incoming webhooks -------------------------------------------------------------------
    def _webhook(
        self, path: str, headers: dict[str, str], args: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes, Fault | None]:
        with self._lock:
            record = Recorded("webhook", path, dict(headers), args)
            self.requests.append(record)
            fault = take(self.faults, "webhook", "")
            if fault is not None and not fault.performed:
                status, extra, body = self._fault_answer(fault, webhook=True)
            else:
                status, extra, body = self._webhook_answer(path, args)
                if fault is not None and fault.status is not None:
                    status, extra, body = self._fault_answer(fault, webhook=True)
            record.status, record.answer = status, body
            if fault is not None:
                record.lost = f"{'after' if fault.performed else 'before'}: {fault.answer}"
                if fault.status is None and fault.answer not in ("truncate", "cut"):
                    record.status = 0
        return status, {"Content-Type": "text/html", **extra}, body.encode(), fault

    def _webhook_answer(self, path: str, args: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        failure = self._scripted("webhook")
        if failure:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, extra, failure.body if failure.body is not None else failure.error
        channel_id = self.webhooks.get(path)
        if channel_id is None:
            return 404, {}, "no_service"
        channel = self.channels[channel_id]
        if channel.archived:
            return 410, {}, "channel_is_archived"
        if not args.get("text") and not args.get("blocks"):
            return 400, {}, "invalid_payload"
        if _check_message(args):
            return 400, {}, "invalid_blocks"
        msg = self._bot_message({k: v for k, v in args.items() if k != "metadata"})
        channel.messages.append(msg)
        return 200, {}, "ok"


# -- helpers -----------------------------------------------------------------------------------
def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, body, fault = fake.handle(self.path, headers, raw)
            if fault is not None and fault.status is None:  # drop, truncate, cut, hang
                lose_answer(self, fault, status, out_headers, body)
                return
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = _serve
        do_GET = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _decode(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        value = json.loads(raw.decode("utf-8"))
        return value if isinstance(value, dict) else {"_body": value}
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    for key in ("blocks", "metadata", "attachments"):
        # form posts carry nested values as JSON strings
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                pass
    return args


def _error(code: str, **extra: Any) -> dict[str, Any]:
    answer = shape("error")
    answer["error"] = code
    answer.update(extra)
    return answer


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _cursor(offset: int) -> str:
    return base64.b64encode(f"next_offset:{offset}".encode()).decode()


def _offset(cursor: Any) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(str(cursor)).decode().split(":")[1])


def _is_root(message: dict[str, Any]) -> bool:
    return "thread_ts" not in message or message["thread_ts"] == message["ts"]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_message(args: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's checks on a message's content that the notifiers must respect."""
    blocks = args.get("blocks")
    text = args.get("text")
    if not text and not blocks:
        return _error("no_text")
    if text and _utf16(str(text)) > 40000:
        return _error("msg_too_long")
    if args.get("link_names") in (True, 1, "1", "true"):
        return _error("invalid_arguments", note="outage-bot must never send link_names")
    if args.get("parse") == "full":
        return _error("invalid_arguments", note="outage-bot must never send parse=full")
    if blocks is None:
        return None
    errors = []
    if not isinstance(blocks, list) or len(blocks) > 50:
        errors.append("no more than 50 items allowed [json-pointer:/blocks]")
        blocks = []
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            t = block.get("text") or {}
            if t.get("type") != "plain_text" or not t.get("text") or _utf16(t["text"]) > 150:
                errors.append(f"must be plain_text of 1 to 150 characters [json-pointer:/blocks/{i}/text]")
        elif kind == "section":
            t = block.get("text")
            if t is not None and (not t.get("text") or _utf16(t["text"]) > 3000):
                errors.append(f"must be 1 to 3000 characters [json-pointer:/blocks/{i}/text]")
            fields = block.get("fields") or []
            if len(fields) > 10:
                errors.append(f"no more than 10 items allowed [json-pointer:/blocks/{i}/fields]")
            for j, f in enumerate(fields):
                if not f.get("text") or _utf16(f["text"]) > 2000:
                    errors.append(f"must be 1 to 2000 characters [json-pointer:/blocks/{i}/fields/{j}]")
            if t is None and not fields:
                errors.append(f"a section needs text or fields [json-pointer:/blocks/{i}]")
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                errors.append(f"1 to 10 elements [json-pointer:/blocks/{i}/elements]")
        elif kind not in ("divider", "actions", "image", "rich_text"):
            errors.append(f"unknown block type {kind!r} [json-pointer:/blocks/{i}]")
    if errors:
        return _error("invalid_blocks", errors=errors)
    return None
