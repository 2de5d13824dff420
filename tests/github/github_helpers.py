"""Helpers shared by the GitHub adapter's tests and benchmarks/bench_github.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fake_github import FakeGitHub

from bot.adapters.github import GitHubForge
from bot.adapters.github.retry import FAST

FIXTURES = Path(__file__).parents[1] / "fixtures" / "github"
WEBHOOKS = FIXTURES / "webhooks"


def make_forge(fake: FakeGitHub) -> GitHubForge:
    return GitHubForge(fake.token, fake.full_name, api_url=fake.base_url, graphql_url=fake.graphql_url, retry=FAST)


def payload(name: str) -> dict[str, Any]:
    """A webhook example from tests/fixtures/github/webhooks ("issues.labeled", "variants/...")."""
    return json.loads((WEBHOOKS / f"{name}.json").read_text(encoding="utf-8"))


def webhook(fake: FakeGitHub, event: str, action: str, number: int, *, sender: str, label: str | None = None,
            comment: int | None = None) -> dict[str, Any]:
    """The payload GitHub Actions would leave in GITHUB_EVENT_PATH for the fake's issue now: the
    reference example's envelope with the fake's issue, label, comment and sender in it."""
    template = payload("issue_comment.created" if event == "issue_comment" else f"issues.{action}")
    data: dict[str, Any] = {
        "action": action,
        "issue": fake.issue_json(fake.issues[number]),
        "repository": {**template["repository"], "name": fake.repo, "full_name": fake.full_name},
        "sender": fake.user_json(sender),
    }
    if label is not None:
        data["label"] = fake.label_json(label)
    if comment is not None:
        data["comment"] = fake.comment_json(comment)
    return data
