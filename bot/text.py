"""Text that users control (issue titles, bodies, comments) is data, never markup.

Everything the bot writes passes user text through one of these filters, so that it can never
become a mention (`@team`), a cross-reference (`#12`, `!3`, `~label`, `GH-12`), a link, HTML,
emphasis, a GitLab quick action (a line starting with `/`), a Slack control sequence
(`<!channel>`), or a bidi trick; and so that a reader still sees exactly what was typed.

Two tools do it, both invisible once rendered:

- WORD JOINER (U+2060) after a sigil (`@`, `#`, `:`…). Mentions, references and autolinks on
  GitHub and GitLab are found in the rendered HTML's text nodes, after entities are decoded
  (html-pipeline's MentionFilter, GitLab's Banzai reference filters, GitHub's transform-time
  e-mail autolinks: https://github.com/micromark/micromark-extension-gfm-autolink-literal),
  so only a character between the sigil and the name stops them. U+2060 is "default
  ignorable": it draws nothing, keeps the word together, and is not whitespace.
- HTML entities (`&#42;`, `&lt;`, `&#47;`) for Markdown syntax: CommonMark decodes an entity
  to plain text that is never a delimiter or a block marker
  (https://spec.commonmark.org/0.31.2/#entity-and-numeric-character-references), so
  `&#42;x&#42;` shows `*x*` and `&#47;close` shows `/close`.
  Backslash escapes would do the same in a rendered page, but show as typed wherever the source
  is read (mail notifications, the API).
"""

from __future__ import annotations

import re
import unicodedata

WJ = "\u2060"  # WORD JOINER: invisible, not whitespace, no line break
ELLIPSIS = "…"

# Invisible characters kept as typed: our own joiner, and ZWNJ/ZWJ, which shape Persian and
# Indic scripts and join emoji sequences (woman, ZWJ, laptop). Every other format character (category Cf) is
# dropped: bidi embeddings, overrides, isolates and marks (CVE-2021-42574 "Trojan Source"),
# zero-width spaces, soft hyphens, tag characters. Dropped, not made spaces: a space where
# nothing was visible is the "@ everyone" of issue #11.
_KEEP_INVISIBLE = frozenset(("\u200c", "\u200d", WJ))
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

TITLE_LIMIT = 200  # GitHub titles stop at 256 characters, GitLab's at 255
LINE_LIMIT = 2000
BLOCK_LIMIT = 6000
BLOCK_LINES = 60

# Combining marks and variation selectors stay on the character they follow (`#️⃣` is `#`,
# U+FE0F, U+20E3): a joiner goes after them, never between.
_MARK_CHARS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
# A joiner after each sigil that starts something when a name follows it (something visible
# follows; a joiner already there counts as a space, so escaping twice changes nothing):
#   @  mentions `@user`, `@org/team` (GitHub, GitLab), `project@sha`, e-mail autolinks
#   #  issues `#12`, `owner/repo#12` (GitHub, GitLab), headings at a line start
#   !  GitLab merge requests `!3`; GitHub alerts `[!NOTE]`
#   ~  GitLab labels `~bug`, `~"two words"`
#   %  GitLab milestones `%v1.2`     $  GitLab snippets `$12`     &  GitLab epics `&12`
#   :  `scheme://` autolinks (GitLab's AutolinkFilter links any scheme), `mailto:`,
#      emoji `:smile:`, GitLab `*iteration:1`, `[vulnerability:1]`
#   [  GitLab `[[_TOC_]]` and inline diffs `[+ +]`      {  GitLab inline diffs `{+ +}`
# GitLab's list: https://docs.gitlab.com/ee/user/markdown.html#gitlab-specific-references
_SIGIL = re.compile(r"([@#!~%$&:\[{][" + _MARK_CHARS + r"]*)(?=[^\s\u2060" + _MARK_CHARS + "])")
# `a@b.example`: also a joiner before the @ (after anything visible), so that linkifiers which
# take a joiner for part of an international domain (linkify-it, mail clients) find no local
# part either; theirs can hold `;:&=$,"` too.
_EMAIL_AT = re.compile(r"(?<=[^\s\u2060])@")
# `//host`: protocol-relative links (linkify-it); `www.`: GFM's extended www autolink, which
# needs the four characters `www.` (https://github.github.com/gfm/#autolinks-extension-).
_SLASHES = re.compile(r"/(?=/)")
_WWW = re.compile(r"(?i)(www)(?=\.)")
# `GH-12` is an issue reference on GitHub; `ABC-12` (or `ABC1-12`) one where a Jira
# integration or a custom autolink is set up. Dates (`2024-05-01`) start with a digit: untouched.
_KEY_DASH = re.compile(r"(?i)(\b[a-z][a-z0-9_]*-)(?=\d)")
# `group/project>` is a GitLab project reference.
_PROJECT_GT = re.compile(r"(?<=[^\s\u2060])>")
# Chat services (Slack's server-side URL detection, Discord, Teams, mail clients) also link a
# bare `status.example.com`: a joiner after each dot between a letter or digit and a letter.
# (after a joiner too: one added after a sigil, `!⁠.ba`, reads to a linker as part of a host name)
_DOMAIN_DOT = re.compile(r"(?<=[^\W_]|\u2060)\.(?=[^\W\d_])")


def printable(text: object) -> str:
    """`text` in NFC with invisible format characters dropped (but U+2060, ZWNJ and ZWJ) and
    control characters other than newline and tab made spaces."""
    value = unicodedata.normalize("NFC", "" if text is None else str(text))
    if value.isascii():
        return _ASCII_CONTROL.sub(" ", value)
    return "".join(_printable(ch) for ch in value)


def clean(text: object, limit: int = LINE_LIMIT) -> str:
    """`printable` text truncated at `limit` (with an ellipsis)."""
    return _cut(printable(text), limit)


def _printable(ch: str) -> str:
    if ch in "\n\t" or ch in _KEEP_INVISIBLE:
        return ch
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    # Controls, lone surrogates and unassigned code points become spaces; private-use
    # characters (Co) are icons in some fonts and stay.
    return " " if category in ("Cc", "Cs", "Cn") else ch


def _cut(value: str, limit: int) -> str:
    if len(value) > limit:
        return value[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return value


def one_line(text: object, limit: int = LINE_LIMIT) -> str:
    """`printable` text on one line: every run of whitespace (newlines too) one space, then cut
    to at most `limit` characters, ending with an ellipsis if it was cut."""
    return _cut(" ".join(printable(text).split()), limit) if text else ""


def break_references(value: str, *, bare_domains: bool = False) -> str:
    """`value` with a word joiner wherever a mention, reference or autolink could start.
    Idempotent; `value` should already be `clean`."""
    value = _SIGIL.sub(r"\1" + WJ, value)
    value = _EMAIL_AT.sub(WJ + "@", value)
    value = _SLASHES.sub("/" + WJ, value)
    value = _WWW.sub(r"\1" + WJ, value)
    value = _KEY_DASH.sub(r"\1" + WJ, value)
    if bare_domains:
        return _DOMAIN_DOT.sub("." + WJ, value)
    return _PROJECT_GT.sub(WJ + ">", value)


# -- Markdown (GitHub and GitLab) -------------------------------------------------------------
# Always entity-escaped: `\` (escapes), backtick (code spans), `*` (emphasis; a joiner cannot
# stop it, as U+2060 is neither whitespace nor punctuation in CommonMark's flanking rules),
# `<` (HTML, `<http://…>` autolinks), `[` (links, images, footnotes, reference definitions),
# `]` (it would end the link text of a template's `[title](url)` early), `~` (GFM
# strikethrough), `|` (GFM tables), `$` (math on GitHub and GitLab).
_MD_ENTITY = {"\\": "&#92;", "`": "&#96;", "*": "&#42;", "<": "&lt;", "[": "&#91;", "]": "&#93;",
              "~": "&#126;", "|": "&#124;", "$": "&#36;"}
# At the start of a line only: headings, blockquotes, list items, setext underlines and
# thematic breaks (`-`, `+`, `=`), and GitLab quick actions (`/close`).
_MD_LINE_START = {"#": "&#35;", ">": "&gt;", "-": "&#45;", "+": "&#43;", "=": "&#61;", "/": "&#47;"}
# `1.` or `1)`: an ordered list item (https://spec.commonmark.org/0.31.2/#list-items)
_ORDERED_LIST = re.compile(r"\d{1,9}([.)])(?=\s|$)")


def _md_escape(value: str) -> str:
    out = [_MD_ENTITY.get(ch, ch) for ch in value]
    for i, ch in enumerate(value):
        # `_` between two letters or digits can neither open nor close emphasis (left- and
        # right-flanking: https://spec.commonmark.org/0.31.2/#emphasis-and-strong-emphasis),
        # so `snake_case` stays as typed in the source.
        if ch == "_" and not (0 < i < len(value) - 1 and value[i - 1].isalnum() and value[i + 1].isalnum()):
            out[i] = "&#95;"
    start = next((i for i, ch in enumerate(value) if ch not in _KEEP_INVISIBLE), None)
    if start is not None:
        first = value[start]
        if first in _MD_LINE_START:
            out[start] = _MD_LINE_START[first]
        elif (number := _ORDERED_LIST.match(value, start)) is not None:
            out[number.end() - 1] = "&#46;" if number.group(1) == "." else "&#41;"
    return "".join(out)


def md_inline(text: object, limit: int = LINE_LIMIT) -> str:
    """User text for one line of GitHub/GitLab Markdown: inert, on one line, and shown as typed
    (entities and joiners render as nothing). Safe at the start of a line too."""
    return _md_escape(break_references(one_line(text, limit)))


def md_block(text: object, limit: int = BLOCK_LIMIT) -> str:
    """User text of several lines, as a Markdown blockquote of inert lines (the first 60)."""
    lines = clean(text, limit).splitlines() or [""]
    return "\n".join("> " + md_inline(line, LINE_LIMIT) for line in lines[:BLOCK_LINES])


def md_code(text: object, limit: int = 500) -> str:
    """User text shown verbatim in a code span (e.g. a URL someone typed): never linked.

    Entities are not decoded inside a code span, so nothing is escaped: the fence is one
    backtick longer than any run of backticks inside
    (https://spec.commonmark.org/0.31.2/#code-spans), padded with a space that
    the renderer strips when the text starts or ends with a backtick. Joiners still break
    sigils, for where code spans are not honoured (mail notifications, chat previews)."""
    value = break_references(one_line(text, limit))
    if not value:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


# -- plain text: chat messages and issue titles --------------------------------------------------
def chat_text(text: object, limit: int = LINE_LIMIT) -> str:
    """User text for a chat message, on one line. The notifier escapes its own control characters
    (Slack's & < >); here no service's plain-text mention (`@channel`, `@everyone`) or link
    detection, bare domains included, finds anything."""
    return break_references(one_line(text, limit), bare_domains=True)


def plain_title(text: object, limit: int = TITLE_LIMIT) -> str:
    """User text inside an issue title we write: plain text (no entities), but forges still link
    `#12` and `@name` there. At most `limit` characters, joiners included."""
    value = one_line(text, limit)
    out = break_references(value)
    keep = len(value) - 1
    while len(out) > limit and keep > 0:
        out = break_references(value[:keep].rstrip() + ELLIPSIS)
        keep -= max(1, (len(out) - limit) // 2)
    return out if len(out) <= limit else ELLIPSIS


def safe_url(url: object) -> str | None:
    """A URL we may render as a real link: http(s) only, no spaces or markup characters."""
    value = str(url or "").strip()
    if re.fullmatch(r"https?://[^\s<>\"'`|\\\]\[()]+", value):
        return value
    return None


class UserText(str):
    """A string a user controls. The renderer escapes it on output unless a filter already did:
    a template that forgets the filter still cannot leak markup."""

    __slots__ = ()
