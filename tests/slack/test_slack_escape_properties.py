"""Escaping for Slack: inert (no control sequence, broadcast, mention, link, emoji shortcode,
formatting or bidi trick from user text) and readable (a reader sees exactly what was typed).

User text reaches Slack as the core writes it: through `bot.text.chat_text` (the renderer's
filter for chat templates), then `blocks.render`. The recogniser is tests/slack/slack_surface.py.
"""

from __future__ import annotations

import re

import pytest
from chat_samples import message
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_surface import (
    MRKDWN_FORMATTING,
    WJ,
    control_findings,
    detected,
    mrkdwn_user_part,
    text_objects,
    visible,
)

from bot.adapters.slack.blocks import HEADER_LIMIT, render
from bot.text import LINE_LIMIT, chat_text
from tests.typed_text import TRICKY, typed, typed_line, user_text

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ICON = "🚨 CRITICAL: "
BROADCAST = re.compile(r"@(?:channel|here|everyone)\b", re.IGNORECASE)


def assert_reads(shown: str, expected: str) -> None:
    """`shown` is `expected`, or its beginning and an ellipsis where a Slack limit cut it."""
    if shown != expected:
        assert shown.endswith("…") and expected.startswith(shown[:-1]), (shown[-80:], expected[-80:])


def check_text(title: str, lines: list[str]) -> None:
    """The alert as the core sends it: a headline and a body of template text and user text."""
    body = "Tagged: Taylor.\n" + "\n".join(chat_text(line) for line in lines)
    rendered = render(message(headline=ICON + chat_text(title), body=body, fields=(), link=None, mentions=()))
    header = rendered.blocks[0]["text"]
    assert header["type"] == "plain_text"
    sections = [b["text"] for b in rendered.blocks if b["type"] == "section"]
    for obj in [header, *sections]:
        assert obj["type"] == "plain_text", obj  # nothing in user text can format
        assert not control_findings(obj["text"]), obj["text"]
        assert not detected(obj["text"].replace("Tagged: Taylor.", "")), (detected(obj["text"]), obj["text"])
    assert not control_findings(rendered.text) and not detected(rendered.text), rendered.text
    assert_reads(visible(header["text"]).strip(), (ICON + typed_line(title, LINE_LIMIT)).replace(WJ, "").strip())
    expected = ("Tagged: Taylor.\n" + "\n".join(typed_line(line, LINE_LIMIT) for line in lines)).strip()
    assert_reads(visible(sections[0]["text"]), expected.replace(WJ, ""))


@FAST
@given(user_text(), st.lists(user_text(), max_size=3))
def test_slack_text_is_inert_and_reads_as_typed(title: str, lines: list[str]) -> None:
    check_text(title, lines)


@pytest.mark.slow
@SLOW
@given(user_text(60), st.lists(user_text(40), max_size=5))
def test_slack_text_is_inert_and_reads_as_typed_many(title: str, lines: list[str]) -> None:
    check_text(title, lines)


def check_field(label: str, value: str) -> None:
    rendered = render(message(fields=((label, chat_text(value)),), link=None, mentions=()))
    (field,) = [f for b in rendered.blocks for f in b.get("fields", [])]
    assert not control_findings(field["text"]), field
    if field["type"] == "mrkdwn":
        assert field["verbatim"] is True
        user_part = mrkdwn_user_part(field["text"])
        assert not MRKDWN_FORMATTING.search(user_part), field
    else:
        user_part = field["text"].split("\n", 1)[1] if "\n" in field["text"] else field["text"]
    assert not detected(user_part), (detected(user_part), field)
    if typed_line(value, LINE_LIMIT).replace(WJ, ""):
        assert_reads(visible(user_part), typed_line(value, LINE_LIMIT).replace(WJ, ""))


@FAST
@given(st.sampled_from(["Note", "Owner", "Upstream_status"]), user_text())
@example("Note", "!.BA")  # found by the slow run: the joiner after `!` read as a host name's start
def test_slack_fields_are_inert_and_read_as_typed(label: str, value: str) -> None:
    check_field(label, value)


@pytest.mark.slow
@SLOW
@given(st.sampled_from(["Note", "Owner", "Upstream_status"]), user_text(60))
def test_slack_fields_are_inert_and_read_as_typed_many(label: str, value: str) -> None:
    check_field(label, value)


@FAST
@given(user_text(), user_text())
@example("", "@everyone \u2060")  # a joiner after the last space: shown as nothing
def test_the_adapter_alone_keeps_any_text_free_of_control_sequences_and_formatting(headline: str, body: str) -> None:
    """Text that did not come through chat_text (the core's own words, a future caller): Slack's
    control characters, broadcasts and formatting are still the adapter's to stop, and the text
    still reads as written."""
    rendered = render(message(headline=headline, body=body, fields=(("Note", body),), link=None, mentions=()))
    for obj in text_objects(rendered.blocks):
        assert not control_findings(obj["text"]), obj
        assert not BROADCAST.search(obj["text"]), obj  # other mentions and links: chat_text's job
        if obj["type"] == "mrkdwn":
            assert not MRKDWN_FORMATTING.search(mrkdwn_user_part(obj["text"]).replace("*CRITICAL*", "")), obj
    assert not control_findings(rendered.text)
    body_sections = [b for b in rendered.blocks if b["type"] == "section" and "text" in b]
    if body_sections:
        assert_reads(visible(body_sections[0]["text"]["text"]).strip(), typed(body).replace(WJ, "").strip())


# -- the example and the hostile table ---------------------------------------------------
MEASURED = "@everyone see https://status.example.com/x #12"


def test_the_measured_title_reads_as_typed_in_the_slack_alert() -> None:
    rendered = render(message(headline=ICON + chat_text(MEASURED), body=chat_text(MEASURED), link=None, mentions=()))
    header = rendered.blocks[0]["text"]["text"]
    assert header == ICON + "@\u2060everyone see https:\u2060/\u2060/status.\u2060example.\u2060com/x #\u206012"
    assert visible(header) == ICON + MEASURED  # was "@ everyone see https : //status.example.com/x # 12"
    assert visible(rendered.blocks[2]["text"]["text"]) == MEASURED
    assert not detected(header) and not detected(rendered.text)


HOSTILE = [
    "<!channel> <!here> <!everyone> checkout down",
    "@everyone @channel @here @taylor look",
    "ping <@U123> <#C123> <!subteam^S123> <!date^1392734382^{date}|x>",
    "<https://evil.example|click here for the fix> https://evil.example www.evil.example evil.example",
    "root@evil.example and :rotating_light: and *bold* _it_ ~s~ `c`",
    "> quoted\n```code```",
    "Fish & chips &amp; &lt;b&gt; &#64;x",
    "\u202egnp.exe\u202c invoice \u200f\u2067hidden\u2069",
    "a" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda s: s[:24])
def test_hostile_text_is_inert_and_reads_as_typed_in_slack(text: str) -> None:
    check_text(text, text.splitlines())
    check_field("Note", text)


def test_every_tricky_piece_alone() -> None:
    for piece in TRICKY:
        check_text(piece, [piece])
        check_field("Note", piece)


def test_the_header_limit_counts_the_joiners() -> None:
    rendered = render(message(headline=chat_text("@a " * 200), link=None, mentions=()))
    header = rendered.blocks[0]["text"]["text"]
    assert len(header.encode("utf-16-le")) // 2 <= HEADER_LIMIT and header.endswith("…")
    assert not detected(header)
