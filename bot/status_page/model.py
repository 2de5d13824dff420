"""What the status site says about an incident: only what users are told. Pure.

An incident's public updates are rebuilt from the ledger's times and the users' words, the
same that the users' notices carry (bot/templates/chat/users_*.txt.j2): what is broken, who
is affected, the workaround, when a fix is expected, the upstream status, the resolution
note. Never who acknowledged, resolved or was tagged, never a severity's or kind's name.

Severities map onto Statuspage's vocabulary by rank (the policy lists them most severe
first): the first is a `critical` impact (component: major outage), the second `major`
(partial outage), the rest `minor` (degraded performance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from itertools import pairwise

from bot.forms import parse_form
from bot.incident import Incident
from bot.policy import Policy
from bot.text import safe_url

IMPACTS = ("none", "minor", "major", "critical")  # Statuspage's impact / indicator, least first
COMPONENT_STATUS = {"none": "operational", "minor": "degraded_performance", "major": "partial_outage",
                    "critical": "major_outage"}
BANNER = {"none": "All systems operational", "minor": "Degraded performance", "major": "Partial outage",
          "critical": "Major outage"}
STATUS_WORDS = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
                "resolved": "Resolved"}


@dataclass(frozen=True)
class Update:
    """One update users were given, in Statuspage's terms."""

    at: datetime
    status: str  # investigating / identified / monitoring / resolved
    text: str  # one sentence or paragraph, plain text
    fields: tuple[tuple[str, str], ...] = ()  # ("Workaround", "Pin 1.2.3"), in reading order
    link: str | None = None  # an upstream status page: a URL safe to link

    @property
    def body(self) -> str:
        """The whole update as plain text (the feed's and the JSON API's body)."""
        lines = [self.text] + [f"{name}: {value}" for name, value in self.fields]
        return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class PublicIncident:
    """An incident as the status site shows it."""

    id: str
    title: str
    impact: str  # the current (or, once resolved, the last) impact: minor / major / critical
    started_at: datetime
    resolved_at: datetime | None
    updates: tuple[Update, ...]  # oldest first
    components: tuple[str, ...]  # names of the components it affects
    # (from, to, impact): how bad it was when; `to` None while it lasts. For uptime.
    periods: tuple[tuple[datetime, datetime | None, str], ...]
    false_positive: bool = False

    @property
    def active(self) -> bool:
        return self.resolved_at is None

    @property
    def status(self) -> str:
        return self.updates[-1].status if self.updates else "investigating"

    @property
    def updated_at(self) -> datetime:
        return self.updates[-1].at if self.updates else self.started_at

    def duration(self, now: datetime) -> timedelta:
        return (self.resolved_at or now) - self.started_at


@dataclass(frozen=True)
class Component:
    name: str
    description: str
    labels: frozenset[str]
    kinds: frozenset[str]
    catch_all: bool = False  # the default components: an incident of no kind affects each of them


def components_of(policy: Policy) -> list[Component]:
    """`status_page.components`, or one per kind that is not confidential; without kinds, one
    for the whole service."""
    configured = policy.status_page.components
    if configured is not None:
        return [Component(c.name, c.description or "", frozenset(c.labels), frozenset(c.kinds)) for c in configured]
    kinds = [(name, kind) for name, kind in policy.kinds.items() if not kind.confidential]
    if not kinds:
        return [Component("Service", "", frozenset(), frozenset(), catch_all=True)]
    return [Component(name.replace("_", " ").capitalize(), kind.description or "", frozenset(), frozenset({name}),
                      catch_all=True) for name, kind in kinds]


def affected(components: Sequence[Component], labels: Sequence[str], kind: str | None) -> tuple[str, ...]:
    present = set(labels)
    return tuple(c.name for c in components
                 if present & c.labels or (kind is not None and kind in c.kinds) or (kind is None and c.catch_all))


def impact_of(severity: str, policy: Policy) -> str:
    rank = list(policy.severities).index(severity) if severity in policy.severities else len(policy.severities)
    return ("critical", "major")[rank] if rank < 2 else "minor"


def is_confidential(incident: Incident, labels: Sequence[str], policy: Policy) -> bool:
    """A confidential kind's incident, by its recorded kind or by the labels its issue carries
    now (a kind changed to a confidential one counts at once)."""
    kinds = [incident.kind] if incident.kind else []
    kinds += [name for name, kind in policy.kinds.items() if set(labels) & set(kind.labels)]
    return any(policy.kinds[k].confidential for k in kinds if k in policy.kinds)


def public_incident(incident: Incident, *, labels: Sequence[str], body: str, policy: Policy,
                    components: Sequence[Component]) -> PublicIncident | None:
    """The incident as users may see it; None for a confidential one (never shown at all).

    `labels` and `body`: its source issue's labels and body as the forge holds them now (the
    body's report-form fields are the users' words)."""
    if is_confidential(incident, labels, policy):
        return None
    form = {key: str(value).strip() for key, value in parse_form(body).items()}
    history = incident.severity_history or ((incident.severity, incident.declared_at),)
    first_severity = history[0][0]
    upstream = form["upstream"]
    fields = [("What is broken", form["broken"]), ("Who is affected", form["affected"]),
              ("Workaround", form["workaround"] or "None known yet; this page is updated when there is one."),
              ("Expected fix", form["expected_fix"] or _expected(first_severity, history[0][1], policy)),
              ("Upstream status", upstream)]
    updates = [Update(incident.declared_at, "investigating", "We are investigating this problem.",
                      tuple((name, value) for name, value in fields if value), link=safe_url(upstream))]
    later: list[Update] = []
    if incident.acknowledged_at is not None:
        later.append(Update(incident.acknowledged_at, "identified", "The problem is being worked on."))
    for (old, _), (new, since) in pairwise(history):
        before, after = impact_of(old, policy), impact_of(new, policy)
        change = "worse" if IMPACTS.index(after) > IMPACTS.index(before) else "less severe" \
            if IMPACTS.index(after) < IMPACTS.index(before) else "reassessed"
        later.append(Update(since, "", f"The impact is {change}: {BANNER[after].lower()}. Expected fix: {_expected(new, since, policy)}."))
    resolved = incident.status in ("resolved", "false_positive") and incident.resolved_at is not None
    false_positive = incident.status == "false_positive"
    if resolved:
        assert incident.resolved_at is not None
        note = incident.resolution.strip()
        if false_positive:
            text = "This turned out not to be an outage." + (f" {note}" if note else "")
        else:
            text = note or "This is fixed."
        later.append(Update(incident.resolved_at, "resolved", text))
    later.sort(key=lambda u: u.at)
    status = "investigating"
    for update in later:  # a severity change keeps the status of its moment
        status = update.status or status
        updates.append(update if update.status else Update(update.at, status, update.text))
    periods = [(since, history[i + 1][1] if i + 1 < len(history) else incident.resolved_at if resolved else None,
                impact_of(severity, policy)) for i, (severity, since) in enumerate(history)]
    return PublicIncident(
        id=str(incident.source) if incident.generation == 1 else f"{incident.source}-{incident.generation}",
        title=incident.title.strip() or form["broken"] or "A problem", impact=impact_of(incident.severity, policy),
        started_at=incident.declared_at, resolved_at=incident.resolved_at if resolved else None,
        updates=tuple(updates), components=affected(components, labels, incident.kind),
        periods=tuple(periods), false_positive=false_positive)


def _expected(severity: str, since: datetime, policy: Policy) -> str:
    within = policy.severities[severity].resolve_within if severity in policy.severities else None
    return f"by {moment_text(since + within, policy.tz)}" if within else "we will post an update here"


def moment_text(moment: datetime, tz: tzinfo) -> str:
    """A moment for people: the policy's zone, and UTC."""
    local, utc = moment.astimezone(tz), moment.astimezone(timezone.utc)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc:%H:%M} UTC)"
