"""Durations as people write them in a policy: 30m, 12h, 1d, 1w, 1h30m."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")


def parse_duration(text: object) -> timedelta:
    """`"1h30m"` -> timedelta(hours=1, minutes=30). Raises ValueError on anything else."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not a duration (expected: a number and a unit, like 30m, 12h, 2d, 1w)")
    total = timedelta()
    for amount, unit in _PART.findall(text.strip()):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total <= timedelta(0):
        raise ValueError(f"{text!r} is not a positive duration")
    return total


def format_duration(delta: timedelta) -> str:
    """The shortest policy spelling of `delta`: timedelta(hours=36) -> "1d12h"."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0m"
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)


def humanize(delta: timedelta) -> str:
    """For people: "3h 20m", "2d 4h", "45m"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"
