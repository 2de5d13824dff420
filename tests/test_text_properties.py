"""Escaping for GitHub/GitLab: inert (nothing user-typed becomes a mention, reference, link,
HTML, emphasis, quick action or bidi trick) and readable (a reader sees exactly what was typed).

Markdown output is parsed as the forges parse it (tests/markdown_surface.py); titles are
plain text in which the forges still find references. Each property runs a few hundred
examples by default and many more with `-m slow` (.ci/run).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.text import ELLIPSIS, LINE_LIMIT, WJ, md_block, md_code, md_inline, plain_title
from tests import markdown_surface as surface
from tests.typed_text import user_text

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the checks, per surface ---------------------------------------------------------------------
def assert_inline_inert(out: str) -> None:
    """`out` as one line of Markdown, alone, after a template's words, and as a link's text."""
    assert "\n" not in out
    assert not surface.quick_action_lines(out), out
    assert "<" not in out and "$" not in out, out  # HTML and autolinks; math
    for source, expect in (
        (out, ["paragraph_open", "paragraph_close"]),
        ("Title: " + out, ["paragraph_open", "paragraph_close"]),
    ):
        tokens = surface.parse(source)
        if surface.structure(tokens):
            assert surface.structure(tokens) == expect, (source, surface.structure(tokens))
            assert surface.inline_types(tokens) <= {"text"}, (source, surface.inline_types(tokens))
        for node in surface.text_nodes(tokens):
            assert not surface.text_node_findings(node), (surface.text_node_findings(node), node)
    if out:
        tokens = surface.parse(f"- [{out}](https://example.com/1)")
        links = [c for c in surface._inline_children(tokens) if c.type == "link_open"]
        assert len(links) == 1 and links[0].attrs["href"] == "https://example.com/1", out


def assert_block_inert(out: str) -> None:
    for line in out.splitlines():
        assert line.startswith("> "), line
    assert not surface.quick_action_lines(out)
    assert "<" not in out and "$" not in out, out
    for source in (out, "## What is broken\n" + out):
        tokens = surface.parse(source)
        kinds = [k for k in surface.structure(tokens) if k not in ("heading_open", "heading_close")]
        assert kinds[0] == "blockquote_open" and kinds[-1] == "blockquote_close", kinds
        assert set(kinds[1:-1]) <= {"paragraph_open", "paragraph_close"}, kinds
        assert surface.inline_types(tokens) <= {"text", "softbreak"}, surface.inline_types(tokens)
        for node in surface.text_nodes(tokens)[1 if source != out else 0:]:
            assert not surface.text_node_findings(node), (surface.text_node_findings(node), node)


def inline_visible(out: str) -> str:
    return "".join(surface.visible_lines(surface.parse(out)))


def block_expected(text: str, limit: int = 6000) -> list[str]:
    value = surface.cut(surface.typed(text), limit)
    lines = [surface.typed_line(line, LINE_LIMIT) for line in value.splitlines()[:60]]
    return [line for line in (line.replace(WJ, "") for line in lines) if line]


def title_findings(title: str) -> list[str]:
    # a title is plain text, but GitHub and GitLab still find references and emoji in it
    return surface.text_node_findings(title)


# -- Markdown inline -----------------------------------------------------------------------------
def check_inline(text: str) -> None:
    out = md_inline(text)
    assert_inline_inert(out)
    assert inline_visible(out) == surface.typed_line(text, LINE_LIMIT).replace(WJ, "")


@FAST
@given(user_text())
def test_md_inline_is_inert_and_reads_as_typed(text: str) -> None:
    check_inline(text)


@pytest.mark.slow
@SLOW
@given(user_text(60))
def test_md_inline_is_inert_and_reads_as_typed_many(text: str) -> None:
    check_inline(text)


@FAST
@given(user_text(40), st.integers(min_value=1, max_value=40))
def test_md_inline_cut_shows_the_beginning_as_typed(text: str, limit: int) -> None:
    out = md_inline(text, limit)
    assert_inline_inert(out)
    assert inline_visible(out) == surface.typed_line(text, limit).replace(WJ, "")


# -- Markdown block / quote ----------------------------------------------------------------------
def check_block(text: str) -> None:
    out = md_block(text)
    assert_block_inert(out)
    assert surface.visible_lines(surface.parse(out)) == block_expected(text)


@FAST
@given(user_text())
@example(";@everyonewww.example.com")  # linkify-it takes `;` into an e-mail's local part
def test_md_block_is_inert_and_reads_as_typed(text: str) -> None:
    check_block(text)


@pytest.mark.slow
@SLOW
@given(user_text(80))
def test_md_block_is_inert_and_reads_as_typed_many(text: str) -> None:
    check_block(text)


def test_md_block_keeps_sixty_lines_and_the_length_limit() -> None:
    text = "\n".join(f"line {i} @x" for i in range(100))
    assert surface.visible_lines(surface.parse(md_block(text))) == [f"line {i} @x" for i in range(60)]
    long = "#12 " * 3000
    lines = surface.visible_lines(surface.parse(md_block(long)))
    assert lines == block_expected(long) and lines[0].endswith(ELLIPSIS)


# -- code span -----------------------------------------------------------------------------------
@FAST
@given(user_text())
def test_md_code_shows_the_text_verbatim_in_one_code_span(text: str) -> None:
    out = md_code(text, 500)
    expected = surface.typed_line(text, 500).replace(WJ, "")
    if not out:
        assert expected == ""
        return
    tokens = surface.parse("- Upstream status: " + out)
    codes = [c for c in surface._inline_children(tokens) if c.type == "code_inline"]
    assert len(codes) == 1 and codes[0].content.replace(WJ, "") == expected, (out, codes)
    assert not title_findings(codes[0].content), codes[0].content  # inert where code is not honoured
    assert not surface.quick_action_lines(out)


# -- issue titles (plain text) -------------------------------------------------------------------
@FAST
@given(user_text(60), st.integers(min_value=2, max_value=200))
def test_titles_are_inert_within_the_limit_and_read_as_typed(text: str, limit: int) -> None:
    title = plain_title(text, limit)
    assert len(title) <= limit
    assert not title_findings(title), (title_findings(title), title)
    assert "\n" not in title and not set(title) & set("\u202e\u2066\u200f\u200b")
    shown, typed = title.replace(WJ, ""), surface.typed_line(text, limit).replace(WJ, "")
    if shown.endswith(ELLIPSIS) and shown != typed:  # cut to leave room for the joiners
        assert typed.startswith(shown[:-1]), (shown, typed)
    else:
        assert shown == typed
    assert plain_title(title, limit) == title  # stored titles are escaped again on output


# -- the example and the hostile table ---------------------------------------------------
MEASURED = "@everyone see https://status.example.com/x #12"


def test_the_measured_title_reads_as_typed_everywhere() -> None:
    assert md_inline(MEASURED) == "@\u2060everyone see https:\u2060/\u2060/status.example.com/x #\u206012"
    assert md_block(MEASURED) == "> " + md_inline(MEASURED)
    assert plain_title(MEASURED) == md_inline(MEASURED)  # nothing in it needs an entity
    assert inline_visible(md_inline(MEASURED)) == MEASURED
    # escaped once for the ledger, again for the page: the same, never "@ everyone"
    assert md_inline(plain_title(MEASURED)) == md_inline(MEASURED)


HOSTILE = {
    "mention": ("ping @user and @team/x", "ping @user and @team/x"),
    "broadcast": ("@everyone @channel @here", "@everyone @channel @here"),
    "references": ("fixes #12, !3, ~label, GH-12, owner/repo#1 %m &4 $5", None),
    "links": ("see https://evil.example/x www.evil.example [click](https://evil.example) <http://evil.example>", None),
    "e-mail": ("write to root@evil.example", None),
    "html": ("<script>alert(1)</script><img src=x onerror=y>", None),
    "emphasis": ("*bold* __strong__ ~~gone~~ `code`", None),
    "quick action": ("/close", None),
    "quick actions on lines": ("/close\n/label ~security\n/assign @me", None),
    "slack controls": ("<!channel> <!here> <@U123> <#C123> <!subteam^S1> <http://x|y>", None),
    "bidi": ("\u202eevil\u202c reversed \u2066isolated\u2069", "evil reversed isolated"),
    "headings and lists": ("# h\n- a\n1. b\n> c\n---", None),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_is_inert_and_reads_as_typed(name: str) -> None:
    text, shown = HOSTILE[name]
    check_inline(text)
    check_block(text)
    title = plain_title(text)
    assert not title_findings(title)
    if shown is not None:
        assert inline_visible(md_inline(text)) == shown


def test_what_is_escaped_with_entities_and_what_with_joiners() -> None:
    assert md_inline("/close *x* snake_case _y_ a|b [l](u) <b> `c` $m$ ~~s~~ \\") == (
        "&#47;close &#42;x&#42; snake_case &#95;y&#95; a&#124;b &#91;\u2060l&#93;(u) &lt;b\u2060> &#96;c&#96; "
        "&#36;\u2060m&#36; &#126;\u2060&#126;\u2060s&#126;\u2060&#126; &#92;"
    )
    assert md_inline("1. one") == "1&#46; one" and md_inline("- two") == "&#45; two" and md_inline("> q") == "&gt; q"
    assert md_inline("# h") == "&#35; h" and md_inline("\u2060/close") == "\u2060&#47;close"
    assert md_inline("Fish & chips, AT&T, &amp;") == "Fish & chips, AT&\u2060T, &\u2060amp;"  # never an entity
    assert md_inline("a@b.example GH-12 2024-05-01") == "a\u2060@\u2060b.example GH-\u206012 2024-05-01"
    assert md_code("a`b") == "``a`b``" and md_code("`x`") == "`` `x` ``"
