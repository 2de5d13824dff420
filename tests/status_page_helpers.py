"""Helpers for the status site's tests and benchmarks/bench_status_page.py: synthetic
incidents, reading a built site, and the Statuspage API's documented shape."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.incident import Incident
from bot.policy import Policy
from bot.status_page.model import PublicIncident, components_of, public_incident

SCHEMA = Path(__file__).parent / "fixtures" / "status_page" / "statuspage_v2.schema.json"
FORM = """### What is broken

{broken}

### Who is affected

Everyone using the {what}.

### Workaround

Retry after a minute.

### Upstream status

https://status.example.org/incidents/{n}
"""


def synthetic(count: int, now: datetime, policy: Policy, *, years: float = 5.0, active: int = 2) -> list[PublicIncident]:
    """`count` incidents spread evenly over `years` before `now`: the newest `active` still
    open, the rest resolved after one to twenty hours, some acknowledged, some of them with a
    severity change."""
    severities = list(policy.severities)
    kinds = [k for k, v in policy.kinds.items() if not v.confidential] or [None]
    components = components_of(policy)
    step = timedelta(days=365 * years) / max(count, 1)
    out: list[PublicIncident] = []
    for n in range(1, count + 1):
        start = now - step * (count - n) - timedelta(hours=1)
        severity = severities[n % len(severities)]
        kind = kinds[n % len(kinds)]
        history: tuple[tuple[str, datetime], ...] = ((severity, start),)
        if n % 5 == 0:
            history += ((severities[(n + 1) % len(severities)], start + timedelta(minutes=40)),)
        open_ = n > count - active
        incident = Incident(source=n, severity=history[-1][0], kind=kind, status="active" if open_ else "resolved",
                            title=f"Incident {n}: the service answers slowly", declared_at=start,
                            severity_since=history[-1][1], severity_history=history,
                            acknowledged_at=start + timedelta(minutes=20) if n % 2 else None,
                            resolved_at=None if open_ else start + timedelta(hours=1 + n % 20),
                            resolution="" if open_ else f"Rolled back change {n}.")
        body = FORM.format(broken=f"Requests to the service time out (incident {n}).", what="service", n=n)
        found = public_incident(incident, labels=[], body=body, policy=policy, components=components)
        assert found is not None
        out.append(found)
    return out


def site_text(files: dict[str, str | bytes]) -> str:
    return "\n".join(c.decode("utf-8") if isinstance(c, bytes) else c for c in files.values())


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
