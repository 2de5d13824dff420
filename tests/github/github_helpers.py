"""Helpers shared by the GitHub adapter's tests and benchmarks/bench_github.py."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fake_github import FakeGitHub

from bot.adapters.github import GitHubForge
from bot.adapters.github.retry import FAST

if TYPE_CHECKING:
    from click.testing import Result

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


class Workflow:
    """Runs outage-bot the way the sample workflows do, one job at a time: the CLI in-process,
    Actions' environment pointed at the fake GitHub, SLACK_BOT_TOKEN / SLACK_API_URL at a fake
    Slack. `strict`: a run must exit 0."""

    def __init__(self, github: FakeGitHub, slack: Any, tmp: Path, *, policy: Path, slack_token: str, strict: bool = False) -> None:
        self.github, self.slack, self.tmp = github, slack, tmp
        self.policy, self.slack_token, self.strict = policy, slack_token, strict
        self.runs = 0
        tmp.mkdir(parents=True, exist_ok=True)

    def handle(self, event: str, action: str, number: int, *, sender: str, at: datetime, **extra: Any) -> Result:
        self.github.now = at
        self.runs += 1
        path = self.tmp / f"event-{self.runs}.json"
        path.write_text(json.dumps(webhook(self.github, event, action, number, sender=sender, **extra)), encoding="utf-8")
        return self._invoke(["handle"], at, GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(path), GITHUB_RUN_ID=str(self.runs))

    def tick(self, at: datetime) -> Result:
        self.github.now = at
        self.runs += 1
        return self._invoke(["tick"], at, GITHUB_EVENT_NAME="schedule", GITHUB_RUN_ID=str(self.runs))

    def _invoke(self, args: list[str], at: datetime, **env: str) -> Result:
        from click.testing import CliRunner

        from bot.cli import cli

        environ = self.github.env(SLACK_BOT_TOKEN=self.slack_token, SLACK_API_URL=self.slack.api_url, **env)
        result = CliRunner().invoke(cli, [*args, "--config", str(self.policy), "--now", at.isoformat()], env=environ)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if self.strict:
            assert result.exit_code == 0, result.output
        return result
