"""Issue #10, "no lost event of any kind", on GitHub as Actions runs it: `outage-bot handle` /
`outage-bot tick --now` through the CLI, Actions' environment pointed at the fake GitHub, and
SLACK_BOT_TOKEN / SLACK_API_URL at the fake Slack (real PyGithub and slack_sdk over loopback).

Each test does one thing a person does on github.com to a declared incident and compares two
worlds that differ only in whether the event's run happened:

- the reference: the run happened (`outage-bot handle` with the webhook payload), then the
  scheduled ticks;
- the lost event: the run never happened (cancelled while pending, failed before it began):
  only the ticks run, at the same times.

Both must end the same (comments, labels, issue states, the pin, Slack messages, threads and
reactions, the ledger's decisions and done keys; ids and times left out), and a further tick in
the lost world changes nothing: the tick acted as the event run would have, once.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fake_github import BOT, FakeGitHub
from github_helpers import Workflow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
from fake_slack import TOKEN, FakeSlack  # tests/slack is not a package either

from bot.ledger import decode_ledger

POLICY = Path(__file__).resolve().parents[1] / "fixtures" / "contract_policy.yml"  # people with handles
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)  # a Thursday, 09:00 in New York: no handoff near
EVENT_AT = T0 + timedelta(minutes=20)  # what the person does
TICKS = (T0 + timedelta(minutes=30), T0 + timedelta(minutes=40))  # the schedule after it
AGAIN = T0 + timedelta(minutes=50)  # one more tick: nothing may change
# The contract policy's Slack channels, by the names it gives them.
CHANNELS = {"outage-alerts": "C0ALERTS01", "troubleshooting": "C0USERS001", "announcements": "C0ANNOUNCE",
            "internal-infra-alerts": "G0SECURITY"}
_LEDGER = re.compile(r"<!-- outage-bot:(ledger|status) v1 \S+ -->")


class Actions(Workflow):
    """Runs outage-bot the way the workflow does, one job at a time, with Slack's Web API."""

    def __init__(self, github: FakeGitHub, slack: FakeSlack, tmp: Path) -> None:
        super().__init__(github, slack, tmp, policy=POLICY, slack_token=TOKEN, strict=True)


@dataclass
class World:
    github: FakeGitHub
    slack: FakeSlack
    run: Actions


@contextmanager
def declared(tmp: Path) -> Iterator[World]:
    """A critical incident on #1 (outage issue #2, pinned; alerts and users told), and the
    tick that built the status index."""
    with FakeGitHub() as github, FakeSlack() as slack:
        for name, cid in CHANNELS.items():
            slack.add_channel(name, id=cid, private=cid.startswith("G"))
        github.set_role("maint", "maintain")
        github.set_role("triager", "triage")
        run = Actions(github, slack, tmp)
        github.add_issue("Checkout is down", "Every order fails with a 502.", author="reporter", at=T0 - timedelta(minutes=5))
        github.label(1, "priority::highest", actor="reporter", at=T0)
        run.handle("issues", "labeled", 1, sender="reporter", at=T0 + timedelta(seconds=20), label="priority::highest")
        run.tick(T0 + timedelta(minutes=10))
        assert github.pinned == [2] and len(slack.roots(CHANNELS["outage-alerts"])) == 1
        yield World(github, slack, run)


def reopen(github: FakeGitHub, number: int, *, actor: str, at: datetime) -> None:
    """A person reopens an issue on github.com (the fake has no helper for it)."""
    with github.lock:
        issue = github.issues[number]
        issue.state, issue.state_reason, issue.closed_at = "open", "reopened", None
        github._event(issue, "reopened", actor, at)


# -- what people do, and the runs it starts ------------------------------------------------------------
# Each change is done to the fake as a person would; it returns the runs GitHub Actions starts for
# it, as (event, action, number, sender, extra payload fields).
Run = tuple[str, str, int, str, dict[str, Any]]
Change = Callable[[FakeGitHub], list[Run]]


def command(text: str, user: str, number: int = 1) -> Change:
    def change(github: FakeGitHub) -> list[Run]:
        cid = github.comment(number, text, user=user, at=EVENT_AT)
        return [("issue_comment", "created", number, user, {"comment": cid})]
    return change


def ack_label(github: FakeGitHub) -> list[Run]:
    github.label(1, "incident::acknowledged", actor="triager", at=EVENT_AT)
    return [("issues", "labeled", 1, "triager", {"label": "incident::acknowledged"})]


def close(user: str, number: int = 1) -> Change:
    def change(github: FakeGitHub) -> list[Run]:
        github.close(number, actor=user, at=EVENT_AT)
        return [("issues", "closed", number, user, {})]
    return change


def relabel(github: FakeGitHub) -> list[Run]:
    # GitHub's label picker: one label off, another on; two events, two runs
    github.unlabel(1, "priority::highest", actor="maint", at=EVENT_AT)
    github.label(1, "priority::higher", actor="maint", at=EVENT_AT)
    return [("issues", "unlabeled", 1, "maint", {"label": "priority::highest"}),
            ("issues", "labeled", 1, "maint", {"label": "priority::higher"})]


def unlabel(github: FakeGitHub) -> list[Run]:
    github.unlabel(1, "priority::highest", actor="maint", at=EVENT_AT)
    return [("issues", "unlabeled", 1, "maint", {"label": "priority::highest"})]


def reopened(github: FakeGitHub) -> list[Run]:
    reopen(github, 1, actor="maint", at=EVENT_AT)
    return [("issues", "reopened", 1, "maint", {})]


def closed_earlier(world: World) -> None:
    """Before a reopen: a maintainer closed #1, and that run happened (the incident resolved)."""
    world.github.close(1, actor="maint", at=T0 + timedelta(minutes=12))
    world.run.handle("issues", "closed", 1, sender="maint", at=T0 + timedelta(minutes=12, seconds=20))
    assert world.github.issues[2].state == "closed"


@dataclass(frozen=True)
class Case:
    change: Change
    expect: Callable[[World], None]  # what the event's run does, checked on the lost world's end
    before: Callable[[World], None] | None = None
    # The change starts a new deadline (a reopen, a severity change): the reference counts it from
    # the event; the tick, which is not told when the change happened, from its own time.
    new_deadline: bool = False


def acknowledged(world: World) -> None:
    assert "incident::acknowledged" in world.github.issues[2].labels
    assert any("Acknowledged" in b and "triager" in b for b in bot_comments(world.github, 1))


def resolved(by: str, note: str = "") -> Callable[[World], None]:
    def check(world: World) -> None:
        github = world.github
        assert github.issues[2].state == "closed" and "outage::active" not in github.issues[2].labels
        assert github.pinned == []
        [done] = [b for b in bot_comments(github, 1) if "**Resolved**" in b or "**False positive**" in b]
        assert f"by {by}" in done and note in done
        assert [r["name"] for r in world.slack.roots(CHANNELS["outage-alerts"])[0]["reactions"]] == ["white_check_mark"]
    return check


def still_open(world: World) -> None:
    github = world.github
    assert github.issues[1].state == "closed"  # left closed
    assert github.issues[2].state == "open" and github.pinned == [2]  # the incident goes on
    [told] = [b for b in bot_comments(github, 2) if "reporter closed #1" in b]
    assert "**the incident is still open**" in told


def new_generation(world: World) -> None:
    github = world.github
    assert [i.number for i in github.stored_issues(containing="outage-bot:outage-of=1 ")] == [2, 4]  # 3: the status issue
    assert github.issues[4].state == "open" and github.pinned == [4]
    assert len([b for b in bot_comments(github, 1) if "outage-bot:key=1:g2:tag" in b]) == 1


def severity_changed(world: World) -> None:
    [changed] = [b for b in bot_comments(world.github, 1) if "**Severity changed**" in b]
    assert "from critical to **major**" in changed
    assert world.github.issues[2].state == "open"


CASES = {
    "ack": Case(command("/ack on it", "triager"), acknowledged),  # triage access
    "resolve": Case(command("/resolve rolled back the deploy", "maint"), resolved("maint", "rolled back the deploy")),
    "false-positive": Case(command("/false-positive the probe was misconfigured", "taylor-gh"),  # a policy person
                           resolved("taylor-gh", "the probe was misconfigured")),
    "close by a maintainer": Case(close("maint"), resolved("maint")),
    "close by a stranger": Case(close("reporter"), still_open),  # its author, with no access: not a resolve
    "reopen": Case(reopened, new_generation, before=closed_earlier, new_deadline=True),
    "relabel": Case(relabel, severity_changed, new_deadline=True),
    "acknowledged label": Case(ack_label, acknowledged),
    "ack on the outage issue": Case(command("/ack on it", "triager", number=2), acknowledged),
    "resolve on the outage issue": Case(command("/resolve rolled back the deploy", "maint", number=2),
                                        resolved("maint", "rolled back the deploy")),
}


# -- what a person would see -------------------------------------------------------------------------
# Times as the bot shows them ("Thu 05 Nov 09:20 EST (14:20 UTC)") and in keys ("20261105T142000").
_SHOWN = re.compile(r"[A-Z][a-z]{2} \d{2} [A-Z][a-z]{2} \d{2}:\d{2} [A-Z]{3,5} \(\d{2}:\d{2} UTC\)")
_KEYED = re.compile(r"\b\d{8}T\d{6}\b")
# When the status issue was last written: when the ticks had something to write, not the incident's.
_CHECKED = re.compile(r"_Last checked [^_]*_")


def _neutral(text: str, *, times: bool) -> str:
    text = _CHECKED.sub("_Last checked ..._", _LEDGER.sub(r"<\1>", text))
    return _KEYED.sub("<stamp>", _SHOWN.sub("<time>", text)) if times else text


def ledger_view(body: str, *, times: bool) -> Any:
    """The ledger's decisions: the incident, what was done, what is left."""
    ledger = decode_ledger(body)
    if ledger is None:
        return None
    incident = asdict(ledger.incident)
    if times:  # which times are set, not their values
        incident = {k: ("<time>" if isinstance(v, datetime) else v) for k, v in incident.items()}
        incident["severity_history"] = [s for s, _ in ledger.incident.severity_history]
    done = sorted(_neutral(k, times=times) for k in ledger.done)
    return incident, done, [a.get("key") for a in ledger.outbox], sorted(ledger.failures), ledger.lease


def snapshot(world: World, *, times: bool = False) -> Any:
    """Everything people see on GitHub and Slack; with `times`, the times left out."""
    github, slack = world.github, world.slack
    seen: list[Any] = [("pinned", tuple(github.pinned))]
    for number, issue in sorted(github.issues.items()):
        seen.append((number, issue.author, issue.title, issue.state, tuple(issue.labels), _neutral(issue.body or "", times=times)))
        for c in github.comments_on(number):
            seen.append((number, c["user"], _neutral(c["body"], times=times), ledger_view(c["body"], times=times)))
    for name, cid in CHANNELS.items():
        messages = slack.messages(cid)
        position = {m["ts"]: i for i, m in enumerate(messages)}
        for m in messages:
            key = m.get("metadata", {}).get("event_payload", {}).get("key")
            seen.append((name, position.get(m.get("thread_ts", m["ts"])), _neutral(m["text"], times=times),
                         _neutral(json.dumps(m.get("blocks"), ensure_ascii=False), times=times),
                         key and _neutral(key, times=times), tuple(r["name"] for r in m.get("reactions", []))))
    return seen


def bot_comments(github: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in github.comments_on(number) if c["user"] == BOT]


def play(tmp: Path, case: Case, *, lost: bool) -> tuple[World, dict[str, Any]]:
    """The world after the ticks, and snapshots: at the end, at the end without times, and
    after one more tick."""
    with declared(tmp) as world:
        if case.before:
            case.before(world)
        runs = case.change(world.github)
        if not lost:
            for n, (event, action, number, sender, extra) in enumerate(runs):
                world.run.handle(event, action, number, sender=sender, at=EVENT_AT + timedelta(seconds=20 + n), **extra)
        for at in TICKS:
            world.run.tick(at)
        seen = {"end": snapshot(world), "timeless": snapshot(world, times=True)}
        keys = [m["metadata"]["event_payload"]["key"] for cid in CHANNELS.values() for m in world.slack.messages(cid)]
        assert len(keys) == len(set(keys)), keys  # nothing posted twice
        world.run.tick(AGAIN)
        seen["again"] = snapshot(world)
        return world, seen


@pytest.mark.parametrize("kind", list(CASES))
def test_a_lost_event_is_acted_on_by_the_next_tick_as_its_run_would_have_once(tmp_path: Path, kind: str) -> None:
    case = CASES[kind]
    _, reference = play(tmp_path / "reference", case, lost=False)
    world, recovered = play(tmp_path / "lost", case, lost=True)
    case.expect(world)
    # when the new deadline starts is test_..._counts_from_the_change's
    compared = "timeless" if case.new_deadline else "end"
    assert recovered[compared] == reference[compared]
    assert recovered["again"] == recovered["end"]  # a second tick changes nothing


@pytest.mark.parametrize("kind", ["reopen", "relabel"])
def test_a_lost_reopen_or_relabel_counts_the_new_deadline_from_the_change(tmp_path: Path, kind: str) -> None:
    _, reference = play(tmp_path / "reference", CASES[kind], lost=False)
    _, recovered = play(tmp_path / "lost", CASES[kind], lost=True)
    assert recovered["end"] == reference["end"]


def test_a_lost_close_of_the_outage_issue_resolves(tmp_path: Path) -> None:
    case = Case(close("maint", number=2), resolved("maint"))
    _, reference = play(tmp_path / "reference", case, lost=False)
    world, recovered = play(tmp_path / "lost", case, lost=True)
    assert recovered["end"] == reference["end"]
    case.expect(world)


def test_a_lost_label_removal_by_a_maintainer_resolves(tmp_path: Path) -> None:
    case = Case(unlabel, resolved("maint", "the severity label was removed"))
    _, reference = play(tmp_path / "reference", case, lost=False)
    world, recovered = play(tmp_path / "lost", case, lost=True)
    assert recovered["end"] == reference["end"]
    case.expect(world)
