"""Alerts on the fake GitLab: Alertmanager and Sentry posting straight to the pipeline
trigger URL, so the job reads their body from TRIGGER_PAYLOAD (with the trigger's own `ref`,
`id` and `variables` merged in, as GitLab stores it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from chat_sink import ChatSink
from click.testing import CliRunner, Result
from fake_gitlab import FakeGitLab
from gitlab_pipeline import Pipeline
from payloads import as_trigger_payload, write

from bot.cli import cli
from bot.ledger import decode_ledger

FIXTURES = Path(__file__).parents[1] / "fixtures" / "intake"
POLICY = FIXTURES / "policy.yml"
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with FakeGitLab(now=T0) as fake, ChatSink() as sink:
        yield Pipeline(fake, sink, tmp_path)


def body(name: str, **alert: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if alert:
        data["alerts"][0].update(alert)
    return data


def post(pipeline: Pipeline, alert_body: dict[str, Any], at: datetime) -> Result:
    """The sender's POST to the trigger URL, then the pipeline's `outage-bot handle`."""
    pipeline.runs += 1
    path = write(pipeline.tmp, as_trigger_payload(alert_body, project_id=pipeline.fake.project_id), f"alert-{pipeline.runs}.json")
    env = {**pipeline.environ("trigger", path), "OUTAGE_BOT_CONFIG": str(POLICY)}
    return CliRunner().invoke(cli, ["handle", "--now", at.isoformat()], env=env)


def alert_issues(fake: FakeGitLab) -> list[dict[str, Any]]:
    """The issues opened for alerts (GitLab's runs also write the status issue at once)."""
    return [i for i in fake.issues.values() if "alert" in i["labels"]]


def ledger_of(fake: FakeGitLab, iid: int) -> Any:
    return next(d for n in fake.notes.get(iid, []) if (d := decode_ledger(n["body"])))


def test_firing_refiring_resolved_through_the_trigger(pipeline: Pipeline) -> None:
    fake = pipeline.fake
    started = (T0 - timedelta(minutes=5)).isoformat()
    first = post(pipeline, body("alertmanager_firing", startsAt=started), T0)
    assert first.exit_code == 0, first.output
    [issue] = alert_issues(fake)
    assert issue["author"] == fake.bot and {"priority::highest", "outage", "alert"} <= set(issue["labels"])
    assert "<!-- outage-bot:alert=" in issue["description"]
    assert ledger_of(fake, issue["iid"]).incident.severity == "critical"

    fake.reset_requests()
    again = post(pipeline, body("alertmanager_firing", startsAt=started), T0 + timedelta(hours=4))
    assert again.exit_code == 0 and "nothing new" in again.output
    assert not [r for r in fake.requests if r.method != "GET"]  # nothing written

    done = post(pipeline, body("alertmanager_resolved", startsAt=started, endsAt=(T0 + timedelta(hours=5)).isoformat()),
                T0 + timedelta(hours=5))
    assert done.exit_code == 0, done.output
    assert len(alert_issues(fake)) == 1 and fake.issues[issue["iid"]]["state"] == "closed"
    incident = ledger_of(fake, issue["iid"]).incident
    assert incident.status == "resolved" and incident.resolution.startswith("resolved by Alertmanager at")

    twice = post(pipeline, body("alertmanager_resolved", startsAt=started, endsAt=(T0 + timedelta(hours=5)).isoformat()),
                 T0 + timedelta(hours=6))
    assert twice.exit_code == 0 and "nothing to resolve" in twice.output


def test_sentry_metric_alert_through_the_trigger(pipeline: Pipeline) -> None:
    fake = pipeline.fake
    assert post(pipeline, body("sentry_metric_alert_critical"), T0).exit_code == 0
    [issue] = alert_issues(fake)
    assert issue["title"] == "Critical: Too many errors" and "priority::higher" in issue["labels"]
    result = post(pipeline, body("sentry_metric_alert_resolved"), T0 + timedelta(minutes=30))
    assert result.exit_code == 0, result.output
    assert ledger_of(fake, issue["iid"]).incident.status == "resolved"


def test_an_unrouted_alert_is_ignored(pipeline: Pipeline) -> None:
    data = body("alertmanager_firing")
    for labels in (data["commonLabels"], data["alerts"][0]["labels"]):
        labels["severity"] = "info"
    result = post(pipeline, data, T0)
    assert result.exit_code == 0 and "ignored" in result.output
    assert not alert_issues(pipeline.fake)


def test_a_bad_alert_body_exits_1_naming_the_field(pipeline: Pipeline) -> None:
    data = body("alertmanager_firing")
    data["alerts"][0]["status"] = "on fire"
    result = post(pipeline, data, T0)
    assert result.exit_code == 1
    assert "TRIGGER_PAYLOAD: field `alerts[0].status` is 'on fire' (expected: firing or resolved)" in result.output
    assert not alert_issues(pipeline.fake)
