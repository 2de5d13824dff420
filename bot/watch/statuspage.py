"""A Statuspage page read as one check. Pure.

Shapes (Atlassian Statuspage's public API, as https://www.githubstatus.com/api and
https://status.gitlab.com document it; examples in tests/fixtures/watch/):

- `/api/v2/status.json`: `page` {id, name, url, updated_at}, `status` {indicator: none |
  minor | major | critical, description: "All Systems Operational"}.
- `/api/v2/summary.json`: the same, plus `components[]` {id, name, status: operational |
  degraded_performance | partial_outage | major_outage | under_maintenance, group, ...},
  `incidents[]` (unresolved) {id, name, status, impact, shortlink, ...} and
  `scheduled_maintenances[]`.

With `components` the upstream is out when one of them is (maintenance is not an outage);
without, when the page's indicator reaches `declare_from`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.policy import STATUSPAGE_LEVELS, Upstream
from bot.watch.state import Check

DOWN = ("degraded_performance", "partial_outage", "major_outage")


class NotAStatusPage(ValueError):
    """The body is not a Statuspage status.json or summary.json."""


def read(data: Any, upstream: Upstream, at: datetime) -> Check:
    if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
        raise NotAStatusPage("no `status` object (expected a Statuspage /api/v2/status.json or summary.json)")
    indicator = str(data["status"].get("indicator", ""))
    description = str(data["status"].get("description", ""))
    if indicator not in STATUSPAGE_LEVELS:
        raise NotAStatusPage(f"unknown status indicator {indicator[:40]!r} (expected one of {', '.join(STATUSPAGE_LEVELS)})")
    page = data["page"] if isinstance(data.get("page"), dict) else {}
    evidence: list[tuple[str, str]] = [("status", f"{indicator}: {description}")]
    if upstream.components:
        if not isinstance(data.get("components"), list):
            raise NotAStatusPage("no `components` list: watching components needs the page's summary.json")
        present = {str(c.get("name")): str(c.get("status")) for c in data["components"] if isinstance(c, dict)}
        watched = [(name, present.get(name, "missing")) for name in upstream.components]
        evidence += [(f"component {name}", status) for name, status in watched]
        ok = not any(status in DOWN for _, status in watched)
    else:
        ok = STATUSPAGE_LEVELS.index(indicator) < STATUSPAGE_LEVELS.index(upstream.declare_from)
    incidents = [i for i in data.get("incidents") or () if isinstance(i, dict)]
    link = ""
    for incident in incidents[:5]:
        evidence.append((f"incident ({incident.get('impact', '?')}, {incident.get('status', '?')})", str(incident.get("name", ""))))
        link = link or str(incident.get("shortlink") or "")
    link = link or str(page.get("url") or "")
    down = [f"{name}: {status}" for name, status in evidence if name.startswith("component ") and status in DOWN]
    summary = f"{indicator}: {description}" + (f" ({'; '.join(down)})" if down else "")
    return Check(ok=ok, at=at, summary=summary, evidence=tuple(evidence), link=link)
