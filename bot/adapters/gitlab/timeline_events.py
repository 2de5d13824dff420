"""An incident's timeline as GitLab incident timeline events, so GitLab's own incident view
(the Timeline tab) shows what outage-bot did.

Timeline events exist only in GraphQL (no REST endpoint):
- `timelineEventCreate(input: {incidentId: IssueID!, note: String!, occurredAt: Time!})`,
  where `incidentId` is the issue's global id, `gid://gitlab/Issue/<id>` (its REST `id`, not
  its `iid`); the answer carries `errors` (a list of strings) when GitLab refused it;
- `project(fullPath:) { incidentManagementTimelineEvents(incidentId:) { nodes { note occurredAt } } }`
  lists them.
They only exist on issues of type incident: outage-bot opens its outage issues as incidents,
so that is where they go (the source issue when there is no outage issue).

Posting is idempotent without any bookkeeping: the events already there are listed first, and
an entry is posted only when no event has the same note at the same minute. A run whose
answer was lost is therefore repeated safely by the next one.

The text of a note is Markdown that GitLab renders: user text in it (a resolution note) goes
through `md_inline`, which leaves it unable to mention anyone or run a quick action, and no
entry's own text holds an @mention (people tagged are named without the @).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests

from bot.adapters.gitlab.timestamps import parse_time
from bot.errors import ServiceError
from bot.text import md_inline
from bot.timeline import Entry
from gitlab.exceptions import GitlabError

# GitLab's limit on a timeline event's text (IncidentManagement::TimelineEvent validates the
# note's length; the incident view's form stops at 280 characters).
NOTE_LIMIT = 280
PER_PAGE = 100

LIST_QUERY = """
query OutageBotTimelineEvents($path: ID!, $incident: IssueID!, $after: String) {
  project(fullPath: $path) {
    incidentManagementTimelineEvents(incidentId: $incident, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id note occurredAt }
    }
  }
}
"""
CREATE_MUTATION = """
mutation OutageBotTimelineEventCreate($input: TimelineEventCreateInput!) {
  timelineEventCreate(input: $input) {
    timelineEvent { id note occurredAt }
    errors
  }
}
"""


@dataclass(frozen=True)
class TimelineEvent:
    """One GitLab timeline event, as outage-bot writes and compares it."""

    note: str
    occurred_at: datetime  # aware UTC

    @property
    def match_key(self) -> tuple[str, str]:
        """Equal for the same note at the same minute (GitLab keeps seconds; a person may have
        edited the time in the incident view by less than a minute)."""
        return self.note.strip(), self.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M")


def event_note(entry: Entry, *, notes: bool = True) -> str:
    """The text of the event for `entry`: what happened, the resolution note (unless `notes`
    is off: a confidential incident), who and how; at most NOTE_LIMIT characters."""
    who = md_inline(entry.who or "someone", 80)
    how = f", {entry.how}" if entry.how else ""
    told = f"; told {', '.join(entry.channels)}" if entry.channels and entry.kind != "alerted" else ""
    tail = f" ({who}{how}){told}"
    head = entry.what
    if notes and entry.note:
        room = NOTE_LIMIT - len(head) - len(tail) - 4
        if room > 20:
            head += f": {md_inline(entry.note, room)}"
    text = f"outage-bot: {head}{tail}"
    return text if len(text) <= NOTE_LIMIT else text[: NOTE_LIMIT - 1] + "…"


def events_for(entries: Sequence[Entry], *, notes: bool = True) -> list[TimelineEvent]:
    """The timeline events for `entries`, in order, one per entry."""
    return [TimelineEvent(event_note(e, notes=notes), e.at.astimezone(timezone.utc)) for e in entries]


def missing(wanted: Sequence[TimelineEvent], existing: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """Those of `wanted` that `existing` does not already hold (nor `wanted` earlier)."""
    seen = {e.match_key for e in existing}
    out = []
    for event in wanted:
        if event.match_key not in seen:
            seen.add(event.match_key)
            out.append(event)
    return out


class TimelineEvents:
    """The timeline events of one GitLab incident, through python-gitlab's client.

    `project` is a python-gitlab Project object (lazy is enough): the one GitLabForge holds
    (`bot.adapters.gitlab.timeline_events.project_of`). `max_retries` as the forge's."""

    def __init__(self, project: Any, iid: int, *, max_retries: int = 5) -> None:
        self._project = project
        self._gl = project.manager.gitlab
        self._iid = iid
        self._retries = max_retries
        self._graphql_url = str(self._gl.url).rstrip("/") + "/api/graphql"
        self._gid: str | None = None
        self._path: str | None = None

    def _opts(self, *, repeat_5xx: bool = True) -> dict[str, Any]:
        opts: dict[str, Any] = {"obey_rate_limit": False, "max_retries": self._retries}
        if not repeat_5xx:
            opts["retry_transient_errors"] = False  # a create is never repeated blindly
        return opts

    def _incident(self) -> tuple[str, str]:
        """The issue's global id and the project's full path, from one REST request (GraphQL
        wants both; the forge may know the project by its numeric id only)."""
        if self._gid is None or self._path is None:
            request = f"GET /projects/{self._project.get_id()}/issues/{self._iid}"
            with _calling(request):
                issue = self._project.issues.get(self._iid, **self._opts())
            data = issue.attributes
            self._gid = f"gid://gitlab/Issue/{data['id']}"
            full = str((data.get("references") or {}).get("full") or "")
            self._path = full.rsplit("#", 1)[0] if "#" in full else str(getattr(self._project, "path_with_namespace", ""))
            if not self._path:
                raise ServiceError("gitlab", request, "the issue's answer names no project path (references.full)")
        return self._gid, self._path

    def _graphql(self, operation: str, query: str, variables: dict[str, Any], *, creates: bool = False) -> dict[str, Any]:
        request = f"POST /api/graphql {operation}"
        with _calling(request):
            answer = self._gl.http_post(self._graphql_url, post_data={"query": query, "variables": variables},
                                        **self._opts(repeat_5xx=not creates))
        data = answer if isinstance(answer, dict) else {}
        errors = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in data.get("errors") or []]
        if errors:
            raise ServiceError("gitlab", request, "; ".join(errors)[:300],
                               hint="timeline events need an issue of type incident and the Reporter role or higher")
        return data.get("data") or {}

    def existing(self) -> list[TimelineEvent]:
        """Every timeline event of the incident (GitLab's own ones too)."""
        gid, path = self._incident()
        found: list[TimelineEvent] = []
        after: str | None = None
        while True:
            body = self._graphql("OutageBotTimelineEvents", LIST_QUERY, {"path": path, "incident": gid, "after": after})
            project = body.get("project")
            if project is None:
                raise ServiceError("gitlab", "POST /api/graphql OutageBotTimelineEvents", f"no project {path!r} visible to the token")
            events = project.get("incidentManagementTimelineEvents") or {}
            for node in events.get("nodes") or []:
                found.append(TimelineEvent(str(node.get("note") or ""), parse_time(node["occurredAt"])))
            page = events.get("pageInfo") or {}
            if not page.get("hasNextPage") or not page.get("endCursor"):
                return found
            after = str(page["endCursor"])

    def create(self, event: TimelineEvent) -> None:
        gid, _ = self._incident()
        occurred = event.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = self._graphql("OutageBotTimelineEventCreate", CREATE_MUTATION,
                             {"input": {"incidentId": gid, "note": event.note, "occurredAt": occurred}}, creates=True)
        payload = body.get("timelineEventCreate") or {}
        if payload.get("errors"):
            raise ServiceError("gitlab", "POST /api/graphql OutageBotTimelineEventCreate", "; ".join(map(str, payload["errors"]))[:300])

    def sync(self, entries: Sequence[Entry], *, notes: bool = True, dry_run: bool = False) -> list[TimelineEvent]:
        """Post the events for `entries` that the incident does not have yet; the ones posted
        (with `dry_run`, the ones that would be)."""
        todo = missing(events_for(entries, notes=notes), self.existing())
        if not dry_run:
            for event in todo:
                self.create(event)
        return todo


def project_of(forge: Any) -> Any:
    """The python-gitlab Project a GitLabForge works on.

    GitLabForge keeps it private (`_project`); this reads it until the forge offers it
    (a read-only `project` property), so that this module needs no change to the forge."""
    project = getattr(forge, "project", None) or getattr(forge, "_project", None)
    if project is None:
        raise TypeError("not a GitLabForge: it holds no python-gitlab project")
    return project


@contextmanager
def _calling(request: str) -> Iterator[None]:
    """python-gitlab's and requests' errors as ServiceError naming the request (no token: the
    client's errors never carry the header)."""
    try:
        yield
    except GitlabError as exc:
        detail = f"HTTP {exc.response_code}: {exc.error_message}" if exc.response_code else str(exc.error_message)
        raise ServiceError("gitlab", request, " ".join(str(detail).split())[:300]) from exc
    except requests.RequestException as exc:
        raise ServiceError("gitlab", request, f"{type(exc).__name__}",
                           hint="check CI_API_V4_URL and the network; the next run posts what is missing") from exc
