"""Issue #16, part 5, on GitLab as its CI runs it: when the pipeline schedule stops, the next
pipeline that acts on an incident says so once (the alert channel, the status issue, naming
the schedule's owner and the webhook as the likely causes); other runs, and the tick that
ends the gap, say nothing more."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from payloads import note_hook
from test_gitlab_lost_events import CHANNELS, DEVELOPER, T0, World, declared

from bot.ledger import status_data
from bot.status_index import Index

STOPPED = T0 + timedelta(minutes=10)  # the last tick that ran (declared() ran it)


def gap_notices(world: World) -> list[str]:
    return [m["text"] for m in world.slack.messages(CHANNELS["outage-alerts"]) if "scheduled run" in m["text"]]


def status(world: World) -> tuple[str, Index]:
    body = next(i["description"] for i in world.fake.issues.values()
                if "outage-bot::status" in i["labels"] and not i.get("confidential"))
    return body, Index.from_data(status_data(body))


def update(world: World, hours: float) -> None:
    world.fake.now = STOPPED + timedelta(hours=hours)
    note = world.fake.comment(1, f"/update still looking ({hours}h)", by="dev2")
    world.ci.deliver(note_hook(world.fake, 1, note), STOPPED + timedelta(hours=hours, seconds=20))


def test_a_pipeline_says_once_that_the_schedule_stopped(tmp_path: Path) -> None:
    with declared(tmp_path) as world:
        world.fake.add_member("dev2", DEVELOPER)
        update(world, 0.5)
        assert gap_notices(world) == []  # half an hour: not overdue
        update(world, 3)
        [notice] = gap_notices(world)
        assert "has not run since" in notice and "Pipeline schedules" in notice and "Webhooks" in notice
        body, index = status(world)
        assert "has not run since" in body and index.gap is not None
        update(world, 4)
        update(world, 5)
        world.ci.tick(STOPPED + timedelta(hours=6))
        world.ci.tick(STOPPED + timedelta(hours=6, minutes=10))
        assert len(gap_notices(world)) == 1
        body, _ = status(world)
        assert "did not run from" in body
