"""`outage-bot demo`: a critical incident from label to resolution on the local forge, under a
simulated clock, with the same runner, planner and executor CI uses."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.local_events import act
from bot.config import load
from bot.demo_view import RecordingChat, RecordingForge, Shown, pick, render_view
from bot.events import Event
from bot.ledger import OUTAGE_RE
from bot.policy import Policy
from bot.records import Access
from bot.runner import Report, Runner

BODY = """### What is broken

`pipx install` of the latest release fails with a dependency conflict.

### Who is affected

Everyone installing or upgrading since the release.

### Since when

This morning's release.

### Workaround

Pin the previous version: `pipx install 'project==1.2.3'`.

### Upstream status

_No response_

### Severity

priority::highest
"""


TICK_EVERY = timedelta(minutes=10)  # the shipped GitHub workflow's schedule (cron "*/10 * * * *")


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _summary(report: Report) -> list[str]:
    """The actions of a run as short phrases a person reads at a glance."""
    out: list[str] = []
    for _number, planned, outcome in report.plans:
        for action in planned.actions:
            if action.key not in outcome.done_now:
                continue
            name = type(action).__name__
            a: Any = action
            if name == "TagPeople":
                out.append(f"tagged {', '.join(a.people) or 'nobody'}")
            elif name == "OpenOutageIssue":
                inc = outcome.ledger.incident if outcome.ledger else None
                out.append(f"opened outage issue #{inc.outage_issue if inc else '?'}")
            elif name == "PinIssue":
                out.append("pinned it" if outcome.ledger and outcome.ledger.incident.pin == "pinned" else "could not pin it")
            elif name == "UnpinIssue":
                out.append("unpinned it")
            elif name == "CloseIssue":
                out.append("closed the outage issue")
            elif name == "PostChatMessage":
                out.append(f"{'alert' if a.root else 'thread reply'} -> {a.channel}")
            elif name == "PostComment":
                out.append(f"comment ({a.template.split('.')[0].replace('_', ' ')})")
            elif name == "AddChatReaction":
                out.append(f":{a.emoji}: on the {a.channel} alert")
    return out


def _worth_reading(report: Report, policy: Policy, forge: RecordingForge, chat: RecordingChat) -> list[Shown]:
    """What a run wrote that the demo shows in full: the outage issue as opened, the tag
    comment, the escalation (comment and thread reply), the chat alert and the users' notice."""
    shown: list[Shown] = []
    for _number, planned, outcome in report.plans:
        for action in planned.actions:
            if action.key not in outcome.done_now:
                continue
            a: Any = action
            heading = ""
            name = type(action).__name__
            if name == "OpenOutageIssue":
                heading = "the outage issue, as opened"
            elif name == "TagPeople":
                heading = "the tag comment"
            elif name == "PostComment" and a.template.startswith("escalation."):
                heading = "the escalation comment"
            elif name == "PostChatMessage" and (a.root or "escalation" in a.template):
                channel = policy.channels[a.channel]
                where = f"{channel.slack} (the {a.channel} channel)" if channel.slack else f"the {a.channel} channel"
                if not a.root:
                    heading = f"the escalation, in the alert's thread in {where}"
                elif policy.channel_audience(a.channel) == "users":
                    heading = f"the users' notice in {where}"
                else:
                    heading = f"the alert in {where}"
            written = pick(chat.written if name == "PostChatMessage" else forge.written, action.key) if heading else None
            if written is not None:
                place = "" if written.message is not None else f" {written.where}" if name == "OpenOutageIssue" else f" on {written.where}"
                shown.append(Shown(heading.replace("outage issue,", f"outage issue{place},") if name == "OpenOutageIssue"
                                   else heading + place, written))
    return shown


@dataclass(frozen=True)
class _Act:
    """Something a person does at `at`: an event the bot is sent (`event`), or something no
    event tells it about (`silently`: a reaction has no webhook on GitHub) that a tick finds."""

    at: datetime
    what: str
    event: Callable[[], Event] | None = None
    silently: Callable[[], object] | None = None


def run_demo(policy_path: Path, *, keep: str | None = None, quiet: bool = False, echo: Callable[[str], None] = print) -> None:
    """The incident as a real repository's runs would see it: a tick every TICK_EVERY across
    the simulated day (a quiet tick is one request on the local forge), people acting between
    ticks, the clock at the moment of each. The timeline; then, unless `quiet`, what the bot
    wrote, as people read it; then the totals."""
    policy, renderer = load(policy_path)
    severity = next(iter(policy.severities))
    label = policy.severities[severity].labels[0]
    tz = policy.tz
    start = datetime(2026, 11, 9, 9, 0, tzinfo=tz)  # a Monday morning, before the noon handoff
    end = start + timedelta(hours=23, minutes=40)
    clock = _Clock(start)  # the runner and the local forge read the simulated time
    workdir = tempfile.mkdtemp(prefix="outage-bot-demo-")
    db = keep or str(Path(workdir) / "forge.sqlite")
    forge = RecordingForge(db, clock=clock)
    chat = RecordingChat(db, clock=clock)
    notifiers = {cid: chat for cid in policy.channels}
    people = list(policy.people)
    reporter = people[0] if people else "someone"
    responder = people[1] if len(people) > 1 else reporter
    for pid in people:
        forge.add_member(policy.people[pid].github or pid, Access.WRITE)

    def person(pid: str) -> str:
        return policy.people[pid].github or pid if pid in policy.people else pid

    acts = [
        _Act(start, f"{reporter} opens an issue labeled {label}", event=lambda: act(forge, {
            "action": "open", "title": "pipx install fails for the latest release",
            "body": BODY.replace("priority::highest", label), "labels": [label, "outage"], "actor": person(reporter)})),
        _Act(start + timedelta(hours=12, minutes=25), f"{responder} reacts 👀 on #1 (no event: a tick looks)",
             silently=lambda: forge.react(1, person(responder), "eyes")),
        _Act(start + timedelta(hours=23, minutes=25), f"{responder} comments /resolve", event=lambda: act(forge, {
            "action": "comment", "issue": 1, "body": "/resolve Reverted to the last good release (1.2.3)",
            "actor": person(responder)})),
    ]
    ticks = [start + k * TICK_EVERY for k in range(1, int((end - start) / TICK_EVERY) + 1)]
    # (a person acting at a tick's minute acts first)
    moments: list[tuple[datetime, _Act | None]] = sorted([(x.at, x) for x in acts] + [(t, None) for t in ticks],
                                                        key=lambda m: (m[0], m[1] is None))
    width = max(len(x.what) for x in acts) + 2

    echo(f"outage-bot demo: a {severity} incident on the local forge ({policy_path.name}, times in {policy.timezone}),")
    echo(f"with a scheduled tick every {TICK_EVERY.seconds // 60} minutes, as the shipped GitHub workflow runs them")
    echo("")
    shown: list[Shown] = []
    quiet_ticks: list[datetime] = []

    def line(at: str, what: str, detail: str) -> None:
        echo(f"{at:<16} {what:<{width}} {detail}".rstrip())

    def flush_quiet() -> None:
        if quiet_ticks:
            first, last = quiet_ticks[0].astimezone(tz), quiet_ticks[-1].astimezone(tz)
            when = f"{first:%a %H:%M}" + (f"-{last:%H:%M}" if last != first else "")
            line(when, f"{len(quiet_ticks)} scheduled tick{'s' if len(quiet_ticks) > 1 else ''}", "nothing due")
            quiet_ticks.clear()

    for at, person_act in moments:
        clock.now = at
        if person_act is not None and person_act.silently is not None:
            flush_quiet()
            person_act.silently()
            line(f"{at.astimezone(tz):%a %H:%M}", person_act.what, "")
            continue
        runner = Runner(forge, notifiers, policy, renderer, now=at)
        report = runner.handle(person_act.event()) if person_act is not None and person_act.event else runner.tick()
        done = _summary(report) + [ln.split(": ", 1)[1] for ln in report.lines if ln.startswith("handoff: ")]
        if person_act is None and not done:
            quiet_ticks.append(at)
            continue
        flush_quiet()
        line(f"{at.astimezone(tz):%a %H:%M}", person_act.what if person_act else "scheduled tick", "; ".join(done) or "nothing due")
        shown += _worth_reading(report, policy, forge, chat)
    flush_quiet()

    if not quiet:
        echo("")
        render_view(shown, tz, echo)
    echo("")
    messages = chat.messages()
    roots = [m for m in messages if not m["thread"] and ":chat:" in str(m["key"])]
    echo(f"Chat: {len(roots)} alert(s), {len(messages) - len(roots)} thread repl(ies); "
         + ", ".join(f"{m['channel']}: {m['status']} {m['reactions']}" for m in roots))
    outage = next((int(w.where[1:]) for w in forge.written if w.title and OUTAGE_RE.search(w.body)), None)
    pinned = forge.is_pinned(outage) if outage is not None else False
    echo(f"Forge: {len(forge.all_comments())} comments, outage issue pinned now: {pinned}, "
         f"{forge.requests} forge requests in all ({len(ticks)} scheduled ticks)")
    echo(f"Sandbox kept in {db}" if keep else "Run it on your repository: see README.md")
