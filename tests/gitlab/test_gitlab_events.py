"""Webhook bodies (as a pipeline trigger delivers them) into the forge-neutral Event.

GitLab's own examples are used unchanged where the test says `reference(...)`; every other
body is derived from them, and the test says what it changed.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_gitlab import TOKEN, FakeGitLab
from hypothesis import given
from hypothesis import strategies as st
from payloads import (
    as_trigger_payload,
    emoji_hook,
    issue_hook,
    note_hook,
    reference,
    write,
)

from bot.adapters.gitlab import GitLabForge, event_from_payload, read_trigger
from bot.cli import cli
from bot.errors import NotMine, UserError
from bot.events import EventKind


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# -- GitLab's three examples, unchanged --------------------------------------------------------------
def test_reference_issue_event_opened_with_labels() -> None:
    event = event_from_payload(reference("issue.json"))
    assert event.kind == EventKind.OPENED
    assert event.actor == "root"
    assert event.at == utc("2013-12-03T17:15:43")  # object_attributes.updated_at, ISO
    # labels AFTER the change: changes.labels.current, not the top-level list
    assert event.issue.labels == ("Platform",)
    assert event.labels_added == ("Platform",) and event.labels_removed == ("API",)
    issue = event.issue
    assert (issue.number, issue.state, issue.title) == (23, "open", "New API: create/update/delete file")
    assert issue.url == "http://example.com/diaspora/issues/23"
    assert issue.body == "Create new API for manipulations with repository"
    assert issue.author == ""  # author_id 51 is not the acting user (1): the body does not name them
    assert issue.confidential is False


def test_reference_note_event_is_a_comment() -> None:
    event = event_from_payload(reference("note.issue.json"))
    assert event.kind == EventKind.COMMENTED
    assert event.actor == "root"
    assert event.at == utc("2015-05-17T17:06:40")  # "2015-05-17 17:06:40 UTC"
    assert event.comment is not None
    assert (event.comment.id, event.comment.body, event.comment.author) == (1241, "Hello world", "root")
    issue = event.issue
    assert (issue.number, issue.state, issue.labels) == (17, "closed", ("Afterpod", "Element"))
    # the note body's issue has no url: it is the note's url without the #note_ fragment
    assert issue.url == "http://example.com/gitlab-org/gitlab-test/issues/17"
    assert issue.author == "root"  # author_id 1 is the acting user


def test_reference_emoji_event_on_a_comment() -> None:
    event = event_from_payload(reference("emoji.issue.json"))
    assert event.kind == EventKind.REACTED
    assert event.emoji == "+1"  # GitLab's thumbsup, in the core's names
    assert event.actor == "root"
    assert event.at == utc("2023-07-04T20:44:11")
    assert event.issue.number == 42 and event.issue.url == "http://example.com/flightjs/Flight/-/issues/42"
    assert event.comment is not None and (event.comment.id, event.comment.body) == (363, "Testing 123")


# -- derived issue events ------------------------------------------------------------------------------
def issue_body(action: str, previous: list[str] | None, current: list[str] | None) -> dict[str, Any]:
    """Derived from issue.json: another action, and the labels block rewritten."""
    body = reference("issue.json")
    body["object_attributes"]["action"] = action
    template = body["labels"][0]
    if previous is None:
        del body["changes"]["labels"]
    else:
        body["changes"]["labels"]["previous"] = [{**template, "title": t} for t in previous]
        body["changes"]["labels"]["current"] = [{**template, "title": t} for t in current or []]
    if current is not None:
        body["labels"] = [{**template, "title": t} for t in current]
    return body


@pytest.mark.parametrize(
    ("action", "previous", "current", "kind", "label", "added", "removed"),
    [
        ("update", ["bug"], ["bug", "priority::highest"], EventKind.LABELED, "priority::highest", ("priority::highest",), ()),
        ("update", ["bug", "priority::highest"], ["bug"], EventKind.UNLABELED, "priority::highest", (), ("priority::highest",)),
        # a scoped swap (GitLab removed the old one itself): a label added and one removed
        ("update", ["priority::highest"], ["priority::higher"], EventKind.LABELED, "priority::higher",
         ("priority::higher",), ("priority::highest",)),
        ("update", ["a", "b"], ["c", "d"], EventKind.LABELED, "c", ("c", "d"), ("a", "b")),
        ("update", None, ["bug"], EventKind.EDITED, None, (), ()),
        ("close", None, ["priority::highest"], EventKind.CLOSED, None, (), ()),
        ("reopen", None, ["priority::highest"], EventKind.REOPENED, None, (), ()),
        # opened with labels and no changes block: every label is new
        ("open", None, ["P0", "outage"], EventKind.OPENED, None, ("P0", "outage"), ()),
    ],
)
def test_issue_actions(action: str, previous: list[str] | None, current: list[str] | None, kind: EventKind,
                       label: str | None, added: tuple[str, ...], removed: tuple[str, ...]) -> None:
    event = event_from_payload(issue_body(action, previous, current))
    assert event.kind == kind
    assert event.label == label
    assert event.labels_added == added and event.labels_removed == removed
    assert event.issue.labels == tuple(current or ())
    assert event.added() == added


def test_issue_assigned() -> None:
    body = issue_body("update", None, ["bug"])  # derived: an assignee change only
    body["changes"]["assignees"] = {"previous": [], "current": [{"username": "user1"}]}
    assert event_from_payload(body).kind == EventKind.ASSIGNED


def test_confidential_issue_event() -> None:
    body = issue_body("update", ["x"], ["x", "security"])  # derived: event_type of a confidential issue
    body["event_type"] = "confidential_issue"
    assert event_from_payload(body).issue.confidential is True


def test_unknown_issue_action_is_not_mine() -> None:
    with pytest.raises(NotMine):
        event_from_payload(issue_body("delete", None, None))


def test_work_item_events() -> None:
    body = issue_body("update", [], ["P0"])  # derived: newer instances call it a work item
    body["object_kind"] = "work_item"
    assert event_from_payload(body).kind == EventKind.LABELED
    body["object_attributes"]["type"] = "Task"
    with pytest.raises(NotMine):
        event_from_payload(body)


@given(st.lists(st.sampled_from(["P0", "P1", "bug", "a::b", "a::c", "x"]), unique=True),
       st.lists(st.sampled_from(["P0", "P1", "bug", "a::b", "a::c", "x"]), unique=True))
def test_label_changes_are_the_difference(previous: list[str], current: list[str]) -> None:
    event = event_from_payload(issue_body("update", previous, current))
    assert set(event.labels_added) == set(current) - set(previous)
    assert set(event.labels_removed) == set(previous) - set(current)
    assert event.issue.labels == tuple(current)
    if event.labels_added:
        assert event.kind == EventKind.LABELED and event.label == event.labels_added[0]
    elif event.labels_removed:
        assert event.kind == EventKind.UNLABELED and event.label == event.labels_removed[0]


# -- derived note and emoji events --------------------------------------------------------------------
def test_note_without_action_field_is_a_creation() -> None:
    body = reference("note.issue.json")
    del body["object_attributes"]["action"]  # derived: GitLab before 16.11 sent no action
    assert event_from_payload(body).kind == EventKind.COMMENTED


@pytest.mark.parametrize("change", [
    {"noteable_type": "MergeRequest"},
    {"system": True},
    {"action": "update"},
])
def test_notes_outage_bot_ignores(change: dict[str, Any]) -> None:
    body = reference("note.issue.json")
    body["object_attributes"].update(change)  # derived: one field changed
    with pytest.raises(NotMine):
        event_from_payload(body)


def test_confidential_note_marks_the_issue_confidential() -> None:
    body = reference("note.issue.json")
    body["event_type"] = "confidential_note"  # derived
    assert event_from_payload(body).issue.confidential is True


def test_emoji_revoked() -> None:
    body = reference("emoji.issue.json")
    body["event_type"] = "revoke"  # derived
    body["object_attributes"]["action"] = "revoke"
    assert event_from_payload(body).kind == EventKind.UNREACTED


def test_emoji_on_the_issue_itself() -> None:
    body = reference("emoji.issue.json")  # derived: awardable_type Issue, no `note`
    body["object_attributes"].update({"awardable_type": "Issue", "awardable_id": 635, "name": "eyes",
                                      "awarded_on_url": "http://example.com/flightjs/Flight/-/issues/42"})
    del body["note"]
    event = event_from_payload(body)
    assert (event.kind, event.emoji, event.comment, event.issue.number) == (EventKind.REACTED, "eyes", None, 42)


def test_emoji_on_a_merge_request_is_not_mine() -> None:
    body = reference("emoji.issue.json")
    body["object_attributes"]["awardable_type"] = "MergeRequest"  # derived
    with pytest.raises(NotMine):
        event_from_payload(body)


@pytest.mark.parametrize("kind", ["push", "merge_request", "pipeline", "wiki_page"])
def test_other_object_kinds_are_not_mine(kind: str) -> None:
    with pytest.raises(NotMine, match=kind):
        event_from_payload({"object_kind": kind})


# -- malformed bodies: a UserError naming the field ---------------------------------------------------
@pytest.mark.parametrize(("name", "path", "value", "field"), [
    ("issue.json", ["object_attributes"], None, "object_attributes"),
    ("issue.json", ["object_attributes", "action"], None, "object_attributes.action"),
    ("issue.json", ["object_attributes", "iid"], "twenty-three", "object_attributes.iid"),
    ("issue.json", ["object_attributes", "updated_at"], "yesterday", "object_attributes.updated_at"),
    ("issue.json", ["user"], None, "user.username"),
    ("note.issue.json", ["issue"], None, "`issue`"),
    ("note.issue.json", ["object_attributes", "created_at"], 12, "object_attributes.created_at"),
    ("emoji.issue.json", ["object_attributes", "name"], "", "object_attributes.name"),
    ("emoji.issue.json", ["note"], None, "`note`"),
])
def test_malformed_bodies_name_the_field(name: str, path: list[str], value: Any, field: str) -> None:
    body = reference(name)  # derived: one field broken
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(UserError, match=field.replace(".", r"\.")):
        event_from_payload(body)


def test_no_object_kind() -> None:
    with pytest.raises(UserError, match="object_kind"):
        event_from_payload({"object_attributes": {}})


# -- read_trigger: the pipeline's environment ---------------------------------------------------------
@pytest.mark.parametrize("source", ["schedule", "web", "api"])
def test_scheduled_and_manual_pipelines_tick(source: str) -> None:
    assert read_trigger({"CI_PIPELINE_SOURCE": source}, None, None) is None


@pytest.mark.parametrize("source", ["push", "merge_request_event", "pipeline", "parent_pipeline"])
def test_other_pipelines_are_not_mine(source: str) -> None:
    with pytest.raises(NotMine, match=source):
        read_trigger({"CI_PIPELINE_SOURCE": source}, None, None)


def test_no_pipeline_source() -> None:
    with pytest.raises(UserError, match="CI_PIPELINE_SOURCE"):
        read_trigger({}, None, None)


def test_trigger_without_payload_variable() -> None:
    with pytest.raises(UserError, match="TRIGGER_PAYLOAD"):
        read_trigger({"CI_PIPELINE_SOURCE": "trigger"}, None, None)


def test_trigger_payload_file(tmp_path: Path) -> None:
    path = write(tmp_path, as_trigger_payload(reference("note.issue.json")))
    event = read_trigger({"CI_PIPELINE_SOURCE": "trigger", "TRIGGER_PAYLOAD": path, "CI_PIPELINE_ID": "991"}, None, None)
    assert event is not None and event.kind == EventKind.COMMENTED and event.delivery == "991"


def test_trigger_called_by_hand_ticks(tmp_path: Path) -> None:
    # what TRIGGER_PAYLOAD holds after `curl -X POST .../trigger/pipeline -F token=... -F ref=main`
    path = write(tmp_path, {"ref": "main", "id": "14", "variables": {}})
    assert read_trigger({"CI_PIPELINE_SOURCE": "trigger", "TRIGGER_PAYLOAD": path}, None, None) is None


def test_event_file_wins_over_the_pipeline_source(tmp_path: Path) -> None:
    path = write(tmp_path, reference("issue.json"))
    event = read_trigger({"CI_PIPELINE_SOURCE": "schedule"}, None, path)
    assert event is not None and event.kind == EventKind.OPENED


def test_event_file_without_object_kind_is_malformed(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="object_kind"):
        read_trigger({}, None, write(tmp_path, {"ref": "main"}))


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "JSON list"),
])
def test_unreadable_payloads(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "payload.json"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        read_trigger({"CI_PIPELINE_SOURCE": "trigger", "TRIGGER_PAYLOAD": str(path)}, None, None)


def test_missing_payload_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="TRIGGER_PAYLOAD: cannot read"):
        read_trigger({"CI_PIPELINE_SOURCE": "trigger", "TRIGGER_PAYLOAD": str(tmp_path / "gone.json")}, None, None)


# -- bodies built from the fake's state (derived), and the author the body names by id only ------------
def test_bot_authored_issue_is_recognised_through_the_token(fake: FakeGitLab, forge: GitLabForge) -> None:
    issue = fake.open_issue("Outage: checkout", by=fake.bot, labels=["outage", "incident::active"])
    before, _ = fake.label(issue["iid"], "incident::acknowledged", by="alice")
    event = event_from_payload(issue_hook(fake, issue["iid"], "update", by="alice", previous_labels=before), forge)
    assert event.issue.author == fake.bot  # author_id is the token's user: asked once (GET /user)
    assert [str(r) for r in fake.requests] == ["GET /user"]
    # GitLab's scoped labels: incident::acknowledged replaced incident::active
    assert event.labels_added == ("incident::acknowledged",) and event.labels_removed == ("incident::active",)


def test_derived_note_and_emoji_bodies_round_trip(fake: FakeGitLab) -> None:
    issue = fake.open_issue("Checkout down", by="alice", labels=["P0"])
    note = fake.comment(issue["iid"], "/ack on it", by="bob")
    event = event_from_payload(note_hook(fake, issue["iid"], note))
    assert (event.kind, event.actor, event.comment and event.comment.body) == (EventKind.COMMENTED, "bob", "/ack on it")
    award = fake.award(issue["iid"], "eyes", by="carol")
    event = event_from_payload(emoji_hook(fake, issue["iid"], award))
    assert (event.kind, event.actor, event.emoji, event.issue.labels) == (EventKind.REACTED, "carol", "eyes", ("P0",))
    event = event_from_payload(emoji_hook(fake, issue["iid"], award, on_note=note))
    # the note's author is named by id only, and is neither the reactor nor the bot
    assert event.comment is not None and (event.comment.id, event.comment.author) == (note["id"], "")


def test_trigger_payload_keeps_the_webhook_body() -> None:
    body = reference("issue.json")
    wrapped = as_trigger_payload(body)
    assert wrapped["ref"] == "main" and wrapped["id"] == "14"
    assert event_from_payload(wrapped) == event_from_payload(copy.deepcopy(body))
    assert json.loads(json.dumps(wrapped))["object_kind"] == "issue"


# -- through the command, as a trigger pipeline runs it, against the fake GitLab ------------------------
POLICY = Path(__file__).resolve().parent.parent / "fixtures" / "gitlab" / "policy.yml"


def handle(fake: FakeGitLab, tmp_path: Path, body: dict[str, Any] | bytes) -> Result:
    path = tmp_path / "payload.json"
    path.write_bytes(body if isinstance(body, bytes) else json.dumps(as_trigger_payload(body, project_id=fake.project_id)).encode())
    env = {"GITLAB_CI": "true", "CI_API_V4_URL": fake.api_url, "CI_PROJECT_ID": str(fake.project_id),
           "CI_PROJECT_PATH": fake.project_path, "CI_PIPELINE_SOURCE": "trigger", "TRIGGER_PAYLOAD": str(path),
           "GITLAB_TOKEN": TOKEN, "CI_PIPELINE_ID": "1001"}
    return CliRunner().invoke(cli, ["handle", "--config", str(POLICY), "--now", "2026-11-09T15:00Z"], env=env)


def one_clean_line(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def labeled(fake: FakeGitLab) -> dict[str, Any]:
    issue = fake.open_issue("Checkout is down", by="alice", description="Every order fails.")
    before, _ = fake.label(issue["iid"], "priority::highest", by="alice")
    return issue_hook(fake, issue["iid"], "update", by="alice", previous_labels=before)


def commented(fake: FakeGitLab) -> dict[str, Any]:
    issue = fake.open_issue("Checkout is down", by="alice", labels=["priority::highest"])
    return note_hook(fake, issue["iid"], fake.comment(issue["iid"], "/ack", by="alice"))


def reacted(fake: FakeGitLab) -> dict[str, Any]:
    issue = fake.open_issue("Checkout is down", by="alice", labels=["priority::highest"])
    return emoji_hook(fake, issue["iid"], fake.award(issue["iid"], "eyes", by="alice"))


def set_field(body: dict[str, Any], field: str, value: Any) -> None:
    *parents, last = field.split(".")
    node = body
    for key in parents:
        node = node[key]
    node[last] = value


@pytest.mark.parametrize(("make", "field", "value", "expected"), [
    (labeled, "object_attributes.description", ["a", "list"], "`object_attributes.description` is ['a', 'list'] (expected: a text)"),
    (labeled, "object_attributes.title", {"t": 1}, "`object_attributes.title` is {'t': 1} (expected: a text)"),
    (labeled, "object_attributes.iid", True, "`object_attributes.iid` is True (expected: a positive number)"),
    (labeled, "object_attributes.iid", "²", "`object_attributes.iid` is '²' (expected: a positive number)"),
    (labeled, "object_attributes.iid", 0, "`object_attributes.iid` is 0 (expected: a positive number)"),
    (labeled, "object_attributes.state", 3, "`object_attributes.state` is 3 (expected: a text)"),
    (labeled, "object_attributes.url", [], "`object_attributes.url` is [] (expected: a text)"),
    (labeled, "object_attributes.confidential", "no", "`object_attributes.confidential` is 'no' (expected: true or false)"),
    (labeled, "object_attributes.author_id", "51", "`object_attributes.author_id` is '51' (expected: a number)"),
    (labeled, "object_attributes.updated_at", "9999-12-31T23:59:59-01:00", "`object_attributes.updated_at` is '9999-12-31T23:59:59-01:00'"),
    (labeled, "changes.labels.previous", "bug", "`changes.labels.previous` is 'bug' (expected: a list of labels)"),
    (labeled, "changes.labels.current", [{"title": 5}], "`changes.labels.current[0]` is {'title': 5} (expected: a label with a `title`)"),
    (labeled, "project.id", [14], "`project.id` is [14] (expected: a number)"),
    (commented, "object_attributes.note", ["/ack"], "`object_attributes.note` is ['/ack'] (expected: a text)"),
    (commented, "object_attributes.action", 1, "`object_attributes.action` is 1 (expected: a text)"),
    (commented, "issue.title", 12.5, "`issue.title` is 12.5 (expected: a text)"),
    (commented, "issue.labels", {"title": "P0"}, "`issue.labels` is {'title': 'P0'} (expected: a list of labels)"),
    (reacted, "issue.description", False, "`issue.description` is False (expected: a text)"),
    (reacted, "issue.iid", "abc", "`issue.iid` is 'abc' (expected: a positive number)"),
    (reacted, "object_attributes.awarded_on_url", 7, "`object_attributes.awarded_on_url` is 7 (expected: a text)"),
])
def test_a_field_of_the_wrong_json_type_is_named(fake: FakeGitLab, tmp_path: Path, make: Any, field: str, value: Any,
                                                  expected: str) -> None:
    body = make(fake)
    set_field(body, field, value)
    fake.reset_requests()
    line = one_clean_line(handle(fake, tmp_path, body))
    assert line.startswith(f"outage-bot: the webhook body's {expected}"), line
    assert fake.requests == []  # refused before anything was asked of GitLab


def test_a_user_that_is_not_text_is_named(fake: FakeGitLab, tmp_path: Path) -> None:
    body = labeled(fake)
    body["user"]["username"] = ["alice"]
    assert one_clean_line(handle(fake, tmp_path, body)) == "outage-bot: the webhook body has no `user.username` (who caused the event)"


def test_a_payload_that_is_not_utf8_is_located(fake: FakeGitLab, tmp_path: Path) -> None:
    raw = json.dumps(as_trigger_payload(labeled(fake))).encode().replace(b"Checkout is down", b"Checkout \xe9 down")
    column = raw.index(b"\xe9") + 1
    line = one_clean_line(handle(fake, tmp_path, raw))
    assert line == (f"outage-bot: {tmp_path / 'payload.json'}:1:{column}: the webhook body (TRIGGER_PAYLOAD) is not UTF-8 text"
                    " (byte 0xe9); save it as UTF-8")


def test_a_payload_nested_too_deeply(fake: FakeGitLab, tmp_path: Path) -> None:
    line = one_clean_line(handle(fake, tmp_path, b"[" * 100_000))
    assert line == f"outage-bot: TRIGGER_PAYLOAD: {tmp_path / 'payload.json'} is not a webhook body GitLab sends (nested too deeply)"


# -- bodies that are not this job's: exit 0, one line, nothing done ---------------------------------------
@pytest.mark.parametrize(("make", "field", "value", "expected"), [
    (labeled, "project.id", 99, "an event of project 99, not of this project (14): nothing to do"),
    (labeled, "project.path_with_namespace", "acme/other", "an event of acme/other, not of acme/shop: nothing to do"),
    (commented, "project_id", 15, "an event of project 15, not of this project (14): nothing to do"),
    (reacted, "project.id", "15", "an event of project 15, not of this project (14): nothing to do"),
])
def test_an_event_of_another_project_is_not_mine(fake: FakeGitLab, tmp_path: Path, make: Any, field: str, value: Any,
                                                 expected: str) -> None:
    body = make(fake)
    set_field(body, field, value)
    fake.reset_requests()
    assert one_clean_line(handle(fake, tmp_path, body), 0) == f"outage-bot: {expected}"
    assert fake.requests == []


def test_the_project_path_is_compared_case_insensitively(fake: FakeGitLab, tmp_path: Path) -> None:
    body = labeled(fake)
    body["project"]["path_with_namespace"] = fake.project_path.upper()
    result = handle(fake, tmp_path, body)
    assert result.exit_code == 0 and "declared: critical incident on #1" in result.output, result.output


def test_a_merge_request_event_is_not_mine(fake: FakeGitLab, tmp_path: Path) -> None:
    body = labeled(fake)
    body["object_kind"] = body["event_type"] = "merge_request"
    fake.reset_requests()
    line = one_clean_line(handle(fake, tmp_path, body), 0)
    assert line == "outage-bot: GitLab merge_request events are not outage-bot's (it reads issue, note and emoji events)"
    assert fake.requests == []


def test_a_comment_on_a_merge_request_is_not_mine(fake: FakeGitLab, tmp_path: Path) -> None:
    body = commented(fake)
    body["object_attributes"]["noteable_type"] = "MergeRequest"
    body["merge_request"] = body.pop("issue")
    fake.reset_requests()
    line = one_clean_line(handle(fake, tmp_path, body), 0)
    assert line == "outage-bot: a comment on a MergeRequest: outage-bot reads issue comments only"
    assert fake.requests == []


def test_an_emoji_on_a_merge_request_comment_is_not_mine(fake: FakeGitLab, tmp_path: Path) -> None:
    issue = fake.open_issue("Checkout is down", by="alice", labels=["priority::highest"])
    note = fake.comment(issue["iid"], "looks good", by="alice")
    body = emoji_hook(fake, issue["iid"], fake.award(issue["iid"], "eyes", by="alice"), on_note=note)
    body["note"]["noteable_type"] = "MergeRequest"
    line = one_clean_line(handle(fake, tmp_path, body), 0)
    assert line == "outage-bot: an emoji on a comment on a MergeRequest: nothing to do"
