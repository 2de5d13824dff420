"""Slack over an incoming webhook: posts only.

A webhook posts to the one channel chosen when it was created, cannot reply in a thread,
edit or react, and returns no message ts, so there is nothing to record and nothing to find
after a crash (the README says what this loses). Its errors are plain-text bodies with an
HTTP status: https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
The URL is a secret: no message here ever contains it.

Every call posts, so only a rate limit (429: Slack did nothing) is retried. A 5xx, a dropped
connection, a timeout or a cut answer may come after Slack posted the message: the
ServiceError then says `uncertain=True`, and nothing is repeated here.
"""

from __future__ import annotations

import hashlib
from http.client import HTTPException
from urllib.error import URLError

from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from bot.adapters.slack import failures
from bot.adapters.slack.blocks import render
from bot.adapters.transport import what_happened
from bot.errors import ServiceError
from bot.records import Channel, ChatMessage, ChatRef

SERVICE = "slack-webhook"


class SlackWebhookNotifier:
    """A `bot.ports.Notifier` on slack_sdk's WebhookClient."""

    service = SERVICE
    can_thread = False
    can_read_back = False

    def __init__(
        self,
        url: str,
        *,
        variable: str = "SLACK_WEBHOOK_URL",
        backoff: float = 0.5,
        retries: int = 2,
        timeout: int = 30,
        max_wait: float = 60.0,
    ) -> None:
        self.variable = variable  # named in errors instead of the URL
        self.client = WebhookClient(
            url=url.strip(),
            timeout=timeout,
            retry_handlers=failures.retry_handlers(backoff=backoff, retries=retries, max_wait=max_wait, posts_only=True),
        )

    def post(self, channel: Channel, message: ChatMessage, *, thread: ChatRef | None = None) -> ChatRef:
        # `thread` is ignored: a webhook cannot reply in one, so an update is a new message.
        rendered = render(message)
        shown = channel.slack or channel.id
        request = f"POST {self.variable} (for {shown})"
        try:
            response = self.client.send(
                text=rendered.text,
                blocks=rendered.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except (URLError, OSError, SlackRequestError, HTTPException) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            if failures.reached_slack(exc):
                # The post may have gone through before the answer was lost.
                raise ServiceError(
                    failures.SERVICE,
                    request,
                    f"{what_happened(exc)} ({type(reason).__name__})",
                    hint=failures.uncertain_hint(webhook=True),
                    uncertain=True,
                ) from None
            # str(SlackRequestError) can quote the URL: name only the exception's type.
            detail = type(reason).__name__ if isinstance(exc, SlackRequestError) else f"{type(reason).__name__}: {reason}"
            raise ServiceError(
                failures.SERVICE,
                request,
                f"could not reach Slack: {detail}",
                hint=f"check {self.variable} (an https://hooks.slack.com/… URL) and the runner's network access",
            ) from None
        if response.status_code >= 500:
            # Slack (or a proxy) may have posted it before failing to answer.
            error = _error_code(response.body) or f"HTTP {response.status_code}"
            raise ServiceError(failures.SERVICE, request, error, hint=failures.uncertain_hint(webhook=True), uncertain=True)
        if response.status_code != 200:
            error = _error_code(response.body) or f"HTTP {response.status_code}"
            if response.status_code == 429:
                error = "ratelimited"
            hint = failures.hint(error, channel=shown)
            if not hint and response.status_code in (403, 404):
                hint = failures.hint("no_service")
            raise ServiceError(failures.SERVICE, request, error, hint=hint)
        # No ts comes back; a stable local id lets the ledger record that the post happened.
        digest = hashlib.sha256((message.metadata_key or rendered.text).encode()).hexdigest()[:16]
        return ChatRef(SERVICE, channel.id, f"webhook-{digest}")

    def update(self, ref: ChatRef, message: ChatMessage) -> None:
        """Nothing: a webhook cannot edit what it posted."""

    def react(self, ref: ChatRef, emoji: str) -> None:
        """Nothing: a webhook cannot react."""

    def find(self, channel: Channel, key: str, *, thread: ChatRef | None = None) -> ChatRef | None:
        """Always None: a webhook cannot read the channel back."""
        return None


def _error_code(body: str) -> str:
    """Slack's webhook errors are one word (`channel_not_found`); anything else (an HTML
    page from a proxy, say) is not repeated."""
    word = (body or "").strip()
    return word if word.replace("_", "").isalnum() and len(word) <= 64 else ""
