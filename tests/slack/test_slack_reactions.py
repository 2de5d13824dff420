"""Issue 13, part 1: reactions on the alert are commands. Meltano's responders put 👀 on the
alert ("I'm on it") and ✅ when it is fixed. The tick reads them (a CI job has no Events API
endpoint): one conversations.history page per team channel, and the thread for a ✅ (the
resolver's latest reply is the note). Only the policy's people count, by their Slack id: the
same rule as on the forge. On the fake GitHub and the fake Slack, as Actions runs it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from chat_samples import DEFAULT_CHANNELS
from click.testing import CliRunner, Result
from fake_slack import TOKEN, FakeSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "github"))
from fake_github import BOT, FakeGitHub  # tests/github is not a package, on purpose
from github_helpers import webhook

from bot.cli import cli
from bot.ledger import decode_ledger

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)
POLICY = str(Path(__file__).resolve().parents[1] / "fixtures" / "team_policy.yml")
ALERTS = DEFAULT_CHANNELS["outage-alerts"]
ENG_A = "U00000ENGA"  # eng-a's Slack id in the team policy


class World:
    def __init__(self, github: FakeGitHub, slack: FakeSlack, tmp: Path, *, policy: str = POLICY) -> None:
        self.github, self.slack, self.tmp, self.policy = github, slack, tmp, policy

    def run(self, args: list[str], at: datetime, **env: str) -> Result:
        self.github.now = at
        environ = self.github.env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=self.slack.api_url, **env)
        result = CliRunner().invoke(cli, [*args, "--config", self.policy, "--now", at.isoformat()], env=environ)
        assert result.exit_code == 0, result.output
        return result

    def tick(self, at: datetime) -> Result:
        return self.run(["tick"], at, GITHUB_EVENT_NAME="schedule")

    def root(self) -> dict[str, Any]:
        [root] = [m for m in self.slack.roots(ALERTS) if str(m["metadata"]["event_payload"]["key"]).endswith(":chat:alerts")]
        return root

    def ledger(self) -> Any:
        return next(led for c in self.github.comments_on(1) if c["user"] == BOT and (led := decode_ledger(c["body"])))

    def bot_comments(self) -> list[str]:
        return [c["body"] for c in self.github.comments_on(1) if c["user"] == BOT]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with FakeGitHub() as github, FakeSlack(start=T0) as slack:
        yield declared_world(github, slack, tmp_path)


def test_eyes_on_the_alert_by_a_person_acknowledges_once_and_stops_the_escalation(world: World) -> None:
    world.slack.react_as_user(ALERTS, world.root()["ts"], "eyes", user=ENG_A)
    world.tick(T0 + timedelta(minutes=20))
    assert world.ledger().incident.status == "acknowledged" and world.ledger().incident.acknowledged_by == "eng-a"
    acks = [b for b in world.bot_comments() if "Acknowledged" in b]
    assert len(acks) == 1 and "eng-a" in acks[0]  # mirrored to the issue, as a 👀 there would be
    assert "incident::acknowledged" in world.github.issues[2].labels
    world.tick(T0 + timedelta(minutes=30))  # read again: nothing twice
    world.tick(T0 + timedelta(hours=12, minutes=5))  # the escalation would be due now
    assert len([b for b in world.bot_comments() if "Acknowledged" in b]) == 1
    assert not [b for b in world.bot_comments() if "Escalation (step" in b]


def test_a_strangers_eyes_change_nothing(world: World) -> None:
    world.slack.react_as_user(ALERTS, world.root()["ts"], "eyes", user="U0STRANGER")
    world.tick(T0 + timedelta(minutes=20))
    assert world.ledger().incident.status == "active"
    world.tick(T0 + timedelta(hours=12, minutes=5))
    assert [b for b in world.bot_comments() if "Escalation (step" in b]  # the process goes on


def test_a_check_mark_resolves_with_the_persons_latest_reply_as_the_note(world: World) -> None:
    root = world.root()["ts"]
    world.slack.now = T0 + timedelta(minutes=15)  # new replies too: they are copied, from the same read
    world.slack.reply_as_user(ALERTS, root, "looking", user=ENG_A)
    world.slack.reply_as_user(ALERTS, root, "someone else's words", user="U0STRANGER")
    world.slack.reply_as_user(ALERTS, root, "Rolled back to 1.2.3 <!channel>", user=ENG_A)
    world.slack.react_as_user(ALERTS, root, "white_check_mark", user=ENG_A)
    world.tick(T0 + timedelta(minutes=20))
    assert len(world.slack.calls("conversations.replies")) == 1  # the thread, read once for both
    incident = world.ledger().incident
    assert incident.status == "resolved" and incident.resolved_by == "eng-a" and incident.resolution == "Rolled back to 1.2.3 <!channel>"
    [resolved] = [b for b in world.bot_comments() if "**Resolved**" in b]
    assert "Rolled back to 1.2.3" in resolved
    assert world.github.issues[2].state == "closed"
    # what the bot wrote back to Slack mentions nobody: the note is text there too
    assert not any("<!channel>" in str(m.get("text")) for m in world.slack.messages(ALERTS) if m.get("bot_id"))
    world.tick(T0 + timedelta(minutes=30))
    assert len([b for b in world.bot_comments() if "**Resolved**" in b]) == 1


def test_a_quiet_tick_reads_one_history_page_and_nothing_when_no_incident_is_active(world: World) -> None:
    before = len(world.slack.calls("conversations.history"))
    world.tick(T0 + timedelta(minutes=20))
    assert len(world.slack.calls("conversations.history")) == before + 1  # the alerts channel (the only team one routed)
    assert not world.slack.calls("conversations.replies")


# -- issue 13, part 2: thread replies become the record -------------------------------------------
def test_the_teams_replies_in_the_alert_thread_are_copied_to_the_outage_issue_once(world: World) -> None:
    root = world.root()["ts"]
    world.slack.now = T0 + timedelta(minutes=15)  # replies after the last tick, as in real time
    world.slack.reply_as_user(ALERTS, root, "Found it: the payment provider rotated a key <!channel>", user=ENG_A)
    world.slack.reply_as_user(ALERTS, root, "me too!!", user="U0STRANGER")  # not the policy's: not copied
    world.tick(T0 + timedelta(minutes=20))
    world.tick(T0 + timedelta(minutes=30))  # read again: nothing twice
    copied = [c["body"] for c in world.github.comments_on(2) if c["user"] == BOT and "in the alert's thread" in c["body"]]
    assert len(copied) == 1 and "**Engineer A**" in copied[0] and "the payment provider rotated a key" in copied[0]
    assert "<!channel>" not in copied[0] or "&lt;!channel" in copied[0] or "\u2060" in copied[0]  # inert text
    assert not any("me too" in c["body"] for c in world.github.comments_on(2))
    world.slack.now = T0 + timedelta(minutes=35)
    world.slack.reply_as_user(ALERTS, root, "Key restored, watching the error rate", user=ENG_A)
    world.tick(T0 + timedelta(minutes=40))
    copied = [c["body"] for c in world.github.comments_on(2) if c["user"] == BOT and "in the alert's thread" in c["body"]]
    assert len(copied) == 2 and "Key restored" in copied[1]


def test_a_channel_can_keep_its_replies_to_itself(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(Path(POLICY).read_text(encoding="utf-8"))
    data["channels"]["alerts"]["copy_replies"] = False
    policy = tmp_path / "policy.yml"
    policy.write_text(yaml.safe_dump(data), encoding="utf-8")
    with FakeGitHub() as github, FakeSlack(start=T0) as slack:
        w = declared_world(github, slack, tmp_path, policy=str(policy))
        slack.now = T0 + timedelta(minutes=15)
        slack.reply_as_user(ALERTS, w.root()["ts"], "internal chatter", user=ENG_A)
        w.tick(T0 + timedelta(minutes=20))
        assert not any("internal chatter" in c["body"] for c in github.comments_on(2))
        assert not slack.calls("conversations.replies")


# -- a crash after any request of such a tick, then the next tick ------------------------------------
def snapshot(world: World) -> Any:
    """What people see: the bot's comments (markers and times left out), issue states and labels,
    the ledger's decisions, and the Slack messages' keys (each must appear once)."""
    import re

    def neutral(body: str) -> str:
        # a reaction has no time in Slack: the tick that sees it is when it is resolved, so a run
        # cut before it recorded that says a later time; nothing else may differ
        body = re.sub(r"<!-- outage-bot:(ledger|status) v1 \S+ -->", "", body)
        return re.sub(r"[A-Z][a-z]{2} \d{2} [A-Z][a-z]{2} \d{2}:\d{2} [A-Z]{3,5} \(\d{2}:\d{2} UTC\)", "(time)", body)

    comments = {n: sorted(neutral(c["body"]) for c in world.github.comments_on(n) if c["user"] == BOT) for n in (1, 2)}
    issues = {n: (i.state, tuple(sorted(i.labels))) for n, i in world.github.issues.items() if n in (1, 2)}
    led = world.ledger()
    keys = sorted(str(m["metadata"]["event_payload"]["key"]) for cid in DEFAULT_CHANNELS.values()
                  for m in world.slack.messages(cid) if m.get("metadata"))
    return comments, issues, (led.incident.status, led.incident.resolved_by, led.incident.resolution, sorted(led.done)), keys


def react_and_tick(world: World, *, cut: int | None = None, lose: bool = False) -> int:
    """A ✅ (with a reply as the note) on the alert; the tick that sees it, cut after `cut`
    GitHub requests; then the next tick after the cut run's lease and lock are past. Returns the
    seen tick's GitHub request count."""
    from bot.executor import LEASE

    root = world.root()["ts"]
    world.slack.now = T0 + timedelta(minutes=15)
    world.slack.reply_as_user(ALERTS, root, "Rolled back to 1.2.3", user=ENG_A)
    world.slack.react_as_user(ALERTS, root, "white_check_mark", user=ENG_A)
    before = len(world.github.lines())
    if cut is not None:
        world.github.interrupt_after(cut, lose_answer=lose)
        world.github.now = T0 + timedelta(minutes=20)
        environ = world.github.env(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=world.slack.api_url, GITHUB_EVENT_NAME="schedule")
        CliRunner().invoke(cli, ["tick", "--config", world.policy, "--now", (T0 + timedelta(minutes=20)).isoformat()], env=environ)
        world.github.resume()
        world.tick(T0 + timedelta(minutes=20) + LEASE + timedelta(minutes=1))
        return 0
    world.tick(T0 + timedelta(minutes=20))
    count = len(world.github.lines()) - before
    world.tick(T0 + timedelta(minutes=20) + LEASE + timedelta(minutes=1))
    return count


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, int]:
    tmp = tmp_path_factory.mktemp("reference")
    with FakeGitHub() as github, FakeSlack(start=T0) as slack:
        w = declared_world(github, slack, tmp)
        count = react_and_tick(w)
        return snapshot(w), count


def declared_world(github: FakeGitHub, slack: FakeSlack, tmp: Path, *, policy: str = POLICY) -> World:
    """A critical incident declared by its label event at T0, and the tick that indexed it."""
    for name, cid in DEFAULT_CHANNELS.items():
        slack.add_channel(name, id=cid, private=name == "security-incidents")
    w = World(github, slack, tmp, policy=policy)
    github.add_issue("Checkout is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))
    github.label(1, "priority::highest", actor="reporter", at=T0)
    event = tmp / "labeled.json"
    github.now = T0 + timedelta(seconds=20)
    event.write_text(json.dumps(webhook(github, "issues", "labeled", 1, sender="reporter", label="priority::highest")))
    w.run(["handle"], T0 + timedelta(seconds=20), GITHUB_EVENT_NAME="issues", GITHUB_EVENT_PATH=str(event))
    w.tick(T0 + timedelta(minutes=10))
    return w


CUTS = 14  # the seen tick's GitHub requests (asserted below)


def test_the_reaction_tick_is_counted(reference: tuple[Any, int]) -> None:
    state, count = reference
    # the listing, the lock, the ledger, the reply copied (write-ahead, comment, ledger), the
    # resolution (its notice, the outage issue edited, unlabeled, unpinned, closed, the ledger),
    # the status issue, the lock given back
    assert state[2][0] == "resolved" and count == CUTS


@pytest.mark.slow
@pytest.mark.parametrize(("cut", "lose"), [(k, lose) for k in range(CUTS) for lose in (False, True)])
def test_a_reaction_tick_cut_after_any_request_then_ticked_again_ends_the_same(
        tmp_path: Path, reference: tuple[Any, int], cut: int, lose: bool) -> None:
    with FakeGitHub() as github, FakeSlack(start=T0) as slack:
        w = declared_world(github, slack, tmp_path)
        react_and_tick(w, cut=cut, lose=lose)
        state = snapshot(w)
    assert state == reference[0]
    keys = state[3]
    assert len(keys) == len(set(keys))  # nothing posted twice in Slack


def test_a_check_mark_after_the_acknowledgement_resolves_too(world: World) -> None:
    """The alert edited to "acknowledged" carries that edit's key (chat.update replaces the
    metadata): it is still the incident's alert."""
    root = world.root()["ts"]
    world.slack.react_as_user(ALERTS, root, "eyes", user=ENG_A)
    world.tick(T0 + timedelta(minutes=20))
    assert world.ledger().incident.status == "acknowledged"
    world.slack.react_as_user(ALERTS, root, "heavy_check_mark", user=ENG_A)
    world.tick(T0 + timedelta(minutes=30))
    assert world.ledger().incident.status == "resolved"
