"""A run killed after any write, then run again, ends as an uninterrupted run: nothing twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.local import LocalForge
from bot.events import EventKind
from bot.executor import LEASE
from tests.core_helpers import Sandbox

WRITES = {"post_comment", "edit_comment", "create_issue", "edit_issue_body", "add_labels", "remove_labels",
          "close_issue", "pin_issue", "unpin_issue"}


class Killed(Exception):
    """The CI job died here."""


class DiesAfter:
    """The local forge, killed after its n-th write (the write itself went through)."""

    def __init__(self, forge: LocalForge, n: int) -> None:
        self._forge, self._left = forge, n

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._forge, name)
        if name not in WRITES:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            self._left -= 1
            if self._left == 0:
                raise Killed(name)
            return result

        return write


def lifecycle(box: Sandbox, forge: object) -> None:
    event = box.event(EventKind.LABELED, 1, label="priority::highest")
    box.runner(forge).handle(event)


def test_uninterrupted_reference_has_writes(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    counter = DiesAfter(box.forge, 10_000)
    lifecycle(box, counter)
    assert 10_000 - counter._left >= 4


@pytest.mark.parametrize("n", range(1, 5))  # a label event writes 4 times
def test_killed_after_each_write_then_rerun(tmp_path: Path, n: int) -> None:
    reference = Sandbox(tmp_path / "ref")
    reference.open_issue()
    lifecycle(reference, reference.forge)

    box = Sandbox(tmp_path / "cut")
    box.open_issue()
    with pytest.raises(Killed):
        lifecycle(box, DiesAfter(box.forge, n))
    # Redelivered at once, the event finds the dead run's lease: it leaves the pending actions
    # alone (for all it knows, that run is still at work) and writes nothing twice.
    before = box.state()
    lifecycle(box, box.forge)
    assert box.state() == before
    # Once the lease has run out (a CI job's timeout), the next run finishes the job.
    for sandbox in (box, reference):
        sandbox.clock.now = sandbox.clock.now + LEASE + timedelta(minutes=1)
    lifecycle(box, box.forge)
    box.runner().tick()
    reference.runner().tick()
    assert box.state() == reference.state()


def test_killed_during_resolution_then_tick(tmp_path: Path) -> None:
    for n in range(1, 5):
        box = Sandbox(tmp_path / str(n))
        box.open_issue()
        lifecycle(box, box.forge)
        event = box.comment(1, "/resolve fixed", "maintainer")
        try:
            box.runner(DiesAfter(box.forge, n)).handle(event)
        except Killed:
            pass
        box.clock.now = box.clock.now + LEASE + timedelta(minutes=1)  # the dead run's lease ran out
        box.runner().handle(event)
        outage = box.forge.get_issue(2)
        assert outage.state == "closed" and not box.forge.is_pinned(2)
        assert len([c for c in box.forge.list_comments(1) if "Resolved" in c.body]) == 1
