"""One run at a time writes to existing incidents: a repository-wide lock every forge can take
atomically.

Neither GitHub nor GitLab can compare-and-set an issue or a comment, so two runs that read an
incident's ledger before either writes it would both act (two escalations; an /ack saved over by
a /resolve). A label name is unique in a repository and creating one is atomic: GitHub answers
422 already_exists, GitLab 409, to every run but one. The holder deletes it when done.

A run that died holding the lock leaves the label behind. Its description says whose it is and
until when (HOLD, longer than the CI jobs' 10-minute timeout): once that time has passed, the
next run deletes it and takes it again. Taking the lock costs a request and giving it back one
more, and only runs that write to an incident that already exists pay them (a quiet tick does
not; declaring an incident needs no lock: its ledger comment is created with a lease in it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.errors import ServiceError
from bot.ports import Forge

NAME = "outage-bot:lock"
HOLD = timedelta(minutes=10)  # as the executor's lease: longer than any CI job may run
# How long a run waits for another to finish (a busy tick of 50 incidents takes about a
# minute), looking again after each of these pauses, then the last one repeated.
WAIT = timedelta(minutes=4)
PAUSES = (1.0, 2.0, 4.0, 8.0, 10.0)

_NOTE = re.compile(r"^outage-bot run (?P<run>\w+) until (?P<until>\S+)")


def note(run_id: str, until: datetime) -> str:
    return f"outage-bot run {run_id} until {until.isoformat(timespec='seconds')} (deleted when the run ends)"


def holder(text: str | None) -> tuple[str, datetime] | None:
    """(run id, until) from a lock label's description; None when it is not one of ours."""
    match = _NOTE.match(text or "")
    if match is None:
        return None
    try:
        until = datetime.fromisoformat(match["until"])
    except ValueError:
        return None
    return (match["run"], until) if until.tzinfo is not None else None


class RunLock:
    def __init__(self, forge: Forge, *, run_id: str, now: datetime, sleep: Callable[[float], None],
                 log: Callable[[str], None] = lambda _: None, wait: timedelta = WAIT) -> None:
        self.forge = forge
        self.run_id = run_id
        self.now = now  # the run's clock; time spent waiting is added to it
        self.sleep = sleep
        self.log = log
        self.wait = wait
        self.held = False
        self.waited = 0.0  # seconds this run spent waiting for another

    def acquire(self) -> bool:
        """Take the lock, waiting up to `wait` for another run to give it back. False: it did
        not, and this run must write nothing to existing incidents."""
        pauses = iter(PAUSES)
        pause = PAUSES[0]
        told = False
        quick = 0  # tries again without a pause: bounded, so a failing forge cannot spin us
        while True:
            clock = self.now + timedelta(seconds=self.waited)
            mine = note(self.run_id, clock + HOLD)
            try:
                if self.forge.take_lock(NAME, mine):
                    self.held = True
                    return True
            except ServiceError as exc:
                if not exc.uncertain:
                    raise
                # the answer was lost: the label may be ours now; the note says
            current = self.forge.lock_note(NAME)
            if current is None and quick < 3:
                quick += 1
                continue  # given back meanwhile: try again at once
            who = holder(current)
            if who is not None and who[0] == self.run_id:
                self.held = True  # our own, created before the answer was lost
                return True
            if current is not None and (who is None or who[1] <= clock) and quick < 3:
                quick += 1
                self.log(f"run lock: {'an unreadable lock' if who is None else f'run {who[0]}'} is past its time: taken over")
                self.forge.drop_lock(NAME)
                continue
            if self.waited >= self.wait.total_seconds():
                return False
            if not told and who is not None:
                self.log(f"run lock: run {who[0]} is writing; waiting for it (up to {self.wait.total_seconds():.0f} s)")
                told = True
            pause = next(pauses, pause)
            self.sleep(pause)
            self.waited += pause

    def release(self) -> None:
        if self.held:
            self.held = False
            self.forge.drop_lock(NAME)
