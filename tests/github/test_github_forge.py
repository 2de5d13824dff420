"""Every Forge method through real PyGithub, over HTTP, against the fake; with request counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fake_github import BOT, FakeGitHub
from github_helpers import make_forge

from bot.adapters.github import GitHubForge
from bot.records import Access, Comment, Issue, PinOutcome, Reaction

REPO = "/repos/octo-org/outage-demo"
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)


def test_get_issue_reads_once_and_keeps_what_the_records_need(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue("Checkout is down", "It 502s", labels=["priority::highest", "outage"], author="reporter")
    fake.react(1, "eyes", user="taylor-gh")
    fake.react(1, "heart", user="will")

    issue = forge.get_issue(1)
    again = forge.get_issue(1)

    assert issue == again
    assert issue == Issue(
        number=1,
        title="Checkout is down",
        body="It 502s",
        labels=("priority::highest", "outage"),
        state="open",
        url="https://github.com/octo-org/outage-demo/issues/1",  # html_url, not the API url
        author="reporter",
        created_at=T0,
        updated_at=T0,
        eyes=1,
        node_id="I_kwDOfake000001",
    )
    assert fake.lines() == [f"GET {REPO}/issues/1"]


def test_null_body_reads_as_empty(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue("No body", None)
    assert forge.get_issue(1).body == ""


def test_comments_oldest_first_all_pages(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    for i in range(105):
        fake.comment(1, f"comment {i}", user="someone", at=T0 + timedelta(minutes=i))

    comments = forge.list_comments(1)

    assert len(comments) == 105
    assert comments[0] == Comment(id=comments[0].id, author="someone", body="comment 0", created_at=T0)
    assert comments[-1].body == "comment 104"
    assert fake.lines() == [f"GET {REPO}/issues/1/comments"] * 2  # 100 per page
    assert fake.requests[0].query["per_page"] == ["100"]


def test_comments_of_an_issue_just_read_with_none_cost_nothing(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    forge.get_issue(1)
    assert forge.list_comments(1) == []
    assert forge.list_reactions(1) == []
    assert fake.lines() == [f"GET {REPO}/issues/1"]


def test_comment_cache_follows_our_own_writes(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.comment(1, "first", user="reporter")
    assert [c.body for c in forge.list_comments(1)] == ["first"]

    posted = forge.post_comment(1, "tagging @taylor-gh")
    forge.edit_comment(1, posted.id, "tagging @taylor-gh and @willds")

    assert posted.author == BOT
    assert [c.body for c in forge.list_comments(1)] == ["first", "tagging @taylor-gh and @willds"]
    assert fake.comments[posted.id]["body"] == "tagging @taylor-gh and @willds"
    assert fake.lines() == [
        f"GET {REPO}/issues/1/comments",
        f"POST {REPO}/issues/1/comments",
        f"PATCH {REPO}/issues/comments/{posted.id}",
    ]


def test_reactions(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.react(1, "eyes", user="taylor-gh", at=T0 + timedelta(minutes=5))
    fake.react(1, "+1", user="will")

    assert forge.list_reactions(1) == [
        Reaction(user="taylor-gh", emoji="eyes", created_at=T0 + timedelta(minutes=5)),
        Reaction(user="will", emoji="+1", created_at=T0),
    ]
    assert fake.lines() == [f"GET {REPO}/issues/1/reactions"]


def test_label_added_at_is_the_latest_labeled_event(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    fake.label(1, "priority::highest", at=T0 + timedelta(hours=1))
    fake.unlabel(1, "priority::highest", at=T0 + timedelta(hours=2))
    fake.label(1, "priority::highest", at=T0 + timedelta(hours=3))
    fake.label(1, "outage", at=T0 + timedelta(hours=4))
    fake.close(1, at=T0 + timedelta(hours=5))

    assert forge.label_added_at(1, "priority::highest") == T0 + timedelta(hours=3)
    assert forge.label_added_at(1, "Priority::Highest") == T0 + timedelta(hours=3)  # names ignore case
    assert forge.label_added_at(1, "P0") is None
    assert fake.lines() == [f"GET {REPO}/issues/1/events", f"GET {REPO}/issues/1/events"]


def test_search_is_one_request_with_or_labels(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue("a", labels=["priority::highest"])
    fake.add_issue("b", labels=["P1", "outage"])
    fake.add_issue("c", labels=["bug"])
    fake.add_issue("d", labels=["P0"], state="closed")
    fake.add_issue("e", labels=["P0"], pull_request=True)

    found = forge.search_open_issues(["priority::highest", "P0", "P1"])

    assert sorted(i.title for i in found) == ["a", "b"]
    assert fake.lines() == ["GET /search/issues"]
    assert fake.requests[0].query["q"] == ['repo:octo-org/outage-demo is:issue is:open label:"priority::highest","P0","P1"']
    assert fake.requests[0].query["per_page"] == ["100"]
    # what the search said is remembered for the run
    forge.get_issue(found[0].number)
    assert len(fake.requests) == 1


def test_search_splits_a_query_longer_than_github_allows(fake: FakeGitHub, forge: GitHubForge) -> None:
    labels = [f"a-rather-long-label-name-{i:02d}" for i in range(12)]
    fake.add_issue("first", labels=[labels[0]])
    fake.add_issue("last", labels=[labels[-1]])

    found = forge.search_open_issues(labels)

    assert sorted(i.title for i in found) == ["first", "last"]
    assert len(fake.requests) == 2
    assert all(len(r.query["q"][0]) <= 256 for r in fake.requests)


def test_search_with_no_labels_asks_nothing(fake: FakeGitHub, forge: GitHubForge) -> None:
    assert forge.search_open_issues([]) == []
    assert fake.requests == []


def test_access_of_maps_roles_and_remembers(fake: FakeGitHub, forge: GitHubForge) -> None:
    for login, role in [("ad", "admin"), ("ma", "maintain"), ("wr", "write"), ("tr", "triage"), ("re", "read")]:
        fake.set_role(login, role)
    fake.set_role("custom", "incident-responder")  # a custom role: the permission booleans decide

    assert [forge.access_of(x) for x in ("ad", "ma", "wr", "tr", "re", "custom", "stranger")] == [
        Access.ADMIN,
        Access.MAINTAIN,
        Access.WRITE,
        Access.TRIAGE,
        Access.READ,
        Access.READ,
        Access.NONE,  # 404
    ]
    forge.access_of("tr")
    assert len(fake.requests) == 7


def test_find_issue_with_marker(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue("Outage: old", "<!-- outage-bot:outage-of=1 key=a -->", labels=["outage"], author=BOT, state="closed")
    fake.add_issue("Outage: new", "<!-- outage-bot:outage-of=2 key=b -->", labels=["outage"], author=BOT)
    fake.add_issue("Other", "<!-- outage-bot:outage-of=2 key=b -->", labels=["bug"])

    assert forge.find_issue_with_marker("outage-of=1 key=a", "outage").title == "Outage: old"  # closed too
    assert forge.find_issue_with_marker("outage-of=9 key=z", "outage") is None
    request = fake.requests[0]
    assert request.line == f"GET {REPO}/issues"
    assert {k: v[0] for k, v in request.query.items()} == {
        "labels": "outage",
        "state": "all",
        "sort": "created",
        "direction": "desc",
        "per_page": "100",
    }


def test_create_issue_lets_github_create_labels_and_the_tick_colours_them_later(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.labels["outage"] = {"id": 1, "name": "outage", "color": "123456", "description": "ours"}

    issue = forge.create_issue(title="Outage: checkout", body="<!-- m -->", labels=["outage", "incident::active"])

    assert issue.labels == ("outage", "incident::active")
    assert issue.author == BOT
    assert fake.lines() == [f"POST {REPO}/issues"]  # an event run spends nothing on looks
    assert fake.requests[0].body == {"title": "Outage: checkout", "body": "<!-- m -->", "labels": ["outage", "incident::active"]}
    # a new issue has no comments: no request to list them
    assert forge.list_comments(issue.number) == []
    assert len(fake.requests) == 1
    # the tick paints them, once a day: one listing, a PATCH for each still grey
    fake.clear()
    forge.paint_labels(["outage", "incident::active", "priority::highest"])
    assert fake.labels["incident::active"]["color"] == "d93f0b"
    assert fake.labels["outage"]["color"] == "123456"  # a label someone made is left alone
    assert fake.lines() == [f"GET {REPO}/labels", f"PATCH {REPO}/labels/incident::active"]


def test_create_issue_on_a_github_that_refuses_unknown_labels(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.auto_create_labels = False
    fake.labels["outage"] = {"id": 1, "name": "outage", "color": "123456", "description": None}

    issue = forge.create_issue(title="Outage", body="", labels=["outage", "incident::active"])

    assert issue.labels == ("outage", "incident::active")
    assert fake.labels["incident::active"]["color"] == "d93f0b"
    assert fake.lines() == [
        f"POST {REPO}/issues",  # 422
        f"POST {REPO}/labels",  # outage: 422 already_exists, fine
        f"POST {REPO}/labels",
        f"POST {REPO}/issues",
    ]


def test_add_labels_is_one_request_and_skips_labels_already_on(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue(labels=["priority::highest"])
    forge.add_labels(1, ["incident::active", "priority::highest"])
    assert fake.lines() == [f"POST {REPO}/issues/1/labels"]  # colours come from the tick (paint_labels)
    assert fake.requests[0].body == {"labels": ["incident::active", "priority::highest"]}

    fake.clear()
    forge.get_issue(1)
    forge.add_labels(1, ["incident::active"])  # already on, and we just read the issue
    assert fake.lines() == [f"GET {REPO}/issues/1"]
    assert forge.get_issue(1).labels == ("priority::highest", "incident::active")


def test_add_labels_creates_them_when_github_refuses(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.auto_create_labels = False
    fake.add_issue()
    forge.add_labels(1, ["incident::acknowledged"])
    assert fake.issues[1].labels == ["incident::acknowledged"]
    assert fake.labels["incident::acknowledged"]["color"] == "0e8a16"
    assert fake.lines() == [f"POST {REPO}/issues/1/labels", f"POST {REPO}/labels", f"POST {REPO}/issues/1/labels"]


def test_remove_labels_tolerates_absent_ones(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue(labels=["incident::active", "outage"])
    forge.remove_labels(1, ["incident::active", "not-there"])
    assert fake.issues[1].labels == ["outage"]
    assert fake.lines() == [f"DELETE {REPO}/issues/1/labels/incident::active", f"DELETE {REPO}/issues/1/labels/not-there"]

    fake.clear()
    forge.get_issue(1)
    forge.remove_labels(1, ["incident::active"])  # known to be off: no request
    assert fake.lines() == [f"GET {REPO}/issues/1"]


def test_label_added_at_is_read_again_after_we_add_the_label(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    assert forge.label_added_at(1, "incident::active") is None
    fake.advance(minutes=3)
    forge.add_labels(1, ["incident::active"])
    assert forge.label_added_at(1, "incident::active") == T0 + timedelta(minutes=3)


def test_edit_body_and_close(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue("Outage: x", "old", author=BOT)
    forge.edit_issue_body(1, "new body")
    fake.advance(hours=1)
    forge.close_issue(1)

    assert fake.issues[1].body == "new body"
    assert fake.issues[1].state == "closed"
    assert fake.issues[1].state_reason == "completed"
    assert forge.get_issue(1).state == "closed"  # remembered from the PATCH answer
    assert fake.lines() == [f"PATCH {REPO}/issues/1", f"PATCH {REPO}/issues/1"]
    assert fake.requests[1].body == {"state": "closed", "state_reason": "completed"}


def test_pin_and_unpin(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue("Outage: checkout", labels=["outage"], author=BOT)
    fake.react(1, "eyes", user="taylor-gh")

    assert forge.pin_issue(1) == PinOutcome.PINNED
    pinned = forge.pinned_issues()
    assert [(i.number, i.title, i.state, i.labels, i.eyes, i.author) for i in pinned] == [
        (1, "Outage: checkout", "open", ("outage",), 1, BOT)
    ]
    assert forge.pin_issue(1) == PinOutcome.PINNED  # already pinned: fine
    forge.unpin_issue(1)
    assert forge.pinned_issues() == []
    assert fake.lines() == [
        f"GET {REPO}/issues/1",  # the node id
        "POST /graphql pinIssue",
        "POST /graphql pinnedIssues",
        "POST /graphql pinIssue",
        "POST /graphql unpinIssue",
        "POST /graphql pinnedIssues",
    ]
    assert fake.requests[1].body["variables"] == {"issueId": "I_kwDOfake000001"}


def test_pin_limit_reached(fake: FakeGitHub, forge: GitHubForge) -> None:
    for n in range(1, 5):
        fake.add_issue(f"issue {n}")
    for n in (1, 2, 3):
        fake.pin(n)

    assert forge.pin_issue(4) == PinOutcome.LIMIT_REACHED
    assert fake.pinned == [1, 2, 3]
    assert fake.lines()[-1] == "POST /graphql pinIssue"  # recognised from the message: no extra request


def test_pin_limit_reached_with_a_message_we_do_not_know(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.pin_limit_message = "Something went wrong pinning this issue."
    for n in range(1, 5):
        fake.add_issue(f"issue {n}")
    for n in (1, 2, 3):
        fake.pin(n)

    assert forge.pin_issue(4) == PinOutcome.LIMIT_REACHED
    assert fake.lines()[-2:] == ["POST /graphql pinIssue", "POST /graphql pinnedIssues"]


def test_node_id_comes_from_an_issue_already_read(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_issue()
    forge.search_open_issues(["nothing"])  # reads nothing
    issue = forge.create_issue(title="Outage", body="", labels=[])
    forge.pin_issue(issue.number)
    assert fake.lines() == ["GET /search/issues", f"POST {REPO}/issues", "POST /graphql pinIssue"]


def test_a_fresh_forge_forgets(fake: FakeGitHub) -> None:
    fake.add_issue()
    make_forge(fake).get_issue(1)
    make_forge(fake).get_issue(1)
    assert len(fake.requests) == 2


def test_forge_from_env(fake: FakeGitHub) -> None:
    from bot.adapters.github import forge_from_env

    forge = forge_from_env(fake.env())
    fake.add_issue("via env")
    assert forge.get_issue(1).title == "via env"
    assert forge.repository == "octo-org/outage-demo"
    assert fake.requests[0].authorization == f"token {fake.token}"


def test_bot_login_of_github_token_costs_no_request(fake: FakeGitHub, forge: GitHubForge) -> None:
    assert forge.bot_login == BOT
    assert fake.requests == []


def test_bot_login_of_a_personal_token_is_asked_once() -> None:
    with FakeGitHub(token="ghp_personal_token_0123") as fake:
        forge = make_forge(fake)
        assert forge.bot_login == "ops-bot"
        assert forge.bot_login == "ops-bot"
        assert fake.lines() == ["GET /user"]
        fake.add_issue()
        assert forge.post_comment(1, "hi").author == forge.bot_login


def test_bot_login_can_be_given(fake: FakeGitHub) -> None:
    from bot.adapters.github import forge_from_env

    assert forge_from_env(fake.env(OUTAGE_BOT_GITHUB_LOGIN="incident-app[bot]")).bot_login == "incident-app[bot]"
    assert fake.requests == []


def test_search_open_issues_reads_past_the_1000_result_cap(fake: FakeGitHub, forge: GitHubForge) -> None:
    """A repository with 1,500 active incidents: GitHub search stops at 1,000 results (page 11
    answers 422); the forge narrows its `updated:` window and reads the rest."""
    from datetime import datetime, timedelta, timezone

    t = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for n in range(1500):
        fake.add_issue(f"Incident {n}", labels=["priority::high"], at=t + timedelta(seconds=n))
    found = forge.search_open_issues(["priority::high", "P2"])
    assert sorted(i.number for i in found) == list(range(1, 1501))
    assert all(r.status == 200 for r in fake.requests)  # never asked past the cap
