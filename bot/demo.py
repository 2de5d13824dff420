"""`outage-bot demo`: a critical incident from label to resolution on the local forge, under a
simulated clock, with the same runner, planner and executor CI uses."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.local import LocalChat, LocalForge
from bot.adapters.local_events import act
from bot.config import load
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


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _summary(report: Report, forge: LocalForge) -> list[str]:
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


def run_demo(policy_path: Path, *, keep: str | None = None, echo: Callable[[str], None] = print) -> None:
    policy, renderer = load(policy_path)
    severity = next(iter(policy.severities))
    label = policy.severities[severity].labels[0]
    tz = policy.tz
    start = datetime(2026, 11, 9, 9, 0, tzinfo=tz)  # a Monday morning, before the noon handoff
    clock = _clock = _Clock(start)  # the runner and the local forge read the simulated time
    workdir = tempfile.mkdtemp(prefix="outage-bot-demo-")
    db = keep or str(Path(workdir) / "forge.sqlite")
    forge = LocalForge(db, clock=clock)
    chat = LocalChat(db, clock=clock)
    notifiers = {cid: chat for cid in policy.channels}
    people = list(policy.people)
    reporter = people[0] if people else "someone"
    responder = people[1] if len(people) > 1 else reporter
    for pid in people:
        forge.add_member(policy.people[pid].github or pid, Access.WRITE)
    first_line = BODY.replace("priority::highest", label)

    echo(f"outage-bot demo: a {severity} incident on the local forge ({policy_path.name}, times in {policy.timezone})")
    echo("")

    def step(at: datetime, what: str, run: Callable[[Runner], Report]) -> None:
        _clock.now = at
        runner = Runner(forge, notifiers, policy, renderer, now=at)
        report = run(runner)
        done = _summary(report, forge)
        handoffs = [line.split(": ", 1)[1] for line in report.lines if line.startswith("handoff: ")]
        detail = "; ".join(done + handoffs) or "nothing due"
        echo(f"{at.astimezone(tz):%a %H:%M}  {what:<44} {detail}")

    def person(pid: str) -> str:
        return policy.people[pid].github or pid if pid in policy.people else pid

    step(start, f"{reporter} opens an outage report, labels {label}", lambda r: r.handle(act(
        forge, {"action": "open", "title": "pipx install fails for the latest release", "body": first_line,
                "labels": [label, "outage"], "actor": person(reporter)})))
    step(start + timedelta(minutes=10), "scheduled tick", lambda r: r.tick())
    step(start + timedelta(hours=3, minutes=5), "scheduled tick (after the noon handoff)", lambda r: r.tick())
    step(start + timedelta(hours=12, minutes=5), "scheduled tick, nobody has acknowledged", lambda r: r.tick())
    forge.react(1, person(responder), "eyes")
    step(start + timedelta(hours=12, minutes=40), f"{responder} reacts 👀; the tick sees it", lambda r: r.tick())
    step(start + timedelta(hours=20, minutes=5), "scheduled tick", lambda r: r.tick())
    step(start + timedelta(hours=23, minutes=5), "scheduled tick", lambda r: r.tick())
    step(start + timedelta(hours=23, minutes=30), f"{responder} comments /resolve", lambda r: r.handle(act(
        forge, {"action": "comment", "issue": 1, "body": "/resolve Reverted to the last good release (1.2.3)",
                "actor": person(responder)})))
    step(start + timedelta(hours=23, minutes=40), "scheduled tick (status page refreshed)", lambda r: r.tick())

    echo("")
    messages = chat.messages()
    roots = [m for m in messages if not m["thread"] and ":chat:" in str(m["key"])]
    echo(f"Chat: {len(roots)} alert(s), {len(messages) - len(roots)} thread repl(ies); "
         + ", ".join(f"{m['channel']}: {m['status']} {m['reactions']}" for m in roots))
    echo(f"Forge: {len(forge.all_comments())} comments, outage issue pinned now: {forge.is_pinned(2)}, "
         f"{forge.requests} forge requests in all")
    echo(f"Sandbox kept in {db}" if keep else "Run it on your repository: see README.md")
