"""The whole lifecycle in GitLab CI's environment, against the fake GitLab: `outage-bot handle`
for each webhook-triggered pipeline, `outage-bot tick --now ...` for the scheduled ones."""

from __future__ import annotations

import re

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from chat_sink import ChatSink
from click.testing import Result
from fake_gitlab import TOKEN, FakeGitLab
from gitlab_pipeline import Pipeline
from payloads import issue_hook

from bot.executor import LEASE

T0 = datetime(2026, 11, 9, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in New York
USER_TEXT = "Checkout returns 500\n/close"  # a title trying a quick action
USER_BODY = "Everything fails.\n/label ~spam\n/assign @mallory\n@all look"


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with FakeGitLab(now=T0) as fake, ChatSink() as sink:
        fake.add_member("dev1", 30)  # Developer: may acknowledge and resolve
        fake.add_member("guest1", 10)  # Guest: may not
        yield Pipeline(fake, sink, tmp_path)


def ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def declared(pipeline: Pipeline, *labels: str, title: str = USER_TEXT, body: str = USER_BODY) -> None:
    pipeline.fake.open_issue(title, by="alice", description=body)
    ok(pipeline.label(1, *labels, by="alice", now="2026-11-09T15:00Z"))


def bot_notes(fake: FakeGitLab, iid: int) -> list[str]:
    return [n["body"] for n in fake.notes.get(iid, []) if n["author"] == fake.bot and not n["system"]]


def test_lifecycle(pipeline: Pipeline) -> None:
    fake, sink = pipeline.fake, pipeline.sink
    # -- a person labels an issue priority::highest ---------------------------------------------------
    declared(pipeline, "priority::highest")
    [tag] = bot_notes(fake, 1)
    assert "Critical incident declared" in tag and "@taylor" in tag and "@wdasilva" in tag
    outage = fake.issue(2)
    assert outage["author"] == fake.bot and outage["issue_type"] == "incident" and not outage["confidential"]
    assert "outage::active" in outage["labels"]
    assert [p for p, _ in sink.posts] == ["/alerts", "/alerts"]  # alerts and users share the one webhook
    assert "CRITICAL" in sink.texts()[0]

    # -- the same delivery again, and the webhooks GitLab sends for the bot's own writes --------------
    before = pipeline.state()
    for result in [pipeline.deliver_again(), *pipeline.echoes(0, "2026-11-09T15:01Z")]:
        ok(result)
    assert pipeline.state() == before and len(sink.posts) == 2

    # -- the scheduled pipeline: the status issue (GitLab's answer to pinning) ------------------------
    ok(pipeline.tick("2026-11-09T15:10Z"))
    [status] = [i for i in fake.issues.values() if "outage-bot::status" in i["labels"]]
    assert status["author"] == fake.bot and status["state"] == "opened"
    assert f"({fake.web}/-/issues/2)" in status["description"]  # links the outage issue

    # -- a Guest's /ack: answered once, ignored -------------------------------------------------------
    ok(pipeline.comment(1, "/ack\n/close", by="guest1", now="2026-11-09T15:20Z"))
    ok(pipeline.deliver_again())
    refusals = [b for b in bot_notes(fake, 1) if "was not applied" in b]
    assert len(refusals) == 1
    assert "incident::acknowledged" not in fake.issue(2)["labels"]

    # -- the scoped label changes: severity, not resolution ------------------------------------------
    result = pipeline.label(1, "priority::higher", by="alice", now="2026-11-09T16:00Z")
    ok(result)
    assert fake.issue(1)["labels"] == ["priority::higher"]  # GitLab removed priority::highest
    assert any("Severity changed" in b and "major" in b for b in bot_notes(fake, 1))
    assert fake.issue(2)["state"] == "opened"

    # -- a Developer acknowledges ------------------------------------------------------------------------
    ok(pipeline.comment(1, "/ack looking", by="dev1", now="2026-11-09T16:10Z"))
    assert "incident::acknowledged" in fake.issue(2)["labels"]
    assert "outage::active" in fake.issue(2)["labels"]  # another scope: both stay

    # -- the outage issue is closed: resolved ----------------------------------------------------------
    ok(pipeline.close(2, by="dev1", now="2026-11-09T17:00Z"))
    assert "outage::active" not in fake.issue(2)["labels"]
    assert any("resolved" in b.lower() for b in bot_notes(fake, 1) + bot_notes(fake, 2))
    ok(pipeline.tick("2026-11-09T17:10Z"))
    assert "resolved" in fake.issue(status["iid"])["description"].lower()

    # nothing a user wrote reached the start of a line in anything the bot posted
    assert fake.quick_actions == []
    assert fake.issues_by(fake.bot) == [fake.issue(2), fake.issue(status["iid"])]


def test_security_incident_is_confidential(pipeline: Pipeline) -> None:
    declared(pipeline, "security", "priority::highest", title="Token leaked in logs", body="see logs")
    outage = pipeline.fake.issue(2)
    assert outage["confidential"] is True and outage["issue_type"] == "incident"
    assert "@sec-lead" in bot_notes(pipeline.fake, 1)[0]
    assert any(path == "/security" for path, _ in pipeline.sink.posts)


def test_the_bots_own_comment_is_not_a_command(pipeline: Pipeline) -> None:
    declared(pipeline, "priority::highest")
    before = pipeline.state()
    since = 0
    ok(pipeline.echoes(since, "2026-11-09T15:05Z")[0])  # the Note Hook for the tag note
    assert pipeline.state() == before


def test_tick_declares_a_label_whose_event_never_arrived(pipeline: Pipeline) -> None:
    # Schedules alone: the webhook is not set up (or was disabled), the tick finds the label.
    pipeline.fake.open_issue("Search is down", by="alice")
    pipeline.fake.label(1, "P0", by="alice")
    ok(pipeline.tick("2026-11-09T15:30Z"))
    assert "Critical incident declared" in bot_notes(pipeline.fake, 1)[0]
    assert pipeline.fake.issue(2)["issue_type"] == "incident"


# -- failures --------------------------------------------------------------------------------------------
def test_502_then_success(pipeline: Pipeline) -> None:
    pipeline.fake.fail("GET", r"/issues/1/notes$", 502)
    declared(pipeline, "priority::highest")
    # the retried read, then the look after posting the ledger (did another run declare first?)
    assert [r.status for r in pipeline.fake.calls("GET", r"/projects/14/issues/1/notes")] == [502, 200, 200]
    assert len(bot_notes(pipeline.fake, 1)) == 1


def test_429_with_retry_after(pipeline: Pipeline) -> None:
    pipeline.fake.fail("POST", r"/issues$", 429, headers={"Retry-After": "1"})
    started = time.monotonic()
    declared(pipeline, "priority::highest")
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in pipeline.fake.calls("POST", r"/projects/14/issues$") if not _status_issue(r)] == [429, 201]
    assert _incident_issues(pipeline.fake) == 2


def test_a_503_on_a_post_is_looked_up_then_retried_in_the_same_run(pipeline: Pipeline) -> None:
    fake = pipeline.fake
    fake.open_issue(USER_TEXT, by="alice", description=USER_BODY)
    fake.fail("POST", r"/issues$", 503)  # not done: the executor looks for it, finds nothing, posts again
    ok(pipeline.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z"))
    assert [r.status for r in fake.calls("POST", r"/projects/14/issues$") if not _status_issue(r)] == [503, 201]
    assert _incident_issues(fake) == 2 and len(bot_notes(fake, 1)) == 1


def test_failure_past_the_retries_exits_2_then_the_next_run_finishes(pipeline: Pipeline) -> None:
    fake = pipeline.fake
    fake.open_issue(USER_TEXT, by="alice", description=USER_BODY)
    fake.fail("POST", r"/issues$", 503, times=3)  # never repeated blindly: looked up before each retry
    result = pipeline.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z")
    assert result.exit_code == 2
    assert "POST /projects/14/issues" in result.output and "503" in result.output
    assert TOKEN not in result.output
    assert len(fake.issues) == 1
    ok(pipeline.deliver_again())
    assert _incident_issues(fake) == 2 and len(bot_notes(fake, 1)) == 1  # nothing twice (and the status issue)


# Each step: what happens, and how the pipeline is run again (GitLab's "Retry" of the failed job).
STEPS: list[tuple[str, Callable[[Pipeline], Result], Callable[[Pipeline, timedelta], Result]]] = [
    ("label", lambda p: p.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z"), Pipeline.deliver_again),
    # (a tick here writes no ledger, so it takes no lease; a cut one may leave the run lock,
    # which the tick after its time takes over)
    ("tick", lambda p: p.tick("2026-11-09T15:10Z"), lambda p, late: p.tick(_later("2026-11-09T15:10Z", late))),
    ("guest /ack", lambda p: p.comment(1, "/ack", by="guest1", now="2026-11-09T15:20Z"), Pipeline.deliver_again),
    ("scoped change", lambda p: p.label(1, "priority::higher", by="alice", now="2026-11-09T15:30Z"), Pipeline.deliver_again),
    ("/ack", lambda p: p.comment(1, "/ack on it", by="dev1", now="2026-11-09T15:40Z"), Pipeline.deliver_again),
    ("close", lambda p: p.close(2, by="dev1", now="2026-11-09T16:00Z"), Pipeline.deliver_again),
    ("tick after", lambda p: p.tick("2026-11-09T16:10Z"), lambda p, late: p.tick(_later("2026-11-09T16:10Z", late))),
]


def _incident_issues(fake: FakeGitLab) -> int:
    """The reported issue and its outage issue: not the status issue."""
    return len([i for i in fake.issues.values() if "outage-bot::status" not in i["labels"]])


def _status_issue(request: object) -> bool:
    """Opening the status issue: on GitLab the first incident's label event does it at once."""
    return "outage-bot::status" in str(getattr(request, "body", ""))


def _checked(state: object) -> str:
    """The state without the status issue: an index the ticks keep (an event run writes it too
    on GitLab, but a run cut after its last incident write leaves that to the next tick)."""
    issues, notes = state  # type: ignore[misc]
    status = {n for n, i in issues.items() if "outage-bot::status" in i[2]}
    kept = ({n: i for n, i in issues.items() if n not in status}, {n: v for n, v in notes.items() if n not in status})
    return re.sub(r"_Last checked [^_]*_", "_Last checked (when)_", repr(kept))


def _later(at: str, late: timedelta) -> str:
    return (datetime.fromisoformat(at.replace("Z", "+00:00")) + late).strftime("%Y-%m-%dT%H:%MZ")


@pytest.mark.slow
def test_interrupted_after_each_request_then_rerun_reaches_the_same_end(tmp_path: Path) -> None:
    def scenario(broken: int | None, cut: int | None) -> tuple[list[object], list[int]]:
        """The steps up to `broken` (all without it); that one cut off after `cut` requests and
        run again. Returns the state after each step and each step's request count."""
        with FakeGitLab(now=T0) as fake, ChatSink() as sink:
            fake.add_member("dev1", 30)
            fake.add_member("guest1", 10)
            pipeline = Pipeline(fake, sink, tmp_path)
            fake.open_issue(USER_TEXT, by="alice", description=USER_BODY)
            states, costs = [], []
            for index, (name, step, again) in enumerate(STEPS[: None if broken is None else broken + 1]):
                fake.reset_requests()
                if index == broken:
                    fake.interrupt_after(cut)
                    assert step(pipeline).exit_code == 2, name
                    fake.interrupt_after(None)
                    # run again once the interrupted run's lease is over (a CI job's timeout):
                    # until then a run leaves its pending actions alone
                    ok(again(pipeline, LEASE + timedelta(minutes=1)))
                else:
                    ok(step(pipeline))
                costs.append(len(fake.requests))
                states.append(pipeline.state())
            assert fake.quick_actions == []
            return states, costs

    reference, costs = scenario(None, None)
    # the label event: 5, and 2 more since it writes the status issue at once (GitLab cannot pin
    # the outage notice: the status issue is where people watch; GitHub stays at 6)
    assert costs[0] <= 7
    for broken, cost in enumerate(costs):
        for cut in range(cost):
            states, _ = scenario(broken, cut)
            # (a tick run again later says so in the status issue's "Last checked" line)
            assert _checked(states[-1]) == _checked(reference[broken]), f"{STEPS[broken][0]}: interrupted after request {cut} of {cost}"


def test_issue_opened_with_a_severity_label(pipeline: Pipeline) -> None:
    # An issue template with `/label ~priority::highest`, or labels chosen on the form: GitLab
    # sends one Issue Hook, action "open", with the labels already on.
    issue = pipeline.fake.open_issue("Login broken", by="alice", labels=["priority::highest"])
    ok(pipeline.deliver(issue_hook(pipeline.fake, issue["iid"], "open", by="alice", previous_labels=[]),
                        "2026-11-09T15:00Z"))
    assert "Critical incident declared" in bot_notes(pipeline.fake, 1)[0]
    assert pipeline.fake.issue(2)["issue_type"] == "incident"
