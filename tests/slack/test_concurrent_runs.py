"""Issue "Exactly once", item 3: runs of one incident started at the same moment, with no CI
concurrency group at all, end with one outage issue (open, pinned), one tag comment and one
root alert per channel. Each run is a real `outage-bot` process, as CI starts them, against
the fake GitHub and the fake Slack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from chat_samples import DEFAULT_CHANNELS
from fake_slack import TOKEN, FakeSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "github"))
from fake_github import BOT, FakeGitHub  # tests/github is not a package, on purpose
from github_helpers import webhook

from bot.ledger import decode_ledger, keys_in, outage_source

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)
POLICY = str(Path(__file__).resolve().parents[1] / "fixtures" / "team_policy.yml")
ROOT = Path(__file__).resolve().parents[2]
REPEAT = int(os.environ.get("CONVERGE_REPEAT", "20"))


def start(github: FakeGitHub, slack: FakeSlack, args: list[str], at: datetime = T0 + timedelta(seconds=20),
          **env: str) -> subprocess.Popen[str]:
    """One `outage-bot` process, as CI starts it, with its clock at `at`."""
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
               **github.env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=slack.api_url, **env)}
    command = [sys.executable, "-c", "from bot.cli import main; main()", *args, "--config", POLICY, "--now", at.isoformat()]
    return subprocess.Popen(command, env=environ, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def one_round(tmp: Path) -> list[str]:
    """Two deliveries of the label event and a tick, at once. Returns what went wrong."""
    with FakeGitHub() as github, FakeSlack() as slack:
        for name, cid in DEFAULT_CHANNELS.items():
            slack.add_channel(name, id=cid, private=name == "security-incidents")
        issue = github.add_issue("Checkout is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))
        github.label(issue.number, "priority::highest", actor="reporter", at=T0)
        github.now = T0 + timedelta(seconds=20)
        event = tmp / "labeled.json"
        event.write_text(json.dumps(webhook(github, "issues", "labeled", issue.number, sender="reporter", label="priority::highest")),
                         encoding="utf-8")
        runs = [start(github, slack, ["handle"], GITHUB_EVENT_NAME="issues", GITHUB_EVENT_PATH=str(event)) for _ in range(2)]
        runs.append(start(github, slack, ["tick"], GITHUB_EVENT_NAME="schedule"))
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        problems = [f"exit {run.returncode}: {out[-500:]}" for run, out in zip(runs, outputs) if run.returncode != 0]
        outage_issues = [i for i in github.issues.values() if outage_source(i.body or "") == issue.number]
        if len(outage_issues) != 1 or outage_issues[0].state != "open":
            problems.append(f"outage issues: {[(i.number, i.state) for i in outage_issues]}")
        elif github.pinned != [outage_issues[0].number]:
            problems.append(f"pinned: {github.pinned}")
        ledgers = [c for c in github.comments_on(issue.number) if c["user"] == BOT and decode_ledger(c["body"])]
        if len(ledgers) != 1:
            problems.append(f"{len(ledgers)} tag comments")
        for channel in ("outage-alerts", "troubleshooting"):
            roots = slack.roots(DEFAULT_CHANNELS[channel])
            if len(roots) != 1:
                problems.append(f"{len(roots)} root alerts in {channel}")
        return problems


@pytest.mark.slow
def test_two_deliveries_and_a_tick_at_once_converge_every_time(tmp_path: Path) -> None:
    failed = {n: problems for n in range(REPEAT) if (problems := one_round(tmp_path))}
    assert failed == {}, f"{len(failed)}/{REPEAT} rounds did not converge: {failed}"


# -- runs on an incident that exists -----------------------------------------------------------
LATER = T0 + timedelta(hours=12, minutes=5)  # the escalation (12h unacknowledged) is due


def comment_event(github: FakeGitHub, tmp: Path, number: int, body: str, user: str, name: str) -> str:
    cid = github.comment(number, body, user=user, at=LATER - timedelta(seconds=10))
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(webhook(github, "issue_comment", "created", number, sender=user, comment=cid)), encoding="utf-8")
    return str(path)


def existing_round(tmp: Path) -> list[str]:
    """An incident declared 12 hours ago, unacknowledged: an /ack and a /resolve delivered at
    once, beside the tick that finds its escalation due. Returns what went wrong."""
    with FakeGitHub() as github, FakeSlack() as slack:
        for name, cid in DEFAULT_CHANNELS.items():
            slack.add_channel(name, id=cid, private=name == "security-incidents")
        issue = github.add_issue("Checkout is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))
        github.label(issue.number, "priority::highest", actor="reporter", at=T0)
        github.now = T0 + timedelta(seconds=20)
        labeled = tmp / "labeled.json"
        labeled.write_text(json.dumps(webhook(github, "issues", "labeled", issue.number, sender="reporter", label="priority::highest")),
                           encoding="utf-8")
        first = start(github, slack, ["handle"], GITHUB_EVENT_NAME="issues", GITHUB_EVENT_PATH=str(labeled))
        if first.wait(timeout=120) != 0:
            return [f"declaring failed: {first.communicate()[0][-500:]}"]
        github.now = LATER
        ack = comment_event(github, tmp, issue.number, "/ack", "eng-a", "ack")
        resolve = comment_event(github, tmp, issue.number, "/resolve rolled back the deploy", "eng-b", "resolve")
        runs = [start(github, slack, ["handle"], LATER, GITHUB_EVENT_NAME="issue_comment", GITHUB_EVENT_PATH=path)
                for path in (ack, resolve)]
        runs.append(start(github, slack, ["tick"], LATER, GITHUB_EVENT_NAME="schedule"))
        outputs = [run.communicate(timeout=300)[0] for run in runs]
        problems = [f"exit {run.returncode}: {out[-500:]}" for run, out in zip(runs, outputs) if run.returncode != 0]
        bot_comments = [c for c in github.comments_on(issue.number) if c["user"] == BOT]
        ledgers = [decode_ledger(c["body"]) for c in bot_comments if decode_ledger(c["body"])]
        if len(ledgers) != 1:
            problems.append(f"{len(ledgers)} ledgers")
        elif ledgers[0].incident.status != "resolved" or ledgers[0].outbox:  # type: ignore[union-attr]
            problems.append(f"ledger: {ledgers[0].incident.status}, outbox {ledgers[0].outbox}")  # type: ignore[union-attr]
        keys = [k for c in bot_comments for k in keys_in(c["body"])]
        if len(keys) != len(set(keys)):
            problems.append(f"a key posted twice on the issue: {sorted(k for k in keys if keys.count(k) > 1)}")
        outage = [i for i in github.issues.values() if outage_source(i.body or "") == issue.number]
        if len(outage) != 1 or outage[0].state != "closed" or github.pinned:
            problems.append(f"outage issues {[(i.number, i.state) for i in outage]}, pinned {github.pinned}")
        for channel in DEFAULT_CHANNELS.values():
            posted = [m.get("metadata", {}).get("event_payload", {}).get("key") for m in slack.messages(channel)]
            posted = [k for k in posted if k]
            if len(posted) != len(set(posted)):
                problems.append(f"a Slack message posted twice in {channel}: {sorted(k for k in posted if posted.count(k) > 1)}")
        if any(name.lower() == "outage-bot:lock" for name in github.labels):
            problems.append("the run lock was left behind")
        return problems


@pytest.mark.slow
def test_an_ack_a_resolve_and_a_tick_at_once_on_an_incident_converge_every_time(tmp_path: Path) -> None:
    failed = {n: problems for n in range(REPEAT) if (problems := existing_round(tmp_path))}
    assert failed == {}, f"{len(failed)}/{REPEAT} rounds did not converge: {failed}"
