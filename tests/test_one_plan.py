"""Everything a run writes goes through the plan and the executor: the stale-schedule notice,
handoff notices and the status index too. So a run that dies anywhere repeats nothing, and a
dry run writes nothing anywhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import actions as a
from bot.events import Event, EventKind
from bot.planner import plan, plan_handoffs
from tests.core_helpers import T0, Sandbox
from tests.test_permissions import GITHUB, INCIDENT, NOW, POLICY, SOURCE
from tests.test_resume import DiesAfter, Killed

MONDAY_NOON_NY = T0 + timedelta(hours=3)  # T0 is Monday 09:00 in New York


def tick(**kw: Any) -> Event:
    return Event(kind=EventKind.TICK, issue=SOURCE, actor="outage-bot", at=NOW, **kw)


def test_a_stale_gap_is_said_once_on_the_outage_issue() -> None:
    since = NOW - timedelta(hours=5)
    planned = plan(tick(), INCIDENT, NOW, POLICY, GITHUB, stale_since=since)
    [notice] = [x for x in planned.actions if isinstance(x, a.PostComment) and x.template == "stale_tick.md.j2"]
    assert notice.target == "outage" and notice.key == f"1:g1:stale:{since:%Y%m%dT%H%M}"
    # no gap, or no outage issue to say it on: nothing
    assert not [x for x in plan(tick(), INCIDENT, NOW, POLICY, GITHUB).actions if x.template == "stale_tick.md.j2"]  # type: ignore[attr-defined]
    bare = replace(INCIDENT, outage_issue=None)
    assert not [x for x in plan(tick(), bare, NOW, POLICY, GITHUB, stale_since=since).actions
                if getattr(x, "template", "") == "stale_tick.md.j2"]


@pytest.mark.parametrize(("since", "now", "done", "expected"), [
    (MONDAY_NOON_NY - timedelta(minutes=10), MONDAY_NOON_NY + timedelta(minutes=5), frozenset(), 1),
    (MONDAY_NOON_NY - timedelta(minutes=10), MONDAY_NOON_NY - timedelta(minutes=1), frozenset(), 0),
    (MONDAY_NOON_NY - timedelta(minutes=10), MONDAY_NOON_NY + timedelta(minutes=5),
     frozenset({f"handoff:{MONDAY_NOON_NY:%Y%m%dT%H%M}:alerts"}), 0),
    (MONDAY_NOON_NY - timedelta(days=8), MONDAY_NOON_NY + timedelta(minutes=5), frozenset(), 2),  # a Monday missed
])
def test_handoffs_are_planned_once_per_shift_and_channel(since, now, done, expected) -> None:
    notices = plan_handoffs(POLICY, since, now, done)
    assert len(notices) == expected * len(POLICY.oncall.notify or ["alerts"])  # type: ignore[union-attr]
    assert len({n.key for n in notices}) == len(notices)


def handoffs(box: Sandbox) -> list[dict[str, Any]]:
    return [m for m in box.chat.messages() if (m["key"] or "").startswith("handoff:")]


def test_a_crash_at_the_status_issue_write_does_not_repost_the_handoff(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.clock.now = MONDAY_NOON_NY - timedelta(minutes=10)
    box.runner().tick()  # the status issue exists, last tick before the handoff
    assert handoffs(box) == []
    box.clock.now = MONDAY_NOON_NY + timedelta(minutes=5)
    with pytest.raises(Killed):
        box.runner(DiesAfter(box.forge, 1)).tick()  # the job dies at the index save, after the handoff
    box.runner().tick()
    box.runner().tick()
    assert len(handoffs(box)) == 1


def test_a_dry_run_tick_writes_nothing_anywhere(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = MONDAY_NOON_NY + timedelta(hours=13)  # handoff passed, escalation and reminders due
    before = box.state()
    runner = box.runner()
    runner.dry_run = True
    report = runner.tick()
    assert box.state() == before
    assert any("would" in line for line in report.lines)


def test_a_handoff_whose_answer_was_lost_is_posted_once(tmp_path: Path) -> None:
    from tests.test_uncertain_writes import LostAnswer

    box = Sandbox(tmp_path)
    box.clock.now = MONDAY_NOON_NY - timedelta(minutes=10)
    box.runner().tick()
    box.clock.now = MONDAY_NOON_NY + timedelta(minutes=5)
    report = box.runner(chat=LostAnswer(box.chat, 1, done=True, writes={"post"})).tick()
    assert report.failures == []
    box.runner().tick()
    assert len(handoffs(box)) == 1


def test_plan_on_the_local_forge_writes_nothing_not_even_the_simulated_comment(tmp_path: Path) -> None:
    import hashlib
    import json

    from click.testing import CliRunner

    from bot.cli import cli

    db = tmp_path / "forge.sqlite"
    base = ["--forge", "local", "--db", str(db), "--now", T0.isoformat()]
    assert CliRunner().invoke(cli, ["declare", *base, "--severity", "critical", "--title", "Checkout down"]).exit_code == 0
    event = tmp_path / "ack.json"
    event.write_text(json.dumps({"action": "comment", "issue": 1, "body": "/ack", "actor": "someone"}), encoding="utf-8")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = CliRunner().invoke(cli, ["plan", *base, "--event", str(event)])
    assert result.exit_code == 0 and "would PostComment" in result.output
    result = CliRunner().invoke(cli, ["tick", "--dry-run", *base[:4], "--now", (T0 + timedelta(hours=13)).isoformat()])
    assert result.exit_code == 0 and "would" in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
