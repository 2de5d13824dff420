"""The fake GitLab with incident timeline events (GraphQL only, as in GitLab):

- `timelineEventCreate(input: {incidentId, note, occurredAt, timelineEventTagNames?})`, the
  input fields GitLab's TimelineEventCreateInput declares (any other field is refused, as
  GraphQL refuses an unknown input field), `incidentId` a global id `gid://gitlab/Issue/<id>`
  (the REST `id`, not the `iid`); refused on an issue that is not an incident, and a note
  longer than 280 characters is refused with `errors`;
- `project(fullPath:) { incidentManagementTimelineEvents(incidentId:) { nodes { ... } } }`.

Kept apart from fake_gitlab.py: a subclass that answers these and hands every other GraphQL
request to FakeGitLab.
"""

from __future__ import annotations

import re
from typing import Any

from fake_gitlab import FakeGitLab

INPUT_FIELDS = {"incidentId", "note", "occurredAt", "timelineEventTagNames", "clientMutationId"}
NOTE_LIMIT = 280


class FakeGitLabTimeline(FakeGitLab):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeline_events: dict[int, list[dict[str, Any]]] = {}  # issue iid -> events, oldest first
        self.timeline_creates = 0  # timelineEventCreate mutations answered

    def _issue_by_gid(self, gid: object) -> dict[str, Any] | None:
        match = re.fullmatch(r"gid://gitlab/Issue/(\d+)", str(gid or ""))
        return next((i for i in self.issues.values() if match and i["id"] == int(match.group(1))), None)

    def _graphql(self, body: dict[str, Any]) -> dict[str, Any]:
        query = str(body.get("query") or "")
        variables = body.get("variables") or {}
        if "timelineEventCreate" in query:
            return self._create_event(variables.get("input") or {})
        if "incidentManagementTimelineEvents" in query:
            return self._list_events(variables)
        return super()._graphql(body)

    def _create_event(self, data: dict[str, Any]) -> dict[str, Any]:
        self.timeline_creates += 1
        unknown = set(data) - INPUT_FIELDS
        missing = {"incidentId", "note", "occurredAt"} - set(data)
        if unknown or missing:
            return {"errors": [{"message": f"Variable $input of type TimelineEventCreateInput! was provided invalid value "
                                           f"(unknown: {sorted(unknown)}, missing: {sorted(missing)})"}]}
        issue = self._issue_by_gid(data["incidentId"])
        if issue is None or issue["issue_type"] != "incident":
            return {"data": {"timelineEventCreate": None}, "errors": [{
                "message": "The resource that you are attempting to access does not exist or you don't have permission "
                           "to perform this action", "path": ["timelineEventCreate"]}]}
        if len(str(data["note"])) > NOTE_LIMIT:
            return {"data": {"timelineEventCreate": {"timelineEvent": None, "errors": [
                f"Timeline text is too long (maximum is {NOTE_LIMIT} characters)"]}}}
        events = self.timeline_events.setdefault(issue["iid"], [])
        event = {"id": f"gid://gitlab/IncidentManagement::TimelineEvent/{next(self._ids)}", "note": str(data["note"]),
                 "occurredAt": str(data["occurredAt"]), "action": "comment", "author": self.bot}
        events.append(event)
        return {"data": {"timelineEventCreate": {"timelineEvent": dict(event), "errors": []}}}

    def _list_events(self, variables: dict[str, Any]) -> dict[str, Any]:
        if variables.get("path") != self.project_path:
            return {"data": {"project": None}}
        issue = self._issue_by_gid(variables.get("incident"))
        nodes = [dict(e) for e in self.timeline_events.get(issue["iid"], [])] if issue else []
        return {"data": {"project": {"incidentManagementTimelineEvents": {
            "pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}}}}
