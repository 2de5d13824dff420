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

Failures. Apprise answers a notification with True or False and logs why; the log tells:
- a rate limit (HTTP 429 and nothing else): the service did nothing, so the notification is
  sent again after `rate_limit_wait` seconds, `rate_limit_retries` times (Apprise does not
  show the Retry-After header, so the wait is ours);
- a 5xx, a dropped connection, a timeout, an answer cut short, or a partial delivery (some
  targets of the URL took it): the service may have posted it, and nothing is repeated; the
  ServiceError says `uncertain=True`;
- a refusal (another 4xx, or an SMTP server's 4xx/5xx reply: a wrong password, a refused
  recipient) or a connection that never opened: certainly not posted.
Apprise's own retries (`?retry=N` in a URL) are switched off: it repeats a send after a 5xx,
which can post the same message twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from io import StringIO

from bot.errors import MissingCredential, ServiceError, UserError
from bot.records import Channel, ChatMessage, ChatRef
from bot.text import clean

SERVICE = "apprise"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
WORD_JOINER = "\u2060"

STATUS_EMOJI = {"open": "🔴", "active": "🔴", "escalated": "🚨", "acknowledged": "👀", "resolved": "✅"}

# What Apprise's plugins log (they catch every exception and return False): "error=429." after
# an HTTP status, "Socket Exception: ..." (DEBUG) with requests' text after a transport error,
# "Sent ... notification" (INFO) for each target that took it.
_STATUS = re.compile(r"\berror=(\d{3})\b")
_SOCKET = re.compile(r"Socket Exception", re.IGNORECASE)
_SENT = re.compile(r"^INFO\s+Sent\b")
# requests' words for a connection that never opened: nothing was sent.
_NEVER_SENT = re.compile(
    r"NewConnectionError|NameResolutionError|ConnectTimeoutError|Connection refused|Failed to resolve"
    r"|Name or service not known|nodename nor servname|getaddrinfo failed|Failed to establish a new connection",
    re.IGNORECASE,
)
# smtplib's refusals, as Apprise's e-mail plugin logs them ("Socket Exception: (535, b'5.7.8 ...')",
# or "{'to@example.org': (550, b'5.1.1 ...')}" when every recipient is refused): the server
# answered no, so nothing was sent (https://www.rfc-editor.org/rfc/rfc5321#section-4.2).
_SMTP_REFUSAL = re.compile(r"\([45]\d\d, b['\"]")
_RETRY_PARAM = re.compile(r"(?<=[?&])retry=[^&#]*", re.IGNORECASE)


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
    can_read_back = False

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        timeout: float = 30,
        rate_limit_wait: float = 10.0,
        rate_limit_retries: int = 2,
    ) -> None:
        # Apprise is imported here, not at the top: reading a policy's `${VARS}` (variables_in)
        # needs no Apprise, and a run without an apprise channel must not pay for it.
        import apprise  # noqa: F401 - a missing package fails now, where bot.extras names the extra

        self.environ = dict(environ)
        self.timeout = timeout
        self.rate_limit_wait = rate_limit_wait
        self.rate_limit_retries = rate_limit_retries

    def post(self, channel: Channel, message: ChatMessage, *, thread: ChatRef | None = None) -> ChatRef:
        if not channel.apprise:
            raise ValueError(f"channel {channel.id!r} has no `apprise:` in the policy")
        # Our own URL text, before any secret is in it: Apprise must not repeat a send itself.
        url, secrets = expand(_RETRY_PARAM.sub("retry=0", channel.apprise), self.environ, channel=channel.id)
        request = f"notify channel {channel.id}"
        title, body = render(message)
        import apprise

        for attempt in range(self.rate_limit_retries + 1):
            with _quiet_apprise() as log:
                sender = apprise.Apprise()
                if not sender.add(url):
                    raise UserError(
                        f"channels.{channel.id}.apprise is not a URL Apprise can use "
                        "(not shown: it holds secrets); see https://github.com/caronc/apprise/wiki"
                    )
                sent = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT, timeout=self.timeout)
            if sent:
                break
            text = _redact(log.getvalue(), secrets)
            verdict = _verdict(text)
            if verdict == "rate limited" and attempt < self.rate_limit_retries:
                time.sleep(self.rate_limit_wait)  # the service did nothing: send again
                continue
            uncertain = verdict == "maybe posted"
            raise ServiceError(
                SERVICE,
                request,
                _last_line(text) or "the service did not accept the message",
                hint=(
                    "the service may have posted it before the answer was lost; Apprise cannot read the "
                    "channel back to check, so look there before posting by hand"
                    if uncertain
                    else f"check the service behind channel {channel.id!r} and the variables its URL uses "
                    f"({', '.join(variables_in(channel.apprise)) or 'none'}); the next run retries"
                ),
                uncertain=uncertain,
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


def _verdict(log: str) -> str:
    """From Apprise's log of a failed notification: "rate limited" (only 429s: nothing was
    posted), "not posted" (refused by an HTTP status or an SMTP reply, or no connection), or
    "maybe posted" (a 5xx, a lost or cut answer, a timeout, a partial delivery, or a cause the
    log does not say)."""
    lines = log.splitlines()
    statuses = [int(code) for line in lines for code in _STATUS.findall(line)]
    sockets = [line for line in lines if _SOCKET.search(line)]
    partial = any(_SENT.search(line) for line in lines)
    unsent = [line for line in sockets if _NEVER_SENT.search(line) or _SMTP_REFUSAL.search(line)]
    if partial or any(code >= 500 for code in statuses) or len(unsent) < len(sockets):
        return "maybe posted"
    if statuses and all(code == 429 for code in statuses) and not sockets:
        return "rate limited"
    if statuses or sockets:
        return "not posted"  # 4xx refusals, connections that never opened
    return "maybe posted"


@contextmanager
def _quiet_apprise() -> Iterator[StringIO]:
    """Apprise's log for this call, kept from the process log (where CI would print it) so we
    can redact it before anything of it is shown. Read at DEBUG: the transport errors are only
    there; only WARNING lines are ever shown (`_last_line`)."""
    import apprise

    loggers = [logging.getLogger(name) for name in _LEAKY_LOGGERS]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.propagate = False
    try:
        with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s %(message)s") as log:  # type: ignore[no-untyped-call]
            yield log
    finally:
        for logger, propagate in zip(loggers, saved):
            logger.propagate = propagate


def _redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _last_line(text: str) -> str:
    """The last warning or error Apprise logged, without its level."""
    lines = []
    for line in text.splitlines():
        level, _, rest = line.strip().partition(" ")
        if level in ("WARNING", "ERROR", "CRITICAL") and rest.strip():
            lines.append(rest.strip())
    return lines[-1][:300] if lines else ""
