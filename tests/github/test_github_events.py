"""GitHub Actions' event file -> Event, with GitHub's own example payloads (tests/fixtures/github)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_github import FakeGitHub
from github_helpers import WEBHOOKS, payload, webhook

from bot.adapters.github import forge_from_env, read_trigger
from bot.cli import cli
from bot.errors import MissingCredential, NotMine, UserError
from bot.events import EventKind


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def trigger(tmp_path: Path, name: str, data: Any, **env: str) -> Any:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    environ = {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), **env}
    return read_trigger(environ, None, None)


def test_labeled(tmp_path: Path) -> None:
    data = payload("issues.labeled")
    event = trigger(tmp_path, "issues", data, GITHUB_RUN_ID="42", GITHUB_RUN_ATTEMPT="2")

    assert event.kind == EventKind.LABELED
    assert event.label == "bug"
    assert event.added() == ("bug",)
    assert event.actor == "Codertocat"
    assert event.at == utc(data["issue"]["updated_at"])  # the label's moment
    assert event.actor_trusted is False  # the shell decides
    assert event.delivery == "run 42.2"
    issue = event.issue
    assert (issue.number, issue.title, issue.state, issue.author) == (1, "Spelling error in the README file", "open", "Codertocat")
    assert issue.labels == ("bug",)
    assert issue.url == "https://github.com/Codertocat/Hello-World/issues/1"
    assert issue.node_id == "MDU6SXNzdWU0NDQ1MDAwNDE="
    assert issue.eyes == 0
    assert issue.body == "It looks like you accidently spelled 'commit' with two 't's."


def test_unlabeled(tmp_path: Path) -> None:
    data = payload("issues.unlabeled")
    event = trigger(tmp_path, "issues", data)
    assert event.kind == EventKind.UNLABELED
    assert event.removed() == (data["label"]["name"],)
    assert event.at == utc(data["issue"]["updated_at"])


@pytest.mark.parametrize(
    ("name", "kind", "time_field"),
    [
        ("issues.opened", EventKind.OPENED, "created_at"),
        ("issues.reopened", EventKind.REOPENED, "updated_at"),
        ("issues.assigned", EventKind.ASSIGNED, "updated_at"),
        ("issues.closed", EventKind.CLOSED, "closed_at"),  # built from the webhook-issues-closed schema
    ],
)
def test_issue_actions(tmp_path: Path, name: str, kind: EventKind, time_field: str) -> None:
    data = payload(name)
    event = trigger(tmp_path, "issues", data)
    assert event.kind == kind
    assert event.at == utc(data["issue"][time_field])
    assert event.issue.state == data["issue"]["state"]
    assert event.label is None


def test_comment_created(tmp_path: Path) -> None:
    data = payload("issue_comment.created")
    event = trigger(tmp_path, "issue_comment", data)
    assert event.kind == EventKind.COMMENTED
    assert event.comment is not None
    assert event.comment.id == data["comment"]["id"]
    assert event.comment.body == data["comment"]["body"]
    assert event.comment.author == data["comment"]["user"]["login"]
    assert event.at == utc(data["comment"]["created_at"])
    assert event.actor == data["sender"]["login"]


VARIANTS = sorted(p.stem for p in (WEBHOOKS / "variants").glob("*.json"))


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_reads(tmp_path: Path, name: str) -> None:
    data = payload(f"variants/{name}")
    event_name = name.split(".")[0]
    event = trigger(tmp_path, event_name, data)
    assert event.issue.number == data["issue"]["number"]
    assert event.actor == data["sender"]["login"]


def test_an_old_payload_without_reactions_has_unknown_eyes(tmp_path: Path) -> None:
    event = trigger(tmp_path, "issue_comment", payload("variants/issue_comment.created.1"))
    assert event.issue.eyes is None


def test_an_empty_body_is_null_in_the_payload(tmp_path: Path) -> None:
    assert trigger(tmp_path, "issues", payload("variants/issues.opened.2")).issue.body == ""


def test_edited(tmp_path: Path) -> None:
    data = payload("issues.opened")
    data["action"] = "edited"
    data["changes"] = {"body": {"from": "old"}}
    assert trigger(tmp_path, "issues", data).kind == EventKind.EDITED


@pytest.mark.parametrize("name", ["schedule", "workflow_dispatch"])
def test_scheduled_and_manual_runs_are_ticks(name: str) -> None:
    # Actions writes an event file for these too; it is not needed.
    assert read_trigger({"GITHUB_EVENT_NAME": name}, None, None) is None


def test_a_comment_on_a_pull_request_is_not_mine(tmp_path: Path) -> None:
    data = payload("issue_comment.created")
    data["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/1"}
    with pytest.raises(NotMine) as caught:
        trigger(tmp_path, "issue_comment", data)
    assert caught.value.exit_code == 0
    assert str(caught.value) == f"comment on pull request #{data['issue']['number']}: outage-bot only handles issues"


@pytest.mark.parametrize(
    ("name", "action", "message"),
    [
        ("issues", "milestoned", "issues.milestoned: not an action outage-bot handles"),
        ("issue_comment", "edited", "issue_comment.edited: outage-bot only reads new comments"),
        ("push", None, "push event: outage-bot handles issues, issue_comment, schedule and workflow_dispatch"),
    ],
)
def test_events_that_are_not_mine(tmp_path: Path, name: str, action: str | None, message: str) -> None:
    data = payload("issue_comment.created" if name == "issue_comment" else "issues.opened")
    if action:
        data["action"] = action
    with pytest.raises(NotMine) as caught:
        trigger(tmp_path, name, data)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_not_json(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        trigger(tmp_path, "issues", "{not json")
    assert caught.value.exit_code == 1
    assert str(caught.value).startswith(f"{tmp_path / 'event.json'}: the event payload is not JSON (line 1, column 2")


def test_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a JSON object"):
        trigger(tmp_path, "issues", "[1, 2]")


@pytest.mark.parametrize(
    ("name", "remove", "field"),
    [
        ("issues.labeled", ("label",), "label.name"),
        ("issues.labeled", ("issue", "number"), "issue.number"),
        ("issues.opened", ("issue", "user"), "issue.user.login"),
        ("issues.opened", ("sender",), "sender.login"),
        ("issue_comment.created", ("comment", "created_at"), "comment.created_at"),
        ("issues.opened", ("action",), "action"),
    ],
)
def test_a_missing_field_is_named(tmp_path: Path, name: str, remove: tuple[str, ...], field: str) -> None:
    data = payload(name)
    node = data
    for key in remove[:-1]:
        node = node[key]
    del node[remove[-1]]
    with pytest.raises(UserError) as caught:
        trigger(tmp_path, name.split(".")[0], data)
    assert f"field `{field}` is missing" in str(caught.value)
    assert str(tmp_path / "event.json") in str(caught.value)


def test_a_bad_time_is_named(tmp_path: Path) -> None:
    data = payload("issues.labeled")
    data["issue"]["updated_at"] = "yesterday"
    with pytest.raises(UserError, match=r"field `issue.updated_at` is not a time \('yesterday'\)"):
        trigger(tmp_path, "issues", data)


def test_missing_file(tmp_path: Path) -> None:
    environ = {"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(tmp_path / "gone.json")}
    with pytest.raises(UserError, match="gone.json: cannot read the event payload"):
        read_trigger(environ, None, None)


def test_no_event_path() -> None:
    with pytest.raises(UserError, match="GITHUB_EVENT_PATH is not set"):
        read_trigger({"GITHUB_EVENT_NAME": "issues"}, None, None)


def test_the_event_option_wins_and_names_the_kind_itself(tmp_path: Path) -> None:
    # `outage-bot handle --event FILE` on a laptop: no GITHUB_EVENT_NAME
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(payload("issue_comment.created")), encoding="utf-8")
    event = read_trigger({"GITHUB_EVENT_PATH": "/nonexistent"}, None, str(path))
    assert event is not None and event.kind == EventKind.COMMENTED


def test_forge_from_env_needs_a_token() -> None:
    with pytest.raises(MissingCredential) as caught:
        forge_from_env({"GITHUB_REPOSITORY": "o/r", "GITHUB_TOKEN": ""})  # an undefined secret is ""
    assert caught.value.variable == "GITHUB_TOKEN"
    assert str(caught.value).startswith("GITHUB_TOKEN is not set")


def test_forge_from_env_needs_a_repository() -> None:
    with pytest.raises(UserError, match="GITHUB_REPOSITORY is not set"):
        forge_from_env({"GITHUB_TOKEN": "t"})


def test_forge_from_env_defaults_to_github_com() -> None:
    forge = forge_from_env({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r"})
    assert forge._rest.requester.base_url == "https://api.github.com"
    assert forge._graphql_path == "/graphql"


def test_forge_from_env_on_enterprise_server() -> None:
    forge = forge_from_env(
        {
            "GITHUB_TOKEN": "t",
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3",
            "GITHUB_GRAPHQL_URL": "https://ghe.example.com/api/graphql",
        }
    )
    assert forge._rest.requester.base_url == "https://ghe.example.com/api/v3"
    assert forge._graphql_path == "/api/graphql"


# -- through the command, as Actions runs it, against the fake GitHub ------------------------------------
POLICY = Path(__file__).parents[1] / "fixtures" / "contract_policy.yml"


def handle(fake: FakeGitHub, tmp_path: Path, name: str, data: Any) -> Result:
    path = tmp_path / "event.json"
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    env = fake.env(GITHUB_EVENT_NAME=name, GITHUB_EVENT_PATH=str(path))
    return CliRunner().invoke(cli, ["handle", "--config", str(POLICY), "--now", "2026-11-09T14:00Z"], env=env)


def one_clean_line(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def labeled_on_the_fake(fake: FakeGitHub) -> dict[str, Any]:
    issue = fake.add_issue("Checkout is down", "Every order fails.", author="reporter")
    fake.label(issue.number, "priority::highest", actor="reporter")
    return webhook(fake, "issues", "labeled", issue.number, sender="reporter", label="priority::highest")


@pytest.mark.parametrize(("field", "value", "expected"), [
    (("issue", "body"), ["a", "list"], "field `issue.body` is a list, not a string"),
    (("issue", "body"), {"text": "x"}, "field `issue.body` is an object, not a string"),
    (("issue", "title"), 42, "field `issue.title` is the number 42, not a string"),
    (("issue", "title"), None, "field `issue.title` is null"),
    (("issue", "number"), "1", "field `issue.number` is a string, not a positive whole number"),
    (("issue", "number"), True, "field `issue.number` is a boolean, not a positive whole number"),
    (("issue", "number"), 1.5, "field `issue.number` is a number, not a positive whole number"),
    (("issue", "number"), -3, "field `issue.number` is the number -3, not a positive whole number"),
    (("issue", "number"), 2**31, "field `issue.number` is the number 2147483648, not a positive whole number"),
    (("issue", "labels"), "priority::highest", "field `issue.labels` is a string, not a list"),
    (("issue", "labels"), [{"name": ["x"]}], "field `issue.labels[0].name` is missing or not a string"),
    (("issue", "labels"), ["priority::highest"], "field `issue.labels[0].name` is missing or not a string"),
    (("issue", "user", "login"), 7, "field `issue.user.login` is the number 7, not a string"),
    (("issue", "user"), "octocat", "field `issue.user.login` is missing"),
    (("issue", "state"), False, "field `issue.state` is a boolean, not a string"),
    (("issue", "html_url"), [], "field `issue.html_url` is a list, not a string"),
    (("issue", "node_id"), 12, "field `issue.node_id` is the number 12, not a string"),
    (("issue", "reactions", "eyes"), "many", "field `issue.reactions.eyes` is a string, not a count"),
    (("issue", "updated_at"), "9999-12-31T23:59:59-01:00", "field `issue.updated_at` is not a time ('9999-12-31T23:59:59-01:00')"),
    (("issue", "created_at"), "0001-01-01T00:00:00Z", "field `issue.created_at` is not a time ('0001-01-01T00:00:00Z')"),
    (("issue",), [1, 2], "field `issue.number` is missing"),
    (("label", "name"), {"name": "x"}, "field `label.name` is an object, not a string"),
    (("sender", "login"), None, "field `sender.login` is null"),
    (("action",), ["labeled"], "field `action` is a list, not a string"),
    (("repository", "full_name"), 5, "field `repository.full_name` is the number 5, not a string"),
])
def test_a_field_of_the_wrong_json_type_is_named(fake: FakeGitHub, tmp_path: Path, field: tuple[str, ...], value: Any,
                                                  expected: str) -> None:
    data = labeled_on_the_fake(fake)
    node = data
    for key in field[:-1]:
        node = node[key]
    node[field[-1]] = value
    line = one_clean_line(handle(fake, tmp_path, "issues", data))
    assert line.startswith(f"outage-bot: {tmp_path / 'event.json'}: {expected}"), line
    assert line.endswith("(issues payload)" if field == ("action",) else "(issues.labeled payload)"), line
    assert fake.requests == []  # refused before anything was asked of GitHub


@pytest.mark.parametrize(("field", "value", "expected"), [
    (("comment", "id"), "abc", "field `comment.id` is a string, not a positive whole number"),
    (("comment", "id"), [1], "field `comment.id` is a list, not a positive whole number"),
    (("comment", "body"), ["/ack"], "field `comment.body` is a list, not a string"),
    (("comment", "user", "login"), {}, "field `comment.user.login` is an object, not a string"),
])
def test_a_comment_field_of_the_wrong_json_type_is_named(fake: FakeGitHub, tmp_path: Path, field: tuple[str, ...],
                                                          value: Any, expected: str) -> None:
    issue = fake.add_issue("Checkout is down", "x", author="reporter")
    cid = fake.comment(issue.number, "/ack", user="reporter")
    data = webhook(fake, "issue_comment", "created", issue.number, sender="reporter", comment=cid)
    data[field[0]][field[1]] = value if len(field) == 2 else data[field[0]][field[1]]
    if len(field) == 3:
        data[field[0]][field[1]][field[2]] = value
    line = one_clean_line(handle(fake, tmp_path, "issue_comment", data))
    assert line == f"outage-bot: {tmp_path / 'event.json'}: {expected} (issue_comment.created payload)"


def test_an_event_file_that_is_not_utf8_is_located(fake: FakeGitHub, tmp_path: Path) -> None:
    raw = json.dumps(labeled_on_the_fake(fake)).encode().replace(b"Checkout is down", b"Checkout \xe9 down")
    column = raw.index(b"\xe9") + 1
    line = one_clean_line(handle(fake, tmp_path, "issues", raw))
    assert line == f"outage-bot: {tmp_path / 'event.json'}:1:{column}: the event payload is not UTF-8 text (byte 0xe9); save it as UTF-8"


def test_an_event_nested_too_deeply(fake: FakeGitHub, tmp_path: Path) -> None:
    line = one_clean_line(handle(fake, tmp_path, "issues", b"[" * 100_000))
    assert line == f"outage-bot: {tmp_path / 'event.json'}: the event payload is not JSON GitHub sends (nested too deeply)"


# -- payloads that are not this run's: exit 0, one line, nothing done -------------------------------------
@pytest.mark.parametrize("full_name", ["someone-else/outage-demo", "octo-org/other", "octo-org/outage-demo-fork"])
def test_an_event_of_another_repository_is_not_mine(fake: FakeGitHub, tmp_path: Path, full_name: str) -> None:
    data = labeled_on_the_fake(fake)
    data["repository"]["full_name"] = full_name
    line = one_clean_line(handle(fake, tmp_path, "issues", data), 0)
    assert line == f"outage-bot: an event of {full_name}, not of {fake.full_name}: nothing to do"
    assert fake.requests == []
    assert fake.comments_on(1) == []


def test_the_repository_is_compared_case_insensitively(fake: FakeGitHub, tmp_path: Path) -> None:
    data = labeled_on_the_fake(fake)
    data["repository"]["full_name"] = fake.full_name.upper()
    result = handle(fake, tmp_path, "issues", data)
    assert result.exit_code == 0 and "declared: critical incident on #1" in result.output, result.output


def test_an_issues_event_of_a_pull_request_is_not_mine(fake: FakeGitHub, tmp_path: Path) -> None:
    pull = fake.add_issue("Fix checkout", "x", author="contributor", pull_request=True)
    fake.label(pull.number, "priority::highest", actor="contributor")
    data = webhook(fake, "issues", "labeled", pull.number, sender="contributor", label="priority::highest")
    line = one_clean_line(handle(fake, tmp_path, "issues", data), 0)
    assert line == f"outage-bot: issues.labeled on pull request #{pull.number}: outage-bot only handles issues"
    assert fake.requests == []


def test_a_comment_on_a_pull_request_with_a_malformed_issue_is_still_not_mine(tmp_path: Path) -> None:
    data = payload("issue_comment.created")
    data["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/1"}
    data["issue"]["number"] = "one"
    with pytest.raises(NotMine, match=r"comment on pull request #\?"):
        trigger(tmp_path, "issue_comment", data)
