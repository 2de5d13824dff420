"""Issue #16, part 5: a bot that notices when it stops, on GitHub as Actions runs it. When the
schedule stops, no tick runs to say so: the next event run that acts on an incident does, once
per gap (the alert channel, the status issue), and re-enables the tick's workflow when GitHub
disabled it and the token may. Every other run, and the tick that ends the gap, says nothing more."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from test_github_lost_events import CHANNELS, T0, World, declared

from bot.ledger import status_data
from bot.status_index import Index

STOPPED = T0 + timedelta(minutes=10)  # the last tick that ran (declared() ran it)


def gap_notices(world: World) -> list[str]:
    return [m["text"] for m in world.slack.messages(CHANNELS["outage-alerts"]) if "scheduled run" in m["text"]]


def status(world: World) -> tuple[str, Index]:
    body = next(i.body for i in world.github.issues.values() if "outage-bot::status" in i.labels)
    return body, Index.from_data(status_data(body))


def ack(world: World, at_hours: float, user: str = "maint") -> None:
    at = STOPPED + timedelta(hours=at_hours)
    cid = world.github.comment(1, "/ack", user=user, at=at)
    world.run.handle("issue_comment", "created", 1, sender=user, at=at + timedelta(seconds=20), comment=cid)


def test_an_event_run_says_once_that_ticks_stopped_and_the_tick_that_resumes_says_nothing_more(tmp_path: Path) -> None:
    with declared(tmp_path) as world:
        world.github.set_role("maint", "maintain")
        ack(world, 0.5)  # 30 minutes: not overdue (at least an hour by default)
        assert gap_notices(world) == []
        world.github.clear()
        world.github.comment(1, "/update still looking", user="maint", at=STOPPED + timedelta(hours=3))
        world.run.handle("issue_comment", "created", 1, sender="maint", at=STOPPED + timedelta(hours=3),
                         comment=max(world.github.comments))
        [notice] = gap_notices(world)
        assert "has not run since" in notice and "Enable workflow" in notice
        body, index = status(world)
        assert "has not run since" in body and index.gap is not None and index.gap[0] == index.last_tick

        for hours in (4, 5):  # more event runs that act: nothing more
            world.github.comment(1, f"/update at {hours}h", user="maint", at=STOPPED + timedelta(hours=hours))
            world.run.handle("issue_comment", "created", 1, sender="maint", at=STOPPED + timedelta(hours=hours),
                             comment=max(world.github.comments))
        world.run.tick(STOPPED + timedelta(hours=6))  # the schedule is back: the gap it ends was said
        world.run.tick(STOPPED + timedelta(hours=6, minutes=10))
        assert len(gap_notices(world)) == 1
        body, index = status(world)
        assert "did not run from" in body and index.gap is not None and index.gap[1] == STOPPED + timedelta(hours=6)


def test_an_event_run_that_acts_on_nothing_reads_nothing_more(tmp_path: Path) -> None:
    with declared(tmp_path) as world:
        world.github.add_issue("A question", "How do I ...?", author="someone", at=STOPPED + timedelta(hours=3))
        world.github.clear()
        cid = world.github.comment(3, "thanks!", user="someone", at=STOPPED + timedelta(hours=3))
        world.run.handle("issue_comment", "created", 3, sender="someone", at=STOPPED + timedelta(hours=3), comment=cid)
        assert "GET /search/issues" not in world.github.lines() and gap_notices(world) == []


@pytest.mark.parametrize("may_enable", [True, False])
def test_a_workflow_github_disabled_is_re_enabled_when_the_token_may(tmp_path: Path, may_enable: bool) -> None:
    with declared(tmp_path) as world:
        world.github.set_role("maint", "maintain")
        world.github.workflows = {"outage-bot.yml": "active", "outage-bot-tick.yml": "disabled_inactivity"}
        world.github.actions_write = may_enable
        world.github.comment(1, "/update still looking", user="maint", at=STOPPED + timedelta(days=61))
        world.run.handle("issue_comment", "created", 1, sender="maint", at=STOPPED + timedelta(days=61),
                         comment=max(world.github.comments))
        [notice] = gap_notices(world)
        if may_enable:
            assert world.github.workflows["outage-bot-tick.yml"] == "active"
            assert "outage-bot re-enabled it" in notice
        else:
            assert world.github.workflows["outage-bot-tick.yml"] == "disabled_inactivity"
            assert "disabled_inactivity" in notice and "actions: write" in notice and "Enable workflow" in notice
