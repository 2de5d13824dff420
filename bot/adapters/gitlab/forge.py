"""The Forge interface for one GitLab project, on python-gitlab (REST v4, plus one GraphQL query).

Requests a run makes are few and named: every failure that outlives python-gitlab's retries
becomes a ServiceError naming the request ("GET /projects/14/issues/23/notes"), never the token.

Retries:
- a 429 (GitLab did nothing) is repeated for every method, POSTs included, after the
  `Retry-After` GitLab sends, by a urllib3 Retry on the session (`RateLimitRetry`), which
  waits no longer than `max_rate_limit_wait`: python-gitlab's own 429 handling would sleep
  whatever the header says, so it is switched off (`obey_rate_limit=False`);
- with `retry_transient_errors`, python-gitlab repeats GETs and PUTs (which set a value) on
  5xx, lost connections and timeouts;
- a POST that creates something (an issue, a note) is never repeated after a 5xx, a lost or
  cut answer or a timeout: GitLab may have stored it (a proxy answers 502 after the Rails app
  saved the note), and repeating it would post twice. The ServiceError then says
  `uncertain=True`, what this run remembers of the issue's notes is forgotten, and the
  executor looks the write up by its key (note marker, issue marker) before it tries again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import Retry
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse

import gitlab
from bot import __version__
from bot.adapters.gitlab.convert import (
    access_from_level,
    comment_from_note,
    issue_from_graphql,
    issue_from_rest,
    reaction_from_award,
)
from bot.adapters.gitlab.timestamps import parse_time
from bot.adapters.transport import may_have_arrived, what_happened
from bot.errors import ServiceError
from bot.records import (
    Access,
    Comment,
    ForgeCapabilities,
    Issue,
    PinOutcome,
    Reaction,
    Release,
)
from gitlab.exceptions import GitlabError, GitlabParsingError

USER_AGENT = f"outage-bot/{__version__} python-gitlab/{gitlab.__version__}"
PER_PAGE = 100  # GitLab's maximum page size

# One request for the open issues carrying ANY of the labels. The REST list ANDs `labels=`;
# GraphQL's `or: {labelNames: [...]}` ORs them (GitLab 15.9, on by default; GA in 17.0).
SEARCH_QUERY = """
query OutageBotSearch($path: ID!, $labels: [String!], $after: String) {
  currentUser { id username }
  project(fullPath: $path) {
    issues(state: opened, or: {labelNames: $labels}, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        iid title description state webUrl confidential createdAt updatedAt
        author { username }
        labels(first: 100) { nodes { title } }
      }
    }
  }
}
"""
# The issues changed since a time, any state and labels, in one request per 100; and who the
# token is, which the REST list cannot say (a quiet tick stays one request without GET /user).
CHANGED_QUERY = """
query OutageBotChanged($path: ID!, $since: Time, $after: String) {
  currentUser { id username }
  project(fullPath: $path) {
    issues(updatedAfter: $since, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        iid title description state webUrl confidential createdAt updatedAt
        author { username }
        labels(first: 100) { nodes { title } }
      }
    }
  }
}
"""
_UNCERTAIN = (
    "GitLab may have done it before the answer was lost: outage-bot looks for it by its marker "
    "before trying again (in this run or the next run), so it is never done twice"
)


class RateLimitRetry(Retry):
    """Repeat a request GitLab answered 429 (it did nothing: any method is safe to repeat),
    after its Retry-After, but never wait longer than `max_wait` in a CI job: a longer
    Retry-After hands the 429 back at once. Nothing else is repeated here (python-gitlab
    repeats the transient errors of the requests that may be repeated)."""

    def __init__(self, *, max_wait: float = 120.0, **kwargs: Any) -> None:
        self.max_wait = max_wait
        kwargs.update(connect=0, read=False, other=0, allowed_methods=None, status_forcelist={429},
                      raise_on_status=False, respect_retry_after_header=True)
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> RateLimitRetry:
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        return retry

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # Not Retry's default, which also repeats a 503 or 413 that carries Retry-After: a 503
        # on a POST may come after GitLab stored the note.
        return status_code == 429

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> RateLimitRetry:
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                reason = ResponseError(f"Retry-After {wait:.0f}s is longer than {self.max_wait:.0f}s")
                raise MaxRetryError(_pool, url or "", reason)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)


# What an instance without the union filter answers (feature flag off before 17.0, or older).
_NO_OR_FILTER = re.compile(r"or_issuable_queries|argument '?or'?|UnionedIssueFilterInput|labelNames", re.IGNORECASE)


class GitLabForge:
    """A GitLab project, through a project access token (GITLAB_TOKEN)."""

    name = "gitlab"
    capabilities = ForgeCapabilities(pinning=False, confidential_issues=True, incident_issue_type=True)

    def __init__(
        self,
        url: str,
        token: str,
        project: str | int,
        *,
        project_path: str | None = None,
        bot_login: str | None = None,
        max_retries: int = 5,
        timeout: float = 30.0,
        max_rate_limit_wait: float = 120.0,
    ) -> None:
        """`url` is the instance (https://gitlab.example.com), not the API base; `project` the
        numeric id or the full path. `project_path` (CI_PROJECT_PATH) enables the one-request
        GraphQL search; without it the search takes one REST request per label. `bot_login`
        (OUTAGE_BOT_GITLAB_LOGIN) saves the GET /user that would otherwise ask who the token is.
        `max_rate_limit_wait`: the longest Retry-After a 429 is waited out for."""
        self._token = token
        session = requests.Session()
        rate_limits = HTTPAdapter(max_retries=RateLimitRetry(total=max_retries, backoff_factor=0.5,
                                                             max_wait=max_rate_limit_wait))
        session.mount("https://", rate_limits)
        session.mount("http://", rate_limits)
        self._gl = gitlab.Gitlab(
            url,
            private_token=token,
            retry_transient_errors=True,
            timeout=timeout,
            user_agent=USER_AGENT,
            session=session,
        )
        self._graphql_url = self._gl.url.rstrip("/") + "/api/graphql"
        self._project = self._gl.projects.get(project, lazy=True)  # lazy: no request
        self._pid = quote(str(project), safe="")  # as it appears in request paths
        self._path = project_path or (None if str(project).isdigit() else str(project))
        # max_retries counts repeats after 429 (RateLimitRetry, waiting `Retry-After`) and,
        # where allowed, after 5xx (python-gitlab, waiting 0.1s * 2**n between tries).
        self._retries = max_retries
        self._graphql_or = True  # False once the instance said it has no `or` filter
        self._me: tuple[int, str] | None = None
        self._login = bot_login
        self._known: dict[int, Issue] = {}
        self._comments: dict[int, list[Comment]] = {}
        self._access: dict[str, Access] = {}

    @property
    def project(self) -> Any:
        """The python-gitlab project (lazy: no request), for GitLab-only features such as the
        incident timeline events (bot.adapters.gitlab.timeline_events)."""
        return self._project

    # -- who the token is ----------------------------------------------------------------------
    @property
    def bot_login(self) -> str:
        """The username the token acts as (a project access token's bot user), so the core can
        tell the bot's own comments and issues from anyone else's."""
        return self._login or self.current_user()[1]

    def current_user(self) -> tuple[int, str]:
        if self._me is None:
            with self._calling("GET /user"):
                data = self._gl.http_get("/user", **self._opts())
            assert isinstance(data, dict)
            self._me = (int(data["id"]), str(data["username"]))
        return self._me

    # -- reading -------------------------------------------------------------------------------
    def get_issue(self, number: int, *, fresh: bool = False) -> Issue:
        if number in self._known and not fresh:
            return self._known[number]
        with self._calling(f"GET {self._base}/issues/{number}"):
            issue = self._project.issues.get(number, **self._opts())
        return self._remember(issue.attributes)

    def list_comments(self, number: int, *, fresh: bool = False) -> list[Comment]:
        """Notes, oldest first, without system notes ("changed the description", "closed")."""
        if number not in self._comments or fresh:
            with self._calling(f"GET {self._base}/issues/{number}/notes"):
                notes = self._issue(number).notes.list(
                    sort="asc", order_by="created_at", per_page=PER_PAGE, get_all=True, **self._opts()
                )
            self._comments[number] = [comment_from_note(n.attributes) for n in notes if not n.attributes.get("system")]
        return list(self._comments[number])

    def list_reactions(self, number: int) -> list[Reaction]:
        """Award emoji on the issue itself (not on its notes)."""
        with self._calling(f"GET {self._base}/issues/{number}/award_emoji"):
            awards = self._issue(number).awardemojis.list(per_page=PER_PAGE, get_all=True, **self._opts())
        return [reaction_from_award(a.attributes) for a in awards]

    def label_removed_by(self, number: int, label: str) -> str | None:
        """Who last removed `label`, from the issue's resource label events."""
        latest = self._last_label_event(number, label, "remove")
        return latest[1] if latest else None

    def label_added_by(self, number: int, label: str) -> tuple[datetime, str] | None:
        """When and by whom `label` was last added, from the issue's resource label events."""
        return self._last_label_event(number, label, "add")

    def _last_label_event(self, number: int, label: str, action: str) -> tuple[datetime, str] | None:
        with self._calling(f"GET {self._base}/issues/{number}/resource_label_events"):
            events = self._issue(number).resourcelabelevents.list(per_page=PER_PAGE, get_all=True, **self._opts())
        found = [
            (parse_time(e.attributes["created_at"]), str((e.attributes.get("user") or {}).get("username") or ""))
            for e in events
            if e.attributes.get("action") == action and ((e.attributes.get("label") or {}).get("name") == label)
        ]
        latest = max(found) if found else None
        return latest if latest and latest[1] else None

    def label_added_at(self, number: int, label: str) -> datetime | None:
        """When `label` was last added, from the issue's resource label events."""
        with self._calling(f"GET {self._base}/issues/{number}/resource_label_events"):
            events = self._issue(number).resourcelabelevents.list(per_page=PER_PAGE, get_all=True, **self._opts())
        times = [
            parse_time(e.attributes["created_at"])
            for e in events
            if e.attributes.get("action") == "add" and ((e.attributes.get("label") or {}).get("name") == label)
        ]
        return max(times) if times else None

    def releases(self) -> list[Release]:
        """GET /releases, the first page (sorted by released_at, newest first)."""
        with self._calling(f"GET {self._base}/releases"):
            items = self._project.releases.list(per_page=10, get_all=False, **self._opts())
        found = []
        for item in items:
            r = item.attributes
            when = r.get("released_at") or r.get("created_at")
            if when:
                found.append(Release(tag=str(r["tag_name"]), name=str(r.get("name") or r["tag_name"]), at=parse_time(when),
                                     url=str((r.get("_links") or {}).get("self") or "")))
        return sorted(found, key=lambda r: r.at, reverse=True)

    def search_open_issues(self, labels: Sequence[str]) -> list[Issue]:
        """Open issues with ANY of `labels`: one GraphQL request per 100 matches; where the
        instance lacks GraphQL's `or` filter (or the project path is unknown), one REST request
        per label per 100 matches."""
        wanted = list(dict.fromkeys(labels))
        if not wanted:
            return []
        if self._path and self._graphql_or:
            found = self._search_graphql(wanted)
            if found is not None:
                return found
        return self._search_rest(wanted)

    def changed_issues(self, since: datetime) -> list[Issue]:
        """`GET /projects/:id/issues?updated_after=...&scope=all&state=all&per_page=100`: one
        request per 100 changed issues, open and closed, any labels (merge requests are another
        endpoint). `updated_after` is "on or after", ISO 8601; the list is read from the
        database, so unlike a search it has no index to lag behind. GitLab's default order
        (created_at, newest first) does not move an issue that changes while the pages are
        read, so no page skips one. Listings carry no 👀 count (`eyes` stays None)."""
        moment = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
        after = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # rounded down: never later
        if self._path:
            # GraphQL also names the token's user; a closed issue is not cached, so that
            # get_issue reads it whole (who closed it is only in the REST issue).
            changed = self._graphql_issues("OutageBotChanged", CHANGED_QUERY, {"since": after}, cache=lambda i: i.is_open)
            if changed is not None:
                return changed
        with self._calling(f"GET {self._base}/issues?updated_after={after}&scope=all&state=all"):
            issues = self._project.issues.list(
                updated_after=after, scope="all", state="all", per_page=PER_PAGE, get_all=True, **self._opts()
            )
        found: dict[int, Issue] = {}
        for item in issues:
            issue = self._remember(item.attributes)
            found[issue.number] = issue
        return sorted(found.values(), key=lambda i: i.number)

    def access_of(self, login: str) -> Access:
        """The member's effective role (inherited and invited memberships included)."""
        key = login.lower()
        if key not in self._access:
            with self._calling(f"GET {self._base}/members/all?query={login}"):
                members = self._project.members_all.list(query=login, per_page=PER_PAGE, page=1, **self._opts())
            # `query` also matches names and e-mails, partly: keep the exact username only.
            level = next(
                (m.attributes.get("access_level") for m in members if str(m.attributes.get("username", "")).lower() == key),
                None,
            )
            self._access[key] = access_from_level(level)
        return self._access[key]

    def find_issue_with_marker(self, marker: str, label: str) -> Issue | None:
        """The project's issue list, newest first (one request). The executor calls this right
        after a create that may have gone through: the list is read from the database and
        shows an issue as soon as it is created (only `search=` would go to a search index)."""
        with self._calling(f"GET {self._base}/issues?labels={label}"):
            issues = self._project.issues.list(
                labels=[label], state="all", order_by="created_at", sort="desc", per_page=PER_PAGE, page=1, **self._opts()
            )
        for found in issues:
            if marker in str(found.attributes.get("description") or ""):
                return self._remember(found.attributes)
        return None

    def pinned_issues(self) -> list[Issue]:
        return []  # GitLab has no issue pinning

    def webhook_problem(self) -> str | None:
        """A line saying which project webhook GitLab has disabled after failed deliveries
        (`alert_status`, GitLab 15.1+: executable / temporarily_disabled / disabled), or None.
        Listing hooks needs the Maintainer role: with a lower role the check is skipped."""
        try:
            with self._calling(f"GET {self._base}/hooks", allow={401, 403, 404}):
                hooks = self._project.hooks.list(per_page=PER_PAGE, get_all=True, **self._opts())
        except GitlabError:
            return None
        problems: list[str] = []
        now = datetime.now(timezone.utc)
        for hook in hooks:
            data = hook.attributes
            if not any(data.get(k) for k in ("issues_events", "confidential_issues_events", "note_events",
                                              "confidential_note_events", "emoji_events")):
                continue
            status = str(data.get("alert_status") or "")
            until = _time_or_none(data.get("disabled_until"))
            where = _hook_url(data.get("url"))
            if status == "disabled":
                problems.append(f"webhook {data.get('id')} ({where}) is disabled after failing deliveries: "
                                "re-enable it in Settings > Webhooks")
            elif status == "temporarily_disabled" or (until is not None and until > now):
                when = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
                problems.append(f"webhook {data.get('id')} ({where}) is paused{when} after failing deliveries")
        return "; ".join(problems) or None

    # -- writing -------------------------------------------------------------------------------
    def post_comment(self, number: int, body: str) -> Comment:
        try:
            with self._calling(f"POST {self._base}/issues/{number}/notes", once=True):
                note = self._issue(number).notes.create({"body": body}, **self._opts(repeat_5xx=False))
        except ServiceError as exc:
            if exc.uncertain:
                self._comments.pop(number, None)  # it may be there now: the next list_comments asks
            raise
        if "id" not in note.attributes:
            # GitLab answers 202 without a note when the body held only quick actions.
            raise ServiceError("gitlab", f"POST {self._base}/issues/{number}/notes",
                               "GitLab ran the note as quick actions instead of posting it")
        comment = comment_from_note(note.attributes)
        if number in self._comments:
            self._comments[number].append(comment)
        return comment

    def delete_comment(self, number: int, comment_id: int) -> None:
        with self._calling(f"DELETE {self._base}/issues/{number}/notes/{comment_id}"):
            self._issue(number).notes.delete(comment_id, **self._opts())
        if number in self._comments:
            self._comments[number] = [c for c in self._comments[number] if c.id != comment_id]

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        with self._calling(f"PUT {self._base}/issues/{number}/notes/{comment_id}"):
            self._issue(number).notes.update(comment_id, {"body": body}, **self._opts())
        if number in self._comments:
            self._comments[number] = [
                Comment(c.id, c.author, body, c.created_at) if c.id == comment_id else c for c in self._comments[number]
            ]

    def create_issue(
        self,
        *,
        title: str,
        body: str,
        labels: Sequence[str],
        confidential: bool = False,
        incident: bool = False,
        assignees: Sequence[str] = (),
    ) -> Issue:
        """`assignees` are not set: GitLab takes user ids, a look-up per login; the post-mortem
        names its owner in its body instead. GitLab creates missing labels itself ("If a label does not already exist, this
        creates a new project label"). An incident where the project refuses that type (the
        role may not create incidents) is opened as a plain issue."""
        data: dict[str, Any] = {"title": title, "description": body, "labels": list(dict.fromkeys(labels))}
        if confidential:
            data["confidential"] = True
        request = f"POST {self._base}/issues"
        if incident:
            try:
                with self._calling(request, allow={400, 403, 422}, once=True):
                    created = self._project.issues.create({**data, "issue_type": "incident"}, **self._opts(repeat_5xx=False))
                return self._remember(created.attributes)
            except GitlabError:
                pass  # refused (nothing was created): fall back to a plain issue below
        with self._calling(request, once=True):
            created = self._project.issues.create(data, **self._opts(repeat_5xx=False))
        return self._remember(created.attributes)

    def edit_issue_body(self, number: int, body: str) -> None:
        self._update(number, {"description": body})

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """`add_labels` creates missing labels. Scoped labels (`key::value`) replace the issue's
        other label of the same key: GitLab does that itself."""
        if labels:
            self._update(number, {"add_labels": ",".join(dict.fromkeys(labels))})

    def remove_labels(self, number: int, labels: Sequence[str]) -> None:
        if labels:
            self._update(number, {"remove_labels": ",".join(dict.fromkeys(labels))})

    def close_issue(self, number: int) -> None:
        self._update(number, {"state_event": "close"})

    def pin_issue(self, number: int) -> PinOutcome:
        return PinOutcome.UNSUPPORTED

    def unpin_issue(self, number: int) -> None:
        return None

    # -- the run lock -------------------------------------------------------------------------------
    def take_lock(self, name: str, note: str) -> bool:
        """POST /labels: GitLab answers 409 when the name is taken, so of two runs that try at
        once exactly one creates it. Not repeated after a 5xx (the caller reads the label's
        note to see whether it was its own)."""
        try:
            with self._calling(f"POST {self._base}/labels", allow={409}, once=True):
                self._project.labels.create({"name": name, "color": "#ededed", "description": note},
                                            **self._opts(repeat_5xx=False))
        except GitlabError:
            return False
        return True

    def lock_note(self, name: str) -> str | None:
        try:
            with self._calling(f"GET {self._base}/labels/{{name}}", allow={404}):
                label = self._project.labels.get(name, **self._opts())
        except GitlabError:
            return None
        return str(label.attributes.get("description") or "")

    def drop_lock(self, name: str) -> None:
        try:
            with self._calling(f"DELETE {self._base}/labels/{{name}}", allow={404}):
                self._project.labels.delete(name, **self._opts())
        except GitlabError:
            pass  # gone already

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def _base(self) -> str:
        return f"/projects/{self._pid}"

    def _opts(self, *, repeat_5xx: bool = True) -> dict[str, Any]:
        # 429s are RateLimitRetry's, on the session (bounded waits); see the module docstring.
        opts: dict[str, Any] = {"obey_rate_limit": False, "max_retries": self._retries}
        if not repeat_5xx:
            opts["retry_transient_errors"] = False
        return opts

    def _issue(self, number: int) -> Any:
        return self._project.issues.get(number, lazy=True)  # lazy: no request

    def _update(self, number: int, data: dict[str, Any]) -> None:
        with self._calling(f"PUT {self._base}/issues/{number}"):
            updated = self._project.issues.update(number, data, **self._opts())
        if isinstance(updated, dict) and "iid" in updated:
            self._remember(updated)

    def _remember(self, data: Mapping[str, Any]) -> Issue:
        issue = issue_from_rest(data)
        self._known[issue.number] = issue
        return issue

    def _search_rest(self, labels: list[str]) -> list[Issue]:
        found: dict[int, Issue] = {}
        for label in labels:
            with self._calling(f"GET {self._base}/issues?state=opened&labels={label}"):
                issues = self._project.issues.list(
                    state="opened", labels=[label], per_page=PER_PAGE, get_all=True, **self._opts()
                )
            for item in issues:
                issue = self._remember(item.attributes)
                found.setdefault(issue.number, issue)
        return sorted(found.values(), key=lambda i: i.number)

    def _search_graphql(self, labels: list[str]) -> list[Issue] | None:
        """None when the instance has no `or` filter: the caller falls back to REST."""
        return self._graphql_issues("OutageBotSearch", SEARCH_QUERY, {"labels": labels}, cache=lambda i: True)

    def _graphql_issues(self, operation: str, query: str, variables: dict[str, Any],
                        cache: Callable[[Issue], bool]) -> list[Issue] | None:
        """Every page of a project issues query; notes the token's user. None when the instance
        refuses the query's filter (`or` on older GitLab): the caller falls back to REST."""
        request = f"POST /api/graphql {operation}"
        found: list[Issue] = []
        after: str | None = None
        while True:
            with self._calling(request):
                answer = self._gl.http_post(
                    self._graphql_url,
                    post_data={"query": query, "variables": {"path": self._path, **variables, "after": after}},
                    # GraphQL documents the Bearer header; PRIVATE-TOKEN works too (python-gitlab's).
                    extra_headers={"Authorization": f"Bearer {self._token}"},
                    **self._opts(),
                )
            data = answer if isinstance(answer, dict) else {}
            errors = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in data.get("errors") or []]
            if errors and any(_NO_OR_FILTER.search(e) for e in errors):
                self._graphql_or = False
                return None
            if errors:
                raise ServiceError("gitlab", request, self._scrub("; ".join(errors)[:300]))
            body = data.get("data") or {}
            user = body.get("currentUser")
            if user and self._me is None:
                self._me = (_gid_number(user.get("id")), str(user.get("username")))
            project = body.get("project")
            if project is None:
                raise ServiceError("gitlab", request, f"no project {self._path!r} visible to the token",
                                   hint="is CI_PROJECT_PATH right, and is the token a member of the project?")
            issues = project.get("issues") or {}
            for node in issues.get("nodes") or []:
                issue = issue_from_graphql(node)
                if cache(issue):
                    self._known[issue.number] = issue
                found.append(issue)
            page = issues.get("pageInfo") or {}
            if not page.get("hasNextPage") or not page.get("endCursor"):
                return sorted(found, key=lambda i: i.number)
            after = str(page["endCursor"])

    @contextmanager
    def _calling(
        self, request: str, *, allow: frozenset[int] | set[int] = frozenset(), once: bool = False
    ) -> Iterator[None]:
        """python-gitlab's and requests' errors as ServiceError naming `request`; a GitlabError
        with a status in `allow` is re-raised for the caller to handle. `once`: a write that
        must not happen twice, whose failure is `uncertain` when it may have taken effect."""
        try:
            yield
        except GitlabParsingError as exc:
            # A success status whose body ended early (python-gitlab could not parse it): a
            # write went through.
            raise ServiceError("gitlab", request, "the answer was cut short (not whole JSON)",
                               hint=_UNCERTAIN if once else "GitLab or a proxy cut the answer; the next run finishes the job",
                               uncertain=once) from exc
        except GitlabError as exc:
            if exc.response_code in allow:
                raise
            # A 5xx may come after GitLab carried the request out; a 4xx (429 included) means
            # it did nothing.
            uncertain = once and (exc.response_code or 0) >= 500
            detail = f"HTTP {exc.response_code}: {_message(exc.error_message)}" if exc.response_code else _message(exc.error_message)
            raise ServiceError("gitlab", request, self._scrub(detail),
                               hint=_UNCERTAIN if uncertain else _hint(exc.response_code), uncertain=uncertain) from exc
        except requests.RequestException as exc:
            uncertain = once and may_have_arrived(exc)
            raise ServiceError("gitlab", request, self._scrub(f"{what_happened(exc)} ({type(exc).__name__})"),
                               hint=_UNCERTAIN if uncertain else "check CI_API_V4_URL and the network; the next run finishes the job",
                               uncertain=uncertain) from exc

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _message(message: object) -> str:
    """GitLab's error message on one line; an HTML error page (nginx or a proxy in front of
    GitLab) is named, not quoted."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    if "<html" in text.lower() or "<body" in text.lower():
        return "an HTML error page (from GitLab's web server or a proxy)"
    return " ".join(text.split())[:300]


def _hint(status: int | None) -> str:
    if status == 401:
        return "GitLab refused GITLAB_TOKEN: is it expired or revoked, or meant for another instance?"
    if status == 403:
        return ("the token's role is too low (give the project access token the Reporter role or higher, "
                "with the api scope)")
    if status == 404:
        return "is CI_PROJECT_ID (or CI_PROJECT_PATH) right, and can the token see the project and the issue?"
    if status == 429:
        return "GitLab's rate limit held out past the retries; the next run finishes the job"
    if status and status >= 500:
        return "GitLab is failing; the next run finishes the job"
    return ""


def _hook_url(url: object) -> str:
    """A hook's URL without its query (the pipeline trigger token travels there) or userinfo."""
    parts = urlsplit(str(url or ""))
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}" if parts.scheme else "?"


def _time_or_none(value: object) -> datetime | None:
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def _gid_number(gid: object) -> int:
    """GraphQL ids are global ids: "gid://gitlab/User/42" -> 42."""
    tail = str(gid or "").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
