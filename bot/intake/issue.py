"""The source issue the bot opens for an alert: its title, its body (the evidence) and the
marker that finds it again.

Every value of the payload is someone else's text (an alert's labels and annotations come from
whatever Prometheus scraped; a Sentry title from an exception message): each goes through
bot.text's filters, so it shows as sent and can never mention, reference, link or run a quick
action. Only an http(s) URL that `safe_url` accepts becomes a link.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from bot.intake.payloads import Alert, Evidence
from bot.text import md_code, md_inline, plain_title, safe_url

MARKER_RE = re.compile(r"<!-- outage-bot:alert=([0-9a-f]{32}) -->")
MAX_SHOWN = 20  # alerts of a group written out; the rest are counted
MAX_BODY = 50_000  # GitHub refuses bodies over 65,536 characters; the ledger and notices link here
NAME_LIMIT = 100
VALUE_LIMIT = 500


def group_marker(alert: Alert) -> str:
    """In the body of the issue opened for the alert's group. A hash, not the key itself: a
    groupKey is the sender's text (`{}/{severity="critical"}:{alertname="..."}`) and may hold
    anything, `-->` included."""
    digest = hashlib.sha256(f"{alert.source}\n{alert.group}".encode()).hexdigest()[:32]
    return f"<!-- outage-bot:alert={digest} -->"


def issue_title(alert: Alert) -> str:
    return plain_title(alert.title)


def resolution_note(alert: Alert, now: datetime) -> str:
    """What the resolution says (and users are told)."""
    return f"resolved by {alert.source} at {_time(alert.ended or now)}"


def issue_body(alert: Alert) -> str:
    """The evidence, as inert Markdown, with the group's marker at the end."""
    since = f", firing since {_time(alert.started)}" if alert.started else ""
    lines = [f"**Alert from {alert.source}** ({alert.what}{since}): {md_inline(alert.title, VALUE_LIMIT)}", ""]
    link = _link(alert.link, f"Open in {alert.source}")
    if link:
        lines += [link, ""]
    if alert.facts:
        lines += [f"- {md_inline(name, NAME_LIMIT)}: {md_inline(value, VALUE_LIMIT)}" for name, value in alert.facts]
        lines.append("")
    if alert.source == "Alertmanager":
        lines.append(f"### Alerts ({len(alert.evidence) + alert.truncated})")
        lines.append("")
        shown = 0
        for i, evidence in enumerate(alert.evidence[:MAX_SHOWN], 1):
            section = _alert_section(i, evidence)
            if sum(len(line) + 1 for line in lines + section) > MAX_BODY:
                break
            lines += section
            shown = i
        left = len(alert.evidence) - shown + alert.truncated
        if left:
            lines += [f"… and {left} more alert(s) not shown here: see {alert.source}.", ""]
    lines.append("The bot opened this issue for the alert, and declares and resolves the incident as the alert fires and "
                 "resolves. Acknowledge and resolve it here as any other.")
    lines.append("")
    lines.append(group_marker(alert))
    return "\n".join(lines) + "\n"


def _alert_section(number: int, evidence: Evidence) -> list[str]:
    head = f"#### {number}. {evidence.status}"
    if evidence.started:
        head += f", started {_time(evidence.started)}"
    if evidence.ended:
        head += f", ended {_time(evidence.ended)}"
    lines = [head, ""]
    if evidence.labels:
        labels = ", ".join(md_code(f"{name}={value}", NAME_LIMIT + VALUE_LIMIT) for name, value in evidence.labels)
        lines.append(f"- labels: {labels}")
    for name, value in evidence.annotations:
        lines.append(f"- {md_inline(name, NAME_LIMIT)}: {md_inline(value, VALUE_LIMIT)}")
    link = _link(evidence.link, "source")
    if link:
        lines.append(f"- {link}")
    if evidence.fingerprint:
        lines.append(f"- fingerprint: {md_code(evidence.fingerprint, NAME_LIMIT)}")
    lines.append("")
    return lines


def _link(url: str, text: str) -> str:
    """A link when `safe_url` takes the URL; else the URL shown as code (never linked); else ""."""
    if not url:
        return ""
    good = safe_url(url)
    if good:
        return f"[{text}]({good})"
    return f"{text}: {md_code(url, VALUE_LIMIT)}"


def _time(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "unknown"
