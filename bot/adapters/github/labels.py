"""Colours and descriptions for the labels the bot creates, so they read at a glance."""

from __future__ import annotations

# What GitHub gives a label it creates on the fly while adding it to an issue.
AUTO_CREATED_COLOUR = "ededed"

_RED, _ORANGE, _YELLOW, _GREEN, _PURPLE, _GREY = "b60205", "d93f0b", "fbca04", "0e8a16", "5319e7", "c5def5"

# (substring of the lower-cased name, colour, description); the first match wins.
_RULES = (
    ("acknowledged", _GREEN, "outage-bot: someone is on it"),
    ("incident::active", _ORANGE, "outage-bot: an incident is open"),
    ("outage-bot::status", _GREY, "outage-bot: the status issue"),
    ("highest", _RED, "Incident severity"),
    ("p0", _RED, "Incident severity"),
    ("higher", _ORANGE, "Incident severity"),
    ("p1", _ORANGE, "Incident severity"),
    ("high", _YELLOW, "Incident severity"),
    ("p2", _YELLOW, "Incident severity"),
    ("outage", _RED, "Something is down for users"),
    ("security", _PURPLE, "Security incident"),
)


def _rule(name: str) -> tuple[str, str]:
    lowered = name.lower()
    for part, colour, description in _RULES:
        if part in lowered:
            return colour, description
    return _PURPLE, "outage-bot"


def colour_of(name: str) -> str:
    return _rule(name)[0]


def description_of(name: str) -> str:
    return _rule(name)[1]
