"""Fuzz: GitLab webhook bodies through `outage-bot handle` in a trigger pipeline, against the fake
GitLab on 127.0.0.1 (issue #11, item 4). Exit 0, 1 or 2, never a traceback.

Bodies start from GitLab's three documented examples (tests/fixtures/gitlab/webhooks) and from
bodies derived from them about the fake's issues (tests/gitlab/payloads.py), as a pipeline
trigger stores them in TRIGGER_PAYLOAD; made about the fake's project most of the time; then
mutated: fields deleted, given another JSON type or an awkward value. Fully random JSON is the
rest.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_gitlab import TOKEN, FakeGitLab
from hypothesis import event, given
from hypothesis import strategies as st
from payloads import as_trigger_payload, emoji_hook, issue_hook, note_hook, reference

from bot.cli import cli
from tests.fuzzing import FAST, SLOW, json_values, mutated, no_traceback

POLICY = Path(__file__).resolve().parent.parent / "fixtures" / "gitlab" / "policy.yml"


_BODIES: dict[int, dict[str, dict[str, Any]]] = {}


def _bodies(fake: FakeGitLab) -> dict[str, dict[str, Any]]:
    """GitLab's examples unchanged, and bodies about the fake's issue 1 (a label, a close, /ack,
    /resolve, 👀), made once per fake: hypothesis replays an example while it shrinks, and a
    body made from the fake's state of the moment would differ in shape between replays."""
    if id(fake) not in _BODIES:
        _BODIES.clear()
        fake.add_member("dev1", 30)
        fake.open_issue("Checkout is down", by="alice", description="Every order fails.")
        fake.label(1, "priority::highest", by="alice")
        _BODIES[id(fake)] = {
            **{name: reference(name) for name in ("issue.json", "note.issue.json", "emoji.issue.json")},
            "labeled": issue_hook(fake, 1, "update", by="alice", previous_labels=[]),
            "closed": issue_hook(fake, 1, "close", by="dev1"),
            "ack": note_hook(fake, 1, fake.comment(1, "/ack", by="dev1")),
            "resolve": note_hook(fake, 1, fake.comment(1, "/resolve restarted the pods", by="dev1")),
            "eyes": emoji_hook(fake, 1, fake.award(1, "eyes", by="dev1")),
        }
    return _BODIES[id(fake)]


def check(fake: FakeGitLab, tmp_path: Path, data: st.DataObject) -> None:
    bodies = _bodies(fake)  # the fake is shared by the examples of one test: state piles up on purpose
    how = data.draw(st.sampled_from(["random", "example", "mutated", "mutated", "mutated"]), label="how")
    if how == "random":
        body: Any = data.draw(json_values, label="body")
    else:
        body = copy.deepcopy(bodies[data.draw(st.sampled_from(sorted(bodies)), label="body")])
        if data.draw(st.integers(0, 9)) > 0:  # about this project, mostly
            body["project_id"] = fake.project_id
            if isinstance(body.get("project"), dict):
                body["project"].update(id=fake.project_id, path_with_namespace=fake.project_path)
        body = as_trigger_payload(body, project_id=fake.project_id)
        if how == "mutated":
            body = data.draw(mutated(body, max_changes=3), label="mutated body")
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    env = {"GITLAB_CI": "true", "CI_API_V4_URL": fake.api_url, "CI_PROJECT_ID": str(fake.project_id),
           "CI_PROJECT_PATH": fake.project_path, "CI_PIPELINE_SOURCE": "trigger", "TRIGGER_PAYLOAD": str(path),
           "GITLAB_TOKEN": TOKEN, "CI_PIPELINE_ID": "1001"}
    result = CliRunner().invoke(cli, ["handle", "--config", str(POLICY), "--now", "2026-11-09T15:00Z"], env=env)
    no_traceback(result)
    event(f"exit {result.exit_code}" + (" (declared)" if "declared:" in result.output else ""))


@FAST
@given(data=st.data())
def test_gitlab_event_fuzz(fake: FakeGitLab, tmp_path: Path, data: st.DataObject) -> None:
    check(fake, tmp_path, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_gitlab_event_fuzz_long(fake: FakeGitLab, tmp_path: Path, data: st.DataObject) -> None:
    check(fake, tmp_path, data)
