"""An alert, carried out on the forge: the source issue found by its marker or opened, then
the runner declares (a severity label put on, as a person would) or resolves (a `/resolve`
by the sender, as a person with triage access would).

One incident per alert group: the issue is looked up by the group's marker before any is
opened (the newest issue carrying the intake label, first page), and an issue create whose
answer was lost is looked up again rather than repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.errors import NotMine, ServiceError, UserError
from bot.events import Event, EventKind
from bot.intake.issue import group_marker, issue_body, issue_title, resolution_note
from bot.intake.payloads import Alert, classify
from bot.own_issue import find_own, open_own
from bot.records import Comment, Issue

if TYPE_CHECKING:
    from bot.ledger import Ledger
    from bot.policy import Policy
    from bot.ports import Forge
    from bot.runner import Report, Runner

Echo = Callable[[str], None]


def run_alert(alert: Alert, *, forge: Forge, policy: Policy, runner: Runner, now: datetime, dry_run: bool,
              echo: Echo) -> Report:
    """Declare (firing) or resolve (resolved) the alert group's incident. NotMine (one line,
    exit 0) for an alert the policy does not route, a re-delivery, or nothing to resolve."""
    from bot.runner import Report

    if policy.intake is None:
        raise NotMine(f"{alert.source} alert ignored: the policy has no `intake:` section (which alerts are incidents)")
    routed = classify(alert, policy) if alert.firing else alert
    if routed is None:
        raise NotMine(f"{alert.source} {alert.what} ignored: no `intake.{alert.source.lower()}` route of the policy matches it"
                      f" ({alert.title[:80]!r})")
    found = _find(forge, policy, alert)
    ledger = runner.load(found.number)[0] if found is not None else None
    if alert.firing:
        if found is not None and ledger is None and found.is_open:
            echo(_said(alert))
            echo(f"#{found.number}: opened for this alert group before, not declared yet: declaring")
            return runner.handle(_labeled(found, policy, routed, now))
        if found is not None and not _new_occurrence(alert, found, ledger):
            state = "an incident is active" if ledger and ledger.incident.active else "resolved already"
            raise NotMine(f"#{found.number}: this alert group fired before ({state}): nothing new")
        echo(_said(alert))
        return _open_and_declare(routed, forge=forge, policy=policy, runner=runner, now=now, dry_run=dry_run, echo=echo)
    if found is None or ledger is None or not ledger.incident.active:
        where = f"#{found.number}: " if found is not None else ""
        raise NotMine(f"{where}no active incident for this alert group: nothing to resolve")
    echo(_said(alert))
    report: Report = runner.handle(_resolving(found, alert, now))
    ended = any(outcome.ledger is not None and not outcome.ledger.incident.active for _, _, outcome in report.plans)
    if ended and found.is_open and not report.failures:
        # The bot opened this issue for the alert: it closes it too, once the alert is over
        # (an issue a person opened is theirs to close; this one is not).
        if dry_run:
            report.lines.append(f"#{found.number}: would close the alert's issue")
        else:
            try:
                forge.close_issue(found.number)
                report.lines.append(f"#{found.number}: closed (the alert is resolved)")
            except ServiceError as exc:
                report.failures.append(exc)
    return report if report.lines or report.failures else Report(lines=[f"#{found.number}: nothing to do"])


def _said(alert: Alert) -> str:
    return f"alert: {alert.source} {alert.what} {alert.status}: {alert.title[:120]!r}"


def _find(forge: Forge, policy: Policy, alert: Alert) -> Issue | None:
    """The newest issue the bot opened for this alert group."""
    assert policy.intake is not None
    return find_own(forge, group_marker(alert), policy.intake.label)


def _new_occurrence(alert: Alert, found: Issue, ledger: Ledger | None) -> bool:
    """Does this firing start after the group's last incident ended? Alertmanager repeats a
    firing group's notification (repeat_interval) and Sentry a regressed issue's alert: only
    an alert that started after the resolution is a new incident; one that started before is
    the same outage, already dealt with (a person resolved it while the alert still fired)."""
    if ledger is not None and ledger.incident.active:
        return False
    ended = ledger.incident.resolved_at if ledger is not None else None
    ended = ended or (found.updated_at if not found.is_open else None)
    return bool(ended and alert.started and alert.started > ended)


def _labels(policy: Policy, alert: Alert) -> list[str]:
    assert alert.severity is not None
    labels = [policy.severities[alert.severity].labels[0]]
    if alert.kind:
        labels.append(policy.kinds[alert.kind].labels[0])
    return labels


def _labeled(issue: Issue, policy: Policy, alert: Alert, now: datetime) -> Event:
    """The event a person putting the severity label on would make: it declares."""
    return Event(kind=EventKind.LABELED, issue=issue, actor="outage-bot", at=now, labels_added=tuple(_labels(policy, alert)),
                 delivery=f"{alert.source} {alert.what}")


def _resolving(issue: Issue, alert: Alert, now: datetime) -> Event:
    """`/resolve <note>` from the sender, which may resolve (it is what declared)."""
    note = resolution_note(alert, now)
    comment = Comment(id=0, author=alert.source, body=f"/resolve {note}", created_at=now)
    return Event(kind=EventKind.COMMENTED, issue=issue, actor=alert.source, at=now, comment=comment, actor_trusted=True,
                 delivery=f"{alert.source} {alert.what}")


def _open_and_declare(alert: Alert, *, forge: Forge, policy: Policy, runner: Runner, now: datetime, dry_run: bool,
                      echo: Echo) -> Report:
    assert policy.intake is not None and alert.severity is not None
    labels = _labels(policy, alert)
    confidential = bool(alert.kind and policy.kinds[alert.kind].confidential)
    if confidential and not forge.capabilities.confidential_issues:
        # As `outage-bot declare`: the issue would be public, with the alert's evidence in it.
        raise UserError(f"intake: the {alert.source} alert routes to kind {alert.kind}, which is confidential, and "
                        f"{forge.name} has no confidential issues: route it to another kind, or alert its people directly")
    title = issue_title(alert)
    if dry_run:
        from bot.runner import Report

        shown = "(confidential)" if confidential else repr(title)
        line = (f"would open {'a confidential' if confidential else 'an'} issue {shown} with labels "
                f"{labels + [policy.intake.label]} and declare a {alert.severity} incident on it")
        return Report(lines=[line])
    issue = open_own(forge, marker=group_marker(alert), label=policy.intake.label, title=title, body=issue_body(alert),
                     labels=labels + [policy.intake.label], confidential=confidential)
    echo(f"opened #{issue.number}: {issue.url}")
    return runner.handle(_labeled(issue, policy, alert, now))
