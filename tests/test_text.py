"""Hostile user text is rendered as text: never a mention, link, quick action or Slack control;
and it reads as typed (the properties: tests/test_text_properties.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.events import EventKind
from bot.text import WJ, chat_text, md_block, md_inline
from tests.core_helpers import Sandbox

HOSTILE = [
    "<!channel> everything is down",
    "@everyone look @taylor-gh",
    "/close\n/label ~security\n/assign @me",
    "see https://evil.example/x and [click](https://evil.example) www.evil.example",
    "fixes #12 and !3 ~bug %milestone",
    "\u202eevil\u202c reversed \u2066isolated\u2069",
    "x" * 10_000,
    "<script>alert(1)</script> <@U123> <https://evil|click>",
]

MENTION = re.compile(r"(?<![\w\u2060])@[A-Za-z0-9][\w-]*")
LINK = re.compile(r"https?://|www\.")


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_filters(text: str) -> None:
    for out in (md_inline(text), md_block(text)):
        assert not MENTION.search(out)
        assert not LINK.search(out)
        assert not any(line.lstrip("> ").startswith("/") for line in out.splitlines())
        assert "\u202e" not in out and "\u2066" not in out
        assert "<" not in out.replace("\\<", "")
        assert len(out) < 7000


@pytest.mark.parametrize("text", HOSTILE)
def test_chat_filter(text: str) -> None:
    out = chat_text(text)
    assert not MENTION.search(out) and "\u202e" not in out and len(out) <= 2000


@pytest.mark.parametrize("title", HOSTILE)
def test_everything_the_bot_writes_is_inert(tmp_path: Path, title: str) -> None:
    box = Sandbox(tmp_path)
    body = f"### What is broken\n\n{title}\n\n### Workaround\n\n{title}\n\n### Upstream status\n\n{title}"
    box.open_issue(title=title, body=body)
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.runner().handle(box.comment(1, f"/resolve {title}", "maintainer"))
    written = [b for _, author, b in box.forge.all_comments() if author == "outage-bot"]
    written += [box.forge.get_issue(2).body, box.forge.get_issue(2).title]
    for text in written:
        text = re.sub(r"<!-- outage-bot:[^>]*-->", "", text)
        assert not re.search(r"^\s*/", text, re.MULTILINE), text[:300]
        assert "<!channel>" not in text and "<script>" not in text and "<@U123>" not in text
        assert not LINK.search(text), text[:300]
        found = {m.group(0) for m in MENTION.finditer(text)}
        assert found <= {"@release-lead", "@platform-lead", "@eng-a"}, found
    for message in box.chat.messages():
        chat = f"{message['headline']}\n{message['body']}"
        assert not MENTION.search(chat) and "\u202e" not in chat and len(chat) < 6000


MEASURED = "@everyone see https://status.example.com/x #12"  # issue #11


def _shown(markdown: str) -> str:
    """What a reader of the rendered page sees of an escaped line: entities decoded, joiners gone."""
    import html

    return html.unescape(markdown).replace(WJ, "")


def test_the_measured_title_reads_as_typed_in_the_outage_issue_and_the_alert(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue(title=MEASURED)
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    outage = box.forge.get_issue(2)
    assert MEASURED in outage.title.replace(WJ, "")  # "@ everyone see https : //… # 12" before
    assert "@everyone" not in outage.title and "#12" not in outage.title
    body = outage.body
    assert md_inline(MEASURED) in body and MEASURED in _shown(body)
    (alert, *_) = box.chat.messages()
    assert MEASURED in alert["headline"].replace(WJ, "")
    assert "@everyone" not in alert["headline"] and "https://" not in alert["headline"]
