"""What a person does on the local forge, as a small JSON file, turned into an Event.

    {"action": "open", "title": "...", "body": "...", "labels": ["priority::highest"], "actor": "eng-a"}
    {"action": "label", "issue": 1, "label": "priority::highest", "actor": "eng-a"}
    {"action": "unlabel" | "close" | "reopen", "issue": 1, "actor": "..."}
    {"action": "comment", "issue": 1, "body": "/ack", "actor": "eng-a"}
    {"action": "react", "issue": 1, "emoji": "eyes", "actor": "eng-a"}

The local forge applies the action (as that person) and the bot reacts to it, as a forge's
webhook would make it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.adapters.local import LocalForge
from bot.errors import NotUtf8, UserError
from bot.events import Event, EventKind

VERBS = ("open", "label", "unlabel", "comment", "react", "close", "reopen")


def act(forge: LocalForge, action: dict[str, Any], source: str = "local event") -> Event:
    """Apply a person's action to the local forge; the event it makes. `source` (the event
    file) starts every error message."""
    verb = action.get("action")
    if verb not in VERBS:
        raise UserError(f"{source}: field `action` is {_shown(verb)} (expected: one of {', '.join(VERBS)})")
    actor = _text(source, action, "actor", "someone")
    extra: dict[str, Any]
    if verb == "open":
        title, body = _text(source, action, "title", ""), _text(source, action, "body", "")
        labels = action.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise UserError(f"{source}: field `labels` is {_shown(labels)} (expected: a list of label names)")
        with _as(forge, actor):
            issue = forge.create_issue(title=title, body=body, labels=labels)
        return Event(kind=EventKind.OPENED, issue=issue, actor=actor, at=forge.clock())
    if "issue" not in action:
        raise UserError(f"{source}: field `issue` is missing")
    number = action["issue"]
    if isinstance(number, str) and number.isascii() and number.isdigit():
        number = int(number)  # "1" was always read as 1
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 2**31:
        raise UserError(f"{source}: field `issue` is {_shown(number)} (expected: an issue number, like 1)")
    try:
        forge.get_issue(number)
    except LookupError:
        raise UserError(f"{source}: there is no issue #{number} in {forge.path}") from None
    with _as(forge, actor):
        if verb in ("label", "unlabel"):
            if "label" not in action:
                raise UserError(f"{source}: field `label` is missing")
            label = _text(source, action, "label", "")
            (forge.add_labels if verb == "label" else forge.remove_labels)(number, [label])
            kind = EventKind.LABELED if verb == "label" else EventKind.UNLABELED
            extra = {"label": label}
        elif verb == "comment":
            comment = forge.post_comment(number, _text(source, action, "body", ""))
            kind, extra = EventKind.COMMENTED, {"comment": comment}
        elif verb == "react":
            emoji = _text(source, action, "emoji", "eyes")
            forge.react(number, actor, emoji)
            kind, extra = EventKind.REACTED, {"emoji": emoji}
        elif verb == "close":
            forge.close_issue(number)
            kind, extra = EventKind.CLOSED, {}
        else:
            forge.reopen_issue(number)
            kind, extra = EventKind.REOPENED, {}
    return Event(kind=kind, issue=forge.get_issue(number), actor=actor, at=forge.clock(), **extra)


@contextmanager
def _as(forge: LocalForge, actor: str) -> Iterator[None]:
    """The forge writes as `actor` (a person), then as the bot again."""
    forge.actor = actor
    try:
        yield
    finally:
        forge.actor = forge.bot_login


def _text(source: str, action: dict[str, Any], field: str, default: str) -> str:
    value = action.get(field, default)
    if not isinstance(value, str):
        raise UserError(f"{source}: field `{field}` is {_shown(value)} (expected: a text)")
    return value


def _shown(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_event(forge: LocalForge, path: str) -> Event:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the event ({exc.strerror or exc})") from None
    try:
        data = json.loads(NotUtf8.decode(raw, path, "the event"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}:{exc.colno}: the event is not JSON ({exc.msg})") from None
    except RecursionError:
        raise UserError(f"{path}: the event is not a local event (nested too deeply)") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a local event is a JSON object with an `action`")
    return act(forge, data, source=path)
