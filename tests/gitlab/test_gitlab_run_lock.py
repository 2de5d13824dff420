"""The run lock's label calls through python-gitlab against the fake GitLab: create answers
409 to the second run, the note is read back, delete is idempotent; a create whose answer was
lost is recognised as the run's own by its note."""

from __future__ import annotations

from datetime import datetime, timezone

from fake_gitlab import FakeGitLab

from bot.adapters.gitlab import GitLabForge
from bot.run_lock import NAME, RunLock, holder, note

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)


def test_create_is_atomic_read_back_and_delete(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.reset_requests()
    assert forge.take_lock(NAME, note("one", T0))
    assert not forge.take_lock(NAME, note("two", T0))  # 409 Label already exists
    assert holder(forge.lock_note(NAME)) == ("one", T0)
    forge.drop_lock(NAME)
    forge.drop_lock(NAME)  # 404: gone already, not an error
    assert forge.lock_note(NAME) is None
    assert NAME not in fake.labels
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests] == [
        ("POST", "labels"), ("POST", "labels"), ("GET", "outage-bot%3Alock"),
        ("DELETE", "outage-bot%3Alock"), ("DELETE", "outage-bot%3Alock"), ("GET", "outage-bot%3Alock"),
    ]


def test_a_lock_costs_two_requests(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.reset_requests()
    run = RunLock(forge, run_id="run", now=T0, sleep=lambda _: None)
    assert run.acquire()
    run.release()
    assert [r.method for r in fake.requests] == ["POST", "DELETE"]


def test_a_create_whose_answer_was_lost_is_the_runs_own(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.fault("POST", r"/labels$", performed=True, answer=502)
    run = RunLock(forge, run_id="run", now=T0, sleep=lambda _: None)
    assert run.acquire()
    assert holder(forge.lock_note(NAME))[0] == "run"  # type: ignore[index]
