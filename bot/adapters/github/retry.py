"""How the GitHub adapter retries: PyGithub's `GithubRetry`, minus repeats that could duplicate.

GithubRetry retries 5xx and rate-limit 403s (waiting out `Retry-After`, or `secondary_rate_wait`
when GitHub only says so in the body). It also retries POST on a 5xx, and a 502 on
`POST .../comments` can come *after* GitHub stored the comment: repeating it would post it twice.
So the REST client retries a POST only when GitHub rate-limited it (403/429: GitHub did nothing),
and leaves the rest to the next run, which finds what was done by its markers.
GraphQL goes through a second client that may repeat POSTs: pin and unpin are idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from urllib3 import Retry

from github.GithubRetry import GithubRetry

# Methods that are safe to repeat (RFC 9110 §9.2.2) plus PATCH, which we only use to set a
# body or a state to a fixed value.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


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
    """GithubRetry that repeats a POST only when it was rate-limited (unless `retry_posts`)."""

    def __init__(self, *, retry_posts: bool = False, **kwargs: Any) -> None:
        self.retry_posts = retry_posts
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> OutageBotRetry:
        kw["retry_posts"] = self.retry_posts
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST" and status_code in (403, 429):
            # Rate limited: GitHub did not act on the request, so even a POST is safe to repeat.
            # (GithubRetry.increment still refuses a 403 that is not a rate limit.)
            return True
        return super().is_retry(method, status_code, has_retry_after)


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
