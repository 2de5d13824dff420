"""Issue 13, part 3: an @oncall Slack user group that follows the rotation. At each handoff
(and when an override changes who is on call) the tick sets the group's members with
usergroups.users.update, once; the handoff notice mentions the group. Through the real
SlackNotifier (slack_sdk) against the fake Slack, on the local forge."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from chat_samples import DEFAULT_CHANNELS
from fake_slack import TOKEN, FakeSlack

from bot.adapters.local import LocalForge
from bot.adapters.slack import SlackNotifier
from bot.config import load
from bot.errors import ConfigError
from bot.runner import Runner

TEAM = Path(__file__).resolve().parents[1] / "fixtures" / "team_policy.yml"
HANDOFF = datetime(2026, 11, 9, 17, 0, tzinfo=timezone.utc)  # Monday 12:00 in New York
GROUP = "S0ONCALL01"


def policy_file(tmp: Path, **group: object) -> Path:
    data = yaml.safe_load(TEAM.read_text(encoding="utf-8"))
    data["oncall"].update(group)
    path = tmp / "policy.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def tick(tmp: Path, slack: FakeSlack, policy_path: Path, at: datetime) -> None:
    policy, renderer = load(policy_path)
    forge = LocalForge(tmp / "forge.sqlite", clock=lambda: at)
    notifier = SlackNotifier(TOKEN, base_url=slack.api_url, backoff=0.01, timeout=5)
    report = Runner(forge, {c: notifier for c in policy.channels}, policy, renderer, now=at, sleep=lambda _: None).tick()
    assert not report.failures, report.failures


def people(policy_path: Path, at: datetime) -> tuple[str, str]:
    from bot.oncall import on_call

    policy, _ = load(policy_path)
    assert policy.oncall is not None
    shift = on_call(policy.oncall, policy.tz, at)
    return policy.people[shift.primary].slack or "", policy.people[shift.secondary].slack or ""


@pytest.fixture
def slack() -> FakeSlack:
    with FakeSlack() as server:
        for name, cid in DEFAULT_CHANNELS.items():
            server.add_channel(name, id=cid, private=name == "security-incidents")
        server.add_usergroup(GROUP, "oncall", ("U0SOMEBODY",))
        yield server


def test_the_group_follows_the_handoff_once_and_the_notice_mentions_it(tmp_path: Path, slack: FakeSlack) -> None:
    path = policy_file(tmp_path, slack_group=GROUP)
    tick(tmp_path, slack, path, HANDOFF - timedelta(minutes=10))
    before = people(path, HANDOFF - timedelta(minutes=10))[0]
    assert slack.usergroups[GROUP]["users"] == [before]  # set to the primary on call now
    tick(tmp_path, slack, path, HANDOFF + timedelta(minutes=5))
    primary, _ = people(path, HANDOFF + timedelta(minutes=5))
    assert primary != before and slack.usergroups[GROUP]["users"] == [primary]
    handoffs = [m for m in slack.roots(DEFAULT_CHANNELS["outage-alerts"]) if "handoff" in str(m["metadata"]["event_payload"]["key"])]
    assert len(handoffs) == 1 and f"<!subteam^{GROUP}>" in handoffs[0]["text"]
    updates = len(slack.calls("usergroups.users.update"))
    tick(tmp_path, slack, path, HANDOFF + timedelta(minutes=15))  # the same people: no second update
    assert len(slack.calls("usergroups.users.update")) == updates == 2


def test_both_puts_the_secondary_in_too(tmp_path: Path, slack: FakeSlack) -> None:
    path = policy_file(tmp_path, slack_group=GROUP, slack_group_members="both")
    tick(tmp_path, slack, path, HANDOFF + timedelta(minutes=5))
    assert slack.usergroups[GROUP]["users"] == list(people(path, HANDOFF + timedelta(minutes=5)))


def test_a_group_that_is_not_an_id_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(policy_file(tmp_path, slack_group="@oncall"))
    assert "policy.yml:" in str(caught.value) and "slack_group" in str(caught.value)
