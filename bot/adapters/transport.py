"""How an HTTP request failed, as the adapters need to know it: could it have reached the service?

A request that got no whole answer may still have been carried out: the service stored the
comment or the message, then the connection dropped, the client timed out, or the answer
arrived cut short. For a write that must happen once (open an issue, post a comment or a
chat message) the adapter then raises `ServiceError(uncertain=True)`, and the executor looks
the write up by its key before it tries again. Only a request that provably never left
(refused connection, unknown host, a connect timeout, a URL the client would not send) is
certain to have done nothing.

Works on the exception chains of requests/urllib3 (PyGithub, python-gitlab, Apprise) and of
urllib (slack_sdk).
"""

from __future__ import annotations

import errno
import http.client
import json
import socket
from collections.abc import Iterator
from urllib.error import URLError

import requests
from urllib3.exceptions import ConnectTimeoutError, LocationParseError

# Errors that happen before a byte of the request is sent. urllib3's NewConnectionError and
# NameResolutionError are ConnectTimeoutError subclasses.
_NOT_SENT: tuple[type[BaseException], ...] = (
    ConnectionRefusedError,
    socket.gaierror,
    ConnectTimeoutError,
    LocationParseError,
    requests.exceptions.ConnectTimeout,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)
# errno of a socket that never connected (urllib wraps them in URLError)
_UNREACHABLE = frozenset({errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL})

_TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError, socket.timeout, requests.exceptions.ReadTimeout)
_CUT_SHORT: tuple[type[BaseException], ...] = (
    http.client.IncompleteRead,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    json.JSONDecodeError,
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: `__cause__`, urllib's and urllib3's `reason`, exceptions among
    `args` (requests wraps urllib3's MaxRetryError there, urllib3 http.client's errors).
    `__context__` is left out: an earlier, handled failure (a refused first try that was
    retried) must not speak for the last one."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, getattr(current, "reason", None), *current.args]
        todo.extend(x for x in inner if isinstance(x, BaseException))


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly never reached the service."""
    for part in _chain(exc):
        if isinstance(part, _NOT_SENT):
            return True
        if isinstance(part, URLError) and isinstance(part.reason, OSError) and part.reason.errno in _UNREACHABLE:
            return True
    return False


def may_have_arrived(exc: BaseException) -> bool:
    """True when the request may have been carried out although no whole answer came back."""
    return not never_sent(exc)


def what_happened(exc: BaseException) -> str:
    """A few words on how the exchange ended, for a ServiceError's detail (no URL, no token)."""
    parts = list(_chain(exc))
    if never_sent(exc):
        return "no answer: could not connect"
    if any(isinstance(p, _CUT_SHORT) for p in parts):
        return "the answer was cut short"
    if any(isinstance(p, _TIMEOUTS) for p in parts) or "timed out" in str(exc).lower():
        return "no answer within the timeout"
    return "no answer: the connection closed first"
