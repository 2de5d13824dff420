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
from pathlib import Path
from typing import Any

from bot.adapters.local import LocalForge
from bot.errors import UserError
from bot.events import Event, EventKind


def act(forge: LocalForge, action: dict[str, Any]) -> Event:
    """Apply a person's action to the local forge; the event it makes."""
    verb = action.get("action")
    actor = str(action.get("actor", "someone"))
    forge.actor = actor
    extra: dict[str, Any]
    try:
        if verb == "open":
            issue = forge.create_issue(title=str(action.get("title", "")), body=str(action.get("body", "")),
                                       labels=list(action.get("labels", [])))
            kind, extra = EventKind.OPENED, {}
        else:
            number = int(action["issue"])
            if verb in ("label", "unlabel"):
                label = str(action["label"])
                (forge.add_labels if verb == "label" else forge.remove_labels)(number, [label])
                kind = EventKind.LABELED if verb == "label" else EventKind.UNLABELED
                extra = {"label": label}
            elif verb == "comment":
                comment = forge.post_comment(number, str(action.get("body", "")))
                kind, extra = EventKind.COMMENTED, {"comment": comment}
            elif verb == "react":
                emoji = str(action.get("emoji", "eyes"))
                forge.react(number, actor, emoji)
                kind, extra = EventKind.REACTED, {"emoji": emoji}
            elif verb == "close":
                forge.close_issue(number)
                kind, extra = EventKind.CLOSED, {}
            elif verb == "reopen":
                forge.reopen_issue(number)
                kind, extra = EventKind.REOPENED, {}
            else:
                raise UserError(f"local event: unknown action {verb!r} (expected: open, label, unlabel, comment, react, close, reopen)")
            issue = forge.get_issue(number)
    except KeyError as exc:
        raise UserError(f"local event: missing field {exc.args[0]!r}") from None
    finally:
        forge.actor = forge.bot_login
    return Event(kind=kind, issue=issue, actor=actor, at=forge.clock(), **extra)


def read_event(forge: LocalForge, path: str) -> Event:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable JSON event: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a local event is a JSON object with an `action`")
    return act(forge, data)
