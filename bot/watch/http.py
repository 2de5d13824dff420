"""The checks, over HTTP with httpx: every probe and upstream of a tick at once, each with its
own timeout, so a tick waits for the slowest, not the sum.

Nothing here is printed as sent: header values (tokens, read from the environment) never
appear, URLs are shown without credentials or query values (`issue.shown_url`), and a
target's body is kept to its first bytes, as evidence.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.extras import needs
from bot.watch import statuspage
from bot.watch.state import Check

if TYPE_CHECKING:
    import httpx

    from bot.policy import Policy, Probe, Upstream

BODY_SHOWN = 300  # first characters of a failing target's body kept as evidence
BODY_READ = 1_000_000  # a status page or a target's body is read up to this many bytes
WORKERS = 16
VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Unchecked(Exception):
    """A check that could not be made for a reason of ours (a header's variable is not set):
    neither a failure nor a success; said in the run's output."""


def check_all(policy: Policy, now: datetime, environ: Mapping[str, str] | None = None,
              ) -> tuple[dict[str, Check], dict[str, Check | None], list[str]]:
    """(probe checks, upstream checks (None: its page could not be read), problems to say)."""
    env = os.environ if environ is None else environ
    with needs("watch", "probes and upstreams"):
        import httpx
    problems: list[str] = []
    probes: dict[str, Check] = {}
    upstreams: dict[str, Check | None] = {}
    with httpx.Client(follow_redirects=True, headers={"User-Agent": "outage-bot"}, trust_env=False) as client, \
            ThreadPoolExecutor(max_workers=WORKERS) as pool:
        probe_jobs = {name: pool.submit(_probe, client, spec, now, env) for name, spec in policy.probes.items()}
        upstream_jobs = {name: pool.submit(_upstream, client, spec, now) for name, spec in policy.upstreams.items()}
        for name, job in probe_jobs.items():
            try:
                probes[name] = job.result()
            except Unchecked as exc:
                problems.append(f"probe {name}: not checked: {exc}")
        for name, ujob in upstream_jobs.items():
            try:
                upstreams[name] = ujob.result()
            except Unchecked as exc:
                problems.append(f"upstream {name}: not read: {exc}")
                upstreams[name] = None
    return probes, upstreams, problems


def _headers(spec: Probe, env: Mapping[str, str]) -> dict[str, str]:
    def value(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) not in env:
                raise Unchecked(f"the environment variable {match.group(1)} (in a header) is not set")
            return env[match.group(1)]
        return VAR_RE.sub(one, text)

    return {name: value(text) for name, text in spec.headers.items()}


def _probe(client: httpx.Client, spec: Probe, now: datetime, env: Mapping[str, str]) -> Check:
    import httpx

    headers = _headers(spec, env)
    started = time.perf_counter()
    try:
        with client.stream(spec.method, spec.url, headers=headers, timeout=spec.timeout.total_seconds()) as answer:
            body = _read(answer, BODY_READ)
    except httpx.TimeoutException:
        spent = time.perf_counter() - started
        return Check(ok=False, at=now, summary=f"no answer within {_ms(spent)}",
                     evidence=(("error", "timed out"), ("after", _ms(spent))))
    except httpx.HTTPError as exc:
        # The exception's text may hold the URL (with its query): only its class is shown.
        return Check(ok=False, at=now, summary=f"no answer ({type(exc).__name__})", evidence=(("error", type(exc).__name__),))
    spent = time.perf_counter() - started
    text = body.decode("utf-8", "replace")
    wrong: list[str] = []
    if answer.status_code not in spec.expect_status:
        wrong.append(f"HTTP {answer.status_code}, expected {' or '.join(map(str, spec.expect_status))}")
    if spec.expect_body is not None and spec.expect_body not in text:
        wrong.append("the body lacks the expected text")
    if spec.max_latency is not None and timedelta(seconds=spent) > spec.max_latency:
        wrong.append(f"slower than {_ms(spec.max_latency.total_seconds())}")
    evidence = [("status", f"HTTP {answer.status_code}"), ("latency", _ms(spent))]
    if wrong:
        evidence += [("wrong", "; ".join(wrong)), ("body", text[:BODY_SHOWN] + ("…" if len(text) > BODY_SHOWN else ""))]
    return Check(ok=not wrong, at=now, summary=f"HTTP {answer.status_code} in {_ms(spent)}", evidence=tuple(evidence))


def _upstream(client: httpx.Client, spec: Upstream, now: datetime) -> Check:
    """An upstream whose page cannot be read is not known to be down: Unchecked, not a failure."""
    import httpx

    try:
        with client.stream("GET", spec.url, timeout=spec.timeout.total_seconds()) as answer:
            body = _read(answer, BODY_READ)
    except httpx.HTTPError as exc:
        raise Unchecked(f"its status page did not answer ({type(exc).__name__})") from None
    if answer.status_code != 200:
        raise Unchecked(f"its status page answered HTTP {answer.status_code}")
    try:
        return statuspage.read(json.loads(body), spec, now)
    except (ValueError, statuspage.NotAStatusPage) as exc:
        raise Unchecked(f"its status page is not Statuspage JSON: {str(exc)[:200]}") from None


def _read(answer: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
