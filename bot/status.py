"""The status index: a bot-owned issue listing active incidents and their history.

It is what users watch (Packit's status page; on GitLab, which has no pinning, the
equivalent of the pinned notice), and it lets a tick with nothing due cost one listing: each
entry says when its incident next needs the bot, so the tick reads a ledger only when
something is due or the issue changed since the bot last looked. Pure functions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.ledger import Incident
from bot.planner import deadline_of
from bot.policy import Policy
from bot.records import Issue

HISTORY = 30  # resolved incidents kept on the status page
HEARTBEAT = timedelta(minutes=30)  # the index records the tick at least this often
STALE_TICK = timedelta(hours=1)  # a gap longer than this is reported in the outage issue


@dataclass(frozen=True)
class Entry:
    severity: str
    status: str
    title: str
    url: str
    declared_at: datetime
    next_due: datetime | None
    seen: datetime  # the issue's updated_at when the bot last read its ledger
    eyes: int | None = None
    outage_issue: int | None = None
    outage_url: str | None = None


@dataclass(frozen=True)
class Index:
    entries: dict[int, Entry] = field(default_factory=dict)
    history: tuple[dict[str, Any], ...] = ()
    last_tick: datetime | None = None
    done: frozenset[str] = frozenset()  # keys of global actions (handoff notices)

    def to_data(self) -> dict[str, Any]:
        return {
            "entries": {str(n): e.__dict__ for n, e in self.entries.items()},
            "history": list(self.history),
            "last_tick": self.last_tick,
            "done": sorted(self.done)[-200:],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Index:
        if not data:
            return cls()
        entries = {int(n): Entry(**e) for n, e in data.get("entries", {}).items()}
        return cls(entries=entries, history=tuple(data.get("history", ())), last_tick=data.get("last_tick"),
                   done=frozenset(data.get("done", ())))


def next_due(incident: Incident, policy: Policy, now: datetime) -> datetime | None:
    """The next moment after `now` at which a tick has something to do for this incident."""
    if not incident.active:
        return None
    spec = policy.severities[incident.severity]
    since = incident.severity_since
    times: list[datetime] = []
    if incident.status == "active":
        if spec.acknowledge_within:
            times.append(since + spec.acknowledge_within)
        times += [since + step.after for step in spec.escalation]
    deadline = deadline_of(incident, policy)
    if deadline is not None:
        times += [deadline - off for off in spec.reminders()]
        if now < deadline:
            times.append(deadline)
        else:
            n = int((now - deadline) / spec.breach_repeat) + 1
            times.append(deadline + n * spec.breach_repeat)
    future = [t for t in times if t > now]
    return min(future) if future else None


def needs_look(entry: Entry | None, issue: Issue, severity: str | None, now: datetime) -> bool:
    """Must the tick read this issue's ledger? Only when something may have changed or is due."""
    if entry is None:
        return True
    if entry.next_due is not None and entry.next_due <= now:
        return True
    if issue.updated_at > entry.seen or severity != entry.severity:
        return True
    return entry.status == "active" and issue.eyes is not None and issue.eyes > (entry.eyes or 0)


def entry_for(incident: Incident, issue: Issue, policy: Policy, now: datetime) -> Entry:
    return Entry(severity=incident.severity, status=incident.status, title=incident.title, url=issue.url,
                 declared_at=incident.declared_at, next_due=next_due(incident, policy, now),
                 seen=max(issue.updated_at, now), eyes=issue.eyes,
                 outage_issue=incident.outage_issue, outage_url=incident.outage_url)


def record_resolved(index: Index, number: int, incident: Incident) -> Index:
    entries = dict(index.entries)
    entries.pop(number, None)
    item = {"source": number, "title": incident.title, "severity": incident.severity, "status": incident.status,
            "declared_at": incident.declared_at, "resolved_at": incident.resolved_at,
            "resolution": incident.resolution, "outage_url": incident.outage_url or ""}
    history = tuple(h for h in index.history if not (h["source"] == number and h["declared_at"] == incident.declared_at))
    return replace(index, entries=entries, history=((item,) + history)[:HISTORY])
