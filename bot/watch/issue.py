"""The issue the bot opens for a probe or an upstream, and what it says when it resolves. Pure.

The evidence is someone else's text (a target's body, an upstream's incident names): each
value goes through bot.text's filters, so it shows as sent and can never mention, reference,
link or run a quick action. Only an http(s) URL `safe_url` accepts becomes a link.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

from bot.durations import format_duration
from bot.text import md_code, md_inline, safe_url
from bot.watch.state import Check, WatchState

MARKER_RE = re.compile(r"<!-- outage-bot:monitor=([0-9a-f]{32}) -->")
VALUE_LIMIT = 500


def marker(section: str, name: str, url: str) -> str:
    """In the issue's body: how the next tick finds it. A hash of the probe's name and where it
    looks, so renaming or repointing a probe starts afresh."""
    digest = hashlib.sha256(f"{section}\n{name}\n{url}".encode()).hexdigest()[:32]
    return f"<!-- outage-bot:monitor={digest} -->"


def shown_url(url: str) -> str:
    """A URL as it may be printed: no user or password, and no query values (a token often
    rides there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    query = "&".join(f"{pair.partition('=')[0]}=…" for pair in parts.query.split("&") if pair) if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def title(section: str, name: str, check: Check, component: str | None = None) -> str:
    what = component or name
    if section == "upstreams":
        return f"Upstream: {what} is not operational"
    status = dict(check.evidence).get("status") or dict(check.evidence).get("error")
    return f"{what} is failing its probe" + (f" ({status})" if status else "")


def body(section: str, name: str, url: str, state: WatchState, checks: list[Check], *, fail_after: int,
         recover_after: int) -> str:
    latest = checks[-1]
    lines: list[str]
    if section == "upstreams":
        lines = [(f"**Upstream {md_inline(name, 100)}** is not operational, as its status page says: "
                  f"{md_inline(latest.summary, VALUE_LIMIT)}."), ""]
        link = safe_url(latest.link)
        lines += [f"Its status: [{md_inline(shown_url(link), 200)}]({link})" if link else f"Its status page: {md_code(shown_url(url))}", ""]
        lines += ["Nothing for us to fix: users are told, and the bot resolves this when the page says operational again.", ""]
    else:
        since = state.since or latest.at
        lines = [(f"**Probe {md_inline(name, 100)}** failed {fail_after} check(s) in a row, since {_time(since)}: "
                  f"{md_inline(latest.summary, VALUE_LIMIT)}."), "",
                 f"- checked: {md_code(shown_url(url))}",
                 f"- last check: {_time(latest.at)}"]
        lines.append("")
    if latest.evidence:
        lines += [f"- {md_inline(k, 100)}: {md_code(v, VALUE_LIMIT) if k == 'body' else md_inline(v, VALUE_LIMIT)}"
                  for k, v in latest.evidence]
        lines.append("")
    if section == "probes":
        lines.append(f"The bot opened this issue for the probe and resolves the incident after {recover_after} good "
                     "check(s) in a row. Acknowledge and resolve it here as any other.")
        lines.append("")
    return "\n".join(lines) + marker(section, name, url) + "\n"


def recovery_note(section: str, state: WatchState, check: Check) -> str:
    """The resolution's note (users are told it too)."""
    if section == "upstreams":
        return f"the upstream is operational again ({check.summary}), seen at {_time(check.at)}"
    down = f", down for {_for(check.at - state.since)}" if state.since else ""
    return f"recovered at {_time(check.at)}{down} ({check.summary})"


def _for(span: timedelta) -> str:
    return format_duration(timedelta(minutes=max(1, round(span.total_seconds() / 60))))


def _time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
