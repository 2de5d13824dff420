"""The whole lifecycle as GitHub Actions runs it: `outage-bot handle` / `outage-bot tick --now`
through click's CliRunner, with Actions' environment pointing at the fake GitHub.

Nothing here is stubbed: the CLI builds the forge from GITHUB_* variables, reads the event file,
plans, and writes through PyGithub over HTTP to the fake on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_github import BOT, FakeGitHub
from github_helpers import webhook
from spec_check import RestSpec

from bot.cli import cli
from bot.executor import LEASE
from bot.ledger import decode_ledger

POLICY = Path(__file__).parents[1] / "fixtures" / "contract_policy.yml"  # CONTRACT.md's example
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)
REPO = "/repos/octo-org/outage-demo"


class Actions:
    """Runs outage-bot the way the workflow does, one job at a time."""

    def __init__(self, fake: FakeGitHub, tmp: Path) -> None:
        self.fake, self.tmp = fake, tmp
        self.runs = 0
        tmp.mkdir(parents=True, exist_ok=True)

    def handle(self, event: str, action: str, number: int, *, sender: str, at: datetime, **extra: Any) -> Result:
        self.fake.now = at
        return self.handle_payload(event, webhook(self.fake, event, action, number, sender=sender, **extra), at)

    def handle_payload(self, event: str, payload: dict[str, Any] | str, at: datetime) -> Result:
        self.runs += 1
        path = self.tmp / f"event-{self.runs}.json"
        path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
        env = self.fake.env(GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(path), GITHUB_RUN_ID=str(self.runs))
        return self._invoke(["handle", "--config", str(POLICY), "--now", at.isoformat()], env)

    def tick(self, at: datetime) -> Result:
        self.fake.now = at
        env = self.fake.env(GITHUB_EVENT_NAME="schedule")
        return self._invoke(["tick", "--config", str(POLICY), "--now", at.isoformat()], env)

    def _invoke(self, args: list[str], env: dict[str, str]) -> Result:
        result = CliRunner().invoke(cli, args, env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result


@pytest.fixture
def actions(fake: FakeGitHub, tmp_path: Path) -> Actions:
    return Actions(fake, tmp_path)


def bot_comments(fake: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in fake.comments_on(number) if c["user"] == BOT]


def label_incident(fake: FakeGitHub, actions: Actions, *, number: int | None = None) -> Result:
    issue = fake.issues[number] if number else fake.add_issue("Checkout is down", "Every order fails with a 502.", author="reporter", at=T0 - timedelta(minutes=5))
    fake.label(issue.number, "priority::highest", actor="reporter", at=T0)
    return actions.handle("issues", "labeled", issue.number, sender="reporter", at=T0 + timedelta(seconds=20), label="priority::highest")


def test_the_whole_lifecycle(fake: FakeGitHub, actions: Actions) -> None:
    # label -> tag comment, outage issue opened and pinned
    result = label_incident(fake, actions)
    assert result.exit_code == 0, result.output
    assert "declared: critical incident on #1" in result.output
    [tag] = bot_comments(fake, 1)
    assert "@taylor-gh" in tag and "@willds" in tag
    outage = fake.issues[2]
    assert outage.title == "Outage: Checkout is down"
    assert outage.author == BOT
    assert "outage" in outage.labels
    assert fake.pinned == [2]
    declared_with = len(fake.requests)

    # the same event delivered twice -> nothing new, one request
    fake.clear()
    assert actions.handle("issues", "labeled", 1, sender="reporter", at=T0 + timedelta(minutes=1), label="priority::highest").exit_code == 0
    assert len(bot_comments(fake, 1)) == 1 and len(fake.issues) == 2
    assert fake.lines() == [f"GET {REPO}/issues/1/comments"]

    # /ack from a stranger -> ignored, with one reply (and only one, however often it arrives)
    ack = fake.comment(1, "/ack", user="stranger", at=T0 + timedelta(minutes=3))
    for minutes in (3, 4):
        result = actions.handle("issue_comment", "created", 1, sender="stranger", at=T0 + timedelta(minutes=minutes), comment=ack)
        assert result.exit_code == 0
    replies = [b for b in bot_comments(fake, 1) if "stranger" in b]
    assert len(replies) == 1
    assert "incident::acknowledged" not in fake.issues[2].labels

    # the scheduled tick: 👀 on the labeled issue has no event; the tick sees it
    assert actions.tick(T0 + timedelta(minutes=10)).exit_code == 0
    fake.react(1, "eyes", user="aj-gh", at=T0 + timedelta(minutes=12))
    result = actions.tick(T0 + timedelta(minutes=20))
    assert "acknowledged by aj-gh" in result.output
    assert "incident::acknowledged" in fake.issues[2].labels

    # a quiet tick costs the search, plus the status issue's heartbeat at most
    fake.clear()
    assert actions.tick(T0 + timedelta(minutes=30)).exit_code == 0
    assert len(fake.requests) <= 2, fake.lines()

    # /resolve from a maintainer -> outage issue closed and unpinned
    fake.set_role("maint", "maintain")
    resolve = fake.comment(1, "/resolve restarted the payment pods", user="maint", at=T0 + timedelta(hours=1))
    result = actions.handle("issue_comment", "created", 1, sender="maint", at=T0 + timedelta(hours=1), comment=resolve)
    assert result.exit_code == 0, result.output
    assert fake.issues[2].state == "closed"
    assert fake.pinned == []
    assert any("restarted the payment pods" in b for b in bot_comments(fake, 1))
    assert fake.issues[1].state == "open"  # the bot never closes an issue it did not create
    # 6 for the declaration, + 1 since issue 16: the status issue read, to know whether ticks
    # are overdue (a run that acts on an incident says so when the schedule stopped)
    assert declared_with <= 7


def test_a_resolved_incident_costs_nothing_on_quiet_ticks(fake: FakeGitHub, actions: Actions) -> None:
    label_incident(fake, actions)
    fake.set_role("maint", "maintain")
    resolve = fake.comment(1, "/resolve fixed", user="maint", at=T0 + timedelta(hours=1))
    actions.handle("issue_comment", "created", 1, sender="maint", at=T0 + timedelta(hours=1), comment=resolve)
    actions.tick(T0 + timedelta(hours=1, minutes=10))
    fake.clear()
    actions.tick(T0 + timedelta(hours=1, minutes=20))
    assert fake.lines() == ["GET /search/issues"]


def test_eyes_on_the_outage_issue_acknowledge_before_anyone_is_paged(fake: FakeGitHub, actions: Actions) -> None:
    label_incident(fake, actions)
    actions.tick(T0 + timedelta(minutes=10))
    fake.react(2, "eyes", user="aj-gh", at=T0 + timedelta(minutes=12))
    fake.clear()
    actions.tick(T0 + timedelta(minutes=20))
    assert fake.lines() == ["GET /search/issues"]  # a quiet tick: one request, no 👀 polling
    result = actions.tick(T0 + timedelta(hours=12, minutes=10))  # the secondary is due: look first
    assert "acknowledged by aj-gh" in result.output
    assert not [b for b in bot_comments(fake, 1) if "**Escalation (step" in b]


def test_all_traffic_of_a_lifecycle_is_what_github_documents(fake: FakeGitHub, actions: Actions) -> None:
    label_incident(fake, actions)
    actions.tick(T0 + timedelta(minutes=10))
    actions.tick(T0 + timedelta(hours=12, minutes=30))  # escalation and reminder
    fake.close(2, actor="taylor-gh", at=T0 + timedelta(hours=13))
    actions.handle("issues", "closed", 2, sender="taylor-gh", at=T0 + timedelta(hours=13))
    spec = RestSpec()
    rest = [r for r in fake.requests if r.path != "/graphql"]
    assert [p for r in rest for p in spec.check_request(r.method, r.path, r.query, r.body)] == []
    assert [p for r in rest for p in spec.check_response(r.method, r.path, r.status, r.response)] == []


def test_escalation_and_reminder_come_from_the_tick(fake: FakeGitHub, actions: Actions) -> None:
    label_incident(fake, actions)
    actions.tick(T0 + timedelta(minutes=10))
    result = actions.tick(T0 + timedelta(hours=12, minutes=10))  # not acknowledged within 12h
    assert result.exit_code == 0
    comments = bot_comments(fake, 1)
    assert any("Escalation" in b and "@willds" in b for b in comments)  # will is secondary this week
    assert any("left" in b for b in comments)  # the 12h reminder


def test_closing_the_outage_issue_resolves(fake: FakeGitHub, actions: Actions) -> None:
    label_incident(fake, actions)
    fake.close(2, actor="taylor-gh", at=T0 + timedelta(hours=2))
    result = actions.handle("issues", "closed", 2, sender="taylor-gh", at=T0 + timedelta(hours=2))
    assert result.exit_code == 0
    assert "resolved by taylor-gh" in result.output
    assert fake.pinned == []


def test_an_issue_opened_with_a_label_alerts_once(fake: FakeGitHub, actions: Actions) -> None:
    # GitHub fires `opened` and `labeled` together; the workflow's concurrency group runs them
    # one after the other, and the second finds the first's work.
    issue = fake.add_issue("Search is down", "", author="reporter", at=T0)
    fake.label(issue.number, "priority::highest", actor="reporter", at=T0)
    assert actions.handle("issues", "opened", 1, sender="reporter", at=T0 + timedelta(seconds=10)).exit_code == 0
    assert actions.handle("issues", "labeled", 1, sender="reporter", at=T0 + timedelta(seconds=30), label="priority::highest").exit_code == 0
    assert len(bot_comments(fake, 1)) == 1
    assert sorted(fake.issues) == [1, 2]


def test_the_issue_form_declares_with_the_chosen_severity(fake: FakeGitHub, actions: Actions) -> None:
    # the body GitHub renders from .github/ISSUE_TEMPLATE/outage.yml
    body = "\n\n".join(
        f"### {heading}\n\n{answer}"
        for heading, answer in [
            ("What is broken", "Checkout returns 502"),
            ("Who is affected", "Everyone in the EU"),
            ("Since when", "14:20 UTC"),
            ("Workaround", "_No response_"),
            ("Upstream status", "_No response_"),
            ("Severity", "priority::highest"),
        ]
    )
    fake.add_issue("Checkout is down", body, labels=["outage"], author="reporter", at=T0)
    result = actions.handle("issues", "opened", 1, sender="reporter", at=T0 + timedelta(seconds=10))
    assert result.exit_code == 0, result.output
    assert "priority::highest" in fake.issues[1].labels  # the dropdown became the label
    assert "Checkout returns 502" in (fake.issues[2].body or "")
    # the `labeled` run for the form's own label finds the incident already declared
    actions.handle("issues", "labeled", 1, sender="reporter", at=T0 + timedelta(seconds=12), label="outage")
    assert len(bot_comments(fake, 1)) == 1 and sorted(fake.issues) == [1, 2]


def test_pin_limit_reached(fake: FakeGitHub, actions: Actions) -> None:
    for n in range(3):
        fake.pin(fake.add_issue(f"Pinned by a person {n}", at=T0 - timedelta(days=1)).number)
    fake.add_issue("Checkout is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))

    result = label_incident(fake, actions, number=4)

    assert result.exit_code == 0, result.output
    assert fake.pinned == [1, 2, 3]  # never unpins what it did not pin
    assert "could not be pinned" in (fake.issues[5].body or "")


# Declaring makes 7 requests and resolving 11 (with the run lock taken and given back, and the
# status issue read to know whether ticks are overdue; the
# reference run checks it): interrupt after each, with the interrupted request either not done
# or done with its answer lost.
INTERRUPTIONS = [(flow, k, lose) for flow, n in (("declare", 7), ("resolve", 11)) for k in range(n) for lose in (False, True)]


def snapshot(fake: FakeGitHub) -> list[Any]:
    """What a person would see, with the ledger decoded (its ids differ from run to run)."""
    ledger = re.compile(r"<!-- outage-bot:ledger v1 \S+ -->")
    seen: list[Any] = [("pinned", tuple(fake.pinned))]
    for number, issue in sorted(fake.issues.items()):
        seen.append((number, issue.title, issue.state, tuple(issue.labels), ledger.sub("", issue.body or "")))
        for c in fake.comments_on(number):
            state = decode_ledger(c["body"])
            seen.append((number, c["user"], ledger.sub("", c["body"]), state and (state.incident, sorted(state.done), state.outbox)))
    return seen


def declare_and_resolve(
    fake: FakeGitHub, actions: Actions, *, cut_in: str | None = None, after: int = 0, lose: bool = False, counts: dict[str, int] | None = None
) -> list[int]:
    """Declare, then resolve by /resolve; interrupt one of the two runs after `after` answers,
    then deliver the same event again (GitHub Actions' re-run)."""
    fake.set_role("maint", "maintain")
    fake.add_issue("Checkout is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))
    fake.label(1, "priority::highest", actor="reporter", at=T0)
    codes = []
    resolve_comment = 0
    # The re-run comes after the interrupted run's lease has run out (a CI job's timeout): until
    # then a run leaves the pending actions to the run that may still be at work on them.
    steps = [
        ("declare", lambda late: actions.handle("issues", "labeled", 1, sender="reporter", at=T0 + timedelta(seconds=20) + late,
                                                label="priority::highest")),
        ("resolve", lambda late: actions.handle("issue_comment", "created", 1, sender="maint", at=T0 + timedelta(hours=1) + late,
                                                comment=resolve_comment)),
    ]
    for name, step in steps:
        if name == "resolve":
            resolve_comment = fake.comment(1, "/resolve rolled back the deploy", user="maint", at=T0 + timedelta(hours=1))
        late = timedelta(0)
        if name == cut_in:
            fake.interrupt_after(after, lose_answer=lose)
            codes.append(step(late).exit_code)
            fake.resume()
            late = LEASE + timedelta(minutes=1)
        before = len(fake.requests)
        codes.append(step(late).exit_code)
        if counts is not None:
            counts[name] = len(fake.requests) - before
    return codes


@pytest.mark.slow
@pytest.mark.parametrize(("flow", "after", "lose"), INTERRUPTIONS)
def test_a_run_interrupted_after_any_request_then_rerun_ends_the_same(tmp_path: Path, flow: str, after: int, lose: bool) -> None:
    counts: dict[str, int] = {}
    with FakeGitHub() as reference:
        assert declare_and_resolve(reference, Actions(reference, tmp_path / "ref"), counts=counts) == [0, 0]
    assert counts == {"declare": 7, "resolve": 11}
    with FakeGitHub() as fake:
        codes = declare_and_resolve(fake, Actions(fake, tmp_path / "cut"), cut_in=flow, after=after, lose=lose)
        assert len(codes) == 3 and codes[-1] == 0
        assert sorted(codes)[:2] == [0, 0] and set(codes) <= {0, 2}  # only the interrupted run may exit 2
        assert 2 in codes  # it was interrupted
        assert snapshot(fake) == snapshot(reference)


def test_an_event_that_is_not_mine_exits_0_with_one_line(fake: FakeGitHub, actions: Actions) -> None:
    result = actions.handle_payload("push", {"ref": "refs/heads/main"}, T0)
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1] == "outage-bot: push event: outage-bot handles issues, issue_comment, schedule and workflow_dispatch"
    assert fake.requests == []


def test_a_comment_on_a_pull_request_exits_0(fake: FakeGitHub, actions: Actions) -> None:
    fake.add_issue("A pull request", pull_request=True)
    cid = fake.comment(1, "/ack", user="someone")
    result = actions.handle("issue_comment", "created", 1, sender="someone", at=T0, comment=cid)
    assert result.exit_code == 0
    assert "pull request #1" in result.output
    assert fake.requests == []


def test_a_broken_payload_exits_1_naming_the_file(fake: FakeGitHub, actions: Actions) -> None:
    result = actions.handle_payload("issues", "{oops", T0)
    assert result.exit_code == 1
    assert "event-1.json: the event payload is not JSON" in result.output


def test_github_failing_exits_2_naming_the_request_never_the_token(fake: FakeGitHub, actions: Actions) -> None:
    fake.add_issue("Checkout is down", "x", author="reporter")
    fake.fail("GET", r"/issues/1/comments$", 502, times=99)
    fake.label(1, "priority::highest", actor="reporter", at=T0)
    result = actions.handle("issues", "labeled", 1, sender="reporter", at=T0, label="priority::highest")
    assert result.exit_code == 2
    assert f"github: GET {REPO}/issues/1/comments failed: HTTP 502" in result.output
    assert fake.token not in result.output


def test_no_token_exits_1_naming_the_variable(fake: FakeGitHub, tmp_path: Path) -> None:
    env = fake.env(GITHUB_EVENT_NAME="schedule", GITHUB_TOKEN="")
    result = CliRunner().invoke(cli, ["tick", "--config", str(POLICY)], env=env)
    assert result.exit_code == 1
    assert "GITHUB_TOKEN is not set" in result.output
