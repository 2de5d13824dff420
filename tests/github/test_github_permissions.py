"""Issue #11, item 1, on GitHub: one permission rule for every way to acknowledge or resolve.

Each way is done by an allowed actor (a person of the policy with no access to the repository,
and someone outside the policy with triage access) and by a stranger, and run as Actions runs
it: `outage-bot handle` with the event GitHub would send, or, for 👀 (no event), the scheduled
`outage-bot tick`, through the CLI against the fake GitHub, with Slack's incoming webhook
pointed at a local sink. Gaps found in the core are xfail(strict=True), with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_github import BOT, FakeGitHub
from github_helpers import webhook

from bot.cli import cli
from bot.incident import Incident
from bot.ledger import decode_ledger
from tests.gitlab.chat_sink import ChatSink

FIXTURES = Path(__file__).parents[1] / "fixtures"
POLICY = FIXTURES / "contract_policy.yml"  # CONTRACT.md's example
AUTHOR_POLICY = FIXTURES / "contract_policy_author_may_resolve.yml"  # the same, permissions.author_may_resolve: true
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)  # Thursday: taylor primary, will (willds) secondary
ACT = T0 + timedelta(minutes=15)  # when the actor acts: after the first tick wrote the status issue
LATER = T0 + timedelta(hours=12, minutes=10)  # past acknowledge_within (12h): the secondary is called

PERSON = "aj-gh"  # in the policy's people, no access to the repository at all
TRIAGER = "triager"  # not in the policy, triage access
STRANGER = "stranger"  # neither: the permission request answers 404
READER = "reader"  # a collaborator with read access only
REPORTER = "reporter"  # who opened the source issue (no access)


@dataclass
class Run:
    """One incident on the fake GitHub, and the workflow's runs against it."""

    fake: FakeGitHub
    sink: ChatSink
    tmp: Path
    policy: Path = POLICY
    runs: int = 0
    again: Callable[[], Result] | None = None  # the last event delivered again (Actions' "Re-run")

    def _invoke(self, args: list[str], at: datetime, **env: str) -> Result:
        self.fake.now = at
        environ = self.fake.env(SLACK_WEBHOOK_URL=f"{self.sink.url}/alerts", **env)
        result = CliRunner().invoke(cli, [*args, "--config", str(self.policy), "--now", at.isoformat()], env=environ)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        return result

    def handle(self, event: str, action: str, number: int, *, sender: str, at: datetime, **extra: Any) -> Result:
        self.fake.now = at
        payload = json.dumps(webhook(self.fake, event, action, number, sender=sender, **extra))

        def deliver() -> Result:
            self.runs += 1
            path = self.tmp / f"event-{self.runs}.json"
            path.write_text(payload, encoding="utf-8")
            return self._invoke(["handle"], at, GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(path), GITHUB_RUN_ID=str(self.runs))

        self.again = deliver
        return deliver()

    def tick(self, at: datetime) -> Result:
        self.again = lambda: self.tick(at + timedelta(minutes=10))
        return self._invoke(["tick"], at, GITHUB_EVENT_NAME="schedule")

    # -- what the bot did ----------------------------------------------------------------------
    def incident(self) -> Incident:
        ledger = next(filter(None, (decode_ledger(c["body"]) for c in self.fake.comments_on(1) if c["user"] == BOT)))
        return ledger.incident

    def bot_comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments_on(number) if c["user"] == BOT]

    def seen(self) -> dict[str, Any]:
        """What people see of the incident: the bot's comments, the outage issue, pins, chat."""
        outage = self.fake.issues[2]
        return {"comments on #1": len(self.bot_comments(1)), "comments on #2": len(self.bot_comments(2)),
                "outage labels": sorted(outage.labels), "outage body": outage.body, "pinned": list(self.fake.pinned),
                "chat": len(self.sink.posts)}


@pytest.fixture
def sink() -> Iterator[ChatSink]:
    with ChatSink() as server:
        yield server


def declare(fake: FakeGitHub, sink: ChatSink, tmp: Path, policy: Path = POLICY) -> Run:
    """#1 labeled priority::highest by its reporter: tags, outage issue #2 pinned, alerts; then
    the first scheduled tick (status issue #3)."""
    run = Run(fake, sink, tmp, policy)
    fake.add_issue("Checkout is down", "Every order fails with a 502.", author=REPORTER, at=T0 - timedelta(minutes=5))
    fake.label(1, "priority::highest", actor=REPORTER, at=T0)
    run.handle("issues", "labeled", 1, sender=REPORTER, at=T0 + timedelta(seconds=20), label="priority::highest")
    run.tick(T0 + timedelta(minutes=10))
    fake.set_role(TRIAGER, "triage")
    fake.set_role(READER, "read")
    assert sorted(fake.issues) == [1, 2, 3] and fake.pinned == [2] and run.incident().status == "active"
    return run


# -- the ways: what a person does on github.com, and the run that follows ---------------------------
def eyes_on(number: int) -> Callable[[Run, str], Result]:
    def act(run: Run, who: str) -> Result:
        run.fake.react(number, "eyes", user=who, at=ACT)
        # No event: a tick sees it. On the reported issue, the next one (the listing counts 👀);
        # on the outage issue, the first one with a timer due, before it pages anyone.
        return run.tick(ACT + timedelta(minutes=5) if number == 1 else LATER)
    return act


def command(text: str) -> Callable[[Run, str], Result]:
    def act(run: Run, who: str) -> Result:
        cid = run.fake.comment(1, text, user=who, at=ACT)
        return run.handle("issue_comment", "created", 1, sender=who, at=ACT, comment=cid)
    return act


def ack_label(run: Run, who: str) -> Result:
    run.fake.label(1, "incident::acknowledged", actor=who, at=ACT)
    return run.handle("issues", "labeled", 1, sender=who, at=ACT, label="incident::acknowledged")


def close(number: int) -> Callable[[Run, str], Result]:
    def act(run: Run, who: str) -> Result:
        run.fake.close(number, actor=who, at=ACT)
        return run.handle("issues", "closed", number, sender=who, at=ACT)
    return act


def unlabel(run: Run, who: str) -> Result:
    run.fake.unlabel(1, "priority::highest", actor=who, at=ACT)
    return run.handle("issues", "unlabeled", 1, sender=who, at=ACT, label="priority::highest")


@dataclass(frozen=True)
class Way:
    name: str
    act: Callable[[Run, str], Result]
    status: str  # what an allowed actor makes of the incident
    reply: str  # what a stranger gets: "none", "command" (one polite reply), "closed" (one notice)
    closes: int | None = None  # the issue the actor closes, which stays closed whoever did it


WAYS = [
    Way("eyes on the source issue", eyes_on(1), "acknowledged", "none"),
    Way("eyes on the outage issue", eyes_on(2), "acknowledged", "none"),
    Way("/ack", command("/ack on it"), "acknowledged", "command"),
    Way("/resolve", command("/resolve rolled back the deploy"), "resolved", "command"),
    Way("/false-positive", command("/false-positive a test alert"), "false_positive", "command"),
    Way("acknowledged label", ack_label, "acknowledged", "none"),
    Way("close the source issue", close(1), "resolved", "closed", closes=1),
    Way("close the outage issue", close(2), "resolved", "closed", closes=2),
    Way("remove the severity label", unlabel, "resolved", "unlabeled"),
]
IDS = [w.name.replace(" ", "-") for w in WAYS]


@pytest.mark.parametrize("who", [PERSON, TRIAGER])
@pytest.mark.parametrize("way", WAYS, ids=IDS)
def test_an_allowed_actor_acknowledges_or_resolves(fake: FakeGitHub, sink: ChatSink, tmp_path: Path, way: Way, who: str) -> None:
    run = declare(fake, sink, tmp_path)
    before = run.seen()
    result = way.act(run, who)

    incident = run.incident()
    assert incident.status == way.status, result.output
    outage, after = fake.issues[2], run.seen()
    # the ack / resolved note (and, for 👀 on the outage issue, seen by the tick at 12h, the
    # 12h reminder due then too: reminders go to the owners whoever acknowledged)
    polled_late = way.name == "eyes on the outage issue"
    assert after["comments on #1"] == before["comments on #1"] + 1 + polled_late
    assert after["chat"] > before["chat"]  # a thread reply in each alerted channel (webhook mode: a post)
    if way.status == "acknowledged":
        assert incident.acknowledged_by == who
        assert f"**Acknowledged** by {who}" in run.bot_comments(1)[-1 - polled_late]
        assert "incident::acknowledged" in outage.labels and "outage::active" in outage.labels
        assert outage.state == "open" and fake.pinned == [2]
        if way.name.startswith("eyes"):  # issue #11's case: an allowed 👀 stops the escalation
            run.tick(LATER)  # acknowledged: nobody is called
            assert not any("**Escalation (step" in b for b in run.bot_comments(1))
    else:
        assert incident.resolved_by == who
        assert "Resolved" in run.bot_comments(1)[-1] or "False positive" in run.bot_comments(1)[-1]
        assert outage.state == "closed" and "outage::active" not in outage.labels and fake.pinned == []


@pytest.mark.parametrize("way", WAYS, ids=IDS)
def test_a_stranger_changes_nothing(fake: FakeGitHub, sink: ChatSink, tmp_path: Path, way: Way) -> None:
    run = declare(fake, sink, tmp_path)
    before = run.seen()
    fake.clear()
    way.act(run, STRANGER)
    requests = fake.lines()
    assert sum(r.endswith(f"/collaborators/{STRANGER}/permission") for r in requests) == 1  # the check: one request
    polled_late = way.name == "eyes on the outage issue"  # its tick is at 12h: the process goes on there
    if way.reply == "none" and not polled_late:  # nothing written, but for the status index noting a new 👀 count
        assert [r for r in requests if not r.startswith("GET")] in ([], [f"PATCH /repos/{fake.full_name}/issues/3"])
    assert run.again is not None
    for _ in range(2 if way.reply != "none" else 1):  # the same event again (a re-run), or the next tick
        run.again()

    incident = run.incident()
    assert incident.status == "active" and incident.acknowledged_by is None and incident.resolved_by is None
    after = run.seen()
    replies = {"none": (0, 0), "command": (1, 0), "closed": (0, 1), "unlabeled": (0, 1)}[way.reply]
    if not polled_late:
        assert (after["comments on #1"] - before["comments on #1"], after["comments on #2"] - before["comments on #2"]) == replies
    if way.reply == "command":
        assert f"Thanks, {STRANGER}." in run.bot_comments(1)[-1] and "was not applied" in run.bot_comments(1)[-1]
    if way.reply == "unlabeled":
        assert f"{STRANGER} removed the severity label from #1" in run.bot_comments(2)[-1]
        assert "the incident is still open" in run.bot_comments(2)[-1]
    if way.reply == "closed":
        assert f"{STRANGER} closed #{way.closes}" in run.bot_comments(2)[-1]
        assert "the incident is still open" in run.bot_comments(2)[-1]
    if not polled_late:  # (at 12h the escalation and the reminder reach chat: the process goes on)
        assert {k: v for k, v in after.items() if not k.startswith("comments")} == {k: v for k, v in before.items() if not k.startswith("comments")}
    assert "incident::acknowledged" not in fake.issues[2].labels and "outage::active" in fake.issues[2].labels
    for number in (1, 2):  # what the stranger closed stays closed; the bot closes nothing
        assert fake.issues[number].state == ("closed" if way.closes == number else "open")

    if polled_late:  # its tick was the 12h one: the secondary was called there, despite the 👀
        escalations = [b for b in run.bot_comments(1) if "**Escalation (step" in b]
        assert len(escalations) == 1 and "@willds" in escalations[0]
    elif way.act is not unlabel:  # (that one: test_after_a_strangers_unlabeling_the_process_goes_on)
        the_process_goes_on(run)


def the_process_goes_on(run: Run) -> None:
    """12h unacknowledged: the secondary is called (will: @willds), the 12h reminder is sent."""
    chat = len(run.sink.posts)
    run.tick(LATER)
    assert run.incident().status == "active"
    escalations = [b for b in run.bot_comments(1) if "**Escalation (step" in b]
    assert len(escalations) == 1 and "@willds" in escalations[0]
    assert any("left" in b for b in run.bot_comments(1))  # the 12h reminder
    assert len(run.sink.posts) > chat


def test_after_a_strangers_unlabeling_the_process_goes_on(fake: FakeGitHub, sink: ChatSink, tmp_path: Path) -> None:
    run = declare(fake, sink, tmp_path)
    unlabel(run, STRANGER)
    assert run.incident().status == "active"  # the event itself is refused
    the_process_goes_on(run)


def test_a_collaborator_with_read_access_is_a_stranger(fake: FakeGitHub, sink: ChatSink, tmp_path: Path) -> None:
    run = declare(fake, sink, tmp_path)
    command("/resolve it works for me")(run, READER)
    eyes_on(2)(run, READER)
    assert run.incident().status == "active"
    assert len([b for b in run.bot_comments(1) if f"Thanks, {READER}." in b]) == 1


def test_the_earliest_allowed_eyes_acknowledge_after_a_strangers(fake: FakeGitHub, sink: ChatSink, tmp_path: Path) -> None:
    run = declare(fake, sink, tmp_path)
    eyes_on(1)(run, STRANGER)
    fake.react(2, "eyes", user=TRIAGER, at=ACT + timedelta(minutes=7))
    run.tick(LATER)  # the secondary is due: the tick looks on both issues first
    incident = run.incident()
    assert incident.status == "acknowledged" and incident.acknowledged_by == TRIAGER


@pytest.mark.parametrize("policy", [POLICY, AUTHOR_POLICY], ids=["default", "author_may_resolve"])
def test_the_reporter_closing_their_issue_resolves_only_if_the_policy_says_so(fake: FakeGitHub, sink: ChatSink, tmp_path: Path,
                                                                                policy: Path) -> None:
    run = declare(fake, sink, tmp_path, policy)
    eyes_on(1)(run, REPORTER)  # never an acknowledgement, whatever the policy
    assert run.incident().status == "active"
    close(1)(run, REPORTER)
    incident = run.incident()
    if policy == AUTHOR_POLICY:
        assert incident.status == "resolved" and incident.resolved_by == REPORTER
        assert fake.issues[2].state == "closed" and fake.pinned == []
    else:
        assert incident.status == "active"
        assert f"{REPORTER} closed #1" in run.bot_comments(2)[-1]


def test_the_reporter_may_not_close_the_outage_issue_even_so(fake: FakeGitHub, sink: ChatSink, tmp_path: Path) -> None:
    run = declare(fake, sink, tmp_path, AUTHOR_POLICY)
    close(2)(run, REPORTER)
    assert run.incident().status == "active"


def test_a_stranger_closing_before_the_first_tick_leaves_the_process_running(fake: FakeGitHub, sink: ChatSink, tmp_path: Path) -> None:
    run = Run(fake, sink, tmp_path)
    fake.add_issue("Checkout is down", "Every order fails with a 502.", author=REPORTER, at=T0 - timedelta(minutes=5))
    fake.label(1, "priority::highest", actor=REPORTER, at=T0)
    run.handle("issues", "labeled", 1, sender=REPORTER, at=T0 + timedelta(seconds=20), label="priority::highest")
    close(1)(run, STRANGER)  # 15 minutes in: the scheduled tick has not run yet
    assert run.incident().status == "active" and len(run.bot_comments(2)) == 1
    run.tick(ACT + timedelta(minutes=5))
    the_process_goes_on(run)


def test_a_strangers_close_whose_event_was_lost_resolves_nothing(fake: FakeGitHub, sink: ChatSink, tmp_path: Path) -> None:
    run = declare(fake, sink, tmp_path)
    fake.close(1, actor=STRANGER, at=ACT)  # the `closed` run never happened (a lost event, a disabled workflow)
    run.tick(ACT + timedelta(minutes=5))
    assert run.incident().status == "active"
    the_process_goes_on(run)
