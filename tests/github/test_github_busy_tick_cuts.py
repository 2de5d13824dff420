"""Issue #10, "each cut at every request of a busy tick, then re-run": a scheduled tick with a lot
to do, run as GitHub Actions runs it (`outage-bot tick --now` through the CLI, Actions'
environment pointed at the fake GitHub, SLACK_BOT_TOKEN / SLACK_API_URL at the fake Slack: real
PyGithub and slack_sdk over loopback), dies after each of its N requests to GitHub, then the next
scheduled tick runs after the dead run's lease (bot.executor.LEASE, the CI job's timeout) plus a
minute.

The busy tick: three critical incidents declared 12 hours earlier, none acknowledged, so each is
due its escalation (the secondary is called) and its 12h reminder, and the contract policy's
rotation hands off at Monday 12:00 America/New_York (17:00 UTC) just before the tick.

N = 14 requests to GitHub (asserted on the reference, so this test notices when the count
changes): the listing, one look for 👀 on the outage issues (nobody is paged before it), the run
lock taken (bot.run_lock), then 3 an incident (its comments, the one notice comment carrying
escalation and reminder with the rest of the plan as intents, the ledger), the status issue and
the lock given back; the handoff and the alerts are Slack's. A cut run leaves its lock behind:
the next tick, after its time, takes it over.
Each is cut twice: not carried out, and carried out with its answer lost (502). Every cut, ticked again,
ends as the uninterrupted reference that ticked at the same two times: the same comments,
labels, pins, outage and status issues, Slack messages, threads and reactions, and ledgers: 0
duplicates, 0 lost.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fake_github import BOT, FakeGitHub
from github_helpers import Workflow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
from fake_slack import TOKEN, FakeSlack  # tests/slack is not a package either

from bot.executor import LEASE
from bot.ledger import decode_ledger

POLICY = Path(__file__).resolve().parents[1] / "fixtures" / "contract_policy.yml"
HANDOFF = datetime(2026, 11, 9, 17, 0, tzinfo=timezone.utc)  # Monday 12:00 in New York (EST)
DECLARED = HANDOFF - timedelta(hours=12)  # escalation (acknowledge_within 12h) and the 12h reminder due at 17:00
BUSY = HANDOFF + timedelta(minutes=5)  # the busy tick
AGAIN = BUSY + LEASE + timedelta(minutes=1)  # the next tick, after the dead run's lease
INCIDENTS = 3
N = 14  # the busy tick's requests to GitHub (see test_the_busy_tick_costs_n_requests)
CHANNELS = {"outage-alerts": "C0ALERTS01", "troubleshooting": "C0USERS001", "announcements": "C0ANNOUNCE",
            "internal-infra-alerts": "G0SECURITY"}
_BLOBS = re.compile(r"<!-- outage-bot:(ledger|status) v1 \S+ -->")
_CHECKED = re.compile(r"_Last checked [^_]*_")  # when the status issue was last written
# A reminder says how long is left when it is sent: a notice the cut run never sent is sent by the
# next tick, 11 minutes later, and says so. Either figure is right; nothing else may differ.
_LEFT = re.compile(r"\b(\d+h \d+m|\d+h|\d+m) left\b")
LEFT = {"11h 55m", "11h 44m"}  # to the deadline (DECLARED + 24h) at BUSY, at AGAIN


class Actions(Workflow):
    """Runs outage-bot the way the workflow does, one job at a time, with Slack's Web API."""

    def __init__(self, github: FakeGitHub, slack: FakeSlack, tmp: Path) -> None:
        super().__init__(github, slack, tmp, policy=POLICY, slack_token=TOKEN)


@dataclass
class World:
    github: FakeGitHub
    slack: FakeSlack
    run: Actions


@contextmanager
def busy(tmp: Path) -> Iterator[World]:
    """Three critical incidents labeled at 05:00 UTC, each declared by its run, and the schedule
    every 30 minutes since (no stale-schedule notice), the last tick before the handoff at 16:40."""
    with FakeGitHub() as github, FakeSlack() as slack:
        for name, cid in CHANNELS.items():
            slack.add_channel(name, id=cid, private=cid.startswith("G"))
        run = Actions(github, slack, tmp)
        for n in range(INCIDENTS):
            issue = github.add_issue(f"Service {n} is down", f"Requests to service {n} fail.", author="reporter",
                                     at=DECLARED - timedelta(minutes=5))
            github.label(issue.number, "priority::highest", actor="reporter", at=DECLARED)
            ok(run.handle("issues", "labeled", issue.number, sender="reporter", at=DECLARED + timedelta(seconds=20 + n),
                          label="priority::highest"))
        at = DECLARED + timedelta(minutes=10)
        while at < HANDOFF:
            ok(run.tick(at))
            at += timedelta(minutes=30)
        yield World(github, slack, run)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


# -- what people see -----------------------------------------------------------------------------------
def ledger_view(body: str) -> Any:
    ledger = decode_ledger(body)
    if ledger is None:
        return None
    return asdict(ledger.incident), sorted(ledger.done), ledger.outbox, ledger.failures, ledger.lease


def snapshot(world: World, lefts: set[str] | None = None) -> Any:
    """Everything people see on GitHub and Slack (ids left out; a thread by its root's key; how
    long is left, in reminders, collected into `lefts`)."""
    github, slack = world.github, world.slack
    lefts = set() if lefts is None else lefts

    def text(value: str) -> str:
        lefts.update(_LEFT.findall(value))
        return _LEFT.sub("<left> left", _BLOBS.sub(r"<\1>", value))

    seen: list[Any] = [("pinned", tuple(github.pinned))]
    for number, issue in sorted(github.issues.items()):
        body = _CHECKED.sub("_Last checked ..._", _BLOBS.sub(r"<\1>", issue.body or ""))
        seen.append((number, issue.author, issue.title, issue.state, tuple(issue.labels), text(body)))
        for c in github.comments_on(number):
            seen.append((number, c["user"], text(c["body"]), ledger_view(c["body"])))
    for name, cid in CHANNELS.items():
        messages = slack.messages(cid)
        keys = {m["ts"]: m.get("metadata", {}).get("event_payload", {}).get("key") for m in messages}
        seen.append((name, sorted(
            (keys[m["ts"]] or "", keys.get(m.get("thread_ts", m["ts"])) or "", text(m["text"]),
             text(json.dumps(m.get("blocks"), ensure_ascii=False)),
             tuple(r["name"] for r in m.get("reactions", [])))
            for m in messages)))
    return seen


def duplicates(world: World) -> list[str]:
    keys = [m.get("metadata", {}).get("event_payload", {}).get("key") for cid in CHANNELS.values()
            for m in world.slack.messages(cid)]
    markers = [k for n in world.github.issues for c in world.github.comments_on(n) if c["user"] == BOT
               for k in re.findall(r"outage-bot:key=(\S+) -->", c["body"])]
    return sorted({k for k in keys + markers if (keys + markers).count(k) > 1})


def reference(tmp: Path) -> tuple[Any, list[str]]:
    with busy(tmp) as world:
        before = len(world.github.requests)
        ok(world.run.tick(BUSY))
        lines = world.github.lines()[before:]
        ok(world.run.tick(AGAIN))
        assert duplicates(world) == []
        lefts: set[str] = set()
        seen = snapshot(world, lefts)
        assert lefts == {"11h 55m"}  # every reminder sent by the busy tick
        return seen, lines


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[str]]:
    return reference(tmp_path_factory.mktemp("reference"))


def test_the_busy_tick_costs_n_requests(expected: tuple[Any, list[str]]) -> None:
    _, lines = expected
    repo = "/repos/octo-org/outage-demo"
    # the listing; the look for 👀 on the outage issues (nobody is paged before it); the run lock
    # taken; for each incident its comments, the one notice (escalation and reminder, the rest of
    # the plan as intents: its write-ahead record) and the ledger; the status issue; the run lock
    # given back. The handoff and the chat messages are Slack's.
    neutral = [re.sub(r"/comments/\d+$", "/comments/ID", line) for line in lines]
    assert neutral[:3] == ["GET /search/issues", "GET /search/issues", f"POST {repo}/labels"]
    assert neutral[-2:] == [f"PATCH {repo}/issues/7", f"DELETE {repo}/labels/outage-bot:lock"]
    each = [neutral[i:i + 3] for i in range(3, len(neutral) - 2, 3)]  # in the order the listing gives them
    assert sorted(each) == [[f"GET {repo}/issues/{n}/comments", f"POST {repo}/issues/{n}/comments",
                             f"PATCH {repo}/issues/comments/ID"] for n in (1, 3, 5)]
    assert len(lines) == N == 3 * INCIDENTS + 5


@pytest.mark.slow
@pytest.mark.parametrize(("after", "lose"), [(k, lose) for k in range(N) for lose in (False, True)])
def test_a_busy_tick_cut_after_any_request_then_ticked_again_ends_the_same(
        tmp_path: Path, expected: tuple[Any, list[str]], after: int, lose: bool) -> None:
    with busy(tmp_path) as world:
        world.github.interrupt_after(after, lose_answer=lose)
        cut = world.run.tick(BUSY)
        world.github.resume()
        assert cut.exit_code == 2, cut.output  # GitHub went away: the run ends naming the request
        ok(world.run.tick(AGAIN))
        assert duplicates(world) == []
        lefts: set[str] = set()
        assert snapshot(world, lefts) == expected[0]
        assert lefts <= LEFT
