"""Text that users control (issue titles, bodies, comments) is data, never markup.

Everything the bot writes passes user text through one of these filters, so that it can never
become a mention (`@team`), a cross-reference (`#12`, `!3`, `~label`), a link, a GitLab quick
action (a line starting with `/`), a Slack control sequence (`<!channel>`), or a bidi trick.
"""

from __future__ import annotations

import re
import unicodedata

ZWSP = "\u200b"  # zero-width space: invisible, but breaks @mentions, autolinks and sigils

# Bidi embeddings, overrides and isolates (CVE-2021-42574 "Trojan Source"), and other
# invisible format characters a title could use to hide or reorder text.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~>=:$%&^\"'])")
_SIGILS = re.compile(r"([@#!~%$&:<])(?=\S)")
_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|file|javascript|data|www)(?=[:.])")

TITLE_LIMIT = 200
LINE_LIMIT = 2000
BLOCK_LIMIT = 6000


def clean(text: object, limit: int = LINE_LIMIT) -> str:
    """Printable text: control, bidi and format characters dropped, truncated at `limit`."""
    value = unicodedata.normalize("NFC", "" if text is None else str(text))
    value = _BIDI.sub("", value)
    value = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in value
    )
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def one_line(text: object, limit: int = LINE_LIMIT) -> str:
    return " ".join(clean(text, limit * 2).split())[:limit] if text else ""


def md_inline(text: object, limit: int = LINE_LIMIT) -> str:
    """User text for one line of GitHub/GitLab Markdown: literal, inert, single-line."""
    value = one_line(text, limit)
    value = _SCHEME.sub(lambda m: m.group(1) + ZWSP, value)
    value = _SIGILS.sub(lambda m: m.group(1) + ZWSP, value)
    # Backslash-escape Markdown punctuation so nothing forms emphasis, a link or HTML.
    value = _MD_SPECIAL.sub(r"\\\1", value)
    # A line must never start with "/" (GitLab quick action): the caller's prefix comes first,
    # but a filtered value may be placed at a line start by a template.
    if value.startswith("/"):
        value = ZWSP + value
    return value


def md_block(text: object, limit: int = BLOCK_LIMIT) -> str:
    """User text of several lines, as a Markdown blockquote of inert lines."""
    lines = clean(text, limit).splitlines() or [""]
    return "\n".join("> " + md_inline(line, LINE_LIMIT) for line in lines[:60])


def md_code(text: object, limit: int = 500) -> str:
    """User text shown verbatim in a code span (e.g. a URL someone typed): never linked."""
    value = one_line(text, limit).replace("`", "'")
    # Inert even where code spans are not honoured (mail notifications, chat previews).
    value = _SCHEME.sub(lambda m: m.group(1) + ZWSP, value)
    value = _SIGILS.sub(lambda m: m.group(1) + ZWSP, value)
    return f"`{value}`" if value else ""


def chat_text(text: object, limit: int = LINE_LIMIT) -> str:
    """User text for a chat message. The notifier escapes its own control characters (Slack's
    & < >); here we also break @-words, so no service's plain-text mention syntax fires."""
    value = one_line(text, limit)
    return re.sub(r"@(?=\S)", "@" + ZWSP, value)


def safe_url(url: object) -> str | None:
    """A URL we may render as a real link: http(s) only, no spaces or markup characters."""
    value = str(url or "").strip()
    if re.fullmatch(r"https?://[^\s<>\"'`|\\\]\[()]+", value):
        return value
    return None


def plain_title(text: object, limit: int = TITLE_LIMIT) -> str:
    """User text inside an issue title we write: plain text, but forges still link `#12` and
    `@name` there, so the sigils are broken too."""
    value = _SCHEME.sub(lambda m: m.group(1) + ZWSP, one_line(text, limit))
    return _SIGILS.sub(lambda m: m.group(1) + ZWSP, value)


class UserText(str):
    """A string a user controls. The renderer escapes it on output unless a filter already did:
    a template that forgets the filter still cannot leak markup."""

    __slots__ = ()
