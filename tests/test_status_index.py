"""The status index decides what a tick reads: pure, no forge."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.ledger import status_data, status_marker
from bot.records import Issue
from bot.status import Entry, Index, hooks_check_due, needs_look
from tests.core_helpers import T0


def issue(number: int = 1, *, updated: timedelta = timedelta(0), eyes: int | None = 0) -> Issue:
    return Issue(number=number, title="t", body="", labels=("priority::highest",), state="open", author="reporter",
                 url=f"https://forge/{number}", created_at=T0, updated_at=T0 + updated, eyes=eyes)


ENTRY = Entry(severity="critical", status="active", title="t", url="u", declared_at=T0,
              next_due=T0 + timedelta(hours=12), seen=T0, eyes=0, outage_issue=2, outage_eyes=0)
NOW = T0 + timedelta(hours=1)


def test_nothing_changed_nothing_due_means_no_look() -> None:
    assert not needs_look(ENTRY, issue(), "critical", NOW, outage=issue(2))


def test_eyes_on_the_outage_issue_mean_a_look() -> None:
    assert needs_look(ENTRY, issue(), "critical", NOW, outage=issue(2, eyes=1))


def test_eyes_already_counted_or_after_acknowledgement_mean_nothing() -> None:
    assert not needs_look(replace(ENTRY, outage_eyes=1), issue(), "critical", NOW, outage=issue(2, eyes=1))
    acknowledged = replace(ENTRY, status="acknowledged")
    assert not needs_look(acknowledged, issue(eyes=3), "critical", NOW, outage=issue(2, eyes=3))


def test_a_resolved_incident_with_its_label_kept_is_skipped_until_touched() -> None:
    assert not needs_look(None, issue(), "critical", NOW, quiet_since=T0)
    assert needs_look(None, issue(updated=timedelta(minutes=5)), "critical", NOW, quiet_since=T0)
    assert needs_look(None, issue(), "critical", NOW)  # never seen: a lost event to declare


def test_hooks_are_checked_daily_and_after_a_lost_event() -> None:
    assert hooks_check_due(Index(), NOW, lost_event=False)
    checked = Index(hooks_checked=T0)
    assert not hooks_check_due(checked, T0 + timedelta(hours=23), lost_event=False)
    assert hooks_check_due(checked, T0 + timedelta(hours=23), lost_event=True)
    assert hooks_check_due(checked, T0 + timedelta(days=1), lost_event=False)


def test_the_index_survives_its_marker() -> None:
    index = Index(entries={1: ENTRY}, quiet={7: T0}, hooks_checked=T0, hook_problem="webhook 3 is disabled", last_tick=NOW)
    assert Index.from_data(status_data(status_marker(index.to_data()))) == index


def test_an_index_written_before_these_fields_still_reads() -> None:
    old = {"entries": {"1": {k: v for k, v in ENTRY.__dict__.items() if k != "outage_eyes"}}, "history": [], "last_tick": NOW, "done": []}
    index = Index.from_data(status_data(status_marker(old)))
    assert index.entries[1].outage_eyes is None and index.quiet == {} and index.hook_problem is None
