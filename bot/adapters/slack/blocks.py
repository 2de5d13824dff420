"""A ChatMessage as a Slack message: Block Kit blocks, a plain `text` fallback, and metadata.

Layout, top to bottom, so a phone's lock screen and the first screenful carry what matters:
a header (status emoji, severity, headline), a context line (status), the body, the fields
(deadline, owner...), then a line with the link to the issue, then the people tagged as Slack mentions.

Every piece of text from the message goes through `escape.fit` (cleaned, `& < >` escaped, cut
to the block's limit). The only markup in the output is what this module writes itself: the
`<url|label>` link, the `<@U…>` mentions built from `message.mentions`, and bold labels.

The headline and the body, where user text goes, are `plain_text`: mrkdwn has no way to escape
`*bold*`, `_italic_`, `~strike~`, `` `code` `` or a leading `>` (Slack documents none; only
`& < >` are decoded), so there `*x*` would show as a bold x and hide the asterisks. A field is
mrkdwn for its bold label unless its text holds one of those, then plain_text too. Links,
mentions and `:emoji:` in user text are broken before it gets here (`bot.text.chat_text`):
clients may link URLs even in plain_text, and the top-level `text` (what notifications show)
is mrkdwn that Slack's server scans for URLs.
Text objects: https://docs.slack.dev/reference/block-kit/composition-objects/text-object
Block limits: https://docs.slack.dev/reference/block-kit/blocks
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.escape import escape, fit, slack_len
from bot.records import ChatMessage

EVENT_TYPE = "outage_bot_incident"  # our message metadata's event_type

HEADER_LIMIT = 150  # header block: plain_text, 150 characters
SECTION_LIMIT = 3000  # section text
FIELD_LIMIT = 2000  # each section field
FIELDS_PER_SECTION = 10
LABEL_LIMIT = 200
URL_LIMIT = 1500  # escaped; a longer URL is shown as its label only
MENTIONS_LIMIT = 1200  # about 40 mentions; the rest are counted, not listed
# Slack truncates `text` past 40,000 characters; a notification shows a line or two.
TEXT_LIMIT = 3000

STATUS_EMOJI = {
    "open": "🔴",
    "active": "🔴",
    "escalated": "🚨",
    "acknowledged": "👀",
    "resolved": "✅",
    "false_positive": "⚪",
    "false-positive": "⚪",
}
DEFAULT_EMOJI = "🔔"

# Member ids (U…, W… on Enterprise Grid) and user-group ids (S…). Anything else in
# `mentions` is dropped: an id is pasted into markup, so it must be only an id.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,30}")
# A URL we write into `<url|label>`: http(s), nothing that could end the link early.
_SAFE_URL = re.compile(r"https?://[^\s<>|\"'`\\]+")


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]


def render(message: ChatMessage) -> SlackMessage:
    header = _header_text(message)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
    ]
    status = _status_line(message)
    if status:
        blocks.append({"type": "context", "elements": [_mrkdwn(status)]})
    body = fit(message.body, SECTION_LIMIT).strip()
    if body:
        blocks.append({"type": "section", "text": _plain(body)})
    fields = [field for field in (_field(label, value) for label, value in message.fields) if field]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]})
    # The mentions on their own line: they notify the people, and the core's text names them.
    footer = "\n".join(part for part in (link(message), mentions(message)) if part)
    if footer:
        blocks.append({"type": "section", "text": _mrkdwn(footer)})
    return SlackMessage(text=fallback_text(message), blocks=blocks)


def metadata(message: ChatMessage) -> dict[str, Any] | None:
    """The idempotency key, where `find` looks for it. chat.update needs both keys set."""
    if not message.metadata_key:
        return None
    return {"event_type": EVENT_TYPE, "event_payload": {"key": message.metadata_key}}


def fallback_text(message: ChatMessage) -> str:
    """The top-level `text`: what notifications and screen readers show."""
    parts = [_header_text(message)]
    url = _url(message)
    if url:
        parts.append(url)
    mention = mentions(message)
    if mention:
        parts.append(mention)
    head = "\n".join(parts)
    room = TEXT_LIMIT - slack_len(head) - 1
    body = fit(message.body, room).strip() if room > 50 else ""
    if body:
        head += "\n" + body
    return head


def mentions(message: ChatMessage) -> str:
    out: list[str] = []
    used = 0
    valid = [str(raw).strip() for raw in dict.fromkeys(message.mentions)]
    valid = [i for i in valid if _USER_ID.fullmatch(i) or _GROUP_ID.fullmatch(i)]
    for n, ident in enumerate(valid):
        markup = f"<@{ident}>" if ident[0] in "UW" else f"<!subteam^{ident}>"
        if used + len(markup) + 1 > MENTIONS_LIMIT:
            out.append(f"+{len(valid) - n} more")
            break
        out.append(markup)
        used += len(markup) + 1
    return " ".join(out)


def link(message: ChatMessage) -> str:
    if message.link is None:
        return ""
    label, _ = message.link
    text = fit(label, LABEL_LIMIT, one_line=True) or "Open"
    url = _url(message)
    if url is None:
        return text
    return f"<{url}|{text}>"


def _url(message: ChatMessage) -> str | None:
    if message.link is None:
        return None
    raw = str(message.link[1]).strip()
    if not _SAFE_URL.fullmatch(raw):
        return None
    # `&` in a URL is escaped too; Slack decodes it back before opening the link.
    url = escape(raw)
    return url if len(url) <= URL_LIMIT else None


def _header_text(message: ChatMessage) -> str:
    """The headline as the core wrote it (its templates lead with their own emoji); the
    status line says severity and status, so they are not repeated here."""
    headline = fit(message.headline, HEADER_LIMIT, one_line=True)
    if headline:
        return headline
    return fit(f"{_emoji(message)} {message.severity.upper()}".strip(), HEADER_LIMIT, one_line=True)


def _status_line(message: ChatMessage) -> str:
    """`🔴 *CRITICAL* · Active`: what state the incident is in, at a glance."""
    parts = []
    if message.severity:
        parts.append(f"*{fit(message.severity.upper(), 40, one_line=True)}*")
    if message.status:
        word = message.status.replace("_", " ").replace("-", " ").capitalize()
        parts.append(fit(word, 60, one_line=True))
    parts = [p for p in parts if p.strip("* ")]
    return f"{_emoji(message)} " + " · ".join(parts) if parts else ""


def _emoji(message: ChatMessage) -> str:
    return STATUS_EMOJI.get(message.status, DEFAULT_EMOJI)


# What mrkdwn would format: emphasis, strikethrough and code delimiters anywhere, and a quote
# (`&gt;` is how Slack stores a typed `>`) at the start of a line.
_MRKDWN_ACTIVE = re.compile(r"[*_~`]|^\s*&gt;", re.MULTILINE)


def _field(label: str, value: str) -> dict[str, Any] | None:
    title = fit(str(label), 100, one_line=True).strip()
    text = fit(str(value), FIELD_LIMIT - slack_len(title) - 3).strip()
    if not title and not text:
        return None
    if _MRKDWN_ACTIVE.search(title + "\n" + text):
        return _plain("\n".join(part for part in (title, text) if part))
    if not title:
        return _mrkdwn(text)
    return _mrkdwn(f"*{title}*\n{text}" if text else f"*{title}*")


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does no auto-linking or mention parsing of its own on this text.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> dict[str, Any]:
    # No formatting at all; `& < >` are still Slack's control characters here, escaped by fit.
    return {"type": "plain_text", "text": text}
