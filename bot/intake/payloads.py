"""Alertmanager's and Sentry's webhook bodies as one small `Alert`.

Shapes, as their documentation gives them (examples in tests/fixtures/intake/, with SOURCE.md):

- Alertmanager, `webhook_config` (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
  `version` "4", `groupKey`, `status` firing|resolved (resolved only when every alert of the
  group is), `alerts[]` with `status`, `labels`, `annotations`, `startsAt`, `endsAt`
  ("0001-01-01T00:00:00Z" while firing), `generatorURL`, `fingerprint`; `commonLabels`,
  `commonAnnotations`, `groupLabels`, `externalURL`, `receiver`, `truncatedAlerts`.
- Sentry's integration platform (https://docs.sentry.io/organization/integrations/integration-platform/webhooks/):
  issue alerts (`action` "triggered", `data.event` with `issue_id`, `title`, `web_url`,
  `data.triggered_rule`), metric alerts (`action` critical|warning|resolved,
  `data.metric_alert` with `id` and `alert_rule`, `data.description_title`, `data.web_url`) and
  issue webhooks (`action` "resolved", `data.issue`), which end what an issue alert declared.
  Sentry names the resource in a `Sentry-Hook-Resource` header, which a pipeline trigger does
  not keep: the body's shape tells them apart.

Everything here is data: the text in it is the sender's (or whoever can reach the sender), and
is rendered inert (bot.intake.issue).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from bot.errors import NotMine, UserError

if TYPE_CHECKING:
    from bot.policy import Policy

ALERTMANAGER = "Alertmanager"
SENTRY = "Sentry"
MAX_ALERTS = 1000  # Alertmanager's `max_alerts` is unbounded by default; more is not a real body
Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Evidence:
    """One alert of the group, as the issue shows it."""

    status: str  # firing | resolved
    labels: Pairs = ()
    annotations: Pairs = ()
    started: datetime | None = None
    ended: datetime | None = None
    link: str = ""  # Alertmanager's generatorURL, Sentry's web URL
    fingerprint: str = ""


@dataclass(frozen=True)
class Alert:
    """One delivery from an alert sender: a group of alerts that fire or are resolved."""

    source: str  # ALERTMANAGER | SENTRY
    what: str  # "alert group", "issue alert", "metric alert", "issue"
    group: str  # the key one incident is kept by: groupKey, fingerprints, Sentry's issue / metric alert id
    status: str  # firing | resolved
    title: str
    started: datetime | None = None  # firing: when the newest of its alerts started
    ended: datetime | None = None  # resolved: when the sender says it ended
    facts: Pairs = ()  # what the sender says of the group as a whole (receiver, project, rule, ...)
    evidence: tuple[Evidence, ...] = ()
    link: str = ""  # the sender's page for it (externalURL, Sentry's web URL)
    truncated: int = 0  # alerts the sender left out (Alertmanager's max_alerts)
    # what the policy's routes match on
    label_sets: tuple[Pairs, ...] = ()  # Alertmanager: each firing alert's labels
    projects: tuple[str, ...] = ()  # Sentry: project slugs and ids
    rule: str = ""  # Sentry: the alert rule's name
    # after `classify`
    severity: str | None = None
    kind: str | None = None

    @property
    def firing(self) -> bool:
        return self.status == "firing"


def looks_like_alert(payload: Mapping[str, Any]) -> bool:
    """Is this body an Alertmanager or Sentry webhook (rather than a forge's own)?"""
    if "object_kind" in payload:  # GitLab's own webhooks
        return False
    if "alerts" in payload and ("version" in payload or "groupKey" in payload):
        return True
    data = payload.get("data")
    return "action" in payload and isinstance(data, Mapping) and bool({"event", "metric_alert", "issue"} & set(data))


def parse_alert(payload: Mapping[str, Any], where: str, *, field_prefix: str = "") -> Alert:
    """The alert in a body `looks_like_alert` accepted. `where` (the file) starts every error
    message, `field_prefix` (`client_payload.`) every field it names. UserError for a body that
    is not what the sender documents; NotMine for one that is, but that starts or ends nothing
    (a Sentry issue assigned)."""
    if "alerts" in payload:
        return _alertmanager(_Reader(payload, where, ALERTMANAGER, field_prefix))
    return _sentry(_Reader(payload, where, SENTRY, field_prefix))


def classify(alert: Alert, policy: Policy) -> Alert | None:
    """The alert with the severity and kind of the first `intake` route that matches it
    (policy order), or None. Alertmanager: of the group's firing alerts, the most severe
    match wins (the policy lists its severities most severe first)."""
    intake = policy.intake
    if intake is None:
        return None
    if alert.source == ALERTMANAGER:
        found: list[tuple[str, str | None]] = []
        for labels in alert.label_sets:
            have = dict(labels)
            route = next((r for r in intake.alertmanager if all(have.get(k) == v for k, v in r.labels.items())), None)
            if route is not None:
                found.append((route.severity, route.kind))
        if not found:
            return None
        severity, kind = min(found, key=lambda f: policy.severity_rank(f[0]))
        return replace(alert, severity=severity, kind=kind)
    for sentry in intake.sentry:
        if sentry.projects and not set(sentry.projects) & set(alert.projects):
            continue
        if sentry.rules and alert.rule not in sentry.rules:
            continue
        return replace(alert, severity=sentry.severity, kind=sentry.kind)
    return None


# -- Alertmanager --------------------------------------------------------------------------------
def _alertmanager(read: _Reader) -> Alert:
    version = read.value("version", required=False)
    if version is not None and str(version) != "4":
        raise read.error("version", f"is {_shown(version)} (expected: \"4\", the webhook format outage-bot reads)")
    status = read.choice("status", ("firing", "resolved"))
    alerts = read.items("alerts")
    if not alerts:
        raise read.error("alerts", "is an empty list (expected: the group's alerts)")
    if len(alerts) > MAX_ALERTS:
        raise read.error("alerts", f"holds {len(alerts)} alerts (expected: at most {MAX_ALERTS})")
    common_labels = read.pairs("commonLabels")
    common_annotations = dict(read.pairs("commonAnnotations"))
    evidence: list[Evidence] = []
    for i, _ in enumerate(alerts):
        at = f"alerts[{i}]"
        evidence.append(Evidence(
            status=read.choice(f"{at}.status", ("firing", "resolved")),
            labels=read.pairs(f"{at}.labels"),
            annotations=read.pairs(f"{at}.annotations"),
            started=read.time(f"{at}.startsAt"),
            ended=read.time(f"{at}.endsAt", required=False),
            link=read.text(f"{at}.generatorURL", required=False),
            fingerprint=read.text(f"{at}.fingerprint", required=False),
        ))
    group = read.text("groupKey", required=False)
    if not group:
        prints = sorted(e.fingerprint for e in evidence if e.fingerprint)
        if not prints:
            raise read.error("groupKey", "is missing, and no alert has a `fingerprint` (expected: one of them, to know the group by)")
        group = "fingerprints:" + ",".join(prints)
    firing = [e for e in evidence if e.status == "firing"] or evidence
    summary = (common_annotations.get("summary") or next((dict(e.annotations).get("summary") for e in firing
                                                           if dict(e.annotations).get("summary")), None)
               or dict(common_labels).get("alertname") or next((dict(e.labels).get("alertname") for e in firing
                                                                  if dict(e.labels).get("alertname")), None)
               or "Alertmanager alert")
    starts = [e.started for e in firing if e.started]
    ends = [e.ended for e in evidence if e.ended]
    facts = tuple((k, v) for k, v in (("receiver", read.text("receiver", required=False)),) if v)
    facts += tuple(("group label " + k, v) for k, v in read.pairs("groupLabels"))
    if len(evidence) > 1:  # with one alert they are its own, shown with it
        facts += tuple(("common annotation " + k, v) for k, v in common_annotations.items())
    truncated = read.value("truncatedAlerts", required=False)
    return Alert(
        source=ALERTMANAGER, what="alert group", group=group, status=status, title=summary,
        started=max(starts) if starts else None, ended=max(ends) if ends and status == "resolved" else None,
        facts=facts, evidence=tuple(evidence), link=read.text("externalURL", required=False),
        truncated=truncated if isinstance(truncated, int) and not isinstance(truncated, bool) and truncated > 0 else 0,
        label_sets=tuple(tuple(sorted({**dict(common_labels), **dict(e.labels)}.items())) for e in firing),
    )


# -- Sentry --------------------------------------------------------------------------------------
_PROJECT_IN_URL = re.compile(r"/projects/[^/]+/([^/]+)/")


def _sentry(read: _Reader) -> Alert:
    action = read.text("action")
    data = read.payload["data"]
    if "metric_alert" in data:
        return _sentry_metric(read)
    if "event" in data:
        if action != "triggered":
            raise read.error("action", f"is {_shown(action)} (expected: \"triggered\", for an issue alert)")
        return _sentry_issue_alert(read)
    # an issue webhook: only its resolution matters (issue alerts declare)
    if action not in ("resolved", "archived", "ignored"):
        raise NotMine(f"Sentry issue {action}: outage-bot declares from issue alerts; an issue webhook only ends one "
                      "(resolved, archived)")
    issue_id = read.text("data.issue.id", number=True)
    title = read.text("data.issue.title", required=False) or f"Sentry issue {issue_id}"
    return Alert(source=SENTRY, what="issue", group=f"sentry-issue:{issue_id}", status="resolved", title=title,
                 link=read.text("data.issue.web_url", required=False) or read.text("data.issue.permalink", required=False),
                 facts=(("Sentry issue", action),))


def _sentry_issue_alert(read: _Reader) -> Alert:
    issue_id = read.text("data.event.issue_id", number=True)
    title = read.text("data.event.title", required=False) or read.text("data.event.message", required=False) \
        or f"Sentry issue {issue_id}"
    rule = read.text("data.triggered_rule", required=False) or read.text("data.issue_alert.title", required=False)
    project = read.text("data.event.project", required=False, number=True)
    slug = _PROJECT_IN_URL.search(read.text("data.event.url", required=False))
    projects = tuple(p for p in (slug.group(1) if slug else "", project) if p)
    started = read.time("data.event.datetime", required=False)
    facts = tuple((k, v) for k, v in (
        ("project", " ".join(projects)), ("alert rule", rule), ("level", read.text("data.event.level", required=False)),
        ("culprit", read.text("data.event.culprit", required=False)), ("issue", issue_id),
        ("environment", _tag(read, "environment")), ("release", read.text("data.event.release", required=False)),
    ) if v)
    link = read.text("data.event.web_url", required=False)
    return Alert(source=SENTRY, what="issue alert", group=f"sentry-issue:{issue_id}", status="firing", title=title,
                 started=started, facts=facts, link=link, projects=projects, rule=rule,
                 evidence=(Evidence(status="firing", started=started, link=link),))


def _sentry_metric(read: _Reader) -> Alert:
    action = read.choice("action", ("critical", "warning", "resolved"))
    alert_id = read.text("data.metric_alert.id", number=True)
    rule = read.text("data.metric_alert.alert_rule.name", required=False)
    title = read.text("data.description_title", required=False) or read.text("data.metric_alert.title", required=False) \
        or rule or f"Sentry metric alert {alert_id}"
    projects: tuple[str, ...] = tuple(read.strings("data.metric_alert.projects")) or tuple(read.strings("data.metric_alert.alert_rule.projects"))
    started = read.time("data.metric_alert.date_started", required=False)
    closed = read.time("data.metric_alert.date_closed", required=False)
    facts = tuple((k, v) for k, v in (
        ("project", " ".join(projects)), ("alert rule", rule), ("trigger", action),
        ("description", read.text("data.description_text", required=False)),
        ("query", read.text("data.metric_alert.alert_rule.query", required=False)),
        ("aggregate", read.text("data.metric_alert.alert_rule.aggregate", required=False)),
    ) if v)
    link = read.text("data.web_url", required=False)
    status = "resolved" if action == "resolved" else "firing"
    return Alert(source=SENTRY, what="metric alert", group=f"sentry-metric:{alert_id}", status=status, title=title,
                 started=started, ended=closed if status == "resolved" else None, facts=facts, link=link,
                 projects=projects, rule=rule, evidence=(Evidence(status=status, started=started, ended=closed, link=link),))


def _tag(read: _Reader, name: str) -> str:
    """A tag of the event (`tags` is a list of [name, value] pairs)."""
    tags = read.value("data.event.tags", required=False)
    if isinstance(tags, list):
        for pair in tags:
            if isinstance(pair, list) and len(pair) == 2 and pair[0] == name and isinstance(pair[1], str):
                return pair[1]
    return ""


# -- reading -------------------------------------------------------------------------------------
class _Reader:
    """Dotted fields of a body (`alerts[0].labels`); a missing or mistyped one is a UserError
    naming it, the file and the sender."""

    def __init__(self, payload: Mapping[str, Any], where: str, sender: str, prefix: str = "") -> None:
        self.payload, self.where, self.sender, self.prefix = payload, where, sender, prefix

    def error(self, field: str, what: str) -> UserError:
        return UserError(f"{self.where}: field `{self.prefix}{field}` {what} ({self.sender} webhook payload)")

    def value(self, dotted: str, *, required: bool = True) -> Any:
        node: Any = self.payload
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", dotted):
            if part.startswith("["):
                index = int(part[1:-1])
                node = node[index] if isinstance(node, list) and index < len(node) else None
            else:
                node = node.get(part) if isinstance(node, Mapping) else None
            if node is None:
                break
        if node is None and required:
            raise self.error(dotted, "is missing")
        return node

    def text(self, dotted: str, *, required: bool = True, number: bool = False) -> str:
        """A string (or, with `number`, a whole number written either way: Sentry's ids)."""
        value = self.value(dotted, required=required)
        if value is None:
            return ""
        if number and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise self.error(dotted, f"is {_kind(value)}, not a string")
        if number and not (value.isascii() and value.isdigit()):
            raise self.error(dotted, f"is {_shown(value)} (expected: a number)")
        if required and not value.strip():
            raise self.error(dotted, "is empty")
        return value

    def choice(self, dotted: str, allowed: tuple[str, ...]) -> str:
        value = self.text(dotted)
        if value not in allowed:
            raise self.error(dotted, f"is {_shown(value)} (expected: {' or '.join(allowed)})")
        return value

    def items(self, dotted: str) -> list[Any]:
        value = self.value(dotted)
        if not isinstance(value, list):
            raise self.error(dotted, f"is {_kind(value)}, not a list")
        return value

    def strings(self, dotted: str) -> list[str]:
        value = self.value(dotted, required=False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            raise self.error(dotted, f"is {_kind(value)}, not a list of names")
        return [str(v) for v in value]

    def pairs(self, dotted: str) -> Pairs:
        """A map of label or annotation names to text, in the sender's order."""
        value = self.value(dotted, required=False)
        if value is None:
            return ()
        if not isinstance(value, Mapping):
            raise self.error(dotted, f"is {_kind(value)}, not an object of names and texts")
        for key, item in value.items():
            if not isinstance(item, str):
                raise self.error(f"{dotted}.{key}", f"is {_kind(item)}, not a string")
        return tuple((str(k), v) for k, v in value.items())

    def time(self, dotted: str, *, required: bool = True) -> datetime | None:
        """An RFC 3339 time. Alertmanager writes the zero time (year 1) for "not yet": None."""
        text = self.text(dotted, required=required)
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.year <= 1:
            return None
        if moment is None or not 1970 <= moment.year <= 2999:
            raise self.error(dotted, f"is not a time ({_shown(text)}; expected RFC 3339, like 2026-11-05T14:00:00Z)")
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _kind(value: object) -> str:
    """A JSON value's type, as a message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
