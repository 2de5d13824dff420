"""Issues the bot opens for something outside the forge (an alert group, a probe or an upstream,
a drill): found again by a marker in the body, never opened twice.

A marker is believed only in an issue the bot opened. A create whose answer was lost is looked
up by its marker before anything else: the open issue found is the one it made (an older one of
the same marker is closed), and with none found the error stands, for the next run to try again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.errors import ServiceError

if TYPE_CHECKING:
    from bot.ports import Forge
    from bot.records import Issue


def find_own(forge: Forge, marker: str, label: str) -> Issue | None:
    """The newest issue carrying `label` whose body holds `marker`, if the bot opened it."""
    found = forge.find_issue_with_marker(marker, label)
    bot = getattr(forge, "bot_login", None)
    return found if found is not None and (not bot or found.author.lower() == bot.lower()) else None


def open_own(forge: Forge, *, marker: str, label: str, title: str, body: str, labels: list[str],
             confidential: bool = False) -> Issue:
    """Open the issue (`body` holds `marker`, `labels` holds `label`). The record returned
    carries every label asked for: a forge's answer may lack those it added on the way (GitLab
    creates missing ones)."""
    try:
        issue = forge.create_issue(title=title, body=body, labels=labels, confidential=confidential)
    except ServiceError as exc:
        if not exc.uncertain:
            raise
        # The request went out and its answer was lost: never a second POST blindly.
        again = find_own(forge, marker, label)
        if again is None or not again.is_open:
            raise
        issue = again
    return replace(issue, labels=tuple(dict.fromkeys(issue.labels + tuple(labels))))
