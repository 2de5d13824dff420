"""`GitHubForge`: bot.ports.Forge on PyGithub (REST), GraphQL only for pinning.

Requests per job are the cost that matters (a repository shares 1,000 GITHUB_TOKEN requests
an hour, and secondary limits punish bursts), so this class:
- builds PyGithub objects lazily (`Github(lazy=True)`): naming an issue costs nothing, only
  reading or writing it does;
- remembers, for the run, what GitHub just said (issues, comments, permissions, pinned
  issues) and keeps that memory up to date with its own writes;
- skips requests whose answer it already knows (no comments, no reactions, a label already
  on or already off the issue);
- lets GitHub create a missing label while adding it (see `add_labels`).
PyGithub's `requester` is used directly where PyGithub's method drops the response we need
or needs two requests for what one can say (PyGithub documents it for that purpose).

Writes that must happen once (open an issue, post a comment) are never repeated blindly
(retry.py). When one fails in a way that may have taken effect (a 5xx, a dropped connection,
a timeout, an answer cut short) the ServiceError says `uncertain=True`, and what this run
remembers of the issue's comments is forgotten, so the executor's look-up by key
(`list_comments`, `find_issue_with_marker`) asks GitHub again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from bot.adapters.github import graphql
from bot.adapters.github.convert import (
    as_utc,
    closed_by,
    comment_from_object,
    is_pull_request,
    issue_from_graphql,
    issue_from_object,
    parse_time,
)
from bot.adapters.github.labels import AUTO_CREATED_COLOUR, colour_of, description_of
from bot.adapters.github.retry import RetrySettings, make_retry
from bot.adapters.transport import may_have_arrived, what_happened
from bot.errors import ServiceError, UserError
from bot.records import (
    Access,
    Comment,
    ForgeCapabilities,
    Issue,
    PinOutcome,
    Reaction,
    Release,
)
from github import Auth, Github
from github.GithubException import GithubException
from github.Issue import Issue as GhIssue

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_GRAPHQL_URL = "https://api.github.com/graphql"
USER_AGENT = "outage-bot"
ACTIONS_BOT = "github-actions[bot]"  # who GITHUB_TOKEN writes as
DEFAULT_RETRY = RetrySettings()
# GitHub's search query limit is 256 characters (docs: "Limitations on query length").
MAX_QUERY = 256
# Search returns at most 1,000 results per query (docs: "Search" REST API, "About search").
SEARCH_CAP = 1000

# role_name of GET .../collaborators/{user}/permission; a custom role falls back on the
# `user.permissions` booleans, then on the legacy `permission` (admin/write/read/none).
_ROLES = {
    "admin": Access.ADMIN,
    "maintain": Access.MAINTAIN,
    "write": Access.WRITE,
    "triage": Access.TRIAGE,
    "read": Access.READ,
    "none": Access.NONE,
}
_PERMISSION_FLAGS = (
    ("admin", Access.ADMIN),
    ("maintain", Access.MAINTAIN),
    ("push", Access.WRITE),
    ("triage", Access.TRIAGE),
    ("pull", Access.READ),
)


@dataclass(frozen=True)
class _Known:
    """What this run last heard from GitHub about one issue."""

    issue: Issue
    comments: int | None = None  # the issue's comment count, when the response said
    reactions: int | None = None  # reactions.total_count, when the response said
    closer_unknown: bool = False  # closed, read from a search: who closed it is not in the response


class GitHubForge:
    """A GitHub repository, through a token (GITHUB_TOKEN in Actions)."""

    name = "github"
    capabilities = ForgeCapabilities(pinning=True, confidential_issues=False, incident_issue_type=False, polled_reactions=True)

    def __init__(
        self,
        token: str,
        repository: str,
        *,
        api_url: str = DEFAULT_API_URL,
        graphql_url: str = DEFAULT_GRAPHQL_URL,
        retry: RetrySettings = DEFAULT_RETRY,
        timeout: int = 20,
        bot_login: str | None = None,
    ) -> None:
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise UserError(f"GITHUB_REPOSITORY is {repository!r} (expected: owner/name)")
        self.repository = repository
        self._owner, self._name = owner, name
        self._token = token
        self._path = f"/repos/{repository}"
        auth = Auth.Token(token)
        common: dict[str, Any] = {
            "auth": auth,
            "timeout": timeout,
            "user_agent": USER_AGENT,
            "per_page": 100,
            "lazy": True,
            "seconds_between_requests": retry.seconds_between_requests,
            "seconds_between_writes": retry.seconds_between_writes,
        }
        self._rest = Github(base_url=api_url.rstrip("/"), retry=make_retry(retry, retry_posts=False), **common)
        # Adding a label (POST .../labels) is idempotent: a client that repeats POSTs after a 5xx
        # or a lost answer serves those, so a passing 502 does not end the run.
        self._labels = Github(base_url=api_url.rstrip("/"), retry=make_retry(retry, retry_posts=True), **common)
        # PyGithub sends any absolute URL to its base host; a client rooted at the GraphQL URL's
        # own origin keeps GITHUB_GRAPHQL_URL exact (GHES: https://HOST/api/graphql).
        parts = urlsplit(graphql_url)
        self._graphql_path = parts.path or "/graphql"
        self._gql = Github(
            base_url=f"{parts.scheme}://{parts.netloc}", retry=make_retry(retry, retry_posts=True), **common
        )
        self._repo = self._rest.get_repo(repository)  # lazy: no request
        self._labels_repo = self._labels.get_repo(repository)  # lazy: no request
        self._known: dict[int, _Known] = {}
        self._comments: dict[int, list[Comment]] = {}
        self._access: dict[str, Access] = {}
        self._pinned: list[Issue] | None = None
        self._label_times: dict[tuple[int, str], datetime | None] = {}
        self._bot_login = bot_login

    # -- who the token is ----------------------------------------------------------------------
    @property
    def bot_login(self) -> str:
        """The login the token writes as, so the core trusts only its own comments as state.

        An installation token (`ghs_`: Actions' GITHUB_TOKEN) cannot ask GET /user; in Actions
        it writes as github-actions[bot]. Another app's installation token needs the login
        given (OUTAGE_BOT_GITHUB_LOGIN). Any other token (a PAT) is asked once."""
        if self._bot_login is None:
            if self._token.startswith("ghs_"):
                self._bot_login = ACTIONS_BOT
            else:
                with self._calling("GET /user"):
                    self._bot_login = self._rest.get_user().login
        return self._bot_login

    # -- reading -------------------------------------------------------------------------------
    def get_issue(self, number: int, *, fresh: bool = False) -> Issue:
        known = self._known.get(number)
        if known and not known.closer_unknown and not fresh:
            return known.issue
        with self._calling(f"GET {self._path}/issues/{number}"):
            gh = self._repo.get_issue(number)
            gh.complete()
            return self._remember(gh, closer=closed_by(gh))

    def list_comments(self, number: int, *, fresh: bool = False) -> list[Comment]:
        if number in self._comments and not fresh:
            return list(self._comments[number])
        known = self._known.get(number)
        if known and known.comments == 0 and not fresh:
            comments: list[Comment] = []  # the issue we just read has none: no request
        else:
            with self._calling(f"GET {self._path}/issues/{number}/comments"):
                comments = [comment_from_object(c) for c in self._repo.get_issue(number).get_comments()]
        self._comments[number] = comments
        return list(comments)

    def list_reactions(self, number: int) -> list[Reaction]:
        known = self._known.get(number)
        if known and known.reactions == 0:
            return []
        with self._calling(f"GET {self._path}/issues/{number}/reactions"):
            return [
                Reaction(user=r.user.login, emoji=r.content, created_at=as_utc(r.created_at))
                for r in self._repo.get_issue(number).get_reactions()
            ]

    def label_removed_by(self, number: int, label: str) -> str | None:
        latest = self._last_label_event(number, label, "unlabeled")
        return latest[1] if latest else None

    def label_added_by(self, number: int, label: str) -> tuple[datetime, str] | None:
        return self._last_label_event(number, label, "labeled")

    def _last_label_event(self, number: int, label: str, kind: str) -> tuple[datetime, str] | None:
        """When and by whom `label` was last labeled/unlabeled, from the issue's events."""
        latest: tuple[datetime, str] | None = None
        with self._calling(f"GET {self._path}/issues/{number}/events"):
            for event in self._repo.get_issue(number).get_events():
                if event.event == kind and event.label.name.lower() == label.lower() and event.actor is not None:
                    when = as_utc(event.created_at)
                    latest = (when, event.actor.login) if latest is None or when > latest[0] else latest
        return latest

    def label_added_at(self, number: int, label: str) -> datetime | None:
        key = (number, label.lower())
        if key in self._label_times:
            return self._label_times[key]
        latest: datetime | None = None
        with self._calling(f"GET {self._path}/issues/{number}/events"):
            for event in self._repo.get_issue(number).get_events():
                # `event.label` exists only on (un)labeled events: reading it on another kind
                # would make PyGithub fetch the event again.
                if event.event == "labeled" and event.label.name.lower() == label.lower():
                    when = as_utc(event.created_at)
                    latest = when if latest is None or when > latest else latest
        self._label_times[key] = latest
        return latest

    def releases(self) -> list[Release]:
        """GET /releases, the first page (newest first); drafts have no published_at."""
        with self._calling(f"GET {self._path}/releases"):
            _, data = self._repo.requester.requestJsonAndCheck("GET", f"{self._path}/releases", parameters={"per_page": 10})
        found = [Release(tag=str(r["tag_name"]), name=str(r.get("name") or r["tag_name"]), at=parse_time(r["published_at"]),
                         url=str(r.get("html_url") or ""))
                 for r in data or [] if isinstance(r, dict) and not r.get("draft") and r.get("published_at")]
        return sorted(found, key=lambda r: r.at, reverse=True)

    def enable_schedule(self, workflow: str) -> str:
        """The tick's workflow (a file name under .github/workflows), re-enabled if GitHub
        disabled it: "active", "re-enabled", "missing", or its state ("disabled_inactivity",
        ...) when the token may not enable it (that needs `actions: write`). GET, then PUT
        .../enable only when disabled; enabling is idempotent, so a lost answer is no harm."""
        path = f"{self._path}/actions/workflows/{workflow}"
        try:
            with self._calling(f"GET {path}", allow={404}):
                state = str(self._repo.get_workflow(workflow).state)
        except GithubException:
            return "missing"
        if not state.startswith("disabled"):
            return state
        try:
            with self._calling(f"PUT {path}/enable", allow={403}):
                enabled = self._repo.get_workflow(workflow).enable()
        except GithubException:  # 403: the token lacks `actions: write`
            return state
        return "re-enabled" if enabled else state

    def search_open_issues(self, labels: Sequence[str]) -> list[Issue]:
        """Every open issue with any of the labels, past search's 1,000-result cap (see
        `_search`): a repository may have 2,000 active incidents."""
        found: dict[int, Issue] = {}
        for query in self._search_queries(labels):
            found.update(self._search(query, None))
        wanted = {label.lower() for label in labels}
        return [issue for issue in found.values() if wanted.intersection(x.lower() for x in issue.labels)]

    def changed_issues(self, since: datetime) -> list[Issue]:
        """One search, `repo:OWNER/NAME is:issue updated:>=2026-11-05T14:00:00Z`, newest change
        first, 100 a page: one request for up to 100 changed issues, whatever the repository's
        size. Open and closed, any labels; `is:issue` leaves pull requests out. Each issue is
        remembered (body, labels, 👀 from the reactions rollup, comment count) so that reading
        it again in this run costs nothing; except a closed one, whose `closed_by` only
        `GET /issues/{n}` carries: `get_issue` reads that one whole.

        Date qualifiers take `>=` and ranges `A..B` (inclusive), and ISO 8601 with a time
        (docs: "Understanding the search syntax", query for dates). The search index lags behind
        writes by seconds to minutes (see find_issue_with_marker): an issue changed just before
        `since` may only now be findable, so the caller overlaps its windows; what a later
        window sees again is harmless.

        Pages are offsets into a list that can change while it is read. Newest change first,
        an issue changed meanwhile moves to the front: the pages after it shift down and
        repeat an issue, never skip one, and the moved issue itself is in the next window.

        Search returns at most 1,000 results per query (`total_count` still counts them all).
        When the cap cuts a query short, the next one asks for `updated:SINCE..OLDEST`, OLDEST
        being the oldest change read (inclusive: issues sharing that second are read again,
        not lost). An answer GitHub marks `incomplete_results` (the search timed out) is an
        error, never a silently shorter list."""
        found = self._search(f"repo:{self.repository} is:issue", _search_stamp(since))  # to the second, rounded down
        return sorted(found.values(), key=lambda i: i.number)

    def _search(self, base: str, start: str | None) -> dict[int, Issue]:
        """Every result of a search, newest change first: when the 1,000-result cap cuts it
        short, the next query narrows the `updated:` window to the oldest change read
        (inclusive: issues sharing that second are read again, not lost)."""
        found: dict[int, Issue] = {}
        window = f">={start}" if start else ""
        while True:
            query = f"{base} updated:{window}" if window else base
            request = f"GET /search/issues?q={query}&sort=updated&order=desc"
            seen, oldest = 0, None
            with self._calling(request):
                results = self._rest.search_issues(query, sort="updated", order="desc")
                for gh in results:
                    seen += 1
                    when = as_utc(gh.updated_at)
                    oldest = when if oldest is None or when < oldest else oldest
                    if not is_pull_request(gh):  # `is:issue` already leaves them out
                        issue = self._remember(gh, closer_unknown=gh.state == "closed")
                        found[issue.number] = issue
                    if seen >= SEARCH_CAP:
                        break  # GitHub refuses the page after (422): the next query goes on
                # Both come with every page just read: no request.
                total, incomplete = results.totalCount, results.incomplete_results
            if incomplete:
                raise ServiceError("github", request, "GitHub's search timed out and returned incomplete results",
                                   hint="the next run searches again")
            if seen < SEARCH_CAP or seen >= total:
                return found
            end = _search_stamp(oldest) if oldest else (start or "")
            narrower = f"{start}..{end}" if start else f"<={end}"
            if narrower == window or (start and end < start):
                # Over 1,000 issues changed within one second (a bulk edit): no narrower
                # window reaches the rest.
                raise ServiceError("github", request, f"{total} issues changed at {end}, over the "
                                   f"{SEARCH_CAP} results a search returns", hint="the next run searches again")
            window = narrower

    def access_of(self, login: str) -> Access:
        if login in self._access:
            return self._access[login]
        request = f"GET {self._path}/collaborators/{login}/permission"
        try:
            with self._calling(request, allow={404}):
                # One request gives role_name, the legacy permission and the booleans; PyGithub's
                # get_collaborator_permission/get_collaborator_role_name would need one each.
                _, data = self._repo.requester.requestJsonAndCheck(
                    "GET", f"{self._path}/collaborators/{quote(login, safe='')}/permission"
                )
            access = _access_from(data)
        except GithubException:  # only a 404 gets here: no such user, or not a collaborator
            access = Access.NONE
        self._access[login] = access
        return access

    def find_issue_with_marker(self, marker: str, label: str) -> Issue | None:
        """The issue list, newest first: one request, and it sees an issue the moment it is
        created. The executor calls this right after a create that may have gone through, so
        it must not use the search API, whose index lags behind writes by seconds to minutes
        (reported in behaviorbot/first-pr-merge#11 and guettli/agentloop#204). No `creator=` filter: the marker is the proof, and GitHub does not document
        which login form (`github-actions[bot]`, `app/github-actions`) that filter accepts for
        an app; a wrong guess would hide the issue and open a second one."""
        with self._calling(f"GET {self._path}/issues?labels={label}&state=all&sort=created&direction=desc"):
            page = self._repo.get_issues(state="all", labels=[label], sort="created", direction="desc").get_page(0)
            for gh in page:
                if not is_pull_request(gh) and marker in (gh.body or ""):
                    return self._remember(gh)
        return None

    def pinned_issues(self) -> list[Issue]:
        if self._pinned is None:
            data = self._graphql("pinnedIssues", graphql.PINNED_ISSUES, {"owner": self._owner, "name": self._name})
            if data.get("errors"):
                raise self._graphql_error("pinnedIssues", data)
            nodes = data["data"]["repository"]["pinnedIssues"]["nodes"]
            self._pinned = [issue_from_graphql(node["issue"]) for node in nodes]
        return list(self._pinned)

    # -- writing -------------------------------------------------------------------------------
    def post_comment(self, number: int, body: str) -> Comment:
        try:
            with self._calling(f"POST {self._path}/issues/{number}/comments", once=True):
                comment = comment_from_object(self._repo.get_issue(number).create_comment(body))
        except ServiceError as exc:
            if exc.uncertain:
                self._forget_comments(number)  # it may be there now: the next list_comments asks
            raise
        if number in self._comments:
            self._comments[number].append(comment)
        known = self._known.get(number)
        if known and known.comments is not None:
            self._known[number] = replace(known, comments=known.comments + 1)
        return comment

    def delete_comment(self, number: int, comment_id: int) -> None:
        with self._calling(f"DELETE {self._path}/issues/comments/{comment_id}"):
            self._repo.get_issue(number).get_comment(comment_id).delete()
        if number in self._comments:
            self._comments[number] = [c for c in self._comments[number] if c.id != comment_id]

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        with self._calling(f"PATCH {self._path}/issues/comments/{comment_id}"):
            self._repo.get_issue(number).get_comment(comment_id).edit(body)
        if number in self._comments:
            self._comments[number] = [replace(c, body=body) if c.id == comment_id else c for c in self._comments[number]]

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
        # GitHub has neither confidential issues nor an incident type (see `capabilities`).
        request = f"POST {self._path}/issues"
        extra: dict[str, Any] = {"assignees": list(assignees)} if assignees else {}
        try:
            with self._calling(request, allow={422}, once=True):
                gh = self._repo.create_issue(title=title, body=body, labels=list(labels), **extra)
        except GithubException as exc:
            if exc.status != 422 or not (labels or extra):
                raise self._service_error(request, exc) from exc
            # 422: nothing was created. An assignee GitHub refuses (no access) is left out; a
            # GitHub that will not create labels on the fly gets them created first.
            if extra and "assignee" in json.dumps(exc.data).lower():
                extra = {}
            elif labels:
                self._create_labels(labels)
            else:
                raise self._service_error(request, exc) from exc
            with self._calling(request, once=True):
                gh = self._repo.create_issue(title=title, body=body, labels=list(labels), **extra)
        issue = self._remember(gh)
        self._comments[issue.number] = []
        return issue

    def edit_issue_body(self, number: int, body: str) -> None:
        with self._calling(f"PATCH {self._path}/issues/{number}"):
            gh = self._repo.get_issue(number)
            gh.edit(body=body)
            self._remember(gh)

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """One request in the common case. GitHub creates a label it does not know while adding
        it (colour ededed, no description: github/docs#35718), so no existence check is made;
        a label that appears with exactly that look is given its colour afterwards, once in the
        label's life. If the add is refused as invalid (a GitHub that does not create labels on
        the fly), the labels are created and the add is tried once more."""
        known = self._known.get(number)
        have = {x.lower() for x in known.issue.labels} if known else set()
        missing = [label for label in dict.fromkeys(labels) if label.lower() not in have]
        if not missing:
            return
        request = f"POST {self._path}/issues/{number}/labels"
        url = f"{self._path}/issues/{number}/labels"
        requester = self._labels_repo.requester  # repeats POSTs: adding a label twice is harmless
        try:
            with self._calling(request, allow={422}):
                _, data = requester.requestJsonAndCheck("POST", url, input={"labels": missing})
        except GithubException as exc:
            if exc.status != 422:
                raise self._service_error(request, exc) from exc
            self._create_labels(missing)
            with self._calling(request):
                _, data = requester.requestJsonAndCheck("POST", url, input={"labels": missing})
        self._set_labels(number, tuple(str(label["name"]) for label in data))
        self._label_times = {k: v for k, v in self._label_times.items() if k[0] != number}

    def remove_labels(self, number: int, labels: Sequence[str]) -> None:
        known = self._known.get(number)
        for label in dict.fromkeys(labels):
            if known and label.lower() not in {x.lower() for x in known.issue.labels}:
                continue  # we just read the issue: it does not carry the label
            request = f"DELETE {self._path}/issues/{number}/labels/{label}"
            try:
                with self._calling(request, allow={404}):
                    _, data = self._repo.requester.requestJsonAndCheck(
                        "DELETE", f"{self._path}/issues/{number}/labels/{quote(label, safe='')}"
                    )
                self._set_labels(number, tuple(str(x["name"]) for x in data or []))
            except GithubException:  # only a 404 gets here: the issue does not carry it
                pass
            known = self._known.get(number)

    def close_issue(self, number: int) -> None:
        with self._calling(f"PATCH {self._path}/issues/{number}"):
            gh = self._repo.get_issue(number)
            gh.edit(state="closed", state_reason="completed")
            self._remember(gh)

    def pin_issue(self, number: int) -> PinOutcome:
        node_id = self._node_id(number)
        data = self._graphql("pinIssue", graphql.PIN_ISSUE, {"issueId": node_id})
        messages = graphql.error_messages(data)
        self._pinned = None
        if not messages:
            return PinOutcome.PINNED
        if graphql.says_pin_limit(messages):
            return PinOutcome.LIMIT_REACHED
        # An error whose text we do not recognise: the pinned list says what happened.
        pinned = self.pinned_issues()
        if any(issue.number == number for issue in pinned):
            return PinOutcome.PINNED
        if len(pinned) >= graphql.PIN_LIMIT:
            return PinOutcome.LIMIT_REACHED
        raise self._graphql_error("pinIssue", data)

    def unpin_issue(self, number: int) -> None:
        node_id = self._node_id(number)
        data = self._graphql("unpinIssue", graphql.UNPIN_ISSUE, {"issueId": node_id})
        self._pinned = None
        if data.get("errors") and any(issue.number == number for issue in self.pinned_issues()):
            raise self._graphql_error("unpinIssue", data)

    # -- helpers -------------------------------------------------------------------------------
    def _remember(self, gh: GhIssue, *, closer: str | None = None, closer_unknown: bool = False) -> Issue:
        issue = replace(issue_from_object(gh), closed_by=closer)
        reactions = gh.reactions
        self._known[issue.number] = _Known(
            issue,
            comments=gh.comments,
            reactions=int(reactions["total_count"]) if reactions and "total_count" in reactions else None,
            closer_unknown=closer_unknown,
        )
        return issue

    def _forget_comments(self, number: int) -> None:
        self._comments.pop(number, None)
        known = self._known.get(number)
        if known:
            self._known[number] = replace(known, comments=None)

    def _set_labels(self, number: int, labels: tuple[str, ...]) -> None:
        known = self._known.get(number)
        if known:
            self._known[number] = replace(known, issue=replace(known.issue, labels=labels))

    def _node_id(self, number: int) -> str:
        node_id = self.get_issue(number).node_id
        if not node_id:
            raise ServiceError("github", f"GET {self._path}/issues/{number}", "the issue has no node_id")
        return node_id

    def _search_queries(self, labels: Sequence[str]) -> list[str]:
        """`label:"a","b"` matches issues with ANY of the labels (comma = OR), so one search
        covers them all; a list too long for GitHub's 256-character limit is split."""
        head = f"repo:{self.repository} is:issue is:open label:"
        names = [f'"{label.replace(chr(34), "")}"' for label in dict.fromkeys(labels)]
        queries: list[str] = []
        chunk: list[str] = []
        for name in names:
            if chunk and len(head) + len(",".join([*chunk, name])) > MAX_QUERY:
                queries.append(head + ",".join(chunk))
                chunk = []
            chunk.append(name)
        if chunk:
            queries.append(head + ",".join(chunk))
        return queries

    def _create_labels(self, labels: Sequence[str]) -> None:
        for label in labels:
            request = f"POST {self._path}/labels"
            try:
                with self._calling(request, allow={422}):
                    self._labels_repo.create_label(label, colour_of(label), description_of(label))
            except GithubException as exc:
                # 422 already_exists: someone made it meanwhile, or our own first try did
                # before its answer was lost (this client repeats the POST).
                if exc.status != 422:
                    raise self._service_error(request, exc) from exc

    # -- the run lock -------------------------------------------------------------------------------
    def take_lock(self, name: str, note: str) -> bool:
        """POST /labels: GitHub answers 422 already_exists when the name is taken, so of two
        runs that try at once exactly one creates it. Not repeated after a lost answer (the
        caller reads the label's note to see whether it was its own)."""
        request = f"POST {self._path}/labels"
        try:
            with self._calling(request, allow={422}, once=True):
                self._repo.create_label(name, "ededed", note)
        except GithubException as exc:
            if _already_exists(exc):
                return False
            raise self._service_error(request, exc) from exc
        return True

    def lock_note(self, name: str) -> str | None:
        request = f"GET {self._path}/labels/{{name}}"
        try:
            with self._calling(request, allow={404}):
                _, data = self._repo.requester.requestJsonAndCheck("GET", f"{self._path}/labels/{quote(name, safe='')}")
        except GithubException:
            return None
        return str(data.get("description") or "") if isinstance(data, dict) else ""

    def drop_lock(self, name: str) -> None:
        request = f"DELETE {self._path}/labels/{{name}}"
        try:
            with self._calling(request, allow={404}):
                self._repo.requester.requestJsonAndCheck("DELETE", f"{self._path}/labels/{quote(name, safe='')}")
        except GithubException:
            pass  # gone already

    def paint_labels(self, names: Sequence[str]) -> None:
        """Give the bot's labels that GitHub created on the fly (grey) their colour: one listing,
        and a PATCH for each still grey. The scheduled run calls this once a day, so that an
        event run never spends requests on looks (the first incident's label event included)."""
        wanted = {name.lower() for name in names}
        try:
            with self._calling(f"GET {self._path}/labels"):
                labels = [{"name": lb.name, "color": lb.color, "description": lb.description} for lb in self._repo.get_labels()]
        except ServiceError:
            return  # cosmetic: try again tomorrow
        self._recolour([lb for lb in labels if str(lb["name"]).lower() in wanted], names)

    def _recolour(self, labels: Sequence[Mapping[str, Any]], added: Sequence[str]) -> None:
        """Give a label GitHub created on the fly its colour. Cosmetic: a refusal is ignored."""
        wanted = {label.lower() for label in added}
        for label in labels:
            name = str(label["name"])
            if name.lower() in wanted and label.get("color") == AUTO_CREATED_COLOUR and not label.get("description"):
                try:
                    self._repo.requester.requestJsonAndCheck(
                        "PATCH",
                        f"{self._path}/labels/{quote(name, safe='')}",
                        input={"color": colour_of(name), "description": description_of(name)},
                    )
                except (GithubException, requests.RequestException, json.JSONDecodeError):
                    pass

    def _graphql(self, operation: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        request = f"POST {self._graphql_path} {operation}"
        with self._calling(request):
            _, data = self._gql.requester.requestJsonAndCheck(
                "POST", self._graphql_path, input={"query": query, "variables": variables}
            )
        if not isinstance(data, dict):
            raise ServiceError("github", request, "the answer is not a JSON object", hint="check GITHUB_GRAPHQL_URL")
        return data

    def _graphql_error(self, operation: str, data: Mapping[str, Any]) -> ServiceError:
        detail = "; ".join(graphql.error_messages(dict(data))) or "no data in the answer"
        return ServiceError("github", f"POST {self._graphql_path} {operation}", self._scrub(detail))

    @contextmanager
    def _calling(
        self, request: str, *, allow: frozenset[int] | set[int] = frozenset(), once: bool = False
    ) -> Iterator[None]:
        """Turn PyGithub's and requests' errors into ServiceError naming `request`; statuses in
        `allow` are re-raised as GithubException for the caller to handle. `once`: a write that
        must not happen twice, whose failure is `uncertain` when it may have taken effect."""
        try:
            yield
        except GithubException as exc:
            if exc.status in allow:
                raise
            raise self._service_error(request, exc, once=once) from exc
        except requests.RequestException as exc:
            uncertain = once and may_have_arrived(exc)
            raise ServiceError(
                "github",
                request,
                self._scrub(f"{what_happened(exc)} ({type(exc).__name__})"),
                hint=_UNCERTAIN if uncertain else "check GITHUB_API_URL and the network; the next run finishes the job",
                uncertain=uncertain,
            ) from exc
        except json.JSONDecodeError as exc:
            # An answer whose body ended early without a Content-Length to tell (PyGithub
            # parses it with json.loads). The status was a success: a write went through.
            raise ServiceError(
                "github", request, "the answer was cut short (not whole JSON)",
                hint=_UNCERTAIN if once else "GitHub or a proxy cut the answer; the next run finishes the job",
                uncertain=once,
            ) from exc

    def _service_error(self, request: str, exc: GithubException, *, once: bool = False) -> ServiceError:
        # A 5xx may come after GitHub carried the request out (a proxy gave up waiting); a 4xx,
        # rate limits included, means it did nothing.
        uncertain = once and exc.status >= 500
        return ServiceError("github", request, self._scrub(_detail(exc)),
                            hint=_UNCERTAIN if uncertain else _hint(exc.status, self.repository), uncertain=uncertain)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


_UNCERTAIN = (
    "GitHub may have done it before the answer was lost: outage-bot looks for it by its marker "
    "before trying again (in this run or the next run), so it is never done twice"
)


def _already_exists(exc: GithubException) -> bool:
    data = exc.data if isinstance(exc.data, dict) else {}
    return exc.status == 422 and any(isinstance(e, dict) and e.get("code") == "already_exists" for e in data.get("errors") or [])


def _search_stamp(moment: datetime) -> str:
    """A search date qualifier's value: ISO 8601 in UTC with a Z, to the second."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _access_from(data: Mapping[str, Any]) -> Access:
    role = str(data.get("role_name") or "").lower()
    if role in _ROLES:
        return _ROLES[role]
    flags = (data.get("user") or {}).get("permissions") or {}
    for flag, access in _PERMISSION_FLAGS:
        if flags.get(flag):
            return access
    return _ROLES.get(str(data.get("permission") or "none").lower(), Access.NONE)


def _detail(exc: GithubException) -> str:
    data = exc.data
    message = exc.message or (data.get("message") if isinstance(data, dict) else None)
    if not message:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
        message = " ".join(text.split())[:200] or "no message"
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors:
        parts = [str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e) for e in errors]
        message += f" ({'; '.join(parts)})"
    return f"HTTP {exc.status}: {message}"


def _hint(status: int, repository: str) -> str:
    if status == 401:
        return "GitHub refused GITHUB_TOKEN: is it expired, or meant for another host?"
    if status == 403:
        return (
            "the token may not write issues (the workflow needs `permissions: issues: write`), "
            "or a rate limit held out past the retries; the next run finishes the job"
        )
    if status == 404:
        return f"is GITHUB_REPOSITORY ({repository}) right, and can the token see it?"
    if status == 410:
        return "issues are disabled in this repository (Settings > General > Features)"
    if status >= 500:
        return "GitHub had a problem; the next run finishes the job without repeating what was done"
    return ""


__all__ = ["DEFAULT_API_URL", "DEFAULT_GRAPHQL_URL", "GitHubForge"]
