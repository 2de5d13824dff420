"""The policy model: what a `.outage-bot.yml` may say, validated in one place.

Unknown keys are errors everywhere (`extra="forbid"`): a policy pages people, so a typo must
never quietly switch a rule off. Cross-references (people, channels, templates, labels) are
checked by `check_references`, which reports every problem with the path it concerns;
`bot.policy_file` turns paths into FILE:LINE:COL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from bot.durations import format_duration, parse_duration

Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]

ONCALL_REFS = ("oncall.primary", "oncall.secondary")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_REMINDERS = (timedelta(hours=12), timedelta(hours=4), timedelta(hours=1))
# On a drill's issue (`outage-bot drill`), beside its severity label: every other run leaves
# that issue to the drill, so nothing is done for it under the real policy.
DRILL_LABEL = "outage-bot:drill"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Person(Strict):
    github: str | None = None
    gitlab: str | None = None
    slack: str | None = Field(None, description="Slack member id, e.g. U02TAYLOR")
    name: str | None = None


class ChannelConfig(Strict):
    slack: str | None = Field(None, description="Slack channel id or #name")
    apprise: str | None = Field(
        None, description="Apprise URL; write secrets as ${VAR}, read from the environment"
    )
    # Who reads the channel. A "users" channel gets what users need (what is broken, workaround,
    # when a fix is expected) and never internal names. Default: "users" for channels named
    # users or announcements, "team" otherwise.
    audience: Literal["team", "users"] | None = None
    # Replies by the policy's people in an alert's thread here are copied to the outage issue
    # (the forge keeps the whole story for the post-mortem). Slack's Web API only.
    copy_replies: bool = True


class Handoff(BaseModel):
    weekday: int  # 0 = Monday
    at: time


def parse_handoff(text: object) -> Handoff:
    if isinstance(text, Handoff):
        return text
    match = re.fullmatch(r"\s*([a-zA-Z]+)\s+(\d{1,2}):(\d{2})\s*", str(text))
    if not match or match.group(1).lower() not in WEEKDAYS:
        raise ValueError(f"{text!r} is not a handoff (expected: a weekday and a time, like 'monday 12:00')")
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} has no such time of day")
    return Handoff(weekday=WEEKDAYS.index(match.group(1).lower()), at=time(hour, minute))


HandoffSpec = Annotated[
    Handoff,
    BeforeValidator(parse_handoff),
    PlainSerializer(lambda h: f"{WEEKDAYS[h.weekday]} {h.at:%H:%M}"),
]


class Rotation(Strict):
    members: list[str] = Field(min_length=2)
    shift: Duration = timedelta(weeks=1)
    handoff: HandoffSpec = Handoff(weekday=0, at=time(12, 0))
    start: date
    # member -> date: skipped in the queue until that date (a new hire not ready yet)
    skip: dict[str, date] = {}


class Override(Strict):
    who: str
    instead_of: str
    from_: datetime = Field(alias="from")
    to: datetime


class OnCall(Strict):
    rotation: Rotation
    overrides: list[Override] = []
    # channels told at each handoff (default: `alerts`, if the policy has it)
    notify: list[str] = []
    # A Slack user group (its id, S…) that always holds who is on call: `@oncall` reaches them.
    # The tick sets its members when the on-call changes (a handoff, an override).
    slack_group: str | None = Field(default=None, pattern=r"^S[A-Z0-9]{2,30}$")
    slack_group_members: Literal["primary", "both"] = "primary"


class OutageIssue(Strict):
    pin: bool = False
    template: str = "outage_issue.md.j2"
    title: str = "Outage: {title}"
    labels: list[str] = ["outage"]


class PostMortem(Strict):
    """A post-mortem issue opened when an incident of this severity is resolved (never for a
    false positive). `postmortem: true` means all the defaults."""

    required: bool = True  # false: expected (the notices say so), but the bot opens none
    template: str = "postmortem.md.j2"
    title: str = "Post-mortem: {title}"
    labels: list[str] = ["postmortem"]
    due: Duration = timedelta(days=5)  # the tick reminds on the post-mortem issue once, if still open then


class EscalationStep(Strict):
    after: Duration  # since the incident was declared (or its severity last changed)
    tag: list[str] = Field(min_length=1)


class Severity(Strict):
    labels: list[str] = Field(min_length=1)
    description: str | None = None
    acknowledge_within: Duration | None = None  # not acknowledged by then: oncall.secondary is called
    escalation: list[EscalationStep] = []  # further steps after the secondary
    resolve_within: Duration | None = None
    remind_before: list[Duration] | None = None  # default 12h, 4h, 1h (those shorter than resolve_within)
    breach_repeat: Duration = timedelta(days=1)
    # Users not told anything new for this long (no `/update` since the last): the owner is
    # reminded in the team's alert thread, once an interval.
    update_every: Duration | None = None
    tag: list[str] = []
    notify: list[str] = []
    outage_issue: OutageIssue | None = None
    runbook: str | None = None
    postmortem: PostMortem | None = None

    @field_validator("postmortem", mode="before")
    @classmethod
    def _postmortem_flag(cls, value: object) -> object:
        return {} if value is True else None if value is False else value

    def reminders(self) -> list[timedelta]:
        """Reminder offsets before the deadline, largest first."""
        if self.resolve_within is None:
            return []
        offsets = DEFAULT_REMINDERS if self.remind_before is None else self.remind_before
        return sorted({o for o in offsets if o < self.resolve_within}, reverse=True)


class Kind(Strict):
    labels: list[str] = Field(min_length=1)
    description: str | None = None
    confidential: bool = False  # only the kind's own channels and people are told
    notify: list[str] = []
    tag: list[str] = []
    default_severity: str | None = None  # the kind's label alone declares an incident of this severity
    runbook: str | None = None  # shown where responders read; more specific than the severity's
    # A regression: the alert names the last release before the incident started and the one
    # before it, the last known good (one request to the forge's releases, for this kind only).
    regression: bool = False
    # Only users are told (an upstream's outage: nothing to fix, Meltano announces it anyway):
    # the kind's own channels only, nobody tagged, nothing to acknowledge, no escalation,
    # reminder or deadline.
    notice_only: bool = False


class Labels(Strict):
    """The bot's own labels."""

    acknowledged: str = "incident::acknowledged"
    # On the outage issue while the incident is open. Not in the `incident::` scope: GitLab keeps
    # one label per scope, so `incident::acknowledged` would remove it.
    active: str = "outage::active"
    status: str = "outage-bot::status"  # the status issue
    # On every issue the bot opens for a probe or an upstream (`probes:`, `upstreams:`): how the
    # next tick finds it again, with the marker in its body.
    monitor: str = "outage-bot:monitor"


class StatusComponent(Strict):
    """A part of the service the status page shows (`outage-bot status-page`): an incident
    affects it when its issue carries one of `labels` or its kind is one of `kinds`."""

    name: str = Field(min_length=1)
    description: str | None = None
    labels: list[str] = []
    kinds: list[str] = []


class StatusPage(Strict):
    """A bot-owned issue that lists active outages and their history (what users can watch),
    and the static status site `outage-bot status-page` builds."""

    enabled: bool = True
    title: str = "Current status: outages and incidents"
    url: str | None = None  # an external status page to link from every notice (and the site's address)
    name: str = "Service status"  # the static site's heading
    # Without components, the site shows one per kind that is not confidential.
    components: list[StatusComponent] | None = None


class Permissions(Strict):
    """Who may acknowledge or resolve, beyond the policy's people and those with triage
    (GitHub) / reporter (GitLab) access, which always may."""

    # The reporter of an issue may end the incident on it by closing it (or /resolve). Off by
    # default: a reporter closing their own issue says "fixed for me", not "fixed".
    author_may_resolve: bool = False


class AlertmanagerRoute(Strict):
    """Alertmanager alerts whose labels include every one of `labels` are incidents of this
    severity (and kind)."""

    labels: dict[str, str] = Field(min_length=1)  # e.g. {severity: critical}; all must match
    severity: str
    kind: str | None = None


class SentryRoute(Strict):
    """Sentry issue alerts and metric alerts of these projects and alert rules are incidents
    of this severity (and kind). An empty list matches any."""

    projects: list[str] = []  # project slugs (or numeric ids)
    rules: list[str] = []  # alert rule names, as Sentry shows them
    severity: str
    kind: str | None = None


class Intake(Strict):
    """Alerts from Alertmanager and Sentry (`outage-bot handle` with their webhook body): the
    first route that matches gives the severity and kind; an alert no route matches is ignored."""

    # On every issue the bot opens for an alert: how the next delivery of the same alert
    # group finds it again (with the marker in its body).
    label: str = Field("alert", min_length=1)
    alertmanager: list[AlertmanagerRoute] = []
    sentry: list[SentryRoute] = []


def _http_url(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class Probe(Strict):
    """An HTTP check the tick runs (bot.watch): after `fail_after` failed checks in a row it
    declares an incident on an issue it opens with the evidence; after `recover_after` good
    checks in a row it resolves it."""

    url: HttpUrl
    method: Literal["GET", "HEAD"] = "GET"
    expect_status: list[int] = Field([200], min_length=1)  # any of these
    expect_body: str | None = None  # a substring the body must contain
    max_latency: Duration | None = None  # slower than this is a failure
    timeout: Duration = timedelta(seconds=10)
    # Request headers; a value written `${VAR}` is read from the environment (a token), and no
    # header value is ever printed or written.
    headers: dict[str, str] = {}
    fail_after: int = Field(2, ge=1)
    recover_after: int = Field(2, ge=1)
    severity: str
    kind: str | None = None
    component: str | None = None  # a status_page component: the issue gets its first label

    @field_validator("expect_status", mode="before")
    @classmethod
    def _one_status(cls, value: object) -> object:
        return [value] if isinstance(value, int) else value


STATUSPAGE_LEVELS = ("none", "minor", "major", "critical")


class Upstream(Strict):
    """A service we depend on, read from its Statuspage-style page (`…/api/v2/status.json`, or
    `…/api/v2/summary.json` to watch `components`): when it is not operational, an incident of
    `kind` tells users (and links the upstream's incident); resolved when it is operational again."""

    url: HttpUrl
    components: list[str] = []  # summary.json component names we depend on; none: the page's indicator
    # the page's indicator from which it is an outage for us: minor, major or critical
    declare_from: Literal["minor", "major", "critical"] = "minor"
    kind: str = "upstream"
    severity: str | None = None  # default: the kind's default_severity, else the least severe
    timeout: Duration = timedelta(seconds=10)


class Ticks(Strict):
    """The schedule that runs `outage-bot tick`, as far as the bot needs to know it: every run,
    event or tick, says so once when ticks are overdue (bot.runner)."""

    every: Duration = timedelta(minutes=10)  # the shipped wiring's schedule
    # No tick recorded for this long: overdue. Default: twice `every`, and at least an hour,
    # because the status issue records a quiet tick only every 30 minutes and GitHub starts
    # scheduled runs late under load (a notice that cries wolf would be muted).
    overdue_after: Duration | None = None

    def overdue(self) -> timedelta:
        return self.overdue_after or max(2 * self.every, timedelta(hours=1))


class Drills(Strict):
    """A reminder to run `outage-bot drill` (Meltano tests its incident response once a year):
    the tick posts it once on each date, in `notify` (default: the on-call handoff channels)."""

    remind_on: list[str] = Field(min_length=1)  # "MM-DD", every year, e.g. ["03-01"]
    at: time = time(10, 0)  # in the policy's time zone
    notify: list[str] = []
    severity: str | None = None  # the drill to suggest (default: the most severe)

    @field_validator("remind_on")
    @classmethod
    def _month_days(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                datetime.strptime(f"2024-{text}", "%Y-%m-%d")  # a leap year: 02-29 is a date
            except ValueError:
                raise ValueError(f"{text!r} is not a month and day (expected: MM-DD, like 03-01)") from None
        return value


class Policy(Strict):
    timezone: str = "UTC"
    people: dict[str, Person] = {}
    channels: dict[str, ChannelConfig] = {}
    oncall: OnCall | None = None
    severities: dict[str, Severity] = Field(min_length=1)  # first is the most severe
    kinds: dict[str, Kind] = {}
    labels: Labels = Labels()
    status_page: StatusPage = StatusPage()
    permissions: Permissions = Permissions()
    intake: Intake | None = None  # alerts from Alertmanager and Sentry (bot.intake)
    probes: dict[str, Probe] = {}  # HTTP checks each tick runs (bot.watch)
    upstreams: dict[str, Upstream] = {}  # status pages of services we depend on (bot.watch)
    ticks: Ticks = Ticks()
    drills: Drills | None = None  # a yearly (or more) reminder to run `outage-bot drill`
    # Runbooks by label (`area::checkout: https://...`): the most specific runbook an incident's
    # labels name, before its kind's and its severity's.
    runbooks: dict[str, str] = {}
    templates: str | None = None  # a folder of templates overriding the bundled ones
    # set by the loader, not by the file
    source: str = Field("<policy>", exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        # OSError: zoneinfo opens the name as a file of tzdata: "America" is a directory, a
        # name of 300 characters is too long for the file system.
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r} (expected: an IANA name like America/New_York)") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # -- lookups used by the planner ---------------------------------------------------
    def severity_rank(self, name: str) -> int:
        return list(self.severities).index(name)

    def runbook_for(self, labels: tuple[str, ...] | list[str], severity: str, kind: str | None) -> str:
        """The most specific runbook: by label, then the kind's, then the severity's."""
        by_label = next((self.runbooks[lb] for lb in labels if lb in self.runbooks), None)
        kind_book = self.kinds[kind].runbook if kind and kind in self.kinds else None
        return by_label or kind_book or self.severities[severity].runbook or ""

    def severity_of(self, labels: tuple[str, ...] | list[str]) -> str | None:
        """The most severe severity whose label the issue carries; else a kind's default."""
        present = set(labels)
        for name, severity in self.severities.items():
            if present.intersection(severity.labels):
                return name
        kind = self.kind_of(labels)
        return self.kinds[kind].default_severity if kind else None

    def kind_of(self, labels: tuple[str, ...] | list[str]) -> str | None:
        present = set(labels)
        for name, kind in self.kinds.items():
            if present.intersection(kind.labels):
                return name
        return None

    def all_severity_labels(self) -> list[str]:
        labels = [label for s in self.severities.values() for label in s.labels]
        labels += [label for k in self.kinds.values() if k.default_severity for label in k.labels]
        return list(dict.fromkeys(labels))

    def channel_audience(self, channel_id: str) -> str:
        configured = self.channels[channel_id].audience
        if configured:
            return configured
        return "users" if channel_id in ("users", "announcements") else "team"

    def person_by_handle(self, forge: str, handle: str) -> str | None:
        for pid, person in self.people.items():
            value = getattr(person, forge, None)
            if value and value.lower() == handle.lower():
                return pid
        return None


Path = tuple[str | int, ...]


def check_references(policy: Policy, template_names: set[str]) -> Iterator[tuple[Path, str]]:
    """Every cross-reference problem, as (path in the file, message)."""
    people = set(policy.people)
    channels = set(policy.channels)

    def tags(path: Path, refs: list[str]) -> Iterator[tuple[Path, str]]:
        for i, ref in enumerate(refs):
            if ref in ONCALL_REFS:
                if policy.oncall is None:
                    yield path + (i,), f"{ref!r} needs an `oncall:` section"
            elif ref not in people:
                yield path + (i,), f"unknown person {ref!r} (expected: one of {_list(people | set(ONCALL_REFS))})"

    def notifies(path: Path, refs: list[str]) -> Iterator[tuple[Path, str]]:
        for i, ref in enumerate(refs):
            if ref not in channels:
                yield path + (i,), f"unknown channel {ref!r} (expected: one of {_list(channels)})"

    for cid, channel in policy.channels.items():
        if not channel.slack and not channel.apprise:
            yield ("channels", cid), "a channel needs `slack:` or `apprise:`"

    owner: dict[str, str] = {}
    for name, severity in policy.severities.items():
        base: Path = ("severities", name)
        for i, label in enumerate(severity.labels):
            if label in owner:
                yield base + ("labels", i), f"label {label!r} is already claimed by severity {owner[label]!r}"
            owner.setdefault(label, name)
        yield from tags(base + ("tag",), severity.tag)
        yield from notifies(base + ("notify",), severity.notify)
        for j, step in enumerate(severity.escalation):
            yield from tags(base + ("escalation", j, "tag"), step.tag)
            if severity.acknowledge_within and step.after <= severity.acknowledge_within:
                yield base + ("escalation", j, "after"), "an escalation step must come after acknowledge_within"
        if severity.acknowledge_within and policy.oncall is None:
            yield base + ("acknowledge_within",), "calling the secondary on-call needs an `oncall:` section"
        if severity.outage_issue and severity.outage_issue.template not in template_names:
            yield base + ("outage_issue", "template"), f"unknown template {severity.outage_issue.template!r}"
        if severity.postmortem and severity.postmortem.template not in template_names:
            yield base + ("postmortem", "template"), f"unknown template {severity.postmortem.template!r}"
        for j, offset in enumerate(severity.remind_before or []):
            if severity.resolve_within is None:
                yield base + ("remind_before", j), "reminders need `resolve_within`"
            elif offset >= severity.resolve_within:
                yield base + ("remind_before", j), "a reminder must come before the deadline (shorter than resolve_within)"
    kind_owner: dict[str, str] = {}
    for name, kind in policy.kinds.items():
        base = ("kinds", name)
        for i, label in enumerate(kind.labels):
            if label in owner:
                yield base + ("labels", i), f"label {label!r} is already claimed by severity {owner[label]!r}"
            elif label in kind_owner:
                yield base + ("labels", i), f"label {label!r} is already claimed by kind {kind_owner[label]!r}"
            kind_owner.setdefault(label, name)
        yield from tags(base + ("tag",), kind.tag)
        yield from notifies(base + ("notify",), kind.notify)
        if kind.default_severity and kind.default_severity not in policy.severities:
            yield base + ("default_severity",), (
                f"unknown severity {kind.default_severity!r} (expected: one of {_list(set(policy.severities))})"
            )
    yield from _component_problems(policy)
    yield from _intake_problems(policy, owner, kind_owner)
    yield from _watch_problems(policy)
    if policy.drills is not None:
        yield from notifies(("drills", "notify"), policy.drills.notify)
        if policy.drills.severity is not None and policy.drills.severity not in policy.severities:
            yield ("drills", "severity"), (f"unknown severity {policy.drills.severity!r} "
                                           f"(expected: one of {_list(set(policy.severities))})")
    own = policy.labels
    for key in ("acknowledged", "active", "status", "monitor"):
        label = getattr(own, key)
        if label in owner or label in kind_owner:
            yield ("labels", key), f"label {label!r} is also a severity or kind label"
    scopes: dict[str, str] = {}
    for key in ("acknowledged", "active", "status"):
        label = getattr(own, key)
        scope = label.rpartition("::")[0]
        if scope and scope in scopes:
            yield ("labels", key), (
                f"label {label!r} shares the scope {scope!r}:: with labels.{scopes[scope]}; GitLab keeps one label "
                "per scope, so one would remove the other (expected: a different scope)")
        scopes.setdefault(scope, key) if scope else None
    if policy.oncall:
        rotation = policy.oncall.rotation
        for i, member in enumerate(rotation.members):
            if member not in people:
                yield ("oncall", "rotation", "members", i), f"unknown person {member!r}"
        if len(set(rotation.members)) != len(rotation.members):
            yield ("oncall", "rotation", "members"), "a member is listed twice"
        for member in rotation.skip:
            if member not in rotation.members:
                yield ("oncall", "rotation", "skip", member), f"{member!r} is not a rotation member"
        yield from notifies(("oncall", "notify"), policy.oncall.notify)
        for i, override in enumerate(policy.oncall.overrides):
            base = ("oncall", "overrides", i)
            for key in ("who", "instead_of"):
                if getattr(override, key) not in people:
                    yield base + (key,), f"unknown person {getattr(override, key)!r}"
            if override.who == override.instead_of:
                yield base + ("who",), "a person cannot cover for themselves"
            # a time without an offset is wall-clock time in the policy's zone, as on-call reads it
            start, end = (t if t.utcoffset() is not None else t.replace(tzinfo=policy.tz) for t in (override.from_, override.to))
            if end <= start:
                yield base + ("to",), "`to` must be after `from`"


def _component_problems(policy: Policy) -> Iterator[tuple[Path, str]]:
    seen: set[str] = set()
    for i, component in enumerate(policy.status_page.components or ()):
        base: Path = ("status_page", "components", i)
        if component.name in seen:
            yield base + ("name",), f"component {component.name!r} is listed twice"
        seen.add(component.name)
        if not component.labels and not component.kinds:
            yield base, "a component needs `labels:` or `kinds:` (the incidents that affect it)"
        for j, kind in enumerate(component.kinds):
            if kind not in policy.kinds:
                yield base + ("kinds", j), f"unknown kind {kind!r} (expected: one of {_list(set(policy.kinds))})"
            elif policy.kinds[kind].confidential:
                yield base + ("kinds", j), (f"kind {kind!r} is confidential: its incidents never appear on the status page"
                                            " (expected: a kind that is not confidential)")


def _intake_problems(policy: Policy, severity_labels: dict[str, str], kind_labels: dict[str, str]) -> Iterator[tuple[Path, str]]:
    if policy.intake is None:
        return
    routes: list[tuple[str, int, AlertmanagerRoute | SentryRoute]] = [
        *(("alertmanager", i, r) for i, r in enumerate(policy.intake.alertmanager)),
        *(("sentry", i, r) for i, r in enumerate(policy.intake.sentry)),
    ]
    for sender, i, route in routes:
        base: Path = ("intake", sender, i)
        if route.severity not in policy.severities:
            yield base + ("severity",), f"unknown severity {route.severity!r} (expected: one of {_list(set(policy.severities))})"
        if route.kind is not None and route.kind not in policy.kinds:
            yield base + ("kind",), f"unknown kind {route.kind!r} (expected: one of {_list(set(policy.kinds))})"
    label = policy.intake.label
    owner = severity_labels.get(label) or kind_labels.get(label)
    own = {getattr(policy.labels, key): key for key in ("acknowledged", "active", "status")}
    if owner or label in own:
        claimed = f"severity or kind {owner!r}" if owner else f"labels.{own[label]}"
        yield ("intake", "label"), (f"label {label!r} is already claimed by {claimed} (expected: a label of its own,"
                                    " which marks the issues the bot opens for alerts)")


def upstream_severity(policy: Policy, upstream: Upstream) -> str:
    """The severity an upstream's incident is declared at."""
    kind = policy.kinds.get(upstream.kind)
    return upstream.severity or (kind.default_severity if kind else None) or list(policy.severities)[-1]


def _watch_problems(policy: Policy) -> Iterator[tuple[Path, str]]:
    severities, kinds = set(policy.severities), set(policy.kinds)
    components = {c.name: c for c in policy.status_page.components or ()}
    for section, watched in (("probes", policy.probes), ("upstreams", policy.upstreams)):
        for name, spec in watched.items():
            base: Path = (section, name)
            severity = spec.severity if isinstance(spec, Probe) else upstream_severity(policy, spec)
            if severity not in severities:
                yield base + ("severity",), f"unknown severity {severity!r} (expected: one of {_list(severities)})"
            if spec.kind is not None and spec.kind not in kinds:
                hint = (" (expected: a kind such as `upstream: {labels: [upstream], notify: [users], notice_only: true}`)"
                        if section == "upstreams" else f" (expected: one of {_list(kinds)})")
                yield base + ("kind",), f"unknown kind {spec.kind!r}{hint}"
            elif spec.kind is not None and policy.kinds[spec.kind].confidential:
                yield base + ("kind",), (f"kind {spec.kind!r} is confidential, and the issue the bot opens holds the "
                                         "evidence in the open (expected: a kind that is not confidential)")
            if isinstance(spec, Probe) and spec.component is not None and spec.component not in components:
                yield base + ("component",), (f"unknown component {spec.component!r} (expected: one of "
                                              f"{_list(set(components))}, under status_page.components)")


def _list(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "(none defined)"
