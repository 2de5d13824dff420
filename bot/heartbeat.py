"""A dead-man's switch: every successful tick pings OUTAGE_BOT_HEARTBEAT_URL (Healthchecks,
Cronitor, Dead Man's Snitch, a Better Stack heartbeat...), so something outside the CI pages
the team when the ticks stop: a disabled schedule, a runner that never starts. outage-bot
cannot say it stopped; only something that expects to hear from it can.

The URL is a secret (anyone holding it can say "all is well"): it is never printed.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from bot import __version__

TIMEOUT = 10.0


def ping(url: str, *, timeout: float = TIMEOUT) -> str:
    """GET the URL; one line for the log, naming the outcome, never the URL."""
    if not url.startswith(("https://", "http://")):
        return "heartbeat: OUTAGE_BOT_HEARTBEAT_URL is not an http(s) URL: not pinged"
    request = urllib.request.Request(url, headers={"User-Agent": f"outage-bot/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # http(s) only: checked above
            return f"heartbeat: pinged (HTTP {answer.status})"
    except urllib.error.HTTPError as exc:
        return f"heartbeat: the ping was refused (HTTP {exc.code}): the switch will page if this goes on"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"heartbeat: the ping failed ({type(reason).__name__}): the switch will page if this goes on"
