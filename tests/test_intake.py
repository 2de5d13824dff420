"""Alert intake (issue 16, part 3): the documented Alertmanager and Sentry payloads parsed and
routed, and their life on the local forge through `outage-bot handle --event FILE`."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.adapters.local import LocalChat, LocalForge
from bot.cli import cli
from bot.config import load
from bot.errors import ConfigError, NotMine, UserError
from bot.intake import Alert, classify, looks_like_alert, parse_alert
from bot.intake.issue import group_marker, issue_body
from bot.ledger import decode_ledger
from bot.policy_file import parse_policy

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
POLICY = FIXTURES / "policy.yml"
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def parsed(name: str) -> Alert:
    body = fixture(name)
    assert looks_like_alert(body)
    return parse_alert(body, f"{name}.json")


# -- the documented payloads ----------------------------------------------------------------------
def test_alertmanager_s_example_is_one_firing_group() -> None:
    alert = parsed("alertmanager_firing")
    assert (alert.source, alert.status, alert.what) == ("Alertmanager", "firing", "alert group")
    assert alert.group == '{}/{severity="critical"}:{alertname="ProbeFailure"}'
    assert alert.title == "BlackBox Probe Failure: https://server.example.org"
    assert alert.started == datetime(2023, 2, 6, 13, 8, 45, 828000, tzinfo=timezone.utc)
    [evidence] = alert.evidence
    assert evidence.ended is None  # Alertmanager's zero time: not ended
    assert dict(evidence.labels)["severity"] == "critical"
    assert evidence.fingerprint == "1a30ba71cca2921f"
    assert alert.link == "http://prometheus.example.org:9093"


def test_the_resolved_group_has_the_same_key_and_its_end() -> None:
    firing, resolved = parsed("alertmanager_firing"), parsed("alertmanager_resolved")
    assert resolved.status == "resolved" and resolved.group == firing.group
    assert resolved.ended == datetime(2023, 2, 6, 13, 38, 45, 828000, tzinfo=timezone.utc)
    assert group_marker(resolved) == group_marker(firing)


def test_the_documented_format_with_nanoseconds_parses() -> None:
    alert = parsed("alertmanager_documented_format")
    assert alert.title == "Test"  # no summary annotation: the alert's name
    assert alert.started is not None and alert.started.utcoffset() is not None


def test_without_a_group_key_the_fingerprints_are_the_group() -> None:
    body = fixture("alertmanager_firing")
    del body["groupKey"]
    assert parse_alert(body, "x").group == "fingerprints:1a30ba71cca2921f"


def test_sentry_s_issue_alert_example() -> None:
    alert = parsed("sentry_issue_alert")
    assert (alert.source, alert.status, alert.what) == ("Sentry", "firing", "issue alert")
    assert alert.group == "sentry-issue:1117540176"
    assert alert.title == "ReferenceError: heck is not defined"
    assert alert.projects == ("front-end", "1") and alert.rule == "Very Important Alert Rule!"
    assert alert.link.startswith("https://sentry.io/organizations/test-org/issues/1117540176/")


def test_sentry_s_metric_alert_examples() -> None:
    resolved, critical = parsed("sentry_metric_alert_resolved"), parsed("sentry_metric_alert_critical")
    assert resolved.status == "resolved" and critical.status == "firing"
    assert resolved.group == critical.group == "sentry-metric:4"
    assert critical.title == "Critical: Too many errors" and critical.projects == ("bar",)
    assert critical.rule == "Too many errors"


def test_a_sentry_issue_resolved_ends_what_its_issue_alert_declared() -> None:
    resolved = parsed("sentry_issue_resolved")
    assert resolved.status == "resolved"
    assert group_marker(resolved) == group_marker(parsed("sentry_issue_alert"))


def test_a_sentry_issue_created_is_not_an_alert_to_declare() -> None:
    with pytest.raises(NotMine, match="issue created"):
        parsed("sentry_issue_created")


def test_a_forge_s_own_webhook_is_not_an_alert() -> None:
    assert not looks_like_alert({"object_kind": "issue", "alerts": [], "version": "4"})
    assert not looks_like_alert({"action": "labeled", "issue": {}})


# -- bad payloads: one line naming the field ------------------------------------------------------
def _broken(change: Any) -> dict[str, Any]:
    body = fixture("alertmanager_firing")
    change(body)
    return body


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b.update(status="burning"), "`status` is 'burning' (expected: firing or resolved)"),
    (lambda b: b["alerts"][0].pop("startsAt"), "`alerts[0].startsAt` is missing"),
    (lambda b: b["alerts"][0].update(startsAt="yesterday"), "`alerts[0].startsAt` is not a time"),
    (lambda b: b["alerts"][0].update(labels=["severity"]), "`alerts[0].labels` is a list, not an object"),
    (lambda b: b["alerts"][0]["labels"].update(severity=1), "`alerts[0].labels.severity` is a number, not a string"),
    (lambda b: b.update(alerts={}), "`alerts` is an object, not a list"),
    (lambda b: b.update(alerts=[]), "`alerts` is an empty list"),
    (lambda b: b.update(version="3"), "`version` is '3'"),
])
def test_a_bad_alertmanager_payload_names_the_field(change: Any, field: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_alert(_broken(change), "payload.json")
    message = str(exc.value)
    assert message.startswith("payload.json: field ") and field in message and "\n" not in message


def test_a_bad_sentry_payload_names_the_field() -> None:
    body = fixture("sentry_issue_alert")
    del body["data"]["event"]["issue_id"]
    with pytest.raises(UserError, match=r"field `data\.event\.issue_id` is missing \(Sentry webhook payload\)"):
        parse_alert(body, "p.json")
    body = fixture("sentry_metric_alert_resolved")
    body["action"] = "meh"
    with pytest.raises(UserError, match="field `action` is 'meh' .expected: critical or warning or resolved"):
        parse_alert(body, "p.json")


# -- routing --------------------------------------------------------------------------------------
def policy() -> Any:
    return load(POLICY)[0]


def test_routes_give_severity_and_kind() -> None:
    routed = classify(parsed("alertmanager_firing"), policy())
    assert routed is not None and (routed.severity, routed.kind) == ("critical", "outage")
    sentry = classify(parsed("sentry_issue_alert"), policy())
    assert sentry is not None and (sentry.severity, sentry.kind) == ("major", None)
    metric = classify(parsed("sentry_metric_alert_critical"), policy())
    assert metric is not None and metric.severity == "major"


def test_the_most_severe_match_of_a_group_wins() -> None:
    body = fixture("alertmanager_firing")
    warning = copy.deepcopy(body["alerts"][0])
    warning["labels"]["severity"] = "warning"
    body["alerts"].insert(0, warning)
    body["commonLabels"].pop("severity")
    routed = classify(parse_alert(body, "x"), policy())
    assert routed is not None and routed.severity == "critical"


def test_an_alert_no_route_matches_is_not_classified() -> None:
    body = fixture("alertmanager_firing")
    for labels in [body["commonLabels"], body["alerts"][0]["labels"]]:
        labels["severity"] = "info"
    assert classify(parse_alert(body, "x"), policy()) is None
    sentry = fixture("sentry_issue_alert")
    sentry["data"]["triggered_rule"] = "Something else"
    assert classify(parse_alert(sentry, "x"), policy()) is None


INTAKE_MISTAKES = [
    ("intake:\n  alertmanager:\n    - labels: {severity: critical}\n      severity: urgent\n",
     "p.yml:7:17: intake.alertmanager[0].severity: unknown severity 'urgent'"),
    ("intake:\n  sentry:\n    - severity: high\n      kind: outages\n",
     "p.yml:7:13: intake.sentry[0].kind: unknown kind 'outages'"),
    ("intake:\n  label: P0\n", "p.yml:5:10: intake.label: label 'P0' is already claimed by severity or kind 'high'"),
    ("intake:\n  alertmanager:\n    - labels: {}\n      severity: high\n", "p.yml:6:15: intake.alertmanager[0].labels:"),
    ("intake:\n  sentry:\n    - severity: high\n      rule: x\n", "p.yml:7:7: intake.sentry[0].rule: unknown key 'rule'"),
]


@pytest.mark.parametrize(("intake", "expected"), INTAKE_MISTAKES)
def test_intake_mistakes_are_located(intake: str, expected: str) -> None:
    text = "severities:\n  high:\n    labels: [P0]\n" + intake + "kinds:\n  outage: {labels: [outage]}\n"
    with pytest.raises(ConfigError) as exc:
        parse_policy(text, "p.yml", template_names={"outage_issue.md.j2"})
    assert any(line.startswith(expected) for line in str(exc.value).splitlines()), str(exc.value)


# -- the issue's body: evidence, inert --------------------------------------------------------------
HOSTILE = "@everyone see #1 and !2 <b>x</b> [link](https://evil.example) `code` *bold*"


def test_every_bit_of_the_evidence_is_inert() -> None:
    body = fixture("alertmanager_firing")
    body["commonAnnotations"]["summary"] = HOSTILE
    body["alerts"][0]["annotations"]["summary"] = HOSTILE
    body["alerts"][0]["annotations"]["description"] = "/close\n/label ~bug"
    body["alerts"][0]["labels"]["team"] = "@org/oncall"
    body["alerts"][0]["generatorURL"] = "javascript:alert(1)"
    body["groupKey"] = "x --> <!-- outage-bot:ledger v1 AAAA -->"
    text = issue_body(parse_alert(body, "x"))
    assert "@everyone" not in text and "@org/oncall" not in text and "#1 " not in text and "!2" not in text
    assert "<b>" not in text and "[link](" not in text and "`code`" not in text and "*bold*" not in text
    assert not any(line.lstrip("- ").startswith("/") for line in text.splitlines())  # no quick action
    assert "](javascript:" not in text  # a URL safe_url refuses is shown as code, never linked
    assert "outage-bot:ledger" not in text and text.count("-->") == 1  # only the marker's own end
    assert text.rstrip().endswith(group_marker(parse_alert(body, "x")))


# -- the life of an alert on the local forge --------------------------------------------------------
class Local:
    def __init__(self, tmp: Path) -> None:
        self.tmp, self.db, self.runs = tmp, tmp / "forge.sqlite", 0

    def handle(self, body: dict[str, Any], at: datetime, *extra: str) -> Result:
        self.runs += 1
        path = self.tmp / f"alert-{self.runs}.json"
        path.write_text(json.dumps(body), encoding="utf-8")
        return CliRunner().invoke(cli, ["handle", "--config", str(POLICY), "--forge", "local", "--db", str(self.db),
                                        "--event", str(path), "--now", at.isoformat(), *extra])

    def forge(self) -> LocalForge:
        return LocalForge(self.db, clock=lambda: T0)

    def issues(self) -> list[Any]:
        forge = self.forge()
        rows = forge.db.execute("select number from issues order by number").fetchall()
        return [forge.get_issue(n) for (n,) in rows]

    def ledger(self, number: int) -> Any:
        return next(ledger for c in self.forge().list_comments(number) if (ledger := decode_ledger(c.body)))


@pytest.fixture
def local(tmp_path: Path) -> Local:
    return Local(tmp_path)


def at(minutes: int) -> datetime:
    from datetime import timedelta

    return T0 + timedelta(minutes=minutes)


def firing_now(started: datetime) -> dict[str, Any]:
    body = fixture("alertmanager_firing")
    body["alerts"][0]["startsAt"] = started.isoformat()
    return body


def resolved_now(started: datetime, ended: datetime) -> dict[str, Any]:
    body = fixture("alertmanager_resolved")
    body["alerts"][0]["startsAt"] = started.isoformat()
    body["alerts"][0]["endsAt"] = ended.isoformat()
    return body


def test_firing_refiring_resolved_declares_once_and_resolves_once(local: Local) -> None:
    first = local.handle(firing_now(at(-5)), at(0))
    assert first.exit_code == 0, first.output
    [issue] = local.issues()
    assert issue.title == "BlackBox Probe Failure: https:\u2060/\u2060/server.example.org"
    assert set(issue.labels) >= {"priority::highest", "outage", "alert"}
    assert group_marker(parsed("alertmanager_firing")) in issue.body
    assert "`severity=critical`" in issue.body and "fingerprint" in issue.body
    assert local.ledger(issue.number).incident.severity == "critical"
    messages = len(LocalChat(local.db).messages())

    again = local.handle(firing_now(at(-5)), at(240))  # Alertmanager's repeat_interval
    assert again.exit_code == 0 and "fired before (an incident is active): nothing new" in again.output
    assert len(local.issues()) == 1 and len(LocalChat(local.db).messages()) == messages

    done = local.handle(resolved_now(at(-5), at(250)), at(251))
    assert done.exit_code == 0, done.output
    ledger = local.ledger(issue.number)
    assert ledger.incident.status == "resolved" and ledger.incident.resolved_by == "Alertmanager"
    assert ledger.incident.resolution == "resolved by Alertmanager at 2026-11-05 18:10:00 UTC"
    assert local.forge().get_issue(issue.number).state == "closed"
    resolved_comments = [c for c in local.forge().list_comments(issue.number) if "Resolved" in c.body]
    assert len(resolved_comments) == 1

    twice = local.handle(resolved_now(at(-5), at(250)), at(260))
    assert twice.exit_code == 0 and "nothing to resolve" in twice.output
    assert len([c for c in local.forge().list_comments(issue.number) if "Resolved" in c.body]) == 1


def test_a_repeat_of_a_resolved_group_that_started_before_declares_nothing(local: Local) -> None:
    local.handle(firing_now(at(-5)), at(0))
    local.handle(resolved_now(at(-5), at(30)), at(31))
    late = local.handle(firing_now(at(-5)), at(40))  # a delivery that was late: the same outage
    assert late.exit_code == 0 and "resolved already" in late.output
    assert len(local.issues()) == 1


def test_the_group_firing_again_later_is_a_new_incident(local: Local) -> None:
    local.handle(firing_now(at(-5)), at(0))
    local.handle(resolved_now(at(-5), at(30)), at(31))
    result = local.handle(firing_now(at(120)), at(121))
    assert result.exit_code == 0, result.output
    first, second = local.issues()
    assert first.state == "closed" and second.is_open
    assert local.ledger(second.number).incident.active


def test_sentry_issue_alert_then_issue_resolved(local: Local) -> None:
    body = fixture("sentry_issue_alert")
    body["data"]["event"]["datetime"] = at(-1).isoformat()
    result = local.handle(body, at(0))
    assert result.exit_code == 0, result.output
    [issue] = local.issues()
    assert issue.title == "ReferenceError: heck is not defined"
    assert "priority::higher" in issue.labels and local.ledger(issue.number).incident.severity == "major"
    assert "Very Important Alert Rule!" in issue.body
    assert local.handle(body, at(5)).exit_code == 0 and len(local.issues()) == 1
    done = local.handle(fixture("sentry_issue_resolved"), at(10))
    assert done.exit_code == 0, done.output
    assert local.ledger(issue.number).incident.resolution == "resolved by Sentry at 2026-11-05 14:10:00 UTC"


def test_sentry_metric_alert_critical_then_resolved(local: Local) -> None:
    assert local.handle(fixture("sentry_metric_alert_critical"), at(0)).exit_code == 0
    [issue] = local.issues()
    assert issue.title == "Critical: Too many errors"
    result = local.handle(fixture("sentry_metric_alert_resolved"), at(20))
    assert result.exit_code == 0, result.output
    assert local.ledger(issue.number).incident.status == "resolved"


def test_an_unrouted_alert_is_ignored_in_one_line(local: Local) -> None:
    body = fixture("alertmanager_firing")
    for labels in [body["commonLabels"], body["alerts"][0]["labels"]]:
        labels["severity"] = "info"
    result = local.handle(body, at(0))
    assert result.exit_code == 0
    [line] = result.output.strip().splitlines()
    assert line.startswith("outage-bot: Alertmanager alert group ignored: no `intake.alertmanager` route of the policy matches it")
    assert local.issues() == []


def test_a_bad_payload_exits_1_naming_the_field(local: Local) -> None:
    body = fixture("alertmanager_firing")
    del body["alerts"][0]["startsAt"]
    result = local.handle(body, at(0))
    assert result.exit_code == 1
    assert "field `alerts[0].startsAt` is missing (Alertmanager webhook payload)" in result.output
    assert local.issues() == []


def test_a_dry_run_writes_nothing(local: Local) -> None:
    result = local.handle(fixture("alertmanager_firing"), at(0), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would open an issue" in result.output and "declare a critical incident" in result.output
    assert local.issues() == []
