"""Retries and failures: PyGithub's retry against the fake's injected errors; what reaches the user."""

from __future__ import annotations

import socket
import time

import pytest
from fake_github import FakeGitHub
from github_helpers import make_forge

from bot.adapters.github import GitHubForge
from bot.adapters.github.retry import FAST
from bot.errors import ServiceError

REPO = "/repos/octo-org/outage-demo"


def test_502_then_success(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.fail("GET", r"/issues/1/comments$", 502)

    assert forge.list_comments(1) == []
    assert [(r.line, r.status) for r in fake.requests] == [
        (f"GET {REPO}/issues/1/comments", 502),
        (f"GET {REPO}/issues/1/comments", 200),
    ]


def test_graphql_502_then_success(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    forge.get_issue(1)
    fake.fail("POST", r"^/graphql$", 502)
    forge.pin_issue(1)  # pinning twice is harmless, so GraphQL POSTs are retried
    assert fake.pinned == [1]
    assert [r.status for r in fake.requests[1:]] == [502, 200]


def test_secondary_rate_limit_honours_retry_after_even_for_a_post(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.fail_secondary_rate_limit("POST", r"/issues/1/comments$", retry_after=1)

    started = time.monotonic()
    forge.post_comment(1, "hello")
    waited = time.monotonic() - started

    assert waited >= 1.0  # Retry-After: 1, although FAST's own backoff is a few milliseconds
    assert [r.status for r in fake.requests] == [403, 201]
    assert len(fake.comments_on(1)) == 1


def test_secondary_rate_limit_without_retry_after_uses_the_configured_wait(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.fail("GET", r"/issues/1$", 403)  # the body says "secondary rate limit"
    assert forge.get_issue(1).number == 1
    assert [r.status for r in fake.requests] == [403, 200]


def test_a_post_that_got_a_502_is_not_repeated(fake: FakeGitHub, forge: GitHubForge) -> None:
    # GitHub may have stored the comment before answering 502: posting again could duplicate it.
    # The error says so (uncertain): the executor looks for the comment's marker before it posts
    # again (test_github_uncertain_writes.py has every way an answer gets lost).
    fake.add_issue()
    fake.fail("POST", r"/issues/1/comments$", 502)

    with pytest.raises(ServiceError) as caught:
        forge.post_comment(1, "hello")

    assert len(fake.requests) == 1
    assert caught.value.uncertain
    assert caught.value.exit_code == 2
    assert caught.value.request == f"POST {REPO}/issues/1/comments"
    assert str(caught.value).startswith(f"github: POST {REPO}/issues/1/comments failed: HTTP 502: Server Error")
    assert "next run" in caught.value.hint


def test_still_failing_after_retries_names_the_request_never_the_token(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.fail("GET", r"/issues/5/comments$", 502, times=99)

    with pytest.raises(ServiceError) as caught:
        forge.list_comments(5)

    assert len(fake.requests) == FAST.total + 1
    message = str(caught.value)
    assert message.splitlines()[0] == f"github: GET {REPO}/issues/5/comments failed: HTTP 502: Server Error"
    assert fake.token not in message
    assert fake.token not in repr(caught.value.__dict__)


def test_forbidden_is_not_retried_and_says_what_permission_is_missing(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.fail("POST", r"/issues/1/labels$", 403, message="Resource not accessible by integration")

    with pytest.raises(ServiceError) as caught:
        forge.add_labels(1, ["incident::active"])

    assert len(fake.requests) == 1
    assert "HTTP 403: Resource not accessible by integration" in str(caught.value)
    assert "issues: write" in caught.value.hint


def test_validation_failure_carries_github_s_reasons(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.fail("PATCH", r"/issues/1$", 422)
    with pytest.raises(ServiceError) as caught:
        forge.edit_issue_body(1, "x")
    assert caught.value.request == f"PATCH {REPO}/issues/1"
    assert "HTTP 422: Validation Failed" in caught.value.detail


def test_a_wrong_token(fake: FakeGitHub) -> None:
    forge = GitHubForge("ghs_wrong_token_abc", fake.full_name, api_url=fake.base_url, graphql_url=fake.graphql_url, retry=FAST)
    with pytest.raises(ServiceError) as caught:
        forge.get_issue(1)
    assert "HTTP 401: Bad credentials" in str(caught.value)
    assert "GITHUB_TOKEN" in caught.value.hint
    assert "ghs_wrong_token_abc" not in str(caught.value)


def test_a_wrong_repository(fake: FakeGitHub) -> None:
    forge = GitHubForge(fake.token, "octo-org/nope", api_url=fake.base_url, graphql_url=fake.graphql_url, retry=FAST)
    with pytest.raises(ServiceError) as caught:
        forge.get_issue(1)
    assert caught.value.request == "GET /repos/octo-org/nope/issues/1"
    assert "GITHUB_REPOSITORY (octo-org/nope)" in caught.value.hint


def test_graphql_error_that_is_not_the_pin_limit(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    forge.get_issue(1)
    del fake.issues[1]  # deleted since we read it: GraphQL cannot resolve its node id
    with pytest.raises(ServiceError) as caught:
        forge.pin_issue(1)
    assert caught.value.request == "POST /graphql pinIssue"
    assert "Could not resolve to a node" in caught.value.detail


def test_nobody_listening() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    forge = GitHubForge("t0ken", "o/r", api_url=f"http://127.0.0.1:{port}", graphql_url=f"http://127.0.0.1:{port}/graphql", retry=FAST)
    with pytest.raises(ServiceError) as caught:
        forge.get_issue(1)
    assert caught.value.request == "GET /repos/o/r/issues/1"
    assert "no answer" in caught.value.detail


def test_a_bad_repository_name_is_a_user_error() -> None:
    from bot.errors import UserError

    with pytest.raises(UserError, match="owner/name"):
        GitHubForge("t", "just-a-name")


def test_retry_settings_reach_pygithub(fake: FakeGitHub) -> None:
    # make_forge's FAST settings: no pause between writes, so three writes take well under a second
    fake.add_issue()
    forge = make_forge(fake)
    started = time.monotonic()
    for _ in range(3):
        forge.post_comment(1, "x")
    assert time.monotonic() - started < 0.9
