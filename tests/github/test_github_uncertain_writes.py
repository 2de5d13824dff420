"""Writes that must happen once (open an issue, post a comment), through real PyGithub against
the fake GitHub when the answer is lost: never repeated blindly, `uncertain` when they may
have taken effect, and found again at once by the look-ups the executor makes.

Faults (tests/http_faults.py): (a) carried out, then a 5xx; (b) carried out, then the
connection closed, the body cut short (with and without a Content-Length), or no answer
before the client's timeout; (c) a rate limit with Retry-After; (d) refused before anything
was done.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from fake_github import FakeGitHub
from github_helpers import make_forge

from bot.adapters.github import GitHubForge
from bot.adapters.github.retry import FAST
from bot.errors import ServiceError

REPO = "/repos/octo-org/outage-demo"
MARKER = "<!-- outage-bot:outage-of=1 key=acme#1:g1:outage-issue -->"
ACTIVE = "outage::active"

Write = Callable[[GitHubForge], object]
# name -> (METHOD, path regex, the write, how many objects it stored)
WRITES: dict[str, tuple[str, str, Write, Callable[[FakeGitHub], int]]] = {
    "comment": ("POST", r"/issues/1/comments$", lambda f: f.post_comment(1, "tagging @taylor"),
                lambda fake: len(fake.stored_comments(1))),
    "issue": ("POST", r"/issues$", lambda f: f.create_issue(title="Outage: checkout", body=f"Down.\n\n{MARKER}", labels=[ACTIVE]),
              lambda fake: len(fake.stored_issues(containing=MARKER))),
}
LOST_AFTER = [500, 502, 503, 504, "drop", "truncate", "cut"]


@pytest.fixture
def fake() -> FakeGitHub:  # type: ignore[misc]
    # the search index lags a minute behind, as on github.com: look-ups must not depend on it
    with FakeGitHub(search_lag=60) as server:
        server.add_issue("Checkout is down", "Every order fails.", labels=["priority::highest"])
        yield server


def short_timeout(fake: FakeGitHub) -> GitHubForge:
    return GitHubForge(fake.token, fake.full_name, api_url=fake.base_url, graphql_url=fake.graphql_url, retry=FAST, timeout=1)


def failure(write: Write, forge: GitHubForge) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        write(forge)
    return caught.value


# -- (a), (b): done, then the answer is lost ---------------------------------------------------------
@pytest.mark.parametrize("answer", LOST_AFTER)
@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_write_done_then_its_answer_lost_is_uncertain_and_not_repeated(
        fake: FakeGitHub, forge: GitHubForge, what: str, answer: int | str) -> None:
    method, path, write, stored = WRITES[what]
    fake.fault(method, path, performed=True, answer=answer)

    error = failure(write, forge)

    assert error.uncertain
    assert error.request == f"{method} {REPO}/issues" + ("/1/comments" if what == "comment" else "")
    assert stored(fake) == 1  # done once, by the one request
    assert [r.lost for r in fake.requests] == [f"after: {answer}"]  # and never repeated
    assert "marker" in error.hint and "never done twice" in error.hint
    assert fake.token not in str(error) and fake.token not in repr(error.__dict__)


@pytest.mark.slow  # waits out the client's one-second timeout
@pytest.mark.parametrize("what", sorted(WRITES))
def test_no_answer_before_the_timeout_is_uncertain(fake: FakeGitHub, what: str) -> None:
    method, path, write, stored = WRITES[what]
    fake.fault(method, path, performed=True, answer="hang", hang=1.5)
    error = failure(write, short_timeout(fake))
    assert error.uncertain and "timeout" in error.detail
    assert stored(fake) == 1 and len(fake.requests) == 1


def test_a_cut_answer_names_the_request_instead_of_a_traceback(fake: FakeGitHub, forge: GitHubForge) -> None:
    # A body that ends early without a Content-Length: PyGithub's json.loads used to escape.
    fake.fault("GET", r"/issues/1$", performed=True, answer="cut")
    error = failure(lambda f: f.get_issue(1), forge)
    assert error.request == f"GET {REPO}/issues/1" and "cut short" in error.detail
    assert not error.uncertain  # a read: nothing to look up


# -- the executor's look-ups, right after ---------------------------------------------------------------
def test_after_an_uncertain_comment_the_listing_asks_again_and_finds_it(fake: FakeGitHub, forge: GitHubForge) -> None:
    forge.get_issue(1)  # the run read the issue: no comments, so list_comments would ask nothing
    assert forge.list_comments(1) == []
    fake.fault("POST", r"/issues/1/comments$", performed=True, answer=502)
    with pytest.raises(ServiceError):
        forge.post_comment(1, "tagging @taylor <!-- outage-bot:key=k1 -->")

    found = [c for c in forge.list_comments(1) if "key=k1" in c.body]

    assert len(found) == 1 and found[0].author == fake.token_user
    assert fake.lines()[-1] == f"GET {REPO}/issues/1/comments"


def test_after_an_uncertain_create_the_issue_list_finds_it_although_search_does_not(
        fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.fault("POST", r"/issues$", performed=True, answer="drop")
    with pytest.raises(ServiceError):
        WRITES["issue"][2](forge)
    fake.clear()

    found = forge.find_issue_with_marker(MARKER, ACTIVE)

    assert found is not None and found.number == 2 and found.author == fake.token_user
    assert fake.lines() == [f"GET {REPO}/issues"]  # one request, and not the lagging search
    assert forge.search_open_issues([ACTIVE]) == []  # what the search index would have said


# -- (c): rate limited, waited out, done once -----------------------------------------------------------
@pytest.mark.parametrize("status", [429, 403])
@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_rate_limit_is_waited_out_and_the_write_done_once(fake: FakeGitHub, forge: GitHubForge, what: str, status: int) -> None:
    method, path, write, stored = WRITES[what]
    fake.fault(method, path, performed=False, answer=status, retry_after=1)

    started = time.monotonic()
    write(forge)

    assert time.monotonic() - started >= 1.0  # GitHub's Retry-After, not FAST's milliseconds
    assert [r.status for r in fake.requests if r.method == "POST"] == [status, 201]  # (then a label's colour)
    assert stored(fake) == 1


def test_a_retry_after_longer_than_the_job_may_wait_is_not_waited(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.fault("POST", r"/issues/1/comments$", performed=False, answer=429, retry_after=3600)
    started = time.monotonic()
    error = failure(WRITES["comment"][2], forge)
    assert time.monotonic() - started < 1.0
    assert "HTTP 429" in error.detail and not error.uncertain
    assert len(fake.requests) == 1 and fake.stored_comments(1) == []


# -- (d): refused before anything was done --------------------------------------------------------------
@pytest.mark.parametrize(("status", "message"), [
    (403, "Resource not accessible by integration"), (404, "Not Found"), (410, "Issues are disabled for this repo"),
])
@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_refusal_is_certain(fake: FakeGitHub, forge: GitHubForge, what: str, status: int, message: str) -> None:
    method, path, write, stored = WRITES[what]
    fake.fail(method, path, status, message=message)
    error = failure(write, forge)
    assert not error.uncertain and f"HTTP {status}: {message}" in error.detail
    assert stored(fake) == 0 and len(fake.requests) == 1


def test_a_refused_comment_body_is_certain(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.fail("POST", r"/issues/1/comments$", 422)
    assert not failure(WRITES["comment"][2], forge).uncertain


@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_5xx_or_a_drop_before_anything_was_done_cannot_be_told_apart(fake: FakeGitHub, forge: GitHubForge, what: str) -> None:
    # The client cannot see that nothing happened: uncertain, and the look-up finds nothing.
    method, path, write, stored = WRITES[what]
    for answer in (503, "drop"):
        fake.fault(method, path, performed=False, answer=answer)
        assert failure(write, forge).uncertain
    assert stored(fake) == 0 and len(fake.requests) == 2


def test_nobody_listening_is_certain() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    forge = GitHubForge("ghs_t0ken", "o/r", api_url=f"http://127.0.0.1:{port}", graphql_url=f"http://127.0.0.1:{port}/graphql", retry=FAST)
    for write in (WRITES["comment"][2], WRITES["issue"][2]):
        error = failure(write, forge)
        assert not error.uncertain and "could not connect" in error.detail


# -- idempotent writes may be repeated blindly -----------------------------------------------------------
@pytest.mark.parametrize("answer", [502, "drop"])
def test_adding_a_label_is_repeated_after_a_lost_answer(fake: FakeGitHub, forge: GitHubForge, answer: int | str) -> None:
    fake.fault("POST", r"/issues/1/labels$", performed=True, answer=answer)
    forge.add_labels(1, [ACTIVE])
    assert ACTIVE in fake.issues[1].labels
    assert [r.line for r in fake.requests if r.method == "POST"] == [f"POST {REPO}/issues/1/labels"] * 2


@pytest.mark.parametrize("answer", [502, "drop"])
def test_edits_and_pins_are_repeated_after_a_lost_answer(fake: FakeGitHub, forge: GitHubForge, answer: int | str) -> None:
    forge.get_issue(1)
    fake.fault("PATCH", r"/issues/1$", performed=True, answer=answer)
    fake.fault("POST", r"^/graphql$", performed=True, answer=answer)
    forge.edit_issue_body(1, "new body")
    assert forge.pin_issue(1).value == "pinned"
    assert fake.issues[1].body == "new body" and fake.pinned == [1]
    assert [r.status for r in fake.requests[1:]] == [0 if answer == "drop" else 502, 200] * 2


def test_the_same_forge_keeps_working_after_a_dropped_connection(fake: FakeGitHub) -> None:
    forge = make_forge(fake)
    fake.fault("POST", r"/issues/1/comments$", performed=True, answer="drop")
    with pytest.raises(ServiceError):
        forge.post_comment(1, "first")
    forge.post_comment(1, "second")
    assert [c["body"] for c in fake.stored_comments(1)] == ["first", "second"]
