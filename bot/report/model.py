"""The report's numbers, from incident records and a clock. Pure: no forge, no clock, no files.

Definitions (the README's "Reports" says the same):

- An incident counts in the week (ISO 8601, in the policy's zone) and under the severity it was
  declared in; the severity is its last one. Only incidents declared in [since, now] count.
- MTTA: declared -> first acknowledgement. An incident resolved without any acknowledgement is
  counted apart (`unacknowledged`), never as a time of zero: it would flatter the team.
- MTTR: declared -> resolved.
- Median and p90 rather than a mean: one incident that ran for a week hides in a mean and is
  exactly what a p90 shows. Both interpolate linearly between the two nearest ranks
  (numpy's default, `statistics.quantiles(method="inclusive")`), so the median of an even
  count is the mean of the middle two.
- False positives (`/false-positive`) are counted apart and left out of every other number.
- Incidents still in progress are counted apart too: they have no MTTR yet.
- Breached: resolved after the deadline (`resolve_within`), or a breach notice was sent.
  Escalations: the escalation notices sent while nobody had acknowledged.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

RESOLVED = "resolved"
FALSE_POSITIVE = "false_positive"
SLOWEST = 5  # incidents listed by name as the longest to resolve


@dataclass(frozen=True)
class Record:
    """One incident as its ledger keeps it (bot.incident.Incident), plus what the bot did."""

    source: int
    title: str
    severity: str
    status: str  # active / acknowledged / resolved / false_positive
    declared_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None  # a person id of the policy where known, else a login
    resolved_at: datetime | None = None
    escalations: int = 0  # escalation notices sent
    breached: bool = False
    confidential: bool = False  # counts in the numbers; its title is never shown

    @property
    def ended(self) -> bool:
        return self.status in (RESOLVED, FALSE_POSITIVE) and self.resolved_at is not None

    @property
    def tta(self) -> float | None:
        """Seconds from declared to acknowledged (never negative: a lost event can be
        recorded a moment early)."""
        return None if self.acknowledged_at is None else max(0.0, (self.acknowledged_at - self.declared_at).total_seconds())

    @property
    def ttr(self) -> float | None:
        return None if self.resolved_at is None else max(0.0, (self.resolved_at - self.declared_at).total_seconds())


@dataclass(frozen=True)
class Spread:
    """Durations in seconds: how many, their median and their p90 (None when there are none)."""

    n: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class Row:
    """The numbers of one group of incidents (all of them, a severity, a week)."""

    incidents: int = 0  # resolved, false positives left out
    false_positives: int = 0
    unacknowledged: int = 0  # resolved without an acknowledgement: not in `mtta`
    mtta: Spread = Spread()
    mttr: Spread = Spread()
    breached: int = 0  # incidents
    escalated: int = 0  # incidents with at least one escalation
    escalations: int = 0  # escalation notices


@dataclass(frozen=True)
class Week:
    key: str  # "2026-W46"
    monday: date
    row: Row
    severities: dict[str, Row]


@dataclass(frozen=True)
class Report:
    since: datetime
    now: datetime
    timezone: str
    total: Row
    severities: dict[str, Row]  # the policy's order, most severe first; every severity listed
    weeks: tuple[Week, ...]  # every week of the window, oldest first, empty ones too
    acknowledgers: tuple[tuple[str, int], ...]  # who acknowledged how often, most first
    in_progress: int  # declared in the window, not resolved yet
    incidents: tuple[Record, ...] = field(default=())  # those counted (false positives too), oldest first
    slowest: tuple[Record, ...] = field(default=())  # the longest to resolve, at most SLOWEST


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile, interpolating linearly between the two nearest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def spread(values: Sequence[float]) -> Spread:
    return Spread(n=len(values), median=quantile(values, 0.5), p90=quantile(values, 0.9))


def row_of(records: Iterable[Record]) -> Row:
    records = list(records)
    real = [r for r in records if r.status != FALSE_POSITIVE]
    ttas = [t for r in real if (t := r.tta) is not None]
    ttrs = [t for r in real if (t := r.ttr) is not None]
    return Row(
        incidents=len(real),
        false_positives=len(records) - len(real),
        unacknowledged=sum(1 for r in real if r.acknowledged_at is None),
        mtta=spread(ttas),
        mttr=spread(ttrs),
        breached=sum(1 for r in real if r.breached),
        escalated=sum(1 for r in real if r.escalations),
        escalations=sum(r.escalations for r in real),
    )


def iso_week(moment: datetime, tz: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def mondays(since: datetime, now: datetime, tz: ZoneInfo) -> list[date]:
    """The Monday of every ISO week from `since`'s to `now`'s, on the zone's calendar."""
    first = since.astimezone(tz).date()
    first -= timedelta(days=first.weekday())
    last = now.astimezone(tz).date()
    return [first + timedelta(weeks=k) for k in range((last - first).days // 7 + 1)]


def build(records: Iterable[Record], *, since: datetime, now: datetime, tz: ZoneInfo,
          severities: Sequence[str]) -> Report:
    """The report on the incidents declared in [since, now]: `severities` in the policy's order
    (a severity no longer in the policy comes after them)."""
    window = [r for r in records if since <= r.declared_at <= now]
    counted = sorted((r for r in window if r.ended), key=lambda r: (r.declared_at, r.source))
    in_progress = sum(1 for r in window if not r.ended)
    order = list(dict.fromkeys([*severities, *(r.severity for r in counted)]))

    def by_severity(group: list[Record]) -> dict[str, Row]:
        return {name: row_of(r for r in group if r.severity == name) for name in order}

    weeks = []
    for monday in mondays(since, now, tz):
        year, number, _ = monday.isocalendar()
        key = f"{year}-W{number:02d}"
        group = [r for r in counted if iso_week(r.declared_at, tz) == key]
        weeks.append(Week(key=key, monday=monday, row=row_of(group), severities=by_severity(group)))
    real = [r for r in counted if r.status != FALSE_POSITIVE]
    load = Counter(r.acknowledged_by for r in real if r.acknowledged_at is not None and r.acknowledged_by)
    slowest = sorted(real, key=lambda r: (-(r.ttr or 0.0), r.declared_at, r.source))[:SLOWEST]
    return Report(
        since=since, now=now, timezone=tz.key, total=row_of(counted), severities=by_severity(counted),
        weeks=tuple(weeks), acknowledgers=tuple(sorted(load.items(), key=lambda kv: (-kv[1], kv[0]))),
        in_progress=in_progress, incidents=tuple(counted), slowest=tuple(slowest),
    )
