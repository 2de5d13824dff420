"""Webhook bodies for tests: GitLab's three documented examples, and bodies DERIVED from them.

`reference(name)` is GitLab's own example, unchanged (tests/fixtures/gitlab/webhooks/). The
builders below are derived: each starts from the example of its kind and overwrites the
fields that describe what happened in the fake (the issue, the labels before and after, the
note, the award, who did it), keeping every other field of GitLab's shape. Dates follow the
examples: ISO 8601 in an issue event's `object_attributes`, Ruby's "2017-09-15 16:52:00 UTC" in
`changes.updated_at` and in note and emoji events.

`as_trigger_payload` derives what a pipeline trigger stores in TRIGGER_PAYLOAD for a webhook
delivery: the body's keys plus the trigger's `ref` and `id` (from the URL) and `variables`
(GitLab's Ci::PipelineTriggerService saves `params.except(:token)`).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fake_gitlab import FIXTURES, FakeGitLab

from bot.adapters.gitlab.timestamps import parse_time


def reference(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "webhooks" / name).read_text(encoding="utf-8"))


def ruby_time(moment: datetime | str) -> str:
    value = parse_time(moment) if isinstance(moment, str) else moment
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(moment: str) -> str:
    return parse_time(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_trigger_payload(body: dict[str, Any], *, ref: str = "main", project_id: int = 14) -> dict[str, Any]:
    """Derived: the trigger's own parameters merged into the webhook body."""
    return {**copy.deepcopy(body), "ref": ref, "id": str(project_id), "variables": {}}


def write(tmp: Path, body: dict[str, Any], name: str = "payload.json") -> str:
    path = tmp / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


# -- derived from GitLab's examples, describing the fake's state -----------------------------------
def _project(fake: FakeGitLab, base: dict[str, Any]) -> dict[str, Any]:
    project = copy.deepcopy(base)
    project.update({"id": fake.project_id, "web_url": fake.web, "path_with_namespace": fake.project_path,
                    "homepage": fake.web, "name": fake.project_path.split("/")[-1]})
    return project


def _user(fake: FakeGitLab, username: str, base: dict[str, Any]) -> dict[str, Any]:
    user = copy.deepcopy(base)
    data = fake.user(username)
    user.update({"id": data["id"], "name": data["name"], "username": username})
    return user


def _label_objects(fake: FakeGitLab, names: list[str], template: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name in names:
        label = copy.deepcopy(template)
        known = fake.labels.get(name, {"id": 0, "color": "#6699cc"})
        label.update({"id": known["id"], "title": name, "color": known["color"], "project_id": fake.project_id,
                      "description": None})
        out.append(label)
    return out


def _hook_issue(fake: FakeGitLab, iid: int, base: dict[str, Any], label_template: dict[str, Any]) -> dict[str, Any]:
    """An issue as note and emoji bodies carry it (Issue#hook_attrs)."""
    issue = fake.issue(iid)
    out = copy.deepcopy(base)
    out.update({
        "id": issue["id"], "iid": iid, "title": issue["title"], "description": issue["description"],
        "state": issue["state"], "confidential": issue["confidential"], "project_id": fake.project_id,
        "author_id": fake.user(issue["author"])["id"], "created_at": ruby_time(issue["created_at"]),
        "updated_at": ruby_time(issue["updated_at"]),
        "labels": _label_objects(fake, list(issue["labels"]), label_template),
    })
    if "url" in out:
        out["url"] = f"{fake.web}/-/issues/{iid}"
    return out


def issue_hook(fake: FakeGitLab, iid: int, action: str, *, by: str, previous_labels: list[str] | None = None) -> dict[str, Any]:
    """Derived from issue.json. `previous_labels` given: a `changes.labels` block from them to
    the issue's labels now (GitLab sends one for any label change)."""
    body = reference("issue.json")
    issue = fake.issue(iid)
    template = body["labels"][0]
    labels = _label_objects(fake, list(issue["labels"]), template)
    body["user"] = _user(fake, by, body["user"])
    body["project"] = _project(fake, body["project"])
    attrs = body["object_attributes"]
    attrs.update({
        "id": issue["id"], "iid": iid, "title": issue["title"], "description": issue["description"],
        "project_id": fake.project_id, "author_id": fake.user(issue["author"])["id"],
        "created_at": iso_time(issue["created_at"]), "updated_at": iso_time(issue["updated_at"]),
        "state": issue["state"], "action": action, "confidential": issue["confidential"],
        "url": f"{fake.web}/-/issues/{iid}", "labels": labels, "assignee_ids": [], "assignee_id": None,
        "type": "Incident" if issue["issue_type"] == "incident" else "Issue",
    })
    body["labels"] = copy.deepcopy(labels)
    body.pop("assignees", None)
    body.pop("assignee", None)
    body["changes"] = {"updated_at": {"previous": ruby_time(issue["created_at"]), "current": ruby_time(issue["updated_at"])}}
    if previous_labels is not None:
        body["changes"]["labels"] = {"previous": _label_objects(fake, previous_labels, template), "current": copy.deepcopy(labels)}
    if action == "close":
        body["changes"]["state_id"] = {"previous": 1, "current": 2}
    body["event_type"] = "confidential_issue" if issue["confidential"] else "issue"
    return body


def note_hook(fake: FakeGitLab, iid: int, note: dict[str, Any]) -> dict[str, Any]:
    """Derived from note.issue.json: `note` is a note of the fake's (fake.comment(...))."""
    body = reference("note.issue.json")
    label_template = body["issue"]["labels"][1]
    body["user"] = _user(fake, note["author"], body["user"])
    body["project_id"] = fake.project_id
    body["project"] = _project(fake, body["project"])
    attrs = body["object_attributes"]
    attrs.update({
        "id": note["id"], "note": note["body"], "noteable_type": "Issue", "author_id": fake.user(note["author"])["id"],
        "created_at": ruby_time(note["created_at"]), "updated_at": ruby_time(note["updated_at"]),
        "project_id": fake.project_id, "noteable_id": fake.issue(iid)["id"], "system": note["system"],
        "action": "create", "url": f"{fake.web}/-/issues/{iid}#note_{note['id']}",
    })
    body["issue"] = _hook_issue(fake, iid, body["issue"], label_template)
    body["event_type"] = "confidential_note" if fake.issue(iid)["confidential"] else "note"
    return body


def emoji_hook(fake: FakeGitLab, iid: int, award: dict[str, Any], *, action: str = "award",
               on_note: dict[str, Any] | None = None) -> dict[str, Any]:
    """Derived from emoji.issue.json. GitLab's example is an award on a comment; with
    `on_note=None` this is an award on the issue itself (`awardable_type: Issue`, no `note`
    key), the shape GitLab's Emoji data builder gives an issue awardable."""
    body = reference("emoji.issue.json")
    label_template = reference("note.issue.json")["issue"]["labels"][1]
    body["user"] = _user(fake, award["user"], body["user"])
    body["event_type"] = action
    body["project_id"] = fake.project_id
    body["project"] = _project(fake, body["project"])
    attrs = body["object_attributes"]
    attrs.update({
        "user_id": fake.user(award["user"])["id"], "created_at": ruby_time(award["created_at"]), "id": award["id"],
        "name": award["name"], "updated_at": ruby_time(award["created_at"]), "action": action,
    })
    if on_note is None:
        attrs.update({"awardable_type": "Issue", "awardable_id": fake.issue(iid)["id"],
                      "awarded_on_url": f"{fake.web}/-/issues/{iid}"})
        body.pop("note")
    else:
        attrs.update({"awardable_type": "Note", "awardable_id": on_note["id"],
                      "awarded_on_url": f"{fake.web}/-/issues/{iid}#note_{on_note['id']}"})
        body["note"].update({
            "id": on_note["id"], "note": on_note["body"], "description": on_note["body"],
            "author_id": fake.user(on_note["author"])["id"], "noteable_id": fake.issue(iid)["id"],
            "created_at": ruby_time(on_note["created_at"]), "updated_at": ruby_time(on_note["updated_at"]),
            "url": f"{fake.web}/-/issues/{iid}#note_{on_note['id']}", "project_id": fake.project_id,
        })
    body["issue"] = _hook_issue(fake, iid, body["issue"], label_template)
    return body
