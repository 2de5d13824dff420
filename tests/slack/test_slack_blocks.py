"""A ChatMessage as Slack blocks: escaping, limits, mentions only from ids, links only ours."""

from __future__ import annotations

import re
from typing import Any

import pytest
from chat_samples import message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.slack.blocks import (
    EVENT_TYPE,
    FIELD_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    TEXT_LIMIT,
    metadata,
    render,
)
from bot.adapters.slack.escape import ELLIPSIS, clean, escape, fit, slack_len

HOSTILE = [
    "<!channel> checkout down",
    "<!here|here> and <!everyone>",
    "@everyone @channel @here look",
    "ping <@U123> and <@W999|boss>",
    "<https://evil.example|click here for the fix>",
    "<#C0ALERTS01> and <!subteam^S123>",
    "Fish & chips &amp; &lt;b&gt;",
    "\u202egnp.exe\u202c invoice \u200f\u2067hidden\u2069",
    "a" * 10_000,
    "<" * 3000 + "&" * 3000,
]

# Markup this module writes itself; anything else with < or > came from user text unescaped.
OUR_MARKUP = re.compile(r"<@U02[A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>|<https://github\.com/[^|<> ]+\|[^<>]*>")


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text string in the blocks."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return out


def assert_inert(text: str) -> None:
    stripped = OUR_MARKUP.sub("", text)
    assert "<" not in stripped and ">" not in stripped, stripped[:200]
    # every & starts one of the three entities Slack decodes
    assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", stripped, re.DOTALL), stripped[:200]
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f":
        assert ch not in text
    assert not re.search(r"@(channel|here|everyone)\b", text, re.IGNORECASE)


# -- escape / fit ------------------------------------------------------------------------------
def test_escape_turns_the_three_control_characters_into_entities() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("&amp;") == "&amp;amp;"  # user text is literal: an entity stays visible as typed


def test_fit_never_cuts_an_entity_and_counts_in_utf16() -> None:
    cut = fit("&" * 100, 20)
    assert cut.endswith(ELLIPSIS)
    assert slack_len(cut) <= 20
    assert cut[:-1].replace("&amp;", "") == ""
    emoji = fit("🔥" * 100, 21)
    assert slack_len(emoji) <= 21 and emoji.startswith("🔥")


def test_clean_drops_bidi_controls_and_breaks_broadcast_words() -> None:
    assert clean("\u202eabc\u202c") == "abc"
    assert clean("@channel @Here @everyone @chan") == "@\u2060channel @\u2060Here @\u2060everyone @chan"
    assert clean("a\x00b\x1bc\nd") == "a b c\nd"
    assert clean("a\n\n b\tc", one_line=True) == "a b c"


def test_a_cut_never_ends_in_a_broadcast_word() -> None:
    # "@channelx" is not a broadcast word, but cut after "l" it would read as "@channel…"
    for text, limit in (("@channelxyz", 9), ("ab @channelxyz", 12), ("@here" + "e" * 10, 6)):
        cut = fit(text, limit)
        assert slack_len(cut) <= limit, cut
        assert not re.search(r"@(channel|here|everyone)\b", cut, re.IGNORECASE), cut


# -- the message -------------------------------------------------------------------------------
def test_layout_reads_top_down_on_a_phone() -> None:
    rendered = render(message())
    kinds = [b["type"] for b in rendered.blocks]
    assert kinds == ["header", "context", "section", "section", "section"]
    assert rendered.blocks[0]["text"] == {"type": "plain_text", "text": "Checkout is down"}
    assert rendered.blocks[1]["elements"][0]["text"] == "🔴 *CRITICAL* · Open"
    fields = [f["text"] for f in rendered.blocks[3]["fields"]]
    assert fields == ["*Deadline*\nTue 03 Nov 10:00 EST (15:00 UTC)", "*On call*\nTaylor"]
    footer = rendered.blocks[4]["text"]["text"]
    assert footer == "<https://github.com/acme/shop/issues/42|Outage #42>\n<@U02TAYLOR> <@U02WILL>"
    assert rendered.text.startswith("Checkout is down\nhttps://github.com/acme/shop/issues/42\n<@U02TAYLOR>")


@pytest.mark.parametrize(
    ("status", "line"),
    [("open", "🔴 *CRITICAL* · Open"), ("active", "🔴 *CRITICAL* · Active"),
     ("acknowledged", "👀 *CRITICAL* · Acknowledged"), ("escalated", "🚨 *CRITICAL* · Escalated"),
     ("resolved", "✅ *CRITICAL* · Resolved"), ("false_positive", "⚪ *CRITICAL* · False positive"),
     ("something_else", "🔔 *CRITICAL* · Something else")],
)
def test_the_status_line_says_severity_and_state(status: str, line: str) -> None:
    rendered = render(message(status=status))
    assert rendered.blocks[0]["text"]["text"] == "Checkout is down"  # the headline is the core's
    assert rendered.blocks[1]["elements"][0]["text"] == line


def test_mrkdwn_is_verbatim_so_slack_adds_no_links_or_mentions_of_its_own() -> None:
    rendered = render(message())
    for block in rendered.blocks[1:]:
        for obj in block.get("elements", []) + block.get("fields", []) + [block.get("text")]:
            if obj and obj["type"] == "mrkdwn":
                assert obj["verbatim"] is True


def test_the_body_is_plain_text_so_nothing_in_it_formats() -> None:
    # mrkdwn has no escape for *bold*, _italic_, ~strike~, `code` or a leading quote
    body = "> quoted *bold* _italic_ ~strike~ `code` &amp;"
    rendered = render(message(body=body))
    section = rendered.blocks[2]
    assert section["text"] == {"type": "plain_text", "text": "&gt; quoted *bold* _italic_ ~strike~ `code` &amp;amp;"}


def test_a_field_is_mrkdwn_for_its_bold_label_unless_its_text_would_format() -> None:
    rendered = render(message(fields=(("Deadline", "Tue 10:00"), ("Owner", "*me* _now_"), ("Note", "> x"), ("a_b", "c"))))
    fields = rendered.blocks[3]["fields"]
    assert fields[0] == {"type": "mrkdwn", "text": "*Deadline*\nTue 10:00", "verbatim": True}
    assert fields[1] == {"type": "plain_text", "text": "Owner\n*me* _now_"}
    assert fields[2] == {"type": "plain_text", "text": "Note\n&gt; x"}
    assert fields[3] == {"type": "plain_text", "text": "a_b\nc"}


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda s: s[:24])
def test_hostile_text_anywhere_stays_inert(hostile: str) -> None:
    rendered = render(
        message(headline=hostile, body=hostile, fields=((hostile, hostile),), link=(hostile, "https://github.com/x"),
                severity=hostile[:20], status="open")
    )
    for text in [*texts(rendered.blocks), rendered.text]:
        assert_inert(text)


def test_ten_thousand_characters_fit_every_limit() -> None:
    long = "x" * 10_000
    rendered = render(message(headline=long, body=long, fields=tuple((f"f{i}", long) for i in range(23))))
    header = rendered.blocks[0]["text"]["text"]
    assert slack_len(header) == HEADER_LIMIT and header.endswith(ELLIPSIS)
    body = rendered.blocks[2]["text"]["text"]
    assert slack_len(body) <= SECTION_LIMIT
    sections = [b for b in rendered.blocks if "fields" in b]
    assert [len(b["fields"]) for b in sections] == [10, 10, 3]
    assert all(slack_len(f["text"]) <= FIELD_LIMIT for b in sections for f in b["fields"])
    assert slack_len(rendered.text) <= TEXT_LIMIT


def test_mentions_come_only_from_ids() -> None:
    rendered = render(message(mentions=("U02TAYLOR", "W0GRID01", "S0ONCALL", "U1> <!channel", "taylor", "<@U9>", "U02TAYLOR")))
    footer = rendered.blocks[-1]["text"]["text"]
    assert footer.endswith("\n<@U02TAYLOR> <@W0GRID01> <!subteam^S0ONCALL>")
    assert "channel" not in footer and "U9" not in footer


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://x.example/a|<!channel>", "https://x.example/a b", "ftp://x.example", ""],
)
def test_only_a_plain_http_url_becomes_a_link(url: str) -> None:
    rendered = render(message(link=("Outage #42", url), mentions=()))
    footer = rendered.blocks[-1]["text"]["text"]
    assert footer == "Outage #42"


def test_ampersand_in_a_url_is_escaped_inside_the_link() -> None:
    rendered = render(message(link=("Search", "https://gitlab.example/issues?a=1&b=<2>"), mentions=()))
    assert rendered.blocks[-1]["text"]["text"] == "Search"  # < and > are not URL characters we accept
    rendered = render(message(link=("Search", "https://gitlab.example/issues?a=1&b=2"), mentions=()))
    assert rendered.blocks[-1]["text"]["text"] == "<https://gitlab.example/issues?a=1&amp;b=2|Search>"


def test_empty_parts_are_left_out() -> None:
    rendered = render(message(body=" ", fields=(), link=None, mentions=(), status="", severity=""))
    assert [b["type"] for b in rendered.blocks] == ["header"]
    assert rendered.blocks[0]["text"]["text"] == "Checkout is down"
    assert render(message(headline="\u202e ", severity="major")).blocks[0]["text"]["text"] == "🔴 MAJOR"


def test_metadata_carries_the_idempotency_key() -> None:
    assert metadata(message(metadata_key="k:1")) == {"event_type": EVENT_TYPE, "event_payload": {"key": "k:1"}}
    assert metadata(message(metadata_key="")) is None


# Slack's control characters, broadcast words, bidi and control characters, and anything else;
# long runs reach the limits with few draws (so generation stays cheap on a loaded machine).
TRICKY_CHARS = st.one_of(
    st.sampled_from(["<", ">", "&", "@", "!", "|", "*", " ", "\n", "\u202e", "\u200f", "\x00", "🔥"]),
    st.characters(),
)
TRICKY_WORDS = st.sampled_from(
    ["@channel", "@here", "@everyone", "<!channel>", "<@U1>", "&amp;", "<https://e|x>", "x" * 700, "&" * 400, "🔥" * 300]
)


def tricky(max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(TRICKY_WORDS, TRICKY_CHARS), max_size=max_size).map("".join)


LINKS = st.one_of(
    st.none(),
    st.tuples(tricky(10), st.sampled_from(["https://github.com/a/b/issues/1", "https://github.com/x?" + "a=1&" * 600, "javascript:x"])),
)
MENTIONS = st.lists(st.sampled_from(["U02TAYLOR", "U02WILL9", "S0ONCALL", "bad>id", "U1 <!channel>"]), max_size=120)
MORE_IDS = st.lists(st.from_regex(r"U02[A-Z0-9]{6,12}", fullmatch=True), max_size=80)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    headline=tricky(40),
    body=tricky(60),
    label=tricky(12),
    value=tricky(40),
    severity=tricky(6),
    link=LINKS,
    mentions=st.tuples(MENTIONS, MORE_IDS).map(lambda m: tuple(m[0] + m[1])),
)
def test_any_text_renders_inert_and_within_limits(
    headline: str, body: str, label: str, value: str, severity: str, link: tuple[str, str] | None, mentions: tuple[str, ...]
) -> None:
    rendered = render(message(headline=headline, body=body, fields=((label, value),), severity=severity,
                              link=link, mentions=mentions))
    assert 0 < slack_len(rendered.blocks[0]["text"]["text"]) <= HEADER_LIMIT
    for block in rendered.blocks:
        if block["type"] == "section" and "text" in block:
            assert 0 < slack_len(block["text"]["text"]) <= SECTION_LIMIT
        for f in block.get("fields", []):
            assert 0 < slack_len(f["text"]) <= FIELD_LIMIT
        for e in block.get("elements", []):
            assert 0 < slack_len(e["text"]) <= SECTION_LIMIT
    assert slack_len(rendered.text) <= TEXT_LIMIT
    for text in [*texts(rendered.blocks), rendered.text]:
        assert_inert(text)


def test_a_long_url_or_many_mentions_stay_within_the_footer() -> None:
    url = "https://github.com/acme/shop/issues?" + "a=1&" * 600  # each & becomes &amp;
    people = tuple(f"U02P{i:06d}" for i in range(200))
    rendered = render(message(link=("Outage #42", url), mentions=people))
    footer = rendered.blocks[-1]["text"]["text"]
    assert slack_len(footer) <= SECTION_LIMIT
    assert footer.startswith("Outage #42\n<@U02P000000>")  # too long to link: the label alone
    assert footer.endswith(" more") and footer.count("<@") < 200
    assert slack_len(rendered.text) <= TEXT_LIMIT


def test_text_that_cleans_to_nothing_leaves_no_empty_block() -> None:
    invisible = "\u202e\u2066\u200f"
    rendered = render(message(body=invisible, fields=((invisible, invisible), ("Owner", invisible))))
    assert [b["type"] for b in rendered.blocks] == ["header", "context", "section", "section"]
    assert [f["text"] for f in rendered.blocks[2]["fields"]] == ["*Owner*"]
