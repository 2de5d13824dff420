"""The forge-neutral event the engine reacts to.

Each forge adapter turns its payload (GitHub Actions' event file, GitLab's webhook body) into
one `Event`; the engine never sees a payload.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.records import Comment, Issue


class EventKind(str, enum.Enum):
    LABELED = "labeled"
    UNLABELED = "unlabeled"
    OPENED = "opened"
    CLOSED = "closed"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    COMMENTED = "commented"
    REACTED = "reacted"  # an emoji / reaction added
    UNREACTED = "unreacted"
    EDITED = "edited"  # title/body/other change carrying no label change
    DECLARED = "declared"  # `outage-bot declare`
    TICK = "tick"  # the scheduled run
    # A reaction on the incident's root alert in chat (Slack), read by the tick: `emoji` is its
    # name, `actor` the person's forge handle (or name), `comment` the note a ✅ resolves with.
    CHAT_REACTED = "chat_reacted"
    # Replies by the policy's people in the incident's alert thread (`replies`), read by the tick.
    CHAT_REPLIED = "chat_replied"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    issue: Issue  # the issue as of the event: labels AFTER the change
    actor: str  # forge login of who caused it
    at: datetime  # when it happened (aware, UTC): the label's own time for LABELED
    label: str | None = None  # LABELED / UNLABELED: the label changed
    labels_added: tuple[str, ...] = ()  # GitLab reports several label changes in one event
    labels_removed: tuple[str, ...] = ()
    comment: Comment | None = None  # COMMENTED
    emoji: str | None = None  # REACTED / UNREACTED: normalised name ("eyes")
    # Whether `actor` may acknowledge or resolve, by any means (command, 👀, label, closing):
    # in the policy's people, or with at least triage (GitHub) / reporter (GitLab) access.
    # Filled in by the shell, which asks the forge only for events that would need it.
    actor_trusted: bool = False
    delivery: str = ""  # the forge's delivery / run id, for the log
    # CHAT_REPLIED: (who as people read it, when, the text, the reply's chat ts), oldest first
    replies: tuple[tuple[str, datetime, str, str], ...] = ()

    def added(self) -> tuple[str, ...]:
        return self.labels_added or ((self.label,) if self.kind == EventKind.LABELED and self.label else ())

    def removed(self) -> tuple[str, ...]:
        return self.labels_removed or ((self.label,) if self.kind == EventKind.UNLABELED and self.label else ())
