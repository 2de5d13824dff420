"""Other chat services (Teams, Discord, Mattermost, Matrix, Telegram, e-mail…) through Apprise.

Posts only: Apprise sends a notification and gets nothing back to thread under, edit or react
to, and cannot read a channel, so `find` finds nothing and a re-run after a crash at the
wrong moment can post twice (README, "Slack and other chat").

A policy channel names an Apprise URL with its secrets written `${VAR}`:

    channels:
      ops-teams: {apprise: "workflows://${TEAMS_HOST}/${TEAMS_WORKFLOW}/${TEAMS_SIGNATURE}/"}

The variables are read from the environment given to the constructor when a message is sent,
inserted verbatim, and the expanded URL is never printed: errors name the channel, and any
text Apprise logged has every expanded value replaced by `***`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from io import StringIO

import apprise

from bot.errors import MissingCredential, ServiceError, UserError
from bot.records import Channel, ChatMessage, ChatRef
from bot.text import clean

SERVICE = "apprise"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
WORD_JOINER = "\u2060"

STATUS_EMOJI = {"open": "🔴", "active": "🔴", "escalated": "🚨", "acknowledged": "👀", "resolved": "✅"}


def variables_in(url: str) -> list[str]:
    """The `${VAR}` names an Apprise URL refers to, in order, each once."""
    return list(dict.fromkeys(_VARIABLE.findall(url)))


def expand(url: str, environ: Mapping[str, str], *, channel: str = "") -> tuple[str, list[str]]:
    """The URL with its variables filled in, and the values inserted (to redact from logs).
    A variable that is unset or empty raises MissingCredential naming it."""
    values: list[str] = []

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        value = (environ.get(name) or "").strip()
        if not value:
            why = f"the apprise URL of channel {channel!r} uses it" if channel else "an apprise URL uses it"
            raise MissingCredential(name, why)
        values.append(value)
        return value

    return _VARIABLE.sub(value_of, url.strip()), values


class AppriseNotifier:
    """A `bot.ports.Notifier` on Apprise, for channels with `apprise:` in the policy."""

    service = SERVICE
    can_thread = False

    def __init__(self, environ: Mapping[str, str], *, timeout: float = 30) -> None:
        self.environ = dict(environ)
        self.timeout = timeout

    def post(self, channel: Channel, message: ChatMessage, *, thread: ChatRef | None = None) -> ChatRef:
        if not channel.apprise:
            raise ValueError(f"channel {channel.id!r} has no `apprise:` in the policy")
        url, secrets = expand(channel.apprise, self.environ, channel=channel.id)
        request = f"notify channel {channel.id}"
        title, body = render(message)
        with _quiet_apprise() as log:
            sender = apprise.Apprise()
            if not sender.add(url):
                raise UserError(
                    f"channels.{channel.id}.apprise is not a URL Apprise can use "
                    "(not shown: it holds secrets); see https://github.com/caronc/apprise/wiki"
                )
            sent = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT, timeout=self.timeout)
        if not sent:
            raise ServiceError(
                SERVICE,
                request,
                _last_line(_redact(log.getvalue(), secrets)) or "the service did not accept the message",
                hint=f"check the service behind channel {channel.id!r} and the variables its URL uses "
                f"({', '.join(variables_in(channel.apprise)) or 'none'}); the next run retries",
            )
        digest = hashlib.sha256((message.metadata_key or title + body).encode()).hexdigest()[:16]
        return ChatRef(SERVICE, channel.id, f"apprise-{digest}")

    def update(self, ref: ChatRef, message: ChatMessage) -> None:
        """Nothing: Apprise cannot edit a sent notification."""

    def react(self, ref: ChatRef, emoji: str) -> None:
        """Nothing: Apprise cannot react."""

    def find(self, channel: Channel, key: str, *, thread: ChatRef | None = None) -> ChatRef | None:
        """Always None: Apprise cannot read a channel back."""
        return None


def render(message: ChatMessage) -> tuple[str, str]:
    """Title and plain-text body. Apprise converts TEXT for each service (HTML-escaping it for
    HTML ones); here we also break what some services would still read as markup from user
    text: @-mentions (`@everyone` on Discord, `@channel` on Mattermost) and Markdown links."""
    emoji = STATUS_EMOJI.get(message.status, "🔔")
    severity = _inert(message.severity.upper())
    # The core's headline leads with its own emoji; severity and status go on the first line.
    title = " ".join(_inert(message.headline).split()) or f"{emoji} {severity}".strip()
    state = " · ".join(p for p in (severity, message.status.replace("_", " ").capitalize()) if p)
    lines: list[str] = [f"{emoji} {state}"] if state else []
    if message.body.strip():
        lines += ["", _inert(message.body.strip())]
    if message.fields:
        lines.append("")
        lines += [f"{_inert(label)}: {_inert(value)}" for label, value in message.fields]
    if message.link:
        lines += ["", f"{_inert(message.link[0])}: {message.link[1]}"]
    # message.mentions are Slack member ids: they mean nothing on another service.
    return title[:250], "\n".join(lines).strip()


def _inert(text: str) -> str:
    # bidi controls dropped, other control characters (and lone surrogates) made spaces
    value = clean(text, limit=20_000)
    value = re.sub(r"@(?=\S)", "@" + WORD_JOINER, value)
    return value.replace("](", "]" + WORD_JOINER + "(")


# Loggers that can write the expanded URL: Apprise's own, and urllib3's (under the requests
# Apprise uses), which logs request paths at DEBUG and retried URLs at WARNING.
_LEAKY_LOGGERS = ("apprise", "urllib3")


@contextmanager
def _quiet_apprise() -> Iterator[StringIO]:
    """Apprise's log for this call, kept from the process log (where CI would print it) so we
    can redact it before anything of it is shown."""
    loggers = [logging.getLogger(name) for name in _LEAKY_LOGGERS]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.propagate = False
    try:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:  # type: ignore[no-untyped-call]
            yield log
    finally:
        for logger, propagate in zip(loggers, saved):
            logger.propagate = propagate


def _redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
