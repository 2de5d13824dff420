"""Issue #10, "no lost event of any kind", on GitLab as GitLab CI runs it: a webhook delivery to
the pipeline trigger starts `outage-bot handle` (TRIGGER_PAYLOAD), a pipeline schedule starts
`outage-bot tick --now`, through the CLI, the job's environment pointed at the fake GitLab and
SLACK_BOT_TOKEN / SLACK_API_URL at the fake Slack (real python-gitlab and slack_sdk over
loopback).

Each test does one thing a person does in GitLab's UI to a declared incident and compares two
worlds that differ only in whether the webhook's pipeline ran:

- the reference: GitLab delivered the webhook and `outage-bot handle` ran, then the scheduled
  ticks;
- the lost event: no pipeline ran (the webhook was disabled or failed, the pipeline was
  cancelled): only the ticks run, at the same times.

Both must end the same (notes, labels, issue states, Slack messages, threads and reactions, the
ledger's decisions and done keys; ids and times left out), and a further tick in the lost world
changes nothing: the tick acted as the event run would have, once.
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
from click.testing import CliRunner, Result
from fake_gitlab import TOKEN, FakeGitLab
from payloads import as_trigger_payload, issue_hook, note_hook, write

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
from fake_slack import TOKEN as SLACK_TOKEN  # tests/slack is not a package either
from fake_slack import FakeSlack

from bot.cli import cli
from bot.ledger import decode_ledger

POLICY = Path(__file__).resolve().parents[1] / "fixtures" / "contract_policy.yml"  # people with handles
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)  # a Thursday, 09:00 in New York: no handoff near
EVENT_AT = T0 + timedelta(minutes=20)  # what the person does
TICKS = (T0 + timedelta(minutes=30), T0 + timedelta(minutes=40))  # the schedule after it
AGAIN = T0 + timedelta(minutes=50)  # one more tick: nothing may change
# The contract policy's Slack channels, by the names it gives them.
CHANNELS = {"outage-alerts": "C0ALERTS01", "troubleshooting": "C0USERS001", "announcements": "C0ANNOUNCE",
            "internal-infra-alerts": "G0SECURITY"}
REPORTER, DEVELOPER, GUEST = 20, 30, 10  # GitLab access levels
_BLOBS = re.compile(r"<!-- outage-bot:(ledger|status) v1 \S+ -->")
# Times as the bot shows them ("Thu 05 Nov 09:20 EST (14:20 UTC)") and in keys ("20261105T142000").
_SHOWN = re.compile(r"[A-Z][a-z]{2} \d{2} [A-Z][a-z]{2} \d{2}:\d{2} [A-Z]{3,5} \(\d{2}:\d{2} UTC\)")
_KEYED = re.compile(r"\b\d{8}T\d{6}\b")
# When the status issue was last written: when the ticks had something to write, not the incident's.
_CHECKED = re.compile(r"_Last checked [^_]*_")


class Ci:
    """GitLab CI, as far as outage-bot can tell (the driving of tests/gitlab/gitlab_pipeline.py,
    with the contract policy and the Slack Web API)."""

    def __init__(self, fake: FakeGitLab, slack: FakeSlack, tmp: Path) -> None:
        self.fake, self.slack, self.tmp = fake, slack, tmp
        self.runs = 0
        tmp.mkdir(parents=True, exist_ok=True)

    def environ(self, source: str, payload: str | None = None) -> dict[str, str]:
        env = {
            "GITLAB_CI": "true",
            "CI_API_V4_URL": self.fake.api_url,
            "CI_PROJECT_ID": str(self.fake.project_id),
            "CI_PROJECT_PATH": self.fake.project_path,
            "CI_PROJECT_DIR": str(self.tmp),
            "CI_PIPELINE_SOURCE": source,
            "CI_PIPELINE_ID": str(1000 + self.runs),
            "GITLAB_TOKEN": TOKEN,
            "OUTAGE_BOT_CONFIG": str(POLICY),
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_API_URL": self.slack.api_url,
        }
        if payload is not None:
            env["TRIGGER_PAYLOAD"] = payload
        return env

    def deliver(self, body: dict[str, Any], at: datetime) -> Result:
        """A webhook delivery to the trigger URL, then the pipeline's `outage-bot handle`."""
        self.fake.now = at
        self.runs += 1
        path = write(self.tmp, as_trigger_payload(body, project_id=self.fake.project_id), f"payload-{self.runs}.json")
        return self._invoke(["handle", "--now", at.isoformat()], self.environ("trigger", path))

    def tick(self, at: datetime) -> Result:
        """A scheduled pipeline: `outage-bot tick`."""
        self.fake.now = at
        self.runs += 1
        return self._invoke(["tick", "--now", at.isoformat()], self.environ("schedule"))

    @staticmethod
    def _invoke(args: list[str], env: dict[str, str]) -> Result:
        result = CliRunner().invoke(cli, args, env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        return result


@dataclass
class World:
    fake: FakeGitLab
    slack: FakeSlack
    ci: Ci


@contextmanager
def declared(tmp: Path) -> Iterator[World]:
    """A critical incident on #1 (outage issue #2, a GitLab incident; alerts and users told), and
    the tick that built the status index."""
    with FakeGitLab(now=T0 - timedelta(minutes=5)) as fake, FakeSlack() as slack:
        for name, cid in CHANNELS.items():
            slack.add_channel(name, id=cid, private=cid.startswith("G"))
        fake.add_member("dev1", DEVELOPER)
        fake.add_member("rep1", REPORTER)
        fake.add_member("guest1", GUEST)
        ci = Ci(fake, slack, tmp)
        fake.open_issue("Checkout is down", by="alice", description="Every order fails with a 502.")
        fake.now = T0
        before, _ = fake.label(1, "priority::highest", by="alice")
        ci.deliver(issue_hook(fake, 1, "update", by="alice", previous_labels=before), T0 + timedelta(seconds=20))
        ci.tick(T0 + timedelta(minutes=10))
        assert fake.issue(2)["issue_type"] == "incident" and len(slack.roots(CHANNELS["outage-alerts"])) == 1
        yield World(fake, slack, ci)


# -- what people do, and the webhooks GitLab sends for it -----------------------------------------------
# Each change is done to the fake as a person would, at EVENT_AT; it returns the webhook bodies
# GitLab delivers for it (each starts a pipeline).
Change = Callable[[FakeGitLab], list[dict[str, Any]]]


def command(text: str, user: str, iid: int = 1) -> Change:
    def change(fake: FakeGitLab) -> list[dict[str, Any]]:
        fake.now = EVENT_AT
        return [note_hook(fake, iid, fake.comment(iid, text, by=user))]
    return change


def ack_label(fake: FakeGitLab) -> list[dict[str, Any]]:
    fake.now = EVENT_AT
    before, _ = fake.label(1, "incident::acknowledged", by="rep1")
    return [issue_hook(fake, 1, "update", by="rep1", previous_labels=before)]


def close(user: str, iid: int = 1) -> Change:
    def change(fake: FakeGitLab) -> list[dict[str, Any]]:
        fake.now = EVENT_AT
        fake.close(iid, by=user)
        return [issue_hook(fake, iid, "close", by=user)]
    return change


def relabel(fake: FakeGitLab) -> list[dict[str, Any]]:
    # a scoped label: adding priority::higher takes priority::highest off, in one Issue Hook
    fake.now = EVENT_AT
    before, _ = fake.label(1, "priority::higher", by="dev1")
    return [issue_hook(fake, 1, "update", by="dev1", previous_labels=before)]


def unlabel(fake: FakeGitLab) -> list[dict[str, Any]]:
    fake.now = EVENT_AT
    before, _ = fake.unlabel(1, "priority::highest", by="dev1")
    return [issue_hook(fake, 1, "update", by="dev1", previous_labels=before)]


def reopen(fake: FakeGitLab, iid: int, *, by: str) -> None:
    """A person reopens an issue (the fake has no public helper for it)."""
    with fake._lock:
        fake._set_state(fake.issues[iid], "opened", by)


def reopened(fake: FakeGitLab) -> list[dict[str, Any]]:
    fake.now = EVENT_AT
    reopen(fake, 1, by="dev1")
    return [issue_hook(fake, 1, "reopen", by="dev1")]


def closed_earlier(world: World) -> None:
    """Before a reopen: a Developer closed #1, and that pipeline ran (the incident resolved)."""
    world.fake.now = T0 + timedelta(minutes=12)
    world.fake.close(1, by="dev1")
    world.ci.deliver(issue_hook(world.fake, 1, "close", by="dev1"), T0 + timedelta(minutes=12, seconds=20))
    assert world.fake.issue(2)["state"] == "closed"


def bot_notes(fake: FakeGitLab, iid: int) -> list[str]:
    return [n["body"] for n in fake.notes.get(iid, []) if n["author"] == fake.bot and not n["system"]]


@dataclass(frozen=True)
class Case:
    change: Change
    expect: Callable[[World], None]  # what the event's run does, checked on the lost world's end
    before: Callable[[World], None] | None = None
    # The change starts a new deadline (a reopen, a severity change): the reference counts it from
    # the event; the tick, which is not told when the change happened, from its own time.
    new_deadline: bool = False


def acknowledged(world: World) -> None:
    assert "incident::acknowledged" in world.fake.issue(2)["labels"]
    assert any("Acknowledged" in b and "rep1" in b for b in bot_notes(world.fake, 1))


def resolved(by: str, note: str = "") -> Callable[[World], None]:
    def check(world: World) -> None:
        fake = world.fake
        assert fake.issue(2)["state"] == "closed" and "outage::active" not in fake.issue(2)["labels"]
        [done] = [b for b in bot_notes(fake, 1) if "**Resolved**" in b or "**False positive**" in b]
        assert f"by {by}" in done and note in done
        assert [r["name"] for r in world.slack.roots(CHANNELS["outage-alerts"])[0]["reactions"]] == ["white_check_mark"]
    return check


def still_open(world: World) -> None:
    fake = world.fake
    assert fake.issue(1)["state"] == "closed"  # left closed
    assert fake.issue(2)["state"] == "opened" and "outage::active" in fake.issue(2)["labels"]  # it goes on
    [told] = [b for b in bot_notes(fake, 2) if "alice closed #1" in b]
    assert "**the incident is still open**" in told


def new_generation(world: World) -> None:
    fake = world.fake
    outages = [i["iid"] for i in fake.stored_issues(containing="outage-bot:outage-of=1 ")]
    assert outages == [2, 4]  # 3: the status issue
    assert fake.issue(4)["state"] == "opened" and fake.issue(4)["issue_type"] == "incident"
    assert len([b for b in bot_notes(fake, 1) if "outage-bot:key=1:g2:tag" in b]) == 1


def severity_changed(world: World) -> None:
    [changed] = [b for b in bot_notes(world.fake, 1) if "**Severity changed**" in b]
    assert "from critical to **major**" in changed
    assert world.fake.issue(2)["state"] == "opened"


CASES = {
    "ack": Case(command("/ack on it", "rep1"), acknowledged),  # Reporter access
    "resolve": Case(command("/resolve rolled back the deploy", "dev1"), resolved("dev1", "rolled back the deploy")),
    "false-positive": Case(command("/false-positive the probe was misconfigured", "wdasilva"),  # a policy person
                           resolved("wdasilva", "the probe was misconfigured")),
    "close by a member": Case(close("dev1"), resolved("dev1")),
    "close by a stranger": Case(close("alice"), still_open),  # its author, not a member: not a resolve
    "reopen": Case(reopened, new_generation, before=closed_earlier, new_deadline=True),
    "relabel": Case(relabel, severity_changed, new_deadline=True),
    "acknowledged label": Case(ack_label, acknowledged),
    "ack on the outage issue": Case(command("/ack on it", "rep1", iid=2), acknowledged),
    "resolve on the outage issue": Case(command("/resolve rolled back the deploy", "dev1", iid=2),
                                        resolved("dev1", "rolled back the deploy")),
}


# -- what a person would see -------------------------------------------------------------------------
def _neutral(text: str, fake: FakeGitLab, *, times: bool) -> str:
    text = _CHECKED.sub("_Last checked ..._", _BLOBS.sub(r"<\1>", text.replace(fake.url, "http://gitlab")))
    return _KEYED.sub("<stamp>", _SHOWN.sub("<time>", text)) if times else text


def ledger_view(body: str, fake: FakeGitLab, *, times: bool) -> Any:
    """The ledger's decisions: the incident, what was done, what is left."""
    ledger = decode_ledger(body)
    if ledger is None:
        return None
    incident = asdict(ledger.incident)
    incident["outage_url"] = incident["outage_url"] and _neutral(incident["outage_url"], fake, times=False)
    if times:  # which times are set, not their values
        incident = {k: ("<time>" if isinstance(v, datetime) else v) for k, v in incident.items()}
        incident["severity_history"] = [s for s, _ in ledger.incident.severity_history]
    done = sorted(_neutral(k, fake, times=times) for k in ledger.done)
    return incident, done, [a.get("key") for a in ledger.outbox], sorted(ledger.failures), ledger.lease


def snapshot(world: World, *, times: bool = False) -> Any:
    """Everything people see on GitLab and Slack; with `times`, the times left out."""
    fake, slack = world.fake, world.slack
    seen: list[Any] = []
    for iid, issue in sorted(fake.issues.items()):
        seen.append((iid, issue["author"], issue["title"], issue["state"], tuple(sorted(issue["labels"])), issue["confidential"],
                     issue["issue_type"], _neutral(issue["description"] or "", fake, times=times)))
        for n in fake.notes.get(iid, []):
            if n["system"] and "outage-bot::status" in issue["labels"]:
                continue  # "changed the description": when the ticks wrote the index, not what it says
            seen.append((iid, n["author"], n["system"], _neutral(n["body"], fake, times=times), ledger_view(n["body"], fake, times=times)))
    for name, cid in CHANNELS.items():
        messages = slack.messages(cid)
        position = {m["ts"]: i for i, m in enumerate(messages)}
        for m in messages:
            key = m.get("metadata", {}).get("event_payload", {}).get("key")
            seen.append((name, position.get(m.get("thread_ts", m["ts"])), _neutral(m["text"], fake, times=times),
                         _neutral(json.dumps(m.get("blocks"), ensure_ascii=False), fake, times=times),
                         key and _neutral(key, fake, times=times), tuple(r["name"] for r in m.get("reactions", []))))
    return seen


def play(tmp: Path, case: Case, *, lost: bool) -> tuple[World, dict[str, Any]]:
    """The world after the ticks, and snapshots: at the end, at the end without times, and
    after one more tick."""
    with declared(tmp) as world:
        if case.before:
            case.before(world)
        hooks = case.change(world.fake)
        if not lost:
            for n, body in enumerate(hooks):
                world.ci.deliver(body, EVENT_AT + timedelta(seconds=20 + n))
        for at in TICKS:
            world.ci.tick(at)
        seen = {"end": snapshot(world), "timeless": snapshot(world, times=True)}
        keys = [m["metadata"]["event_payload"]["key"] for cid in CHANNELS.values() for m in world.slack.messages(cid)]
        assert len(keys) == len(set(keys)), keys  # nothing posted twice
        world.ci.tick(AGAIN)
        seen["again"] = snapshot(world)
        assert world.fake.quick_actions == []
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
    case = Case(close("dev1", iid=2), resolved("dev1"))
    _, reference = play(tmp_path / "reference", case, lost=False)
    world, recovered = play(tmp_path / "lost", case, lost=True)
    assert recovered["end"] == reference["end"]
    case.expect(world)


def test_a_lost_label_removal_by_a_member_resolves(tmp_path: Path) -> None:
    case = Case(unlabel, resolved("dev1", "the severity label was removed"))
    _, reference = play(tmp_path / "reference", case, lost=False)
    world, recovered = play(tmp_path / "lost", case, lost=True)
    assert recovered["end"] == reference["end"]
    case.expect(world)
