"""Issue 15, part 3: runbooks by label, kind and severity (the most specific wins), a kind's
description where responders read, and the regression reflex: a `regression: true` kind's
alert names the last release before the incident started and the last known good before it,
from one request to the forge's releases, made only for such kinds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import load
from bot.events import EventKind
from bot.planner import regression_of
from bot.records import Release
from tests.core_helpers import T0, Sandbox

TEAM = Path(__file__).parent / "fixtures" / "team_policy.yml"


def policy_file(tmp: Path, **changes: Any) -> Path:
    data = yaml.safe_load(TEAM.read_text(encoding="utf-8"))
    data["severities"]["critical"]["runbook"] = "https://runbooks.example/critical"
    data["kinds"]["regression"] = {"labels": ["regression"], "description": "Revert to the last known good version first.",
                                   "regression": True, "runbook": "https://runbooks.example/revert"}
    data.update(changes)
    path = tmp / "policy.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("labels", "expected"), [
    (("priority::highest",), "https://runbooks.example/critical"),  # the severity's
    (("priority::highest", "regression"), "https://runbooks.example/revert"),  # the kind's, more specific
    (("priority::highest", "regression", "area::checkout"), "https://runbooks.example/checkout"),  # by label, most specific
])
def test_the_most_specific_runbook_wins(tmp_path: Path, labels: tuple[str, ...], expected: str) -> None:
    policy, _ = load(policy_file(tmp_path, runbooks={"area::checkout": "https://runbooks.example/checkout"}))
    assert policy.runbook_for(labels, "critical", policy.kind_of(labels)) == expected


R = [Release("v1.2.9", "v1.2.9", T0 - timedelta(days=9)), Release("v1.3.0", "v1.3.0", T0 - timedelta(hours=2)),
     Release("v1.3.1", "v1.3.1", T0 + timedelta(hours=1))]  # published after it started: not a suspect


@pytest.mark.parametrize(("releases", "suspect", "good"), [
    (R, "v1.3.0", "v1.2.9"),
    (R[:2][::-1], "v1.3.0", "v1.2.9"),  # any order in
    (R[1:2], "v1.3.0", None),  # only one before it: no last known good to name
    (R[2:], None, None),  # none before it
    ([], None, None),
])
def test_regression_names_the_suspect_and_the_last_known_good(releases: list[Release], suspect: str | None, good: str | None) -> None:
    found = regression_of(tuple(releases), T0)
    if suspect is None:
        assert found is None
        return
    assert found is not None and str(found["suspect"]["tag"]) == suspect
    assert (str(found["good"]["tag"]) if found["good"] else None) == good


def declare(box: Sandbox, labels: tuple[str, ...]) -> None:
    box.open_issue(labels=labels)
    box.forge.requests = 0
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))


def test_a_regression_alert_names_the_releases_and_the_kind_says_what_to_do(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box", policy_file(tmp_path))
    for release in R:
        box.forge.add_release(release.tag, release.at)
    declare(box, ("priority::highest", "regression"))
    tag = box.forge.list_comments(1)[0].body
    assert "Last release before it started:** `v1.3.0`" in tag and "last known good:** `v1.2.9`" in tag
    assert "Revert to the last known good version first." in tag and "https://runbooks.example/revert" in tag
    [alert] = [m for m in box.chat.messages() if m["channel"] == "alerts" and m["thread"] is None]
    assert "Last release before it started: v1.3.0" in alert["body"] and "Last known good: v1.2.9" in alert["body"]
    users = [m for m in box.chat.messages() if m["channel"] == "users"]
    assert users and not any("v1.3.0" in (m["body"] or "") for m in users)  # internal: not the users' business


def test_only_a_regression_kind_reads_the_releases(tmp_path: Path) -> None:
    plain = Sandbox(tmp_path / "plain", policy_file(tmp_path))
    declare(plain, ("priority::highest",))
    regression = Sandbox(tmp_path / "regression", policy_file(tmp_path))
    declare(regression, ("priority::highest", "regression"))
    assert regression.forge.requests == plain.forge.requests + 1  # one request, for that kind only
    assert "Last release" not in plain.forge.list_comments(1)[0].body
