"""Retries for Slack calls, and failures turned into ServiceErrors that say what to fix.

slack_sdk retries only what its handlers allow; its own default is connection errors, once.
We add rate limits (429 + Retry-After) and server errors, and a ServiceError names the API
method and channel, Slack's error code, and one line of remedy, never the token or the
webhook URL (which is itself a secret).
"""

from __future__ import annotations

import random
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    Jitter,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.errors import ServiceError

SERVICE = "slack"

_TOKEN = (
    "SLACK_BOT_TOKEN was refused: put the app's Bot User OAuth Token (xoxb-…, from "
    "OAuth & Permissions) in the CI secret; reinstall the app if it was removed"
)
_BUG = "Slack refused the message's shape: this is an outage-bot bug, please report it with this line"
_THEIRS = "Slack failed on its side: nothing is lost, the next run retries"
_WEBHOOK_GONE = (
    "SLACK_WEBHOOK_URL no longer works (webhook removed or app uninstalled): create a new "
    "incoming webhook and update the CI secret"
)

HINTS: dict[str, str] = {
    "channel_not_found": (
        "Slack has no channel {channel} that this app can see: check `channels:` in the policy "
        "(a channel id like C0123ABCD is safest); a private channel must have the app invited"
    ),
    "not_in_channel": (
        "the app is not a member of {channel}: type `/invite @<app name>` in that channel "
        "(it must be a member to post, react and read history there)"
    ),
    "is_archived": "{channel} is archived: unarchive it, or route to another channel in the policy",
    "channel_is_archived": "{channel} is archived: unarchive it, or create a webhook for another channel",
    "invalid_auth": _TOKEN,
    "not_authed": _TOKEN,
    "token_revoked": _TOKEN,
    "token_expired": _TOKEN,
    "account_inactive": _TOKEN,
    "missing_scope": (
        "the app lacks the scope {needed}: add it under OAuth & Permissions > Bot Token Scopes, "
        "reinstall the app, and update SLACK_BOT_TOKEN (reinstalling issues a new token)"
    ),
    "ratelimited": (
        "Slack is rate limiting this app: nothing is lost, the next run retries; if it keeps "
        "happening, schedule the tick less often"
    ),
    "rate_limited": "Slack is rate limiting this app: nothing is lost, the next run retries",
    "message_not_found": (
        "the incident's alert is no longer in {channel} (deleted?): the bot cannot edit or react "
        "to it; replies still go to its thread if Slack kept it"
    ),
    "cant_update_message": "the alert was posted by another app or token: was SLACK_BOT_TOKEN replaced by another app's?",
    "thread_not_found": "the incident's alert thread is gone from {channel} (deleted?)",
    "restricted_action": "a workspace admin restricts posting in {channel}: ask them to allow the app",
    "ekm_access_denied": "a workspace admin has suspended posting: ask them to allow the app",
    "msg_too_long": _BUG,
    "invalid_blocks": _BUG,
    "invalid_blocks_format": _BUG,
    "invalid_arguments": _BUG,
    "invalid_metadata_format": _BUG,
    "invalid_metadata_schema": _BUG,
    "invalid_name": _BUG,
    "no_text": _BUG,
    "invalid_payload": _BUG,
    "user_not_found": _BUG,
    "internal_error": _THEIRS,
    "fatal_error": _THEIRS,
    "service_unavailable": _THEIRS,
    "request_timeout": _THEIRS,
    "rollup_error": _THEIRS,
    "no_service": _WEBHOOK_GONE,
    "no_team": _WEBHOOK_GONE,
    "invalid_token": _WEBHOOK_GONE,
    "action_prohibited": "a workspace admin restricts this webhook from posting: ask them, or use a bot token",
}


def hint(error: str, *, channel: str = "", needed: str = "") -> str:
    template = HINTS.get(error)
    if template is None:
        return ""
    return template.format(channel=channel or "the channel", needed=needed or "it needs")


class ServerErrorRetry(ServerErrorRetryHandler):
    """slack_sdk's handler retries only 500 and 503; a proxy in front of Slack also answers
    502 and 504, which are just as transient."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599


class ProportionalJitter(Jitter):
    """slack_sdk's RandomJitter adds up to a whole second to every wait; this adds up to one
    `scale`, so the jitter stays in proportion to the backoff (and tests stay fast)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.scale


def retry_handlers(*, backoff: float = 0.5, retries: int = 2) -> list[RetryHandler]:
    """Rate limits wait for Retry-After (slack_sdk adds up to 1s of jitter); connection and
    server errors back off exponentially from `backoff` seconds: 0.5s, 1s by default."""
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=ProportionalJitter(backoff))
    return [
        RateLimitErrorRetryHandler(max_retry_count=retries),
        ConnectionErrorRetryHandler(max_retry_count=retries, interval_calculator=interval),
        ServerErrorRetry(max_retry_count=retries, interval_calculator=interval),
    ]


def from_api_error(request: str, exc: SlackApiError, *, channel: str = "") -> ServiceError:
    response = exc.response
    data: Any = getattr(response, "data", None)
    status = getattr(response, "status_code", 0)
    error = ""
    needed = ""
    if isinstance(data, dict):
        error = str(data.get("error") or "")
        needed = str(data.get("needed") or "")
    if not error:
        error = "ratelimited" if status == 429 else f"HTTP {status}"
    elif status >= 500 and not error.isidentifier():
        # slack_sdk's own message for a body that is not JSON (an HTML error page, say)
        error = f"HTTP {status}"
    if status >= 500 and error not in HINTS:
        detail_hint = _THEIRS
    else:
        detail_hint = hint(error, channel=channel, needed=needed)
    detail = f"{error} (needed: {needed})" if needed else error
    return ServiceError(SERVICE, request, detail, hint=detail_hint)


def from_transport_error(request: str, exc: Exception) -> ServiceError:
    reason = exc.reason if isinstance(exc, URLError) else exc
    return ServiceError(
        SERVICE,
        request,
        f"could not reach Slack: {type(reason).__name__}: {reason}",
        hint="check the runner's network access to Slack (and SLACK_API_URL if set); the next run retries",
    )
