"""A fake GitHub for tests: REST + GraphQL for one repository, in memory, on 127.0.0.1.

It answers in the shapes of GitHub's own examples (tests/fixtures/github/rest-openapi-subset.json,
components.examples: issue, issue-comment, label, reaction, issue-event-for-issue-items,
issue-search-result-item-paginated), records every request it receives, and can be told to
fail (a 502 once, a secondary rate limit with Retry-After, a 422; `fault` also fails a request
*after* carrying it out: tests/http_faults.py). Behaviour copied from GitHub:
- adding a label the repository lacks creates it, colour ededed, no description
  (github/docs#35718); `auto_create_labels=False` refuses with 422 instead;
- at most 3 pinned issues; a fourth pinIssue is a GraphQL error, HTTP 200;
- search `label:"a","b"` matches ANY of the labels; lists paginate with a Link header;
- search date qualifiers (`updated:>=2026-11-05T14:00:00Z`, `>`, `<`, `<=`, `A..B`, a date),
  `sort=updated|created` with `order`, and at most the first 1,000 results of a query
  (`total_count` counts them all; page 11 of 100 is a 422);
- every write made with a `ghs_` token (GITHUB_TOKEN) is done by `github-actions[bot]`;
  GET /user refuses such a token, as GitHub does;
- the search index can lag behind writes (`search_lag` seconds; on github.com seconds to
  minutes), while the issue and comment listings see every write at once.
Test helpers (`add_issue`, `comment`, `react`, `label`, `set_role`, ...) change the state
without a request, as a person on github.com would.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.http_faults import Fault, lose_answer, make_fault, take

BOT = "github-actions[bot]"
AUTO_COLOUR = "ededed"  # what GitHub gives a label it creates while adding it
DOCS = "https://docs.github.com/rest"
SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID ABCD:1234."
)
SEARCH_CAP = 1000  # search returns at most the first 1,000 results of a query
# The only wording found for a fourth pin (see bot/adapters/github/graphql.py): unverified.
PIN_LIMIT_MESSAGE = "You can't pin more than 3 issues to a repository"


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0
    authorization: str = ""
    response: Any = None
    lost: str = ""  # what a fault did: "after: 502", "after: drop", "before: 429", ...

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeIssue:
    number: int
    title: str
    body: str | None
    author: str
    created_at: datetime
    updated_at: datetime
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    assignees: list[str] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    pull_request: bool = False
    indexed_at: float = 0.0  # time.monotonic() from when search finds the issue

    @property
    def node_id(self) -> str:
        return f"I_kwDOfake{self.number:06d}"


class FakeGitHub:
    def __init__(
        self,
        owner: str = "octo-org",
        repo: str = "outage-demo",
        *,
        token: str = "ghs_fake_token_0123456789",
        auto_create_labels: bool = True,
        pin_limit: int = 3,
        now: datetime | None = None,
        search_lag: float = 0.0,
    ) -> None:
        self.owner, self.repo, self.token = owner, repo, token
        self.auto_create_labels = auto_create_labels
        # who writes: GITHUB_TOKEN (ghs_) writes as github-actions[bot]; a PAT as its owner
        self.token_user = BOT if token.startswith("ghs_") else "ops-bot"
        self.pin_limit = pin_limit
        self.pin_limit_message = PIN_LIMIT_MESSAGE
        self.search_lag = search_lag
        self.search_incomplete = False  # True: searches say `incomplete_results` (GitHub timed out)
        self.faults: list[Fault] = []
        self.now = now or datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)
        self.lock = threading.RLock()
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.issues: dict[int, FakeIssue] = {}
        self.comments: dict[int, dict[str, Any]] = {}  # id -> {issue, user, body, created_at, updated_at}
        self.labels: dict[str, dict[str, Any]] = {}  # lower name -> {name, color, description}
        self.releases: list[dict[str, Any]] = []
        # .github/workflows/<file> -> its state: active, disabled_inactivity, disabled_manually, ...
        self.workflows: dict[str, str] = {}
        self.actions_write = False  # may the token enable a workflow (`permissions: actions: write`)
        self.roles: dict[str, str] = {}  # login -> role_name
        self.pinned: list[int] = []
        self._ids = 1000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        # Interrupting a run: after `cut` more answers every request gets a 502 (GitHub down);
        # with `lose_answer`, the first of them is carried out first (the answer was lost).
        self.cut: int | None = None
        self.lose_answer = False

    # -- server ----------------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One send per answer and no Nagle: otherwise delayed ACKs add ~40 ms per request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def env(self, **extra: str) -> dict[str, str]:
        """GitHub Actions' environment pointing at this fake."""
        env = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": self.full_name,
            "GITHUB_API_URL": self.base_url,
            "GITHUB_GRAPHQL_URL": self.graphql_url,
            "GITHUB_TOKEN": self.token,
            "OUTAGE_BOT_GITHUB_RETRY": "fast",
        }
        env.update(extra)
        return env

    # -- recording and failures ------------------------------------------------------------------
    def lines(self) -> list[str]:
        """'METHOD /path' of every request so far (GraphQL: 'POST /graphql operation')."""
        with self.lock:
            return [self._describe(r) for r in self.requests]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """The next `times` requests matching METHOD and the path regex get `status`."""
        default = {403: SECONDARY_LIMIT, 422: "Validation Failed", 502: "Server Error"}.get(status, "Error")
        self.failures.append(
            Failure(
                method.upper(),
                re.compile(path),
                status,
                times,
                headers or {},
                {"message": message or default, "documentation_url": DOCS},
            )
        )

    def fail_secondary_rate_limit(self, method: str, path: str, *, retry_after: int = 1) -> None:
        self.fail(method, path, 403, headers={"Retry-After": str(retry_after)})

    def fault(
        self,
        method: str,
        path: str,
        *,
        performed: bool,
        answer: int | str,
        times: int = 1,
        retry_after: int | None = None,
        hang: float = 3.0,
    ) -> None:
        """The next `times` requests matching METHOD and the path regex are carried out first
        (`performed=True`) or not at all, and then answered with `answer`: a status, "drop",
        "truncate", "cut" or "hang" (see tests/http_faults.py)."""
        with self.lock:
            self.faults.append(make_fault(method.upper(), path, performed=performed, answer=answer, times=times,
                                          retry_after=retry_after, hang=hang))

    def stored_comments(self, number: int, *, containing: str = "") -> list[dict[str, Any]]:
        """The bot's comments on the issue (that contain `containing`)."""
        return [c for c in self.comments_on(number) if c["user"] == self.token_user and containing in c["body"]]

    def stored_issues(self, *, containing: str = "") -> list[FakeIssue]:
        """Issues the bot opened (whose body contains `containing`)."""
        return [i for i in self.issues.values() if i.author == self.token_user and containing in (i.body or "")]

    def _describe(self, r: Recorded) -> str:
        if r.path.endswith("/graphql") and isinstance(r.body, dict):
            match = re.search(r"\b(pinIssue|unpinIssue|pinnedIssues)\b", str(r.body.get("query", "")))
            return f"{r.method} {r.path} {match.group(1) if match else '?'}"
        return r.line

    # -- state helpers (no request) --------------------------------------------------------------
    def _next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def add_issue(
        self,
        title: str = "Checkout is down",
        body: str | None = "",
        *,
        labels: tuple[str, ...] | list[str] = (),
        author: str = "reporter",
        state: str = "open",
        at: datetime | None = None,
        pull_request: bool = False,
        number: int | None = None,
    ) -> FakeIssue:
        with self.lock:
            when = at or self.now
            number = number or (max(self.issues) + 1 if self.issues else 1)
            issue = FakeIssue(number, title, body, author, when, when, pull_request=pull_request,
                              indexed_at=time.monotonic() + self.search_lag)
            self.issues[number] = issue
            if state == "closed":
                issue.state, issue.state_reason, issue.closed_at = "closed", "completed", when
            for name in labels:
                self.label(number, name, actor=author, at=when)
            return issue

    def label(self, number: int, name: str, *, actor: str = "maintainer", at: datetime | None = None) -> None:
        with self.lock:
            # A person creating a label on github.com gets a colour picked for it; the API's
            # on-the-fly creation gives ededed.
            self._ensure_label(name, colour=AUTO_COLOUR if actor == self.token_user else "1d76db")
            issue = self.issues[number]
            if name.lower() not in (x.lower() for x in issue.labels):
                issue.labels.append(self.labels[name.lower()]["name"])
                self._event(issue, "labeled", actor, at, label=name)

    def unlabel(self, number: int, name: str, *, actor: str = "maintainer", at: datetime | None = None) -> None:
        with self.lock:
            issue = self.issues[number]
            issue.labels = [x for x in issue.labels if x.lower() != name.lower()]
            self._event(issue, "unlabeled", actor, at, label=name)

    def comment(self, number: int, body: str, *, user: str = "someone", at: datetime | None = None) -> int:
        with self.lock:
            when = at or self.now
            cid = self._next_id()
            self.comments[cid] = {"issue": number, "user": user, "body": body, "created_at": when, "updated_at": when}
            issue = self.issues[number]
            issue.comment_ids.append(cid)
            issue.updated_at = max(issue.updated_at, when)
            return cid

    def react(self, number: int, content: str = "eyes", *, user: str = "someone", at: datetime | None = None) -> None:
        with self.lock:
            issue = self.issues[number]
            issue.reactions.append(
                {"id": self._next_id(), "user": user, "content": content, "created_at": at or self.now}
            )

    def close(self, number: int, *, actor: str = "maintainer", at: datetime | None = None) -> None:
        with self.lock:
            issue = self.issues[number]
            issue.state, issue.state_reason, issue.closed_at = "closed", "completed", at or self.now
            self._event(issue, "closed", actor, at)

    def set_role(self, login: str, role: str) -> None:
        """role_name: admin, maintain, write, triage, read (or a custom role name)."""
        self.roles[login] = role

    def pin(self, number: int) -> None:
        self.pinned.append(number)

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [self.comments[cid] for cid in self.issues[number].comment_ids]

    def _event(
        self, issue: FakeIssue, kind: str, actor: str, at: datetime | None, *, label: str | None = None
    ) -> None:
        when = at or self.now
        event: dict[str, Any] = {"id": self._next_id(), "event": kind, "actor": actor, "created_at": when}
        if label is not None:
            colour = self.labels.get(label.lower(), {}).get("color", AUTO_COLOUR)
            event["label"] = {"name": label, "color": colour}
        issue.events.append(event)
        issue.updated_at = max(issue.updated_at, when)

    def _ensure_label(self, name: str, *, colour: str) -> None:
        if name.lower() not in self.labels:
            self.labels[name.lower()] = {"id": self._next_id(), "name": name, "color": colour, "description": None}

    # -- shapes (GitHub's examples) ------------------------------------------------------------
    def _api(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def user_json(self, login: str) -> dict[str, Any]:
        api = self._api(f"/users/{login}")
        return {
            "login": login,
            "id": abs(hash(login)) % 10_000_000,
            "node_id": f"U_fake_{login}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{abs(hash(login)) % 10_000_000}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"https://github.com/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
        }

    def label_json(self, name: str) -> dict[str, Any]:
        label = self.labels[name.lower()]
        return {
            "id": label["id"],
            "node_id": f"LA_fake{label['id']}",
            "url": self._api(f"/repos/{self.full_name}/labels/{label['name']}"),
            "name": label["name"],
            "description": label["description"],
            "color": label["color"],
            "default": False,
        }

    def issue_json(self, issue: FakeIssue) -> dict[str, Any]:
        base = f"/repos/{self.full_name}/issues/{issue.number}"
        counts = {k: 0 for k in ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")}
        for reaction in issue.reactions:
            counts[reaction["content"]] += 1
        data: dict[str, Any] = {
            "url": self._api(base),
            "repository_url": self._api(f"/repos/{self.full_name}"),
            "labels_url": self._api(f"{base}/labels{{/name}}"),
            "comments_url": self._api(f"{base}/comments"),
            "events_url": self._api(f"{base}/events"),
            "html_url": f"https://github.com/{self.full_name}/{'pull' if issue.pull_request else 'issues'}/{issue.number}",
            "id": 500_000 + issue.number,
            "node_id": issue.node_id,
            "number": issue.number,
            "title": issue.title,
            "user": self.user_json(issue.author),
            "labels": [self.label_json(name) for name in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": self.user_json(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user_json(a) for a in issue.assignees],
            "milestone": None,
            "comments": len(issue.comment_ids),
            "created_at": stamp(issue.created_at),
            "updated_at": stamp(issue.updated_at),
            "closed_at": stamp(issue.closed_at) if issue.closed_at else None,
            "author_association": "MEMBER" if issue.author in self.roles else "NONE",
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": {"url": self._api(f"{base}/reactions"), "total_count": len(issue.reactions), **counts},
            "timeline_url": self._api(f"{base}/timeline"),
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if issue.pull_request:
            data["pull_request"] = {
                "url": self._api(f"/repos/{self.full_name}/pulls/{issue.number}"),
                "html_url": data["html_url"],
                "diff_url": data["html_url"] + ".diff",
                "patch_url": data["html_url"] + ".patch",
            }
        return data

    def comment_json(self, cid: int) -> dict[str, Any]:
        c = self.comments[cid]
        return {
            "id": cid,
            "node_id": f"IC_fake{cid}",
            "url": self._api(f"/repos/{self.full_name}/issues/comments/{cid}"),
            "html_url": f"https://github.com/{self.full_name}/issues/{c['issue']}#issuecomment-{cid}",
            "body": c["body"],
            "user": self.user_json(c["user"]),
            "created_at": stamp(c["created_at"]),
            "updated_at": stamp(c["updated_at"]),
            "issue_url": self._api(f"/repos/{self.full_name}/issues/{c['issue']}"),
            "author_association": "MEMBER" if c["user"] in self.roles else "NONE",
            "performed_via_github_app": None,
        }

    def _reaction_json(self, reaction: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": reaction["id"],
            "node_id": f"REA_fake{reaction['id']}",
            "user": self.user_json(reaction["user"]),
            "content": reaction["content"],
            "created_at": stamp(reaction["created_at"]),
        }

    def _event_json(self, event: dict[str, Any]) -> dict[str, Any]:
        data = {
            "id": event["id"],
            "node_id": f"LE_fake{event['id']}",
            "url": self._api(f"/repos/{self.full_name}/issues/events/{event['id']}"),
            "actor": self.user_json(event["actor"]),
            "event": event["event"],
            "commit_id": None,
            "commit_url": None,
            "created_at": stamp(event["created_at"]),
            "performed_via_github_app": None,
        }
        if "label" in event:
            data["label"] = event["label"]
        return data

    # -- HTTP ----------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        record = Recorded(
            handler.command,
            unquote(parts.path),
            parse_qs(parts.query),
            body,
            authorization=handler.headers.get("Authorization", ""),
        )
        with self.lock:
            self.requests.append(record)
            fault = take(self.faults, record.method, record.path)
        if fault is not None and not fault.performed:
            status, headers, payload = fault.status or 0, dict(fault.headers), self._error_body(fault.status or 0)
        else:
            status, headers, payload = self._answer(record, parts.path)
        record.status, record.response = status, payload
        data = b"" if payload is None else json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": str(max(0, 1000 - len(self.requests))),
            "X-RateLimit-Reset": str(int(self.now.timestamp()) + 3600),
            **headers,
        }
        if fault is not None:
            record.lost = f"{'after' if fault.performed else 'before'}: {fault.answer}"
            if fault.status is None:  # drop, truncate, hang
                record.status = status if fault.answer in ("truncate", "cut") else 0
                lose_answer(handler, fault, status, headers, data)
                return
            if fault.performed:  # carried out; the answer is replaced by the error
                status, payload = fault.status, self._error_body(fault.status)
                headers.update(fault.headers)
                record.status, data = status, json.dumps(payload).encode()
        handler.send_response(status)
        headers["Content-Length"] = str(len(data))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _error_body(status: int) -> dict[str, Any]:
        message = {403: SECONDARY_LIMIT, 422: "Validation Failed", 429: SECONDARY_LIMIT}.get(
            status, "Server Error" if status >= 500 else "Error"
        )
        return {"message": message, "documentation_url": DOCS}

    def interrupt_after(self, answers: int, *, lose_answer: bool = False) -> None:
        with self.lock:
            self.cut, self.lose_answer = answers, lose_answer

    def resume(self) -> None:
        with self.lock:
            self.cut, self.lose_answer = None, False

    def _answer(self, r: Recorded, raw_path: str) -> tuple[int, dict[str, str], Any]:
        auth = r.authorization.split(" ", 1)
        if len(auth) != 2 or auth[0].lower() not in ("token", "bearer") or auth[1] != self.token:
            return 401, {}, {"message": "Bad credentials", "documentation_url": DOCS}
        with self.lock:
            if self.cut is not None:
                if self.cut <= 0:
                    if self.lose_answer:
                        self.lose_answer = False
                        self.cut = None
                        self._answer(r, raw_path)  # carried out; the answer never arrives
                        self.cut = 0
                    return 502, {}, {"message": "Server Error", "documentation_url": DOCS}
                self.cut -= 1
            for failure in self.failures:
                if failure.times > 0 and failure.method == r.method and failure.path.search(r.path):
                    failure.times -= 1
                    return failure.status, dict(failure.headers), dict(failure.body)
            if r.path == "/graphql":
                return 200, {}, self._graphql(r.body)
            for method, pattern, action in self._routes():
                match = pattern.fullmatch(raw_path)
                if match and method == r.method:
                    groups = [unquote(g) for g in match.groups()]
                    return action(r, *groups)
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., tuple[int, dict[str, str], Any]]]]:
        repo = re.escape(f"/repos/{self.full_name}")
        table: list[tuple[str, str, Callable[..., tuple[int, dict[str, str], Any]]]] = [
            ("GET", r"/search/issues", self._search),
            ("GET", r"/user", self._authenticated_user),
            ("GET", rf"{repo}/issues", self._list_issues),
            ("POST", rf"{repo}/issues", self._create_issue),
            ("GET", rf"{repo}/issues/comments/(\d+)", self._get_comment),
            ("PATCH", rf"{repo}/issues/comments/(\d+)", self._edit_comment),
            ("DELETE", rf"{repo}/issues/comments/(\d+)", self._delete_comment),
            ("GET", rf"{repo}/issues/(\d+)", self._get_issue),
            ("PATCH", rf"{repo}/issues/(\d+)", self._edit_issue),
            ("GET", rf"{repo}/issues/(\d+)/comments", self._list_comments),
            ("POST", rf"{repo}/issues/(\d+)/comments", self._post_comment),
            ("GET", rf"{repo}/issues/(\d+)/labels", self._issue_labels),
            ("POST", rf"{repo}/issues/(\d+)/labels", self._add_labels),
            ("PUT", rf"{repo}/issues/(\d+)/labels", self._set_labels),
            ("DELETE", rf"{repo}/issues/(\d+)/labels/([^/]+)", self._remove_label),
            ("GET", rf"{repo}/issues/(\d+)/events", self._events),
            ("GET", rf"{repo}/issues/(\d+)/reactions", self._reactions),
            ("GET", rf"{repo}/labels", self._repo_labels),
            ("POST", rf"{repo}/labels", self._create_label),
            ("GET", rf"{repo}/labels/([^/]+)", self._get_label),
            ("PATCH", rf"{repo}/labels/([^/]+)", self._edit_label),
            ("DELETE", rf"{repo}/labels/([^/]+)", self._delete_label),
            ("GET", rf"{repo}/releases", self._releases),
            ("GET", rf"{repo}/actions/workflows/([^/]+)", self._workflow),
            ("PUT", rf"{repo}/actions/workflows/([^/]+)/enable", self._enable_workflow),
            ("GET", rf"{repo}/collaborators/([^/]+)/permission", self._permission),
        ]
        return [(m, re.compile(p), a) for m, p, a in table]

    # -- pagination ------------------------------------------------------------------------------
    def _page(self, r: Recorded, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        per_page = min(100, int((r.query.get("per_page") or ["30"])[0]))
        page = max(1, int((r.query.get("page") or ["1"])[0]))
        last = max(1, -(-len(items) // per_page))
        links = []

        def url(n: int) -> str:
            query = {k: v[0] for k, v in r.query.items()}
            query.update(page=str(n), per_page=str(per_page))
            return f"{self.base_url}{r.path}?{urlencode(query)}"

        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"']
        headers = {"Link": ", ".join(links)} if links else {}
        return items[(page - 1) * per_page : page * per_page], headers

    def _issue_or_404(self, number: str) -> FakeIssue | None:
        return self.issues.get(int(number))

    # -- REST handlers ---------------------------------------------------------------------------
    def _get_issue(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        data = self.issue_json(issue)
        # One issue also says who closed it (the issue schema's `closed_by`; lists and search leave it out).
        closer = next((e["actor"] for e in reversed(issue.events) if e["event"] == "closed"), None)
        data["closed_by"] = self.user_json(closer) if closer and issue.state == "closed" else None
        return 200, {}, data

    def _list_issues(self, r: Recorded) -> tuple[int, dict[str, str], Any]:
        q = {k: v[0] for k, v in r.query.items()}
        state = q.get("state", "open")
        wanted = [x.strip().lower() for x in q.get("labels", "").split(",") if x.strip()]
        found = [
            i
            for i in self.issues.values()
            if (state == "all" or i.state == state) and all(w in [x.lower() for x in i.labels] for w in wanted)
        ]
        key = {"created": lambda i: i.created_at, "updated": lambda i: i.updated_at}.get(
            q.get("sort", "created"), lambda i: i.created_at
        )
        found.sort(key=lambda i: (key(i), i.number), reverse=q.get("direction", "desc") == "desc")
        page, headers = self._page(r, found)
        return 200, headers, [self.issue_json(i) for i in page]

    def _create_issue(self, r: Recorded) -> tuple[int, dict[str, str], Any]:
        body = r.body if isinstance(r.body, dict) else {}
        if not body.get("title"):
            return 422, {}, {"message": "Validation Failed", "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}], "documentation_url": DOCS}
        labels = [x if isinstance(x, str) else x["name"] for x in body.get("labels") or []]
        refused = self._refused_labels(labels)
        if refused:
            return refused
        # An assignee who cannot be assigned (no access to the repository): 422, nothing created.
        strangers = [x for x in body.get("assignees") or [] if x not in self.roles]
        if strangers:
            return 422, {}, {"message": "Validation Failed", "documentation_url": DOCS,
                             "errors": [{"value": x, "resource": "Issue", "field": "assignees", "code": "invalid"} for x in strangers]}
        issue = self.add_issue(body["title"], body.get("body"), author=self.token_user, at=self.now)
        for name in labels:
            self.label(issue.number, name, actor=self.token_user)
        issue.assignees = list(body.get("assignees") or [])
        return 201, {"Location": self._api(f"/repos/{self.full_name}/issues/{issue.number}")}, self.issue_json(issue)

    def _refused_labels(self, labels: list[str]) -> tuple[int, dict[str, str], Any] | None:
        missing = [x for x in labels if x.lower() not in self.labels]
        if missing and not self.auto_create_labels:
            return 422, {}, {
                "message": "Validation Failed",
                "errors": [{"resource": "Label", "code": "invalid", "field": "labels", "value": x} for x in missing],
                "documentation_url": DOCS,
            }
        return None

    def _edit_issue(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        body = r.body if isinstance(r.body, dict) else {}
        if "title" in body:
            issue.title = body["title"]
        if "body" in body:
            issue.body = body["body"]
        if body.get("state") == "closed" and issue.state != "closed":
            issue.state, issue.closed_at = "closed", self.now
            issue.state_reason = body.get("state_reason") or "completed"
            self._event(issue, "closed", self.token_user, None)
        elif body.get("state") == "open" and issue.state != "open":
            issue.state, issue.closed_at, issue.state_reason = "open", None, "reopened"
            self._event(issue, "reopened", self.token_user, None)
        issue.updated_at = self.now
        return 200, {}, self.issue_json(issue)

    def _list_comments(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        page, headers = self._page(r, issue.comment_ids)
        return 200, headers, [self.comment_json(cid) for cid in page]

    def _post_comment(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        body = r.body if isinstance(r.body, dict) else {}
        if not isinstance(body.get("body"), str):
            return 422, {}, {"message": "Validation Failed", "documentation_url": DOCS}
        cid = self.comment(issue.number, body["body"], user=self.token_user)
        return 201, {}, self.comment_json(cid)

    def _get_comment(self, r: Recorded, cid: str) -> tuple[int, dict[str, str], Any]:
        if int(cid) not in self.comments:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        return 200, {}, self.comment_json(int(cid))

    def _delete_comment(self, r: Recorded, cid: str) -> tuple[int, dict[str, str], Any]:
        # DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}: 204 No Content
        comment = self.comments.pop(int(cid), None)
        if comment is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        self.issues[comment["issue"]].comment_ids.remove(int(cid))
        return 204, {}, None

    def _edit_comment(self, r: Recorded, cid: str) -> tuple[int, dict[str, str], Any]:
        comment = self.comments.get(int(cid))
        if comment is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        comment["body"] = (r.body or {}).get("body", comment["body"])
        comment["updated_at"] = self.now
        return 200, {}, self.comment_json(int(cid))

    def _issue_labels(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        return 200, {}, [self.label_json(x) for x in issue.labels]

    def _add_labels(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        raw = r.body.get("labels") if isinstance(r.body, dict) else r.body
        names = [x if isinstance(x, str) else x["name"] for x in raw or []]
        refused = self._refused_labels(names)
        if refused:
            return refused
        for name in names:
            self.label(issue.number, name, actor=self.token_user)
        return 200, {}, [self.label_json(x) for x in issue.labels]

    def _set_labels(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        raw = r.body.get("labels") if isinstance(r.body, dict) else r.body
        names = [x if isinstance(x, str) else x["name"] for x in raw or []]
        for old in list(issue.labels):
            if old.lower() not in [n.lower() for n in names]:
                self.unlabel(issue.number, old, actor=self.token_user)
        for name in names:
            self.label(issue.number, name, actor=self.token_user)
        return 200, {}, [self.label_json(x) for x in issue.labels]

    def _remove_label(self, r: Recorded, number: str, name: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None or name.lower() not in [x.lower() for x in issue.labels]:
            return 404, {}, {"message": "Label does not exist", "documentation_url": DOCS}
        self.unlabel(issue.number, name, actor=self.token_user)
        return 200, {}, [self.label_json(x) for x in issue.labels]

    def _events(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        page, headers = self._page(r, issue.events)
        return 200, headers, [self._event_json(e) for e in page]

    def _reactions(self, r: Recorded, number: str) -> tuple[int, dict[str, str], Any]:
        issue = self._issue_or_404(number)
        if issue is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        content = (r.query.get("content") or [None])[0]
        found = [x for x in issue.reactions if content is None or x["content"] == content]
        page, headers = self._page(r, found)
        return 200, headers, [self._reaction_json(x) for x in page]

    def _repo_labels(self, r: Recorded) -> tuple[int, dict[str, str], Any]:
        page, headers = self._page(r, [x["name"] for x in self.labels.values()])
        return 200, headers, [self.label_json(x) for x in page]

    def _create_label(self, r: Recorded) -> tuple[int, dict[str, str], Any]:
        body = r.body if isinstance(r.body, dict) else {}
        name = body.get("name")
        if not name:
            return 422, {}, {"message": "Validation Failed", "documentation_url": DOCS}
        if name.lower() in self.labels:
            return 422, {}, {
                "message": "Validation Failed",
                "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}],
                "documentation_url": DOCS,
            }
        self.labels[name.lower()] = {
            "id": self._next_id(),
            "name": name,
            "color": body.get("color") or "ededed",
            "description": body.get("description"),
        }
        return 201, {}, self.label_json(name)

    def _get_label(self, r: Recorded, name: str) -> tuple[int, dict[str, str], Any]:
        if name.lower() not in self.labels:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        return 200, {}, self.label_json(name)

    def _edit_label(self, r: Recorded, name: str) -> tuple[int, dict[str, str], Any]:
        label = self.labels.get(name.lower())
        if label is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        body = r.body if isinstance(r.body, dict) else {}
        for key in ("color", "description"):
            if key in body:
                label[key] = body[key]
        return 200, {}, self.label_json(name)

    def add_release(self, tag: str, at: datetime, *, draft: bool = False) -> None:
        """A release (GitHub's release object: tag_name, name, draft, published_at null for a draft)."""
        with self.lock:
            self.releases.append({"id": self._next_id(), "tag_name": tag, "name": f"Release {tag}", "draft": draft,
                                  "prerelease": False, "created_at": stamp(at), "published_at": None if draft else stamp(at),
                                  "html_url": f"https://github.com/{self.full_name}/releases/tag/{tag}"})

    def _workflow_file(self, ref: str) -> str | None:
        """A workflow by its file name or its id (GitHub takes either)."""
        for i, name in enumerate(sorted(self.workflows), 1):
            if ref in (name, str(161000 + i)):
                return name
        return None

    def _workflow(self, r: Recorded, ref: str) -> tuple[int, dict[str, str], Any]:
        # GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}: the workflow object
        name = self._workflow_file(ref)
        if name is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        wid = 161001 + sorted(self.workflows).index(name)
        return 200, {}, {
            "id": wid, "node_id": f"W_kwDOfake{wid}", "name": name.removesuffix(".yml"), "path": f".github/workflows/{name}",
            "state": self.workflows[name], "created_at": "2026-01-08T23:48:37.000-08:00",
            "updated_at": "2026-01-08T23:50:21.000-08:00", "url": f"{self.base_url}/repos/{self.full_name}/actions/workflows/{wid}",
            "html_url": f"https://github.com/{self.full_name}/blob/main/.github/workflows/{name}",
            "badge_url": f"https://github.com/{self.full_name}/workflows/{name}/badge.svg"}

    def _enable_workflow(self, r: Recorded, ref: str) -> tuple[int, dict[str, str], Any]:
        # PUT .../actions/workflows/{workflow_id}/enable: 204; needs `actions: write`
        name = self._workflow_file(ref)
        if name is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        if not self.actions_write:
            return 403, {}, {"message": "Resource not accessible by integration", "documentation_url": DOCS}
        self.workflows[name] = "active"
        return 204, {}, None

    def _releases(self, r: Recorded) -> tuple[int, dict[str, str], Any]:
        # GET /repos/{owner}/{repo}/releases: newest first, paginated
        items = sorted(self.releases, key=lambda x: x["created_at"], reverse=True)
        page, headers = self._page(r, items)
        return 200, headers, page

    def _delete_label(self, r: Recorded, name: str) -> tuple[int, dict[str, str], Any]:
        # DELETE /repos/{owner}/{repo}/labels/{name}: 204; the label leaves every issue too
        if name.lower() not in self.labels:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        del self.labels[name.lower()]
        for issue in self.issues.values():
            issue.labels = [x for x in issue.labels if x.lower() != name.lower()]
        return 204, {}, None

    def _permission(self, r: Recorded, login: str) -> tuple[int, dict[str, str], Any]:
        role = self.roles.get(login)
        if role is None:
            return 404, {}, {"message": f"{login} is not a user", "documentation_url": DOCS}
        legacy = {"maintain": "write", "triage": "read"}.get(role, role if role in ("admin", "write", "read") else "read")
        order = ["read", "triage", "write", "maintain", "admin"]
        rank = order.index(role) if role in order else 0
        user = self.user_json(login)
        user["permissions"] = {
            "pull": rank >= 0,
            "triage": rank >= 1,
            "push": rank >= 2,
            "maintain": rank >= 3,
            "admin": rank >= 4,
        }
        user["role_name"] = role
        return 200, {}, {"permission": legacy, "role_name": role, "user": user}

    def _authenticated_user(self, r: Recorded) -> tuple[int, dict[str, str], Any]:
        if self.token.startswith("ghs_"):  # an installation token has no user
            return 403, {}, {"message": "Resource not accessible by integration", "documentation_url": DOCS}
        user = self.user_json(self.token_user)
        user.update(name=None, company=None, blog="", location=None, email=None, hireable=None, bio=None,
                    public_repos=0, public_gists=0, followers=0, following=0,
                    created_at=stamp(self.now), updated_at=stamp(self.now))
        return 200, {}, user

    # -- search ----------------------------------------------------------------------------------
    def _search(self, r: Recorded) -> tuple[int, dict[str, str], Any]:
        q = (r.query.get("q") or [""])[0]
        if len(q) > 256:
            return 422, {}, {"message": "Validation Failed", "errors": [{"message": "The search is longer than 256 characters."}], "documentation_url": DOCS}
        tokens = re.findall(r'(?:[^\s"]+|"[^"]*")+', q)
        repo = kind = state = None
        label_groups: list[list[str]] = []
        dates: list[tuple[str, Callable[[datetime], bool]]] = []  # created:/updated: qualifiers
        for token in tokens:
            key, _, value = token.partition(":")
            if key == "repo":
                repo = value
            elif key == "is" and value in ("issue", "pr"):
                kind = value
            elif key in ("is", "state") and value in ("open", "closed"):
                state = value
            elif key == "label":
                label_groups.append([x.strip('"').lower() for x in re.findall(r'"[^"]*"|[^,]+', value)])
            elif key in ("updated", "created"):
                when = _date_filter(value)
                if when is None:
                    return 422, {}, {"message": "Validation Failed", "errors": [{"message": f"Invalid date: {value}"}], "documentation_url": DOCS}
                dates.append((f"{key}_at", when))
        found = []
        moment = time.monotonic()
        for issue in self.issues.values():
            if issue.indexed_at > moment:
                continue  # not in the search index yet
            if repo and repo.lower() != self.full_name.lower():
                continue
            if kind and (kind == "pr") != issue.pull_request:
                continue
            if state and issue.state != state:
                continue
            if not all(test(getattr(issue, attribute)) for attribute, test in dates):
                continue
            have = {x.lower() for x in issue.labels}
            if all(have.intersection(group) for group in label_groups):
                found.append(issue)
        found.sort(key=lambda i: i.number, reverse=True)
        sort = (r.query.get("sort") or [""])[0]
        if sort in ("created", "updated"):  # `order` is ignored without `sort`; desc by default
            found.sort(key=lambda i: (getattr(i, f"{sort}_at"), i.number), reverse=(r.query.get("order") or ["desc"])[0] != "asc")
        # At most the first 1,000 results can be read (total_count still counts them all); page 11
        # of 100 is refused.
        per_page = min(100, int((r.query.get("per_page") or ["30"])[0]))
        if (max(1, int((r.query.get("page") or ["1"])[0])) - 1) * per_page >= SEARCH_CAP:
            return 422, {}, {"message": "Only the first 1000 search results are available", "documentation_url": DOCS}
        page, headers = self._page(r, found[:SEARCH_CAP])
        items = [{**self.issue_json(i), "score": 1.0} for i in page]
        # A query of qualifiers only is a lexical search.
        return 200, headers, {"total_count": len(found), "incomplete_results": self.search_incomplete, "search_type": "lexical", "items": items}

    # -- GraphQL ---------------------------------------------------------------------------------
    def _graphql(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return {"errors": [{"message": "A query attribute must be specified and must be a string."}]}
        query, variables = body["query"], body.get("variables") or {}
        if re.search(r"\bpinnedIssues\b", query):
            if (variables.get("owner"), variables.get("name")) != (self.owner, self.repo):
                return _gql_error("repository", "NOT_FOUND", f"Could not resolve to a Repository with the name '{variables.get('owner')}/{variables.get('name')}'.")
            nodes = [{"issue": self._gql_issue(self.issues[n])} for n in self.pinned]
            return {"data": {"repository": {"pinnedIssues": {"totalCount": len(nodes), "nodes": nodes}}}}
        for operation in ("unpinIssue", "pinIssue"):
            if re.search(rf"\b{operation}\b", query):
                issue = self._by_node(variables.get("issueId"))
                if issue is None:
                    return _gql_error(operation, "NOT_FOUND", f"Could not resolve to a node with the global id of '{variables.get('issueId')}'")
                if operation == "pinIssue" and issue.number not in self.pinned:
                    if len(self.pinned) >= self.pin_limit:
                        return _gql_error(operation, "UNPROCESSABLE", self.pin_limit_message)
                    self.pinned.append(issue.number)
                elif operation == "unpinIssue" and issue.number in self.pinned:
                    self.pinned.remove(issue.number)
                return {"data": {operation: {"issue": {"id": issue.node_id, "number": issue.number}}}}
        return {"errors": [{"message": "fake GitHub: unsupported query"}]}

    def _by_node(self, node_id: Any) -> FakeIssue | None:
        return next((i for i in self.issues.values() if i.node_id == node_id), None)

    def _gql_issue(self, issue: FakeIssue) -> dict[str, Any]:
        return {
            "id": issue.node_id,
            "number": issue.number,
            "title": issue.title,
            "body": issue.body or "",
            "state": issue.state.upper(),
            "url": f"https://github.com/{self.full_name}/issues/{issue.number}",
            "createdAt": stamp(issue.created_at),
            "updatedAt": stamp(issue.updated_at),
            "author": {"login": issue.author},
            "labels": {"nodes": [{"name": x} for x in issue.labels]},
            "reactions": {"totalCount": sum(1 for x in issue.reactions if x["content"] == "eyes")},
        }


def _date_filter(value: str) -> Callable[[datetime], bool] | None:
    """A search date qualifier's value as a test: `>=T`, `>T`, `<=T`, `<T`, `A..B` (inclusive),
    `A..*`, `*..B` or `T`, each a date (YYYY-MM-DD: that whole day, UTC) or an ISO 8601 time
    with Z or an offset, to the second (docs: "Understanding the search syntax", query for
    dates). None if malformed."""

    def span(text: str) -> tuple[datetime, datetime] | None:  # [first moment, first moment after)
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                day = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
                return day, day + timedelta(days=1)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return moment, moment + timedelta(seconds=1)

    op = next((o for o in (">=", ">", "<=", "<") if value.startswith(o)), None)
    if op is not None:
        moment = span(value[len(op):])
        if moment is None:
            return None
        first, after = moment
        return {">=": lambda t: t >= first, ">": lambda t: t >= after,
                "<=": lambda t: t < after, "<": lambda t: t < first}[op]
    low_text, dots, high_text = value.partition("..")
    low = span(low_text) if low_text != "*" else None
    high = span(high_text) if dots and high_text != "*" else None
    if (low is None and low_text != "*") or (dots and high is None and high_text != "*"):
        return None
    if not dots:  # T alone: within that day or second
        return lambda t: low[0] <= t < low[1]  # type: ignore[index]
    return lambda t: (low is None or t >= low[0]) and (high is None or t < high[1])


def _gql_error(path: str, kind: str, message: str) -> dict[str, Any]:
    # GraphQL reports a failed mutation with HTTP 200: data.<field> is null and `errors` says why.
    return {
        "data": {path: None},
        "errors": [{"type": kind, "path": [path], "locations": [{"line": 3, "column": 3}], "message": message}],
    }
