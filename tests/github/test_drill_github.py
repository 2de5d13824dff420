"""Issue 16, item 4's "done when": `outage-bot drill` on the fake GitHub and the fake Slack, run
as Actions would run it. Every message the bot wrote is marked "DRILL — no action needed"; no
one but the participants is mentioned, though the policy would tag three people at this
severity; no message goes to a users' channel; nothing is pinned; the report lists every step
as done. Nothing here reaches anything but 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_github import BOT, FakeGitHub

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
from chat_samples import DEFAULT_CHANNELS  # tests/slack is not a package, on purpose
from fake_slack import TOKEN, FakeSlack

from bot.cli import cli
from bot.drill import DRILL_LABEL, DRILL_MARK
from bot.ledger import outage_source

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 in New York: eng-a is the primary
# `critical` tags release-lead, platform-lead and the primary (eng-a) and tells #troubleshooting
# (users) too; the drill's one participant is eng-b.
POLICY = str(Path(__file__).resolve().parents[1] / "fixtures" / "team_policy.yml")
PARTICIPANT = {"github": "eng-b", "slack": "U00000ENGB"}
OTHERS = {"release-lead": "U0000LEAD", "platform-lead": "U0000PLAT", "eng-a": "U00000ENGA"}
STEPS = ("drill issue opened", "declared", "tagged", "outage issue opened", "chat alert: alerts", "acknowledged", "resolved",
         "closed")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"a test tried to reach {address[0]}: tests talk to 127.0.0.1 only")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(now=T0) as server:
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(start=T0) as server:
        for name, cid in DEFAULT_CHANNELS.items():
            server.add_channel(name, id=cid, private=name == "security-incidents")
        yield server


def drill(github: FakeGitHub, slack: FakeSlack, *args: str) -> Result:
    env = github.env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=slack.api_url, GITHUB_EVENT_NAME="workflow_dispatch")
    result = CliRunner().invoke(cli, ["drill", "--config", POLICY, "--now", T0.isoformat(), *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def written_texts(github: FakeGitHub) -> list[str]:
    """Every issue body and comment the bot sent to GitHub: created or edited."""
    return [r.body["body"] for r in github.requests
            if r.method in ("POST", "PATCH") and isinstance(r.body, dict) and isinstance(r.body.get("body"), str)]


def slack_messages(slack: FakeSlack) -> list[dict[str, Any]]:
    """The arguments of every message the bot posted or edited."""
    return [c.args for c in slack.calls("chat.postMessage") + slack.calls("chat.update")]


def blocks_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def test_a_drill_on_github_and_slack(github: FakeGitHub, slack: FakeSlack) -> None:
    result = drill(github, slack, "--participants", "eng-b")
    assert result.exit_code == 0, result.output

    # the report at the end lists every step as done
    report = result.output[result.output.index("Drill report"):].splitlines()
    assert report[0] == "Drill report (critical; participants: eng-b):"
    assert [line.split()[0] for line in report[1:-1]] == ["done"] * len(STEPS)
    assert [re.split(r"\s{2,}", line.strip())[1] for line in report[1:-1]] == list(STEPS)
    assert report[-1].startswith("Every step happened")

    # every message the bot wrote on GitHub is marked, and so are the issues as they are now
    texts = written_texts(github)
    assert len(texts) >= 8  # drill issue, tag/ledger, outage issue, ack, resolved, and their edits
    assert all(text.startswith(DRILL_MARK) for text in texts), [t[:80] for t in texts if not t.startswith(DRILL_MARK)]
    assert all((i.body or "").startswith(DRILL_MARK) for i in github.stored_issues())
    assert all(c["body"].startswith(DRILL_MARK) for n in github.issues for c in github.stored_comments(n))

    # in Slack too: the header, the notification text, every edit
    messages = slack_messages(slack)
    assert len(messages) == 5  # the alert; a reply and an edit of the alert at the ack, and at the resolution
    for args in messages:
        assert args["text"].startswith(DRILL_MARK)
        header = blocks_of(args)[0]
        assert header["type"] == "header" and header["text"]["text"].startswith(DRILL_MARK)

    # nobody but the participant is mentioned, though `critical` would tag three others
    mentioned = {m for text in texts for m in re.findall(r"(?<![\w`])@([A-Za-z0-9][\w-]*)", text)}
    assert mentioned == {PARTICIPANT["github"]}
    slack_markup = [m for args in messages for m in re.findall(r"<[@!]([^>|]+)", json.dumps(args, ensure_ascii=False))]
    assert set(slack_markup) == {PARTICIPANT["slack"]}
    everything = json.dumps([texts, messages], ensure_ascii=False)
    assert not any(f"@{login}" in everything or slack_id in everything for login, slack_id in OTHERS.items())

    # no message in a users' channel, none in announcements; nothing pinned; no on-call group set
    assert {c.args["channel"] for c in slack.calls("chat.postMessage")} <= {"#outage-alerts", DEFAULT_CHANNELS["outage-alerts"]}
    assert slack.messages(DEFAULT_CHANNELS["troubleshooting"]) == [] and slack.messages(DEFAULT_CHANNELS["announcements"]) == []
    assert not any("pinIssue" in line for line in github.lines()) and github.pinned == []
    assert slack.calls("usergroups.users.update") == []

    # the drill is over on GitHub: closed, no severity label left for a later tick; no status issue
    drill_issue = next(i for i in github.issues.values() if DRILL_LABEL in i.labels)
    [outage] = [i for i in github.issues.values() if outage_source(i.body or "") == drill_issue.number]
    assert drill_issue.title == "DRILL: incident-response drill (critical)" and drill_issue.author == BOT
    assert drill_issue.state == outage.state == "closed"
    assert drill_issue.labels == [DRILL_LABEL] and "outage::active" not in outage.labels
    assert not any("outage-bot::status" in i.labels for i in github.issues.values())
    assert len(github.issues) == 2


def test_a_step_that_fails_makes_the_drill_fail(github: FakeGitHub, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", "not_in_channel", times=20)  # the app was removed from the channel
    result = drill(github, slack, "--participants", "eng-b")
    assert result.exit_code == 1
    [row] = [line for line in result.output.splitlines() if "chat alert: alerts" in line and "Drill report" not in line
             and line.startswith("  ")]
    assert row.split()[:2] == ["NOT", "DONE"] and "not_in_channel" in row
    assert result.output.rstrip().endswith("1 step(s) did not happen: chat alert: alerts.")
    # the rest of the drill happened, and it is over: nothing left labeled for a tick
    assert all(i.state == "closed" and "priority::highest" not in i.labels for i in github.issues.values())


def test_the_dry_run_writes_nothing(github: FakeGitHub, slack: FakeSlack) -> None:
    result = drill(github, slack, "--dry-run")
    assert result.exit_code == 0, result.output
    # by default the participants are whom `critical` tags now
    assert "participants: release-lead, platform-lead, eng-a" in result.output
    assert "would TagPeople(target='source', template='tag.md.j2', people=('release-lead', 'platform-lead', 'eng-a'))" in result.output
    assert {r.method for r in github.requests} <= {"GET"}
    assert slack.calls() == []


def test_a_lost_answer_to_opening_the_drill_issue_is_looked_up_not_repeated(github: FakeGitHub, slack: FakeSlack) -> None:
    github.fault("POST", r"/issues$", performed=True, answer=502)
    result = drill(github, slack, "--participants", "eng-b")
    assert result.exit_code == 0, result.output
    creates = [r for r in github.requests if r.line == f"POST /repos/{github.full_name}/issues"]
    assert [r.lost for r in creates] == ["after: 502", ""]  # the drill issue once, then the outage issue
    assert len([i for i in github.issues.values() if DRILL_LABEL in i.labels]) == 1
