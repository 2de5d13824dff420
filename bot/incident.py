"""What the planner decides about one incident: its severity, status, people and times.

The executor keeps it, with its own bookkeeping, in the ledger (bot.ledger).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

ACTIVE = ("active", "acknowledged")


@dataclass(frozen=True)
class Incident:
    """What the planner decides about one incident."""

    source: int  # the issue the severity label is on
    severity: str
    kind: str | None
    status: str  # active / acknowledged / resolved / false_positive
    title: str
    declared_at: datetime  # when the severity label went on
    severity_since: datetime  # when the current severity started: deadlines count from here
    generation: int = 1  # bumped on reopen, so a reopened incident alerts afresh
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str = ""
    tagged: tuple[str, ...] = ()  # person ids tagged so far (nobody is tagged twice)
    notified: tuple[str, ...] = ()  # channel ids alerted so far in this generation
    outage_issue: int | None = None  # set by the executor once opened
    outage_url: str | None = None
    pin: str = ""  # "", "pinned", "limit", "unsupported", "unpinned"
    severity_history: tuple[tuple[str, datetime], ...] = ()
    runbook: str = ""
    updated_at: datetime | None = None  # the last `/update` users were given  # the most specific runbook its labels named when declared (Policy.runbook_for)
    postmortem_issue: int | None = None  # set by the executor once opened
    postmortem_url: str | None = None
    postmortem_due: datetime | None = None  # the tick reminds on it then, once, if still open
    # Resolved by closing its source issue: seen open again (and labeled), it was reopened,
    # even when the reopen event was lost.
    closed_source: bool = False

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def with_(self, **changes: Any) -> Incident:
        return replace(self, **changes)
