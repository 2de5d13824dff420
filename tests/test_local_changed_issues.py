"""`changed_issues` on the local (sqlite) forge: one counted request, times compared as times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.adapters.local import LocalForge

M = datetime(2026, 11, 10, 15, 0, tzinfo=timezone.utc)
SINCE = M - timedelta(minutes=10)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_issues_changed_since_in_one_request(tmp_path: Path) -> None:
    clock = Clock(M - timedelta(days=30))
    forge = LocalForge(tmp_path / "forge.db", clock=clock)
    for i in range(200):
        forge.create_issue(title=f"Issue {i}", body="Nothing to see.",
                           labels=["priority::highest", "incident::active"] if i % 10 == 0 else [])
    status = forge.create_issue(title="Current status", body="<!-- index -->", labels=["outage-bot::status"]).number
    clock.now = SINCE - timedelta(seconds=1)
    forge.post_comment(21, "just before the window")
    clock.now = SINCE
    forge.post_comment(1, "/ack")  # at the very start of the window
    clock.now = M - timedelta(minutes=3)
    forge.close_issue(11)
    forge.add_labels(3, ["priority::highest"])
    forge.edit_issue_body(status, "<!-- index v2 -->")
    forge.add_labels(status, ["outage-bot::status"])  # already there: the write still counts as an update
    new = forge.create_issue(title="Search is slow", body="", labels=[]).number
    forge.requests = 0

    changed = forge.changed_issues(SINCE)

    assert [i.number for i in changed] == [1, 3, 11, status, new]
    assert forge.requests == 1
    by_number = {i.number: i for i in changed}
    assert by_number[11].state == "closed" and by_number[status].body == "<!-- index v2 -->"
    assert by_number[1].eyes == 0 and by_number[new].labels == ()
    assert forge.changed_issues(M) == []
    assert forge.requests == 2


def test_times_are_compared_as_times_not_as_text(tmp_path: Path) -> None:
    """Rows whose times carry another offset, or no fraction of a second, compare by the moment
    they name: '15:45+02:00' is 13:45 UTC, before a 14:50 UTC `since`, though it sorts after it."""
    forge = LocalForge(tmp_path / "forge.db", clock=lambda: M)
    for n in range(1, 5):
        forge.create_issue(title=f"Issue {n}", body="", labels=[])
    stored = {1: "2026-11-10T15:45:00+02:00", 2: "2026-11-10T16:55:00+02:00", 3: "2026-11-10T14:50:00+00:00",
              4: "2026-11-10T14:49:59.999999+00:00"}
    for number, text in stored.items():
        forge.db.execute("update issues set updated_at=? where number=?", (text, number))
    forge.db.commit()

    assert [i.number for i in forge.changed_issues(SINCE)] == [2, 3]
    assert [i.number for i in forge.changed_issues(SINCE.astimezone(timezone(timedelta(hours=-5))))] == [2, 3]
