"""Channels and messages shared by the chat tests (a module, not conftest, so tests can import it)."""

from __future__ import annotations

from typing import Any

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
