"""Every Forge method through real python-gitlab, over HTTP, against the fake GitLab."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from fake_gitlab import TOKEN, FakeGitLab

from bot.adapters.gitlab import GitLabForge, forge_from_env
from bot.adapters.gitlab.environment import instance_url
from bot.errors import MissingCredential, ServiceError, UserError
from bot.records import Access, PinOutcome

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def paths(fake: FakeGitLab) -> list[str]:
    return [str(r) for r in fake.requests]


# -- reading ---------------------------------------------------------------------------------------
def test_get_issue_maps_gitlab_fields(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.now = T0
    fake.open_issue("Checkout down", by="alice", labels=["priority::highest", "outage"], description="500s", confidential=True)
    issue = forge.get_issue(1)
    assert (issue.number, issue.title, issue.body, issue.state) == (1, "Checkout down", "500s", "open")
    assert issue.labels == ("priority::highest", "outage")
    assert issue.url == f"{fake.web}/-/issues/1" and issue.author == "alice"
    assert issue.created_at == T0 and issue.confidential is True
    assert issue.eyes is None  # GitLab listings carry only upvotes/downvotes
    assert forge.get_issue(1) is issue  # known this run: no second request
    assert paths(fake) == ["GET /projects/14/issues/1"]


def test_closed_issue_state(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    fake.close(1)
    assert forge.get_issue(1).state == "closed"


def test_missing_issue_names_the_request(fake: FakeGitLab, forge: GitLabForge) -> None:
    with pytest.raises(ServiceError) as caught:
        forge.get_issue(99)
    assert caught.value.request == "GET /projects/14/issues/99"
    assert "404" in caught.value.detail and "CI_PROJECT_ID" in caught.value.hint
    assert TOKEN not in str(caught.value)


def test_comments_oldest_first_without_system_notes(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.now = T0
    fake.open_issue("x")
    fake.comment(1, "first", by="alice")
    fake.advance(timedelta(minutes=1))
    fake.close(1, by="bob")  # a system note: "closed"
    fake.advance(timedelta(minutes=1))
    fake.comment(1, "second", by="bob")
    comments = forge.list_comments(1)
    assert [(c.author, c.body) for c in comments] == [("alice", "first"), ("bob", "second")]
    assert comments[0].created_at == T0
    posted = forge.post_comment(1, "from the bot")
    assert posted.author == fake.bot
    forge.edit_comment(1, posted.id, "edited by the bot")
    # the run's own writes are known: no second listing
    assert [c.body for c in forge.list_comments(1)] == ["first", "second", "edited by the bot"]
    assert paths(fake) == ["GET /projects/14/issues/1/notes", "POST /projects/14/issues/1/notes",
                           f"PUT /projects/14/issues/1/notes/{posted.id}"]
    listing = fake.requests[0].query
    assert listing["sort"] == ["asc"] and listing["order_by"] == ["created_at"] and listing["per_page"] == ["100"]


def test_comments_over_several_pages(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    for n in range(230):
        fake.comment(1, f"c{n}")
    assert [c.body for c in forge.list_comments(1)] == [f"c{n}" for n in range(230)]
    assert len(fake.requests) == 3


def test_reactions_are_award_emoji(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    fake.award(1, "eyes", by="alice")
    fake.award(1, "thumbsup", by="bob")
    reactions = forge.list_reactions(1)
    assert [(r.user, r.emoji) for r in reactions] == [("alice", "eyes"), ("bob", "+1")]
    assert reactions[0].created_at is not None
    assert paths(fake) == ["GET /projects/14/issues/1/award_emoji"]


def test_label_added_at_is_the_latest_add(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.now = T0
    fake.open_issue("x", labels=["P0"])
    fake.advance(timedelta(hours=1))
    fake.unlabel(1, "P0")
    fake.advance(timedelta(hours=1))
    fake.label(1, "P0")
    assert forge.label_added_at(1, "P0") == T0 + timedelta(hours=2)
    assert forge.label_added_at(1, "P1") is None
    assert paths(fake) == ["GET /projects/14/issues/1/resource_label_events"] * 2


def test_label_added_at_reads_every_page(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.now = T0
    fake.open_issue("x")
    for n in range(120):
        fake.label(1, f"l{n}")
        fake.advance(timedelta(seconds=1))
    fake.label(1, "P0")
    assert forge.label_added_at(1, "P0") == T0 + timedelta(seconds=120)
    assert len(fake.requests) == 2


# -- the search: ANY of the labels -----------------------------------------------------------------
def seed_search(fake: FakeGitLab) -> None:
    fake.open_issue("critical", labels=["priority::highest"])
    fake.open_issue("p0 and security", labels=["P0", "security"])
    fake.open_issue("unrelated", labels=["bug"])
    fake.open_issue("closed critical", labels=["P0"])
    fake.close(4)
    fake.open_issue("both", labels=["P0", "priority::highest"])


def test_search_is_one_graphql_request(fake: FakeGitLab, forge: GitLabForge) -> None:
    seed_search(fake)
    found = forge.search_open_issues(["priority::highest", "P0", "P0"])
    assert [i.number for i in found] == [1, 2, 5]
    assert paths(fake) == ["POST /api/graphql"]
    sent = fake.requests[0].body
    assert sent["variables"]["labels"] == ["priority::highest", "P0"]
    assert "or: {labelNames: $labels}" in sent["query"] and "state: opened" in sent["query"]
    assert forge.get_issue(2).labels == ("P0", "security")  # known from the search
    assert forge.bot_login == fake.bot  # the search asked who the token is, too
    assert len(fake.requests) == 1


def test_search_pages_through_graphql(fake: FakeGitLab, forge: GitLabForge) -> None:
    for n in range(250):
        fake.open_issue(f"i{n}", labels=["P0" if n % 2 else "P1"])
    assert len(forge.search_open_issues(["P0", "P1"])) == 250
    assert paths(fake) == ["POST /api/graphql"] * 3
    assert fake.requests[1].body["variables"]["after"]


def test_search_without_labels_asks_nothing(fake: FakeGitLab, forge: GitLabForge) -> None:
    assert forge.search_open_issues([]) == []
    assert fake.requests == []


def test_search_falls_back_to_rest_without_the_or_filter(forge: GitLabForge, fake: FakeGitLab) -> None:
    fake.graphql_or = False  # GitLab before 17.0 with the or_issuable_queries flag off
    seed_search(fake)
    assert [i.number for i in forge.search_open_issues(["priority::highest", "P0"])] == [1, 2, 5]
    assert paths(fake) == ["POST /api/graphql", "GET /projects/14/issues", "GET /projects/14/issues"]
    assert [r.query["labels"] for r in fake.requests[1:]] == [["priority::highest"], ["P0"]]
    assert all(r.query["state"] == ["opened"] for r in fake.requests[1:])
    fake.reset_requests()
    forge.search_open_issues(["P0"])  # the instance said so once: straight to REST now
    assert paths(fake) == ["GET /projects/14/issues"]


def test_search_by_numeric_id_only_uses_rest(fake: FakeGitLab) -> None:
    seed_search(fake)
    forge = GitLabForge(fake.url, TOKEN, 14, max_retries=1)  # no CI_PROJECT_PATH: no GraphQL
    assert [i.number for i in forge.search_open_issues(["P0"])] == [2, 5]
    assert paths(fake) == ["GET /projects/14/issues"]


def test_project_by_path(fake: FakeGitLab) -> None:
    fake.open_issue("x", labels=["P0"])
    forge = GitLabForge(fake.url, TOKEN, "acme/shop", max_retries=1)
    assert forge.get_issue(1).title == "x"
    assert [i.number for i in forge.search_open_issues(["P0"])] == [1]  # the path is the GraphQL fullPath
    assert paths(fake) == ["GET /projects/acme%2Fshop/issues/1", "POST /api/graphql"]


def test_graphql_errors_are_service_errors(fake: FakeGitLab) -> None:
    forge = GitLabForge(fake.url, TOKEN, 14, project_path="acme/elsewhere", max_retries=1)
    with pytest.raises(ServiceError) as caught:
        forge.search_open_issues(["P0"])
    assert caught.value.request == "POST /api/graphql OutageBotSearch"
    assert "acme/elsewhere" in caught.value.detail and "CI_PROJECT_PATH" in caught.value.hint


# -- access ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("level", "access"), [
    (5, Access.NONE), (10, Access.READ), (15, Access.READ), (20, Access.TRIAGE),
    (30, Access.WRITE), (40, Access.MAINTAIN), (50, Access.ADMIN),
])
def test_access_levels(fake: FakeGitLab, forge: GitLabForge, level: int, access: Access) -> None:
    fake.add_member("taylor", level)
    assert forge.access_of("taylor") == access


def test_access_matches_the_exact_username(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.add_member("will", 10)
    fake.add_member("william", 40)  # `query=will` matches both
    assert forge.access_of("will") == Access.READ
    assert forge.access_of("WILL") == Access.READ  # usernames are case-insensitive: cached
    assert forge.access_of("nobody") == Access.NONE
    assert paths(fake) == ["GET /projects/14/members/all"] * 2
    assert fake.requests[0].query["query"] == ["will"]


# -- writing -------------------------------------------------------------------------------------------
def test_create_incident_issue(fake: FakeGitLab, forge: GitLabForge) -> None:
    issue = forge.create_issue(title="Outage: checkout", body="What is broken", labels=["outage", "incident::active"],
                               confidential=True, incident=True)
    created = fake.issue(issue.number)
    assert created["issue_type"] == "incident" and created["confidential"] is True
    assert set(fake.labels) == {"outage", "incident::active"}  # GitLab created the labels
    assert issue.labels == ("outage", "incident::active") and issue.author == fake.bot
    sent = fake.requests[-1].body
    # python-gitlab sends a JSON array; GitLab's `labels` takes an array or a comma-separated string
    assert sent["labels"] == ["outage", "incident::active"] and sent["issue_type"] == "incident"
    assert paths(fake) == ["POST /projects/14/issues"]


def test_plain_issue_is_not_typed(fake: FakeGitLab, forge: GitLabForge) -> None:
    forge.create_issue(title="Current status", body="...", labels=["outage-bot::status"])
    assert "issue_type" not in fake.requests[-1].body and "confidential" not in fake.requests[-1].body


def test_incident_refused_falls_back_to_a_plain_issue(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.fail("POST", r"/issues$", 403, message="403 Forbidden - you may not create incidents")
    issue = forge.create_issue(title="Outage", body="x", labels=["outage"], incident=True)
    assert fake.issue(issue.number)["issue_type"] == "issue"
    assert paths(fake) == ["POST /projects/14/issues"] * 2


def test_scoped_label_replaces_its_sibling(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x", labels=["priority::highest", "bug"])
    forge.add_labels(1, ["priority::higher"])
    assert fake.issue(1)["labels"] == ["bug", "priority::higher"]
    assert fake.requests[-1].body == {"add_labels": "priority::higher"}
    actions = [(e["label"], e["action"]) for e in fake.label_events[1][-2:]]
    assert actions == [("priority::highest", "remove"), ("priority::higher", "add")]
    assert forge.get_issue(1).labels == ("bug", "priority::higher")  # known from the PUT's answer
    assert len(fake.requests) == 1


def test_remove_labels_not_carried_is_fine(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x", labels=["P0"])
    forge.remove_labels(1, ["P0", "never-there"])
    assert fake.issue(1)["labels"] == []
    forge.add_labels(1, [])
    forge.remove_labels(1, [])
    assert len(fake.requests) == 1


def test_edit_body_and_close(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x", by=fake.bot, description="old")
    forge.edit_issue_body(1, "new")
    forge.close_issue(1)
    assert fake.issue(1)["description"] == "new" and fake.issue(1)["state"] == "closed"
    assert [r.body for r in fake.requests] == [{"description": "new"}, {"state_event": "close"}]


def test_find_issue_with_marker(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("other", labels=["incident::active"], description="no marker")
    fake.open_issue("ours", by=fake.bot, labels=["incident::active"], description="text\n<!-- outage-bot:outage 7 k -->")
    fake.open_issue("unlabeled", by=fake.bot, description="<!-- outage-bot:outage 7 k -->")
    found = forge.find_issue_with_marker("<!-- outage-bot:outage 7 k -->", "incident::active")
    assert found is not None and found.number == 2
    assert forge.find_issue_with_marker("<!-- nothing -->", "incident::active") is None
    query = fake.requests[0].query
    assert query["labels"] == ["incident::active"] and query["order_by"] == ["created_at"] and query["sort"] == ["desc"]


def test_no_pinning_on_gitlab(fake: FakeGitLab, forge: GitLabForge) -> None:
    assert forge.capabilities.pinning is False and forge.capabilities.incident_issue_type is True
    assert forge.pin_issue(1) == PinOutcome.UNSUPPORTED
    assert forge.pinned_issues() == []
    forge.unpin_issue(1)
    assert fake.requests == []


def test_bot_login_asks_once(fake: FakeGitLab, forge: GitLabForge) -> None:
    assert forge.bot_login == fake.bot and forge.bot_login == fake.bot
    assert paths(fake) == ["GET /user"]


# -- webhooks GitLab disabled ------------------------------------------------------------------------
def test_webhook_check_needs_maintainer(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.add_hook(alert_status="disabled")
    assert forge.webhook_problem() is None  # Reporter: 403, the check is skipped
    assert [(str(r), r.status) for r in fake.requests] == [("GET /projects/14/hooks", 403)]


def test_disabled_webhooks_are_reported(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.token_access = 40
    assert forge.webhook_problem() is None
    fake.add_hook()  # executable
    fake.add_hook(alert_status="executable", issues_events=False, note_events=False, confidential_issues_events=False,
                  confidential_note_events=False, alert_status_note="push-only hook")
    assert forge.webhook_problem() is None
    fake.add_hook(alert_status="disabled")
    until = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fake.add_hook(alert_status="temporarily_disabled", disabled_until=until)
    line = forge.webhook_problem()
    assert line is not None
    assert "webhook 3 (" in line and "is disabled" in line and "webhook 4 (" in line and "paused until" in line
    assert "trigger-secret" not in line and "token=" not in line  # the trigger token stays out
    assert f"{fake.url.split(':')[0]}://127.0.0.1/api/v4/projects/14/ref/main/trigger/pipeline" in line


# -- failures, retries, and what an error says --------------------------------------------------------
def test_502_then_success(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    fake.fail("GET", r"/issues/1$", 502)
    assert forge.get_issue(1).number == 1
    assert [(str(r), r.status) for r in fake.requests] == [("GET /projects/14/issues/1", 502), ("GET /projects/14/issues/1", 200)]


def test_429_waits_for_retry_after(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    fake.fail("GET", r"/notes$", 429, headers={"Retry-After": "1"}, message="Retry later")
    started = time.monotonic()
    assert forge.list_comments(1) == []
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in fake.requests] == [429, 200]


def test_5xx_past_the_retries_names_the_request(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    fake.fail("PUT", r"/issues/1$", 503, times=10)
    with pytest.raises(ServiceError) as caught:
        forge.add_labels(1, ["P0"])
    error = caught.value
    assert (error.service, error.request) == ("gitlab", "PUT /projects/14/issues/1")
    assert "503" in error.detail and "next run" in error.hint
    assert len(fake.requests) == 3  # the first try and max_retries=2 repeats
    assert TOKEN not in str(error)


def test_a_post_is_not_repeated_after_a_502(fake: FakeGitLab, forge: GitLabForge) -> None:
    # A 502 can come after GitLab stored the note; repeating the POST could post it twice. The
    # error says so (uncertain): the executor looks for the note's marker before posting again
    # (test_gitlab_uncertain_writes.py has every way an answer gets lost).
    fake.open_issue("x")
    fake.fail("POST", r"/notes$", 502)
    with pytest.raises(ServiceError) as caught:
        forge.post_comment(1, "hello")
    assert caught.value.request == "POST /projects/14/issues/1/notes" and "502" in caught.value.detail
    assert caught.value.uncertain
    assert len(fake.requests) == 1


def test_a_post_is_repeated_after_a_429(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    fake.fail("POST", r"/notes$", 429, headers={"Retry-After": "0"})
    forge.post_comment(1, "hello")
    assert fake.note_bodies(1) == ["hello"]
    assert [r.status for r in fake.requests] == [429, 201]


def test_rejected_token_never_printed(fake: FakeGitLab) -> None:
    forge = GitLabForge(fake.url, "glpat-WRONG-token-value", 14, project_path="acme/shop", max_retries=1)
    with pytest.raises(ServiceError) as caught:
        forge.get_issue(1)
    assert "401" in caught.value.detail and "GITLAB_TOKEN" in caught.value.hint
    assert "glpat-WRONG-token-value" not in str(caught.value)


def test_a_token_echoed_by_the_server_is_scrubbed(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.open_issue("x")
    fake.fail("GET", r"/issues/1$", 400, message=f"bad request for {TOKEN}")
    with pytest.raises(ServiceError) as caught:
        forge.get_issue(1)
    assert TOKEN not in str(caught.value) and "***" in caught.value.detail


def test_nobody_answering(fake: FakeGitLab) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    forge = GitLabForge(f"http://127.0.0.1:{port}", TOKEN, 14, max_retries=1)
    with pytest.raises(ServiceError) as caught:
        forge.get_issue(1)
    assert caught.value.request == "GET /projects/14/issues/1" and "no answer" in caught.value.detail


# -- from GitLab CI's environment ---------------------------------------------------------------------
def test_forge_from_ci_environment(fake: FakeGitLab) -> None:
    fake.open_issue("x", labels=["P0"])
    forge = forge_from_env({"CI_API_V4_URL": fake.api_url, "CI_PROJECT_ID": "14", "CI_PROJECT_PATH": "acme/shop",
                            "GITLAB_TOKEN": TOKEN})
    assert [i.number for i in forge.search_open_issues(["P0"])] == [1]
    assert paths(fake) == ["POST /api/graphql"]


@pytest.mark.parametrize(("missing", "named"), [
    ("CI_API_V4_URL", "CI_API_V4_URL"),
    ("GITLAB_TOKEN", "GITLAB_TOKEN"),
    ("CI_PROJECT", "CI_PROJECT_ID"),
])
def test_missing_variables_are_named(missing: str, named: str) -> None:
    environ = {"CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "14",
               "CI_PROJECT_PATH": "acme/shop", "GITLAB_TOKEN": "x"}
    environ = {k: v for k, v in environ.items() if not k.startswith(missing)}
    with pytest.raises(MissingCredential) as caught:
        forge_from_env(environ)
    assert caught.value.variable == named


@pytest.mark.parametrize(("api", "instance"), [
    ("https://gitlab.com/api/v4", "https://gitlab.com"),
    ("https://git.example.com/gitlab/api/v4/", "https://git.example.com/gitlab"),
])
def test_instance_url(api: str, instance: str) -> None:
    assert instance_url(api) == instance


def test_bad_api_url() -> None:
    with pytest.raises(UserError, match="CI_API_V4_URL"):
        instance_url("gitlab.com/api/v4")
