"""Issue 13, part 4: the update cadence. `/update <text>` by someone who may acknowledge tells
users in one go (the outage issue, the users' channels); with `update_every`, an incident whose
users heard nothing new for that long gets one nudge per interval in the team's alert thread,
naming its owner (whoever acknowledged, else the primary on call)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import actions as a
from bot.config import load
from bot.events import Event, EventKind
from bot.incident import Incident
from bot.planner import ForgeInfo, plan
from bot.records import Comment, ForgeCapabilities, Issue
from bot.schedule import next_due
from tests.core_helpers import T0, Sandbox

TEAM = Path(__file__).parent / "fixtures" / "team_policy.yml"
GITHUB = ForgeInfo("github", ForgeCapabilities(pinning=True, confidential_issues=False, incident_issue_type=False))


def policy_file(tmp: Path, every: str | None = "2h") -> Path:
    data = yaml.safe_load(TEAM.read_text(encoding="utf-8"))
    if every:
        data["severities"]["critical"]["update_every"] = every
    path = tmp / "policy.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def incident(**more: Any) -> Incident:
    base = dict(source=1, severity="critical", kind=None, status="active", title="Checkout is down", declared_at=T0,
                severity_since=T0, outage_issue=2, notified=("alerts", "users"))
    return Incident(**{**base, **more})  # type: ignore[arg-type]


def tick(at: Any) -> Event:
    issue = Issue(number=1, title="Checkout is down", body="", labels=("priority::highest",), state="open", url="", author="r",
                  created_at=T0, updated_at=T0)
    return Event(kind=EventKind.TICK, issue=issue, actor="outage-bot", at=at)


def nudges(planned: Any) -> list[str]:
    return [x.key for x in planned.actions if isinstance(x, a.PostChatMessage) and ":update-due:" in x.key]


@pytest.mark.parametrize(("state", "after", "expected"), [
    ({}, timedelta(hours=1, minutes=59), 0),  # not yet
    ({}, timedelta(hours=2, minutes=5), 1),  # one nudge, in the team channel only
    ({}, timedelta(hours=4, minutes=5), 1),  # the next interval: one (a new key)
    ({"updated_at": T0 + timedelta(hours=3)}, timedelta(hours=4, minutes=5), 0),  # an /update at 3h restarts the clock
    ({"status": "resolved"}, timedelta(hours=3), 0),
])
def test_plan_nudges_the_owner_once_an_interval(tmp_path: Path, state: dict[str, Any], after: timedelta, expected: int) -> None:
    policy, _ = load(policy_file(tmp_path))
    planned = plan(tick(T0 + after), incident(**state), T0 + after, policy, GITHUB)
    keys = nudges(planned)
    assert len(keys) == expected and all(k.endswith(":chat:alerts") for k in keys)


def test_no_update_every_no_nudge_and_the_index_wakes_for_it(tmp_path: Path) -> None:
    policy, _ = load(policy_file(tmp_path, every=None))
    assert nudges(plan(tick(T0 + timedelta(hours=9)), incident(), T0 + timedelta(hours=9), policy, GITHUB)) == []
    policy, _ = load(policy_file(tmp_path, every="2h"))
    assert next_due(incident(acknowledged_at=T0, status="acknowledged"), policy, T0 + timedelta(minutes=10)) == T0 + timedelta(hours=2)


def test_slash_update_tells_users_in_one_go(tmp_path: Path) -> None:
    policy, _ = load(policy_file(tmp_path))
    issue = Issue(number=1, title="Checkout is down", body="", labels=("priority::highest",), state="open", url="", author="r",
                  created_at=T0, updated_at=T0)
    comment = Comment(id=77, author="eng-a", body="/update A fix is deploying, expect recovery by 15:00", created_at=T0 + timedelta(hours=1))
    event = Event(kind=EventKind.COMMENTED, issue=issue, actor="eng-a", at=comment.created_at, comment=comment, actor_trusted=True)
    planned = plan(event, incident(), T0 + timedelta(hours=1), policy, GITHUB)
    assert [(type(x).__name__, getattr(x, "target", getattr(x, "channel", ""))) for x in planned.actions] == [
        ("PostComment", "outage"), ("PostChatMessage", "users")]
    assert planned.incident is not None and planned.incident.updated_at == T0 + timedelta(hours=1)
    stranger = Event(kind=EventKind.COMMENTED, issue=issue, actor="rando", at=comment.created_at, comment=comment)
    refused = plan(stranger, incident(), T0 + timedelta(hours=1), policy, GITHUB)
    assert [x.template for x in refused.actions if isinstance(x, a.PostComment)] == ["not_allowed.md.j2"]


def test_the_whole_thing_on_the_local_forge(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box", policy_file(tmp_path))
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = T0 + timedelta(hours=1)
    box.runner().handle(box.comment(1, "/update Rolling back now", "eng-a"))
    assert any("Rolling back now" in c.body for c in box.forge.list_comments(2))  # the outage issue
    assert any("Rolling back now" in (m["body"] or "") for m in box.chat.messages() if m["channel"] == "users")
    for minutes in (70, 130, 190, 200):  # ticks; the nudge falls due 2h after the /update
        box.clock.now = T0 + timedelta(minutes=minutes)
        box.runner().tick()
    nudged = [m for m in box.chat.messages() if m["channel"] == "alerts" and "heard nothing new" in m["headline"]]
    assert len(nudged) == 1 and not [m for m in box.chat.messages() if m["channel"] == "users" and "heard nothing" in m["headline"]]
