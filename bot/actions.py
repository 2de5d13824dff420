"""The closed vocabulary of things the bot does. A plan is an ordered list of these.

Every action carries a stable idempotency key: the executor performs an action whose key is
not yet recorded in the incident's ledger, records it, and skips it ever after. Actions hold
plain data only (they are stored in the ledger's outbox until done), and name message
templates rather than text: rendering happens when the action is applied, with what earlier
actions produced (the outage issue's number, for instance).

Targets: an issue number, or "source" / "outage" for the incident's issues.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

Target = int | str


@dataclass(frozen=True)
class Action:
    key: str
    kind: ClassVar[str] = "action"

    def describe(self) -> str:
        """One line for --dry-run and the log."""
        detail = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name not in ("key", "context")
        )
        return f"{type(self).__name__}({detail})"


@dataclass(frozen=True)
class TagPeople(Action):
    """The comment on the source issue that tags people. The first one is also the ledger."""

    target: Target = "source"
    template: str = "tag.md.j2"
    people: tuple[str, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostComment(Action):
    target: Target = "source"
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenOutageIssue(Action):
    title: str = ""
    template: str = "outage_issue.md.j2"
    labels: tuple[str, ...] = ()
    confidential: bool = False
    incident: bool = True
    context: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        # CI job logs are public on public projects: a confidential title never goes there.
        title = "(confidential)" if self.confidential else repr(self.title)
        return f"OpenOutageIssue(title={title}, labels={self.labels!r}, confidential={self.confidential!r})"


@dataclass(frozen=True)
class OpenPostMortem(Action):
    """The post-mortem issue of a resolved incident, from its template, with the incident's
    timeline (read from the forge when it is opened). Assigned to `assignee` where the forge
    can; its body names them anyway."""

    title: str = ""
    template: str = "postmortem.md.j2"
    labels: tuple[str, ...] = ()
    confidential: bool = False
    assignee: str = ""
    context: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        title = "(confidential)" if self.confidential else repr(self.title)
        return f"OpenPostMortem(title={title}, labels={self.labels!r}, assignee={self.assignee!r})"


@dataclass(frozen=True)
class EditOutageIssue(Action):
    template: str = "outage_issue.md.j2"
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PinIssue(Action):
    target: Target = "outage"


@dataclass(frozen=True)
class UnpinIssue(Action):
    target: Target = "outage"


@dataclass(frozen=True)
class AddLabels(Action):
    target: Target = "outage"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoveLabels(Action):
    target: Target = "outage"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class CloseIssue(Action):
    target: Target = "outage"


@dataclass(frozen=True)
class PostChatMessage(Action):
    """A message to a policy channel: the incident's root alert there (root=True), or a reply
    in that root's thread."""

    channel: str = ""
    template: str = ""
    root: bool = False
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateChatMessage(Action):
    """Edit the channel's root alert to show the incident's current state."""

    channel: str = ""
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AddChatReaction(Action):
    channel: str = ""
    emoji: str = ""


@dataclass(frozen=True)
class PostNotice(Action):
    """A chat message about no incident (the on-call handoff). Its key is recorded in the
    status index; a run that died before recording it is looked up by that key first."""

    channel: str = ""
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetChatGroup(Action):
    """Make a chat user group (Slack's `@oncall`) hold exactly `users` (chat ids). Setting
    members is idempotent; its key is recorded in the status index once done."""

    channel: str = ""  # whose chat service does it
    group: str = ""
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class SaveStatusIndex(Action):
    """Write the status index (public, or the confidential one) into its status issue."""

    confidential: bool = False
    issue: int | None = None  # None: open the status issue

    def describe(self) -> str:
        return f"SaveStatusIndex({'confidential' if self.confidential else 'public'}, issue={self.issue!r})"


ACTION_TYPES: dict[str, type[Action]] = {
    cls.__name__: cls
    for cls in (
        TagPeople,
        PostComment,
        OpenOutageIssue,
        OpenPostMortem,
        EditOutageIssue,
        PinIssue,
        UnpinIssue,
        AddLabels,
        RemoveLabels,
        CloseIssue,
        PostChatMessage,
        UpdateChatMessage,
        AddChatReaction,
    )
}

# Actions whose effect is the same however often they run: no need to look for traces of an
# earlier attempt before redoing them after a crash.
NATURALLY_IDEMPOTENT = (EditOutageIssue, PinIssue, UnpinIssue, AddLabels, RemoveLabels, CloseIssue, UpdateChatMessage, AddChatReaction)


def to_data(action: Action) -> dict[str, Any]:
    data = asdict(action)
    data["type"] = type(action).__name__
    return data


def from_data(data: dict[str, Any]) -> Action:
    data = dict(data)
    cls = ACTION_TYPES[data.pop("type")]
    for name in ("people", "labels"):
        if name in data:
            data[name] = tuple(data[name])
    return cls(**data)
