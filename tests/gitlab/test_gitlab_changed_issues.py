"""`changed_issues` on GitLab: the project's issue list filtered by `updated_after`, through real
python-gitlab over HTTP against the fake; one request per 100 changed issues, whatever the
project's size (10,000 issues, 2,000 of them active incidents, as in benchmarks/bench_github.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import gitlab
import pytest
from fake_gitlab import TOKEN, FakeGitLab

from bot.adapters.gitlab import GitLabForge

M = datetime(2026, 11, 10, 15, 0, tzinfo=timezone.utc)  # the tick
SINCE = M - timedelta(minutes=10)
OLD = M - timedelta(days=30)
ISSUES, ACTIVE = 10_000, 2_000
ACTIVE_LABELS = ["priority::highest", "incident::active"]
STATUS = ISSUES + 1

# "List project issues" (docs.gitlab.com/api/issues/#list-project-issues): the attributes
# outage-bot may send, and offset pagination's `page` / `per_page` (docs.gitlab.com/api/rest/#pagination).
DOCUMENTED = {"updated_after", "updated_before", "created_after", "created_before", "scope", "state", "labels",
              "order_by", "sort", "search", "confidential", "author_username", "iids[]", "page", "per_page"}


@pytest.fixture(scope="module")
def project() -> Iterator[FakeGitLab]:
    with FakeGitLab(now=OLD) as server:
        for i in range(ISSUES):
            labels = ACTIVE_LABELS if i % (ISSUES // ACTIVE) == 0 else []
            server.open_issue(f"Issue {i}", by="someone", labels=labels, description="Nothing to see.")
        for iid in range(2, 300, 7):
            server.close(iid)
        server.open_issue("Current status: outages and incidents", by=server.bot, labels=["outage-bot::status"],
                          description="<!-- index -->")
        server.now = M
        yield server


@pytest.fixture
def fake(project: FakeGitLab) -> Iterator[FakeGitLab]:
    """The module's project; what a test changes is put back after it."""
    issues = {iid: {**i, "labels": list(i["labels"])} for iid, i in project.issues.items()}
    notes = {iid: list(ns) for iid, ns in project.notes.items()}
    awards = {iid: list(a) for iid, a in project.awards.items()}
    project.reset_requests()
    yield project
    project.issues.clear()
    project.issues.update(issues)
    project.notes.clear()
    project.notes.update(notes)
    project.awards.clear()
    project.awards.update(awards)
    project.now = M
    project.reset_requests()


@pytest.fixture
def forge(fake: FakeGitLab) -> GitLabForge:
    """Without the project's path (CI_PROJECT_PATH): the REST list."""
    return GitLabForge(fake.url, TOKEN, fake.project_id, max_retries=2)


@pytest.fixture
def graphql_forge(fake: FakeGitLab) -> GitLabForge:
    """With it, as in GitLab CI: the GraphQL query, which also names the token's user."""
    return GitLabForge(fake.url, TOKEN, fake.project_id, project_path=fake.project_path, max_retries=2)


def test_graphql_a_quiet_window_is_one_request_that_also_names_the_token(fake: FakeGitLab, graphql_forge: GitLabForge) -> None:
    assert graphql_forge.changed_issues(SINCE) == []
    assert graphql_forge.bot_login == fake.bot  # learned from the same answer
    assert [str(r) for r in fake.requests] == ["POST /api/graphql"]


def test_graphql_lists_what_rest_lists(fake: FakeGitLab, graphql_forge: GitLabForge, forge: GitLabForge) -> None:
    at(M - timedelta(minutes=4), fake).comment(1, "/ack", by="taylor")
    fake.close(6, by="maintainer")
    fake.label(3, "priority::highest")
    new = fake.open_issue("Card data leaked", by="reporter", confidential=True)["iid"]
    by_graphql = graphql_forge.changed_issues(SINCE)
    fake.reset_requests()
    by_rest = forge.changed_issues(SINCE)
    strip = lambda issues: [(i.number, i.title, i.body, i.labels, i.state, i.author, i.confidential) for i in issues]  # noqa: E731
    assert strip(by_graphql) == strip(by_rest) and [i.number for i in by_graphql] == [1, 3, 6, new]
    # who closed #6 is only in the REST issue: get_issue reads it whole, the open ones are known
    fake.reset_requests()
    assert graphql_forge.get_issue(6).closed_by == "maintainer"
    assert graphql_forge.get_issue(1).labels == tuple(ACTIVE_LABELS)
    assert [str(r) for r in fake.requests] == ["GET /projects/14/issues/6"]


def at(moment: datetime, fake: FakeGitLab) -> FakeGitLab:
    fake.now = moment
    return fake


def test_a_quiet_window_is_one_request_at_10000_issues(fake: FakeGitLab, forge: GitLabForge) -> None:
    assert forge.changed_issues(SINCE) == []

    [request] = fake.requests
    assert str(request) == "GET /projects/14/issues"
    assert request.query == {
        "updated_after": ["2026-11-10T14:50:00Z"],
        "scope": ["all"],
        "state": ["all"],
        "per_page": ["100"],
    }
    assert set(request.query) <= DOCUMENTED


def test_five_changes_are_one_request(fake: FakeGitLab, forge: GitLabForge) -> None:
    when = M - timedelta(minutes=4)
    at(when, fake).comment(1, "/ack", by="taylor")  # an active incident, acknowledged
    fake.close(6, by="maintainer")  # an active incident, closed
    fake.label(3, "priority::highest")  # a plain issue labelled
    fake.issues[STATUS].update(description="<!-- index v2 -->", updated_at="2026-11-10T14:56:00.000Z")  # the bot's
    new = fake.open_issue("Card data leaked", by="reporter", confidential=True)["iid"]  # confidential, no labels
    at(SINCE - timedelta(seconds=1), fake).comment(21, "old news")  # just before the window

    changed = forge.changed_issues(SINCE)

    assert [i.number for i in changed] == [1, 3, 6, STATUS, new]
    assert [str(r) for r in fake.requests] == ["GET /projects/14/issues"]
    by_number = {i.number: i for i in changed}
    assert by_number[1].labels == tuple(ACTIVE_LABELS) and by_number[1].state == "open"
    assert by_number[6].state == "closed" and by_number[6].closed_by == "maintainer"
    assert by_number[3].labels == ("priority::highest",)
    assert by_number[STATUS].body == "<!-- index v2 -->"
    assert by_number[new].confidential and by_number[new].labels == ()
    assert all(i.eyes is None for i in changed)  # GitLab's listings carry no 👀 count
    assert all(i.updated_at >= SINCE for i in changed)
    # Remembered for the run: reading them again costs nothing.
    assert [forge.get_issue(n) for n in by_number] == changed
    assert len(fake.requests) == 1


def test_150_changes_are_two_pages(fake: FakeGitLab, forge: GitLabForge) -> None:
    touched = list(range(5, ISSUES + 1, ISSUES // 150))[:150]
    for k, iid in enumerate(touched):
        at(SINCE + timedelta(seconds=k), fake).comment(iid, "still broken")

    changed = forge.changed_issues(SINCE)

    assert [i.number for i in changed] == touched
    assert [str(r) for r in fake.requests] == ["GET /projects/14/issues"] * 2
    second = fake.requests[1].query
    assert second["page"] == ["2"] and second["updated_after"] == ["2026-11-10T14:50:00Z"]
    assert all(set(r.query) <= DOCUMENTED for r in fake.requests)


def test_the_window_starts_at_since_to_the_second(fake: FakeGitLab, forge: GitLabForge) -> None:
    at(SINCE, fake).comment(1, "at the very start")
    at(SINCE - timedelta(seconds=1), fake).comment(6, "a second before")

    assert [i.number for i in forge.changed_issues(SINCE)] == [1]
    # A `since` within a second is rounded down (never later than asked); any time zone is UTC.
    assert [i.number for i in forge.changed_issues(SINCE + timedelta(microseconds=600_000))] == [1]
    assert [i.number for i in forge.changed_issues(SINCE.astimezone(timezone(timedelta(hours=-5))))] == [1]
    assert {r.query["updated_after"][0] for r in fake.requests} == {"2026-11-10T14:50:00Z"}


def test_the_fake_lists_by_updated_after_scope_and_state(fake: FakeGitLab, forge: GitLabForge) -> None:
    """The fake's filters, as GitLab documents them: `updated_after` is "on or after"."""
    at(M - timedelta(minutes=5), fake).comment(2, "on a closed issue")  # #2 was closed
    at(M - timedelta(minutes=5), fake).comment(1, "on an open one")
    project = gitlab.Gitlab(fake.url, private_token=TOKEN).projects.get(fake.project_id, lazy=True)

    def iids(**filters: Any) -> list[int]:
        return sorted(i.iid for i in project.issues.list(per_page=100, get_all=True, **filters))

    assert iids(updated_after="2026-11-10T14:55:00Z") == [1, 2]
    assert iids(updated_after="2026-11-10T14:55:00.001Z") == []
    assert iids(updated_after="2026-11-10T14:55:00Z", state="opened") == [1]
    assert iids(updated_after="2026-11-10T14:55:00Z", state="closed") == [2]
    assert iids(updated_after="2026-11-10T14:55:00Z", scope="created_by_me") == []  # the bot opened neither
    assert iids(updated_after="2026-11-10T14:55:00Z", labels="incident::active") == [1]
    assert iids(updated_after="2026-11-10T09:55:00-05:00", state="all", scope="all") == [1, 2]
