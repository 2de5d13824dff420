"""An alert sender's webhook body as a file, for `outage-bot handle --forge local --event FILE`
(a sandbox try of the policy's `intake` routes; the local forge's own event files are actions)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.intake.payloads import Alert, looks_like_alert, parse_alert


def read_alert(path: str) -> Alert | None:
    """The alert in the file, or None when it holds something else (or is unreadable: the
    local event reader then says what is wrong with it)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not looks_like_alert(data):
        return None
    return parse_alert(data, path)
