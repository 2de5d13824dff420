"""GitLab webhook bodies, delivered through a pipeline trigger, as the forge-neutral Event.

GitLab CI runs no pipeline on issue events by itself. A project webhook (issue, comment and
emoji events) pointed at the pipeline trigger URL starts one; the job then sees
`CI_PIPELINE_SOURCE=trigger` and `TRIGGER_PAYLOAD`, the path of a file holding the request's
parameters as JSON: the webhook body's keys, plus `ref` and `id` from the trigger URL and the
trigger's `variables` (GitLab's Ci::PipelineTriggerService stores `params.except(:token)`).

Shapes: docs/user/project/integrations/webhook_events.md ("Work item events", "Comment events",
"Emoji events"); GitLab's own examples are in tests/fixtures/gitlab/webhooks/.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.adapters.gitlab.convert import emoji_name, label_names, state_of
from bot.adapters.gitlab.timestamps import parse_time
from bot.errors import NotMine, NotUtf8, UserError
from bot.events import Event, EventKind
from bot.intake import Alert, looks_like_alert, parse_alert
from bot.records import Comment, Issue

TICK_SOURCES = frozenset({"schedule", "web", "api"})
_ISSUE_ACTIONS = {"open": EventKind.OPENED, "close": EventKind.CLOSED, "reopen": EventKind.REOPENED}


def read_trigger(environ: Mapping[str, str], forge: object, event_path: str | None) -> Event | Alert | None:
    """The event this pipeline was started for; None for a scheduled or manual run (a tick); an
    Alert when Alertmanager or Sentry posted to the trigger URL (their body is the payload).

    `forge` is asked who the token is only when a payload names an issue's author by id alone.
    """
    delivery = environ.get("CI_PIPELINE_ID", "")
    project = {"project_id": environ.get("CI_PROJECT_ID", "").strip(), "project_path": environ.get("CI_PROJECT_PATH", "").strip()}
    if event_path:
        body = _load(event_path, "--event")
        if looks_like_alert(body):
            return parse_alert(body, event_path)
        return event_from_payload(body, forge, delivery=delivery, **project)
    source = environ.get("CI_PIPELINE_SOURCE", "").strip()
    if source in TICK_SOURCES:
        return None
    if not source:
        raise UserError("CI_PIPELINE_SOURCE is not set: run `outage-bot handle` in a GitLab CI job, or give --event FILE")
    if source != "trigger":
        raise NotMine(f"a {source!r} pipeline carries no issue event (outage-bot runs on trigger, schedule, web and api pipelines)")
    where = environ.get("TRIGGER_PAYLOAD", "").strip()
    if not where:
        raise UserError("TRIGGER_PAYLOAD is not set in this trigger pipeline (expected: the path of the webhook body GitLab saved)")
    payload = _load(where, "TRIGGER_PAYLOAD")
    if looks_like_alert(payload):  # the trigger's own `ref`, `id` and `variables` come along: unread
        return parse_alert(payload, "TRIGGER_PAYLOAD")
    if "object_kind" not in payload:
        return None  # the trigger was called by hand (curl, another pipeline): run a tick
    return event_from_payload(payload, forge, delivery=delivery, **project)


def event_from_payload(payload: Mapping[str, Any], forge: object = None, *, delivery: str = "", project_id: str = "",
                       project_path: str = "") -> Event:
    """One webhook body as an Event. `project_id`/`project_path` (CI_PROJECT_ID, CI_PROJECT_PATH):
    a body about another project is NotMine, whatever its issue numbers say."""
    kind = payload.get("object_kind")
    if not isinstance(kind, str) or not kind:
        raise UserError("the webhook body has no `object_kind` (expected: issue, note or emoji)")
    _same_project(payload, project_id, project_path)
    if kind in ("issue", "work_item"):
        return _issue_event(payload, forge, delivery)
    if kind == "note":
        return _note_event(payload, forge, delivery)
    if kind == "emoji":
        return _emoji_event(payload, forge, delivery)
    raise NotMine(f"GitLab {kind} events are not outage-bot's (it reads issue, note and emoji events)")


# -- the three kinds ---------------------------------------------------------------------------
def _issue_event(payload: Mapping[str, Any], forge: object, delivery: str) -> Event:
    attrs = _object(payload, "object_attributes")
    if payload.get("object_kind") == "work_item" and attrs.get("type") not in ("Issue", "Incident"):
        raise NotMine(f"a {attrs.get('type') or 'work item'} event: outage-bot reads issues only")
    action = _text(attrs, "action", "object_attributes.action")
    actor = _actor(payload)
    at = _time(attrs, "updated_at", "object_attributes.updated_at")

    changes = _mapping(payload, "changes")
    label_change = changes.get("labels") if isinstance(changes.get("labels"), Mapping) else None
    if label_change is not None:
        before = _labels(label_change.get("previous"), "changes.labels.previous")
        after = _labels(label_change.get("current"), "changes.labels.current")
    else:
        # Top-level `labels` are the issue's labels now; object_attributes repeats them.
        after = (_labels(payload["labels"], "labels") if "labels" in payload
                 else _labels(attrs.get("labels"), "object_attributes.labels"))
        before = () if action == "open" else after  # an issue opened with labels: all are new
    added = tuple(label for label in after if label not in before)
    removed = tuple(label for label in before if label not in after)

    if action in _ISSUE_ACTIONS:
        kind = _ISSUE_ACTIONS[action]
    elif action == "update":
        if added:
            kind = EventKind.LABELED
        elif removed:
            kind = EventKind.UNLABELED
        elif "assignees" in changes or "assignee_id" in changes:
            kind = EventKind.ASSIGNED
        else:
            kind = EventKind.EDITED
    else:
        raise NotMine(f"issue action {action!r} is not one outage-bot reacts to (open, close, reopen, update)")
    label = added[0] if kind == EventKind.LABELED else removed[0] if kind == EventKind.UNLABELED else None

    user = _mapping(payload, "user")
    where = "object_attributes"
    issue = Issue(
        number=_int(attrs, "iid", f"{where}.iid"),
        title=_optional_text(attrs, "title", f"{where}.title"),
        body=_optional_text(attrs, "description", f"{where}.description"),
        labels=after,
        state=state_of(_optional_text(attrs, "state", f"{where}.state")),
        url=_optional_text(attrs, "url", f"{where}.url"),
        author=_author(_author_id(attrs, where), user, forge),
        created_at=_time(attrs, "created_at", f"{where}.created_at", default=at),
        updated_at=at,
        confidential=_flag(attrs, "confidential", f"{where}.confidential") or payload.get("event_type") == "confidential_issue",
    )
    return Event(kind=kind, issue=issue, actor=actor, at=at, label=label, labels_added=added,
                 labels_removed=removed, delivery=delivery)


def _note_event(payload: Mapping[str, Any], forge: object, delivery: str) -> Event:
    attrs = _object(payload, "object_attributes")
    noteable = attrs.get("noteable_type")
    if noteable != "Issue":
        raise NotMine(f"a comment on a {noteable or 'something other than an issue'}: outage-bot reads issue comments only")
    if attrs.get("system"):
        raise NotMine("a system note (GitLab's own record of a change): nothing to do")
    # `action` arrived in GitLab 16.11; older instances send only creations.
    action = _optional_text(attrs, "action", "object_attributes.action") or "create"
    if action != "create":
        raise NotMine(f"a comment was {action}d: commands count when a comment is posted, not when it is edited")
    actor = _actor(payload)
    created = _time(attrs, "created_at", "object_attributes.created_at")
    comment = Comment(id=_int(attrs, "id", "object_attributes.id"), author=actor,
                      body=_optional_text(attrs, "note", "object_attributes.note"), created_at=created)
    user = _mapping(payload, "user")
    issue = _hook_issue(_object(payload, "issue"), "issue", user, forge,
                        url=_issue_url(_optional_text(attrs, "url", "object_attributes.url")),
                        confidential=payload.get("event_type") == "confidential_note")
    return Event(kind=EventKind.COMMENTED, issue=issue, actor=actor, at=created, comment=comment, delivery=delivery)


def _emoji_event(payload: Mapping[str, Any], forge: object, delivery: str) -> Event:
    attrs = _object(payload, "object_attributes")
    action = attrs.get("action") or payload.get("event_type")
    if action not in ("award", "revoke"):
        raise NotMine(f"emoji action {action!r} is not award or revoke")
    user = _mapping(payload, "user")
    awardable = attrs.get("awardable_type")
    comment: Comment | None = None
    if awardable == "Note":
        # An emoji on a comment: GitLab's doc example. The issue comes along under `issue`; the
        # comment is passed on so the core can tell a reaction on a note from one on the issue.
        note = _object(payload, "note")
        if note.get("noteable_type") != "Issue":
            raise NotMine(f"an emoji on a comment on a {note.get('noteable_type') or 'non-issue'}: nothing to do")
        comment = Comment(id=_int(note, "id", "note.id"), author=_author(_author_id(note, "note"), user, forge),
                          body=_optional_text(note, "note", "note.note"), created_at=_time(note, "created_at", "note.created_at"))
    elif awardable != "Issue":
        raise NotMine(f"an emoji on a {awardable or 'non-issue'}: outage-bot reads emoji on issues and their comments")
    actor = _actor(payload)
    stamp = "updated_at" if attrs.get("updated_at") else "created_at"
    at = _time(attrs, stamp, f"object_attributes.{stamp}")
    issue = _hook_issue(_object(payload, "issue"), "issue", user, forge,
                        url=_issue_url(_optional_text(attrs, "awarded_on_url", "object_attributes.awarded_on_url")))
    return Event(kind=EventKind.REACTED if action == "award" else EventKind.UNREACTED, issue=issue, actor=actor,
                 at=at, emoji=emoji_name(_text(attrs, "name", "object_attributes.name")), comment=comment,
                 delivery=delivery)


# -- payload pieces ----------------------------------------------------------------------------
def _hook_issue(data: Mapping[str, Any], where: str, user: Mapping[str, Any], forge: object, *, url: str,
                confidential: bool = False) -> Issue:
    """The issue as note and emoji bodies carry it (`Issue#hook_attrs`): labels as objects,
    the author as `author_id` only, `url` sometimes missing (taken from the note's URL then)."""
    updated = _time(data, "updated_at", f"{where}.updated_at")
    return Issue(
        number=_int(data, "iid", f"{where}.iid"),
        title=_optional_text(data, "title", f"{where}.title"),
        body=_optional_text(data, "description", f"{where}.description"),
        labels=_labels(data.get("labels"), f"{where}.labels"),
        state=state_of(_optional_text(data, "state", f"{where}.state")),
        url=_optional_text(data, "url", f"{where}.url") or url,
        author=_author(_author_id(data, where), user, forge),
        created_at=_time(data, "created_at", f"{where}.created_at", default=updated),
        updated_at=updated,
        confidential=_flag(data, "confidential", f"{where}.confidential") or confidential,
    )


def _author(author_id: object, user: Mapping[str, Any], forge: object) -> str:
    """Webhook bodies name an issue's author by id only. It is the acting user, or the bot (the
    token's user, asked once per run), or someone the body does not name: ""."""
    if author_id is None:
        return ""
    if user.get("id") == author_id and user.get("username"):
        return str(user["username"])
    current_user = getattr(forge, "current_user", None)
    if callable(current_user):
        me_id, me_name = current_user()
        if me_id == author_id:
            return str(me_name)
    return ""


def _issue_url(url: object) -> str:
    """A note's or award's URL is the issue's with a `#note_123` fragment."""
    return str(url or "").split("#", 1)[0]


def _actor(payload: Mapping[str, Any]) -> str:
    user = payload.get("user")
    if not isinstance(user, Mapping) or not isinstance(user.get("username"), str) or not user["username"]:
        raise UserError("the webhook body has no `user.username` (who caused the event)")
    return str(user["username"])


def _same_project(payload: Mapping[str, Any], project_id: str, project_path: str) -> None:
    """NotMine for a body about a project other than the job's. Bodies name it in `project`
    (`id`, `path_with_namespace`) and, for notes and emoji, in `project_id`; GitLab matches
    paths case-insensitively. A body that names no project is taken as the job's."""
    project = _mapping(payload, "project")
    ids = [(where, value) for where, value in (("project.id", project.get("id")), ("project_id", payload.get("project_id")))
           if value is not None]
    for where, value in ids:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise UserError(f"the webhook body's `{where}` is {value!r} (expected: a number)")
        if project_id and str(value) != project_id:
            raise NotMine(f"an event of project {value}, not of this project ({project_id}): nothing to do")
    path = project.get("path_with_namespace")
    if path is not None and not isinstance(path, str):
        raise UserError(f"the webhook body's `project.path_with_namespace` is {path!r} (expected: a text)")
    if project_path and path and path.lower() != project_path.lower():
        raise NotMine(f"an event of {path}, not of {project_path}: nothing to do")


def _mapping(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An optional object of the body; empty when absent."""
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def _object(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if not isinstance(value, Mapping):
        raise UserError(f"the webhook body has no `{key}` object")
    return value


def _text(data: Mapping[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise UserError(f"the webhook body has no `{path}`")
    return value


def _int(data: Mapping[str, Any], key: str, path: str) -> int:
    value = data.get(key)
    # isascii: str.isdigit() also accepts digits int() cannot read, such as "²".
    text = str(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not (text.isascii() and text.isdigit()) \
            or int(text) == 0:
        raise UserError(f"the webhook body's `{path}` is {_shown(value)} (expected: a positive number)")
    return int(text)


def _optional_text(data: Mapping[str, Any], key: str, path: str) -> str:
    """A text field that may be absent or null (""), but is text when present."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UserError(f"the webhook body's `{path}` is {_shown(value)} (expected: a text)")
    return value


def _flag(data: Mapping[str, Any], key: str, path: str) -> bool:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise UserError(f"the webhook body's `{path}` is {_shown(value)} (expected: true or false)")
    return bool(value)


def _author_id(data: Mapping[str, Any], where: str) -> int | None:
    value = data.get("author_id")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise UserError(f"the webhook body's `{where}.author_id` is {_shown(value)} (expected: a number)")
    return value


def _labels(value: object, path: str) -> tuple[str, ...]:
    """Labels as webhook bodies list them: objects with a `title` (or plain names)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise UserError(f"the webhook body's `{path}` is {_shown(value)} (expected: a list of labels)")
    for i, label in enumerate(value):
        name = label.get("title", label.get("name")) if isinstance(label, Mapping) else label
        if not isinstance(name, str):
            raise UserError(f"the webhook body's `{path}[{i}]` is {_shown(label)} (expected: a label with a `title`)")
    return label_names(value)


def _shown(value: object) -> str:
    """A value for a message, cut short: a body may hold anything, of any size."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_MISSING: Any = object()


def _time(data: Mapping[str, Any], key: str, path: str, *, default: Any = _MISSING) -> datetime:
    value = data.get(key)
    if value is None and default is not _MISSING:
        return default  # type: ignore[no-any-return]
    try:
        moment = parse_time(value)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31 23:59 -01:00 is past datetime's end in UTC
        moment = None
    # Deadlines are computed years ahead of an event's time: keep clear of datetime's limits.
    if moment is None or not 1970 <= moment.year <= 2999:
        raise UserError(f"the webhook body's `{path}` is {_shown(value)} (expected: a time like 2017-09-15 16:52:00 UTC)")
    return moment


def _load(where: str, name: str) -> Mapping[str, Any]:
    path = Path(where)
    try:
        text = NotUtf8.decode(path.read_bytes(), where, f"the webhook body ({name})")
    except OSError as exc:
        if where.lstrip().startswith("{"):
            text = where  # a variable holding the body itself rather than a file path
        else:
            raise UserError(f"{name}: cannot read {where} ({exc.strerror or exc})") from None
    shown = where if len(where) < 200 else "the body"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{name}: {shown} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise UserError(f"{name}: {shown} is not a webhook body GitLab sends (nested too deeply)") from None
    if not isinstance(data, dict):
        raise UserError(f"{name}: the webhook body is a JSON {type(data).__name__} (expected: an object)")
    return data
