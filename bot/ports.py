"""The two interfaces the executor applies a plan through: a forge and a chat notifier.

Each forge (GitHub, GitLab, the local sqlite one) and each chat service (Slack Web API,
Slack webhook, Apprise, the local one) implements one of these. Methods raise
`bot.errors.ServiceError` (naming the request, never a token) when a call still fails
after the adapter's retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.records import (
    Access,
    Channel,
    ChatMessage,
    ChatRef,
    Comment,
    ForgeCapabilities,
    Issue,
    PinOutcome,
    Reaction,
    Release,
)


class Forge(Protocol):
    name: str  # "github", "gitlab", "local"
    capabilities: ForgeCapabilities

    # -- reading ---------------------------------------------------------------------------
    def get_issue(self, number: int, *, fresh: bool = False) -> Issue:
        """One issue, whole. `fresh`: ask the forge again even if this run read it already."""
        ...

    def list_comments(self, number: int, *, fresh: bool = False) -> list[Comment]:
        """Every comment (GitLab: every non-system note), oldest first. `fresh`: ask the forge
        again even if this run read them already (another run may have written since)."""
        ...

    def list_reactions(self, number: int) -> list[Reaction]:
        """Reactions (GitLab: award emoji) on the issue itself."""
        ...

    def label_added_at(self, number: int, label: str) -> datetime | None:
        """When `label` was last added to the issue (GitHub issue events, GitLab resource label
        events); None when the forge has no record."""
        ...

    def label_removed_by(self, number: int, label: str) -> str | None:
        """Who last removed `label` from the issue (GitHub issue events, GitLab resource label
        events); None when the forge has no record. The tick asks it when a removal's event was
        lost: the removal passes the same permission check as the event would have."""
        ...

    def label_added_by(self, number: int, label: str) -> tuple[datetime, str] | None:
        """When and by whom `label` was last added to the issue; None when the forge has no
        record. The tick asks it when the acknowledged label's event was lost: the label passes
        the same permission check as the event would have."""
        ...

    def releases(self) -> list[Release]:
        """The repository's latest published releases, newest first (drafts left out): one
        request, the first page. For a regression kind's alert (the last known good)."""
        ...

    def search_open_issues(self, labels: Sequence[str]) -> list[Issue]:
        """Open issues carrying ANY of `labels`, in as few requests as the forge allows
        (GitHub: one search; never a walk over every issue)."""
        ...

    def changed_issues(self, since: datetime) -> list[Issue]:
        """Every issue updated at or after `since` (aware UTC), open or closed, whatever its
        labels (pull requests left out), with its body and (GitHub) 👀 count, in as few requests
        as the forge allows: a window of minutes, so one page almost always."""
        ...

    def access_of(self, login: str) -> Access:
        """The user's access to the repository or project (NONE when not a member)."""
        ...

    def find_issue_with_marker(self, marker: str, label: str) -> Issue | None:
        """A bot-created issue carrying `label` whose body contains `marker`. Used only to
        recover after a run died between creating an issue and recording it."""
        ...

    def pinned_issues(self) -> list[Issue]:
        """Issues currently pinned (empty where pinning is unsupported)."""
        ...

    # -- writing ---------------------------------------------------------------------------
    def post_comment(self, number: int, body: str) -> Comment: ...

    def edit_comment(self, number: int, comment_id: int, body: str) -> None: ...

    def delete_comment(self, number: int, comment_id: int) -> None:
        """Delete one of the bot's comments (a duplicate a concurrent run lost the race with)."""
        ...

    def create_issue(
        self,
        *,
        title: str,
        body: str,
        labels: Sequence[str],
        confidential: bool = False,
        incident: bool = False,
        assignees: Sequence[str] = (),
    ) -> Issue:
        """Open an issue; creates missing labels. `confidential`, `incident` and `assignees`
        (logins) are honoured where the forge supports them (see capabilities); an assignee
        the forge refuses is left out, never a reason not to open the issue."""
        ...

    def edit_issue_body(self, number: int, body: str) -> None: ...

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """Add labels, creating missing ones in the repository first."""
        ...

    def remove_labels(self, number: int, labels: Sequence[str]) -> None:
        """Remove labels; a label the issue does not carry is not an error."""
        ...

    def close_issue(self, number: int) -> None: ...

    def pin_issue(self, number: int) -> PinOutcome: ...

    def unpin_issue(self, number: int) -> None: ...

    # -- the run lock (bot.run_lock) ----------------------------------------------------------------
    def take_lock(self, name: str, note: str) -> bool:
        """Create the repository label `name` with description `note`, atomically: False (and
        nothing written) when a label of that name exists already. The forge decides, so two
        runs that try at once cannot both win."""
        ...

    def lock_note(self, name: str) -> str | None:
        """The description of the label `name`; None when there is no such label."""
        ...

    def drop_lock(self, name: str) -> None:
        """Delete the label `name`; already gone is not an error."""
        ...


class Notifier(Protocol):
    """A chat service. Services that cannot thread, edit or react say so in `can_thread`;
    the executor then posts updates as new messages or skips edits and reactions."""

    service: str
    can_thread: bool  # replies in a thread, edit the root message, add reactions
    # `find` can see what was posted (Web API). Where it cannot (webhooks, Apprise), a post
    # whose answer was lost is counted as sent rather than repeated blindly.
    can_read_back: bool

    def post(self, channel: Channel, message: ChatMessage, *, thread: ChatRef | None = None) -> ChatRef:
        """Post a message (a thread reply when `thread` is given); `message.metadata_key` is the
        idempotency key to store with it where the service can."""
        ...

    def update(self, ref: ChatRef, message: ChatMessage) -> None:
        """Replace the text of a posted message (the incident's root alert)."""
        ...

    def react(self, ref: ChatRef, emoji: str) -> None:
        """Add a reaction ("eyes", "white_check_mark"); already present is not an error."""
        ...

    # Optional, where the service can be read (Slack's Web API): `recent_roots(channel, since)`
    # lists the bot's root alerts posted since then with their reactions, in one page of the
    # channel's history; `thread_replies(ref)` the replies in an alert's thread.

    def find(self, channel: Channel, key: str, *, thread: ChatRef | None = None) -> ChatRef | None:
        """A message already posted with idempotency key `key`, or None. Given `thread` (the
        root a reply was posted under), among that thread's replies; otherwise in the channel's
        recent history. Services that cannot read back return None. Used only to recover after
        a run died between posting and recording."""
        ...
