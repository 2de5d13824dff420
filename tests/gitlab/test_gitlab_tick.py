"""The scheduled pipeline on GitLab: what a quiet tick costs, and a disabled webhook noticed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from chat_sink import ChatSink
from click.testing import CliRunner, Result
from fake_gitlab import FakeGitLab
from gitlab_pipeline import Pipeline

from bot.cli import cli

T0 = datetime(2026, 11, 9, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def maintained(tmp_path: Path) -> Iterator[Pipeline]:
    """A token with the Maintainer role: it may list the project's webhooks."""
    with FakeGitLab(now=T0, token_access=40) as fake, ChatSink() as sink:
        yield Pipeline(fake, sink, tmp_path)


def tick(pipeline: Pipeline, now: str, **extra: str) -> Result:
    env = pipeline.environ("schedule") | extra
    result = CliRunner().invoke(cli, ["tick", "--now", now], env=env)
    assert result.exit_code == 0, result.output
    return result


def status_body(fake: FakeGitLab) -> str:
    [status] = [i for i in fake.issues.values() if "outage-bot::status" in i["labels"]]
    return str(status["description"])


def test_a_disabled_webhook_is_reported_by_the_tick_that_finds_its_lost_event(maintained: Pipeline) -> None:
    fake = maintained.fake
    fake.add_hook(issues_events=True, note_events=True, alert_status="disabled")
    # labeled while the hook was disabled: no pipeline ran
    fake.open_issue("Checkout returns 500", by="alice", labels=["priority::highest"])
    result = tick(maintained, "2026-11-09T15:10Z")
    assert "webhook 1" in result.output and "disabled" in result.output
    assert "Critical incident declared" in fake.note_bodies(1)[0]
    body = status_body(fake)
    assert "disabled" in body and "Webhooks" in body
    assert "trigger-secret" not in result.output + body  # the trigger token rides in the hook's URL


def test_the_hook_is_checked_once_a_day_not_every_tick(maintained: Pipeline) -> None:
    fake = maintained.fake
    fake.add_hook(issues_events=True)
    tick(maintained, "2026-11-09T15:10Z")
    assert len(fake.calls("GET", r"/projects/14/hooks")) == 1
    for minute in (20, 30, 40):
        tick(maintained, f"2026-11-09T15:{minute}Z")
    assert len(fake.calls("GET", r"/projects/14/hooks")) == 1
    tick(maintained, "2026-11-10T15:15Z")
    assert len(fake.calls("GET", r"/projects/14/hooks")) == 2
    fake.hooks[0]["alert_status"] = "disabled"
    fake.open_issue("Search is down", by="alice", labels=["priority::highest"])  # a lost event: check now
    result = tick(maintained, "2026-11-10T15:25Z")
    assert len(fake.calls("GET", r"/projects/14/hooks")) == 3
    assert "disabled" in result.output


def test_a_quiet_tick_costs_one_request(maintained: Pipeline) -> None:
    fake = maintained.fake
    fake.open_issue("Checkout returns 500", by="alice", labels=["priority::highest"])
    tick(maintained, "2026-11-09T15:10Z")  # declares, opens the status issue
    tick(maintained, "2026-11-09T15:20Z")
    fake.reset_requests()
    tick(maintained, "2026-11-09T15:30Z")
    # the one OR-label search, which also says who the token is (GraphQL currentUser)
    assert [r.path for r in fake.requests] == ["/api/graphql"]
    fake.reset_requests()
    tick(maintained, "2026-11-09T15:35Z", OUTAGE_BOT_GITLAB_LOGIN=fake.bot)
    assert [r.path for r in fake.requests] == ["/api/graphql"]


def test_an_incident_declared_by_its_event_does_not_count_as_lost(maintained: Pipeline) -> None:
    fake = maintained.fake
    fake.add_hook(issues_events=True)
    fake.open_issue("Checkout returns 500", by="alice")
    tick(maintained, "2026-11-09T15:00Z")  # the daily check
    result = maintained.label(1, "priority::highest", by="alice", now="2026-11-09T15:05Z")
    assert "declared" in result.output
    result = tick(maintained, "2026-11-09T15:10Z")  # first sight of the incident in the index
    assert "1 open incident" in result.output
    assert len(fake.calls("GET", r"/projects/14/hooks")) == 1
