"""`outage-bot timeline ISSUE --to-gitlab`: the incident's timeline added to GitLab's own
incident timeline (GraphQL timelineEventCreate) through python-gitlab, against the fake GitLab:
once; a second run adds nothing; --dry-run adds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from chat_sink import ChatSink
from click.testing import CliRunner, Result
from fake_gitlab_timeline import FakeGitLabTimeline
from gitlab_pipeline import Pipeline

from bot.adapters.gitlab import GitLabForge
from bot.adapters.gitlab.timeline_events import (
    NOTE_LIMIT,
    TimelineEvents,
    event_note,
    project_of,
)
from bot.cli import cli
from bot.timeline import Entry

T0 = datetime(2026, 11, 9, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in New York


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with FakeGitLabTimeline(now=T0) as fake, ChatSink() as sink:
        fake.add_member("dev1", 30)  # Developer: may acknowledge and resolve
        yield Pipeline(fake, sink, tmp_path)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def incident(pipeline: Pipeline, *, keep: bool = False) -> FakeGitLabTimeline:
    """Declared by alice's label at 15:00, /ack by dev1 at 16:10, the outage issue (#2, an
    incident) closed by dev1 at 17:00. The run that resolves it adds the timeline to GitLab's
    incident view; `keep=False` takes those events away again, for the command's own tests."""
    fake = pipeline.fake
    assert isinstance(fake, FakeGitLabTimeline)
    fake.open_issue("Checkout returns 500", by="alice")
    ok(pipeline.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z"))
    fake.now = T0 + timedelta(hours=1, minutes=10)
    ok(pipeline.comment(1, "/ack looking", by="dev1", now="2026-11-09T16:10Z"))
    fake.now = T0 + timedelta(hours=2)
    ok(pipeline.close(2, by="dev1", now="2026-11-09T17:00Z"))
    if not keep:
        fake.timeline_events.clear()
        fake.timeline_creates = 0
    return fake


def test_the_run_that_resolves_adds_the_timeline_to_gitlabs_incident_view(pipeline: Pipeline) -> None:
    fake = incident(pipeline, keep=True)
    notes = [(e["occurredAt"], e["note"]) for e in fake.timeline_events[2]]  # on the outage issue: the incident
    assert notes[0] == ("2026-11-09T15:00:00Z", "outage-bot: critical incident declared (label priority::highest) (alice, label)")
    assert notes[-1][0] == "2026-11-09T17:00:00Z" and notes[-1][1].startswith("outage-bot: resolved (dev1, close)")
    creates = fake.timeline_creates
    assert "added 0 timeline event(s)" in ok(timeline(pipeline, "1", "--to-gitlab")).output  # nothing twice
    assert fake.timeline_creates == creates


def timeline(pipeline: Pipeline, *args: str) -> Result:
    return CliRunner().invoke(cli, ["timeline", *args, "--now", "2026-11-09T17:30Z"], env=pipeline.environ("web"))


def test_posts_each_entry_once(pipeline: Pipeline) -> None:
    fake = incident(pipeline)
    result = ok(timeline(pipeline, "1", "--to-gitlab"))
    events = fake.timeline_events[2]  # on the outage issue: the incident GitLab shows
    assert 1 not in fake.timeline_events
    assert result.output.splitlines()[-1] == f"GitLab incident #2: added {len(events)} timeline event(s)"
    notes = [(e["occurredAt"], e["note"]) for e in events]
    assert notes[0] == ("2026-11-09T15:00:00Z", "outage-bot: critical incident declared (label priority::highest) (alice, label)")
    assert ("2026-11-09T16:10:00Z", "outage-bot: acknowledged (dev1, command); told alerts") in notes
    assert notes[-1][0] == "2026-11-09T17:00:00Z" and notes[-1][1].startswith("outage-bot: resolved (dev1, close)")
    assert [n for _, n in notes if "outage issue #2 opened" in n]
    assert not any("@" in n for _, n in notes)  # nobody is mentioned again
    # the mutation carries exactly GitLab's input fields, with the issue's global id
    [first] = [r for r in fake.calls("POST", "/api/graphql") if "timelineEventCreate" in str(r.body)][:1]
    assert first.body["variables"]["input"] == {"incidentId": f"gid://gitlab/Issue/{fake.issue(2)['id']}",
                                                "note": notes[0][1], "occurredAt": "2026-11-09T15:00:00Z"}

    creates = fake.timeline_creates
    again = ok(timeline(pipeline, "2", "--to-gitlab"))  # the outage issue's number works too
    assert fake.timeline_creates == creates and len(fake.timeline_events[2]) == len(events)
    assert "added 0 timeline event(s)" in again.output


def test_dry_run_lists_what_is_missing_and_posts_nothing(pipeline: Pipeline) -> None:
    fake = incident(pipeline)
    ok(timeline(pipeline, "1", "--to-gitlab"))
    removed = fake.timeline_events[2].pop(0)  # someone deleted one in the incident view
    creates = fake.timeline_creates
    result = ok(timeline(pipeline, "1", "--to-gitlab", "--dry-run", "--json"))
    assert json.loads(result.output)["gitlab_timeline_events_to_add"] == [removed["note"]]
    assert fake.timeline_creates == creates
    ok(timeline(pipeline, "1", "--to-gitlab"))
    assert fake.timeline_creates == creates + 1 and fake.timeline_events[2][-1]["note"] == removed["note"]


def test_a_gitlab_refusal_is_a_service_error(pipeline: Pipeline) -> None:
    fake = incident(pipeline)
    fake.issues[2]["issue_type"] = "issue"  # not an incident: GitLab refuses timeline events
    result = timeline(pipeline, "1", "--to-gitlab")
    assert result.exit_code == 2
    assert "gitlab: POST /api/graphql OutageBotTimelineEventCreate failed" in result.output


def test_through_the_forge_object(pipeline: Pipeline) -> None:
    """The function the runner or the post-mortem can call with the forge a run holds."""
    fake = incident(pipeline)
    forge = GitLabForge(fake.url, fake.token, fake.project_id, max_retries=1)  # numeric id: the path comes from the issue
    events = TimelineEvents(project_of(forge), 2)
    entry = Entry(T0, "declared", "critical incident declared", "alice", "label")
    assert [e.note for e in events.sync([entry, entry])] == [event_note(entry)]  # the same entry twice: once
    assert events.sync([entry]) == []
    assert [e.note for e in events.existing()] == [event_note(entry)]


def test_notes_fit_gitlabs_limit_and_stay_inert() -> None:
    entry = Entry(T0, "resolved", "resolved", "dev1", "command", note="@all /close " + "x" * 500)
    note = event_note(entry)
    assert len(note) <= NOTE_LIMIT and "@all" not in note and "/close" in note and not note.startswith("/")
    assert "x" not in event_note(entry, notes=False)
