"""GitHub Actions' trigger -> bot.events.Event.

Actions names the event in GITHUB_EVENT_NAME and leaves the webhook payload in the file at
GITHUB_EVENT_PATH (https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows).
A reaction (👀) fires no event at all: the scheduled tick sees acknowledgements made that way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.adapters.github.convert import issue_from_payload, parse_time
from bot.errors import NotMine, UserError
from bot.events import Event, EventKind
from bot.ports import Forge
from bot.records import Comment, Issue

TICK_EVENTS = ("schedule", "workflow_dispatch")
ISSUE_ACTIONS = {
    "labeled": EventKind.LABELED,
    "unlabeled": EventKind.UNLABELED,
    "opened": EventKind.OPENED,
    "closed": EventKind.CLOSED,
    "reopened": EventKind.REOPENED,
    "assigned": EventKind.ASSIGNED,
    "edited": EventKind.EDITED,
}


def read_trigger(environ: Mapping[str, str], forge: Forge | None, event_path: str | None) -> Event | None:
    """The event this run was started for; None for a scheduled or manual run (do a tick).

    Raises NotMine for an event outage-bot does not handle (exit 0) and UserError for a payload
    it cannot read (exit 1). `forge` is unused: the payload holds all GitHub says."""
    name = environ.get("GITHUB_EVENT_NAME", "")
    if name in TICK_EVENTS:
        return None
    path = event_path or environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        raise UserError("GITHUB_EVENT_PATH is not set and no --event FILE was given: no event to handle")
    payload = _load(path)
    if not name:
        name = _guess_name(payload, path)  # `outage-bot handle --event FILE` outside Actions
    return event_from_payload(name, payload, path, delivery=_delivery(environ))


def event_from_payload(name: str, payload: Mapping[str, Any], path: str = "<payload>", *, delivery: str = "") -> Event:
    """One webhook payload of event `name` as an Event (see read_trigger)."""
    read = _Reader(payload, path, name)
    if name == "issues":
        action = read.text("action")
        kind = ISSUE_ACTIONS.get(action)
        if kind is None:
            raise NotMine(f"issues.{action}: not an action outage-bot handles ({', '.join(ISSUE_ACTIONS)})")
        issue = read.issue()
        label = read.text("label.name") if kind in (EventKind.LABELED, EventKind.UNLABELED) else None
        return Event(
            kind=kind,
            issue=issue,
            actor=read.text("sender.login"),
            at=read.time(_time_field(kind)),
            label=label,
            delivery=delivery,
        )
    if name == "issue_comment":
        action = read.text("action")
        if action != "created":
            raise NotMine(f"issue_comment.{action}: outage-bot only reads new comments")
        if payload.get("issue", {}).get("pull_request"):
            number = payload["issue"].get("number", "?")
            raise NotMine(f"comment on pull request #{number}: outage-bot only handles issues")
        comment = Comment(
            id=int(read.value("comment.id")),
            author=read.text("comment.user.login"),
            body=str(read.value("comment.body", allow_none=True) or ""),
            created_at=read.time("comment.created_at"),
        )
        return Event(
            kind=EventKind.COMMENTED,
            issue=read.issue(),
            actor=read.text("sender.login"),
            at=comment.created_at,
            comment=comment,
            delivery=delivery,
        )
    raise NotMine(f"{name} event: outage-bot handles issues, issue_comment, schedule and workflow_dispatch")


def _time_field(kind: EventKind) -> str:
    # A label change moves issue.updated_at to the change's own moment (the payload has no
    # separate time); an opened issue's moment is its creation, a closed one's its closing.
    if kind == EventKind.OPENED:
        return "issue.created_at"
    if kind == EventKind.CLOSED:
        return "issue.closed_at"
    return "issue.updated_at"


def _load(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the event payload ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: the event payload is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise UserError(f"{path}: the event payload is not a JSON object")
    return payload


def _guess_name(payload: Mapping[str, Any], path: str) -> str:
    if "comment" in payload and "issue" in payload:
        return "issue_comment"
    if "issue" in payload:
        return "issues"
    raise UserError(f"{path}: GITHUB_EVENT_NAME is not set and the payload is neither an issue nor a comment event")


def _delivery(environ: Mapping[str, str]) -> str:
    run = environ.get("GITHUB_RUN_ID", "")
    return f"run {run}.{environ.get('GITHUB_RUN_ATTEMPT', '1')}" if run else ""


class _Reader:
    """Reads dotted fields of a payload; a missing or mistyped one is a UserError naming it."""

    def __init__(self, payload: Mapping[str, Any], path: str, event: str) -> None:
        self.payload, self.path, self.event = payload, path, event

    def value(self, dotted: str, *, allow_none: bool = False) -> Any:
        node: Any = self.payload
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise self._missing(dotted)
            node = node[part]
        if node is None and not allow_none:
            raise self._missing(dotted, "is null")
        return node

    def text(self, dotted: str) -> str:
        value = self.value(dotted)
        if not isinstance(value, str):
            raise self._missing(dotted, "is not a string")
        return value

    def time(self, dotted: str) -> datetime:
        text = self.text(dotted)
        try:
            return parse_time(text)
        except ValueError:
            raise self._missing(dotted, f"is not a time ({text!r})") from None

    def issue(self) -> Issue:
        for field in ("number", "title", "labels", "state", "html_url", "user.login"):
            self.value(f"issue.{field}")
        for field in ("created_at", "updated_at"):
            self.time(f"issue.{field}")
        try:
            return issue_from_payload(self.payload["issue"])
        except (KeyError, TypeError, ValueError) as exc:
            raise self._missing("issue", f"is malformed ({exc})") from None

    def _missing(self, dotted: str, what: str = "is missing") -> UserError:
        action = self.payload.get("action") if isinstance(self.payload, Mapping) else None
        event = f"{self.event}.{action}" if isinstance(action, str) else self.event
        return UserError(f"{self.path}: field `{dotted}` {what} ({event} payload)")
