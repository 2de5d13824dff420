"""Issue #4's "done when": a whole incident on the fake GitHub, run as Actions runs it, with
SLACK_BOT_TOKEN and SLACK_API_URL pointed at the fake Slack: one alert per routed channel,
one thread of updates, the alert edited to resolved with ✅, and nothing else."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from chat_samples import DEFAULT_CHANNELS
from click.testing import CliRunner, Result
from fake_slack import TOKEN, FakeSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "github"))
from fake_github import FakeGitHub  # tests/github is not a package, on purpose
from github_helpers import webhook

from bot.cli import cli

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 in New York
# The default's process with people who have handles: eng-b's 👀 is a policy person's.
POLICY = str(Path(__file__).resolve().parents[1] / "fixtures" / "team_policy.yml")
CHANNELS = DEFAULT_CHANNELS


class Actions:
    def __init__(self, github: FakeGitHub, slack: FakeSlack, tmp: Path) -> None:
        self.github, self.slack, self.tmp, self.runs = github, slack, tmp, 0

    def _run(self, args: list[str], at: datetime, **env: str) -> Result:
        self.github.now = at
        environ = self.github.env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=self.slack.api_url, **env)
        result = CliRunner().invoke(cli, [*args, "--config", POLICY, "--now", at.isoformat()], env=environ)
        assert result.exit_code == 0, result.output
        return result

    def handle(self, event: str, action: str, number: int, *, sender: str, at: datetime, **extra: Any) -> Result:
        self.runs += 1
        path = self.tmp / f"event-{self.runs}.json"
        self.github.now = at
        path.write_text(json.dumps(webhook(self.github, event, action, number, sender=sender, **extra)), encoding="utf-8")
        return self._run(["handle"], at, GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(path))

    def tick(self, at: datetime) -> Result:
        return self._run(["tick"], at, GITHUB_EVENT_NAME="schedule")


def test_a_critical_incident_on_github_keeps_one_slack_thread(tmp_path: Path, workspace: FakeSlack) -> None:
    with FakeGitHub() as github:
        run = Actions(github, workspace, tmp_path)
        issue = github.add_issue("Checkout <!channel> is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))
        github.label(issue.number, "priority::highest", actor="reporter", at=T0)
        run.handle("issues", "labeled", issue.number, sender="reporter", at=T0 + timedelta(seconds=20), label="priority::highest")
        run.handle("issues", "labeled", issue.number, sender="reporter", at=T0 + timedelta(seconds=40), label="priority::highest")  # redelivered
        run.tick(T0 + timedelta(minutes=10))
        run.tick(T0 + timedelta(hours=12, minutes=5))  # the secondary called, the 12h reminder
        github.react(issue.number, "eyes", user="eng-b", at=T0 + timedelta(hours=12, minutes=8))
        run.tick(T0 + timedelta(hours=12, minutes=15))  # the 👀 seen: acknowledged
        run.tick(T0 + timedelta(hours=12, minutes=25))  # nothing new
        github.set_role("maint", "maintain")
        note = github.comment(issue.number, "/resolve Reverted to 1.2.3", user="maint", at=T0 + timedelta(hours=13))
        run.handle("issue_comment", "created", issue.number, sender="maint", at=T0 + timedelta(hours=13), comment=note)
        run.tick(T0 + timedelta(hours=13, minutes=10))

    alerts, users = CHANNELS["outage-alerts"], CHANNELS["troubleshooting"]
    def key(message: dict[str, Any]) -> str:
        return str(message["metadata"]["event_payload"]["key"])

    # the Monday-noon handoff fell inside the incident: its notice is the alerts channel's other root
    handoffs = [m for m in workspace.roots(alerts) if key(m).startswith("handoff:")]
    assert len(handoffs) == 1 and "On-call handoff" in handoffs[0]["text"]
    # the ticks between 10 minutes and 12 hours were not run: the team is told once of the gap
    gaps = [m for m in workspace.roots(alerts) if key(m).startswith("gap:")]
    assert len(gaps) == 1 and "scheduled run did not run" in gaps[0]["text"]
    [root] = [m for m in workspace.roots(alerts) if not key(m).startswith(("handoff:", "gap:"))]
    assert len(workspace.roots(users)) == 1
    assert workspace.messages(CHANNELS["announcements"]) == [] and workspace.messages(CHANNELS["security-incidents"]) == []
    replies = workspace.replies(alerts, root["ts"])
    assert sorted((m for m in workspace.messages(alerts) if m.get("bot_id")), key=lambda m: m["ts"]) == sorted(
        [root, *handoffs, *gaps, *replies], key=lambda m: m["ts"])
    assert len(replies) == 4  # escalated, reminder, acknowledged, resolved
    assert "Reverted to 1.2.3" in json.dumps(replies[-1], ensure_ascii=False)
    assert root["blocks"][1]["elements"][0]["text"] == "✅ *CRITICAL* · Resolved"
    assert [r["name"] for r in root["reactions"]] == ["eyes", "white_check_mark"]
    posts = workspace.calls("chat.postMessage")
    keys = [c.args["metadata"]["event_payload"]["key"] for c in posts]
    assert len(keys) == len(set(keys))  # nothing posted twice
    assert all(c.status == 200 and c.answer.get("ok") for c in workspace.calls())
    assert not any("<!channel>" in json.dumps(c.args) for c in posts + workspace.calls("chat.update"))
