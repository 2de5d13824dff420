"""GitLab's two ways of writing a time.

The REST and GraphQL APIs write ISO 8601 (`2016-01-04T15:31:51.081Z`). Webhook bodies mix that
with Ruby's default `Time#to_s` (`2017-09-15 16:52:00 UTC`, or with a numeric offset), sometimes
in the same payload: see the `changes.updated_at` of GitLab's own issue-event example.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

_RUBY = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) (UTC|[+-]\d{2}:?\d{2})")


def parse_time(text: object) -> datetime:
    """An aware UTC datetime from either spelling; ValueError for anything else."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not a time")
    value = text.strip()
    ruby = _RUBY.fullmatch(value)
    if ruby:
        day, clock, zone = ruby.groups()
        if zone == "UTC":
            zone = "+00:00"
        elif ":" not in zone:
            zone = zone[:3] + ":" + zone[3:]
        value = f"{day}T{clock}{zone}"
    elif value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read "Z"
    value = _three_digit_fraction(value)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)  # GitLab's naive times are UTC
    return parsed.astimezone(timezone.utc)


def _three_digit_fraction(value: str) -> str:
    """Python 3.10's fromisoformat reads only 3 or 6 fraction digits; GitLab writes 1 to 9."""
    match = re.search(r"\.(\d+)", value)
    if not match or len(match.group(1)) in (3, 6):
        return value
    digits = (match.group(1) + "000000")[:6]
    return value[: match.start(1)] + digits + value[match.end(1):]
