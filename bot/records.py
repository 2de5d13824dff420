"""Forge-neutral records of what a forge holds: issues, comments, reactions.

Adapters build these from API objects; the core never sees an API object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Issue:
    number: int  # GitHub's number, GitLab's iid
    title: str
    body: str
    labels: tuple[str, ...]
    state: str  # "open" or "closed"
    url: str
    author: str  # forge login / username
    created_at: datetime
    updated_at: datetime
    confidential: bool = False
    # Count of 👀 reactions as the listing reports it (GitHub's reactions rollup, GitLab's
    # award count is not in listings: None there). Lets a tick notice an acknowledgement
    # without a request per issue.
    eyes: int | None = None
    node_id: str | None = None  # GitHub GraphQL id, for pinning
    closed_by: str | None = None  # who closed it, where the forge says (None: unknown or open)

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Release:
    """A published release of the repository (drafts left out)."""

    tag: str
    name: str
    at: datetime  # when it was published (GitHub) / released (GitLab)
    url: str = ""


@dataclass(frozen=True)
class Reaction:
    user: str
    emoji: str  # normalised name: "eyes", "white_check_mark", "+1", ...
    created_at: datetime | None = None


class Access(enum.IntEnum):
    """Repository access, ordered. GitHub: read/triage/write/maintain/admin;
    GitLab: guest(10)/reporter(20)/developer(30)/maintainer(40)/owner(50)."""

    NONE = 0
    READ = 10  # GitHub read, GitLab guest
    TRIAGE = 20  # GitHub triage, GitLab reporter
    WRITE = 30  # GitHub write, GitLab developer
    MAINTAIN = 40
    ADMIN = 50


class PinOutcome(enum.Enum):
    PINNED = "pinned"  # pinned now, or already pinned
    LIMIT_REACHED = "limit_reached"  # the forge's pin slots are all taken
    UNSUPPORTED = "unsupported"  # the forge has no pinning (GitLab)


@dataclass(frozen=True)
class ForgeCapabilities:
    """What the planner may count on from a forge."""

    pinning: bool
    confidential_issues: bool
    incident_issue_type: bool  # GitLab's issue_type=incident
    # No event for a reaction (GitHub): the tick looks for 👀, using the counts listings carry.
    polled_reactions: bool = False


@dataclass(frozen=True)
class ChatRef:
    """Where a chat message lives, so later runs can thread under it or edit it."""

    service: str  # "slack", "local", "apprise"
    channel: str
    ts: str  # Slack's message ts; a local id elsewhere

    def encode(self) -> str:
        return f"{self.service}|{self.channel}|{self.ts}"

    @classmethod
    def decode(cls, text: str) -> ChatRef:
        service, channel, ts = text.split("|", 2)
        return cls(service, channel, ts)


@dataclass(frozen=True)
class ChatRoot:
    """One of the bot's root alerts as a chat channel shows it now: its key, and who put which
    reaction on it (chat user ids). People react there to say "I'm on it" (👀) or "fixed" (✅)."""

    key: str
    ref: ChatRef
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (emoji name, user ids)
    latest_reply: str = ""  # the ts of the newest reply in its thread ("" when none)


@dataclass(frozen=True)
class ChatReply:
    """A reply in an alert's thread: who wrote it (a chat user id) and what."""

    user: str
    text: str
    ts: str
    by_bot: bool = False


@dataclass(frozen=True)
class ChatMessage:
    """A chat message as the core renders it: plain text, escaped by each notifier for its
    service. `mentions` are chat user ids (Slack ids) the notifier turns into real mentions;
    nothing else in the text can mention anyone."""

    headline: str
    body: str
    fields: tuple[tuple[str, str], ...] = ()
    link: tuple[str, str] | None = None  # (text, url) to the outage or source issue
    mentions: tuple[str, ...] = ()
    status: str = "open"  # open / acknowledged / escalated / resolved: drives colour or emoji
    severity: str = ""
    metadata_key: str = ""  # idempotency key, stored with the message where the service can


@dataclass(frozen=True)
class Channel:
    """A routed destination as the policy names it."""

    id: str  # the policy's channel id ("alerts")
    slack: str | None = None
    apprise: str | None = None  # URL, with ${VARS} expanded by the adapter from the environment
    audience: str = "team"  # "team" or "users"
    extra: dict[str, str] = field(default_factory=dict)
