"""How the GitHub adapter retries: PyGithub's `GithubRetry`, minus every repeat that could duplicate.

GithubRetry retries 5xx and rate-limit 403s (waiting out `Retry-After`, or `secondary_rate_wait`
when GitHub only says so in the body). Out of the box it also repeats a POST after a 5xx, and
urllib3 repeats any request after an "other" error (TLS, say). A 502 or a dropped connection on
`POST .../comments` or `POST .../issues` can come *after* GitHub stored the comment or opened
the issue: repeating it would post it twice. So:
- the REST client never repeats a POST that may have reached GitHub: not after a 5xx, a lost or
  cut answer, or a timeout. The forge raises `ServiceError(uncertain=True)` and the executor
  looks the write up by its key (comment marker, issue marker) before it tries again;
- a POST that was rate limited (403 secondary limit, 429: GitHub did nothing) is repeated
  after the wait GitHub asks for;
- a refused connection is repeated for every method: nothing was sent;
- GraphQL (pin, unpin, list pinned) and label additions go through a client that repeats
  POSTs too: pinning, unpinning or adding a label twice changes nothing.
Every wait is bounded by `max_rate_limit_wait`: a Retry-After beyond it is not waited out (the
request fails, the next run finishes the job) so a CI job never sleeps for an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from urllib3 import Retry
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.util import reraise

from github.GithubRetry import GithubRetry

# Methods that are safe to repeat (RFC 9110 §9.2.2) plus PATCH, which we only use to set a
# body or a state to a fixed value.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
_RATE_LIMITED = (403, 429)


@dataclass(frozen=True)
class RetrySettings:
    """Retry and pacing knobs; tests shrink the waits."""

    total: int = 4
    backoff_factor: float = 1.0  # 0s, 2s, 4s, ... between 5xx retries (urllib3's formula)
    backoff_max: float = 30.0
    secondary_rate_wait: float = 60.0  # GitHub's advice when a secondary limit gives no Retry-After
    max_rate_limit_wait: float = 300.0  # never sleep longer than this in a CI job
    # PyGithub's own pacing between requests and between writes (GitHub's best-practice advice
    # against secondary rate limits). None: no pause (tests).
    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0


FAST = RetrySettings(
    total=3,
    backoff_factor=0.002,
    backoff_max=0.01,
    secondary_rate_wait=0.01,
    max_rate_limit_wait=2.0,
    seconds_between_requests=None,
    seconds_between_writes=None,
)


class OutageBotRetry(GithubRetry):
    """GithubRetry that repeats a POST only when it was rate-limited (unless `retry_posts`),
    and waits no longer than `max_rate_limit_wait` for any Retry-After."""

    def __init__(self, *, retry_posts: bool = False, **kwargs: Any) -> None:
        self.retry_posts = retry_posts
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> OutageBotRetry:
        kw["retry_posts"] = self.retry_posts
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST" and status_code in _RATE_LIMITED:
            # Rate limited: GitHub did not act on the request, so even a POST is safe to repeat.
            # (GithubRetry.increment still refuses a 403 that is not a rate limit.)
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        if error is not None and not self._is_connection_error(error) and not self._is_method_retryable(method or ""):
            # urllib3 repeats "other" errors (a TLS error mid-answer, say) for every method; a
            # request that may have arrived is not repeated unless it is safe to repeat.
            raise reraise(type(error), error, _stacktrace)
        if response is not None and self.max_rate_limit_wait is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_rate_limit_wait:
                # Give up now: with raise_on_status=False urllib3 hands GitHub's answer back and
                # PyGithub raises it (a rate limit the next run gets past).
                reason = ResponseError(f"Retry-After {wait:.0f}s is longer than {self.max_rate_limit_wait:.0f}s")
                raise MaxRetryError(_pool, url or "", reason)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[arg-type]


def make_retry(settings: RetrySettings, *, retry_posts: bool) -> Retry:
    methods = _IDEMPOTENT | {"POST"} if retry_posts else _IDEMPOTENT
    return OutageBotRetry(
        retry_posts=retry_posts,
        total=settings.total,
        backoff_factor=settings.backoff_factor,
        backoff_max=settings.backoff_max,
        secondary_rate_wait=settings.secondary_rate_wait,
        max_rate_limit_wait=settings.max_rate_limit_wait,
        allowed_methods=methods,
        # GithubRetry adds 403; 429 is what GitHub also uses for secondary limits.
        status_forcelist=[*range(500, 600), 429],
        # When retries run out, hand back GitHub's last answer so PyGithub raises a
        # GithubException carrying the status and message (not a bare urllib3 RetryError).
        raise_on_status=False,
    )
