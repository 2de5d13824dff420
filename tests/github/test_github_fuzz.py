"""Fuzz: GitHub Actions events through `outage-bot handle`, against the fake GitHub on 127.0.0.1
(issue #11, item 4). Exit 0, 1 or 2, never a traceback.

Payloads start from GitHub's own examples (tests/fixtures/github/webhooks, variants included),
made about the fake's repository and one of its issues most of the time (so that the run goes
past the payload into the runner) and sometimes given a severity label or a command; then
mutated: fields deleted, given another JSON type or an awkward value. Fully random JSON, under
a random event name, is the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_github import FakeGitHub
from github_helpers import WEBHOOKS
from hypothesis import event, given
from hypothesis import strategies as st

from bot.cli import cli
from tests.fuzzing import FAST, SLOW, json_values, mutated, no_traceback

POLICY = Path(__file__).parents[1] / "fixtures" / "contract_policy.yml"
EXAMPLES = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(WEBHOOKS.glob("**/*.json"))}
EVENT_NAMES = ["issues", "issue_comment", "schedule", "workflow_dispatch", "push", "pull_request", ""]


def _prepared(fake: FakeGitHub, example: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """The example made about the fake: its repository, one of its issues, maybe an incident."""
    payload = json.loads(json.dumps(example))
    if draw(st.integers(0, 9)) > 0 and isinstance(payload.get("repository"), dict):
        payload["repository"]["full_name"] = fake.full_name
    if isinstance(payload.get("issue"), dict):
        payload["issue"]["number"] = draw(st.sampled_from([1, 2, 3, 404]))
        if draw(st.integers(0, 3)) > 0:
            payload["issue"]["labels"] = [{"name": "priority::highest"}]
            if isinstance(payload.get("label"), dict):
                payload["label"]["name"] = "priority::highest"
    if isinstance(payload.get("comment"), dict) and draw(st.booleans()):
        payload["comment"]["body"] = draw(st.sampled_from(["/ack", "/resolve restarted", "/false-positive no", "👀"]))
    return payload


def check(fake: FakeGitHub, tmp_path: Path, data: st.DataObject) -> None:
    if not fake.issues:  # shared by the examples of one test: state piles up on purpose
        for title in ("Checkout is down", "Search is slow", "Login fails"):
            fake.add_issue(title, "x", author="reporter")
    how = data.draw(st.sampled_from(["random", "example", "mutated", "mutated", "mutated"]), label="how")
    if how == "random":
        name = data.draw(st.sampled_from(EVENT_NAMES), label="event name")
        raw = json.dumps(data.draw(json_values, label="payload")).encode()
    else:
        stem = data.draw(st.sampled_from(sorted(EXAMPLES)), label="example")
        name = stem.split(".")[0]
        payload = _prepared(fake, EXAMPLES[stem], data.draw)
        if how == "mutated":
            payload = data.draw(mutated(payload, max_changes=3), label="mutated payload")
        raw = json.dumps(payload).encode()
    path = tmp_path / "event.json"
    path.write_bytes(raw)
    env = fake.env(GITHUB_EVENT_NAME=name, GITHUB_EVENT_PATH=str(path))
    result = CliRunner().invoke(cli, ["handle", "--config", str(POLICY), "--now", "2026-11-09T14:00Z"], env=env)
    no_traceback(result)
    event(f"exit {result.exit_code}" + (" (declared)" if "declared:" in result.output else ""))


@FAST
@given(data=st.data())
def test_github_event_fuzz(fake: FakeGitHub, tmp_path: Path, data: st.DataObject) -> None:
    check(fake, tmp_path, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_github_event_fuzz_long(fake: FakeGitHub, tmp_path: Path, data: st.DataObject) -> None:
    check(fake, tmp_path, data)
