"""Issue #10, "check-then-retry", in GitLab CI: a label webhook delivered to the trigger
pipeline (`outage-bot handle` through the CLI, GitLab CI's environment pointed at the fake
GitLab, SLACK_BOT_TOKEN and SLACK_API_URL at the fake Slack) while GitLab or Slack loses the
answer to a write it carried out, or rate-limits it. Whatever happens: one tag note, one
outage incident, one root alert per routed channel, and the run goes on with exit 0.

The adapters never repeat such a POST (test_gitlab_uncertain_writes.py,
tests/slack/test_slack_uncertain_writes.py); the executor looks the write up by its key and
redoes it only when it is absent.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from chat_sink import ChatSink
from click.testing import Result
from fake_gitlab import TOKEN, FakeGitLab
from gitlab_pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
from fake_slack import TOKEN as SLACK_TOKEN  # tests/slack is not a package
from fake_slack import FakeSlack

T0 = datetime(2026, 11, 9, 15, 0, tzinfo=timezone.utc)
CHANNELS = {"outage-alerts": "C0ALERTS01", "troubleshooting": "C0USERS001", "internal-infra-alerts": "G0SECURITY"}
ROUTED = ("C0ALERTS01", "C0USERS001")  # where tests/fixtures/gitlab/policy.yml sends a critical incident
ISSUES, NOTES = r"/projects/14/issues$", r"/projects/14/issues/1/notes$"


@dataclass
class SlackPipeline(Pipeline):
    """The e2e pipeline with the Slack Web API (a bot token) instead of incoming webhooks."""

    slack: FakeSlack | None = None

    def environ(self, source: str, payload: str | None = None) -> dict[str, str]:
        env = super().environ(source, payload)
        for name in [k for k in env if k.startswith("SLACK_WEBHOOK_URL")]:
            del env[name]
        assert self.slack is not None
        return {**env, "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_API_URL": self.slack.api_url}


@pytest.fixture
def run(tmp_path: Path) -> Iterator[SlackPipeline]:
    with FakeGitLab(now=T0) as fake, ChatSink() as sink, FakeSlack() as slack:
        for name, cid in CHANNELS.items():
            slack.add_channel(name, id=cid, private=cid.startswith("G"))
        yield SlackPipeline(fake, sink, tmp_path, slack=slack)


def label_event(run: SlackPipeline) -> Result:
    run.fake.open_issue("Checkout returns 500", by="alice", description="Everything fails.")
    result = run.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def assert_exactly_once(run: SlackPipeline, result: Result) -> None:
    fake, slack = run.fake, run.slack
    assert slack is not None
    assert result.exit_code == 0, result.output
    assert len(fake.stored_notes(1)) == 1, fake.stored_notes(1)  # the tag note (with the ledger)
    [outage] = fake.stored_issues(containing="outage-bot:outage-of=1 ")
    assert outage["issue_type"] == "incident" and "outage::active" in outage["labels"]
    for channel in ROUTED:
        assert len(slack.roots(channel)) == 1, slack.roots(channel)
    keys = [m["metadata"]["event_payload"]["key"] for c in ROUTED for m in slack.messages(c)]
    assert len(keys) == len(set(keys))
    assert TOKEN not in result.output and SLACK_TOKEN not in result.output
    assert run.sink.posts == []  # no webhook in this set-up


def posts_to(run: SlackPipeline, path: str) -> list[str]:
    """The answers to POSTs on `path`; not the status issue's (on GitLab the label event opens
    it at once, as the first incident's status is news there)."""
    return [r.lost or str(r.status) for r in run.fake.calls("POST", path.rstrip("$") + "$") if "outage-bot::status" not in str(r.body)]


def test_nothing_fails(run: SlackPipeline) -> None:
    assert_exactly_once(run, label_event(run))


@pytest.mark.parametrize("answer", [500, pytest.param("drop", marks=pytest.mark.slow),
                                    pytest.param("truncate", marks=pytest.mark.slow)])
def test_slack_loses_the_answer_after_storing_each_root_alert(run: SlackPipeline, answer: int | str) -> None:
    assert run.slack is not None
    run.slack.fault("chat.postMessage", performed=True, answer=answer, times=len(ROUTED))
    assert_exactly_once(run, label_event(run))
    assert [c.lost for c in run.slack.calls("chat.postMessage")] == [f"after: {answer}"] * len(ROUTED)


@pytest.mark.parametrize("answer", [502, pytest.param("drop", marks=pytest.mark.slow),
                                    pytest.param("cut", marks=pytest.mark.slow)])
def test_gitlab_loses_the_answer_after_opening_the_outage_incident(run: SlackPipeline, answer: int | str) -> None:
    run.fake.fault("POST", ISSUES, performed=True, answer=answer)
    assert_exactly_once(run, label_event(run))
    assert posts_to(run, ISSUES) == [f"after: {answer}"]  # looked up, not opened again, no plain-issue fallback


@pytest.mark.parametrize("answer", [502, pytest.param("drop", marks=pytest.mark.slow),
                                    pytest.param("truncate", marks=pytest.mark.slow)])
def test_gitlab_loses_the_answer_after_posting_the_tag_note(run: SlackPipeline, answer: int | str) -> None:
    run.fake.fault("POST", NOTES, performed=True, answer=answer)
    assert_exactly_once(run, label_event(run))
    assert posts_to(run, NOTES) == [f"after: {answer}"]


@pytest.mark.slow
def test_everything_loses_its_answer_once(run: SlackPipeline) -> None:
    assert run.slack is not None
    run.fake.fault("POST", ISSUES, performed=True, answer=502)
    run.fake.fault("POST", NOTES, performed=True, answer="drop")
    run.slack.fault("chat.postMessage", performed=True, answer=503, times=len(ROUTED))
    assert_exactly_once(run, label_event(run))


@pytest.mark.slow
def test_a_write_that_failed_before_being_done_is_done_in_the_same_run(run: SlackPipeline) -> None:
    run.fake.fault("POST", ISSUES, performed=False, answer=503)
    assert_exactly_once(run, label_event(run))
    assert posts_to(run, ISSUES) == ["before: 503", "201"]


def test_rate_limits_are_waited_out(run: SlackPipeline) -> None:
    assert run.slack is not None
    run.fake.fault("POST", ISSUES, performed=False, answer=429, retry_after=1)
    run.fake.fault("POST", NOTES, performed=False, answer=429, retry_after=1)
    run.slack.fault("chat.postMessage", performed=False, answer=429, retry_after=1)
    assert_exactly_once(run, label_event(run))
    assert posts_to(run, ISSUES) == ["before: 429", "201"] and posts_to(run, NOTES) == ["before: 429", "201"]
    assert [c.status for c in run.slack.calls("chat.postMessage")][:2] == [429, 200]
