"""What one more check of a probe or an upstream means. Pure.

A probe's state is two counters and the incident it declared, kept in the status index (the
forge is the only store between runs). The counters are capped at their thresholds, so a
target that stays up, or stays down, changes nothing: the index is written only when the
state changes, and a quiet tick stays one request.

Hysteresis gives "a flapping target declares once": declaring needs `fail_after` failures in
a row and resolving `recover_after` successes in a row, and while declared a single good check
between failures starts the count again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Check:
    """One look at a probe's target or an upstream's status page."""

    ok: bool
    at: datetime
    summary: str  # one line: "HTTP 500 in 120 ms", "major: Partial System Outage"
    evidence: Pairs = ()  # what the issue shows, as (name, value); all of it someone else's text
    link: str = ""  # an upstream's incident page (users are pointed there)


@dataclass(frozen=True)
class WatchState:
    fails: int = 0  # failed checks in a row, up to fail_after
    oks: int = 0  # while declared: good checks in a row, up to recover_after
    since: datetime | None = None  # the first failure of the current run of failures
    incident: int | None = None  # the issue of the incident it declared, until resolved

    @property
    def quiet(self) -> bool:
        return self == WatchState()

    def to_data(self) -> list[Any]:
        return [self.fails, self.oks, int(self.since.timestamp()) if self.since else None, self.incident]

    @classmethod
    def from_data(cls, row: list[Any]) -> WatchState:
        fails, oks, since, incident = (list(row) + [0, 0, None, None])[:4]
        return cls(fails=int(fails), oks=int(oks), incident=incident,
                   since=datetime.fromtimestamp(since, timezone.utc) if since is not None else None)


class Decision(Enum):
    NOTHING = "nothing"
    DECLARE = "declare"  # open (or find) its issue and declare the incident
    RESOLVE = "resolve"  # resolve the incident it declared


def step(state: WatchState, check: Check, *, fail_after: int, recover_after: int) -> tuple[WatchState, Decision]:
    """The state after `check`, and what to do now. A declaration that failed is asked for
    again by the next failed check (the issue is looked up by its marker first, never opened
    twice); a resolution that failed, by the next good one."""
    if state.incident is None:
        if check.ok:
            return (WatchState(), Decision.NOTHING)
        fails = min(state.fails + 1, fail_after)
        new = replace(state, fails=fails, oks=0, since=state.since or check.at)
        return new, Decision.DECLARE if fails >= fail_after else Decision.NOTHING
    if not check.ok:
        return replace(state, oks=0), Decision.NOTHING
    oks = min(state.oks + 1, recover_after)
    new = replace(state, oks=oks)
    return new, Decision.RESOLVE if oks >= recover_after else Decision.NOTHING
