"""Issue #11, item 1, on GitLab: one permission rule for every way to acknowledge or resolve.

Each way is done by an allowed actor (a person of the policy who is not even a member, and a
member outside the policy with the Reporter role) and by a Guest, and run as GitLab CI runs it:
the webhook GitLab sends for it (issue, comment or emoji event) triggers a pipeline whose
`outage-bot handle` reads TRIGGER_PAYLOAD; scheduled pipelines run `outage-bot tick`. Chat
goes to Slack incoming webhooks pointed at a local sink. Gaps found in the core are
xfail(strict=True), with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from chat_sink import ChatSink
from click.testing import Result
from fake_gitlab import FakeGitLab
from gitlab_pipeline import Pipeline
from payloads import emoji_hook, issue_hook

from bot.incident import Incident
from bot.ledger import decode_ledger

FIXTURES = Path(__file__).parents[1] / "fixtures"
POLICY = FIXTURES / "contract_policy.yml"  # CONTRACT.md's example
AUTHOR_POLICY = FIXTURES / "contract_policy_author_may_resolve.yml"  # the same, permissions.author_may_resolve: true
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)  # Thursday: taylor primary, will (wdasilva) secondary
ACT = T0 + timedelta(minutes=15)  # when the actor acts: after the first scheduled pipeline
LATER = T0 + timedelta(hours=12, minutes=10)  # past acknowledge_within (12h): the secondary is called

PERSON = "taylor"  # in the policy's people, not a member of the project
REPORTER_ROLE = "rep1"  # not in the policy, Reporter (20)
GUEST = "guest1"  # Guest (10)
STRANGER = "stranger"  # not a member
AUTHOR = "alice"  # who opened the source issue (not a member)


def iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class Run(Pipeline):
    """The project's pipelines, run with the given policy; every run must exit 0."""

    policy: Path = POLICY

    def environ(self, source: str, payload: str | None = None) -> dict[str, str]:
        return {**super().environ(source, payload), "OUTAGE_BOT_CONFIG": str(self.policy)}

    def at(self, moment: datetime) -> str:
        self.fake.now = moment
        return iso(moment)

    def deliver(self, body: dict[str, Any], now: str) -> Result:
        return ok(super().deliver(body, now))

    def deliver_again(self) -> Result:
        return ok(super().deliver_again())

    def tick(self, now: str) -> Result:
        return ok(super().tick(now))

    # -- what the bot did ----------------------------------------------------------------------
    def incident(self) -> Incident:
        ledger = next(filter(None, (decode_ledger(n["body"]) for n in self.fake.notes[1] if n["author"] == self.fake.bot)))
        return ledger.incident

    def bot_notes(self, iid: int) -> list[str]:
        return self.fake.stored_notes(iid)

    def seen(self) -> dict[str, Any]:
        """What people see of the incident: the bot's notes, the outage issue, chat."""
        outage = self.fake.issue(2)
        return {"notes on #1": len(self.bot_notes(1)), "notes on #2": len(self.bot_notes(2)),
                "outage labels": sorted(outage["labels"]), "outage description": outage["description"],
                "chat": len(self.sink.posts)}


def ok(result: Result) -> Result:
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def project() -> Iterator[tuple[FakeGitLab, ChatSink]]:
    with FakeGitLab(now=T0) as fake, ChatSink() as sink:
        fake.add_member(REPORTER_ROLE, 20)
        fake.add_member(GUEST, 10)
        yield fake, sink


def declare(project: tuple[FakeGitLab, ChatSink], tmp: Path, policy: Path = POLICY) -> Run:
    """#1 labeled priority::highest by its author: tags, incident #2, alerts; then the first
    scheduled pipeline (status issue #3)."""
    fake, sink = project
    run = Run(fake, sink, tmp, policy=policy)
    fake.open_issue("Checkout is down", by=AUTHOR, description="Every order fails with a 502.",
                    created_at=T0 - timedelta(minutes=5))
    run.label(1, "priority::highest", by=AUTHOR, now=run.at(T0))
    run.tick(run.at(T0 + timedelta(minutes=10)))
    assert sorted(fake.issues) == [1, 2, 3] and run.incident().status == "active"
    return run


# -- the ways: what a person does in GitLab, and the webhook-triggered pipeline that follows --------
def eyes_on(iid: int) -> Callable[[Run, str], Result]:
    def act(run: Run, who: str) -> Result:
        now = run.at(ACT)
        return run.deliver(emoji_hook(run.fake, iid, run.fake.award(iid, "eyes", by=who)), now)
    return act


def command(text: str) -> Callable[[Run, str], Result]:
    def act(run: Run, who: str) -> Result:
        return ok(run.comment(1, text, by=who, now=run.at(ACT)))
    return act


def ack_label(run: Run, who: str) -> Result:
    return ok(run.label(1, "incident::acknowledged", by=who, now=run.at(ACT)))


def close(iid: int) -> Callable[[Run, str], Result]:
    def act(run: Run, who: str) -> Result:
        return ok(run.close(iid, by=who, now=run.at(ACT)))
    return act


def unlabel(run: Run, who: str) -> Result:
    now = run.at(ACT)
    before, _ = run.fake.unlabel(1, "priority::highest", by=who)
    return run.deliver(issue_hook(run.fake, 1, "update", by=who, previous_labels=before), now)


@dataclass(frozen=True)
class Way:
    name: str
    act: Callable[[Run, str], Result]
    status: str  # what an allowed actor makes of the incident
    reply: str  # what a Guest gets: "none", "command" (one polite reply), "closed" (one notice)
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


@pytest.mark.parametrize("who", [PERSON, REPORTER_ROLE])
@pytest.mark.parametrize("way", WAYS, ids=IDS)
def test_an_allowed_actor_acknowledges_or_resolves(project: tuple[FakeGitLab, ChatSink], tmp_path: Path, way: Way, who: str) -> None:
    run = declare(project, tmp_path)
    fake = project[0]
    before = run.seen()
    result = way.act(run, who)

    incident = run.incident()
    assert incident.status == way.status, result.output
    outage, after = fake.issue(2), run.seen()
    assert after["notes on #1"] == before["notes on #1"] + 1  # the ack / resolved note
    assert after["chat"] > before["chat"]  # the thread reply (webhook mode: a post) in each alerted channel
    if way.status == "acknowledged":
        assert incident.acknowledged_by == who
        assert f"**Acknowledged** by {who}" in run.bot_notes(1)[-1]
        assert "incident::acknowledged" in outage["labels"] and "outage::active" in outage["labels"]
        assert outage["state"] == "opened"
        if way.name.startswith("eyes"):  # issue #11's case: an allowed 👀 stops the escalation
            run.tick(run.at(LATER))  # acknowledged: nobody is called
            assert not any("**Escalation (step" in b for b in run.bot_notes(1))
    else:
        assert incident.resolved_by == who
        assert "Resolved" in run.bot_notes(1)[-1] or "False positive" in run.bot_notes(1)[-1]
        assert outage["state"] == "closed" and "outage::active" not in outage["labels"]
    assert fake.quick_actions == []


@pytest.mark.parametrize("way", WAYS, ids=IDS)
def test_a_guest_changes_nothing(project: tuple[FakeGitLab, ChatSink], tmp_path: Path, way: Way) -> None:
    run = declare(project, tmp_path)
    fake = project[0]
    before = run.seen()
    fake.reset_requests()
    way.act(run, GUEST)
    assert len(fake.calls("GET", rf"/projects/{fake.project_id}/members/all")) == 1  # the check: one request
    if way.reply == "none":  # nothing written
        assert [str(r) for r in fake.requests if r.method != "GET"] == []
    for _ in range(2 if way.reply != "none" else 1):  # GitLab delivers the same webhook again
        run.deliver_again()

    incident = run.incident()
    assert incident.status == "active" and incident.acknowledged_by is None and incident.resolved_by is None
    after = run.seen()
    replies = {"none": (0, 0), "command": (1, 0), "closed": (0, 1), "unlabeled": (0, 1)}[way.reply]
    assert (after["notes on #1"] - before["notes on #1"], after["notes on #2"] - before["notes on #2"]) == replies
    if way.reply == "command":
        assert f"Thanks, {GUEST}." in run.bot_notes(1)[-1] and "was not applied" in run.bot_notes(1)[-1]
    if way.reply == "unlabeled":
        assert f"{GUEST} removed the severity label from #1" in run.bot_notes(2)[-1]
        assert "the incident is still open" in run.bot_notes(2)[-1]
    if way.reply == "closed":
        assert f"{GUEST} closed #{way.closes}" in run.bot_notes(2)[-1]
        assert "the incident is still open" in run.bot_notes(2)[-1]
    assert {k: v for k, v in after.items() if not k.startswith("notes")} == {k: v for k, v in before.items() if not k.startswith("notes")}
    assert "incident::acknowledged" not in fake.issue(2)["labels"] and "outage::active" in fake.issue(2)["labels"]
    for iid in (1, 2):  # what the Guest closed stays closed; the bot closes nothing
        assert fake.issue(iid)["state"] == ("closed" if way.closes == iid else "opened")
    assert fake.quick_actions == []
    if way.act is not unlabel:  # (that one: test_after_a_guests_unlabeling_the_process_goes_on)
        the_process_goes_on(run)


def the_process_goes_on(run: Run) -> None:
    """12h unacknowledged: the secondary is called (will: @wdasilva), the 12h reminder is sent."""
    chat = len(run.sink.posts)
    run.tick(run.at(LATER))
    assert run.incident().status == "active"
    escalations = [b for b in run.bot_notes(1) if "**Escalation (step" in b]
    assert len(escalations) == 1 and "@wdasilva" in escalations[0]
    assert any("left" in b for b in run.bot_notes(1))  # the 12h reminder
    assert len(run.sink.posts) > chat


def test_after_a_guests_unlabeling_the_process_goes_on(project: tuple[FakeGitLab, ChatSink], tmp_path: Path) -> None:
    run = declare(project, tmp_path)
    unlabel(run, GUEST)
    assert run.incident().status == "active"  # the event itself is refused
    the_process_goes_on(run)


@pytest.mark.parametrize("way", [w for w in WAYS if w.name in ("eyes on the source issue", "/ack", "close the source issue")],
                         ids=["eyes", "/ack", "close"])
def test_someone_who_is_not_a_member_is_a_guest_too(project: tuple[FakeGitLab, ChatSink], tmp_path: Path, way: Way) -> None:
    run = declare(project, tmp_path)
    before = run.seen()
    way.act(run, STRANGER)
    assert run.incident().status == "active"
    after = run.seen()
    assert (after["notes on #1"] - before["notes on #1"], after["notes on #2"] - before["notes on #2"]) == \
        {"none": (0, 0), "command": (1, 0), "closed": (0, 1), "unlabeled": (0, 1)}[way.reply]


@pytest.mark.parametrize("policy", [POLICY, AUTHOR_POLICY], ids=["default", "author_may_resolve"])
def test_the_author_closing_their_issue_resolves_only_if_the_policy_says_so(project: tuple[FakeGitLab, ChatSink], tmp_path: Path,
                                                                           policy: Path) -> None:
    run = declare(project, tmp_path, policy)
    eyes_on(1)(run, AUTHOR)  # never an acknowledgement, whatever the policy
    assert run.incident().status == "active"
    close(1)(run, AUTHOR)
    incident = run.incident()
    if policy == AUTHOR_POLICY:
        assert incident.status == "resolved" and incident.resolved_by == AUTHOR
        assert project[0].issue(2)["state"] == "closed"
    else:
        assert incident.status == "active"
        assert f"{AUTHOR} closed #1" in run.bot_notes(2)[-1]


def test_the_author_may_not_close_the_incident_issue_even_so(project: tuple[FakeGitLab, ChatSink], tmp_path: Path) -> None:
    run = declare(project, tmp_path, AUTHOR_POLICY)
    close(2)(run, AUTHOR)
    assert run.incident().status == "active"


def test_a_guest_closing_before_the_first_tick_leaves_the_process_running(project: tuple[FakeGitLab, ChatSink], tmp_path: Path) -> None:
    fake, sink = project
    run = Run(fake, sink, tmp_path)
    fake.open_issue("Checkout is down", by=AUTHOR, description="Every order fails with a 502.", created_at=T0 - timedelta(minutes=5))
    run.label(1, "priority::highest", by=AUTHOR, now=run.at(T0))
    close(1)(run, GUEST)  # 15 minutes in: no scheduled pipeline has run yet
    assert run.incident().status == "active" and len(run.bot_notes(2)) == 1
    run.tick(run.at(ACT + timedelta(minutes=5)))
    the_process_goes_on(run)


def test_a_guests_close_whose_webhook_was_lost_resolves_nothing(project: tuple[FakeGitLab, ChatSink], tmp_path: Path) -> None:
    run = declare(project, tmp_path)
    run.at(ACT)
    project[0].close(1, by=GUEST)  # the webhook delivery failed: no pipeline ran
    run.tick(run.at(ACT + timedelta(minutes=5)))
    assert run.incident().status == "active"
    the_process_goes_on(run)
