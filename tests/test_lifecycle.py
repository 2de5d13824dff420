"""The engine over a whole incident, on the local forge: declare, tick, acknowledge, resolve."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.events import EventKind
from bot.ledger import decode_ledger
from bot.planner import ForgeInfo, plan
from bot.records import ForgeCapabilities
from tests.core_helpers import T0, Sandbox

GITHUB = ForgeInfo("github", ForgeCapabilities(pinning=True, confidential_issues=False, incident_issue_type=False))
# The default's process with people who have handles, for the tests in which the policy's people
# are tagged or act (react, acknowledge) as themselves: the bundled default has no handles.
TEAM = Path(__file__).parent / "fixtures" / "team_policy.yml"


def ledger_of(box: Sandbox, number: int = 1):
    for comment in box.forge.list_comments(number):
        found = decode_ledger(comment.body)
        if found:
            return found
    return None


def test_label_declares_tags_opens_pins_and_alerts(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM)
    box.open_issue()
    report = box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    assert not report.failures
    first = box.forge.list_comments(1)[0]
    assert "@release-lead" in first.body and "@platform-lead" in first.body and "@eng-a" in first.body  # eng-a: primary
    outage = box.forge.get_issue(2)
    assert "outage::active" in outage.labels and box.forge.is_pinned(2)
    assert "What is broken" in outage.body
    roots = [m for m in box.chat.messages() if m["thread"] is None]
    assert [m["channel"] for m in roots] == ["alerts", "users"]
    led = ledger_of(box)
    assert led.incident.status == "active" and led.incident.outage_issue == 2 and not led.outbox


def test_the_same_event_twice_does_nothing_the_second_time(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    event = box.event(EventKind.LABELED, 1, label="priority::highest")
    box.runner().handle(event)
    before = box.state()
    opened = box.event(EventKind.OPENED, 1)  # GitHub's concurrent `opened` for the same label
    requests = box.forge.requests
    box.runner().handle(event)
    box.runner().handle(opened)
    assert box.state() == before
    assert box.forge.requests - requests == 2  # one read of the comments per event, no write


def test_full_lifecycle_timers_ack_resolve(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = T0 + timedelta(hours=12, minutes=5)
    box.runner().tick()
    bodies = [c.body for c in box.forge.list_comments(1)]
    assert any("Escalation (step 1)" in b and "@release-lead" in b for b in bodies)  # secondary after the noon handoff
    assert any("11h 55m left" in b for b in bodies)  # the 12h reminder
    # the tick again at the same minute: nothing twice
    count = len(bodies)
    box.runner().tick()
    assert len(box.forge.list_comments(1)) == count
    # 👀 seen by the tick
    box.forge.react(1, "eng-b", "eyes")
    box.clock.now += timedelta(minutes=10)
    box.runner().tick()
    assert ledger_of(box).incident.status == "acknowledged"
    # a stranger cannot resolve; the answer is given once
    box.clock.now += timedelta(hours=1)
    stranger = box.comment(1, "/resolve lol", "stranger")
    box.runner().handle(stranger)
    box.runner().handle(stranger)
    refusals = [c for c in box.forge.list_comments(1) if "was not applied" in c.body]
    assert len(refusals) == 1 and ledger_of(box).incident.active
    # a maintainer resolves
    box.runner().handle(box.comment(1, "/resolve Reverted to 1.2.3", "maintainer"))
    led = ledger_of(box)
    assert led.incident.status == "resolved" and led.incident.resolution == "Reverted to 1.2.3"
    outage = box.forge.get_issue(2)
    assert outage.state == "closed" and not box.forge.is_pinned(2) and "outage::active" not in outage.labels
    alerts = [m for m in box.chat.messages() if m["channel"] == "alerts" and m["thread"] is None and ":chat:" in m["key"]]
    assert alerts[0]["status"] == "resolved" and "white_check_mark" in alerts[0]["reactions"]
    users = [m for m in box.chat.messages() if m["channel"] == "users"]
    assert any("Reverted to 1.2.3" in (m["body"] or "") for m in users)
    assert not any("release-lead" in (m["body"] or "") + m["headline"] or "Release lead" in (m["body"] or "") for m in users)


def test_late_tick_sends_only_the_latest_reminder_saying_it_is_late(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.forge.react(1, "eng-b", "eyes")
    box.clock.now = T0 + timedelta(hours=23, minutes=30)  # 12h and 4h reminders were missed
    box.runner().tick()
    reminders = [c.body for c in box.forge.list_comments(1) if "left" in c.body and "⏰" in c.body]
    assert len(reminders) == 1 and "late" in reminders[0] and "30m left" in reminders[0]


def test_breach_notice_then_daily(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    for hours in (24.5, 25, 49):
        box.clock.now = T0 + timedelta(hours=hours)
        box.runner().tick()
    breaches = [c.body for c in box.forge.list_comments(1) if "Deadline missed" in c.body]
    assert len(breaches) == 2


def test_severity_change_tells_nobody_twice(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM)
    box.open_issue(labels=("priority::higher",))
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::higher"))
    box.clock.now += timedelta(hours=1)
    box.forge.add_labels(1, ["priority::highest"])
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    led = ledger_of(box)
    assert led.incident.severity == "critical" and led.incident.severity_since == box.clock.now
    change = [c.body for c in box.forge.list_comments(1) if "Severity changed" in c.body][0]
    assert "@release-lead" in change and "@eng-a" not in change  # eng-a was tagged at declaration
    roots = [m["channel"] for m in box.chat.messages() if m["thread"] is None]
    assert roots.count("alerts") == 1 and roots.count("users") == 1  # users newly routed


def test_security_incident_goes_only_to_the_security_channel(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM)
    box.open_issue(labels=("priority::highest", "security"))
    box.runner().handle(box.event(EventKind.LABELED, 1, label="security"))
    assert {m["channel"] for m in box.chat.messages()} == {"security"}
    assert "@security-lead" in box.forge.list_comments(1)[0].body


def test_reopen_starts_a_new_generation(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.forge.close_issue(1)
    box.runner().handle(box.event(EventKind.CLOSED, 1, actor="maintainer"))
    assert ledger_of(box).incident.status == "resolved"
    box.forge.reopen_issue(1)
    box.runner().handle(box.event(EventKind.REOPENED, 1, actor="maintainer"))
    led = ledger_of(box)
    assert led.incident.generation == 2 and led.incident.active
    assert any("reopened" in (m["headline"] or "") for m in box.chat.messages())


def test_lost_event_is_declared_by_the_tick_from_the_label_time(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()  # labelled at T0, but no event reached the bot
    box.clock.now = T0 + timedelta(hours=2)
    box.runner().tick()
    led = ledger_of(box)
    assert led is not None and led.incident.declared_at == T0


def test_quiet_tick_costs_one_listing(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now += timedelta(minutes=10)
    box.runner().tick()  # first tick opens the status issue and indexes the incident
    box.clock.now += timedelta(minutes=10)
    box.runner().tick()
    box.clock.now += timedelta(minutes=10)
    before = box.forge.requests
    box.runner().tick()
    # the listing only: 👀 on the outage issue is looked for when a timer comes due
    assert box.forge.requests - before == 1
    box.forge.react(1, "eng-b", "eyes")
    box.clock.now += timedelta(minutes=10)
    box.runner().tick()  # acknowledged; the index is written
    for _ in range(2):
        box.clock.now += timedelta(minutes=10)
        before = box.forge.requests
        box.runner().tick()
        assert box.forge.requests - before == 1


def test_planner_is_pure_and_keys_are_stable(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    event = box.event(EventKind.LABELED, 1, label="priority::highest")
    one = plan(event, None, T0, box.policy, GITHUB)
    two = plan(event, None, T0, box.policy, GITHUB)
    assert [x.key for x in one.actions] == [x.key for x in two.actions]
    assert [type(x).__name__ for x in one.actions] == [
        "TagPeople", "OpenOutageIssue", "PinIssue", "PostChatMessage", "PostChatMessage"]
