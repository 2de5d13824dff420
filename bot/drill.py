"""`outage-bot drill`: a whole incident on the real forge and chat, marked as a drill.

Teams test their incident response once in a while (Meltano: once a year). A drill runs every
step the bot takes in a real incident, on the real forge and chat, so a broken token, a
channel the app left or a label GitHub refuses shows up on a quiet day:

1. an issue is opened for the drill (found again by its marker if a drill was cut half way),
2. declared (the severity label, as a person would put it on),
3. acknowledged (`/ack` from the first participant),
4. resolved (`/resolve DRILL over`),
5. closed: the drill issue and the outage issue, the severity label removed, so no later run
   treats it as an incident.

It runs on a *drill policy* (`drill_policy`): only the drill's participants are tagged, no
users' or announcement channel is told, nothing is pinned, no post-mortem is opened, the
on-call user group is left alone and the status issue is not written. Every text the bot
writes starts with "DRILL — no action needed" (`DrillRenderer`). At the end, a report says
for each step whether it happened, read back from the forge and the chat, and how long it
took (`build_report`, pure).

What a drill is not: a test of people answering. Its steps are automated; nobody has to do
anything, and nobody outside the participants hears of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from bot.errors import OutageBotError, ServiceError, UserError
from bot.ledger import keys_in, outage_source
from bot.own_issue import find_own, open_own
from bot.policy import DRILL_LABEL
from bot.render import Renderer
from bot.runner import Report, Runner

if TYPE_CHECKING:
    from bot.events import Event
    from bot.ledger import Ledger
    from bot.policy import OnCall, Policy, Severity
    from bot.ports import Forge, Notifier
    from bot.records import Comment, Issue
    from bot.status_index import Index

DRILL_MARK = "DRILL — no action needed"
# The first paragraph of every Markdown text the bot writes during a drill.
DRILL_NOTE = f"{DRILL_MARK}: this is an incident-response drill (`outage-bot drill`), not an incident."
DRILL_ACTOR = "outage-bot drill"
RESOLUTION = "DRILL over"

Echo = Callable[[str], None]


# -- who takes part ---------------------------------------------------------------------------------

def check_severity(policy: Policy, severity: str) -> None:
    if severity not in policy.severities:
        raise UserError(f"--severity: unknown severity {severity!r} (expected: one of {', '.join(policy.severities)})")


def participants_of(policy: Policy, severity: str, given: str | None, now: datetime) -> list[str]:
    """The drill's participants: the ids `--participants` gives (comma-separated; "" is nobody),
    else the people the policy would tag at that severity now (on-call resolved)."""
    from bot.planner import resolve_people, tag_refs

    check_severity(policy, severity)
    if given is None:
        return resolve_people(tag_refs(policy, severity, None), policy, now)
    wanted = list(dict.fromkeys(part.strip() for part in given.split(",") if part.strip()))
    unknown = [pid for pid in wanted if pid not in policy.people]
    if unknown:
        raise UserError(f"--participants: unknown person {unknown[0]!r} (expected: ids from the policy's people: "
                        f"{', '.join(policy.people) or 'none defined'})")
    return wanted


def announcement(policy: Policy, channel: str) -> bool:
    """Is this a channel users read (audience `users`, or an announcements channel)?"""
    return policy.channel_audience(channel) == "users" or channel.lower().startswith("announce")


def drill_policy(policy: Policy, severity: str, participants: Sequence[str]) -> Policy:
    """The policy a drill runs on, derived from the real one (pure):

    - every tag list (each severity's, each kind's, each escalation step's) is the
      participants, and the on-call rotation is made of them (none with fewer than two, and
      then no severity calls a secondary): nobody else is tagged;
    - users' and announcement channels are gone, from `channels` and from every `notify`;
    - outage issues are not pinned; no post-mortem; the on-call Slack user group is not set;
    - the status page is off (`status_page.enabled`), and the runner the drill uses never
      writes the status issue (`DrillRunner`).
    """
    check_severity(policy, severity)
    unknown = [pid for pid in participants if pid not in policy.people]
    if unknown:
        raise UserError(f"unknown participant {unknown[0]!r} (expected: ids from the policy's people)")
    people = list(dict.fromkeys(participants))
    team = {cid: config for cid, config in policy.channels.items() if not announcement(policy, cid)}

    def told(channels: Sequence[str]) -> list[str]:
        return [cid for cid in channels if cid in team]

    oncall = _drill_oncall(policy.oncall, people, told)

    def drilled(spec: Severity) -> Severity:
        outage = spec.outage_issue.model_copy(update={"pin": False}) if spec.outage_issue else None
        steps = [step.model_copy(update={"tag": list(people)}) for step in spec.escalation] if people else []
        return spec.model_copy(update={
            "tag": list(people), "notify": told(spec.notify), "escalation": steps, "outage_issue": outage, "postmortem": None,
            "acknowledge_within": spec.acknowledge_within if oncall is not None else None})

    return policy.model_copy(update={
        "channels": team,
        "severities": {name: drilled(spec) for name, spec in policy.severities.items()},
        "kinds": {name: kind.model_copy(update={"tag": list(people), "notify": told(kind.notify)})
                  for name, kind in policy.kinds.items()},
        "oncall": oncall,
        "status_page": policy.status_page.model_copy(update={"enabled": False}),
    })


def _drill_oncall(oncall: OnCall | None, people: list[str], told: Callable[[Sequence[str]], list[str]]) -> OnCall | None:
    """The rotation with the participants as its members (primary and secondary are two of
    them); no overrides, no skips, no Slack user group."""
    if oncall is None or len(people) < 2:
        return None
    rotation = oncall.rotation.model_copy(update={"members": list(people), "skip": {}})
    return oncall.model_copy(update={"rotation": rotation, "overrides": [], "notify": told(oncall.notify),
                                     "slack_group": None})


# -- every text marked ------------------------------------------------------------------------------

def marked(name: str, text: str) -> str:
    """`text`, rendered from template `name`, marked as a drill at its very start.

    Chat (`chat/`): on the headline itself, the first line, which Slack shows as the header
    and in notifications. Markdown: a first paragraph of its own. Markers the bot parses
    (`<!-- outage-bot:... -->`) are appended after the text by the executor and found by
    searching, never at position 0, so they keep working."""
    if text.startswith(DRILL_MARK):
        return text
    if name.startswith("chat/"):
        body = text.strip()
        return f"{DRILL_MARK}: {body}\n" if body else f"{DRILL_MARK}\n"
    return f"{DRILL_NOTE}\n\n{text}"


class DrillRenderer(Renderer):
    """The policy's renderer, with every rendered text marked as a drill (`marked`). The
    templates are untouched: a team's own templates are marked the same."""

    def __init__(self, inner: Renderer) -> None:
        self.__dict__.update(vars(inner))

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return marked(name, super().render(name, context))


def drill_marker(severity: str) -> str:
    """In the drill issue's body: how the next drill of this severity finds it, if this one was
    cut half way."""
    return f"<!-- outage-bot:drill severity={re.sub(r'[^A-Za-z0-9_.:-]', '_', severity)} -->"


def drill_title(severity: str) -> str:
    from bot.text import plain_title

    return plain_title(f"DRILL: incident-response drill ({severity})")


def drill_body(policy: Policy, severity: str, participants: Sequence[str]) -> str:
    """The drill issue's body: what it is, who takes part (by name: nobody is mentioned here)."""
    from bot.text import md_inline

    names = ", ".join(md_inline(policy.people[p].name or p) for p in participants) or "nobody (no one is tagged)"
    return (f"{DRILL_NOTE}\n\n"
            f"`outage-bot drill` runs a whole {md_inline(severity)} incident here, as the bot would in a real one: "
            "declared, people tagged, an outage issue opened, the team's chat channels alerted, acknowledged, "
            "resolved, then this issue closed. Users' channels are not told, nothing is pinned and the status "
            "issue is not written.\n\n"
            f"- **Participants:** {names}\n"
            "- Nothing to do: every step is automated.\n\n"
            f"{drill_marker(severity)}\n")


# -- the runner a drill uses ---------------------------------------------------------------------------

class DrillRunner(Runner):
    """The runner, except that it never writes the status issue: an event run indexes the
    incident where the forge cannot pin (GitLab), and a drill must not appear there as an
    outage. (The runner does not read `status_page.enabled`, hence these overrides.) Where the
    runner checks the status issue after every event (`_status_after_event`), a drill's run
    does not read it either, nor speak for the schedule: overdue ticks are said by the next
    real run."""

    drill = True  # the one runner that acts on a drill's issue (the others leave it alone)

    def _status_after_event(self, event: Event, before: Ledger | None, ledger: Ledger | None, report: Report, *,
                            stranger_closed: bool) -> None:
        if ledger is not None:
            report.lines.append(f"#{ledger.incident.source}: a drill: the status issue is not written")

    def _incident_timeline(self, source: int, report: Report) -> None:
        """GitLab's Timeline tab is the incident's record for people: a drill adds nothing there."""
        report.lines.append(f"#{source}: a drill: its timeline is not added to GitLab's")

    def _save_index(self, status_issue: Issue | None, index: Index, report: Report, *, confidential: bool = False) -> None:
        """Whatever path an event run takes to the status issue, this is where it is written:
        never in a drill (tests/test_drill.py checks it on a forge that cannot pin)."""


# -- what happened -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """One step as it ran: when it started (wall clock, UTC), how long it took (monotonic), the
    keys the executor did in it, and what failed."""

    started: datetime
    seconds: float
    done_now: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Seen:
    """What the forge and the chat show after the drill, read back."""

    severity_labels: tuple[str, ...]  # the drill severity's labels
    drill_issue: Issue | None = None
    ledger: Ledger | None = None
    comments: tuple[Comment, ...] = ()  # the drill issue's, by the bot
    outage_expected: bool = False  # the severity opens an outage issue
    outage: Issue | None = None
    # each team channel the severity alerts -> how its alert was found (None: not found),
    # and why not when it was not
    chat: Mapping[str, str | None] = field(default_factory=dict)
    chat_errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    step: str
    done: bool | None  # None: does not apply to this policy
    detail: str
    seconds: float | None = None


@dataclass(frozen=True)
class DrillReport:
    severity: str
    participants: tuple[str, ...]
    rows: tuple[Row, ...]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(row.done is not False for row in self.rows)

    def missed(self) -> list[str]:
        return [row.step for row in self.rows if row.done is False]

    def lines(self) -> list[str]:
        who = ", ".join(self.participants) or "nobody"
        out = [f"Drill report ({self.severity}; participants: {who}):"]
        width = max((len(row.step) for row in self.rows), default=0)
        for row in self.rows:
            state = {True: "done", False: "NOT DONE", None: "n/a"}[row.done]
            took = f"{row.seconds:.2f} s" if row.seconds is not None else ""
            out.append(f"  {state:<8}  {row.step:<{width}}  {took:>8}  {row.detail}")
        if self.ok:
            out.append(f"Every step happened ({self.seconds:.2f} s in all).")
        else:
            out.append(f"{len(self.missed())} step(s) did not happen: {', '.join(self.missed())}.")
        return out


def build_report(severity: str, participants: Sequence[str], timings: Mapping[str, Timing], seen: Seen) -> DrillReport:
    """The drill's report, from what was read back (`seen`) and how each step ran (`timings`).
    Pure. A step counts as done only when the forge or the chat shows it."""
    ledger, issue = seen.ledger, seen.drill_issue
    incident = ledger.incident if ledger is not None else None
    prefix = f"{incident.source}:g{incident.generation}" if incident is not None else ""
    done = ledger.done if ledger is not None else frozenset()
    rows: list[Row] = []

    def took(step: str) -> float | None:
        timing = timings.get(step)
        return timing.seconds if timing is not None else None

    def why(step: str, fallback: str) -> str:
        timing = timings.get(step)
        if timing is None:
            return "the drill stopped before this step"
        return "; ".join(timing.failures) if timing.failures else fallback

    def when(key: str) -> str:
        now = any(key in t.done_now for t in timings.values())
        return "" if now else " (by an earlier run)"

    def row(name: str, step: str, ok: bool, detail: str, failed: str) -> None:
        rows.append(Row(name, ok, detail if ok else why(step, failed), took(step)))

    opened = issue is not None and DRILL_LABEL in issue.labels
    row("drill issue opened", "open", opened, f"#{issue.number} {issue.url}" if issue else "", "no drill issue on the forge")
    row("declared", "declare", incident is not None and incident.severity == severity,
        f"{severity} incident on #{incident.source}" if incident else "", "no incident recorded on the drill issue")
    tag_key = f"{prefix}:tag"
    tag_comment = any(tag_key in keys_in(c.body) for c in seen.comments)
    tagged = ", ".join(incident.tagged) if incident and incident.tagged else "nobody"
    row("tagged", "declare", tag_key in done and tag_comment, f"{tagged}{when(tag_key)}", "no tag comment on the drill issue")
    if not seen.outage_expected:
        rows.append(Row("outage issue opened", None, f"the {severity} severity opens none", took("declare")))
    else:
        outage = seen.outage
        found = outage is not None and incident is not None and outage_source(outage.body) == incident.source
        row("outage issue opened", "declare", found, f"#{outage.number} (not pinned){when(f'{prefix}:outage-issue')}" if outage else "",
            "no outage issue of the drill on the forge")
    if not seen.chat:
        rows.append(Row("chat alert", None, f"the {severity} severity alerts no team channel", took("declare")))
    for channel, how in seen.chat.items():
        key = f"{prefix}:chat:{channel}"
        error = seen.chat_errors.get(channel, "")
        ok = how is not None and key in done
        rows.append(Row(f"chat alert: {channel}", ok, f"posted, {how}{when(key)}" if ok else
                        why("declare", error or "no alert of the drill in the channel"), took("declare")))
    acked = incident is not None and incident.acknowledged_at is not None and f"{prefix}:ack" in done
    row("acknowledged", "acknowledge", acked, f"by {incident.acknowledged_by}{when(f'{prefix}:ack')}" if incident else "",
        "the incident was not acknowledged")
    resolved = incident is not None and incident.status == "resolved" and f"{prefix}:resolved" in done
    row("resolved", "resolve", resolved, f"by {incident.resolved_by}: {incident.resolution}" if incident else "",
        f"the incident is {incident.status if incident else 'not there'}")
    labeled = [lb for lb in (issue.labels if issue else ()) if lb in seen.severity_labels]
    closed = issue is not None and not issue.is_open and not labeled and (seen.outage is None or not seen.outage.is_open)
    shut = [f"#{i.number}" for i in (issue, seen.outage) if i is not None]
    open_left = [f"#{i.number} is open" for i in (issue, seen.outage) if i is not None and i.is_open]
    if issue is not None and labeled:
        open_left.append(f"#{issue.number} still has {', '.join(labeled)}")
    row("closed", "close", closed, f"{' and '.join(shut)} closed, severity label removed", "; ".join(open_left) or "nothing to close")
    total = sum(t.seconds for t in timings.values())
    return DrillReport(severity, tuple(participants), tuple(rows), total)


# -- running it ----------------------------------------------------------------------------------------

@dataclass
class Drill:
    """One drill on a forge and its chat. `policy` and `renderer` are the drill's own
    (`drill_policy`, `DrillRenderer`)."""

    forge: Forge
    notifiers: Mapping[str, Notifier]
    policy: Policy
    renderer: Renderer
    severity: str
    participants: Sequence[str]
    now: datetime
    echo: Echo
    err: Echo | None = None  # where failures are said (default: `echo`)
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    timings: dict[str, Timing] = field(default_factory=dict)
    _start: float = 0.0
    _began: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def run(self) -> DrillReport:
        self._start, self._began = self.monotonic(), self.wall()
        issue = self._step("open", self._open)
        if issue is not None:
            try:
                self._step("declare", lambda: self._handle(self._labeled(issue)))
                self._step("acknowledge", lambda: self._handle(self._command(issue, "/ack")))
                self._step("resolve", lambda: self._handle(self._command(issue, f"/resolve {RESOLUTION}")))
            finally:
                # Always, even after a failure or a crash: a drill issue left open with its
                # severity label would be an incident to the next tick, under the real policy.
                self._step("close", lambda: self._close(issue))
        return build_report(self.severity, self.participants, self.timings, self._read_back(issue))

    # -- the steps ------------------------------------------------------------------------------------
    def _step(self, name: str, do: Callable[[], Any]) -> Any:
        started, began = self.wall(), self.monotonic()
        failures: list[str] = []
        done_now: list[str] = []
        result: Any = None
        try:
            result = do()
        except (OutageBotError, LookupError) as exc:  # a service that kept failing, a template error
            failures.append(str(exc).splitlines()[0])
        if isinstance(result, Report):  # a runner's: what it did and what failed
            failures += [str(f).splitlines()[0] for f in result.failures]
            done_now += [key for _, _, outcome in result.plans for key in outcome.done_now]
        for failure in failures:
            (self.err or self.echo)(f"outage-bot: {name}: {failure}")
        self.timings[name] = Timing(started, self.monotonic() - began, tuple(done_now), tuple(failures))
        return result

    def _runner(self) -> Runner:
        # Each step at its own moment: the drill's clock runs from --now (or now) in real time.
        return DrillRunner(self.forge, self.notifiers, self.policy, self.renderer, now=self._at(),
                           log=lambda line: self.echo(f"  {line}"), sleep=self.sleep)

    def find(self) -> Issue | None:
        """The newest drill issue of this severity the bot opened (a marker in anyone else's
        issue is not believed)."""
        return find_own(self.forge, drill_marker(self.severity), DRILL_LABEL)

    def _open(self) -> Issue:
        labels = [self.policy.severities[self.severity].labels[0], DRILL_LABEL]
        found = self.find()
        if found is not None and found.is_open:
            self.echo(f"#{found.number}: a drill cut half way: going on with it ({found.url})")
            return found
        issue = open_own(self.forge, marker=drill_marker(self.severity), label=DRILL_LABEL, title=drill_title(self.severity),
                         body=drill_body(self.policy, self.severity, self.participants), labels=labels)
        self.echo(f"opened #{issue.number}: {issue.url}")
        return issue

    def _labeled(self, issue: Issue) -> Event:
        from bot.events import Event, EventKind

        labels = tuple(lb for lb in issue.labels if lb in self.policy.severities[self.severity].labels)
        return Event(kind=EventKind.LABELED, issue=issue, actor=DRILL_ACTOR, at=self._at(), labels_added=labels,
                     delivery="outage-bot drill")

    def _command(self, issue: Issue, text: str) -> Event:
        """A command from the first participant (as a person would write it), trusted: the drill
        runs it. Nothing is posted: the bot's own comment would not be believed."""
        from bot.events import Event, EventKind
        from bot.records import Comment

        actor = self.actor()
        comment = Comment(id=0, author=actor, body=text, created_at=self._at())
        return Event(kind=EventKind.COMMENTED, issue=issue, actor=actor, at=self._at(), comment=comment, actor_trusted=True,
                     delivery="outage-bot drill")

    def actor(self) -> str:
        """Who acknowledges and resolves: the first participant (their handle on this forge),
        else "outage-bot drill"."""
        if not self.participants:
            return DRILL_ACTOR
        pid = self.participants[0]
        person = self.policy.people[pid]
        name = self.forge.name
        handle = getattr(person, name, None) if name in ("github", "gitlab") else person.github or person.gitlab
        return handle or pid

    def _at(self) -> datetime:
        return self.now + timedelta(seconds=self.monotonic() - self._start)

    def _handle(self, event: Event) -> Report:
        report = self._runner().handle(event)
        for line in report.lines:
            self.echo(line)
        return report

    def _close(self, issue: Issue) -> None:
        """The drill issue closed with its severity label removed, and the outage issue closed:
        nothing is left for a later run to take for an incident."""
        number = issue.number
        current = self.forge.get_issue(number, fresh=True)
        labels = [lb for lb in current.labels if lb in self.policy.all_severity_labels()]
        if labels:
            self.forge.remove_labels(number, labels)
        if current.is_open:
            self.forge.close_issue(number)
        ledger = self._runner().load(number, fresh=True)[0]
        outage = ledger.incident.outage_issue if ledger is not None else None
        if outage is not None:
            found = self.forge.get_issue(outage, fresh=True)
            if found.is_open:
                if self.policy.labels.active in found.labels:
                    self.forge.remove_labels(outage, [self.policy.labels.active])
                self.forge.close_issue(outage)
        self.echo(f"#{number}: closed{f', with #{outage}' if outage else ''}; severity label removed")

    # -- reading back ---------------------------------------------------------------------------------
    def _read_back(self, opened: Issue | None) -> Seen:
        from bot.planner import route

        spec = self.policy.severities[self.severity]
        channels = [c for c in route(self.policy, self.severity, None) if self.policy.channel_audience(c) == "team"]
        seen = Seen(severity_labels=tuple(spec.labels), outage_expected=spec.outage_issue is not None,
                    chat={c: None for c in channels})
        if opened is None:
            return seen
        try:
            issue = self.forge.get_issue(opened.number, fresh=True)
            runner = self._runner()
            ledger, _, comments = runner.load(opened.number, fresh=True)
            bot = runner.bot_login
            seen = replace(seen, drill_issue=issue, ledger=ledger,
                           comments=tuple(c for c in comments if not bot or c.author.lower() == bot.lower()))
            if ledger is not None and ledger.incident.outage_issue is not None:
                seen = replace(seen, outage=self.forge.get_issue(ledger.incident.outage_issue, fresh=True))
        except (ServiceError, LookupError) as exc:
            (self.err or self.echo)(f"outage-bot: reading the drill back: {str(exc).splitlines()[0]}")
            return seen
        if ledger is not None:
            chat, errors = self._chat_seen(ledger, channels)
            seen = replace(seen, chat=chat, chat_errors=errors)
        return seen

    def _chat_seen(self, ledger: Ledger, channels: list[str]) -> tuple[dict[str, str | None], dict[str, str]]:
        """Each channel's root alert of the drill, looked for in the channel itself where the
        service can be read (Slack's history: its key changes as the alert is edited), else
        as the ledger recorded it."""
        from bot.executor import channel_of

        incident = ledger.incident
        prefix = f"{incident.source}:g{incident.generation}:"
        found: dict[str, str | None] = {}
        errors: dict[str, str] = {}
        for cid in channels:
            notifier = self.notifiers.get(cid)
            found[cid] = None
            if notifier is None:
                errors[cid] = "no chat service serves this channel (see the run's warnings for the variable to set)"
                continue
            channel = channel_of(self.policy, cid)
            recent = getattr(notifier, "recent_roots", None)
            try:
                if recent is not None:
                    # (Slack's clock is the real one; a drill's --now may be another)
                    since = min(incident.declared_at, self._began) - timedelta(minutes=5)
                    roots = recent(channel, since)
                    if any(r.key == f"{prefix}chat:{cid}" or r.key.startswith(prefix) and r.key.endswith(f":chat:{cid}:root")
                           for r in roots):
                        found[cid] = f"read back from {notifier.service}"
                elif getattr(notifier, "can_read_back", False):
                    if notifier.find(channel, f"{prefix}chat:{cid}") is not None:
                        found[cid] = f"read back from {notifier.service}"
                elif f"chatroot:{cid}" in ledger.refs:
                    found[cid] = f"recorded ({notifier.service} cannot be read back)"
            except ServiceError as exc:
                errors[cid] = f"could not be read back: {exc.detail}"
        return found, errors


# -- --dry-run ------------------------------------------------------------------------------------------

def dry_run_lines(drill: Drill, existing: Issue | None) -> list[str]:
    """What `outage-bot drill` would do, from the planner alone: nothing is written."""
    from bot.events import Event, EventKind
    from bot.planner import ForgeInfo, plan, route
    from bot.records import Comment, Issue

    policy, severity = drill.policy, drill.severity
    labels = (policy.severities[severity].labels[0], DRILL_LABEL)
    lines: list[str] = []
    if existing is not None and existing.is_open:
        lines.append(f"would go on with the drill cut half way on #{existing.number} ({existing.url}); below, as if from the start")
    else:
        lines.append(f"would open an issue {drill_title(severity)!r} with labels {list(labels)}")
    info = ForgeInfo(drill.forge.name, drill.forge.capabilities)
    now = drill.now
    issue = Issue(number=existing.number if existing else 0, title=drill_title(severity), body="", labels=labels, state="open",
                  url="", author="", created_at=now, updated_at=now)
    actor = drill.actor()
    steps = [("declare", Event(kind=EventKind.LABELED, issue=issue, actor=DRILL_ACTOR, at=now, labels_added=labels[:1]))]
    for name, text in (("acknowledge", "/ack"), ("resolve", f"/resolve {RESOLUTION}")):
        comment = Comment(id=0, author=actor, body=text, created_at=now)
        steps.append((name, Event(kind=EventKind.COMMENTED, issue=issue, actor=actor, at=now, comment=comment, actor_trusted=True)))
    incident = None
    for name, event in steps:
        planned = plan(event, incident, now, policy, info)
        incident = planned.incident
        lines.append(f"would {name}{f' as {actor}' if name != 'declare' else ''}:")
        lines += [f"  {note}".replace("#0", "the drill issue") for note in planned.notes]
        lines += [f"  would {action.describe()}  [key {action.key}]" for action in planned.actions]
    outage = ", and close the outage issue" if policy.severities[severity].outage_issue else ""
    lines.append(f"would remove the severity label from the drill issue and close it{outage}")
    missing = [cid for cid in route(policy, severity, None) if cid not in drill.notifiers]
    for cid in missing:
        lines.append(f"channel {cid}: no chat service is configured, so its alert would not be posted")
    return lines
