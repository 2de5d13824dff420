"""How the CLI wires chat from the environment, through `outage-bot` itself (CliRunner, the
environment passed explicitly), against the fake Slack, a plain endpoint for Apprise and the
fake GitHub, all on 127.0.0.1:

- confidential channels (those a confidential kind notifies) never use the shared webhook,
  and every channel nobody serves is named once on stderr with the variable(s) to set;
- with `--forge local`, channels the environment serves get the real notifier and the rest
  the local chat in the sqlite file;
- an empty variable counts as unset (GitHub Actions passes an undefined secret as "");
- a re-run recovers a thread reply by searching that thread.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from chat_samples import DEFAULT_CHANNELS, DyingForge
from click.testing import CliRunner, Result
from fake_endpoint import FakeEndpoint
from fake_slack import TOKEN, FakeSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "github"))
from fake_github import FakeGitHub  # tests/github is not a package, on purpose

from bot.adapters.chat import notifiers_from_env
from bot.adapters.local import LocalChat, LocalForge
from bot.adapters.slack import DEFAULT_API_URL, SlackNotifier
from bot.cli import cli, confidential_channels
from bot.config import load
from bot.events import Event, EventKind
from bot.executor import LEASE
from bot.records import Access, Channel, ChatMessage
from bot.resources import default_policy_path
from bot.runner import Runner

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)
POLICY = default_policy_path()
# The default policy's Slack channels, as they exist in the fake workspace.
IDS = {"alerts": DEFAULT_CHANNELS["outage-alerts"], "users": DEFAULT_CHANNELS["troubleshooting"],
       "announcements": DEFAULT_CHANNELS["announcements"], "security": DEFAULT_CHANNELS["security-incidents"]}
# Every variable the CLI reads for chat, cleared unless a test sets it.
CHAT_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_API_URL", "SLACK_WEBHOOK_URL", "OUTAGE_BOT_CONFIG",
                  *(f"SLACK_WEBHOOK_URL_{cid.upper()}" for cid in IDS), "SLACK_WEBHOOK_URL_TEAMS", "TEAMS_HOOK")


@pytest.fixture
def endpoint() -> Iterator[FakeEndpoint]:
    with FakeEndpoint() as server:
        yield server


def with_teams(tmp: Path, endpoint: FakeEndpoint) -> Path:
    """The default policy plus an Apprise channel (secret in ${TEAMS_HOOK}) told of critical incidents."""
    text = POLICY.read_text(encoding="utf-8")
    text = text.replace(
        '  security:      {slack: "#security-incidents"}\n',
        '  security:      {slack: "#security-incidents"}\n'
        f'  teams:         {{apprise: "json://{endpoint.hostport}/hooks/${{TEAMS_HOOK}}"}}\n',
    )
    text = text.replace("    notify: [alerts, users]\n", "    notify: [alerts, users, teams]\n", 1)
    assert "teams" in text.split("severities:")[1]
    path = tmp / "policy.yml"
    path.write_text(text, encoding="utf-8")
    return path


def cli_env(**values: str) -> dict[str, str | None]:
    env: dict[str, str | None] = dict.fromkeys(CHAT_VARIABLES)
    env.update(values)
    return env


def run(argv: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)


def local(tmp: Path, verb: str, *args: str, env: dict[str, str | None], config: Path = POLICY,
          at: datetime = T0) -> Result:
    argv = [verb, "--config", str(config), "--forge", "local", "--db", str(tmp / "forge.sqlite"),
            "--now", at.isoformat(), *args]
    result = run(argv, env)
    assert result.exit_code == 0, result.output
    return result


def local_chat(tmp: Path) -> list[dict[str, Any]]:
    return LocalChat(tmp / "forge.sqlite").messages()


def channels_in(messages: list[dict[str, Any]]) -> set[str]:
    return {str(m["channel"]) for m in messages}


def webhook_posts(fake: FakeSlack) -> list[Any]:
    return [c for c in fake.calls("webhook") if c.status == 200]


def notes(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("outage-bot: channel ")]


# -- which channels are confidential ----------------------------------------------------------------
def test_confidential_channels_are_those_a_confidential_kind_notifies(tmp_path: Path) -> None:
    policy, _ = load(POLICY)
    assert confidential_channels(policy) == {"security"}
    shared = tmp_path / "policy.yml"
    shared.write_text(POLICY.read_text().replace("confidential: true, notify: [security]",
                                                  "confidential: true, notify: [security, announcements]"))
    assert confidential_channels(load(shared)[0]) == {"security", "announcements"}
    public = tmp_path / "public.yml"
    public.write_text(POLICY.read_text().replace("confidential: true, ", ""))
    assert confidential_channels(load(public)[0]) == set()


# -- warnings on a real forge -------------------------------------------------------------------------
@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


def github_tick(github: FakeGitHub, config: Path, *extra: str, **values: str) -> Result:
    env = cli_env(**github.env(GITHUB_EVENT_NAME="schedule"), **values)
    result = run(["tick", "--config", str(config), "--now", T0.isoformat(), *extra], env)
    assert result.exit_code == 0, result.output
    return result


def test_a_shared_webhook_serves_all_but_the_confidential_channel_and_the_run_names_what_to_set(
    tmp_path: Path, github: FakeGitHub, workspace: FakeSlack, endpoint: FakeEndpoint
) -> None:
    hook = workspace.add_webhook(IDS["alerts"])
    result = github_tick(github, with_teams(tmp_path, endpoint), SLACK_WEBHOOK_URL=hook,
                         SLACK_WEBHOOK_URL_SECURITY="")  # an undefined secret, as Actions passes it
    assert notes(result) == [
        "outage-bot: channel security is not told: set SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_SECURITY",
        "outage-bot: channel teams is not told: set TEAMS_HOOK",
    ]
    assert hook not in result.output and "secretpart" not in result.output


def test_without_any_chat_credential_every_channel_is_named_once(
    tmp_path: Path, github: FakeGitHub, endpoint: FakeEndpoint
) -> None:
    result = github_tick(github, with_teams(tmp_path, endpoint))
    assert notes(result) == [
        "outage-bot: channel alerts is not told: set SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_ALERTS or SLACK_WEBHOOK_URL",
        "outage-bot: channel users is not told: set SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_USERS or SLACK_WEBHOOK_URL",
        ("outage-bot: channel announcements is not told: set SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_ANNOUNCEMENTS"
         " or SLACK_WEBHOOK_URL"),
        "outage-bot: channel security is not told: set SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_SECURITY",
        "outage-bot: channel teams is not told: set TEAMS_HOOK",
    ]


def test_a_bot_token_and_the_apprise_secret_leave_nothing_to_warn_about(
    tmp_path: Path, github: FakeGitHub, workspace: FakeSlack, endpoint: FakeEndpoint
) -> None:
    result = github_tick(github, with_teams(tmp_path, endpoint), SLACK_BOT_TOKEN=TOKEN,
                         SLACK_API_URL=workspace.api_url, TEAMS_HOOK="hook-secret-123")
    assert notes(result) == []
    assert TOKEN not in result.output and "hook-secret-123" not in result.output


def test_a_dry_run_does_not_warn(tmp_path: Path, github: FakeGitHub, endpoint: FakeEndpoint) -> None:
    result = github_tick(github, with_teams(tmp_path, endpoint), "--dry-run")
    assert notes(result) == []
    assert "dry run" in result.output


# -- the local forge: real chat where configured, the local chat for the rest ----------------------
def test_local_forge_without_chat_credentials_keeps_everything_in_the_local_chat(
    tmp_path: Path, workspace: FakeSlack
) -> None:
    result = local(tmp_path, "declare", "--severity", "critical", "--kind", "outage", "--title", "Checkout down",
                   env=cli_env(SLACK_BOT_TOKEN="", SLACK_WEBHOOK_URL=" \n"))  # empty: unset
    assert channels_in(local_chat(tmp_path)) == {"alerts", "users"}
    assert workspace.calls() == []
    assert notes(result) == []  # the sandbox needs no chat: nothing to warn about


def test_local_forge_with_a_channel_webhook_sends_that_channel_to_slack_and_the_rest_locally(
    tmp_path: Path, workspace: FakeSlack
) -> None:
    hook = workspace.add_webhook(IDS["alerts"])
    result = local(tmp_path, "declare", "--severity", "critical", "--kind", "outage", "--title", "Checkout down",
                   env=cli_env(SLACK_WEBHOOK_URL_ALERTS=hook))
    assert len(webhook_posts(workspace)) == 1
    assert len(workspace.roots(IDS["alerts"])) == 1
    assert "Checkout down" in workspace.roots(IDS["alerts"])[0]["text"]
    assert channels_in(local_chat(tmp_path)) == {"users"}  # alerts went to Slack, not here
    assert ("outage-bot: channel users goes to the local chat (for real chat set SLACK_BOT_TOKEN or "
            "SLACK_WEBHOOK_URL_USERS or SLACK_WEBHOOK_URL)") in notes(result)
    assert not any(" alerts " in line for line in notes(result))
    assert hook not in result.output


def test_local_forge_with_a_bot_token_uses_slack_for_every_channel(tmp_path: Path, workspace: FakeSlack) -> None:
    env = cli_env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=workspace.api_url)
    result = local(tmp_path, "declare", "--severity", "critical", "--kind", "outage", "--title", "Checkout down", env=env)
    assert len(workspace.roots(IDS["alerts"])) == 1 and len(workspace.roots(IDS["users"])) == 1
    assert local_chat(tmp_path) == []
    assert notes(result) == []


def test_an_empty_bot_token_does_not_hide_the_webhook(tmp_path: Path, workspace: FakeSlack) -> None:
    hook = workspace.add_webhook(IDS["alerts"])
    local(tmp_path, "declare", "--severity", "minor", "--title", "Slow search",
          env=cli_env(SLACK_BOT_TOKEN="", SLACK_API_URL="", SLACK_WEBHOOK_URL=hook))
    assert len(webhook_posts(workspace)) == 1
    assert workspace.calls("chat.postMessage") == []
    assert local_chat(tmp_path) == []


def test_the_shared_webhook_never_carries_a_security_incident(tmp_path: Path, workspace: FakeSlack) -> None:
    hook = workspace.add_webhook(IDS["alerts"])
    env = cli_env(SLACK_WEBHOOK_URL=hook)
    result = local(tmp_path, "declare", "--severity", "critical", "--kind", "security", "--title", "Token leaked",
                   env=env)
    assert webhook_posts(workspace) == []
    assert channels_in(local_chat(tmp_path)) == {"security"}
    assert ("outage-bot: channel security goes to the local chat (for real chat set SLACK_BOT_TOKEN or "
            "SLACK_WEBHOOK_URL_SECURITY)") in notes(result)
    # an ordinary incident in the same sandbox does use the shared webhook, for both its channels
    local(tmp_path, "declare", "--severity", "critical", "--kind", "outage", "--title", "Checkout down", env=env)
    assert len(webhook_posts(workspace)) == 2
    assert channels_in(local_chat(tmp_path)) == {"security"}


def test_local_forge_with_a_security_webhook_sends_the_security_incident_there(
    tmp_path: Path, workspace: FakeSlack
) -> None:
    hook = workspace.add_webhook(IDS["security"])
    local(tmp_path, "declare", "--severity", "critical", "--kind", "security", "--title", "Token leaked",
          env=cli_env(SLACK_WEBHOOK_URL_SECURITY=hook))
    assert len(workspace.roots(IDS["security"])) == 1
    assert local_chat(tmp_path) == []


def test_local_forge_with_an_apprise_channel_configured_posts_there(
    tmp_path: Path, workspace: FakeSlack, endpoint: FakeEndpoint
) -> None:
    config = with_teams(tmp_path, endpoint)
    result = local(tmp_path, "declare", "--severity", "critical", "--kind", "outage", "--title", "Checkout down",
                   env=cli_env(TEAMS_HOOK="hook-secret-123"), config=config)
    assert [r.path for r in endpoint.received] == ["/hooks/hook-secret-123"]
    assert "Checkout down" in json.dumps(endpoint.received[0].body)
    assert channels_in(local_chat(tmp_path)) == {"alerts", "users"}
    assert "hook-secret-123" not in result.output
    assert workspace.calls() == []


def test_local_forge_with_an_apprise_variable_left_empty_keeps_it_local(
    tmp_path: Path, endpoint: FakeEndpoint
) -> None:
    local(tmp_path, "declare", "--severity", "critical", "--kind", "outage", "--title", "Checkout down",
          env=cli_env(TEAMS_HOOK=""), config=with_teams(tmp_path, endpoint))
    assert endpoint.received == []
    assert channels_in(local_chat(tmp_path)) == {"alerts", "users", "teams"}


# -- empty variables are unset ------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["", "  \n"])
def test_an_empty_github_token_is_a_missing_credential_named(github: FakeGitHub, token: str) -> None:
    env = cli_env(**github.env(GITHUB_EVENT_NAME="schedule", GITHUB_TOKEN=token))
    result = run(["tick", "--config", str(POLICY)], env)
    assert result.exit_code == 1
    assert "GITHUB_TOKEN is not set" in result.output
    assert github.lines() == []  # nothing was sent with an empty token


def test_an_empty_gitlab_token_is_a_missing_credential_named() -> None:
    env = cli_env(GITLAB_CI="true", CI_API_V4_URL="http://127.0.0.1:9/api/v4", CI_PROJECT_ID="1",
                  CI_PIPELINE_SOURCE="schedule", GITLAB_TOKEN=" ")
    result = run(["tick", "--config", str(POLICY)], env)
    assert result.exit_code == 1
    assert "GITLAB_TOKEN is not set" in result.output


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_outage_bot_config_falls_back_to_the_repository_policy(tmp_path: Path, value: str) -> None:
    own = tmp_path / ".outage-bot.yml"
    own.write_text(POLICY.read_text())
    result = run(["validate"], cli_env(OUTAGE_BOT_CONFIG=value, GITHUB_WORKSPACE=str(tmp_path)))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{own}: valid")


def test_outage_bot_config_when_set_is_used(tmp_path: Path) -> None:
    named = tmp_path / "elsewhere.yml"
    named.write_text(POLICY.read_text())
    result = run(["validate"], cli_env(OUTAGE_BOT_CONFIG=str(named), GITHUB_WORKSPACE=str(tmp_path)))
    assert result.exit_code == 0 and result.output.startswith(f"{named}: valid"), result.output


def test_an_empty_slack_api_url_keeps_slacks_own() -> None:
    found = notifiers_from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": ""}, {"a": Channel("a", slack="C0AAAAAAA")})
    assert isinstance(found["a"], SlackNotifier) and found["a"].client.base_url == DEFAULT_API_URL


# -- recovering a thread reply after a crash ---------------------------------------------------------
def test_local_chat_finds_a_reply_only_in_its_own_thread(tmp_path: Path) -> None:
    chat = LocalChat(tmp_path / "chat.sqlite")
    alerts = Channel("alerts", slack="#outage-alerts")
    first = chat.post(alerts, ChatMessage(headline="one", body="", metadata_key="1:root"))
    second = chat.post(alerts, ChatMessage(headline="two", body="", metadata_key="2:root"))
    reply = chat.post(alerts, ChatMessage(headline="ack", body="", metadata_key="1:ack"), thread=first)
    assert chat.find(alerts, "1:ack", thread=first) == reply
    assert chat.find(alerts, "1:ack", thread=second) is None
    assert chat.find(alerts, "1:ack") == reply  # without a thread: anywhere in the channel
    assert chat.find(alerts, "1:root", thread=first) is None  # the root is not one of its replies
    assert chat.find(Channel("users", slack="#troubleshooting"), "1:ack", thread=first) is None


def test_a_rerun_looks_for_a_lost_reply_in_the_alerts_thread(tmp_path: Path, workspace: FakeSlack) -> None:
    policy, renderer = load(POLICY)
    now = [T0]
    forge = LocalForge(tmp_path / "forge.sqlite", clock=lambda: now[0])
    dying = DyingForge(forge, workspace)

    def runner() -> Runner:
        # A fresh process each time. thread_scan=0: the channel-wide search would never look in a
        # thread, so only a search of the alert's own thread can find the lost replies.
        slack = SlackNotifier(TOKEN, base_url=workspace.api_url, backoff=0.01, timeout=5, thread_scan=0)
        notifiers = {cid: slack for cid in policy.channels}
        return Runner(dying, notifiers, policy, renderer, now=now[0])  # type: ignore[arg-type]

    forge.create_issue(title="Checkout down", body="", labels=["priority::highest"])
    labeled = Event(kind=EventKind.LABELED, issue=forge.get_issue(1), actor="eng-a", at=T0, label="priority::highest")
    assert not runner().handle(labeled).failures
    alerts = IDS["alerts"]
    (root,) = workspace.roots(alerts)

    now[0] = T0 + timedelta(hours=12, minutes=5)  # the secondary is called and the 12h reminder is due
    dying.arm()
    with pytest.raises(KeyboardInterrupt):
        runner().tick()
    lost = [m["metadata"]["event_payload"]["key"] for m in workspace.replies(alerts, root["ts"])]
    assert len(lost) == 2  # posted, but the ledger does not know

    now[0] = now[0] + LEASE + timedelta(minutes=1)  # the dead run's lease is over
    before = len(workspace.calls())
    assert not runner().tick().failures
    rerun = workspace.calls()[before:]
    keys = [m["metadata"]["event_payload"]["key"] for m in workspace.replies(alerts, root["ts"])]
    assert keys == lost  # found again, not posted twice
    assert not [c for c in rerun if c.api == "chat.postMessage" and c.args.get("thread_ts") == root["ts"]]
    looked = [c.args for c in rerun if c.api == "conversations.replies"]
    assert {"channel": alerts, "ts": root["ts"]}.items() <= looked[0].items()
    # no channel-wide search needed (the tick's one page of the alerts since the incident began,
    # for 👀 and ✅ on them, is not a search: `oldest` bounds it)
    assert not [c for c in rerun if c.api == "conversations.history" and "oldest" not in c.args]
    assert len(workspace.roots(alerts)) == 1
    # the ledger now records the replies: a third run has nothing to recover or post
    after = len(workspace.calls())
    assert not runner().tick().failures
    # (but the tick's read of 👀 and ✅ on the alerts: the channel's id, then one history page)
    reads = ("conversations.list", "conversations.history")
    assert [c.api for c in workspace.calls()[after:] if c.api != "chat.update" and c.api not in reads] == []
    assert [c.api for c in workspace.calls()[after:] if c.api in reads] == list(reads)


def test_a_token_added_mid_incident_posts_afresh_instead_of_threading_under_a_webhook_alert(
        tmp_path: Path, workspace: FakeSlack) -> None:
    hook = workspace.add_webhook(IDS["alerts"])
    local(tmp_path, "declare", "--severity", "minor", "--title", "Slow search", env=cli_env(SLACK_WEBHOOK_URL=hook))
    assert len(webhook_posts(workspace)) == 1
    event = tmp_path / "close.json"
    LocalForge(tmp_path / "forge.sqlite").add_member("maintainer", Access.MAINTAIN)  # may resolve by closing
    event.write_text(json.dumps({"action": "close", "issue": 1, "actor": "maintainer"}), encoding="utf-8")
    result = local(tmp_path, "handle", "--event", str(event), env=cli_env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=workspace.api_url),
                   at=T0 + timedelta(hours=1))
    assert "resolved" in result.output
    # the webhook's alert cannot be edited, reacted to or threaded under through the Web API
    assert workspace.calls("chat.update") == [] and workspace.calls("reactions.add") == []
    posts = [c for c in workspace.calls("chat.postMessage") if c.status == 200]
    assert posts and all("thread_ts" not in c.args for c in posts)
