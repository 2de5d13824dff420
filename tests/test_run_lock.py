"""The run lock (bot.run_lock) on the local forge: one holder at a time, waiting, giving up,
taking over a lock a dead run left behind. The forges' own label calls are tested over HTTP
in tests/github/test_github_run_lock.py and tests/gitlab/test_gitlab_run_lock.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.adapters.local import LocalForge
from bot.run_lock import HOLD, NAME, RunLock, holder, note

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def forge(tmp_path: Path) -> LocalForge:
    return LocalForge(tmp_path / "forge.db", clock=lambda: T0)


def lock(forge: LocalForge, run: str, *, at: datetime = T0, sleeps: list[float] | None = None, on_sleep=None) -> RunLock:
    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        if on_sleep is not None:
            on_sleep(len(sleeps or []))
    return RunLock(forge, run_id=run, now=at, sleep=sleep)


@pytest.mark.parametrize(("text", "expected"), [
    (note("abc123", T0), ("abc123", T0)),
    ("outage-bot run abc until 2026-11-09T14:00:00+00:00", ("abc", T0)),
    ("outage-bot run abc until 2026-11-09T14:00:00", None),  # no zone: not ours
    ("outage-bot run abc until someday", None),
    ("a label a person made", None),
    ("", None),
    (None, None),
])
def test_the_note_names_the_holder_and_its_time(text: str | None, expected: tuple[str, datetime] | None) -> None:
    assert holder(text) == expected


def test_one_holder_at_a_time_and_the_label_goes_when_released(forge: LocalForge) -> None:
    first, second = lock(forge, "first"), lock(forge, "second")
    assert first.acquire() and first.held
    assert holder(forge.lock_note(NAME)) == ("first", T0 + HOLD)
    assert not forge.take_lock(NAME, note("second", T0))  # taken: the forge refuses
    first.release()
    assert forge.lock_note(NAME) is None
    assert second.acquire()
    second.release()
    second.release()  # twice is harmless
    assert forge.lock_note(NAME) is None


def test_a_run_waits_for_the_holder_then_takes_the_lock(forge: LocalForge) -> None:
    holder_run = lock(forge, "holder")
    assert holder_run.acquire()
    sleeps: list[float] = []
    waiter = lock(forge, "waiter", sleeps=sleeps, on_sleep=lambda n: holder_run.release() if n == 3 else None)
    assert waiter.acquire()
    assert sleeps == [1.0, 2.0, 4.0]  # looked after 1, 2 and 4 s; the holder was done after the third pause
    assert waiter.waited == 7.0
    assert holder(forge.lock_note(NAME))[0] == "waiter"  # type: ignore[index]


def test_a_run_gives_up_after_the_wait_and_holds_nothing(forge: LocalForge) -> None:
    assert lock(forge, "holder").acquire()
    sleeps: list[float] = []
    waiter = RunLock(forge, run_id="waiter", now=T0, sleep=sleeps.append, wait=timedelta(seconds=60))
    assert not waiter.acquire() and not waiter.held
    assert sum(sleeps) >= 60 and max(sleeps) == 10.0
    assert holder(forge.lock_note(NAME))[0] == "holder"  # type: ignore[index]  (untouched)


def test_a_lock_left_by_a_dead_run_is_taken_over_once_past_its_time(forge: LocalForge) -> None:
    assert lock(forge, "dead", at=T0).acquire()  # never released: the run died
    sleeps: list[float] = []
    early = RunLock(forge, run_id="early", now=T0 + HOLD - timedelta(minutes=1), sleep=sleeps.append, wait=timedelta(seconds=30))
    assert not early.acquire()  # still within its time: waited for, not broken
    late = lock(forge, "late", at=T0 + HOLD)
    assert late.acquire()
    assert holder(forge.lock_note(NAME)) == ("late", T0 + 2 * HOLD)


def test_a_label_of_that_name_that_is_not_a_lock_is_replaced(forge: LocalForge) -> None:
    forge.take_lock(NAME, "made by a person")
    assert lock(forge, "run").acquire()
    assert holder(forge.lock_note(NAME))[0] == "run"  # type: ignore[index]
