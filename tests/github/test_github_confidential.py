"""Issue #11 item 2's "done when", on GitHub: a confidential (security, critical) incident runs
its whole life beside a public one, as Actions runs it (`outage-bot handle` per event, `tick`
on schedule, through the CLI against the fake GitHub, with Slack's Web API pointed at the fake
Slack), and then every public thing the bot wrote is searched for the incident's title, its
number and the words of its resolution note: 0 hits.

GitHub has no confidential issue: the incident gets no outage issue, one comment on its source
issue pointing to a private security advisory, messages in the security channel only, and no
place in the status issue (there is no private index on GitHub). What "public" means here:
every issue but the incident's own source issue (titles, bodies, the status issue's decoded
index), every comment on those, and every message to the alerts, users and announcements
channels. The search itself is tests/test_confidential.py's.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_github import BOT, FakeGitHub
from github_helpers import webhook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
from fake_slack import TOKEN, FakeSlack  # tests/slack is not a package, on purpose

from bot.cli import cli
from bot.ledger import STATUS_RE, decode_ledger
from tests.test_confidential import (
    PUBLIC_NOTE,
    PUBLIC_TITLE,
    SECRET_BODY,
    SECRET_NOTE,
    SECRET_TITLE,
    T0,
    Secret,
    clean_environment,
    count_hits,
    h,
    strings,
)

POLICY = Path(__file__).resolve().parents[1] / "fixtures" / "contract_policy.yml"
PUBLIC_CHANNELS = {"outage-alerts": "C0ALERTS01", "troubleshooting": "C0USERS001", "announcements": "C0ANNOUNCE"}
SECURITY = ("internal-infra-alerts", "G0SECURITY")  # the policy's `security` channel: private


class Actions:
    """Runs outage-bot the way the workflow does, one job at a time, with SLACK_BOT_TOKEN set."""

    def __init__(self, github: FakeGitHub, slack: FakeSlack, tmp: Path) -> None:
        self.github, self.slack, self.tmp, self.runs = github, slack, tmp, 0
        self.log: list[str] = []

    def _invoke(self, args: list[str], at: datetime, **env: str) -> Result:
        self.github.now = at
        environ = self.github.env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=self.slack.api_url, **env)
        result = CliRunner().invoke(cli, [*args, "--config", str(POLICY), "--now", at.isoformat()], env=environ)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        self.log.append(result.output)  # stdout and stderr, as the job log shows them
        return result

    def _run(self, args: list[str], at: datetime, **env: str) -> Result:
        result = self._invoke(args, at, **env)
        assert result.exit_code == 0, result.output
        return result

    def declare(self, args: list[str], at: datetime) -> Result:
        """`outage-bot declare` from a manually run workflow."""
        return self._invoke(["declare", *args], at, GITHUB_EVENT_NAME="workflow_dispatch")

    def handle(self, event: str, action: str, number: int, *, sender: str, at: datetime, **extra: Any) -> Result:
        self.runs += 1
        path = self.tmp / f"event-{self.runs}.json"
        self.github.now = at
        path.write_text(json.dumps(webhook(self.github, event, action, number, sender=sender, **extra)), encoding="utf-8")
        return self._run(["handle"], at, GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(path), GITHUB_RUN_ID=str(self.runs))

    def tick(self, at: datetime) -> Result:
        return self._run(["tick"], at, GITHUB_EVENT_NAME="schedule")

    def label(self, number: int, label: str, *, by: str, at: datetime) -> Result:
        self.github.label(number, label, actor=by, at=at)
        return self.handle("issues", "labeled", number, sender=by, at=at + timedelta(seconds=20), label=label)

    def comment(self, number: int, text: str, *, by: str, at: datetime) -> Result:
        cid = self.github.comment(number, text, user=by, at=at)
        return self.handle("issue_comment", "created", number, sender=by, at=at + timedelta(seconds=20), comment=cid)


def public_places(github: FakeGitHub, slack: FakeSlack, secret: Secret) -> list[tuple[str, str]]:
    """Everything public the bot (or anyone) left: issues but the source and their comments
    (as they are, and every write as sent), the public channels' messages (as stored, and
    every post and edit as sent)."""
    places: list[tuple[str, str]] = []
    for number, issue in sorted(github.issues.items()):
        if number == secret.number:
            continue
        places += [(f"issue #{number} title", issue.title), (f"issue #{number} body", issue.body or "")]
        places += [(f"comment on #{number} by {c['user']}", c["body"]) for c in github.comments_on(number)]
    # every write as sent: an edited body's earlier versions stay public in the issue's history
    for r in github.requests:
        if r.method not in ("POST", "PATCH", "PUT") or r.path.endswith("/graphql"):
            continue
        edited = re.search(r"/issues/comments/(\d+)$", r.path)
        target = re.search(r"/issues/(\d+)", r.path)
        on = github.comments[int(edited[1])]["issue"] if edited else int(target[1]) if target else None
        if on != secret.number:
            places.append((f"{r.method} {r.path} (on #{on})", strings(r.body)))
    public = set(PUBLIC_CHANNELS.values()) | set(PUBLIC_CHANNELS) | {f"#{name}" for name in PUBLIC_CHANNELS}
    for name, cid in PUBLIC_CHANNELS.items():
        places += [(f"slack #{name} message", strings(m)) for m in slack.messages(cid)]
    for call in slack.calls():  # every post and edit as sent
        if str(call.args.get("channel", "")) in public:
            places.append((f"slack {call.api} to {call.args['channel']}", strings(call.args)))
    return places


@dataclass
class Life:
    """The end of a confidential incident's life on the fake GitHub, beside a public one."""

    github: FakeGitHub
    slack: FakeSlack
    number: int  # the confidential incident's issue
    secret: Secret
    log: list[str]  # what every run printed: the Actions job logs


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    with clean_environment(), FakeGitHub(now=T0) as github, FakeSlack() as slack:
        for name, cid in PUBLIC_CHANNELS.items():
            slack.add_channel(name, id=cid)
        slack.add_channel(SECURITY[0], id=SECURITY[1], private=True)
        run = Actions(github, slack, tmp_path_factory.mktemp("github"))
        github.set_role("maint", "maintain")

        # a public critical incident: #1, its outage issue #2 (pinned)
        github.add_issue(PUBLIC_TITLE, "Every order fails with a 502.", author="reporter", at=h(minutes=-5))
        run.label(1, "priority::highest", by="reporter", at=h())
        # the confidential one: one `labeled` event per label, the kind first
        number = github.add_issue(SECRET_TITLE, SECRET_BODY, author="reporter", at=h(minutes=4)).number
        run.label(number, "security", by="reporter", at=h(minutes=5))
        declared = run.label(number, "priority::highest", by="reporter", at=h(minutes=6))
        assert f"declared: critical (security) incident on #{number}" in declared.output

        run.tick(h(minutes=10))
        github.react(1, "eyes", user="aj-gh", at=h(minutes=25))  # the public one acknowledged (seen by the tick)
        for moment in (h(minutes=30), h(3, 10), h(12, 10), h(20, 10), h(23, 10)):  # handoff, secondary called, reminders
            run.tick(moment)
        github.react(number, "eyes", user="sec-lead", at=h(23, 12))  # the security lead: a policy person
        acked = run.tick(h(23, 20))
        assert "acknowledged by sec-lead" in acked.output
        run.comment(1, f"/resolve {PUBLIC_NOTE}", by="maint", at=h(23, 40))
        run.tick(h(23, 50))
        run.tick(h(24, 10))  # the confidential one's deadline (24h after 14:06) has passed: the breach notice
        resolved = run.comment(number, f"/resolve {SECRET_NOTE}", by="sec-lead", at=h(24, 20))
        assert "resolved by sec-lead" in resolved.output, resolved.output
        for moment in (h(24, 30), h(25, 30)):  # the status issue rewritten with the history
            run.tick(moment)
        yield Life(github, slack, number, Secret(SECRET_TITLE, number, SECRET_NOTE), run.log)


def test_nothing_public_names_the_confidential_incident_on_github(life: Life) -> None:
    places = public_places(life.github, life.slack, life.secret)
    count, found = count_hits(life.secret, places)
    print(f"github: searched {len(life.github.issues) - 1} public issues, {len(places)} texts: {count} hits")
    assert count == 0, "\n".join(found)
    # the control: the public status issue does list the public incident and its note
    [status] = [i for i in life.github.issues.values() if i.author == BOT and STATUS_RE.search(i.body or "")]
    assert PUBLIC_TITLE in (status.body or "") and PUBLIC_NOTE in (status.body or "")
    # and there is no other issue: no outage issue, no second status issue (GitHub has no confidential one)
    assert sorted(life.github.issues) == [1, 2, life.number, status.number]


def test_the_confidential_incident_lived_in_private_on_github(life: Life) -> None:
    """The controls: the incident went through its life, on its source issue and in its own
    channel, so the search above had something to miss."""
    own = [c["body"] for c in life.github.comments_on(life.number) if c["user"] == BOT]
    assert sum("private security advisory" in b for b in own) == 1
    assert all(any(word in b for b in own) for word in ("Escalation", "left", "Acknowledged", "Deadline missed", "Resolved"))
    ledger = next(filter(None, (decode_ledger(b) for b in own)))
    assert ledger.incident.status == "resolved" and ledger.incident.resolution == SECRET_NOTE
    security = strings(life.slack.messages(SECURITY[1]))
    assert "Quokka" in security and "marmalade" in security and len(life.slack.messages(SECURITY[1])) >= 5
    assert len(life.slack.messages(PUBLIC_CHANNELS["outage-alerts"])) >= 5  # the public incident's thread, the handoff


def test_the_job_logs_do_not_name_it_on_github(life: Life) -> None:
    """A public repository's Actions logs are public: no title, no resolution note in them
    (the number is not looked for: the source issue is public on GitHub anyway)."""
    secret = Secret(SECRET_TITLE, None, SECRET_NOTE)
    count, found = count_hits(secret, [(f"job log {i + 1}", text) for i, text in enumerate(life.log)])
    assert count == 0, "\n".join(found)


def test_declaring_a_confidential_kind_by_hand_opens_no_public_issue_naming_it_on_github(tmp_path: Path) -> None:
    body = tmp_path / "body.md"
    body.write_text(SECRET_BODY, encoding="utf-8")
    with clean_environment(), FakeGitHub(now=T0) as github, FakeSlack() as slack:
        for name, cid in PUBLIC_CHANNELS.items():
            slack.add_channel(name, id=cid)
        slack.add_channel(SECURITY[0], id=SECURITY[1], private=True)
        run = Actions(github, slack, tmp_path)
        result = run.declare(["--severity", "critical", "--kind", "security", "--title", SECRET_TITLE, "--body-file", str(body)], T0)
        assert result.exit_code in (0, 1), result.output  # done, or refused with a reason: never a crash
        secret = Secret(SECRET_TITLE, None, SECRET_BODY)
        count, found = count_hits(secret, public_places(github, slack, secret))
        assert count == 0, "\n".join(found)
