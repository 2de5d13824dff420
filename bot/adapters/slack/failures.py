"""Retries for Slack calls, and failures turned into ServiceErrors that say what to fix.

slack_sdk retries only what its handlers allow; its own default is connection errors, once.
Ours:
- rate limits (429): every call, posts included (Slack did nothing), after the Retry-After
  Slack sends, but never a wait longer than `max_wait` (a CI job must not sleep for an hour);
- server errors (5xx) and lost connections: only calls that are safe to repeat (chat.update,
  reactions.add, conversations.*). Never chat.postMessage nor a webhook post: Slack can
  answer 500, or the connection can drop, *after* it stored the message, and posting again
  would alert twice. Such a failure is a ServiceError with `uncertain=True`; the executor
  looks the message up by its metadata key (`SlackNotifier.find`) before it posts again.
A ServiceError names the API method and channel, Slack's error code, and one line of remedy,
never the token or the webhook URL (which is itself a secret).
"""

from __future__ import annotations

import random
import time
from collections.abc import Collection
from http.client import IncompleteRead, RemoteDisconnected
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError, SlackRequestError
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

from bot.adapters.transport import never_sent, what_happened
from bot.errors import ServiceError

SERVICE = "slack"
# Web API methods that post something new: never repeated after a failure that may have
# taken effect. Everything else we call is safe to repeat (an edit sets the same text, a
# reaction already there is `already_reacted`, reads change nothing).
POSTING_METHODS = frozenset({"chat.postMessage"})

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


_UNCERTAIN = (
    "Slack may have posted it before the answer was lost: outage-bot looks for it by its "
    "metadata before posting again (in this run or the next run), so it is not posted twice"
)
_UNCERTAIN_WEBHOOK = (
    "Slack may have posted it before the answer was lost; a webhook cannot read the channel "
    "back to check, so look in the channel before posting by hand"
)


def hint(error: str, *, channel: str = "", needed: str = "") -> str:
    template = HINTS.get(error)
    if template is None:
        return ""
    return template.format(channel=channel or "the channel", needed=needed or "it needs")


def _method(request: HttpRequest) -> str:
    """The Web API method a request calls ("chat.postMessage"), from its URL."""
    return urlsplit(request.url).path.rsplit("/", 1)[-1]


class ServerErrorRetry(ServerErrorRetryHandler):
    """slack_sdk's handler retries only 500 and 503; a proxy in front of Slack also answers
    502 and 504, which are just as transient. Calls in `once` are never repeated."""

    def __init__(self, *, once: Collection[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.once = frozenset(once)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599 and _method(request) not in self.once


class ConnectionErrorRetry(ConnectionErrorRetryHandler):
    """slack_sdk's handler, for the calls that are safe to repeat only (not those in `once`),
    and also after an answer cut short (IncompleteRead)."""

    def __init__(self, *, once: Collection[str], **kwargs: Any) -> None:
        super().__init__(error_types=[URLError, ConnectionResetError, RemoteDisconnected, IncompleteRead], **kwargs)
        self.once = frozenset(once)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method(request) in self.once:
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class RateLimitRetry(RateLimitErrorRetryHandler):
    """A 429 means Slack did nothing: every call may wait for Retry-After and go again, but a
    wait longer than `max_wait` is not waited out (the call fails as rate limited, and the
    next run retries). slack_sdk's own handler sleeps whatever the header says, plus up to a
    second of jitter; ours adds up to `jitter` seconds."""

    def __init__(self, *, max_wait: float, jitter: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_wait = max_wait
        self.jitter = jitter

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and _retry_after(response) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = _retry_after(response) if response is not None else 1.0
        time.sleep(wait + random.random() * self.jitter)
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    """Retry-After in seconds (Slack sends whole seconds); 1 when it is missing or unreadable."""
    for key, value in response.headers.items():
        if key.lower() == "retry-after":
            text = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(str(text)))
            except ValueError:
                return 1.0
    return 1.0


class ProportionalJitter(Jitter):
    """slack_sdk's RandomJitter adds up to a whole second to every wait; this adds up to one
    `scale`, so the jitter stays in proportion to the backoff (and tests stay fast)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.scale


def retry_handlers(
    *,
    backoff: float = 0.5,
    retries: int = 2,
    max_wait: float = 60.0,
    once: Collection[str] = POSTING_METHODS,
    posts_only: bool = False,
) -> list[RetryHandler]:
    """Rate limits wait for Retry-After (up to `max_wait`, plus up to `backoff` of jitter);
    connection and server errors back off exponentially from `backoff` seconds (0.5s, 1s by
    default) for the calls not in `once`. `posts_only`: every call posts (a webhook), so
    only rate limits are retried."""
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=ProportionalJitter(backoff))
    handlers: list[RetryHandler] = [RateLimitRetry(max_retry_count=retries, max_wait=max_wait, jitter=backoff)]
    if not posts_only:
        handlers += [
            ConnectionErrorRetry(once=once, max_retry_count=retries, interval_calculator=interval),
            ServerErrorRetry(once=once, max_retry_count=retries, interval_calculator=interval),
        ]
    return handlers


def uncertain_hint(*, webhook: bool = False) -> str:
    return _UNCERTAIN_WEBHOOK if webhook else _UNCERTAIN


def from_api_error(request: str, exc: SlackApiError, *, channel: str = "", once: bool = False) -> ServiceError:
    """`once`: the call posts a message; its failure is `uncertain` when Slack may have
    posted it anyway (a 5xx, or `internal_error` / `fatal_error`, which Slack documents as
    "it's possible some aspect of the operation succeeded")."""
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
    uncertain = once and (status >= 500 or error in ("internal_error", "fatal_error"))
    return ServiceError(SERVICE, request, detail, hint=_UNCERTAIN if uncertain else detail_hint, uncertain=uncertain)


def reached_slack(exc: Exception) -> bool:
    """Whether a call that raised `exc` may have reached Slack (and so may have taken effect)."""
    return not isinstance(exc, SlackRequestError) and not never_sent(exc)


def from_transport_error(request: str, exc: Exception, *, once: bool = False) -> ServiceError:
    """A call that got no whole answer. `once`: it posts a message, and unless it certainly
    never reached Slack (refused, unknown host) the failure is `uncertain`."""
    reason = exc.reason if isinstance(exc, URLError) else exc
    if not reached_slack(exc):
        return ServiceError(
            SERVICE,
            request,
            f"could not reach Slack: {type(reason).__name__}: {reason}",
            hint="check the runner's network access to Slack (and SLACK_API_URL if set); the next run retries",
        )
    return ServiceError(
        SERVICE,
        request,
        f"{what_happened(exc)} ({type(reason).__name__})",
        hint=_UNCERTAIN if once else "Slack or the network dropped the answer; the next run retries",
        uncertain=once,
    )
