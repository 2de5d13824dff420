"""Fault injection shared by the fake services (GitHub, GitLab, Slack, the plain endpoint).

A write can fail in two ways that matter to a client, and a fake must be able to do both:
- *before* it is carried out: an error status (a 4xx, a 429 with Retry-After, a 503 from a
  proxy that never reached the service), or the connection closed with no answer;
- *after* it is carried out: the service stored the comment, issue or message, and then the
  answer is lost: a 5xx from a proxy that gave up waiting, the connection closed before any
  answer, an answer cut short (a Content-Length longer than the body that arrives), or no
  answer until the client's timeout.

`Fault.answer` is an HTTP status (the fake renders its own error body for it) or one of:
  "drop"      close the connection without answering;
  "truncate"  send the real status and headers, then half the body, then close;
  "cut"       the same without a Content-Length: the body just ends with the connection, so
              the client gets a status and a body that is not whole JSON;
  "hang"      answer nothing for `hang` seconds (past the client's timeout), then close.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

DROP, TRUNCATE, CUT, HANG = "drop", "truncate", "cut", "hang"
ANSWERS = (DROP, TRUNCATE, CUT, HANG)


@dataclass
class Fault:
    """The next `times` requests that match fail like this."""

    method: str  # "POST", or a Slack API method name ("chat.postMessage", "webhook")
    path: re.Pattern[str]
    performed: bool  # True: the request is carried out first, then the answer is lost
    answer: int | str  # an HTTP status, or one of ANSWERS
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 3.0

    def __post_init__(self) -> None:
        if isinstance(self.answer, str) and self.answer not in ANSWERS:
            raise ValueError(f"answer must be an HTTP status or one of {ANSWERS}, not {self.answer!r}")
        if self.answer in (TRUNCATE, CUT) and not self.performed:
            raise ValueError("a truncated answer is the real answer cut short: use performed=True")

    @property
    def status(self) -> int | None:
        return self.answer if isinstance(self.answer, int) else None


def make_fault(method: str, path: str, *, performed: bool, answer: int | str, times: int = 1,
               headers: dict[str, str] | None = None, retry_after: int | None = None, hang: float = 3.0) -> Fault:
    extra = dict(headers or {})
    if retry_after is not None:
        extra["Retry-After"] = str(retry_after)
    return Fault(method, re.compile(path), performed, answer, times, extra, hang)


def take(faults: list[Fault], method: str, path: str) -> Fault | None:
    """The first live fault matching METHOD and PATH (a regex search), used up by one."""
    for fault in faults:
        if fault.times > 0 and fault.method == method and fault.path.search(path):
            fault.times -= 1
            return fault
    return None


def lose_answer(handler: BaseHTTPRequestHandler, fault: Fault, status: int, headers: dict[str, str], data: bytes) -> None:
    """Write what `fault` leaves of the answer (status, headers, data) to the client. Only for
    the string answers; a status answer is rendered by the fake itself."""
    if fault.answer == HANG:
        time.sleep(fault.hang)
    if fault.answer in (TRUNCATE, CUT):
        handler.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "connection"):
                handler.send_header(key, value)
        if fault.answer == TRUNCATE:
            handler.send_header("Content-Length", str(len(data)))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(data[: max(1, len(data) // 2)])
        handler.wfile.flush()
    # drop, hang, and the rest of a truncated answer: the connection closes with nothing more
    handler.close_connection = True
