"""A fake GitLab for tests: REST API v4 (the endpoints outage-bot calls) and its one GraphQL
query, in memory, on 127.0.0.1, recording every request.

Answers are built from GitLab's documented examples (tests/fixtures/gitlab/api/, copied from
the API docs): the example is copied and the fields the fake tracks are overwritten. It also
behaves where outage-bot depends on GitLab's behaviour:

- labels named on create/update that do not exist are created ("If a label does not already
  exist, this creates a new project label");
- scoped labels: adding `key::value` removes the issue's other `key::...` label (the key is
  everything before the last `::`; GitLab Premium/Ultimate);
- every label change is a resource label event; closing, reopening and editing the description
  add system notes, as in GitLab, which the adapter must skip;
- `issue_type: incident` is silently dropped when `incident_allowed` is False (GitLab's
  `Issues::BaseService` filters a type the user may not create);
- listing hooks needs the Maintainer role (`token_access`);
- GraphQL's `or: {labelNames}` filter can be switched off (`graphql_or=False`) to answer like
  an instance without it;
- quick actions: every line starting with `/` in a note or description the token posts is
  recorded in `quick_actions` (GitLab would run it as the bot).

Failure injection: `fail(method, path_regex, status, times, headers)` answers the next matching
requests with that status (502 from "nginx", 429 with Retry-After, ...) without carrying them
out; `fault(method, path_regex, performed=..., answer=...)` can also carry a request out first
and then lose its answer (a 502, a closed connection, a cut body: tests/http_faults.py);
`interrupt_after(n)` answers every request after the next n with 400, as if the run had died
there.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.http_faults import Fault, lose_answer, make_fault, take

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gitlab"
TOKEN = "glpat-FAKE-test-token-0123456789"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / "api" / name).read_text(encoding="utf-8"))


ISSUE_EXAMPLE = _fixture("issue.json")
NOTE_EXAMPLE = _fixture("notes.json")[1]
AWARD_EXAMPLE = _fixture("award_emoji.json")[0]
LABEL_EVENT_EXAMPLE = _fixture("resource_label_events.json")[0]
MEMBER_EXAMPLE = _fixture("members_all.json")[0]
HOOK_EXAMPLE = _fixture("hook.json")


@dataclass
class Recorded:
    method: str
    path: str  # below /api/v4 ("/projects/14/issues/23/notes"), or "/api/graphql"
    query: dict[str, list[str]]
    body: Any
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    lost: str = ""  # what a fault did: "after: 502", "after: drop", "before: 429", ...

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    message: str


class FakeGitLab:
    def __init__(
        self,
        *,
        project_id: int = 14,
        project_path: str = "acme/shop",
        token: str = TOKEN,
        token_user: str = "project_14_bot_4f2a1c",
        token_access: int = 20,
        scoped_labels: bool = True,
        graphql_or: bool = True,
        incident_allowed: bool = True,
        now: datetime | None = None,
    ) -> None:
        self.project_id = project_id
        self.project_path = project_path
        self.token = token
        self.token_access = token_access
        self.scoped_labels = scoped_labels
        self.graphql_or = graphql_or
        self.incident_allowed = incident_allowed
        self.now = now  # None: the real clock
        self.requests: list[Recorded] = []
        self.quick_actions: list[tuple[str, str]] = []  # (where, line)
        self.failures: list[Failure] = []
        self.faults: list[Fault] = []
        self._interrupt_at: int | None = None
        self._lock = threading.RLock()
        self._ids = iter(range(1000, 10**9))
        self.users: dict[str, dict[str, Any]] = {}
        self.members: dict[str, int] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.releases: list[dict[str, Any]] = []
        self.issues: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.awards: dict[int, list[dict[str, Any]]] = {}
        self.label_events: dict[int, list[dict[str, Any]]] = {}
        self.hooks: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"  # the instance; the API is at /api/v4
        self.web = f"{self.url}/{project_path}"
        self.bot = token_user
        self.user(token_user)
        self.members[token_user] = token_access

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeGitLab:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGitLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    # -- clock -----------------------------------------------------------------------------------
    def clock(self) -> datetime:
        return self.now or datetime.now(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self.now = self.clock() + delta

    def stamp(self) -> str:
        return _iso(self.clock())

    # -- what people do (the UI, not the API: not recorded as requests) -----------------------------
    def user(self, username: str) -> dict[str, Any]:
        if username not in self.users:
            uid = len(self.users) + 1
            self.users[username] = {
                "id": uid, "username": username, "name": username.replace("_", " ").title(), "state": "active",
                "avatar_url": None, "web_url": f"{self.url}/{username}",
            }
        return self.users[username]

    def add_member(self, username: str, access_level: int) -> None:
        self.user(username)
        self.members[username] = access_level

    def add_hook(self, **fields: Any) -> dict[str, Any]:
        hook = copy.deepcopy(HOOK_EXAMPLE)
        hook.update({"id": len(self.hooks) + 1, "project_id": self.project_id,
                     "url": f"{self.api_url}/projects/{self.project_id}/ref/main/trigger/pipeline?token=trigger-secret"})
        hook.update(fields)
        self.hooks.append(hook)
        return hook

    def open_issue(self, title: str, *, by: str = "alice", labels: Iterable[str] = (), description: str = "",
                   confidential: bool = False, issue_type: str = "issue", created_at: datetime | None = None) -> dict[str, Any]:
        with self._lock:
            return self._create_issue(title, description, list(labels), by, confidential, issue_type, created_at)

    def label(self, iid: int, *labels: str, by: str = "alice") -> tuple[list[str], list[str]]:
        """Add labels as a person would; returns (previous, current) label names."""
        with self._lock:
            issue = self.issues[iid]
            before = list(issue["labels"])
            self._set_labels(issue, _scoped_add(before, labels) if self.scoped_labels else _plain_add(before, labels), by)
            return before, list(issue["labels"])

    def unlabel(self, iid: int, *labels: str, by: str = "alice") -> tuple[list[str], list[str]]:
        with self._lock:
            issue = self.issues[iid]
            before = list(issue["labels"])
            self._set_labels(issue, [lb for lb in before if lb not in labels], by)
            return before, list(issue["labels"])

    def comment(self, iid: int, body: str, *, by: str = "alice", system: bool = False) -> dict[str, Any]:
        with self._lock:
            return self._add_note(iid, body, by, system=system)

    def award(self, iid: int, name: str, *, by: str = "alice") -> dict[str, Any]:
        with self._lock:
            award = {"id": next(self._ids), "name": name, "user": by, "created_at": self.stamp(), "awardable_id": self.issues[iid]["id"]}
            self.awards.setdefault(iid, []).append(award)
            return award

    def close(self, iid: int, *, by: str = "alice") -> None:
        with self._lock:
            self._set_state(self.issues[iid], "closed", by)

    # -- what the tests look at --------------------------------------------------------------------
    def issue(self, iid: int) -> dict[str, Any]:
        return self.issues[iid]

    def note_bodies(self, iid: int, *, system: bool = False) -> list[str]:
        return [n["body"] for n in self.notes.get(iid, []) if n["system"] == system]

    def issues_by(self, username: str) -> list[dict[str, Any]]:
        return [i for i in self.issues.values() if i["author"] == username]

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Requests, optionally of one method and with `path` as a regex matched at the start."""
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or re.match(path, r.path))]

    def reset_requests(self) -> None:
        self.requests.clear()

    def state(self) -> Any:
        """Everything but timestamps and ids: to compare end states."""
        issues = {
            iid: (i["title"], i["description"], tuple(sorted(i["labels"])), i["state"], i["confidential"], i["issue_type"], i["author"])
            for iid, i in sorted(self.issues.items())
        }
        notes = {iid: [(n["author"], n["body"], n["system"]) for n in ns] for iid, ns in sorted(self.notes.items())}
        return issues, notes

    # -- failure injection -------------------------------------------------------------------------
    def fail(self, method: str, path: str, status: int = 502, *, times: int = 1, headers: dict[str, str] | None = None,
             message: str = "") -> None:
        self.failures.append(Failure(method.upper(), re.compile(path), status, times, dict(headers or {}), message))

    def fault(self, method: str, path: str, *, performed: bool, answer: int | str, times: int = 1,
              retry_after: int | None = None, hang: float = 3.0) -> None:
        """The next `times` requests matching METHOD and the path regex are carried out first
        (`performed=True`) or not at all, then answered with `answer`: a status, "drop",
        "truncate", "cut" or "hang" (tests/http_faults.py)."""
        with self._lock:
            self.faults.append(make_fault(method.upper(), path, performed=performed, answer=answer, times=times,
                                          retry_after=retry_after, hang=hang))

    def stored_notes(self, iid: int, *, containing: str = "") -> list[str]:
        """The bot's notes on the issue (that contain `containing`)."""
        return [n["body"] for n in self.notes.get(iid, []) if n["author"] == self.bot and not n["system"]
                and containing in n["body"]]

    def stored_issues(self, *, containing: str = "") -> list[dict[str, Any]]:
        """Issues the bot opened (whose description contains `containing`)."""
        return [i for i in self.issues.values() if i["author"] == self.bot and containing in (i["description"] or "")]

    def interrupt_after(self, count: int | None) -> None:
        """Serve `count` more requests, then answer 400 to everything (None: stop doing so)."""
        self._interrupt_at = None if count is None else len(self.requests) + count

    # -- serving -----------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str],
               raw_body: bytes) -> tuple[int, dict[str, str], bytes, Fault | None]:
        """The answer to one request, and the fault (if any) that is to spoil it."""
        with self._lock:
            parts = urlsplit(raw_path)
            query = parse_qs(parts.query, keep_blank_values=True)
            body = _parse_body(headers.get("content-type", ""), raw_body)
            path = parts.path[len("/api/v4"):] if parts.path.startswith("/api/v4/") else parts.path
            record = Recorded(method, path, query, body, headers={k: v for k, v in headers.items() if k in ("user-agent",)})
            self.requests.append(record)
            fault = take(self.faults, method, path)
            if fault is not None and not fault.performed:
                status, extra, payload = self._fault_answer(fault)
            else:
                status, extra, payload = self._answer(method, path, query, body, headers)
                if fault is not None and fault.status is not None:
                    status, extra, payload = self._fault_answer(fault)
            record.status = status
            if fault is not None:
                record.lost = f"{'after' if fault.performed else 'before'}: {fault.answer}"
                if fault.status is None and fault.answer not in ("truncate", "cut"):
                    record.status = 0
            if isinstance(payload, (bytes, str)):
                data = payload.encode() if isinstance(payload, str) else payload
                extra.setdefault("Content-Type", "text/html")
            else:
                data = json.dumps(payload).encode()
                extra.setdefault("Content-Type", "application/json")
            return status, extra, data, fault

    @staticmethod
    def _fault_answer(fault: Fault) -> tuple[int, dict[str, str], Any]:
        status = fault.status or 0
        if status in (502, 504):  # GitLab's nginx answers for the Rails app
            return status, dict(fault.headers), f"<html><body><h1>{status} Bad Gateway</h1>nginx</body></html>"
        message = {429: "Retry later", 503: "503 Service Unavailable"}.get(status, f"{status} fake failure")
        return status, dict(fault.headers), {"message": message}

    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any,
                headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if self._interrupt_at is not None and len(self.requests) > self._interrupt_at:
            return 400, {}, {"message": "400 Bad request - fake: the run was interrupted here"}
        for failure in self.failures:
            if failure.times > 0 and failure.method == method and failure.pattern.search(path):
                failure.times -= 1
                if failure.status == 502:
                    return 502, dict(failure.headers), "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
                return failure.status, dict(failure.headers), {"message": failure.message or f"{failure.status} fake failure"}
        auth = headers.get("private-token") or headers.get("authorization", "").removeprefix("Bearer ").strip()
        if auth != self.token:
            return 401, {}, {"message": "401 Unauthorized"}
        if path == "/api/graphql" and method == "POST":
            return 200, {}, self._graphql(body or {})
        for pattern, verb, handler in self._routes():
            match = pattern.fullmatch(path)
            if match and verb == method:
                if "pid" in match.groupdict() and unquote(match["pid"]) not in (str(self.project_id), self.project_path):
                    return 404, {}, {"message": "404 Project Not Found"}
                args = {k: v for k, v in match.groupdict().items() if k != "pid"}
                if "iid" in args and int(args["iid"]) not in self.issues:
                    return 404, {}, {"message": "404 Issue Not Found"}
                return handler(query, body, **{k: v if k == "name" else int(v) for k, v in args.items()})  # type: ignore[no-any-return]
        return 404, {}, {"error": "404 Not Found"}

    def _routes(self) -> list[tuple[re.Pattern[str], str, Any]]:
        p = r"/projects/(?P<pid>[^/]+)"
        i = p + r"/issues/(?P<iid>\d+)"
        return [
            (re.compile(r"/user"), "GET", self._get_user),
            (re.compile(p + "/issues"), "GET", self._list_issues),
            (re.compile(p + "/issues"), "POST", self._post_issue),
            (re.compile(i), "GET", self._get_issue),
            (re.compile(i), "PUT", self._put_issue),
            (re.compile(i + "/notes"), "GET", self._list_notes),
            (re.compile(i + "/notes"), "POST", self._post_note),
            (re.compile(i + r"/notes/(?P<nid>\d+)"), "PUT", self._put_note),
            (re.compile(i + r"/notes/(?P<nid>\d+)"), "DELETE", self._delete_note),
            (re.compile(i + "/award_emoji"), "GET", self._list_awards),
            (re.compile(i + "/resource_label_events"), "GET", self._list_label_events),
            (re.compile(p + "/members/all"), "GET", self._list_members),
            (re.compile(p + "/hooks"), "GET", self._list_hooks),
            (re.compile(p + "/labels"), "POST", self._post_label),
            (re.compile(p + "/releases"), "GET", self._list_releases),
            (re.compile(p + r"/labels/(?P<name>[^/]+)"), "GET", self._get_label),
            (re.compile(p + r"/labels/(?P<name>[^/]+)"), "DELETE", self._delete_label),
        ]

    # -- REST handlers ------------------------------------------------------------------------------
    def _get_user(self, query: Any, body: Any) -> tuple[int, dict[str, str], Any]:
        return 200, {}, {**self.users[self.bot], "bot": True}

    def _list_issues(self, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, str], Any]:
        items = list(self.issues.values())
        state = _one(query, "state", "all")
        if state in ("opened", "closed"):
            items = [i for i in items if i["state"] == state]
        if _one(query, "scope", "all") == "created_by_me":  # project issues: `all` by default
            items = [i for i in items if i["author"] == self.bot]
        for key, keep in (("updated_after", lambda t, b: t >= b), ("updated_before", lambda t, b: t <= b)):
            if key in query:  # "on or after" / "on or before", ISO 8601
                try:
                    bound = _parse_iso(_one(query, key, ""))
                except ValueError:
                    return 400, {}, {"error": f"{key} is invalid"}
                items = [i for i in items if keep(_parse_iso(i["updated_at"]), bound)]
        labels = _one(query, "labels", "")
        if labels.lower() == "any":
            items = [i for i in items if i["labels"]]
        elif labels.lower() == "none":
            items = [i for i in items if not i["labels"]]
        elif labels:
            wanted = [lb for lb in labels.split(",") if lb]
            items = [i for i in items if all(lb in i["labels"] for lb in wanted)]  # GitLab ANDs them
        key = "updated_at" if _one(query, "order_by", "created_at") == "updated_at" else "created_at"
        items.sort(key=lambda i: (i[key], i["iid"]), reverse=_one(query, "sort", "desc") == "desc")
        page, headers = self._page(items, query, f"/projects/{self.project_id}/issues")
        return 200, headers, [self._render_issue(i) for i in page]

    def _post_issue(self, query: Any, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        title = str(body.get("title") or "")
        if not title:
            return 400, {}, {"message": {"title": ["can't be blank"]}}
        issue_type = str(body.get("issue_type") or "issue")
        if issue_type == "incident" and not self.incident_allowed:
            issue_type = "issue"
        description = str(body.get("description") or "")
        self._quick_actions("issue description", description)
        issue = self._create_issue(title, description, _csv(body.get("labels")), self.bot,
                                   _true(body.get("confidential")), issue_type, None)
        return 201, {}, self._render_issue(issue)

    def _get_issue(self, query: Any, body: Any, iid: int) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._render_issue(self.issues[iid])

    def _put_issue(self, query: Any, body: dict[str, Any], iid: int) -> tuple[int, dict[str, str], Any]:
        issue = self.issues[iid]
        if "description" in body and body["description"] != issue["description"]:
            self._quick_actions("issue description", str(body["description"] or ""))
            issue["description"] = str(body["description"] or "")
            self._add_note(iid, "changed the description", self.bot, system=True)
        if "title" in body:
            issue["title"] = str(body["title"])
        labels = list(issue["labels"])
        if "labels" in body:
            labels = _scoped_set(_csv(body["labels"])) if self.scoped_labels else _csv(body["labels"])
        if "add_labels" in body:
            added = _csv(body["add_labels"])
            labels = _scoped_add(labels, added) if self.scoped_labels else _plain_add(labels, added)
        if "remove_labels" in body:
            gone = set(_csv(body["remove_labels"]))
            labels = [lb for lb in labels if lb not in gone]
        if labels != issue["labels"]:
            self._set_labels(issue, labels, self.bot)
        if body.get("state_event") == "close" and issue["state"] != "closed":
            self._set_state(issue, "closed", self.bot)
        elif body.get("state_event") == "reopen" and issue["state"] != "opened":
            self._set_state(issue, "opened", self.bot)
        issue["updated_at"] = self.stamp()
        return 200, {}, self._render_issue(issue)

    def _list_notes(self, query: dict[str, list[str]], body: Any, iid: int) -> tuple[int, dict[str, str], Any]:
        notes = sorted(self.notes.get(iid, []), key=lambda n: (n[_one(query, "order_by", "created_at")], n["id"]),
                       reverse=_one(query, "sort", "desc") == "desc")
        page, headers = self._page(notes, query, f"/projects/{self.project_id}/issues/{iid}/notes")
        return 200, headers, [self._render_note(n, iid) for n in page]

    def _post_note(self, query: Any, body: dict[str, Any], iid: int) -> tuple[int, dict[str, str], Any]:
        text = str(body.get("body") or "")
        if not text:
            return 400, {}, {"message": {"note": ["can't be blank"]}}
        self._quick_actions(f"note on #{iid}", text)
        note = self._add_note(iid, text, self.bot)
        return 201, {}, self._render_note(note, iid)

    def _delete_note(self, query: Any, body: Any, iid: int, nid: int) -> tuple[int, dict[str, str], Any]:
        # DELETE /projects/:id/issues/:issue_iid/notes/:note_id: 204 No Content
        notes = self.notes.get(iid, [])
        note = next((n for n in notes if n["id"] == nid), None)
        if note is None:
            return 404, {}, {"message": "404 Note Not Found"}
        if note["author"] != self.bot:
            return 403, {}, {"message": "403 Forbidden"}
        notes.remove(note)
        return 204, {}, b""

    def _put_note(self, query: Any, body: dict[str, Any], iid: int, nid: int) -> tuple[int, dict[str, str], Any]:
        note = next((n for n in self.notes.get(iid, []) if n["id"] == nid), None)
        if note is None:
            return 404, {}, {"message": "404 Note Not Found"}
        if note["author"] != self.bot:
            return 403, {}, {"message": "403 Forbidden"}
        note["body"] = str(body.get("body") or "")
        note["updated_at"] = self.stamp()
        # Quick actions in an edited note are not run by GitLab; recorded anyway: the bot should
        # never write one.
        self._quick_actions(f"edited note on #{iid}", note["body"])
        return 200, {}, self._render_note(note, iid)

    def _list_awards(self, query: dict[str, list[str]], body: Any, iid: int) -> tuple[int, dict[str, str], Any]:
        page, headers = self._page(self.awards.get(iid, []), query, f"/projects/{self.project_id}/issues/{iid}/award_emoji")
        return 200, headers, [self._render_award(a) for a in page]

    def _list_label_events(self, query: dict[str, list[str]], body: Any, iid: int) -> tuple[int, dict[str, str], Any]:
        events = self.label_events.get(iid, [])
        page, headers = self._page(events, query, f"/projects/{self.project_id}/issues/{iid}/resource_label_events")
        return 200, headers, [self._render_label_event(e, iid) for e in page]

    def _list_members(self, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, str], Any]:
        text = _one(query, "query", "").lower()
        names = [u for u in self.members if not text or text in u.lower() or text in self.users[u]["name"].lower()]
        names.sort(key=lambda u: (u.lower() != text, u))  # exact matches first, as GitLab's User.search
        page, headers = self._page(names, query, f"/projects/{self.project_id}/members/all")
        return 200, headers, [self._render_member(u) for u in page]

    def add_release(self, tag: str, at: datetime) -> None:
        """A release (GitLab's Releases API: tag_name, name, released_at, _links.self)."""
        self.releases.append({"tag_name": tag, "name": f"Release {tag}", "description": "", "created_at": _iso(at),
                              "released_at": _iso(at), "upcoming_release": False,
                              "_links": {"self": f"{self.web}/-/releases/{tag}"}})

    def _list_releases(self, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, str], Any]:
        # GET /projects/:id/releases: sorted by released_at, newest first
        items = sorted(self.releases, key=lambda r: r["released_at"], reverse=True)
        page, headers = self._page(items, query, f"/projects/{self.project_id}/releases")
        return 200, headers, page

    # POST /projects/:id/labels (201; 409 "Label already exists"), GET and DELETE
    # /projects/:id/labels/:label_id (an id or the URL-encoded name; DELETE answers 204).
    def _label_json(self, label: dict[str, Any]) -> dict[str, Any]:
        return {**label, "text_color": "#FFFFFF", "subscribed": False, "priority": None, "is_project_label": True,
                "open_issues_count": 0, "closed_issues_count": 0, "open_merge_requests_count": 0}

    def _find_label(self, name: str) -> dict[str, Any] | None:
        name = unquote(name)
        return self.labels.get(name) or next((lb for lb in self.labels.values() if str(lb["id"]) == name), None)

    def _post_label(self, query: Any, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        name = str((body or {}).get("name") or "")
        if not name or not (body or {}).get("color"):
            return 400, {}, {"message": {"name": ["can't be blank"]} if not name else {"color": ["can't be blank"]}}
        if name in self.labels:
            return 409, {}, {"message": "Label already exists"}
        self.labels[name] = {"id": next(self._ids), "name": name, "color": body["color"], "description": body.get("description")}
        return 201, {}, self._label_json(self.labels[name])

    def _get_label(self, query: Any, body: Any, name: str) -> tuple[int, dict[str, str], Any]:
        label = self._find_label(name)
        return (200, {}, self._label_json(label)) if label else (404, {}, {"message": "404 Label Not Found"})

    def _delete_label(self, query: Any, body: Any, name: str) -> tuple[int, dict[str, str], Any]:
        label = self._find_label(name)
        if label is None:
            return 404, {}, {"message": "404 Label Not Found"}
        del self.labels[label["name"]]
        for issue in self.issues.values():
            issue["labels"] = [lb for lb in issue["labels"] if lb != label["name"]]
        return 204, {}, b""

    def _list_hooks(self, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, str], Any]:
        if self.token_access < 40:
            return 403, {}, {"message": "403 Forbidden"}
        page, headers = self._page(self.hooks, query, f"/projects/{self.project_id}/hooks")
        return 200, headers, page

    # -- GraphQL -----------------------------------------------------------------------------------
    def _graphql(self, body: dict[str, Any]) -> dict[str, Any]:
        query = str(body.get("query") or "")
        variables = body.get("variables") or {}
        me = self.users[self.bot]
        user = {"id": f"gid://gitlab/User/{me['id']}", "username": me["username"]}
        if "issues(" in query and "updatedAfter" in query:
            return self._graphql_changed(variables, user)
        if "issues(" not in query or "labelNames" not in query:
            return {"errors": [{"message": "the fake GitLab answers only outage-bot's issue queries"}]}
        if not self.graphql_or:
            return {"data": {"currentUser": user, "project": {"issues": None}},
                    "errors": [{"message": "'or' arguments are only allowed when the `or_issuable_queries` feature flag is enabled.",
                                "locations": [{"line": 5, "column": 5}], "path": ["project", "issues"]}]}
        if variables.get("path") != self.project_path:
            return {"data": {"currentUser": user, "project": None}}
        wanted = set(variables.get("labels") or [])
        first = int(re.search(r"first:\s*(\d+)", query).group(1)) if re.search(r"first:\s*(\d+)", query) else 100  # type: ignore[union-attr]
        items = [i for i in self.issues.values() if i["state"] == "opened" and wanted.intersection(i["labels"])]
        return self._graphql_page(items, variables, user, first)

    def _graphql_page(self, items: list[dict[str, Any]], variables: dict[str, Any], user: dict[str, str],
                      first: int = 100) -> dict[str, Any]:
        """One page of `project.issues`, newest first (CREATED_DESC, GitLab's default)."""
        items = sorted(items, key=lambda i: (i["created_at"], i["iid"]), reverse=True)
        start = int(json.loads(base64.b64decode(variables["after"]))["offset"]) if variables.get("after") else 0
        chunk = items[start:start + first]
        end = start + len(chunk)
        cursor = base64.b64encode(json.dumps({"offset": end}).encode()).decode()
        nodes = [{
            "iid": str(i["iid"]), "title": i["title"], "description": i["description"], "state": i["state"],
            "webUrl": f"{self.web}/-/issues/{i['iid']}", "confidential": i["confidential"],
            "createdAt": i["created_at"], "updatedAt": i["updated_at"], "author": {"username": i["author"]},
            "labels": {"nodes": [{"title": lb} for lb in i["labels"]]},
        } for i in chunk]
        return {"data": {"currentUser": user, "project": {"issues": {
            "pageInfo": {"hasNextPage": end < len(items), "endCursor": cursor}, "nodes": nodes}}}}

    def _graphql_changed(self, variables: dict[str, Any], user: dict[str, str]) -> dict[str, Any]:
        """`project.issues(updatedAfter:)`: every state (no `state:` argument), newest first."""
        if variables.get("path") != self.project_path:
            return {"data": {"currentUser": user, "project": None}}
        since = _parse_iso(str(variables["since"]))
        return self._graphql_page([i for i in self.issues.values() if _parse_iso(i["updated_at"]) >= since], variables, user)

    # -- state changes -----------------------------------------------------------------------------
    def _create_issue(self, title: str, description: str, labels: list[str], by: str, confidential: bool,
                      issue_type: str, created_at: datetime | None) -> dict[str, Any]:
        self.user(by)
        iid = max(self.issues, default=0) + 1
        stamp = _iso(created_at) if created_at else self.stamp()
        issue = {"id": next(self._ids), "iid": iid, "title": title, "description": description, "state": "opened",
                 "labels": [], "author": by, "created_at": stamp, "updated_at": stamp, "closed_at": None,
                 "closed_by": None, "confidential": confidential, "issue_type": issue_type}
        self.issues[iid] = issue
        initial = _scoped_set(labels) if self.scoped_labels else list(dict.fromkeys(labels))
        if initial:
            self._set_labels(issue, initial, by, at=stamp)
        return issue

    def _set_labels(self, issue: dict[str, Any], labels: list[str], by: str, *, at: str | None = None) -> None:
        before, after = list(issue["labels"]), list(dict.fromkeys(labels))
        stamp = at or self.stamp()
        events = self.label_events.setdefault(issue["iid"], [])
        for name in before:
            if name not in after:
                events.append({"id": next(self._ids), "user": by, "created_at": stamp, "label": name, "action": "remove"})
        for name in after:
            if name not in before:
                self._ensure_label(name)
                events.append({"id": next(self._ids), "user": by, "created_at": stamp, "label": name, "action": "add"})
        issue["labels"] = after
        issue["updated_at"] = stamp

    def _set_state(self, issue: dict[str, Any], state: str, by: str) -> None:
        issue["state"] = state
        issue["closed_at"] = self.stamp() if state == "closed" else None
        issue["closed_by"] = by if state == "closed" else None
        issue["updated_at"] = self.stamp()
        self._add_note(issue["iid"], "closed" if state == "closed" else "reopened", by, system=True)

    def _add_note(self, iid: int, body: str, by: str, *, system: bool = False) -> dict[str, Any]:
        self.user(by)
        note = {"id": next(self._ids), "body": body, "author": by, "created_at": self.stamp(), "updated_at": self.stamp(),
                "system": system}
        self.notes.setdefault(iid, []).append(note)
        self.issues[iid]["updated_at"] = note["created_at"]  # a comment makes the issue "updated"
        return note

    def _ensure_label(self, name: str) -> None:
        if name not in self.labels:
            self.labels[name] = {"id": next(self._ids), "name": name, "color": "#6699cc", "description": ""}

    def _quick_actions(self, where: str, text: str) -> None:
        fenced = False
        for line in text.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced  # GitLab ignores quick actions inside code blocks
            elif not fenced and re.match(r" {0,3}/\w", line):
                self.quick_actions.append((where, line))

    # -- rendering in GitLab's shapes -----------------------------------------------------------------
    def _render_user(self, username: str) -> dict[str, Any]:
        return dict(self.user(username))

    def _render_issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(ISSUE_EXAMPLE)
        iid = issue["iid"]
        awards = self.awards.get(iid, [])
        api = f"{self.api_url}/projects/{self.project_id}/issues/{iid}"
        out.update({
            "id": issue["id"], "iid": iid, "project_id": self.project_id, "title": issue["title"],
            "description": issue["description"] or None, "state": issue["state"], "labels": list(issue["labels"]),
            "author": self._render_user(issue["author"]), "created_at": issue["created_at"],
            "updated_at": issue["updated_at"], "closed_at": issue["closed_at"],
            "closed_by": self._render_user(issue["closed_by"]) if issue["closed_by"] else None,
            "confidential": issue["confidential"], "issue_type": issue["issue_type"], "type": issue["issue_type"].upper(),
            "web_url": f"{self.web}/-/issues/{iid}",
            "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{self.project_path}#{iid}"},
            "user_notes_count": sum(1 for n in self.notes.get(iid, []) if not n["system"]),
            "upvotes": sum(1 for a in awards if a["name"] == "thumbsup"),
            "downvotes": sum(1 for a in awards if a["name"] == "thumbsdown"),
            "_links": {"self": api, "notes": f"{api}/notes", "award_emoji": f"{api}/award_emoji",
                       "project": f"{self.api_url}/projects/{self.project_id}", "closed_as_duplicate_of": None},
        })
        return out

    def _render_note(self, note: dict[str, Any], iid: int) -> dict[str, Any]:
        out = copy.deepcopy(NOTE_EXAMPLE)
        author = self._render_user(note["author"])
        out.update({"id": note["id"], "body": note["body"], "author": author, "created_at": note["created_at"],
                    "updated_at": note["updated_at"], "system": note["system"], "noteable_id": self.issues[iid]["id"],
                    "noteable_type": "Issue", "noteable_iid": iid})
        return out

    def _render_award(self, award: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(AWARD_EXAMPLE)
        out.update({"id": award["id"], "name": award["name"], "user": self._render_user(award["user"]),
                    "created_at": award["created_at"], "updated_at": award["created_at"],
                    "awardable_id": award["awardable_id"], "awardable_type": "Issue"})
        return out

    def _render_label_event(self, event: dict[str, Any], iid: int) -> dict[str, Any]:
        out = copy.deepcopy(LABEL_EVENT_EXAMPLE)
        label = self.labels.get(event["label"]) or {"id": 0, "name": event["label"], "color": "#6699cc", "description": ""}
        out.update({"id": event["id"], "user": self._render_user(event["user"]), "created_at": event["created_at"],
                    "resource_type": "Issue", "resource_id": self.issues[iid]["id"], "label": dict(label),
                    "action": event["action"]})
        return out

    def _render_member(self, username: str) -> dict[str, Any]:
        out = copy.deepcopy(MEMBER_EXAMPLE)
        out.update(self._render_user(username))
        out.update({"access_level": self.members[username], "expires_at": None})
        return out

    def _page(self, items: list[Any], query: dict[str, list[str]], path: str) -> tuple[list[Any], dict[str, str]]:
        """GitLab's offset pagination: X-* headers and a Link header python-gitlab follows."""
        per_page = max(1, min(100, int(_one(query, "per_page", "20"))))
        page = max(1, int(_one(query, "page", "1")))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
                   "X-Total-Pages": str(total_pages), "X-Next-Page": str(page + 1) if page < total_pages else "",
                   "X-Prev-Page": str(page - 1) if page > 1 else ""}

        def link(n: int) -> str:
            params = {k: v[-1] for k, v in query.items()}
            params.update({"page": str(n), "per_page": str(per_page)})
            return f"<{self.api_url}{path}?{urlencode(params)}>"

        links = [f'{link(page + 1)}; rel="next"'] if page < total_pages else []
        links += [f'{link(1)}; rel="first"', f'{link(total_pages)}; rel="last"']
        headers["Link"] = ", ".join(links)
        return chunk, headers


# -- helpers ----------------------------------------------------------------------------------------
def _handler(fake: FakeGitLab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one response, one flush: no 40 ms delayed-ACK stalls

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, data, fault = fake.handle(self.command, self.path, headers, raw)
            if fault is not None and fault.status is None:  # drop, truncate, cut, hang
                lose_answer(self, fault, status, extra, data)
                return
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _parse_body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    return {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}


def _one(query: dict[str, list[str]], key: str, default: str) -> str:
    values = query.get(key)
    return values[-1] if values else default


def _csv(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _scope(label: str) -> str | None:
    return label.rsplit("::", 1)[0] if "::" in label else None


def _scoped_add(current: list[str], added: Iterable[str]) -> list[str]:
    out = list(current)
    for label in added:
        scope = _scope(label)
        if scope is not None:
            out = [lb for lb in out if lb == label or _scope(lb) != scope]
        if label not in out:
            out.append(label)
    return out


def _plain_add(current: list[str], added: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*current, *added]))


def _scoped_set(labels: list[str]) -> list[str]:
    """Several labels of one scope at once: the last one wins, as in GitLab."""
    return _scoped_add([], labels)


def _parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

