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
from bot.errors import NotMine, NotUtf8, UserError
from bot.events import Event, EventKind
from bot.intake import Alert, looks_like_alert, parse_alert
from bot.ports import Forge
from bot.records import Comment, Issue

TICK_EVENTS = ("schedule", "workflow_dispatch")
# The `event_type` a relay posts to the dispatches endpoint with an alert sender's webhook body
# as `client_payload` (README: "Alerts from Alertmanager and Sentry").
ALERT_DISPATCH = "outage-bot-alert"
ISSUE_ACTIONS = {
    "labeled": EventKind.LABELED,
    "unlabeled": EventKind.UNLABELED,
    "opened": EventKind.OPENED,
    "closed": EventKind.CLOSED,
    "reopened": EventKind.REOPENED,
    "assigned": EventKind.ASSIGNED,
    "edited": EventKind.EDITED,
}


def read_trigger(environ: Mapping[str, str], forge: Forge | None, event_path: str | None) -> Event | Alert | None:
    """The event this run was started for; None for a scheduled or manual run (do a tick); an
    Alert for a `repository_dispatch` carrying an Alertmanager or Sentry webhook body.

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
    if name == "repository_dispatch":
        return alert_from_dispatch(payload, path, repository=environ.get("GITHUB_REPOSITORY", ""))
    return event_from_payload(name, payload, path, delivery=_delivery(environ),
                              repository=environ.get("GITHUB_REPOSITORY", ""))


def event_from_payload(name: str, payload: Mapping[str, Any], path: str = "<payload>", *, delivery: str = "",
                       repository: str = "") -> Event:
    """One webhook payload of event `name` as an Event (see read_trigger).

    `repository` (owner/name, GITHUB_REPOSITORY): a payload about another repository is not
    this run's to apply, whatever its issue numbers say."""
    read = _Reader(payload, path, name)
    if name in ("issues", "issue_comment"):
        read.same_repository(repository)
    if name == "issues":
        action = read.text("action")
        kind = ISSUE_ACTIONS.get(action)
        if kind is None:
            raise NotMine(f"issues.{action}: not an action outage-bot handles ({', '.join(ISSUE_ACTIONS)})")
        read.not_a_pull_request(f"issues.{action} on pull request")
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
        read.not_a_pull_request("comment on pull request")
        comment = Comment(
            id=read.number("comment.id", limit=2**63),  # comment ids are 64-bit
            author=read.text("comment.user.login"),
            body=read.optional_text("comment.body"),
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


def alert_from_dispatch(payload: Mapping[str, Any], path: str = "<payload>", *, repository: str = "") -> Alert:
    """A `repository_dispatch` event: the relay's `event_type` is in `action`, the alert
    sender's webhook body in `client_payload` (GitHub keeps at most 10 top-level keys there)."""
    read = _Reader(payload, path, "repository_dispatch")
    read.same_repository(repository)
    action = read.text("action")
    if action != ALERT_DISPATCH:
        raise NotMine(f"repository_dispatch {action!r}: outage-bot reads only {ALERT_DISPATCH!r} (an alert)")
    body = read.value("client_payload")
    if not isinstance(body, Mapping) or not looks_like_alert(body):
        raise read._missing("client_payload", "is not an Alertmanager or Sentry webhook body")
    return parse_alert(body, path, field_prefix="client_payload.")


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
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the event payload ({exc.strerror or exc})") from None
    try:
        payload = json.loads(NotUtf8.decode(data, path, "the event payload"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: the event payload is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise UserError(f"{path}: the event payload is not JSON GitHub sends (nested too deeply)") from None
    if not isinstance(payload, dict):
        raise UserError(f"{path}: the event payload is not a JSON object")
    return payload


def _guess_name(payload: Mapping[str, Any], path: str) -> str:
    if "client_payload" in payload:
        return "repository_dispatch"
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
            raise self._missing(dotted, f"is {_kind(value)}, not a string")
        return value

    def optional_text(self, dotted: str) -> str:
        """A text field GitHub writes as null when empty (an issue's or a comment's body)."""
        value = self.value(dotted, allow_none=True)
        if value is not None and not isinstance(value, str):
            raise self._missing(dotted, f"is {_kind(value)}, not a string")
        return value or ""

    def number(self, dotted: str, *, limit: int = 2**31) -> int:
        """A positive whole number below `limit`: issue numbers are GraphQL Ints (32 bits)."""
        value = self.value(dotted)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < limit:
            raise self._missing(dotted, f"is {_kind(value)}, not a positive whole number")
        return value

    def time(self, dotted: str) -> datetime:
        text = self.text(dotted)
        try:
            moment = parse_time(text)
        except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:59-01:00 is past datetime's end in UTC
            moment = None
        # Deadlines are computed years ahead of an event's time: keep clear of datetime's limits.
        if moment is None or not 1970 <= moment.year <= 2999:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise self._missing(dotted, f"is not a time ({shown!r})")
        return moment

    def issue(self) -> Issue:
        """The issue, each field the bot reads checked for its JSON type first: a list where
        text belongs would otherwise surface far from here, as a crash."""
        self.number("issue.number")
        for field in ("title", "state", "html_url", "user.login"):
            self.text(f"issue.{field}")
        self.optional_text("issue.body")
        labels = self.value("issue.labels")
        if not isinstance(labels, list):
            raise self._missing("issue.labels", f"is {_kind(labels)}, not a list")
        for i, label in enumerate(labels):
            if not isinstance(label, Mapping) or not isinstance(label.get("name"), str):
                raise self._missing(f"issue.labels[{i}].name", "is missing or not a string")
        for field in ("created_at", "updated_at"):
            self.time(f"issue.{field}")
        node_id = self.payload["issue"].get("node_id")
        if node_id is not None and not isinstance(node_id, str):
            raise self._missing("issue.node_id", f"is {_kind(node_id)}, not a string")
        reactions = self.payload["issue"].get("reactions")
        if isinstance(reactions, Mapping) and "eyes" in reactions:
            eyes = reactions["eyes"]
            if isinstance(eyes, bool) or not isinstance(eyes, int) or eyes < 0:
                raise self._missing("issue.reactions.eyes", f"is {_kind(eyes)}, not a count")
        return issue_from_payload(self.payload["issue"])

    def same_repository(self, repository: str) -> None:
        """NotMine when the payload names a repository other than `repository` (owner/name;
        GitHub compares them case-insensitively). A payload without one is taken as ours."""
        if not repository or "repository" not in self.payload:
            return
        named = self.text("repository.full_name")
        if named.lower() != repository.strip().lower():
            raise NotMine(f"an event of {named}, not of {repository}: nothing to do")

    def not_a_pull_request(self, what: str) -> None:
        """GitHub treats pull requests as issues: comments on them arrive as issue_comment
        events, with `issue.pull_request` set. outage-bot handles issues only."""
        issue = self.payload.get("issue")
        if isinstance(issue, Mapping) and issue.get("pull_request"):
            number = issue.get("number")
            raise NotMine(f"{what} #{number if isinstance(number, int) else '?'}: outage-bot only handles issues")

    def _missing(self, dotted: str, what: str = "is missing") -> UserError:
        action = self.payload.get("action") if isinstance(self.payload, Mapping) else None
        event = f"{self.event}.{action}" if isinstance(action, str) else self.event
        return UserError(f"{self.path}: field `{dotted}` {what} ({event} payload)")


def _kind(value: Any) -> str:
    """A JSON value's type, as a message names it: "a list", "a number", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}" if isinstance(value, int) else "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"
