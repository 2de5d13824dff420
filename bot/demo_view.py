"""What the demo wrote, as people read it: the issues and comments the bot opened and posted
on the local forge, and the chat messages it sent, each recorded as first written (the bot edits
its outage issue and root alerts as the incident moves on).

Forge text is Markdown: it is shown as a page shows it, without the markers the bot keeps for
itself (HTML comments), with entities decoded and emphasis, code and heading marks dropped.
A chat message is shown in the order a Slack message lays it out: header, status line, body,
fields, link. Nothing here is used outside the demo.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from bot.adapters.local import LocalChat, LocalForge
from bot.ledger import OUTAGE_RE, keys_in
from bot.records import Channel, ChatMessage, ChatRef, Comment, Issue


@dataclass(frozen=True)
class Written:
    """One thing the bot wrote, as it was when written."""

    at: datetime
    where: str  # "#2" for the forge, the policy's channel id for chat
    keys: tuple[str, ...]  # the idempotency keys it carries: which action wrote it
    title: str = ""
    body: str = ""
    labels: tuple[str, ...] = ()
    message: ChatMessage | None = None
    channel: Channel | None = None
    reply: bool = False


class RecordingForge(LocalForge):
    """The local forge, remembering every issue and comment the bot writes as first written."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(path, clock=clock)
        self.written: list[Written] = []

    def create_issue(self, *, title: str, body: str, labels: Sequence[str], confidential: bool = False,
                     incident: bool = False, assignees: Sequence[str] = ()) -> Issue:
        issue = super().create_issue(title=title, body=body, labels=labels, confidential=confidential, incident=incident,
                                     assignees=assignees)
        if self.actor != self.bot_login:
            return issue
        outage = OUTAGE_RE.search(body)
        keys = tuple(keys_in(body)) + ((outage.group(2),) if outage else ())
        self.written.append(Written(at=self.clock(), where=f"#{issue.number}", keys=keys, title=title, body=body,
                                    labels=tuple(labels)))
        return issue

    def post_comment(self, number: int, body: str) -> Comment:
        comment = super().post_comment(number, body)
        if self.actor == self.bot_login:
            self.written.append(Written(at=self.clock(), where=f"#{number}", keys=tuple(keys_in(body)), body=body))
        return comment


class RecordingChat(LocalChat):
    """The local chat service, remembering every message as first posted."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(path, clock=clock)
        self.written: list[Written] = []

    def post(self, channel: Channel, message: ChatMessage, *, thread: ChatRef | None = None) -> ChatRef:
        ref = super().post(channel, message, thread=thread)
        self.written.append(Written(at=self.clock(), where=channel.id, keys=(message.metadata_key,), message=message,
                                    channel=channel, reply=thread is not None))
        return ref


# -- Markdown as a page shows it ------------------------------------------------------------------
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^ {0,3}> ?")


def _inline(text: str) -> str:
    """Code spans as typed (entities are not decoded in them); elsewhere no emphasis marks,
    links as `text (url)`, entities decoded: escaped user text shows as it was typed."""
    out: list[str] = []
    last = 0
    for code in _CODE.finditer(text):
        out.append(_prose(text[last:code.start()]))
        inner = code.group(2)
        out.append(inner[1:-1] if len(inner) > 2 and inner.startswith(" ") and inner.endswith(" ") else inner)
        last = code.end()
    out.append(_prose(text[last:]))
    return "".join(out)


def _prose(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return html.unescape(_STRONG.sub(r"\2", text))


def as_read(markdown: str) -> str:
    """`markdown` as a reader of the page sees it, in plain text, markers left out."""
    lines: list[str] = []
    for line in _COMMENT.sub("", markdown).splitlines():
        if _RULE.match(line):
            lines.append("─" * 40)
            continue
        heading = _HEADING.match(line)
        if heading:
            lines.append(_inline(heading.group(1)).upper() if heading.group(1) else "")
            continue
        quote = _QUOTE.match(line)
        lines.append("│ " + _inline(line[quote.end():]) if quote else _inline(line))
    return "\n".join(lines).strip("\n")


def chat_as_read(message: ChatMessage) -> str:
    """A chat message as Slack lays it out (bot/adapters/slack/blocks.py): the header, the
    severity and status, the body, the fields, then the link."""
    lines = [message.headline.strip()]
    status = " · ".join(part for part in (message.severity.upper(), message.status.replace("_", " ").capitalize()) if part)
    if status:
        lines.append(status)
    if message.body.strip():
        lines += ["", message.body.strip()]
    if message.fields:
        lines.append("")
        lines += [f"{label}: {value}" for label, value in message.fields]
    if message.link:
        label, url = message.link
        lines += ["", f"{label} ({url})"]
    return "\n".join(lines)


# -- what the demo prints --------------------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """A written thing picked for the reader, with what to call it."""

    heading: str
    written: Written


def pick(written: Sequence[Written], key: str) -> Written | None:
    """What the action with idempotency key `key` wrote, as first written."""
    return next((w for w in written if key in w.keys), None)


def render_view(shown: Sequence[Shown], tz: tzinfo, echo: Callable[[str], None]) -> None:
    echo("What people read (as written; the markers the bot keeps for itself are not shown)")
    for item in shown:
        w = item.written
        echo("")
        echo(f"── {w.at.astimezone(tz):%a %H:%M}  {item.heading} " + "─" * max(3, 72 - len(item.heading)))
        if w.message is not None:
            text = chat_as_read(w.message)
        else:
            head = [w.title] if w.title else []
            if w.labels:
                head.append("labels: " + ", ".join(w.labels))
            text = "\n\n".join(part for part in ("\n".join(head), as_read(w.body)) if part)
        for line in text.splitlines():
            echo(f"   {line}".rstrip())
