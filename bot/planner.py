"""Deciding what to do: (event, the incident's state, now, policy) -> a plan. Pure.

No I/O and no clock: `now` is a parameter, and everything the planner knows about the forge
comes in the event and the incident. The executor applies the plan.

Idempotency keys are `<source>:g<generation>:<what>[:<detail>]`; a reopened incident gets a
new generation and therefore alerts afresh, while a replayed event plans the same keys and
so does nothing twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot import actions as a
from bot import schedule
from bot.events import Event, EventKind
from bot.forms import parse_form
from bot.incident import Incident
from bot.policy import ONCALL_REFS, Policy, Severity
from bot.records import ForgeCapabilities, Release
from bot.schedule import deadline_of
from bot.text import UserText, plain_title

COMMAND = re.compile(r"^\s*/(ack|acknowledge|resolve|resolved|false-positive|update)\b[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
LATE_AFTER = timedelta(minutes=20)  # a tick this late says so in the notice it sends


@dataclass(frozen=True)
class ForgeInfo:
    name: str  # "github", "gitlab", "local": which handle of a person to mention
    capabilities: ForgeCapabilities


@dataclass(frozen=True)
class Plan:
    incident: Incident | None
    actions: tuple[a.Action, ...] = ()
    notes: tuple[str, ...] = ()  # why, for the log and --dry-run


# Reactions on a root alert in chat that mean "resolved" (Meltano: "a ✅ emoji on the thread").
CHAT_RESOLVED = ("white_check_mark", "heavy_check_mark")


def command_in(body: str) -> tuple[str, str] | None:
    """The first bot command in a comment: ("ack" | "resolve" | "false-positive", its text)."""
    match = COMMAND.search(body or "")
    if not match:
        return None
    verb = match.group(1).lower()
    verb = {"acknowledge": "ack", "resolved": "resolve"}.get(verb, verb)
    return verb, match.group(2).strip()


# -- who and where -----------------------------------------------------------------------------

def resolve_people(refs: list[str], policy: Policy, at: datetime) -> list[str]:
    """Person ids for tag references, with oncall.* resolved at `at`; order kept, no repeats."""
    out: list[str] = []
    for ref in refs:
        if ref in ONCALL_REFS:
            if policy.oncall is None:
                continue
            from bot.oncall import resolve

            ref = resolve(ref, policy.oncall, policy.tz, at)
        if ref not in out:
            out.append(ref)
    return out


def tag_refs(policy: Policy, severity: str, kind: str | None) -> list[str]:
    refs = list(policy.severities[severity].tag)
    if kind:
        refs += policy.kinds[kind].tag
    return refs


def route(policy: Policy, severity: str, kind: str | None) -> list[str]:
    """The channels told about an incident. A confidential kind (security) goes only to its own
    channels: never to users or the general alerts channel."""
    if kind and (policy.kinds[kind].confidential or policy.kinds[kind].notice_only):
        # a notice-only kind (an upstream's outage) tells its own channels, users, and no team
        return list(dict.fromkeys(policy.kinds[kind].notify))
    channels = list(policy.severities[severity].notify)
    if kind:
        channels += policy.kinds[kind].notify
    return list(dict.fromkeys(channels))


# -- message data ---------------------------------------------------------------------------------

def _person(pid: str, policy: Policy, forge: str) -> dict[str, Any]:
    person = policy.people.get(pid)
    handle = getattr(person, forge, None) if person and forge in ("github", "gitlab") else None
    if forge == "local" and person:
        handle = person.github or person.gitlab or pid
    name = (person.name if person else None) or pid
    return {"id": pid, "name": name, "mention": f"@{handle}" if handle else f"**{name}**", "slack": person.slack if person else None}


def _person_by_login(login: str, policy: Policy, forge: str) -> dict[str, Any]:
    """A forge login as a person: the policy's person with that handle, else the login itself."""
    pid = policy.person_by_handle("github" if forge == "local" else forge, login) if login else None
    if pid is not None:
        return _person(pid, policy, forge)
    return {"id": login, "name": UserText(login), "mention": f"@{login}" if login else "", "slack": None}


def context(incident: Incident, policy: Policy, forge: ForgeInfo, now: datetime, *, source_body: str = "",
            source_url: str = "", people: list[str] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plain data for templates. User-controlled strings are UserText (escaped on output)."""
    severity = policy.severities[incident.severity]
    kind = policy.kinds.get(incident.kind) if incident.kind else None
    form = parse_form(source_body)
    tagged = [_person(p, policy, forge.name) for p in (people if people is not None else incident.tagged)]
    oncall: dict[str, Any] | None = None
    if policy.oncall is not None:
        from bot.oncall import on_call

        shift = on_call(policy.oncall, policy.tz, now)
        oncall = {"primary": _person(shift.primary, policy, forge.name),
                  "secondary": _person(shift.secondary, policy, forge.name), "until": shift.end}
    deadline = deadline_of(incident, policy)
    data: dict[str, Any] = {
        "incident": {
            "source": incident.source,
            "source_url": source_url,
            "title": UserText(incident.title),
            "severity": incident.severity,
            "severity_label": severity.labels[0],
            "severity_description": severity.description or "",
            "kind": incident.kind or "",
            "kind_description": (kind.description if kind else "") or "",
            "confidential": bool(kind and kind.confidential),
            "notice_only": bool(kind and kind.notice_only),
            "status": incident.status,
            "declared_at": incident.declared_at,
            "severity_since": incident.severity_since,
            "deadline": deadline,
            "resolve_within": severity.resolve_within,
            "acknowledged_at": incident.acknowledged_at,
            "acknowledged_by": UserText(incident.acknowledged_by or ""),
            "resolved_at": incident.resolved_at,
            "resolved_by": UserText(incident.resolved_by or ""),
            "resolution": UserText(incident.resolution),
            "runbook": incident.runbook or policy.runbook_for((), incident.severity, incident.kind),
            "postmortem": severity.postmortem is not None and not (kind and kind.notice_only),  # expected (the notices say so)
            "postmortem_due": incident.postmortem_due,
            "generation": incident.generation,
            "channels": list(incident.notified),
        },
        "people": tagged,
        "slack_mentions": [p["slack"] for p in tagged if p["slack"]],
        "form": form,
        "oncall": oncall,
        "status_page": policy.status_page.url or "",
        "now": now,
        "late": "",
    }
    if extra:
        data.update(extra)
    return data


# -- planning --------------------------------------------------------------------------------------

class _Planner:
    def __init__(self, event: Event, incident: Incident | None, now: datetime, policy: Policy, forge: ForgeInfo,
                 stale_since: datetime | None = None, releases: tuple[Release, ...] = ()) -> None:
        self.stale_since = stale_since
        self.releases = releases
        self.regression: dict[str, Any] | None = None
        self.event = event
        self.incident = incident
        self.now = now
        self.policy = policy
        self.forge = forge
        self.actions: list[a.Action] = []
        self.notes: list[str] = []

    # helpers
    @property
    def prefix(self) -> str:
        assert self.incident is not None
        return f"{self.incident.source}:g{self.incident.generation}"

    def ctx(self, people: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        assert self.incident is not None
        on_source = self.event.issue.number == self.incident.source
        if self.regression is not None:
            extra = {"regression": self.regression, **extra}
        return context(self.incident, self.policy, self.forge, self.now,
                       source_body=self.event.issue.body if on_source else "",
                       source_url=self.event.issue.url if on_source else "",
                       people=people, extra=extra)

    def team_channels(self) -> list[str]:
        assert self.incident is not None
        return [c for c in self.incident.notified if self.policy.channel_audience(c) == "team"]

    def chat_template(self, channel: str, what: str) -> str:
        audience = self.policy.channel_audience(channel)
        return f"chat/{'users_' if audience == 'users' else ''}{what}.txt.j2"

    def has_outage_issue(self) -> bool:
        return self.incident is not None and self.incident.outage_issue is not None

    def plans_outage_issue(self) -> bool:
        return any(isinstance(x, a.OpenOutageIssue) for x in self.actions)

    # entry
    def run(self) -> Plan:
        event, incident = self.event, self.incident
        on_source = incident is None or event.issue.number == incident.source
        severity = self.policy.severity_of(event.issue.labels) if on_source else None
        if incident is None:
            severity = severity or self._form_severity()
            if severity and event.issue.is_open and event.kind not in (EventKind.UNLABELED, EventKind.CLOSED, EventKind.UNREACTED):
                self.declare(severity)
            else:
                self.notes.append("no incident here: the issue has no severity label")
            return self.done()
        if not incident.active:
            reopening = event.kind == EventKind.REOPENED or (
                event.kind == EventKind.LABELED and on_source and severity
                and set(event.added()) & set(self.policy.all_severity_labels())
            ) or (event.kind == EventKind.TICK and on_source and severity and incident.closed_source)
            if reopening and event.issue.is_open:
                self.reopen(severity or incident.severity)
            elif event.kind == EventKind.TICK and event.issue.number == incident.postmortem_issue:
                self.postmortem_due()
            else:
                self.notes.append(f"incident is {incident.status}: nothing to do")
            return self.done()
        # an active incident
        if event.kind == EventKind.COMMENTED and event.comment is not None:
            self.on_comment()
        elif event.kind == EventKind.REACTED and event.emoji == "eyes":
            if self.allowed("👀"):  # anyone else's reaction is ignored, silently
                self.acknowledge(event.actor, "👀")
        elif event.kind == EventKind.CHAT_REACTED and event.emoji == "eyes":
            if incident.status == "active" and self.allowed("👀 on the alert"):
                self.acknowledge(event.actor, "👀 on the alert")
        elif event.kind == EventKind.CHAT_REPLIED:
            self.copy_replies()
        elif event.kind == EventKind.CHAT_REACTED and event.emoji in CHAT_RESOLVED:
            if self.allowed("✅ on the alert", resolving=True):
                note = event.comment.body if event.comment is not None else ""
                self.resolve(event.actor, "resolved", UserText(note or "✅ on the alert"))
        elif event.kind == EventKind.CLOSED and event.issue.number not in (incident.source, incident.outage_issue):
            self.notes.append(f"#{event.issue.number} is an earlier outage issue of this incident: nothing to do")
        elif event.kind == EventKind.CLOSED:
            if self.allowed("closing the issue", resolving=True):
                self.resolve(event.actor, "resolved", UserText(""), closed=event.issue.number)
            else:
                self.not_ended("closed")
        elif event.kind in (EventKind.LABELED, EventKind.UNLABELED, EventKind.EDITED, EventKind.OPENED, EventKind.REOPENED) and on_source:
            if self.policy.labels.acknowledged in event.added() and self.allowed("the acknowledged label"):
                self.acknowledge(event.actor, "label")
            if severity is None and set(event.removed()) & set(self.policy.all_severity_labels()):
                if self.allowed("removing the severity label", resolving=True):
                    self.resolve(event.actor, "resolved", UserText("the severity label was removed"))
                else:
                    self.not_ended("removed the severity label from")
            elif severity is not None and severity != incident.severity:
                self.change_severity(severity)
        elif event.kind == EventKind.LABELED and self.policy.labels.acknowledged in event.added():
            if self.allowed("the acknowledged label"):
                self.acknowledge(event.actor, "label")
        elif event.kind == EventKind.TICK:
            self.labels_since()
            self.stale_notice()
            self.timers()
        return self.done()

    def done(self) -> Plan:
        return Plan(self.incident, tuple(self.actions), tuple(self.notes))

    def _form_severity(self) -> str | None:
        """An issue opened from the outage form names its severity in a dropdown: the bot puts
        that label on, since a form cannot set a label from a field."""
        if self.event.kind not in (EventKind.OPENED, EventKind.TICK):
            return None
        value = str(parse_form(self.event.issue.body)["severity"]).strip()
        for name, severity in self.policy.severities.items():
            for label in severity.labels:
                if value in (label, name) or value.startswith((label + " ", name + " ")):
                    self.actions.append(a.AddLabels(key=f"{self.event.issue.number}:form-label", target="source", labels=(label,)))
                    return name
        return None

    # -- lifecycle steps ----------------------------------------------------------------------------
    def declare(self, severity: str, *, reopened: bool = False, generation: int = 1, previous: Incident | None = None) -> None:
        event = self.event
        kind = self.policy.kind_of(event.issue.labels)
        at = min(event.at, self.now)
        self.incident = Incident(
            source=event.issue.number, severity=severity, kind=kind, status="active",
            title=plain_title(event.issue.title), declared_at=at, severity_since=at, generation=generation,
            severity_history=((severity, at),), runbook=self.policy.runbook_for(event.issue.labels, severity, kind),
            outage_issue=previous.outage_issue if previous else None,
            outage_url=previous.outage_url if previous else None,
        )
        self.notes.append(f"{'reopened' if reopened else 'declared'}: {severity}{f' ({kind})' if kind else ''} incident on #{event.issue.number}")
        if kind and self.policy.kinds[kind].regression:
            self.regression = regression_of(self.releases, at)
        spec = self.policy.severities[severity]
        owed = not schedule.notice_only(self.incident, self.policy)
        people = resolve_people(tag_refs(self.policy, severity, kind), self.policy, self.now) if owed else []
        self.incident = self.incident.with_(tagged=tuple(people))
        self.actions.append(a.TagPeople(key=f"{self.prefix}:tag", people=tuple(people),
                                        template="tag.md.j2", context=self.ctx(people, reopened=reopened)))
        self.open_outage_issue(spec)
        self.alert(route(self.policy, severity, kind), reopened=reopened)

    def open_outage_issue(self, spec: Severity) -> None:
        assert self.incident is not None
        if spec.outage_issue is None or self.has_outage_issue() and self.incident.generation == 1:
            return
        kind = self.policy.kinds.get(self.incident.kind) if self.incident.kind else None
        confidential = bool(kind and kind.confidential)
        if confidential and not self.forge.capabilities.confidential_issues:
            self.notes.append("no outage issue: this forge cannot make a confidential issue for a confidential kind")
            # GitHub has no confidential issues: point the reporter to a private advisory, once.
            self.actions.append(a.PostComment(key=f"{self.incident.source}:advisory", target="source",
                                              template="security_advisory.md.j2", context=self.ctx()))
            return
        labels = list(spec.outage_issue.labels) + [self.policy.labels.active]
        title = spec.outage_issue.title.replace("{title}", self.incident.title)
        self.actions.append(a.OpenOutageIssue(
            key=f"{self.prefix}:outage-issue", title=plain_title(title), template=spec.outage_issue.template,
            labels=tuple(dict.fromkeys(labels)), confidential=confidential,
            incident=self.forge.capabilities.incident_issue_type, context=self.ctx()))
        if spec.outage_issue.pin and self.forge.capabilities.pinning and not confidential:
            self.actions.append(a.PinIssue(key=f"{self.prefix}:pin", target="outage"))

    def alert(self, channels: list[str], *, reopened: bool = False) -> None:
        assert self.incident is not None
        ctx = self.ctx(reopened=reopened)
        for channel in channels:
            self.actions.append(a.PostChatMessage(key=f"{self.prefix}:chat:{channel}", channel=channel, root=True,
                                                  template=self.chat_template(channel, "alert"), context=ctx))
        self.incident = self.incident.with_(notified=tuple(dict.fromkeys(self.incident.notified + tuple(channels))))

    def update_chat(self, what: str, key: str, *, users_too: bool = False, react: str = "", **extra: Any) -> None:
        """A thread reply in each alerted channel, and the root alert edited to the new state."""
        assert self.incident is not None
        ctx = self.ctx(**extra)
        for channel in self.incident.notified:
            users = self.policy.channel_audience(channel) == "users"
            if users and not users_too:
                continue
            self.actions.append(a.PostChatMessage(key=f"{key}:chat:{channel}", channel=channel,
                                                  template=self.chat_template(channel, what), context=ctx))
            self.actions.append(a.UpdateChatMessage(key=f"{key}:chat:{channel}:root", channel=channel,
                                                    template=self.chat_template(channel, "alert"), context=ctx))
            if react and not users:
                self.actions.append(a.AddChatReaction(key=f"{key}:chat:{channel}:{react}", channel=channel, emoji=react))

    def refresh_outage_issue(self, key: str) -> None:
        if self.has_outage_issue() or self.plans_outage_issue():
            assert self.incident is not None
            spec = self.policy.severities[self.incident.severity].outage_issue
            template = spec.template if spec else "outage_issue.md.j2"
            self.actions.append(a.EditOutageIssue(key=f"{key}:outage-body", template=template, context=self.ctx()))

    def allowed(self, how: str, *, resolving: bool = False) -> bool:
        """The one permission rule for every way to acknowledge or resolve: the policy's
        people, triage/reporter access or better (the shell's `actor_trusted`), and, if the
        policy says so, the reporter of the source issue when resolving."""
        assert self.incident is not None
        event = self.event
        if event.actor_trusted:
            return True
        reporter = event.issue.number == self.incident.source and event.actor.lower() == event.issue.author.lower()
        if resolving and reporter and self.policy.permissions.author_may_resolve:
            return True
        self.notes.append(f"{how} by {event.actor} ignored: not in the policy's people and no triage access")
        return False

    def not_ended(self, what: str) -> None:
        """Someone who may not resolve (or whom the forge did not name: a lost event) closed an
        issue of the incident or removed its severity label: the issue stays as they left it,
        the process goes on, and the team is told once (on the outage issue if there is one)."""
        assert self.incident is not None
        self.notes.append(f"#{self.event.issue.number}: {what} by {self.event.actor or 'someone unknown'}: the incident goes on")
        self.actions.append(a.PostComment(
            key=f"{self.prefix}:closed-not-resolved", target="outage" if self.has_outage_issue() else "source",
            template="closed_not_resolved.md.j2",
            context=self.ctx(actor=UserText(self.event.actor), closed=self.event.issue.number, what=what)))

    def on_comment(self) -> None:
        assert self.incident is not None and self.event.comment is not None
        found = command_in(self.event.comment.body)
        if not found:
            return
        verb, text = found
        if not self.allowed(f"/{verb}", resolving=verb not in ("ack", "update")):  # the one polite reply
            self.actions.append(a.PostComment(key=f"{self.prefix}:refuse:{self.event.comment.id}", target=self.event.issue.number,
                                              template="not_allowed.md.j2", context=self.ctx(actor=UserText(self.event.actor), verb=verb)))
            return
        if verb == "ack":
            self.acknowledge(self.event.actor, "/ack")
        elif verb == "update":
            self.update_users(UserText(text), self.event.comment.id)
        else:
            self.resolve(self.event.actor, "false_positive" if verb == "false-positive" else "resolved", UserText(text))

    def copy_replies(self) -> None:
        """The team's replies in the alert thread, each once, on the outage issue (else the
        reported issue): the forge keeps the whole story, attributed, as inert text."""
        assert self.incident is not None
        target = "outage" if self.has_outage_issue() else "source"
        for who, at, text, ts in self.event.replies:
            self.actions.append(a.PostComment(key=f"{self.prefix}:reply:{ts}", target=target, template="chat_reply.md.j2",
                                              context=self.ctx(reply={"who": UserText(who), "at": at, "text": UserText(text)})))

    def update_users(self, text: UserText, comment_id: int) -> None:
        """`/update <text>`: what users are told, on the outage issue and in the users'
        channels' threads, in one go; it restarts the `update_every` clock."""
        assert self.incident is not None
        if not str(text).strip():
            self.notes.append("/update with no text: nothing to tell users")
            return
        self.incident = self.incident.with_(updated_at=min(self.event.at, self.now))
        key = f"{self.prefix}:update:{comment_id}"
        ctx = self.ctx(update=text)
        if self.has_outage_issue():
            self.actions.append(a.PostComment(key=key, target="outage", template="update.md.j2", context=ctx))
        for channel in self.incident.notified:
            if self.policy.channel_audience(channel) == "users":
                self.actions.append(a.PostChatMessage(key=f"{key}:chat:{channel}", channel=channel,
                                                      template="chat/users_update.txt.j2", context=ctx))

    def acknowledge(self, who: str, how: str) -> None:
        assert self.incident is not None
        if self.incident.status != "active":
            return
        self.incident = self.incident.with_(status="acknowledged", acknowledged_at=min(self.event.at, self.now), acknowledged_by=who)
        self.notes.append(f"acknowledged by {who} ({how})")
        key = f"{self.prefix}:ack"
        self.actions.append(a.PostComment(key=key, target="source", template="ack.md.j2", context=self.ctx(how=how)))
        if self.has_outage_issue():
            self.actions.append(a.AddLabels(key=f"{key}:label", target="outage", labels=(self.policy.labels.acknowledged,)))
        self.refresh_outage_issue(key)
        self.update_chat("ack", key, react="eyes")

    def resolve(self, who: str, status: str, note: UserText, *, closed: int | None = None) -> None:
        assert self.incident is not None
        self.incident = self.incident.with_(status=status, resolved_at=min(self.event.at, self.now), resolved_by=who, resolution=note,
                                            closed_source=closed == self.incident.source)
        self.notes.append(f"{status.replace('_', ' ')} by {who}")
        key = f"{self.prefix}:resolved"
        if status == "resolved":
            self.open_postmortem(acknowledger=self.incident.acknowledged_by or who)
        self.actions.append(a.PostComment(key=key, target="source", template="resolved.md.j2", context=self.ctx()))
        if self.has_outage_issue():
            self.refresh_outage_issue(key)
            self.actions.append(a.RemoveLabels(key=f"{key}:label", target="outage", labels=(self.policy.labels.active,)))
            if self.incident.pin == "pinned":
                self.actions.append(a.UnpinIssue(key=f"{key}:unpin", target="outage"))
            if closed != self.incident.outage_issue:
                self.actions.append(a.CloseIssue(key=f"{key}:close", target="outage"))
        self.update_chat("resolved", key, users_too=True, react="white_check_mark")

    def open_postmortem(self, *, acknowledger: str) -> None:
        """Before the resolution's notices, which link it (they are written after it)."""
        assert self.incident is not None
        spec = self.policy.severities[self.incident.severity].postmortem
        if spec is None or not spec.required or schedule.notice_only(self.incident, self.policy):
            return
        kind = self.policy.kinds.get(self.incident.kind) if self.incident.kind else None
        confidential = bool(kind and kind.confidential)
        if confidential and not self.forge.capabilities.confidential_issues:
            self.notes.append("no post-mortem issue: this forge cannot make a confidential issue for a confidential kind")
            return
        self.incident = self.incident.with_(postmortem_due=min(self.event.at, self.now) + spec.due)
        title = spec.title.replace("{title}", self.incident.title)
        self.actions.append(a.OpenPostMortem(
            key=f"{self.prefix}:postmortem", title=plain_title(title), template=spec.template,
            labels=tuple(dict.fromkeys(spec.labels)), confidential=confidential, assignee=acknowledger,
            context=self.ctx(owner=_person_by_login(acknowledger, self.policy, self.forge.name))))

    def postmortem_due(self) -> None:
        """A tick, on the post-mortem issue (as the forge has it now): once its due time has
        passed and it is still open, one reminder there."""
        assert self.incident is not None
        due = self.incident.postmortem_due
        if due is None or due > self.now:
            self.notes.append("post-mortem: not due yet")
        elif not self.event.issue.is_open:
            self.notes.append("post-mortem: done")
        else:
            self.actions.append(a.PostComment(key=f"{self.prefix}:postmortem-due", target=self.event.issue.number,
                                              template="postmortem_due.md.j2", context=self.ctx()))

    def reopen(self, severity: str) -> None:
        assert self.incident is not None
        previous = self.incident
        self.declare(severity, reopened=True, generation=previous.generation + 1, previous=previous)

    def change_severity(self, new: str) -> None:
        assert self.incident is not None
        old = self.incident.severity
        at = min(self.event.at, self.now)
        self.incident = self.incident.with_(severity=new, severity_since=at,
                                            severity_history=self.incident.severity_history + ((new, at),))
        self.notes.append(f"severity {old} -> {new}")
        key = f"{self.prefix}:severity:{new}:{at:%Y%m%dT%H%M%S}"
        wanted = resolve_people(tag_refs(self.policy, new, self.incident.kind), self.policy, self.now)
        fresh = [p for p in wanted if p not in self.incident.tagged]
        self.incident = self.incident.with_(tagged=self.incident.tagged + tuple(fresh))
        self.actions.append(a.PostComment(key=key, target="source", template="severity_changed.md.j2",
                                          context=self.ctx(fresh, old_severity=old)))
        self.open_outage_issue(self.policy.severities[new])
        self.refresh_outage_issue(key)
        self.update_chat("severity", key, users_too=True, old_severity=old)
        channels = route(self.policy, new, self.incident.kind)
        new_channels = [c for c in channels if c not in self.incident.notified]
        if new_channels:
            self.alert(new_channels)

    def stale_notice(self) -> None:
        """The scheduled run did not run for a while (GitHub starts schedules late, or drops
        them): say so on the outage issue, once per gap, since reminders came late."""
        assert self.incident is not None
        since = self.stale_since
        if since is None or not self.has_outage_issue():
            return
        self.notes.append(f"the scheduled run had not run since {since.isoformat()}: saying so on the outage issue")
        self.actions.append(a.PostComment(key=f"{self.prefix}:stale:{since:%Y%m%dT%H%M}", target="outage",
                                          template="stale_tick.md.j2", context={"since": since, "now": self.now, "forge": self.forge.name}))

    def labels_since(self) -> None:
        """A tick reads the issue as it is now: a severity change whose event was lost is acted
        on here. (A lost `incident::acknowledged` label is not: who added it is not in the
        listing, and acknowledging passes the permission rule.)"""
        assert self.incident is not None
        issue = self.event.issue
        if issue.number != self.incident.source or not issue.is_open:
            return
        severity = self.policy.severity_of(issue.labels)
        if severity is not None and severity != self.incident.severity:
            self.change_severity(severity)

    def timers(self) -> None:
        """The scheduled run: escalation when unacknowledged, reminders before the deadline,
        breach notices after it (bot.schedule says what is due). Several notices of one class
        due at once (a late or skipped tick): only the latest is sent, saying it is late."""
        assert self.incident is not None
        incident = self.incident
        spec = self.policy.severities[incident.severity]
        period = schedule.stamp(incident)
        for step in schedule.escalations(incident, self.policy):
            if step.due <= self.now:
                people = resolve_people(list(step.refs), self.policy, self.now)
                key = escalation_key(incident, step)
                self.incident = self.incident.with_(tagged=tuple(dict.fromkeys(self.incident.tagged + tuple(people))))
                self.actions.append(a.PostComment(key=key, target="source", template="escalation.md.j2",
                                                  context=self.ctx(people, step=step.index + 1, after=step.after,
                                                                   late=self._late(step.due))))
                self.update_chat("escalation", key, escalated=[self._name(p) for p in people], after=step.after)
        nudge = schedule.update_due(incident, self.policy, self.now)
        if nudge is not None:
            n, due = nudge
            owner = self._owner()
            key = f"{self.prefix}:update-due:{(incident.updated_at or incident.declared_at):%Y%m%dT%H%M%S}:{n}"
            self.update_chat("update_due", key, quiet_for=self.now - (incident.updated_at or incident.declared_at),
                             owner=owner, slack_mentions=[owner["slack"]] if owner and owner["slack"] else [])
        deadline = schedule.deadline_of(incident, self.policy)
        if deadline is None:
            return
        owners = list(dict.fromkeys(list(self.incident.tagged)))
        breach = schedule.breach_due(incident, self.policy, self.now)
        if breach is not None:
            n, due = breach
            contacts = resolve_people([r for step in spec.escalation for r in step.tag], self.policy, self.now)
            people = list(dict.fromkeys(owners + contacts))
            key = f"{self.prefix}:breach:{period}:{n}"
            self.actions.append(a.PostComment(key=key, target="source", template="breach.md.j2",
                                              context=self.ctx(people, overdue=self.now - deadline, repeat=n, late=self._late(due))))
            self.update_chat("breach", key, overdue=self.now - deadline)
            return
        reminder = schedule.reminder_due(incident, self.policy, self.now)
        if reminder is not None:
            due, offset = reminder
            key = f"{self.prefix}:remind:{period}:{int(offset.total_seconds())}"
            self.actions.append(a.PostComment(key=key, target="source", template="reminder.md.j2",
                                              context=self.ctx(owners, left=deadline - self.now, late=self._late(due))))
            self.update_chat("reminder", key, left=deadline - self.now)

    def _owner(self) -> dict[str, Any] | None:
        """Who owes users an update: whoever acknowledged, else the primary on call."""
        assert self.incident is not None
        if self.incident.acknowledged_by:
            return _person_by_login(self.incident.acknowledged_by, self.policy, self.forge.name)
        if self.policy.oncall is not None:
            from bot.oncall import on_call

            return _person(on_call(self.policy.oncall, self.policy.tz, self.now).primary, self.policy, self.forge.name)
        return None

    def _late(self, due: datetime) -> str:
        lag = self.now - due
        if lag <= LATE_AFTER:
            return ""
        from bot.durations import humanize

        return humanize(lag)

    def _name(self, pid: str) -> str:
        person = self.policy.people.get(pid)
        return (person.name if person else None) or pid


def plan(event: Event, incident: Incident | None, now: datetime, policy: Policy, forge: ForgeInfo, *,
         stale_since: datetime | None = None, releases: tuple[Release, ...] = ()) -> Plan:
    """What to do about `event`, given the incident's state (None: no incident yet).
    `stale_since`: on a tick, the last tick before a gap long enough to tell the team about.
    `releases`: the repository's latest, newest first, read for a regression kind's declaration."""
    return _Planner(event, incident, now, policy, forge, stale_since, releases).run()


def regression_of(releases: tuple[Release, ...], started: datetime) -> dict[str, Any] | None:
    """The last release before an incident started (the suspect) and the one before it (the
    last known good), for a regression kind's notices."""
    before = sorted((r for r in releases if r.at <= started), key=lambda r: r.at, reverse=True)
    if not before:
        return None

    def shown(r: Release) -> dict[str, Any]:
        return {"tag": UserText(r.tag), "name": UserText(r.name), "at": r.at, "url": r.url}

    return {"suspect": shown(before[0]), "good": shown(before[1]) if len(before) > 1 else None}


# -- notices about no incident ---------------------------------------------------------------------

def handoff_channels(policy: Policy) -> list[str]:
    oncall = policy.oncall
    if oncall is None:
        return []
    if oncall.notify:
        return list(oncall.notify)
    return ["alerts"] if "alerts" in policy.channels else []


def notice_channels(policy: Policy) -> list[str]:
    """Where the team hears the bot's own news (a gap in the schedule, the drill reminder): the
    handoff channels, else `alerts`. A policy without on-call still has a team to tell."""
    return handoff_channels(policy) or (["alerts"] if "alerts" in policy.channels else [])


def plan_handoffs(policy: Policy, since: datetime, now: datetime, done: frozenset[str]) -> tuple[a.PostNotice, ...]:
    """At each shift start between `since` and `now`: who is primary and secondary now, and a
    heads-up to the next primary (secondary this week). One key per shift and channel, so a
    channel that failed is retried without posting twice to the others."""
    if policy.oncall is None:
        return ()
    from bot.oncall import handoffs_between

    def name(pid: str) -> str:
        person = policy.people.get(pid)
        return (person.name if person else None) or pid

    def slack(pid: str) -> str | None:
        person = policy.people.get(pid)
        return person.slack if person else None

    notices: list[a.PostNotice] = []
    for shift in handoffs_between(policy.oncall, policy.tz, since, now):
        mentions = [m for m in (slack(shift.primary), slack(shift.secondary)) if m]
        if policy.oncall.slack_group:
            mentions.append(policy.oncall.slack_group)  # `@oncall`: whoever that now is
        ctx: dict[str, Any] = {"shift": shift, "primary": name(shift.primary), "secondary": name(shift.secondary),
                               "slack_mentions": mentions}
        for channel in handoff_channels(policy):
            key = f"handoff:{shift.start:%Y%m%dT%H%M}:{channel}"
            if key not in done:
                notices.append(a.PostNotice(key=key, channel=channel, template="chat/handoff.txt.j2", context=ctx))
    return tuple(notices)


DRILL_REMINDER_WINDOW = timedelta(days=7)  # a tick this late after the date still reminds


def plan_drill_reminder(policy: Policy, now: datetime, done: frozenset[str]) -> tuple[a.PostNotice, ...]:
    """On each `drills.remind_on` date (at `drills.at` in the policy's zone), a reminder to run
    `outage-bot drill`, once a date and channel: the first tick within a week of it posts it."""
    drills = policy.drills
    if drills is None:
        return ()
    channels = list(drills.notify) or notice_channels(policy)
    local = now.astimezone(policy.tz)
    notices: list[a.PostNotice] = []
    for year in (local.year - 1, local.year):
        for text in drills.remind_on:
            month, day = (int(part) for part in text.split("-"))
            try:
                moment = datetime(year, month, day, drills.at.hour, drills.at.minute, tzinfo=policy.tz)
            except ValueError:  # 02-29 in a year without it
                continue
            if not moment <= now < moment + DRILL_REMINDER_WINDOW:
                continue
            severity = drills.severity or next(iter(policy.severities))
            ctx: dict[str, Any] = {"date": moment, "severity": severity, "slack_mentions": []}
            for channel in channels:
                key = f"drill-reminder:{moment.astimezone(timezone.utc):%Y%m%dT%H%M}:{channel}"
                if key not in done:
                    notices.append(a.PostNotice(key=key, channel=channel, template="chat/drill_reminder.txt.j2", context=ctx))
    return tuple(notices)


def plan_gap_notice(policy: Policy, since: datetime, now: datetime, forge: str, done: frozenset[str], *,
                    ongoing: bool = False, schedule: str = "") -> tuple[a.PostNotice, ...]:
    """The scheduled run did not run from `since` to `now` (the caller decides it was too long):
    the team is told once per gap, with the likely cause and the fix (`notice_channels`).
    `ongoing`: an event run noticed it, no tick has run since; `schedule`: what the forge said
    of the tick's workflow (GitHub: "re-enabled", "disabled_inactivity", ...). The key is the
    gap's start: the tick that ends the gap does not say it again."""
    ctx: dict[str, Any] = {"since": since, "now": now, "forge": forge, "slack_mentions": [], "ongoing": ongoing,
                           "schedule": schedule}
    keyed = {channel: f"gap:{since:%Y%m%dT%H%M}:{channel}" for channel in notice_channels(policy)}
    return tuple(a.PostNotice(key=key, channel=channel, template="chat/schedule_gap.txt.j2", context=ctx)
                 for channel, key in keyed.items() if key not in done)


def plan_chat_group(policy: Policy, now: datetime, done: frozenset[str]) -> a.SetChatGroup | None:
    """The on-call user group's members, when who is on call changed (a handoff, an override)
    since it was last set: one key per piece of a shift and its people."""
    oncall = policy.oncall
    if oncall is None or not oncall.slack_group:
        return None
    from bot.oncall import on_call

    shift = on_call(oncall, policy.tz, now)
    if shift.start >= now:
        return None  # before the first shift: nobody's turn has begun
    people = [shift.primary] + ([shift.secondary] if oncall.slack_group_members == "both" else [])
    users = tuple(s for pid in people if (s := getattr(policy.people.get(pid), "slack", None)))
    key = f"group:{shift.start:%Y%m%dT%H%M}:{'+'.join(people)}"
    channels = handoff_channels(policy)
    if not users or key in done or not channels:
        return None
    return a.SetChatGroup(key=key, channel=channels[0], group=oncall.slack_group, users=users)


def escalations_due(incident: Incident, policy: Policy, now: datetime) -> list[str]:
    """The keys of the escalations a tick at `now` would send (the shell looks for 👀 first)."""
    return [escalation_key(incident, step) for step in schedule.escalations(incident, policy) if step.due <= now]


def escalation_key(incident: Incident, step: schedule.Step) -> str:
    """The key of an escalation notice: the planner sends it, the shell looks for 👀 first."""
    return f"{incident.source}:g{incident.generation}:escalate:{schedule.stamp(incident)}:{step.index}"
