"""A run that never happened (cancelled, failed, webhook off) loses nothing: the next tick
sees what changed since it last looked and acts as the event run would have, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.events import EventKind
from tests.core_helpers import T0, Sandbox
from tests.test_lifecycle import TEAM as TEAM_POLICY  # the old default, with handles


def declared(tmp: Path) -> Sandbox:
    box = Sandbox(tmp, TEAM_POLICY)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = T0 + timedelta(minutes=10)
    box.runner().tick()  # the status index exists
    return box


def bot_comments(box: Sandbox, needle: str) -> int:
    return len([c for c in box.forge.list_comments(1) if needle in c.body and c.author == box.forge.bot_login])


def test_a_lost_ack_command_is_applied_by_the_next_tick_once(tmp_path: Path) -> None:
    box = declared(tmp_path)
    box.clock.now = T0 + timedelta(minutes=20)
    box.comment(1, "/ack on it", "maintainer")  # its run was cancelled
    box.clock.now = T0 + timedelta(minutes=30)
    box.runner().tick()
    assert box.forge.get_issue(2).labels.count("incident::acknowledged") == 1
    state = box.state()
    box.clock.now = T0 + timedelta(hours=13)  # no escalation: it was acknowledged
    box.runner().tick()
    assert not [c for c in box.forge.list_comments(1) if "secondary" in c.body.lower() and "escalat" in c.body.lower()]
    assert box.state()["comments"][: len(state["comments"])] == state["comments"]


def test_a_lost_resolve_command_is_applied_by_the_next_tick(tmp_path: Path) -> None:
    box = declared(tmp_path)
    box.clock.now = T0 + timedelta(minutes=20)
    box.comment(1, "/resolve rolled back", "maintainer")
    box.clock.now = T0 + timedelta(minutes=30)
    box.runner().tick()
    assert box.forge.get_issue(2).state == "closed"
    box.clock.now = T0 + timedelta(minutes=40)
    box.runner().tick()
    assert len([m for m in box.chat.messages() if m["key"] and ":resolved:chat:" in m["key"] and not m["key"].endswith(":root")]) >= 1


def test_a_strangers_lost_command_is_refused_once_and_changes_nothing(tmp_path: Path) -> None:
    box = declared(tmp_path)
    box.clock.now = T0 + timedelta(minutes=20)
    box.comment(1, "/resolve it works for me", "passer-by")
    for minutes in (30, 40, 50):
        box.clock.now = T0 + timedelta(minutes=minutes)
        box.runner().tick()
    assert box.forge.get_issue(2).state == "open"
    assert len([c for c in box.forge.list_comments(1) if "passer" in c.body and c.author == box.forge.bot_login]) == 1


def test_eyes_before_the_first_tick_stop_the_escalation(tmp_path: Path) -> None:
    """Measured from outside: a 👀 two hours after the label did not stop the escalation at 12h,
    because the first tick (the one that builds the status index) escalated without looking."""
    box = Sandbox(tmp_path, TEAM_POLICY)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = T0 + timedelta(hours=2)
    box.forge.react(2, "maintainer", "eyes")  # on the outage issue, where the team is told to react
    box.clock.now = T0 + timedelta(hours=12, minutes=5)
    box.runner().tick()  # the first tick ever
    assert "incident::acknowledged" in box.forge.get_issue(2).labels
    assert not [m for m in box.chat.messages() if m["key"] and ":escalate:" in m["key"]]


def test_a_strangers_eyes_do_not_stop_the_escalation(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM_POLICY)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.forge.react(2, "passer-by", "eyes")
    box.clock.now = T0 + timedelta(hours=12, minutes=5)
    box.runner().tick()
    assert "incident::acknowledged" not in box.forge.get_issue(2).labels
    assert [m for m in box.chat.messages() if m["key"] and ":escalate:" in m["key"]]


def test_a_lost_relabel_changes_the_severity_at_the_next_tick(tmp_path: Path) -> None:
    box = declared(tmp_path)
    box.forge.remove_labels(1, ["priority::highest"])
    box.forge.add_labels(1, ["priority::higher"])
    box.clock.now = T0 + timedelta(minutes=30)
    box.runner().tick()
    assert [c for c in box.forge.list_comments(1) if "major" in c.body.lower() and c.author == box.forge.bot_login]
    box.runner().tick()
    assert len([c for c in box.forge.list_comments(1) if "severity" in c.body.lower() and c.author == box.forge.bot_login]) == 1


def test_a_lost_reopen_of_an_issue_resolved_by_closing_it_starts_a_new_generation(tmp_path: Path) -> None:
    box = declared(tmp_path)
    box.clock.now = T0 + timedelta(minutes=20)
    box.forge.actor = "maintainer"
    box.forge.close_issue(1)
    box.forge.actor = box.forge.bot_login
    box.clock.now = T0 + timedelta(minutes=30)
    box.runner().tick()  # the close event was lost too: the tick resolves (a maintainer closed it)
    assert box.forge.get_issue(2).state == "closed"
    box.clock.now = T0 + timedelta(minutes=40)
    box.forge.reopen_issue(1)  # and the reopen's run never happened
    box.clock.now = T0 + timedelta(minutes=50)
    box.runner().tick()
    box.runner().tick()
    tags = [c for c in box.forge.list_comments(1) if "g2:tag" in c.body]
    assert len(tags) == 1 and "incident::acknowledged" not in box.forge.get_issue(2).labels
    assert len([m for m in box.chat.messages() if m["key"] == "1:g2:chat:alerts"]) == 1


def test_a_resolved_incident_whose_issue_stays_open_is_not_reopened_by_ticks(tmp_path: Path) -> None:
    box = declared(tmp_path)
    box.clock.now = T0 + timedelta(minutes=20)
    box.comment(1, "/resolve rolled back", "maintainer")
    for minutes in (30, 40, 50):
        box.clock.now = T0 + timedelta(minutes=minutes)
        box.runner().tick()
    assert not [c for c in box.forge.list_comments(1) if "g2:" in c.body]
