"""Text from a ChatMessage made inert for Slack, and cut to Slack's length limits.

Slack treats `&`, `<` and `>` as control characters in every text object and in a message's
top-level `text`; `<!channel>`, `<@U123>`, `<#C123>`, `<!subteam^S1>` and `<https://x|y>` are
only ever formed by them. Escaping the three is what Slack documents, and only those three
entities are decoded for display (an `&#64;` would show as typed):
https://docs.slack.dev/messaging/formatting-message-text#escaping

User text arrives already through `bot.text.chat_text` (joiners after `@`, in `://` and in
domains, so no mention or link is detected); here only what Slack itself needs is done, so
that text the core wrote (a runbook URL) reaches Slack as written.
"""

from __future__ import annotations

import re

from bot.text import WJ, printable

ELLIPSIS = "…"
WORD_JOINER = WJ  # invisible; breaks a word without showing anything

# Slack only turns `<!channel>` into a broadcast, but a bare "@channel" is parsed by some
# clients and by `link_names`; we never send it as one word.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def clean(text: str, *, one_line: bool = False) -> str:
    """Printable text (`bot.text.printable`: bidi and other invisible format characters dropped,
    our word joiners kept, control characters made spaces); broadcast words broken."""
    value = printable(text)
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
