"""Issue 14, part 3: where the forge cannot pin (GitLab), the status issue is the place to
watch, so the event run that declares, acknowledges or resolves an incident writes it at once
(not at the next tick, which may be late). Counted: the label event's requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from chat_sink import ChatSink
from click.testing import Result
from fake_gitlab import FakeGitLab
from gitlab_pipeline import Pipeline

from bot.ledger import status_data
from bot.status_index import Index

T0 = datetime(2026, 11, 9, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with FakeGitLab(now=T0) as fake, ChatSink() as sink:
        fake.add_member("dev1", 30)
        yield Pipeline(fake, sink, tmp_path)


def ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def status(fake: FakeGitLab) -> tuple[str, Index]:
    [issue] = [i for i in fake.issues.values() if "outage-bot::status" in i["labels"]]
    return issue["description"], Index.from_data(status_data(issue["description"]))


def test_the_status_issue_shows_an_incident_as_soon_as_each_event_run_ends(pipeline: Pipeline) -> None:
    fake = pipeline.fake
    fake.open_issue("Checkout returns 500", by="alice")
    fake.reset_requests()
    ok(pipeline.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z"))  # no tick has run yet
    body, index = status(fake)
    assert "Checkout returns 500" in body and index.entries[1].status == "active"
    # the label event's cost with the status issue written: read ledger, tag, outage issue,
    # record, the token's name, and the status issue found and opened (the first incident)
    assert len(fake.requests) == 7
    ok(pipeline.comment(1, "/ack on it", by="dev1", now="2026-11-09T15:20Z"))
    assert status(fake)[1].entries[1].status == "acknowledged"
    ok(pipeline.comment(1, "/resolve rolled back", by="dev1", now="2026-11-09T15:40Z"))
    _, index = status(fake)
    assert 1 not in index.entries and index.history[0]["source"] == 1 and index.history[0]["status"] == "resolved"


def test_a_comment_that_changes_nothing_does_not_write_it(pipeline: Pipeline) -> None:
    fake = pipeline.fake
    fake.open_issue("Checkout returns 500", by="alice")
    ok(pipeline.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z"))
    fake.reset_requests()
    ok(pipeline.comment(1, "any news?", by="alice", now="2026-11-09T15:10Z"))
    assert not [r for r in fake.requests if r.method == "PUT"]
