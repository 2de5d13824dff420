"""GitHub Actions' event file -> Event, with GitHub's own example payloads (tests/fixtures/github)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from github_helpers import WEBHOOKS, payload

from bot.adapters.github import forge_from_env, read_trigger
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
    assert str(caught.value).startswith(f"{tmp_path / 'event.json'}: the event payload is not JSON")


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
