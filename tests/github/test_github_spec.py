"""The traffic between the forge and the fake, checked against GitHub's published descriptions.

What the forge sends must be what GitHub documents (paths, methods, query parameters, request
bodies, GraphQL fields and arguments); what the fake answers must be what GitHub documents too,
or the other tests would prove nothing.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from fake_github import BOT, FakeGitHub
from github_helpers import FIXTURES, WEBHOOKS, make_forge
from spec_check import GraphqlSchema, RestSpec

from bot.adapters.github import graphql

SPEC = RestSpec()


def exercise(fake: FakeGitHub) -> None:
    """Every Forge method, including the fallbacks (labels refused, pin limit, 404s)."""
    forge = make_forge(fake)
    fake.add_issue("Checkout is down", "It 502s", labels=["priority::highest"])
    fake.comment(1, "me too", user="will")
    fake.react(1, "eyes", user="taylor-gh")
    fake.set_role("taylor-gh", "maintain")
    forge.get_issue(1)
    forge.list_comments(1)
    forge.list_reactions(1)
    forge.label_added_at(1, "priority::highest")
    forge.search_open_issues(["priority::highest", "P0"])
    forge.changed_issues(fake.now)  # GET /search/issues again: updated:>=, sort, order
    forge.access_of("taylor-gh")
    forge.access_of("stranger")
    comment = forge.post_comment(1, "tagging")
    forge.edit_comment(1, comment.id, "tagging, edited")
    forge.list_comments(1, fresh=True)
    forge.delete_comment(1, forge.post_comment(1, "a duplicate").id)
    outage = forge.create_issue(title="Outage: checkout", body="<!-- m -->", labels=["outage", "incident::active"])
    forge.find_issue_with_marker("<!-- m -->", "outage")
    forge.add_labels(1, ["incident::active"])
    forge.remove_labels(1, ["incident::active", "absent"])
    forge.edit_issue_body(outage.number, "new body")
    forge.pin_issue(outage.number)
    forge.pinned_issues()
    forge.unpin_issue(outage.number)
    forge.close_issue(outage.number)
    forge.paint_labels(["outage", "incident::active"])
    for n in range(3):
        fake.pin(fake.add_issue(f"pinned {n}").number)
    forge.pin_issue(1)  # limit
    fake.auto_create_labels = False
    forge.add_labels(1, ["incident::acknowledged"])  # refused, created, added
    fake.issues[1].labels.clear()
    make_forge(fake).remove_labels(1, ["gone"])  # 404


@pytest.fixture(scope="module")
def traffic() -> list:
    with FakeGitHub() as fake:
        exercise(fake)
        return list(fake.requests)


def test_the_workload_covers_every_rest_operation_the_forge_uses(traffic: list) -> None:
    used = {(r.method, SPEC.operation(r.method, r.path).template) for r in traffic if r.path != "/graphql"}
    assert used == {
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"),
        ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
        ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
        ("GET", "/repos/{owner}/{repo}/labels"),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events"),
        ("GET", "/search/issues"),
        ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
        ("GET", "/repos/{owner}/{repo}/issues"),
        ("POST", "/repos/{owner}/{repo}/issues"),
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
        ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
        ("POST", "/repos/{owner}/{repo}/labels"),
        ("PATCH", "/repos/{owner}/{repo}/labels/{name}"),
    }


def test_every_request_is_one_github_documents(traffic: list) -> None:
    problems = [p for r in traffic if r.path != "/graphql" for p in SPEC.check_request(r.method, r.path, r.query, r.body)]
    assert problems == []


def test_every_answer_of_the_fake_is_shaped_as_github_documents(traffic: list) -> None:
    problems = [
        p for r in traffic if r.path != "/graphql" for p in SPEC.check_response(r.method, r.path, r.status, r.response)
    ]
    assert problems == []
    assert {r.status for r in traffic} >= {200, 201, 404, 422}  # the error answers were checked too


def test_asking_who_a_personal_token_is() -> None:
    with FakeGitHub(token="ghp_personal_0123") as fake:
        assert make_forge(fake).bot_login == "ops-bot"
        [request] = fake.requests
    assert SPEC.check_request(request.method, request.path, request.query, request.body) == []
    assert SPEC.check_response(request.method, request.path, request.status, request.response) == []


def test_a_bad_request_would_be_caught() -> None:
    assert SPEC.check_request("POST", "/repos/o/r/issues", {}, {"body": "no title"}) != []
    assert SPEC.check_request("GET", "/repos/o/r/issues", {"bogus": ["1"]}, None) != []
    assert SPEC.check_request("POST", "/repos/o/r/pin", {}, None) != []
    assert SPEC.check_response("GET", "/repos/o/r/issues/1", 200, {"number": 1}) != []


def test_graphql_queries_match_the_schema(traffic: list) -> None:
    schema = GraphqlSchema()
    sent = {r.body["query"] for r in traffic if r.path == "/graphql"}
    assert sent == {graphql.PINNED_ISSUES, graphql.PIN_ISSUE, graphql.UNPIN_ISSUE}
    assert {q: schema.check(q) for q in sent} == {q: [] for q in sent}


def test_a_bad_graphql_query_would_be_caught() -> None:
    schema = GraphqlSchema()
    assert schema.check("query { repository(owner: $o, name: $n) { pinnedIssues { nodes { issue { nope } } } } }") == [
        "Issue.nope: no such field"
    ]


def test_every_request_carried_the_token_and_nothing_else_did(traffic: list) -> None:
    assert {r.authorization for r in traffic} == {f"token {FakeGitHub().token}"}


# -- webhook payloads -------------------------------------------------------------------------------
WEBHOOK_DOC = json.loads((FIXTURES / "webhooks-openapi-subset.json").read_text(encoding="utf-8"))


def _webhook_errors(schema_name: str, instance: dict) -> list[str]:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": WEBHOOK_DOC["components"],
        "$ref": f"#/components/schemas/{schema_name}",
    }
    return [e.message[:200] for e in jsonschema.Draft202012Validator(schema).iter_errors(instance)]


@pytest.mark.parametrize(
    "name",
    ["issues.labeled", "issues.unlabeled", "issues.opened", "issues.closed", "issues.reopened", "issues.assigned", "issue_comment.created"],
)
def test_payload_fixtures_match_the_webhook_schema(name: str) -> None:
    # issues.closed was built by us (GitHub publishes no example): this is what vouches for it.
    instance = json.loads((WEBHOOKS / f"{name}.json").read_text(encoding="utf-8"))
    assert _webhook_errors(f"webhook-{name.replace('.', '-').replace('_', '-')}", instance) == []


def test_bot_login_is_what_github_actions_uses() -> None:
    assert BOT == "github-actions[bot]"
