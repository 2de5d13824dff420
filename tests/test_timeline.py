"""bot.timeline: an incident's record, built by hand as the forge would hold it -> its timeline.

Each case is a record and the entries expected from it, in order: (time UTC, kind, who, how).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.config import load
from bot.incident import Incident
from bot.ledger import Ledger, intent_marker, key_marker
from bot.records import Comment, Issue, Reaction
from bot.render import _when
from bot.timeline import (
    BOT,
    Entry,
    LabelAdd,
    Record,
    build_timeline,
    timeline_data,
    timeline_lines,
)

POLICY, _ = load(Path(__file__).parent / "fixtures" / "team_policy.yml")
T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 in New York, before the noon handoff


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes)


def issue(number: int, *, labels: tuple[str, ...] = ("priority::highest",), state: str = "open", author: str = "reporter",
          closed_by: str | None = None, created: datetime = T0) -> Issue:
    return Issue(number=number, title="Checkout fails", body="", labels=labels, state=state, url=f"local://issues/{number}",
                 author=author, created_at=created, updated_at=created, closed_by=closed_by)


class Comments:
    """The comments of an issue, ids in creation order."""

    def __init__(self, start: int = 100) -> None:
        self.items: list[Comment] = []
        self.next = start

    def bot(self, when: datetime, *notices: tuple[str, str], intents: tuple[str, ...] = ()) -> Comments:
        """A bot comment holding `notices` ((key, text), posted as one, as a tick does) and the
        intents of the rest of its plan."""
        body = "\n\n---\n\n".join(text for _, text in notices) + "\n\n"
        body += "\n".join([key_marker(k) for k, _ in notices] + [intent_marker(k) for k in intents]) + "\n"
        return self.add(BOT, body, when)

    def person(self, who: str, body: str, when: datetime) -> Comments:
        return self.add(who, body, when)

    def add(self, who: str, body: str, when: datetime) -> Comments:
        self.items.append(Comment(id=self.next, author=who, body=body, created_at=when))
        self.next += 1
        return self


def tag_text(label: str = "priority::highest", people: str = "@release-lead, @platform-lead, @eng-a", reopened: bool = False) -> str:
    head = "🔁 **Incident reopened**" if reopened else "🚨 **Critical incident declared**"
    return f"{head} (`{label}`)\n\n{people}: you are tagged on this incident."


def incident(**kw: object) -> Incident:
    base: dict[str, object] = {
        "source": 1, "severity": "critical", "kind": None, "status": "active", "title": "Checkout fails", "declared_at": T0,
        "severity_since": T0, "severity_history": (("critical", T0),), "outage_issue": 2, "outage_url": "local://issues/2",
        "tagged": ("release-lead", "platform-lead", "eng-a"), "notified": ("alerts", "users"),
    }
    base.update(kw)
    return Incident(**base)  # type: ignore[arg-type]


DECLARED = {"1:g1:tag", "1:g1:outage-issue", "1:g1:pin", "1:g1:chat:alerts", "1:g1:chat:users"}
REFS = {"1:g1:outage-issue": "2|local://issues/2", "1:g1:pin": "pinned", "1:g1:chat:alerts": "local|alerts|1",
        "1:g1:chat:users": "local|users|2"}


@dataclass
class Case:
    name: str
    record: Record
    expected: list[tuple[datetime, str, str, str]]
    now: datetime = field(default_factory=lambda: at(30))


def full_lifecycle() -> Case:
    """Label, tag, outage issue, alerts, the escalation and a reminder in one tick comment,
    /ack, then the outage issue closed by a person."""
    esc, rem = "1:g1:escalate:critical:20261109T090000:0", "1:g1:remind:critical:20261109T090000:43200"
    source = (Comments()
              .bot(at(), ("1:g1:tag", tag_text()))
              .bot(at(12), (esc, "📣 **Escalation (step 1)**: not acknowledged 12h after it was declared.\n\n@release-lead: please take this incident."),
                   (rem, "⏰ **12h left**\n\n@release-lead, @platform-lead, @eng-a"),
                   intents=(f"{esc}:chat:alerts", f"{esc}:chat:alerts:root", f"{rem}:chat:alerts", f"{rem}:chat:alerts:root"))
              .person("platform-lead", "/ack on it", at(12, 20))
              .bot(at(12, 20), ("1:g1:ack", "👀 **Acknowledged** by platform-lead (/ack), ..."), intents=("1:g1:ack:chat:alerts",)))
    outage = Comments(500).bot(at(15), ("1:g1:resolved", "✅ **Resolved** by eng-b, ..."))
    done = DECLARED | {esc, rem, f"{esc}:chat:alerts", f"{esc}:chat:alerts:root", f"{rem}:chat:alerts", "1:g1:ack",
                       "1:g1:ack:chat:alerts", "1:g1:resolved", "1:g1:resolved:chat:alerts", "1:g1:resolved:chat:users"}
    inc = incident(status="resolved", acknowledged_at=at(12, 20), acknowledged_by="platform-lead", resolved_at=at(15),
                   resolved_by="eng-b")
    record = Record(
        ledger=Ledger(incident=inc, done=frozenset(done), refs=REFS),
        source=issue(1, created=at(-1)), comments=tuple(source.items),
        outage=issue(2, state="closed", author=BOT, closed_by="eng-b"), outage_comments=tuple(outage.items),
        label_adds=(LabelAdd(1, "priority::highest", T0, "alice"),),
    )
    return Case("full lifecycle", record, [
        (T0, "declared", "alice", "label"),
        (T0, "tagged", BOT, "comment"),
        (T0, "outage_issue_opened", BOT, "issue"),
        (T0, "alerted", BOT, "chat"),
        (T0, "alerted", BOT, "chat"),
        (at(3), "handoff", BOT, "tick"),  # Monday noon in New York
        (at(12), "escalated", BOT, "tick"),
        (at(12), "reminded", BOT, "tick"),
        (at(12, 20), "acknowledged", "platform-lead", "command"),
        (at(15), "resolved", "eng-b", "close"),
    ])


def reopened() -> Case:
    """Resolved by /resolve, reopened two hours later (generation 2): the first generation is
    timed by its comments, the second by the ledger."""
    source = (Comments()
              .bot(at(), ("1:g1:tag", tag_text()))
              .person("eng-a", "/resolve restarted the pods", at(1))
              .bot(at(1), ("1:g1:resolved", "✅ **Resolved** by eng-a, Mon 09 Nov.\n\n> restarted the pods"))
              .bot(at(3), ("1:g2:tag", tag_text(reopened=True)))
              .bot(at(4), ("1:g2:ack", "👀 **Acknowledged** by eng-b (👀), ...")))
    done = DECLARED | {"1:g1:resolved", "1:g2:tag", "1:g2:chat:alerts", "1:g2:ack"}
    inc = incident(generation=2, declared_at=at(3), severity_since=at(3), severity_history=(("critical", at(3)),),
                   status="acknowledged", acknowledged_at=at(3, 55), acknowledged_by="eng-b", notified=("alerts",))
    record = Record(
        ledger=Ledger(incident=inc, done=frozenset(done), refs=REFS),
        source=issue(1, created=at(-1)), comments=tuple(source.items), outage=issue(2, author=BOT),
        reactions=((2, Reaction("eng-b", "eyes", at(3, 55))),),
        label_adds=(LabelAdd(1, "priority::highest", at(3), "alice"),),
    )
    return Case("reopened", record, [
        (T0, "declared", "", "label"),  # the forge's last record of the label is the reopening one
        (T0, "tagged", BOT, "comment"),
        (T0, "outage_issue_opened", BOT, "issue"),
        (T0, "alerted", BOT, "chat"),
        (T0, "alerted", BOT, "chat"),
        (at(1), "resolved", "eng-a", "command"),
        (at(3), "reopened", "alice", "label"),
        (at(3), "tagged", BOT, "comment"),
        (at(3), "alerted", BOT, "chat"),
        (at(3, 55), "acknowledged", "eng-b", "👀"),
    ], now=at(5))


def severity_change() -> Case:
    """critical -> major two hours in: the change is timed by the ledger's history, its person by
    the label's addition; the new severity's escalation steps count from the change."""
    change = "1:g1:severity:major:20261109T160000"
    esc0, esc1 = "1:g1:escalate:major:20261109T160000:0", "1:g1:escalate:major:20261109T160000:1"
    source = (Comments()
              .bot(at(), ("1:g1:tag", tag_text()))
              .bot(at(2, 1), (change, "↕️ **Severity changed** from critical to **major**"), intents=(f"{change}:chat:alerts",))
              .bot(at(26, 1), (esc0, "📣 **Escalation (step 1)**\n\n@eng-b: please take this incident."))
              .bot(at(28, 1), (esc1, "📣 **Escalation (step 2)**\n\n@platform-lead: please take this incident.")))
    done = DECLARED | {change, f"{change}:chat:alerts", esc0, esc1}
    inc = incident(severity="major", severity_since=at(2), severity_history=(("critical", T0), ("major", at(2))))
    record = Record(
        ledger=Ledger(incident=inc, done=frozenset(done), refs=REFS),
        source=issue(1, labels=("priority::higher",)), comments=tuple(source.items), outage=issue(2, author=BOT),
        label_adds=(LabelAdd(1, "priority::highest", T0, "alice"), LabelAdd(1, "priority::higher", at(2), "eng-a")),
    )
    return Case("severity change and escalation steps", record, [
        (T0, "declared", "alice", "label"),
        (T0, "tagged", BOT, "comment"),
        (T0, "outage_issue_opened", BOT, "issue"),
        (T0, "alerted", BOT, "chat"),
        (T0, "alerted", BOT, "chat"),
        (at(2), "severity_changed", "eng-a", "label"),
        (at(3), "handoff", BOT, "tick"),
        (at(26, 1), "escalated", BOT, "tick"),
        (at(28, 1), "escalated", BOT, "tick"),
    ])


def false_positive_by_form() -> Case:
    """Opened from the report form (the bot put the label on), a stranger's /resolve refused,
    then a false positive; no outage issue for this severity."""
    source = (Comments()
              .bot(at(), ("1:g1:tag", tag_text("priority::higher", "@eng-a")))
              .person("mallory", "/resolve nothing to see", at(0, 30))
              .bot(at(0, 30), ("1:g1:refuse:101", "Sorry, @mallory: /resolve was not applied."))
              .person("eng-a", "/false-positive a test alert", at(1))
              .bot(at(1), ("1:g1:resolved", "✅ **False positive** by eng-a, ...\n\n> a test alert")))
    done = {"1:form-label", "1:g1:tag", "1:g1:chat:alerts", "1:g1:refuse:101", "1:g1:resolved", "1:g1:resolved:chat:alerts"}
    inc = incident(severity="major", severity_history=(("major", T0),), outage_issue=None, outage_url=None, status="false_positive",
                   resolved_at=at(1), resolved_by="eng-a", resolution="a test alert", notified=("alerts",))
    record = Record(ledger=Ledger(incident=inc, done=frozenset(done), refs={"1:g1:chat:alerts": "slack|C01|1794233100.000000"}),
                    source=issue(1, labels=("priority::higher",), author="reporter"), comments=tuple(source.items),
                    label_adds=(LabelAdd(1, "priority::higher", T0, BOT),))
    return Case("false positive, opened from the form", record, [
        (T0, "declared", "reporter", "form"),
        (T0, "tagged", BOT, "comment"),
        (at(0, 5), "alerted", BOT, "chat"),  # a Slack message's ts is its own time
        (at(0, 30), "refused", "mallory", "command"),
        (at(1), "false_positive", "eng-a", "command"),
    ], now=at(2))


CASES = [full_lifecycle(), reopened(), severity_change(), false_positive_by_form()]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_timeline_table(case: Case) -> None:
    entries = build_timeline(case.record, POLICY, now=case.now)
    got = [(e.at, e.kind, e.who, e.how) for e in entries]
    assert got == case.expected
    assert all(e.at.tzinfo == timezone.utc for e in entries)
    assert entries == sorted(entries, key=lambda e: e.at)


def test_what_each_entry_says() -> None:
    entries = build_timeline(full_lifecycle().record, POLICY, now=at(30))
    by_kind = {e.kind: e for e in entries}
    assert by_kind["declared"].what == "critical incident declared (label priority::highest)"
    assert by_kind["tagged"].what == "tagged release-lead, platform-lead, eng-a"
    assert by_kind["outage_issue_opened"].what == "outage issue #2 opened, pinned" and by_kind["outage_issue_opened"].issue == 2
    assert by_kind["escalated"].what == "escalated (step 1): tagged release-lead"
    assert by_kind["escalated"].channels == ("alerts",)  # its thread reply, timed by the tick comment's intent
    assert by_kind["reminded"].what == "reminder: 12h left to resolve"
    assert by_kind["handoff"].what == "on-call handoff: Engineer B primary, Release lead secondary"
    assert by_kind["resolved"].what == "resolved"  # a person closed the outage issue: the bot closed nothing
    assert by_kind["resolved"].channels == ("alerts", "users")
    assert not any("@" in e.what for e in entries)  # nobody is mentioned again where the timeline is shown


def test_severity_change_names_both_severities() -> None:
    entries = build_timeline(severity_change().record, POLICY, now=at(30))
    [change] = [e for e in entries if e.kind == "severity_changed"]
    assert change.what == "severity changed from critical to major" and change.channels == ("alerts",)
    steps = [e.what for e in entries if e.kind == "escalated"]
    assert steps == ["escalated (step 1): tagged eng-b", "escalated (step 2): tagged platform-lead"]


def test_reopened_generations_and_notes() -> None:
    entries = build_timeline(reopened().record, POLICY, now=at(5))
    [resolved] = [e for e in entries if e.kind == "resolved"]
    assert resolved.note == "restarted the pods" and resolved.generation == 1
    assert [e.generation for e in entries if e.kind in ("declared", "reopened")] == [1, 2]


def test_lines_and_json_show_the_zone_and_utc() -> None:
    entries = build_timeline(full_lifecycle().record, POLICY, now=at(30))
    lines = timeline_lines(entries, POLICY.tz)
    assert lines[0] == "Mon 09 Nov 09:00 EST (14:00 UTC)  critical incident declared (label priority::highest) (alice, label)"
    assert lines[-1].startswith(_when(at(15), POLICY.tz) + "  resolved")
    data = timeline_data(entries, POLICY.tz)
    assert data[0]["at"] == "2026-11-09T14:00:00Z" and data[0]["local"] == "2026-11-09T09:00:00-05:00"
    assert {d["kind"] for d in data} >= {"declared", "acknowledged", "resolved"}


def test_notes_are_left_out_when_asked() -> None:
    entries = [Entry(T0, "resolved", "resolved", "eng-a", "command", note="the secret host db-7 was down")]
    assert "db-7" not in timeline_lines(entries, POLICY.tz, notes=False)[0]
    assert timeline_data(entries, POLICY.tz, notes=False)[0]["note"] == ""
    assert "db-7" in timeline_lines(entries, POLICY.tz)[0]


def test_a_pasted_marker_from_someone_else_is_not_believed() -> None:
    case = full_lifecycle()
    fake = Comment(999, "mallory", key_marker("1:g1:escalate:critical:20261109T090000:5") + "\n", at(1))
    record = Record(**{**case.record.__dict__, "comments": case.record.comments + (fake,)})
    entries = build_timeline(record, POLICY, now=at(30))
    assert [e.what for e in entries if e.kind == "escalated"] == ["escalated (step 1): tagged release-lead"]
