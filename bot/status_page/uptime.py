"""Each component's status now and its uptime over a window, from incident times. Pure.

Uptime counts time as Statuspage does: a major outage (the policy's most severe severity) is
down time, a partial outage (the second) counts 30 %, degraded performance (the rest) none.
Overlapping incidents are not counted twice: at each moment the worst one counts. False
positives count nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.status_page.model import COMPONENT_STATUS, IMPACTS, Component, PublicIncident

WEIGHT = {"critical": 1.0, "major": 0.3, "minor": 0.0, "none": 0.0}
WINDOWS = (30, 90)  # days


@dataclass(frozen=True)
class ComponentView:
    name: str
    description: str
    status: str  # operational / degraded_performance / partial_outage / major_outage
    uptime: tuple[tuple[int, float], ...]  # (days, percent)
    position: int


def worst(impacts: Iterable[str]) -> str:
    return max(impacts, key=IMPACTS.index, default="none")


def component_views(components: Sequence[Component], incidents: Sequence[PublicIncident], now: datetime) -> list[ComponentView]:
    periods: dict[str, list[tuple[datetime, datetime, float]]] = {c.name: [] for c in components}
    current: dict[str, list[str]] = {c.name: [] for c in components}
    for incident in incidents:
        for name in incident.components:
            if name not in periods:
                continue
            if incident.active:
                current[name].append(incident.impact)
            if incident.false_positive:
                continue
            for start, end, impact in incident.periods:
                if WEIGHT[impact]:
                    periods[name].append((start, end or now, WEIGHT[impact]))
    return [ComponentView(c.name, c.description, COMPONENT_STATUS[worst(current[c.name])],
                          tuple((days, uptime(periods[c.name], now, timedelta(days=days))) for days in WINDOWS), i)
            for i, c in enumerate(components)]


def uptime(periods: Sequence[tuple[datetime, datetime, float]], now: datetime, window: timedelta) -> float:
    """Percent of `window` before `now` that was up: the worst weight at each moment counts."""
    start = now - window
    edges: list[tuple[datetime, int, float]] = []
    for begin, end, weight in periods:
        begin, end = max(begin, start), min(end, now)
        if end > begin:
            edges += [(begin, 1, weight), (end, -1, weight)]
    if not edges:
        return 100.0
    edges.sort(key=lambda e: e[0])
    open_weights: dict[float, int] = {}
    down = 0.0
    last = start
    for moment, step, weight in edges:
        if open_weights:
            down += (moment - last).total_seconds() * max(open_weights)
        last = moment
        open_weights[weight] = open_weights.get(weight, 0) + step
        if not open_weights[weight]:
            del open_weights[weight]
    return max(0.0, 100.0 * (1 - down / window.total_seconds()))
