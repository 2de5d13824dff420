"""How GitHub and GitLab read the Markdown the bot writes, for the escaping tests.

Two stages, as on the forges:
1. the Markdown parse: CommonMark with GFM's tables, strikethrough and autolinks
   (markdown-it-py, "gfm-like"). User text must come out as text only: no link, image, HTML,
   emphasis, code, heading, list, table or extra block.
2. the HTML post-processing: mentions, references, emoji and GitLab's autolinks are found in
   the rendered text nodes, entities already decoded (html-pipeline's MentionFilter, GitLab's
   Banzai reference filters). `text_node_findings` applies their patterns to those nodes.

`visible` is what a reader sees: the text nodes with entities decoded and word joiners
(U+2060, drawn as nothing) removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from tests.typed_text import cut, typed, typed_line  # noqa: F401  (re-exported for the tests)

markdown_it = pytest.importorskip("markdown_it", reason="test dependency: markdown-it-py[linkify]")
pytest.importorskip("linkify_it", reason="test dependency: markdown-it-py[linkify]")

WJ = "\u2060"

_PARSER = markdown_it.MarkdownIt("gfm-like")
# GFM autolinks need `www.` or a scheme (GFM spec 6.9); linkify-it would also link a bare
# `example.com`, which neither forge does. `www.` and any `scheme://` are checked below.
_PARSER.linkify.set({"fuzzy_link": False})

# What must never appear in a text node (with the joiners still in it, as the forges see it).
TEXT_NODE_RULES: dict[str, re.Pattern[str]] = {
    # GitHub: `@user`, `@org/team`, `user@sha`; GitLab: `@user`, `@group`, `@all`,
    # `project@sha`; both: e-mail autolinks at transform time.
    "mention or e-mail": re.compile(r"@[A-Za-z0-9_]"),
    "issue reference": re.compile(r"#\d"),  # `#12`, `owner/repo#12`, GitLab `^alert#1`
    "merge request": re.compile(r"!\d"),  # GitLab `!3`
    "label": re.compile(r'~[A-Za-z0-9_"]'),  # GitLab `~bug`, `~"two words"`
    "milestone": re.compile(r'%[A-Za-z0-9_"]'),  # GitLab `%v1.2`
    "epic": re.compile(r"&\d"),  # GitLab `&12`
    "snippet": re.compile(r"\$\d"),  # GitLab `$12`
    "GH- reference": re.compile(r"(?i)\bGH-\d"),  # GitHub `GH-12`
    "tracker key": re.compile(r"(?i)\b[a-z][a-z0-9_]*-\d"),  # Jira-style keys where integrated
    "project reference": re.compile(r"[A-Za-z0-9_.-]>"),  # GitLab `group/project>`
    "scheme autolink": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://"),  # GitLab's AutolinkFilter
    "www autolink": re.compile(r"(?i)www\."),  # GFM extended www autolink
    "protocol-relative link": re.compile(r"//[^\s/]"),
    "mailto/xmpp": re.compile(r"(?i)\b(?:mailto|xmpp|tel):[A-Za-z0-9+]"),
    "emoji shortcode": re.compile(r":[A-Za-z0-9_+-]+:"),  # shown as an emoji: the text is gone
    "iteration or vulnerability": re.compile(r"[A-Za-z_]:\d"),  # GitLab `*iteration:1`, `[vulnerability:1]`
    "inline diff": re.compile(r"[\[{][+-]"),  # GitLab `{+ added +}`, `[- removed -]`
    "table of contents": re.compile(r"\[\[|\[TOC\]"),  # GitLab `[[_TOC_]]`
    "alert": re.compile(r"\[!"),  # GitHub `> [!NOTE]`
    "bidi control": re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"),
}

# Tokens that may appear in the parse of the bot's own wrapping: everything else came from user text.
_TEXT_TOKENS = {"text", "softbreak"}


def parse(source: str) -> list[object]:
    return _PARSER.parse(source)


def text_node_findings(text: str) -> list[str]:
    return [name for name, rule in TEXT_NODE_RULES.items() if rule.search(text)]


def _inline_children(tokens: Iterable[object]) -> list[object]:
    return [child for token in tokens if token.type == "inline" for child in token.children or []]  # type: ignore[attr-defined]


def structure(tokens: list[object]) -> list[str]:
    """Block token types, in order."""
    return [t.type for t in tokens if t.type != "inline"]  # type: ignore[attr-defined]


def inline_types(tokens: list[object]) -> set[str]:
    return {c.type for c in _inline_children(tokens)}  # type: ignore[attr-defined]


def text_nodes(tokens: list[object]) -> list[str]:
    """Each paragraph's text as the HTML filters see it (one string per line)."""
    out: list[str] = []
    for token in tokens:
        if token.type != "inline":  # type: ignore[attr-defined]
            continue
        line = ""
        for child in token.children or []:  # type: ignore[attr-defined]
            if child.type in ("softbreak", "hardbreak"):
                out.append(line)
                line = ""
            else:
                line += child.content
        out.append(line)
    return out


def visible_lines(tokens: list[object]) -> list[str]:
    """What a reader sees, line by line: joiners removed, empty lines left out."""
    return [line for line in (node.replace(WJ, "") for node in text_nodes(tokens)) if line]


def quick_action_lines(source: str) -> list[str]:
    """Lines GitLab would run as a quick action (a `/` first on the line, spaces allowed)."""
    return [line for line in source.splitlines() if line.lstrip().startswith("/")]
