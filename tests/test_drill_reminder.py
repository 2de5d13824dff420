"""Issue #16, part 4: a yearly reminder to run a drill (Meltano's once-a-year test of the
incident response) is a policy option: `drills: {remind_on: [MM-DD], at, notify, severity}`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.config import load
from bot.planner import plan_drill_reminder
from bot.policy import Drills
from bot.resources import default_policy_path
from bot.status_index import newest_keys
from tests.core_helpers import Sandbox

NY = "America/New_York"


def policy_with(**drills: object) -> object:
    policy, _ = load(default_policy_path())
    return policy.model_copy(update={"drills": Drills(**drills)})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(("now", "done", "expected"), [
    (utc(2027, 3, 1, 14, 59), frozenset(), []),  # 09:59 in New York: not yet
    (utc(2027, 3, 1, 15, 0), frozenset(), ["drill-reminder:20270301T1500:alerts"]),  # 10:00 EST
    (utc(2027, 3, 6, 0, 0), frozenset(), ["drill-reminder:20270301T1500:alerts"]),  # a late tick, within the week
    (utc(2027, 3, 9, 0, 0), frozenset(), []),  # more than a week late: next year
    (utc(2027, 3, 1, 15, 10), frozenset({"drill-reminder:20270301T1500:alerts"}), []),  # once
    (utc(2028, 1, 2, 15, 30), frozenset(), []),
])
def test_the_reminder_is_due_once_on_its_date(now, done, expected) -> None:
    policy = policy_with(remind_on=["03-01"])
    assert [n.key for n in plan_drill_reminder(policy, now, done)] == expected


def test_the_reminder_goes_to_its_channels_and_suggests_a_severity() -> None:
    policy = policy_with(remind_on=["12-31"], notify=["alerts", "security"], severity="major")
    notices = plan_drill_reminder(policy, utc(2027, 12, 31, 16, 0), frozenset())
    assert [n.channel for n in notices] == ["alerts", "security"] and notices[0].context["severity"] == "major"


def test_no_drills_section_no_reminder() -> None:
    policy, _ = load(default_policy_path())
    assert plan_drill_reminder(policy, utc(2027, 3, 1, 15, 0), frozenset()) == ()


def test_ticks_post_the_reminder_once(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(default_policy_path().read_text(encoding="utf-8") + "drills: {remind_on: ['11-10']}\n", encoding="utf-8")
    box = Sandbox(tmp_path / "box", path)
    box.clock.now = utc(2026, 11, 10, 14, 50)  # Tuesday 09:50 in New York
    for _ in range(4):
        box.runner().tick()
        box.clock.now += timedelta(minutes=10)
    reminders = [m for m in box.chat.messages() if "drill" in str(m["headline"]).lower()]
    assert len(reminders) == 1 and "outage-bot drill --severity critical" in str(reminders[0]["body"])


def test_the_index_keeps_the_newest_keys_whatever_their_names() -> None:
    handoffs = {f"handoff:{2020 + w // 52}{(w % 52) // 4 + 1:02d}{(w % 4) * 7 + 1:02d}T1700:alerts" for w in range(300)}
    keys = frozenset(handoffs | {"drill-reminder:20270301T1500:alerts", "gap:20261201T1000:alerts"})
    kept = newest_keys(keys, 200)
    assert "drill-reminder:20270301T1500:alerts" in kept and "gap:20261201T1000:alerts" in kept and len(kept) == 200


def test_without_on_call_the_bots_own_news_goes_to_alerts() -> None:
    """The gap notice and the drill reminder go to the handoff channels; a policy without an
    on-call rotation has none, and the team must still hear that the schedule stopped."""
    from bot.planner import plan_gap_notice

    policy = policy_with(remind_on=["03-01"]).model_copy(update={"oncall": None})
    gap = plan_gap_notice(policy, utc(2027, 3, 1, 10, 0), utc(2027, 3, 1, 15, 0), "github", frozenset(), ongoing=True)
    assert [n.channel for n in gap] == ["alerts"]
    assert [n.channel for n in plan_drill_reminder(policy, utc(2027, 3, 1, 15, 0), frozenset())] == ["alerts"]
