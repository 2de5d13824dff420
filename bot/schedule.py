"""When an incident needs the bot: the time rules, in one place. Pure.

The planner asks what is due now (`escalations`, `reminder_due`, `breach_due`); the status
index asks when next to look (`next_due`). Both read the same rules, so a tick never wakes for
nothing and never sleeps through a notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.incident import Incident
from bot.policy import Policy


@dataclass(frozen=True)
class Step:
    """An escalation step: `due` when the incident is still unacknowledged, calling `refs`."""

    index: int
    after: timedelta
    due: datetime
    refs: tuple[str, ...]


def stamp(incident: Incident) -> str:
    """The part of a timer's key that names the severity period it belongs to: a severity
    change starts the timers afresh, with new keys."""
    return f"{incident.severity}:{incident.severity_since:%Y%m%dT%H%M%S}"


def notice_only(incident: Incident, policy: Policy) -> bool:
    """An incident of a `notice_only` kind (an upstream's outage) owes nothing: no
    acknowledgement, escalation, reminder, deadline or update nudge."""
    kind = policy.kinds.get(incident.kind) if incident.kind else None
    return bool(kind and kind.notice_only)


def deadline_of(incident: Incident, policy: Policy) -> datetime | None:
    if notice_only(incident, policy):
        return None
    within = policy.severities[incident.severity].resolve_within
    return incident.severity_since + within if within else None


def escalations(incident: Incident, policy: Policy) -> list[Step]:
    """The steps of an unacknowledged incident: the secondary once `acknowledge_within` has
    passed, then the severity's `escalation` steps."""
    if incident.status != "active" or notice_only(incident, policy):
        return []
    spec = policy.severities[incident.severity]
    steps: list[tuple[timedelta, tuple[str, ...]]] = []
    if spec.acknowledge_within:
        steps.append((spec.acknowledge_within, ("oncall.secondary",)))
    steps += [(step.after, tuple(step.tag)) for step in spec.escalation]
    since = incident.severity_since
    return [Step(i, after, since + after, refs) for i, (after, refs) in enumerate(steps)]


def reminder_due(incident: Incident, policy: Policy, now: datetime) -> tuple[datetime, timedelta] | None:
    """The latest reminder due before the deadline (due, how long before it), or None. Several
    due at once (a late or skipped tick): only the latest is sent."""
    deadline = deadline_of(incident, policy)
    if deadline is None or now >= deadline:
        return None
    due = [(deadline - off, off) for off in policy.severities[incident.severity].reminders() if deadline - off <= now]
    return max(due) if due else None


def breach_due(incident: Incident, policy: Policy, now: datetime) -> tuple[int, datetime] | None:
    """Past the deadline: (n, due) of the breach notice now due, one per `breach_repeat`."""
    deadline = deadline_of(incident, policy)
    if deadline is None or now < deadline:
        return None
    repeat = policy.severities[incident.severity].breach_repeat
    n = int((now - deadline) / repeat)
    return n, deadline + n * repeat


def update_due(incident: Incident, policy: Policy, now: datetime) -> tuple[int, datetime] | None:
    """Users told nothing new for `update_every`: (n, due) of the nudge now due, one per
    interval since the last `/update` (or since it was declared)."""
    every = policy.severities[incident.severity].update_every
    if not incident.active or every is None or notice_only(incident, policy):
        return None
    since = incident.updated_at or incident.declared_at
    n = int((now - since) / every)
    return (n, since + n * every) if n >= 1 else None


def next_due(incident: Incident, policy: Policy, now: datetime) -> datetime | None:
    """The next moment after `now` at which a tick has something to do for this incident."""
    if not incident.active:
        return None
    spec = policy.severities[incident.severity]
    times = [step.due for step in escalations(incident, policy)]
    deadline = deadline_of(incident, policy)
    if deadline is not None:
        times += [deadline - off for off in spec.reminders()]
        breach = breach_due(incident, policy, now)
        times.append(deadline if breach is None else breach[1] + spec.breach_repeat)
    if spec.update_every is not None and not notice_only(incident, policy):
        since = incident.updated_at or incident.declared_at
        times.append(since + (int((now - since) / spec.update_every) + 1) * spec.update_every)
    future = [t for t in times if t > now]
    return min(future) if future else None
