"""The run lock's label calls through PyGithub against the fake GitHub: create answers 422
already_exists to the second run, the note is read back, delete is idempotent; a create whose
answer was lost is recognised as the run's own by its note."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fake_github import FakeGitHub
from github_helpers import webhook

from bot.adapters.github import GitHubForge
from bot.run_lock import NAME, RunLock, holder, note

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)


def test_create_is_atomic_read_back_and_delete(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.clear()
    assert forge.take_lock(NAME, note("one", T0))
    assert not forge.take_lock(NAME, note("two", T0))  # 422 already_exists
    assert holder(forge.lock_note(NAME)) == ("one", T0)
    forge.drop_lock(NAME)
    forge.drop_lock(NAME)  # 404: gone already, not an error
    assert forge.lock_note(NAME) is None
    assert NAME.lower() not in fake.labels
    assert fake.lines() == [
        f"POST /repos/{fake.full_name}/labels", f"POST /repos/{fake.full_name}/labels",
        f"GET /repos/{fake.full_name}/labels/{NAME}",
        f"DELETE /repos/{fake.full_name}/labels/{NAME}", f"DELETE /repos/{fake.full_name}/labels/{NAME}",
        f"GET /repos/{fake.full_name}/labels/{NAME}",
    ]


def test_a_lock_costs_two_requests(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.clear()
    run = RunLock(forge, run_id="run", now=T0, sleep=lambda _: None)
    assert run.acquire()
    run.release()
    assert [line.split()[0] for line in fake.lines()] == ["POST", "DELETE"]


def test_a_create_whose_answer_was_lost_is_the_runs_own(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.fault("POST", r"/labels$", performed=True, answer=502)
    run = RunLock(forge, run_id="run", now=T0, sleep=lambda _: None)
    assert run.acquire()  # the 502 came after GitHub created it: the note says it is ours
    assert holder(forge.lock_note(NAME))[0] == "run"  # type: ignore[index]
    run.release()
    assert forge.lock_note(NAME) is None


def test_a_create_that_did_not_happen_is_tried_again(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.fault("POST", r"/labels$", performed=False, answer=502)
    run = RunLock(forge, run_id="run", now=T0, sleep=lambda _: None)
    assert run.acquire()
    assert holder(forge.lock_note(NAME))[0] == "run"  # type: ignore[index]


def test_a_cancelled_run_gives_the_lock_back(fake: FakeGitHub, tmp_path: Path) -> None:
    """CI cancels a job with SIGTERM (GitHub after SIGINT, GitLab at once): the run ends as an
    interrupt would and deletes its lock, so the next run need not wait for it to expire."""
    issue = fake.add_issue("Checkout is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))
    fake.label(issue.number, "priority::highest", actor="reporter", at=T0)
    fake.now = T0 + timedelta(seconds=20)
    labeled = tmp_path / "labeled.json"
    labeled.write_text(json.dumps(webhook(fake, "issues", "labeled", issue.number, sender="reporter", label="priority::highest")))
    assert run(fake, labeled, "issues").wait(timeout=60) == 0
    cid = fake.comment(issue.number, "/ack", user="eng-a", at=T0 + timedelta(minutes=5))
    ack = tmp_path / "ack.json"
    ack.write_text(json.dumps(webhook(fake, "issue_comment", "created", issue.number, sender="eng-a", comment=cid)))
    fake.fault("POST", rf"/issues/{issue.number}/comments$", performed=False, answer="hang", hang=20)
    process = run(fake, ack, "issue_comment")
    deadline = time.monotonic() + 30
    while not any(line.startswith("POST") and line.endswith("/comments") for line in fake.lines()[-2:]):
        assert time.monotonic() < deadline and process.poll() is None, "the run never reached its comment"
        time.sleep(0.05)
    assert NAME.lower() in fake.labels  # held while it writes
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 128 + signal.SIGTERM
    assert NAME.lower() not in fake.labels


def run(fake: FakeGitHub, event: Path, name: str) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root), **fake.env(GITHUB_EVENT_NAME=name, GITHUB_EVENT_PATH=str(event))}
    command = [sys.executable, "-c", "from bot.cli import main; main()", "handle", "--config",
               str(root / "tests" / "fixtures" / "team_policy.yml"), "--now", (T0 + timedelta(minutes=6)).isoformat()]
    return subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
