"""Channels and messages shared by the chat tests (a module, not conftest, so tests can import it)."""

from __future__ import annotations

from typing import Any

from fake_slack import FakeSlack

from bot.adapters.local import LocalForge
from bot.records import Channel, ChatMessage

ALERTS = Channel("alerts", slack="#outage-alerts")
USERS = Channel("users", slack="#troubleshooting", audience="users")
SECURITY = Channel("security", slack="G0SECURITY")


def message(**changes: Any) -> ChatMessage:
    base: dict[str, Any] = {
        "headline": "Checkout is down",
        "body": "Payments fail with a 502 for every customer.",
        "fields": (("Deadline", "Tue 03 Nov 10:00 EST (15:00 UTC)"), ("On call", "Taylor")),
        "link": ("Outage #42", "https://github.com/acme/shop/issues/42"),
        "mentions": ("U02TAYLOR", "U02WILL"),
        "status": "open",
        "severity": "critical",
        "metadata_key": "acme/shop#41:g1:chat:alerts",
    }
    base.update(changes)
    return ChatMessage(**base)


# The default policy's Slack channels, as they exist in the `workspace` fixture's fake Slack.
DEFAULT_CHANNELS = {
    "outage-alerts": "C0ALERTS01",
    "troubleshooting": "C0USERS001",
    "announcements": "C0ANNOUNCE",
    "security-incidents": "G0SECURITY",
}


class DyingForge:
    """The local forge, except that the run dies (as a killed CI job would) when it next
    saves the ledger after a chat message went out."""

    def __init__(self, forge: LocalForge, fake: FakeSlack) -> None:
        self._forge, self._fake = forge, fake
        self.armed, self._posts = False, 0

    def arm(self) -> None:
        self.armed, self._posts = True, len(self._fake.calls("chat.postMessage"))

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        if self.armed and len(self._fake.calls("chat.postMessage")) > self._posts:
            self.armed = False
            raise KeyboardInterrupt("the CI job was cancelled")
        self._forge.edit_comment(number, comment_id, body)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._forge, name)
