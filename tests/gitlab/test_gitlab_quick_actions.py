"""GitLab runs a line that starts with `/` in a note or description as a quick action, as the
user who posted it: here, the bot. Nothing a user wrote may reach the start of a line in
anything the bot posts. The fake records every such line it receives (`quick_actions`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from chat_sink import ChatSink
from click.testing import Result
from fake_gitlab import FakeGitLab
from gitlab_pipeline import Pipeline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.gitlab import GitLabForge

T0 = datetime(2026, 11, 9, 15, 0, tzinfo=timezone.utc)
HOSTILE = "\n/close\n/label ~spam\n  /assign @mallory\n/confidential\n\u202e/unlabel ~P0\n"


def ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def test_the_fake_sees_a_quick_action(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    forge.post_comment(1, "fine\n/close\n```\n/not-in-a-code-block\n```")
    forge.edit_issue_body(1, "  /label ~x")
    assert fake.quick_actions == [("note on #1", "/close"), ("issue description", "  /label ~x")]


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with FakeGitLab(now=T0) as fake, ChatSink() as sink:
        fake.add_member("dev1", 30)
        yield Pipeline(fake, sink, tmp_path)


def test_hostile_text_everywhere_the_bot_quotes_it(pipeline: Pipeline) -> None:
    fake = pipeline.fake
    fake.open_issue(f"/close{HOSTILE}", by="alice", description=f"/label ~spam{HOSTILE}")
    ok(pipeline.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z"))
    ok(pipeline.comment(1, f"/ack{HOSTILE}", by="mallory", now="2026-11-09T15:05Z"))  # refused, quoted?
    ok(pipeline.label(1, "priority::higher", by="alice", now="2026-11-09T15:10Z"))
    ok(pipeline.comment(1, f"/resolve /close{HOSTILE}", by="dev1", now="2026-11-09T15:20Z"))
    ok(pipeline.tick("2026-11-09T15:30Z"))
    assert len(fake.notes[1]) >= 4 and len(fake.issues) == 3  # tag, refusal, severity, resolution; status issue
    assert fake.quick_actions == []
    for issue in fake.issues_by(fake.bot):
        assert not any(line.lstrip().startswith("/") for line in issue["description"].splitlines())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(alphabet=st.sampled_from("/ \n\t\u200b\u202eab~@#!:-*>`"), min_size=1, max_size=40),
       body=st.text(alphabet=st.sampled_from("/ \n\tab~@`>"), max_size=60))
def test_no_user_text_starts_a_line(pipeline: Pipeline, title: str, body: str) -> None:
    fake = pipeline.fake
    issue = fake.open_issue(title, by="alice", description=body)
    ok(pipeline.label(issue["iid"], "P0", by="alice", now="2026-11-09T15:00Z"))  # the title is quoted in the outage issue
    assert fake.quick_actions == []
