"""One permission rule for every way to acknowledge or resolve: table tests of plan(...)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot import actions as a
from bot.config import load
from bot.events import Event, EventKind
from bot.incident import Incident
from bot.planner import ForgeInfo, plan
from bot.records import Comment, ForgeCapabilities, Issue
from tests.core_helpers import T0

POLICY_PATH = Path(__file__).parent / "fixtures" / "contract_policy.yml"
POLICY, _ = load(POLICY_PATH)
GITHUB = ForgeInfo("github", ForgeCapabilities(pinning=True, confidential_issues=False, incident_issue_type=False, polled_reactions=True))
NOW = T0 + timedelta(hours=1)

SOURCE = Issue(number=1, title="Checkout is down", body="", labels=("priority::highest",), state="open",
               url="https://github.example/o/r/issues/1", author="reporter", created_at=T0, updated_at=T0)
OUTAGE = replace(SOURCE, number=2, labels=("outage", "outage::active"), author="outage-bot[bot]")
INCIDENT = Incident(source=1, severity="critical", kind=None, status="active", title="Checkout is down",
                    declared_at=T0, severity_since=T0, outage_issue=2, outage_url="https://github.example/o/r/issues/2",
                    pin="pinned", notified=("alerts",), tagged=("taylor", "will"))


def event(kind: EventKind, *, issue: Issue = SOURCE, actor: str, trusted: bool, **kw: object) -> Event:
    return Event(kind=kind, issue=issue, actor=actor, at=NOW, actor_trusted=trusted, **kw)  # type: ignore[arg-type]


def comment(body: str) -> Comment:
    return Comment(id=77, author="x", body=body, created_at=NOW)


closed_source = replace(SOURCE, state="closed")
closed_outage = replace(OUTAGE, state="closed")
unlabeled = replace(SOURCE, labels=())

# (way, event for an actor, the status it leads to when allowed)
WAYS = [
    ("👀 on the source issue", lambda who, ok: event(EventKind.REACTED, actor=who, trusted=ok, emoji="eyes"), "acknowledged"),
    ("👀 on the outage issue", lambda who, ok: event(EventKind.REACTED, issue=OUTAGE, actor=who, trusted=ok, emoji="eyes"), "acknowledged"),
    ("/ack", lambda who, ok: event(EventKind.COMMENTED, actor=who, trusted=ok, comment=comment("/ack")), "acknowledged"),
    ("/resolve", lambda who, ok: event(EventKind.COMMENTED, actor=who, trusted=ok, comment=comment("/resolve done")), "resolved"),
    ("/false-positive", lambda who, ok: event(EventKind.COMMENTED, actor=who, trusted=ok, comment=comment("/false-positive no")), "false_positive"),
    ("acknowledged label", lambda who, ok: event(EventKind.LABELED, issue=replace(SOURCE, labels=SOURCE.labels + ("incident::acknowledged",)),
                                                 actor=who, trusted=ok, label="incident::acknowledged"), "acknowledged"),
    ("close the source issue", lambda who, ok: event(EventKind.CLOSED, issue=closed_source, actor=who, trusted=ok), "resolved"),
    ("close the outage issue", lambda who, ok: event(EventKind.CLOSED, issue=closed_outage, actor=who, trusted=ok), "resolved"),
    ("remove the severity label", lambda who, ok: event(EventKind.UNLABELED, issue=unlabeled, actor=who, trusted=ok,
                                                        label="priority::highest"), "resolved"),
]


@pytest.mark.parametrize(("way", "make", "status"), WAYS, ids=[w[0] for w in WAYS])
def test_an_allowed_actor_acknowledges_or_resolves(way: str, make, status: str) -> None:
    planned = plan(make("maint", True), INCIDENT, NOW, POLICY, GITHUB)
    assert planned.incident is not None and planned.incident.status == status


@pytest.mark.parametrize(("way", "make", "status"), WAYS, ids=[w[0] for w in WAYS])
def test_anyone_else_changes_nothing(way: str, make, status: str) -> None:
    planned = plan(make("stranger", False), INCIDENT, NOW, POLICY, GITHUB)
    assert planned.incident is not None and planned.incident.status == "active"
    assert not any(isinstance(x, (a.AddLabels, a.RemoveLabels, a.CloseIssue, a.UnpinIssue, a.PostChatMessage, a.UpdateChatMessage,
                                  a.AddChatReaction, a.EditOutageIssue)) for x in planned.actions)
    replies = [x for x in planned.actions if isinstance(x, a.PostComment)]
    if way.startswith("/"):  # a command gets the one polite reply
        assert [r.template for r in replies] == ["not_allowed.md.j2"]
    elif way.startswith(("close", "remove")):  # the team is told, once, on the outage issue
        assert [(r.template, r.target, r.key) for r in replies] == [("closed_not_resolved.md.j2", "outage", "1:g1:closed-not-resolved")]
    else:  # reactions and labels: silence
        assert replies == []


def test_the_reporter_may_resolve_only_when_the_policy_says_so() -> None:
    close = event(EventKind.CLOSED, issue=closed_source, actor="reporter", trusted=False)
    assert plan(close, INCIDENT, NOW, POLICY, GITHUB).incident.status == "active"  # type: ignore[union-attr]
    lenient = POLICY.model_copy(update={"permissions": POLICY.permissions.model_copy(update={"author_may_resolve": True})})
    assert plan(close, INCIDENT, NOW, lenient, GITHUB).incident.status == "resolved"  # type: ignore[union-attr]
    # ... and still not acknowledge by 👀, nor resolve by closing someone else's issue
    eyes = event(EventKind.REACTED, actor="reporter", trusted=False, emoji="eyes")
    assert plan(eyes, INCIDENT, NOW, lenient, GITHUB).incident.status == "active"  # type: ignore[union-attr]
    by_other = event(EventKind.CLOSED, issue=closed_source, actor="someone", trusted=False)
    assert plan(by_other, INCIDENT, NOW, lenient, GITHUB).incident.status == "active"  # type: ignore[union-attr]
