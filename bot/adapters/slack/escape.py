"""Text from a ChatMessage made inert for Slack, and cut to Slack's length limits.

Slack treats `&`, `<` and `>` as control characters in every text object and in a message's
top-level `text`; `<!channel>`, `<@U123>` and `<https://x|y>` are only ever formed by them.
Escaping the three is what Slack documents, and only those three entities are decoded for
display: https://docs.slack.dev/messaging/formatting-message-text#escaping
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"
WORD_JOINER = "\u2060"  # invisible; breaks a word without showing anything

# Bidi embeddings, overrides, isolates and marks ("Trojan Source", CVE-2021-42574): a title
# could use them to reorder the text Slack shows around it.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Slack only turns `<!channel>` into a broadcast, but a bare "@channel" is parsed by some
# clients and by `link_names`; we never send it as one word.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def clean(text: str, *, one_line: bool = False) -> str:
    """Printable text: bidi controls dropped, other control characters made spaces."""
    value = _BIDI.sub("", unicodedata.normalize("NFC", text))
    keep = "\t" if one_line else "\n\t"
    value = "".join(
        ch if ch in keep or unicodedata.category(ch)[0] != "C" else " " for ch in value
    )
    if one_line:
        value = " ".join(value.split())
    return _BROADCAST.sub("@" + WORD_JOINER, value)


def escape(text: str) -> str:
    """`&`, `<`, `>` as the HTML entities Slack decodes for display."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def slack_len(text: str) -> int:
    """Length as Slack's limits count it, conservatively: UTF-16 code units (an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int, *, one_line: bool = False) -> str:
    """`text` cleaned and escaped, at most `limit` long once escaped.

    Cut before escaping, one character at a time, so an entity like `&amp;` is never split
    into text that Slack would read as a control sequence.
    """
    cleaned = clean(text, one_line=one_line)
    whole = escape(cleaned)
    if slack_len(whole) <= limit:
        return whole
    budget = limit - slack_len(ELLIPSIS)
    pieces: list[str] = []
    used = 0
    for ch in cleaned:
        piece = _ESCAPES.get(ch, ch)
        size = slack_len(piece)
        if used + size > budget:
            break
        pieces.append(piece)
        used += size
    # The cut can end a word early: "@channelx" cut after "l" reads as "@channel…". Break such
    # a broadcast again, and give up characters at the end until that fits too.
    while True:
        cut = _BROADCAST.sub("@" + WORD_JOINER, "".join(pieces).rstrip()) + ELLIPSIS
        if slack_len(cut) <= limit or not pieces:
            return cut
        pieces.pop()
