"""Alerts on the fake GitHub: a relay's `repository_dispatch` (event_type outage-bot-alert,
the Alertmanager or Sentry body as client_payload) handled as Actions runs it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_github import BOT, FakeGitHub

from bot.cli import cli
from bot.ledger import decode_ledger

FIXTURES = Path(__file__).parents[1] / "fixtures" / "intake"
POLICY = FIXTURES / "policy.yml"
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)


def body(name: str, **alert: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if alert:
        data["alerts"][0].update(alert)
    return data


def dispatch(fake: FakeGitHub, client_payload: Any, *, event_type: str = "outage-bot-alert") -> dict[str, Any]:
    """The repository_dispatch event file Actions writes (webhook `repository_dispatch`):
    the event type in `action`, the relay's client_payload as given."""
    return {"action": event_type, "branch": "main", "client_payload": client_payload,
            "repository": {"name": fake.repo, "full_name": fake.full_name}, "sender": fake.user_json("alert-relay[bot]"),
            "installation": {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}}


def run(fake: FakeGitHub, tmp: Path, event: dict[str, Any], at: datetime) -> Result:
    fake.now = at
    path = tmp / f"event-{at:%H%M%S}.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    env = fake.env(GITHUB_EVENT_NAME="repository_dispatch", GITHUB_EVENT_PATH=str(path), GITHUB_RUN_ID="7")
    return CliRunner().invoke(cli, ["handle", "--config", str(POLICY), "--now", at.isoformat()], env=env)


def creates(fake: FakeGitHub) -> int:
    return sum(1 for line in fake.lines() if line.startswith("POST") and line.endswith("/issues"))


def test_firing_refiring_resolved_on_github(fake: FakeGitHub, tmp_path: Path) -> None:
    started = (T0 - timedelta(minutes=5)).isoformat()
    first = run(fake, tmp_path, dispatch(fake, body("alertmanager_firing", startsAt=started)), T0)
    assert first.exit_code == 0, first.output
    [issue] = fake.issues.values()
    assert issue.author == BOT and {"priority::highest", "outage", "alert"} <= set(issue.labels)
    assert "<!-- outage-bot:alert=" in (issue.body or "") and "`severity=critical`" in (issue.body or "")
    ledger = next(d for c in fake.comments_on(issue.number) if (d := decode_ledger(c["body"])))
    assert ledger.incident.active and ledger.incident.severity == "critical"
    assert creates(fake) == 1

    fake.clear()
    again = run(fake, tmp_path, dispatch(fake, body("alertmanager_firing", startsAt=started)), T0 + timedelta(hours=4))
    assert again.exit_code == 0 and "nothing new" in again.output
    assert not [line for line in fake.lines() if not line.startswith("GET")]  # nothing written

    done = run(fake, tmp_path, dispatch(fake, body("alertmanager_resolved", startsAt=started,
                                                     endsAt=(T0 + timedelta(hours=5)).isoformat())), T0 + timedelta(hours=5))
    assert done.exit_code == 0, done.output
    assert issue.state == "closed" and len(fake.issues) == 1
    resolved = [c["body"] for c in fake.comments_on(issue.number) if c["user"] == BOT and "Resolved" in c["body"]]
    assert len(resolved) == 1 and "resolved by Alertmanager at" in resolved[0]


def test_a_sentry_issue_alert_through_dispatch(fake: FakeGitHub, tmp_path: Path) -> None:
    result = run(fake, tmp_path, dispatch(fake, body("sentry_issue_alert")), T0)
    assert result.exit_code == 0, result.output
    [issue] = fake.issues.values()
    assert issue.title == "ReferenceError: heck is not defined" and "priority::higher" in issue.labels


def test_another_event_type_is_not_ours(fake: FakeGitHub, tmp_path: Path) -> None:
    result = run(fake, tmp_path, dispatch(fake, body("alertmanager_firing"), event_type="deploy"), T0)
    assert result.exit_code == 0 and "repository_dispatch 'deploy'" in result.output
    assert not fake.issues


@pytest.mark.parametrize(("client_payload", "field"), [
    ({"hello": "world"}, "field `client_payload` is not an Alertmanager or Sentry webhook body"),
    (None, "field `client_payload` is null"),
])
def test_a_client_payload_that_is_no_alert_exits_1(fake: FakeGitHub, tmp_path: Path, client_payload: Any, field: str) -> None:
    result = run(fake, tmp_path, dispatch(fake, client_payload), T0)
    assert result.exit_code == 1 and field in result.output
    assert not fake.issues


def test_a_bad_alert_names_the_field_inside_client_payload(fake: FakeGitHub, tmp_path: Path) -> None:
    broken = body("alertmanager_firing")
    del broken["alerts"][0]["labels"]["severity"]
    broken["alerts"][0]["startsAt"] = 42
    result = run(fake, tmp_path, dispatch(fake, broken), T0)
    assert result.exit_code == 1
    assert "field `client_payload.alerts[0].startsAt` is a number, not a string (Alertmanager webhook payload)" in result.output
