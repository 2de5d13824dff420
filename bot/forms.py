"""Read the fields of a "Report an outage" issue form from the issue body.

GitHub renders an issue form as `### Field label` sections, with `_No response_` for an empty
optional field; the GitLab description template we ship uses the same headings.
"""

from __future__ import annotations

import re

from bot.text import UserText

FIELDS = {
    "what is broken": "broken",
    "who is affected": "affected",
    "since when": "since",
    "workaround": "workaround",
    "upstream status": "upstream",
    "when can users expect a fix": "expected_fix",
    "severity": "severity",
}
_HEADING = re.compile(r"^###\s+(.+?)\s*$", re.MULTILINE)


def parse_form(body: str | None) -> dict[str, UserText]:
    """Known form fields found in `body`, every value as UserText; missing ones are ""."""
    found = {key: UserText("") for key in FIELDS.values()}
    text = body or ""
    headings = list(_HEADING.finditer(text))
    for i, match in enumerate(headings):
        key = FIELDS.get(match.group(1).strip().lower().rstrip("?:"))
        if not key:
            continue
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        value = text[match.end() : end].strip()
        if value in ("_No response_", "None"):
            value = ""
        found[key] = UserText(value)
    return found
