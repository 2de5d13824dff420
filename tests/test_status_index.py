"""The status index decides what a tick reads: pure, no forge."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.ledger import status_data, status_marker
from bot.records import Issue
from bot.status_index import Entry, Index, hooks_check_due, needs_look
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
    assert Index.from_data(status_data(status_marker(index.to_data(frozenset(index.entries))))) == index


def test_an_index_written_before_these_fields_still_reads() -> None:
    old = {"entries": {"1": {k: v for k, v in ENTRY.__dict__.items() if k != "outage_eyes"}}, "history": [], "last_tick": NOW, "done": []}
    index = Index.from_data(status_data(status_marker(old)))
    assert index.entries[1].outage_eyes is None and index.quiet == {} and index.hook_problem is None


def test_two_thousand_active_incidents_fit_in_a_github_issue_body() -> None:
    """GitHub refuses an issue body over 65,536 characters: the index once overflowed it at
    roughly 350-480 active incidents, and every tick then failed."""
    from datetime import datetime, timedelta, timezone

    from bot.config import load
    from bot.ledger import status_data, status_marker
    from bot.resources import default_policy_path
    from bot.status_index import SHOWN, Entry, shown

    policy, renderer = load(default_policy_path())
    t = datetime(2026, 11, 9, 14, tzinfo=timezone.utc)
    entries = {n: Entry(severity=list(policy.severities)[n % len(policy.severities)], status="active",
                        title=f"Search is slow for some users on page {n}", url=f"https://github.com/o/r/issues/{n}",
                        declared_at=t - timedelta(minutes=7 * n, seconds=n), next_due=t + timedelta(hours=n % 48, minutes=n % 60),
                        seen=t - timedelta(minutes=3 * n, microseconds=n), eyes=n % 2, outage_issue=n + 5000,
                        outage_url=f"https://github.com/o/r/issues/{n + 5000}", outage_eyes=0, source_closed=n % 7 == 0)
               for n in range(1, 2001)}
    index = Index(entries=entries, last_tick=t)
    listed = shown(index, policy)
    visible = renderer.render("status.md.j2", {"index": index, "entries": listed, "more": len(entries) - len(listed), "history": (),
                                               "status_page": "", "now": t, "hook_problem": "", "severities": {}})
    body = visible + "\n\n" + status_marker(index.to_data(frozenset(n for n, _ in listed))) + "\n"
    assert len(body) < 65_536
    assert len(listed) == SHOWN and f"…and {2000 - SHOWN} more in progress" in visible
    back = Index.from_data(status_data(body))
    assert set(back.entries) == set(entries)
    for n, e in entries.items():
        b = back.entries[n]
        assert (b.severity, b.status, b.next_due, b.eyes, b.outage_issue, b.source_closed) == \
            (e.severity, e.status, e.next_due, e.eyes, e.outage_issue, e.source_closed)
        assert b.seen >= e.seen  # never earlier: an issue not updated since is not read again
        assert (b.title != "") == (n in dict(listed))
