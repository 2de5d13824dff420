"""Whole incidents on the local forge with Slack's Web API pointed at the fake Slack.

Through the real CLI (`outage-bot declare / tick / handle --forge local`) with
SLACK_BOT_TOKEN and SLACK_API_URL set, as in CI; and through the runner with a forge that
dies between posting and recording, to show a re-run never posts twice.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from chat_samples import DEFAULT_CHANNELS, DyingForge
from click.testing import CliRunner, Result
from fake_slack import TOKEN, FakeSlack

from bot.adapters.chat import notifiers_from_env
from bot.adapters.local import LocalForge
from bot.cli import cli
from bot.config import load
from bot.events import Event, EventKind
from bot.executor import LEASE, channel_of
from bot.runner import Runner

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 in New York
# The default's process with people who have handles: eng-a, eng-b and security-lead act as
# themselves (the bundled default has no handles, so they would be strangers there).
POLICY = str(Path(__file__).resolve().parents[1] / "fixtures" / "team_policy.yml")
CHANNELS = DEFAULT_CHANNELS  # as they exist in the `workspace` fixture
INTERNAL = ("release-lead", "Release lead", "platform-lead", "eng-a", "eng-b", "Engineer", "<@U", "Severity", "Deadline")


class Bot:
    """`outage-bot` as CI runs it: the local forge in a sqlite file, Slack from the environment."""

    def __init__(self, tmp: Path, fake: FakeSlack) -> None:
        self.tmp = tmp
        self.db = tmp / "forge.sqlite"
        self.env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.api_url}
        self.events = 0

    def run(self, verb: str, *args: str, at: datetime) -> Result:
        argv = [verb, "--config", POLICY, "--forge", "local", "--db", str(self.db), "--now", at.isoformat(), *args]
        result = CliRunner().invoke(cli, argv, env=self.env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    def act(self, at: datetime, **action: Any) -> Result:
        self.events += 1
        path = self.tmp / f"event{self.events}.json"
        path.write_text(json.dumps(action))
        return self.run("handle", "--event", str(path), at=at)


def bot_messages(fake: FakeSlack, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel_id) if m.get("bot_id")]


def words(message: dict[str, Any]) -> str:
    """All text a person sees in a message: blocks and fallback."""
    return message["text"] + json.dumps(message.get("blocks", []), ensure_ascii=False)


def test_a_critical_outage_from_declaration_to_resolution(tmp_path: Path, workspace: FakeSlack) -> None:
    bot = Bot(tmp_path, workspace)
    bot.run("declare", "--severity", "critical", "--kind", "outage", "--title", "Checkout <!channel> down & out", at=T0)
    bot.run("tick", at=T0 + timedelta(hours=12, minutes=5))  # secondary called, 12h reminder
    bot.act(T0 + timedelta(hours=12, minutes=15), action="react", issue=1, emoji="eyes", actor="eng-b")
    bot.run("tick", at=T0 + timedelta(hours=12, minutes=16))  # nothing new to say
    bot.act(T0 + timedelta(hours=13), action="comment", issue=1, body="/resolve Reverted to 1.2.3", actor="eng-a")

    alerts, users = CHANNELS["outage-alerts"], CHANNELS["troubleshooting"]
    # exactly one alert in each routed channel, nothing anywhere else
    assert len(workspace.roots(alerts)) == 1 and len(workspace.roots(users)) == 1
    assert workspace.messages(CHANNELS["announcements"]) == []
    assert workspace.messages(CHANNELS["security-incidents"]) == []
    # one thread of updates under each alert
    root = workspace.roots(alerts)[0]
    replies = workspace.replies(alerts, root["ts"])
    assert len(bot_messages(workspace, alerts)) == 1 + len(replies)
    assert len(replies) == 4  # escalated, reminder, acknowledged, resolved
    assert any("Reverted to 1.2.3" in words(m) for m in replies)
    # the alert itself edited to resolved, with 👀 then ✅ as the team does by hand
    assert root["blocks"][1]["elements"][0]["text"] == "✅ *CRITICAL* · Resolved"
    assert "edited" in root
    assert [r["name"] for r in root["reactions"]] == ["eyes", "white_check_mark"]
    assert root["metadata"]["event_type"] == "outage_bot_incident"
    # every call succeeded; nothing was posted twice or left unthreaded
    assert all(c.status == 200 and c.answer.get("ok") for c in workspace.calls())
    posts = workspace.calls("chat.postMessage")
    assert len(posts) == 2 + len(replies) + len(workspace.replies(users, workspace.roots(users)[0]["ts"]))
    keys = [c.args["metadata"]["event_payload"]["key"] for c in posts]
    assert len(keys) == len(set(keys))
    # the title reached Slack escaped, never as a broadcast
    for call in posts + workspace.calls("chat.update"):
        assert "<!channel>" not in json.dumps(call.args)


def test_the_users_channel_hears_what_users_need_and_no_internal_detail(tmp_path: Path, workspace: FakeSlack) -> None:
    bot = Bot(tmp_path, workspace)
    bot.run("declare", "--severity", "critical", "--kind", "outage", "--title", "pip install fails", at=T0)
    bot.run("tick", at=T0 + timedelta(hours=12, minutes=5))
    bot.act(T0 + timedelta(hours=13), action="comment", issue=1, body="/resolve Fixed the mirror", actor="eng-a")

    users = bot_messages(workspace, CHANNELS["troubleshooting"])
    assert users, "the users' channel was told"
    assert any("pip install fails" in words(m) for m in users)
    assert any("Fixed the mirror" in words(m) for m in users)
    for message in users:
        text = words(message)
        leaked = [w for w in INTERNAL if w in text]
        assert not leaked, (leaked, text)
        assert not re.search(r"Escalat|remind|left to resolve", text, re.IGNORECASE)


def test_a_security_incident_goes_only_to_the_security_channel(tmp_path: Path, workspace: FakeSlack) -> None:
    bot = Bot(tmp_path, workspace)
    bot.run("declare", "--severity", "critical", "--kind", "security", "--title", "Token leaked in logs", at=T0)
    bot.act(T0 + timedelta(hours=1), action="comment", issue=1, body="/resolve Rotated", actor="security-lead")

    security = CHANNELS["security-incidents"]
    assert len(workspace.roots(security)) == 1
    for name in ("outage-alerts", "troubleshooting", "announcements"):
        assert workspace.messages(CHANNELS[name]) == [], name
    assert all(c.args["channel"] in ("#security-incidents", security) for c in workspace.calls("chat.postMessage"))


# -- a run that dies between posting and recording ---------------------------------------------
class Runs:
    def __init__(self, tmp: Path, fake: FakeSlack) -> None:
        self.policy, self.renderer = load(Path(POLICY))
        self.now = T0
        self.local = LocalForge(tmp / "forge.sqlite", clock=lambda: self.now)
        self.forge = DyingForge(self.local, fake)
        self.env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.api_url}

    def runner(self) -> Runner:
        channels = {cid: channel_of(self.policy, cid) for cid in self.policy.channels}
        notifiers = notifiers_from_env(self.env, channels)  # a fresh process: nothing cached
        return Runner(self.forge, notifiers, self.policy, self.renderer, now=self.now)  # type: ignore[arg-type]

    def labeled(self) -> Event:
        issue = self.local.get_issue(1)
        return Event(kind=EventKind.LABELED, issue=issue, actor="eng-a", at=self.now, label="priority::highest")


def test_a_rerun_after_a_crash_between_post_and_record_posts_nothing_twice(tmp_path: Path, workspace: FakeSlack) -> None:
    runs = Runs(tmp_path, workspace)
    runs.local.create_issue(title="Checkout down", body="", labels=["priority::highest"])
    runs.forge.arm()
    with pytest.raises(KeyboardInterrupt):
        runs.runner().handle(runs.labeled())
    alerts = CHANNELS["outage-alerts"]
    assert len(workspace.roots(alerts)) == 1  # posted, but the ledger does not know

    runs.now = runs.now + LEASE + timedelta(minutes=1)  # the dead run's lease is over
    report = runs.runner().handle(runs.labeled())  # the re-run
    assert not report.failures
    assert len(workspace.roots(alerts)) == 1 and len(workspace.roots(CHANNELS["troubleshooting"])) == 1
    assert len(workspace.calls("chat.postMessage")) == 2
    assert workspace.calls("conversations.history")  # it looked before posting

    # the same for a thread reply: the 12h tick dies after its first reply
    runs.now = T0 + timedelta(hours=12, minutes=5)
    runs.forge.arm()
    with pytest.raises(KeyboardInterrupt):
        runs.runner().tick()
    replies_before = len(workspace.replies(alerts, workspace.roots(alerts)[0]["ts"]))
    assert replies_before >= 1
    runs.now = runs.now + LEASE + timedelta(minutes=1)  # the dead run's lease is over
    report = runs.runner().tick()
    assert not report.failures
    root = workspace.roots(alerts)[0]
    replies = workspace.replies(alerts, root["ts"])
    keys = [m["metadata"]["event_payload"]["key"] for m in replies]
    assert len(keys) == len(set(keys)) == 2  # escalation and reminder, once each
    assert len(workspace.roots(alerts)) == 1


def test_a_slack_failure_does_not_stop_the_forge_and_ends_with_exit_2(tmp_path: Path, workspace: FakeSlack) -> None:
    workspace.fail("chat.postMessage", "not_in_channel", times=1)
    bot = Bot(tmp_path, workspace)
    argv = ["declare", "--config", POLICY, "--forge", "local", "--db", str(bot.db), "--now", T0.isoformat(),
            "--severity", "critical", "--kind", "outage", "--title", "Checkout down"]
    result = CliRunner().invoke(cli, argv, env=bot.env, catch_exceptions=False)

    assert result.exit_code == 2
    assert "not_in_channel" in result.output and "/invite @" in result.output
    assert TOKEN not in result.output
    forge = LocalForge(bot.db)
    assert forge.get_issue(2).title.startswith("Outage")  # the outage issue was still opened
    # the next run retries the alert that failed, and only that
    bot.run("tick", at=T0 + timedelta(minutes=10))
    assert len(workspace.roots(CHANNELS["outage-alerts"])) == 1
    assert len(workspace.roots(CHANNELS["troubleshooting"])) == 1
