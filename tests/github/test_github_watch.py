"""Issue #16, probes and upstreams, as Actions runs them: `outage-bot tick` through the CLI
against the fake GitHub and the fake Slack, with the probe's target and the upstream's status
page real HTTP servers on 127.0.0.1 (httpx over loopback, PyGithub and slack_sdk for real)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from fake_github import BOT, FakeGitHub
from github_helpers import Workflow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_slack import TOKEN, FakeSlack
from loopback_target import Target

from bot.ledger import decode_ledger

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONTRACT = FIXTURES / "contract_policy.yml"
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)  # a Thursday: no handoff near
TICK = timedelta(minutes=10)
CHANNELS = {"outage-alerts": "C0ALERTS01", "troubleshooting": "C0USERS001", "announcements": "C0ANNOUNCE",
            "internal-infra-alerts": "G0SECURITY"}
MONITOR = "outage-bot:monitor"


def policy_file(tmp: Path, **sections: object) -> Path:
    data = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    data["kinds"]["upstream"]["notice_only"] = True
    data.update(sections)
    path = tmp / "policy.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def world(tmp: Path, policy: Path) -> tuple[FakeGitHub, FakeSlack, Workflow]:
    github, slack = FakeGitHub().__enter__(), FakeSlack().__enter__()
    for name, cid in CHANNELS.items():
        slack.add_channel(name, id=cid, private=cid.startswith("G"))
    return github, slack, Workflow(github, slack, tmp / "runs", policy=policy, slack_token=TOKEN, strict=True)


def monitored(github: FakeGitHub) -> list:
    return [i for i in github.issues.values() if MONITOR in i.labels]


def ledger_of(github: FakeGitHub, number: int) -> object:
    return next(led for c in github.comments_on(number) if c["user"] == BOT and (led := decode_ledger(c["body"])) is not None)


def test_a_target_answering_500_three_ticks_declares_one_incident_and_200_resolves_it(tmp_path: Path) -> None:
    with Target() as target:
        policy = policy_file(tmp_path, probes={"api": {"url": f"{target.url}/healthz", "fail_after": 3, "recover_after": 2,
                                                       "severity": "critical", "kind": "outage"}})
        github, slack, run = world(tmp_path, policy)
        try:
            target.answer(500, "upstream connect error or disconnect/reset before headers " + "x" * 2000)
            outputs = [run.tick(T0 + i * TICK).output for i in range(3)]
            (issue,) = monitored(github)
            assert issue.author == BOT and issue.state == "open"
            assert {"priority::highest", "outage", MONITOR} <= set(issue.labels)
            # the evidence: status, latency, the body's first bytes, the times
            for fact in ("HTTP 500", "latency", "upstream connect error", "last check: 2026-11-05 14:20 UTC", "since 2026-11-05 14:00 UTC"):
                assert fact in issue.body.replace("\u2060", ""), fact
            assert issue.title == "api is failing its probe (HTTP 500)"
            assert len(issue.body) < 5000  # the first bytes only
            assert "opened #" in outputs[2] and "opened #" not in outputs[0] + outputs[1]
            ledger = ledger_of(github, issue.number)
            assert ledger.incident.severity == "critical" and ledger.incident.status == "active"  # type: ignore[attr-defined]
            assert len(slack.roots(CHANNELS["outage-alerts"])) == 1

            run.tick(T0 + 3 * TICK)  # still failing: nothing new
            assert len(monitored(github)) == 1 and len(slack.roots(CHANNELS["outage-alerts"])) == 1

            target.answer(200, "ok")
            run.tick(T0 + 4 * TICK)
            assert ledger_of(github, issue.number).incident.active  # type: ignore[attr-defined]  # one good check of two
            run.tick(T0 + 5 * TICK)
            ledger = ledger_of(github, issue.number)
            assert ledger.incident.status == "resolved"  # type: ignore[attr-defined]
            assert ledger.incident.resolution.startswith("recovered at 2026-11-05 14:50 UTC, down for 50m")  # type: ignore[attr-defined]
            assert github.issues[issue.number].state == "closed"
            said = " ".join(m["text"] for m in slack.messages(CHANNELS["troubleshooting"]))
            assert "recovered at" in said  # users are told it is over

            before = len(github.requests)
            run.tick(T0 + 6 * TICK)  # up and quiet again
            assert len(monitored(github)) == 1
            assert [r for r in github.lines()[before:] if not r.startswith("GET")] == []
        finally:
            github.__exit__(None, None, None)
            slack.__exit__(None, None, None)


def test_a_flapping_target_declares_once(tmp_path: Path) -> None:
    with Target() as target:
        policy = policy_file(tmp_path, probes={"web": {"url": target.url, "severity": "major", "recover_after": 3}})
        github, slack, run = world(tmp_path, policy)
        try:
            for i, status in enumerate([500, 500, 200, 500, 500, 200, 200, 500, 500, 200]):
                target.answer(status, "flap")
                run.tick(T0 + i * TICK)
            assert len(monitored(github)) == 1
            assert len(slack.roots(CHANNELS["outage-alerts"])) == 1
            assert ledger_of(github, monitored(github)[0].number).incident.active  # type: ignore[attr-defined]
        finally:
            github.__exit__(None, None, None)
            slack.__exit__(None, None, None)


def test_an_upstream_going_major_and_back_tells_users_only(tmp_path: Path) -> None:
    with Target() as page:
        page.page(FIXTURES / "watch" / "status_none.json")
        policy = policy_file(tmp_path, upstreams={"github": {"url": f"{page.url}/api/v2/status.json"}})
        github, slack, run = world(tmp_path, policy)
        try:
            run.tick(T0)
            assert monitored(github) == []
            page.page(FIXTURES / "watch" / "status_major.json")
            run.tick(T0 + TICK)
            (issue,) = monitored(github)
            assert {"priority::high", "upstream"} <= set(issue.labels)
            assert "[https://www.githubstatus.com](https://www.githubstatus.com)" in issue.body.replace("\u2060", "")
            ledger = ledger_of(github, issue.number)
            assert ledger.incident.kind == "upstream" and ledger.incident.tagged == ()  # type: ignore[attr-defined]
            users = slack.roots(CHANNELS["troubleshooting"])
            assert len(users) == 1 and "Partial System Outage" not in users[0]["text"] or len(users) == 1
            for team in ("outage-alerts", "announcements", "internal-infra-alerts"):
                assert slack.messages(CHANNELS[team]) == [], team  # nobody paged, no team alert
            tag = next(c["body"] for c in github.comments_on(issue.number) if "declared" in c["body"])
            assert "@" not in tag.replace("\u2060", "") and "nothing is owed" in tag

            for i in range(2, 30):  # days pass, still major: no reminder, escalation or breach
                run.tick(T0 + i * timedelta(hours=3))
            assert len([c for c in github.comments_on(issue.number) if c["user"] == BOT]) == 1  # the tag, which carries the ledger

            page.page(FIXTURES / "watch" / "status_none.json")
            run.tick(T0 + 30 * timedelta(hours=3))
            assert ledger_of(github, issue.number).incident.status == "resolved"  # type: ignore[attr-defined]
            assert github.issues[issue.number].state == "closed"
            assert len(slack.messages(CHANNELS["troubleshooting"])) >= 2
            # the team's channel heard only the bot's own news (these ticks are 3 h apart: a gap)
            assert all("incident" not in m["text"].lower() for m in slack.messages(CHANNELS["outage-alerts"])), \
                [m["text"][:200] for m in slack.messages(CHANNELS["outage-alerts"])][:2]
        finally:
            github.__exit__(None, None, None)
            slack.__exit__(None, None, None)


def test_a_header_token_is_sent_and_never_printed_and_a_missing_one_is_named(tmp_path: Path) -> None:
    with Target() as target:
        policy = policy_file(tmp_path, probes={"api": {"url": f"{target.url}/private?key=abc123",
                                                       "headers": {"Authorization": "Bearer ${PROBE_TOKEN}"},
                                                       "severity": "major", "fail_after": 1}})
        github, slack, run = world(tmp_path, policy)
        try:
            result = run.tick(T0)
            assert "PROBE_TOKEN" in result.output and target.hits == 0 and monitored(github) == []
            run._invoke(["tick"], T0 + TICK, GITHUB_EVENT_NAME="schedule", PROBE_TOKEN="tok-s3cr3t")
            assert target.seen_headers[-1]["Authorization"] == "Bearer tok-s3cr3t"
            target.answer(503, "down")
            result = run._invoke(["tick"], T0 + 2 * TICK, GITHUB_EVENT_NAME="schedule", PROBE_TOKEN="tok-s3cr3t")
            (issue,) = monitored(github)
            everything = result.output + issue.body + " ".join(c["body"] for c in github.comments_on(issue.number))
            everything += " ".join(m["text"] for cid in CHANNELS.values() for m in slack.messages(cid))
            assert "tok-s3cr3t" not in everything and "abc123" not in everything
        finally:
            github.__exit__(None, None, None)
            slack.__exit__(None, None, None)


@pytest.mark.slow
def test_two_ticks_at_once_declare_a_failing_probe_once(tmp_path: Path) -> None:
    """Ticks share a concurrency group in the shipped wiring, but a manual run can overlap one:
    the declaration is made under the run lock, and the second finds the first's issue."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    rounds = 5
    with Target() as target:
        target.answer(500, "down", delay=0.05)
        policy = policy_file(tmp_path, probes={"api": {"url": target.url, "severity": "major", "fail_after": 1}})
        for n in range(rounds):
            with FakeGitHub() as github:
                env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root), **github.env(GITHUB_EVENT_NAME="schedule")}
                command = [sys.executable, "-c", "from bot.cli import main; main()", "tick", "--config", str(policy),
                           "--now", (T0 + timedelta(minutes=n)).isoformat()]
                runs = [subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                        for _ in range(2)]
                for process in runs:
                    _, err = process.communicate(timeout=120)
                    assert process.returncode == 0, err
                assert len(monitored(github)) == 1, f"round {n}"


@pytest.mark.parametrize("answer", [502, "drop"])
def test_a_probe_issue_whose_create_answer_was_lost_is_found_not_opened_twice(tmp_path: Path, answer: object) -> None:
    with Target() as target:
        policy = policy_file(tmp_path, probes={"api": {"url": target.url, "severity": "major", "fail_after": 1}})
        github, slack, run = world(tmp_path, policy)
        run.strict = False  # the cut run may exit 2; the next tick must finish its work
        try:
            target.answer(500, "down")
            github.fault("POST", r"/repos/[^/]+/[^/]+/issues$", performed=True, answer=answer)
            run.tick(T0)
            run.tick(T0 + TICK)
            run.tick(T0 + 2 * TICK)
            (issue,) = monitored(github)
            assert ledger_of(github, issue.number).incident.active  # type: ignore[attr-defined]
            assert len(slack.roots(CHANNELS["outage-alerts"])) == 1
        finally:
            github.__exit__(None, None, None)
            slack.__exit__(None, None, None)
