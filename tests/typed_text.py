"""What a reader perceives of what was typed: the "visible text" the escaping tests compare
with, written apart from bot.text on purpose."""

from __future__ import annotations

import string
import unicodedata

from hypothesis import strategies as st


def typed(text: str) -> str:
    """The text as a reader perceives what was typed: NFC, invisible format characters gone
    (ZWNJ and ZWJ, which shape scripts and emoji, stay, and so does U+2060, which counts
    towards length cuts: compare after removing it), control characters, lone surrogates and
    unassigned code points as spaces. Written apart from bot.text on purpose."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch in "\n\t\u200c\u200d\u2060":
            out.append(ch)
        elif category == "Cf":
            continue
        elif category in ("Cc", "Cs", "Cn"):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def typed_line(text: str, limit: int) -> str:
    """`typed` on one line, whitespace runs made one space, at most `limit` long: a longer
    line is cut to `limit - 1` characters (and trailing spaces) and ends with an ellipsis."""
    return cut(" ".join(typed(text).split()), limit)


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


# What issue #11 names (GitHub, GitLab and Slack syntax), the syntax around it, and Unicode
# that hides, reorders, joins or combines.
TRICKY = [
    "@everyone", "@channel", "@here", "@user", "@team/x", "@org/team-name", "user@a1b2c3d", "a@b.example",
    "#12", "!3", "~label", '~"two words"', "%v1.2", '%"m 1"', "&12", "$12", "GH-12", "gh-7", "ABC-123",
    "owner/repo#1", "group/project>", "^alert#1", "*iteration:1", "[vulnerability:1]",
    "https://status.example.com/x", "HTTP://X.Y", "ftp://f.example", "irc://i.example", "www.example.com",
    "WWW.X.Y", "mailto:a@b.co", "xmpp:a@b.co", "//cdn.example/x", "[x](y)", "[x]", "[x]: http://d.example",
    "![i](u)", "<http://x.y>", "<b>bold</b>", "<!-- c -->", "<script>", "&amp;", "&#64;", "&copy;",
    "*em*", "**strong**", "_u_", "__u__", "~~s~~", "~s~", "`code`", "```", "~~~", "$x$", "$$", "\\",
    "\\*", "/close", "/label ~x", "# h", "## h", "> q", ">>>", "- li", "* li", "+ li", "1. li", "1) li",
    "---", "===", "***", "___", "- [ ] task", "| a | b |", "|-|-|", ":smile:", ":+1:", "[[_TOC_]]",
    "[TOC]", "{+ add +}", "[- del -]", "[!NOTE]", "[^1]", "<!channel>", "<!here>", "<@U123>", "<#C123>",
    "<!subteam^S1>", "<http://x|y>", "\u202e", "\u2066", "\u200f", "\u200b", "\u2060", "\u00ad", "\ufeff",
    "#\ufe0f\u20e3", "👩\u200d💻", "é", "e\u0301", "\n", "\t", "  ", "\x00", "\r\n", "\u2028", "\u00a0",
    "C#", "snake_case", "a_b_c", "10:30", "e.g.", "x.com", "2024-05-01", "a->b", "\ue000",
]
PIECES = st.one_of(
    st.sampled_from(TRICKY),
    st.sampled_from(list(string.punctuation + " \n")),
    st.characters(blacklist_categories=("Cs",)),
)


def user_text(max_pieces: int = 24) -> st.SearchStrategy[str]:
    return st.lists(PIECES, max_size=max_pieces).map("".join)
