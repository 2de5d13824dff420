"""Writes that must happen once (open an issue or incident, post a note), through real
python-gitlab against the fake GitLab when the answer is lost: never repeated blindly,
`uncertain` when they may have taken effect, found again at once by the executor's look-ups.

Faults (tests/http_faults.py): (a) carried out, then a 5xx; (b) carried out, then the
connection closed, the body cut short (with and without a Content-Length), or no answer
before the client's timeout; (c) a 429 with Retry-After; (d) refused before anything was done.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from fake_gitlab import TOKEN, FakeGitLab

from bot.adapters.gitlab import GitLabForge
from bot.errors import ServiceError

MARKER = "<!-- outage-bot:outage-of=1 key=acme#1:g1:outage-issue -->"
ACTIVE = "outage::active"

Write = Callable[[GitLabForge], object]
# name -> (path regex, the write, how many objects it stored)
WRITES: dict[str, tuple[str, Write, Callable[[FakeGitLab], int]]] = {
    "note": (r"/issues/1/notes$", lambda f: f.post_comment(1, "tagging @taylor"), lambda fake: len(fake.stored_notes(1))),
    "incident": (r"/issues$", lambda f: f.create_issue(title="Outage: checkout", body=f"Down.\n\n{MARKER}", labels=[ACTIVE], incident=True),
                 lambda fake: len(fake.stored_issues(containing=MARKER))),
    "issue": (r"/issues$", lambda f: f.create_issue(title="Outage: checkout", body=f"Down.\n\n{MARKER}", labels=[ACTIVE]),
              lambda fake: len(fake.stored_issues(containing=MARKER))),
}
LOST_AFTER = [500, 502, 503, 504, "drop", "truncate", "cut"]


@pytest.fixture
def fake() -> FakeGitLab:  # type: ignore[misc]
    with FakeGitLab() as server:
        server.open_issue("Checkout is down", labels=["priority::highest"])
        yield server


def make(fake: FakeGitLab, **options: float) -> GitLabForge:
    return GitLabForge(fake.url, TOKEN, fake.project_id, project_path=fake.project_path, max_retries=2, **options)  # type: ignore[arg-type]


def failure(write: Write, forge: GitLabForge) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        write(forge)
    return caught.value


def posts(fake: FakeGitLab) -> list[str]:
    return [r.lost or str(r.status) for r in fake.calls("POST")]


# -- (a), (b): done, then the answer is lost ---------------------------------------------------------
@pytest.mark.parametrize("answer", LOST_AFTER)
@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_write_done_then_its_answer_lost_is_uncertain_and_not_repeated(
        fake: FakeGitLab, forge: GitLabForge, what: str, answer: int | str) -> None:
    path, write, stored = WRITES[what]
    fake.fault("POST", path, performed=True, answer=answer)

    error = failure(write, forge)

    assert error.uncertain
    assert error.request == "POST /projects/14/issues" + ("/1/notes" if what == "note" else "")
    assert stored(fake) == 1  # done once, by the one request
    assert posts(fake) == [f"after: {answer}"]  # never repeated, no fallback either
    assert "marker" in error.hint and "never done twice" in error.hint
    assert TOKEN not in str(error) and "<html" not in str(error)


@pytest.mark.slow  # waits out the client's one-second timeout
@pytest.mark.parametrize("what", sorted(WRITES))
def test_no_answer_before_the_timeout_is_uncertain(fake: FakeGitLab, what: str) -> None:
    path, write, stored = WRITES[what]
    fake.fault("POST", path, performed=True, answer="hang", hang=1.5)
    error = failure(write, make(fake, timeout=1))
    assert error.uncertain and "timeout" in error.detail
    assert stored(fake) == 1 and len(fake.calls("POST")) == 1


@pytest.mark.parametrize("answer", ["truncate", "cut"])
def test_a_cut_answer_to_a_read_names_the_request(fake: FakeGitLab, forge: GitLabForge, answer: str) -> None:
    fake.fault("GET", r"/issues/1$", performed=True, answer=answer, times=9)
    error = failure(lambda f: f.get_issue(1), forge)
    assert error.request == "GET /projects/14/issues/1" and "cut short" in error.detail
    assert not error.uncertain


# -- the executor's look-ups, right after ---------------------------------------------------------------
def test_after_an_uncertain_note_the_listing_asks_again_and_finds_it(fake: FakeGitLab, forge: GitLabForge) -> None:
    assert forge.list_comments(1) == []  # remembered for the run
    fake.fault("POST", r"/notes$", performed=True, answer=502)
    with pytest.raises(ServiceError):
        forge.post_comment(1, "tagging @taylor <!-- outage-bot:key=k1 -->")
    found = [c for c in forge.list_comments(1) if "key=k1" in c.body]
    assert len(found) == 1 and found[0].author == fake.bot
    assert [str(r) for r in fake.requests][-1] == "GET /projects/14/issues/1/notes"


def test_after_an_uncertain_create_the_issue_list_finds_it(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.fault("POST", r"/issues$", performed=True, answer="drop")
    with pytest.raises(ServiceError):
        WRITES["incident"][1](forge)
    fake.reset_requests()
    found = forge.find_issue_with_marker(MARKER, ACTIVE)
    assert found is not None and found.number == 2 and found.author == fake.bot
    assert [str(r) for r in fake.requests] == ["GET /projects/14/issues"]
    assert fake.requests[0].query.get("search") is None  # the database's list, not a search index


# -- (c): rate limited, waited out, done once -----------------------------------------------------------
@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_429_is_waited_out_and_the_write_done_once(fake: FakeGitLab, forge: GitLabForge, what: str) -> None:
    path, write, stored = WRITES[what]
    fake.fault("POST", path, performed=False, answer=429, retry_after=1)
    started = time.monotonic()
    write(forge)
    assert time.monotonic() - started >= 1.0
    assert posts(fake) == ["before: 429", "201"]
    assert stored(fake) == 1


def test_a_retry_after_longer_than_the_job_may_wait_is_not_waited(fake: FakeGitLab) -> None:
    fake.fault("POST", r"/notes$", performed=False, answer=429, retry_after=3600)
    started = time.monotonic()
    error = failure(WRITES["note"][1], make(fake, max_rate_limit_wait=5))
    assert time.monotonic() - started < 1.0
    assert "HTTP 429" in error.detail and not error.uncertain
    assert fake.stored_notes(1) == [] and len(fake.requests) == 1


def test_a_read_is_rate_limited_too(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.fault("GET", r"/notes$", performed=False, answer=429, retry_after=0, times=2)
    assert forge.list_comments(1) == []
    assert [r.status for r in fake.requests] == [429, 429, 200]


# -- (d): refused before anything was done --------------------------------------------------------------
@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_a_refused_note_is_certain(fake: FakeGitLab, forge: GitLabForge, status: int) -> None:
    fake.fault("POST", r"/notes$", performed=False, answer=status)
    error = failure(WRITES["note"][1], forge)
    assert not error.uncertain and f"HTTP {status}" in error.detail
    assert fake.stored_notes(1) == [] and len(fake.requests) == 1


def test_an_incident_the_role_may_not_open_falls_back_to_a_plain_issue(fake: FakeGitLab, forge: GitLabForge) -> None:
    # a 403 is certain: nothing was created, so the plain issue is not a duplicate
    fake.fault("POST", r"/issues$", performed=False, answer=403)
    WRITES["incident"][1](forge)
    assert len(fake.stored_issues(containing=MARKER)) == 1 and posts(fake) == ["before: 403", "201"]


@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_5xx_or_a_drop_before_anything_was_done_cannot_be_told_apart(fake: FakeGitLab, forge: GitLabForge, what: str) -> None:
    path, write, stored = WRITES[what]
    for answer in (503, "drop"):
        fake.fault("POST", path, performed=False, answer=answer)
        assert failure(write, forge).uncertain
    assert stored(fake) == 0 and len(fake.requests) == 2


def test_nobody_listening_is_certain() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    forge = GitLabForge(f"http://127.0.0.1:{port}", TOKEN, 14, max_retries=1)
    for _, write, _ in WRITES.values():
        error = failure(write, forge)
        assert not error.uncertain and "could not connect" in error.detail


# -- idempotent writes may be repeated blindly -----------------------------------------------------------
@pytest.mark.parametrize("answer", [502, "drop"])
def test_puts_are_repeated_after_a_lost_answer(fake: FakeGitLab, forge: GitLabForge, answer: int | str) -> None:
    fake.fault("PUT", r"/issues/1$", performed=True, answer=answer)
    forge.add_labels(1, [ACTIVE])
    assert ACTIVE in fake.issue(1)["labels"]
    assert [str(r) for r in fake.requests] == ["PUT /projects/14/issues/1"] * 2
