"""`changed_issues`: what changed in a window of minutes, read with one search however large the
repository, through real PyGithub over HTTP against the fake; every request and answer checked
against GitHub's OpenAPI description.

The repository is built as benchmarks/bench_github.py builds it: 10,000 issues, here with 2,000
of them active incidents (issue #10, item 5), a status issue and pull requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fake_github import BOT, FakeGitHub
from github import Auth, Github
from github.GithubException import GithubException
from github_helpers import make_forge
from spec_check import RestSpec

from bot.errors import ServiceError

SPEC = RestSpec()
REPO = "/repos/octo-org/outage-demo"
M = datetime(2026, 11, 10, 15, 0, tzinfo=timezone.utc)  # the tick
SINCE = M - timedelta(minutes=10)  # the window it reads
OLD = M - timedelta(days=30)
ISSUES, ACTIVE = 10_000, 2_000
ACTIVE_LABELS = ("priority::highest", "incident::active")
STATUS = 10_001  # the status issue, after the 10,000
PULL = 10_002  # a pull request


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGitHub]:
    """One repository for the module; each test puts back what it changed (`changing`)."""
    with FakeGitHub(now=M) as server:
        for i in range(ISSUES):
            server.add_issue(f"Issue {i}", "Nothing to see.", author="someone", at=OLD)
        for number in range(1, ISSUES + 1, ISSUES // ACTIVE):  # 2,000 incidents spread over the repository
            for label in ACTIVE_LABELS:
                server.label(number, label, actor="reporter", at=OLD)
        for number in range(2, 300, 7):
            server.close(number, at=OLD)
        server.add_issue("Current status: outages and incidents", "<!-- index -->", author=BOT,
                         labels=["outage-bot::status"], at=OLD)
        server.add_issue("Fix the checkout", "A pull request", author="dev", pull_request=True, at=OLD)
        yield server


@pytest.fixture
def changing(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    """Undo, after the test, every change a test made to the module's repository."""
    saved = {n: (i.title, i.body, list(i.labels), i.state, i.state_reason, i.closed_at, i.updated_at,
                 list(i.comment_ids), list(i.reactions), list(i.events)) for n, i in fake.issues.items()}
    numbers = set(fake.issues)
    fake.clear()
    yield fake
    for n in set(fake.issues) - numbers:
        del fake.issues[n]
    for n, values in saved.items():
        issue = fake.issues[n]
        (issue.title, issue.body, issue.labels, issue.state, issue.state_reason, issue.closed_at, issue.updated_at,
         issue.comment_ids, issue.reactions, issue.events) = values
    fake.search_incomplete = False
    fake.clear()


def documented(fake: FakeGitHub, *, answers: int = 3) -> list[str]:
    """Problems with any request so far, or with the first `answers` answers (validating a page
    of 100 issues takes a while), against GitHub's OpenAPI description."""
    problems = []
    for k, r in enumerate(fake.requests):
        problems += SPEC.check_request(r.method, r.path, r.query, r.body)
        if k < answers:
            problems += SPEC.check_response(r.method, r.path, r.status, r.response)
    return problems


def test_a_quiet_window_is_one_request_at_10000_issues(changing: FakeGitHub) -> None:
    forge = make_forge(changing)

    assert forge.changed_issues(SINCE) == []

    [request] = changing.requests
    assert request.line == "GET /search/issues"
    assert request.query == {
        "q": ["repo:octo-org/outage-demo is:issue updated:>=2026-11-10T14:50:00Z"],
        "sort": ["updated"],
        "order": ["desc"],
        "per_page": ["100"],
    }
    assert request.response["total_count"] == 0
    assert documented(changing) == []


def test_five_changes_are_one_request_with_bodies_and_eyes(changing: FakeGitHub) -> None:
    fake, forge = changing, make_forge(changing)
    at = M - timedelta(minutes=4)
    fake.comment(1, "/ack", user="taylor-gh", at=at)  # an active incident, acknowledged
    fake.react(1, "eyes", user="taylor-gh", at=at)
    fake.close(6, actor="maintainer", at=at)  # another one, closed
    fake.label(3, "priority::highest", actor="reporter", at=at)  # a plain issue labelled: a lost event?
    fake.issues[STATUS].body, fake.issues[STATUS].updated_at = "<!-- index v2 -->", at  # the bot's status issue
    new = fake.add_issue("Search is slow", "", author="reporter", at=at).number  # opened, no labels
    fake.comment(PULL, "LGTM", user="dev", at=at)  # a pull request: never listed
    fake.react(11, "eyes", user="taylor-gh", at=at)  # a reaction changes no updated_at: not listed
    fake.comment(21, "old news", at=SINCE - timedelta(seconds=1))  # changed just before the window

    changed = forge.changed_issues(SINCE)

    assert [i.number for i in changed] == [1, 3, 6, STATUS, new]
    assert fake.lines() == ["GET /search/issues"]
    by_number = {i.number: i for i in changed}
    assert by_number[1].eyes == 1 and by_number[1].labels == ACTIVE_LABELS and by_number[1].state == "open"
    assert by_number[6].state == "closed" and by_number[6].eyes == 0
    assert by_number[3].labels == ("priority::highest",)
    assert by_number[STATUS].body == "<!-- index v2 -->" and by_number[STATUS].author == BOT
    assert by_number[new].body == "" and by_number[new].labels == ()
    assert all(i.updated_at >= SINCE for i in changed)
    # What the search said is remembered for the run: reading these again costs nothing...
    assert [forge.get_issue(n) for n in (1, 3, STATUS, new)] == [by_number[n] for n in (1, 3, STATUS, new)]
    assert forge.list_comments(new) == [] and forge.list_reactions(6) == []
    assert fake.lines() == ["GET /search/issues"]
    # ...but who closed an issue is not in a search result: the closed one is read whole, once.
    assert by_number[6].closed_by is None
    assert forge.get_issue(6).closed_by == "maintainer" and forge.get_issue(6).closed_by == "maintainer"
    assert fake.lines() == ["GET /search/issues", f"GET {REPO}/issues/6"]
    assert documented(fake) == []


def test_150_changes_are_two_pages(changing: FakeGitHub) -> None:
    fake, forge = changing, make_forge(changing)
    touched = list(range(5, ISSUES + 1, ISSUES // 150))[:150]
    for k, number in enumerate(touched):
        fake.comment(number, "still broken", at=SINCE + timedelta(seconds=k))

    changed = forge.changed_issues(SINCE)

    assert [i.number for i in changed] == touched
    assert fake.lines() == ["GET /search/issues"] * 2
    assert fake.requests[1].query["page"] == ["2"] and fake.requests[1].query["q"] == fake.requests[0].query["q"]
    assert documented(fake) == []


def test_the_window_starts_at_since_to_the_second(changing: FakeGitHub) -> None:
    fake, forge = changing, make_forge(changing)
    fake.comment(1, "at the very start", at=SINCE)
    fake.comment(6, "a second before", at=SINCE - timedelta(seconds=1))

    assert [i.number for i in forge.changed_issues(SINCE)] == [1]
    # A `since` within a second is rounded down (never later than asked); any time zone is UTC.
    assert [i.number for i in forge.changed_issues(SINCE + timedelta(microseconds=600_000))] == [1]
    assert [i.number for i in forge.changed_issues(SINCE.astimezone(timezone(timedelta(hours=2))))] == [1]
    assert {r.query["q"][0] for r in fake.requests} == {"repo:octo-org/outage-demo is:issue updated:>=2026-11-10T14:50:00Z"}


def test_more_than_the_1000_a_search_returns_are_all_read(changing: FakeGitHub) -> None:
    """GitHub gives at most 1,000 results a query (page 11 of 100 is refused): the next query
    narrows the window to what is older than the oldest read, so none is lost."""
    fake, forge = changing, make_forge(changing)
    touched = list(range(1, ISSUES + 1, 4))  # 2,500, one a second
    for k, number in enumerate(touched):
        fake.comment(number, "bulk", at=SINCE + timedelta(seconds=k))

    changed = forge.changed_issues(SINCE)

    assert [i.number for i in changed] == touched
    queries = [r.query["q"][0] for r in fake.requests]
    # 2,500 = 1,000 + 1,000 + 500 (+1 and +1 read again at the seconds where a query stopped)
    assert len(fake.requests) == 10 + 10 + 6
    oldest_read = [SINCE + timedelta(seconds=1500), SINCE + timedelta(seconds=501)]
    assert list(dict.fromkeys(queries)) == [
        "repo:octo-org/outage-demo is:issue updated:>=2026-11-10T14:50:00Z",
        f"repo:octo-org/outage-demo is:issue updated:2026-11-10T14:50:00Z..{oldest_read[0]:%Y-%m-%dT%H:%M:%SZ}",
        f"repo:octo-org/outage-demo is:issue updated:2026-11-10T14:50:00Z..{oldest_read[1]:%Y-%m-%dT%H:%M:%SZ}",
    ]
    assert {r.status for r in fake.requests} == {200}  # never asked past the cap
    assert all(int(r.query.get("page", ["1"])[0]) <= 10 for r in fake.requests)
    assert fake.requests[0].response["total_count"] == 2500
    assert documented(fake) == []


def test_over_1000_changed_in_one_second_is_an_error_not_a_shorter_list(changing: FakeGitHub) -> None:
    fake, forge = changing, make_forge(changing)
    for number in range(1, 1201):
        fake.comment(number, "bulk edit", at=M - timedelta(minutes=1))

    with pytest.raises(ServiceError) as caught:
        forge.changed_issues(SINCE)

    assert "1200 issues changed at 2026-11-10T14:59:00Z" in str(caught.value)
    assert "GET /search/issues" in str(caught.value)


def test_incomplete_results_are_an_error_not_a_shorter_list(changing: FakeGitHub) -> None:
    fake, forge = changing, make_forge(changing)
    fake.comment(1, "/ack", user="taylor-gh", at=M - timedelta(minutes=1))
    fake.search_incomplete = True

    with pytest.raises(ServiceError) as caught:
        forge.changed_issues(SINCE)

    assert "incomplete" in str(caught.value)
    assert fake.lines() == ["GET /search/issues"]


def test_the_fake_search_understands_the_date_qualifiers(changing: FakeGitHub) -> None:
    """The fake, as GitHub documents the syntax ("Understanding the search syntax")."""
    fake = changing
    fake.comment(1, "x", at=M - timedelta(minutes=5))  # an active incident
    fake.comment(3, "y", at=M - timedelta(minutes=15))  # a plain issue
    client = Github(base_url=fake.base_url, auth=Auth.Token(fake.token), per_page=100, seconds_between_requests=0)

    def numbers(query: str) -> list[int]:
        return sorted(i.number for i in client.search_issues(f"repo:octo-org/outage-demo is:issue {query}"))

    assert numbers("updated:>2026-11-10T14:55:00Z") == []
    assert numbers("updated:>=2026-11-10T14:55:00Z") == [1]
    assert numbers("updated:>2026-11-10T14:44:59Z") == [1, 3]
    assert numbers("updated:>=2026-11-10T16:45:00+02:00") == [1, 3]  # an offset instead of Z
    assert numbers("updated:2026-11-10T14:40:00Z..2026-11-10T14:45:00Z") == [3]
    assert numbers("updated:<=2026-11-10T14:45:00Z updated:>=2026-11-10") == [3]
    assert numbers("updated:>=2026-11-10 label:incident::active") == [1]  # a date: that whole day
    assert numbers("updated:>=2026-11-10 is:closed") == []
    assert documented(fake, answers=len(fake.requests)) == []
    # No date qualifier: every open issue matches, as before; only the first 1,000 can be read.
    everything = client.search_issues("repo:octo-org/outage-demo is:issue is:open")
    next(iter(everything))
    assert everything.totalCount == ISSUES - len(range(2, 300, 7)) + 1
    with pytest.raises(GithubException) as refused:
        everything.get_page(10)  # results 1,001 to 1,100
    assert refused.value.status == 422
    assert refused.value.data["message"] == "Only the first 1000 search results are available"
