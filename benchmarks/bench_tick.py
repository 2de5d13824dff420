"""How long the pure engine takes to plan one tick over 1,000 active incidents.

Run: python benchmarks/bench_tick.py   (from the repository root; not a timed test)

No I/O: for each incident the tick decides whether to look (status index), plans the
tick (escalation, reminders, breach notices) and computes when it is next due. Incidents
are spread over the last two days, so the mix has fresh ones, ones due an escalation or a
reminder, and breached ones; a quarter are acknowledged.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout

from bot.config import load
from bot.events import Event, EventKind
from bot.incident import Incident
from bot.planner import ForgeInfo, plan
from bot.policy import Policy
from bot.records import ForgeCapabilities, Issue
from bot.resources import default_policy_path
from bot.schedule import next_due
from bot.status_index import Entry, entry_for, needs_look

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
COUNT = 1000
REPEAT = 7
INFO = ForgeInfo("github", ForgeCapabilities(pinning=True, confidential_issues=False, incident_issue_type=False))


Work = list[tuple[Incident, Issue, Entry]]


def incidents(policy: Policy, seed: int = 6) -> Work:
    """Each incident, its issue as the search lists it, and its index entry as the previous
    tick (10 minutes ago) wrote it: a tick reads entries from the status issue, it does not
    compute them, so they are built here, outside the timing."""
    rng = random.Random(seed)
    severities = list(policy.severities)
    out = []
    for n in range(1, COUNT + 1):
        severity = rng.choice(severities)
        since = NOW - timedelta(minutes=rng.randrange(0, 48 * 60))
        acknowledged = rng.random() < 0.25
        incident = Incident(source=n, severity=severity, kind=None, status="acknowledged" if acknowledged else "active",
                            title=f"incident {n}", declared_at=since, severity_since=since,
                            acknowledged_at=since + timedelta(minutes=5) if acknowledged else None,
                            acknowledged_by="taylor" if acknowledged else None,
                            tagged=tuple(policy.severities[severity].tag), notified=tuple(policy.severities[severity].notify),
                            outage_issue=COUNT + n)
        issue = Issue(number=n, title=incident.title, body="", labels=tuple(policy.severities[severity].labels[:1]),
                      state="open", url=f"https://github.com/acme/shop/issues/{n}", author="reporter",
                      created_at=since, updated_at=since, eyes=0)
        out.append((incident, issue, entry_for(incident, issue, policy, NOW - timedelta(minutes=10))))
    return out


def one_tick(policy: Policy, work: Work) -> Counter[str]:
    counts: Counter[str] = Counter()
    for incident, issue, entry in work:
        if not needs_look(entry, issue, incident.severity, NOW):
            counts["skipped"] += 1
            continue
        planned = plan(Event(kind=EventKind.TICK, issue=issue, actor="outage-bot", at=NOW), incident, NOW, policy, INFO)
        next_due(incident, policy, NOW)
        counts["planned"] += 1
        counts["actions"] += len(planned.actions)
    return counts


def main() -> None:
    policy, _ = load(default_policy_path())
    work = incidents(policy)
    counts = one_tick(policy, work)
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        one_tick(policy, work)
        times.append(time.perf_counter() - start)
    print(f"{COUNT} active incidents: {counts['planned']} due and planned ({counts['actions']} actions), "
          f"{counts['skipped']} skipped by the index")
    print(f"tick planning   best {min(times) * 1000:8.2f} ms   median {statistics.median(times) * 1000:8.2f} ms")
    # the worst case: the index is lost and every incident is planned
    start = time.perf_counter()
    for incident, issue, _ in work:
        plan(Event(kind=EventKind.TICK, issue=issue, actor="outage-bot", at=NOW), incident, NOW, policy, INFO)
        next_due(incident, policy, NOW)
    print(f"plan all {COUNT} (no index)   {(time.perf_counter() - start) * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
