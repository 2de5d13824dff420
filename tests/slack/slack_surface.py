"""How Slack reads the text objects the bot sends, for the escaping tests.

Slack's documented rules (https://docs.slack.dev/messaging/formatting-message-text):
- `&`, `<` and `>` are control characters in every text object and in a message's `text`;
  `<!channel>`, `<!here>`, `<@U123>`, `<#C123>`, `<!subteam^S1>`, `<!date^…>` and `<url|label>`
  are only formed by them, and only `&amp;`, `&lt;` and `&gt;` are decoded for display.
- mrkdwn formats `*bold*`, `_italic_`, `~strike~`, `` `code` `` and a leading `>` quote;
  `plain_text` formats nothing.
- Without `verbatim` (the top-level `text`, and what a client does to `plain_text`), URLs are
  detected and linked, bare domains too, and `@word`s can be read as mentions; `:name:` becomes
  an emoji. linkify-it, with its fuzzy domain and e-mail detection on, stands in for that
  undocumented detection.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

linkify_it = pytest.importorskip("linkify_it", reason="test dependency: markdown-it-py[linkify]")

WJ = "\u2060"
_LINKIFY = linkify_it.LinkifyIt()  # fuzzy links, e-mails: on

# Markup blocks.py writes itself; any other < or > came from text and was not escaped.
OUR_MARKUP = re.compile(r"<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>|<https?://[^|<> ]+\|[^<>]*>")
_ENTITIES = re.compile(r"&(?:amp|lt|gt);")

DETECTED: dict[str, re.Pattern[str]] = {
    "mention or broadcast": re.compile(r"@[A-Za-z0-9_]"),  # @channel, @here, @everyone, @name
    "channel name": re.compile(r"#[A-Za-z0-9_-]"),
    "scheme link": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://"),
    "www link": re.compile(r"(?i)www\."),
    "emoji shortcode": re.compile(r":[A-Za-z0-9_+'-]+:"),
    "bidi control": re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"),
}
# mrkdwn formatting delimiters, and a quote at a line start (stored as `&gt;`).
MRKDWN_FORMATTING = re.compile(r"[*_~`]|^\s*&gt;", re.MULTILINE)


def decode(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def visible(text: str) -> str:
    return decode(text).replace(WJ, "")


def control_findings(text: str) -> list[str]:
    """Control sequences not written by blocks.py, and `&`s that are not one of the three entities."""
    rest = OUR_MARKUP.sub("", text)
    found = []
    if "<" in rest or ">" in rest:
        found.append("raw < or >")
    if "&" in _ENTITIES.sub("", rest):
        found.append("& outside an entity")
    return found


def detected(text: str) -> list[str]:
    """What Slack's (or a client's) detection would make of decoded text: mentions, links, emoji."""
    plain = decode(OUR_MARKUP.sub("", text))
    found = [name for name, rule in DETECTED.items() if rule.search(plain)]
    if _LINKIFY.test(plain):
        found.append("link: " + ", ".join(m.raw for m in _LINKIFY.match(plain) or []))
    return found


def text_objects(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every text object in the blocks (header, section text and fields, context elements)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") in ("plain_text", "mrkdwn"):
                out.append(obj)
    return out


def mrkdwn_user_part(text: str) -> str:
    """A field's text without the `*label*` line blocks.py writes."""
    return text.split("\n", 1)[1] if text.startswith("*") and "\n" in text else ("" if text.startswith("*") else text)
