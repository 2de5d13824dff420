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
from fake_gitlab import FakeGitLab
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
