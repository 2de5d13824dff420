"""A write whose answer is lost (a 5xx or a dropped connection after the service acted) is
looked up by its key and not repeated; one that did not happen is retried in the same run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.errors import ServiceError
from bot.events import EventKind
from tests.core_helpers import Sandbox
from tests.test_resume import WRITES, lifecycle


class LostAnswer:
    """Wraps the local forge or chat: its n-th write fails with an uncertain error, after the
    write went through (`done=True`) or before it (`done=False`)."""

    def __init__(self, inner: Any, n: int, *, done: bool, writes: set[str]) -> None:
        self._inner, self._left, self._done, self._writes = inner, n, done, writes
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self._writes:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            self._left -= 1
            if self._left == 0:
                if self._done:
                    attr(*args, **kwargs)
                raise ServiceError("test", name, "502 Bad Gateway", uncertain=True)
            return attr(*args, **kwargs)

        return write


def reference(tmp: Path) -> Sandbox:
    box = Sandbox(tmp)
    box.open_issue()
    lifecycle(box, box.forge)
    return box


@pytest.mark.parametrize("done", [True, False], ids=["answer-lost", "not-done"])
@pytest.mark.parametrize("n", range(1, 5))  # a label event writes 4 times to the forge
def test_label_event_with_a_lost_forge_answer_ends_as_an_uninterrupted_run(tmp_path: Path, n: int, done: bool) -> None:
    ref = reference(tmp_path / "ref")
    box = Sandbox(tmp_path / "cut")
    box.open_issue()
    forge = LostAnswer(box.forge, n, done=done, writes=WRITES)
    report = box.runner(forge).handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    assert report.failures == []  # the run carried on: the alert and the pin were not left to a later run
    assert box.state() == ref.state()


@pytest.mark.parametrize("done", [True, False], ids=["answer-lost", "not-done"])
@pytest.mark.parametrize("n", range(1, 3))  # two root alerts: the alerts channel and the users' channel
def test_chat_post_with_a_lost_answer_is_not_posted_twice(tmp_path: Path, n: int, done: bool) -> None:
    ref = reference(tmp_path / "ref")
    box = Sandbox(tmp_path / "cut")
    box.open_issue()
    chat = LostAnswer(box.chat, n, done=done, writes={"post"})
    report = box.runner(chat=chat).handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    assert report.failures == []
    assert box.state() == ref.state()
    keys = [m["key"] for m in box.chat.messages()]
    assert len(keys) == len(set(keys))


class Failing(LostAnswer):
    """create_issue always fails with `error`, and is counted."""

    def __init__(self, inner: Any, error: ServiceError) -> None:
        super().__init__(inner, 0, done=False, writes=set())
        self.error = error

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name != "create_issue":
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            raise self.error

        return write


def test_a_certain_failure_is_not_retried(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    forge = Failing(box.forge, ServiceError("test", "create_issue", "422 Unprocessable", uncertain=False))
    report = box.runner(forge).handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    assert forge.calls == ["create_issue"]
    assert [f.detail for f in report.failures] == ["422 Unprocessable"]


def test_an_answer_lost_every_time_gives_up_after_three_attempts(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.open_issue()
    forge = Failing(box.forge, ServiceError("test", "create_issue", "503", uncertain=True))
    report = box.runner(forge).handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    assert forge.calls == ["create_issue"] * 3
    assert len(report.failures) == 1
    # the next run, with the service back, finishes the job once (the failed run let go of its lease)
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    assert len([i for i in box.forge.db.execute("select number from issues")]) == 2


def test_a_post_whose_answer_was_lost_where_chat_cannot_be_read_back_is_counted_as_sent(tmp_path: Path) -> None:
    """A webhook or Apprise cannot be asked what arrived: the lost post is not repeated."""
    box = Sandbox(tmp_path)
    box.open_issue()

    class WriteOnly(LostAnswer):
        can_read_back = False

        def find(self, *args: Any, **kwargs: Any) -> None:
            return None  # as a webhook: nothing can be read back

    chat = WriteOnly(box.chat, 1, done=True, writes={"post"})
    logged: list[str] = []
    runner = box.runner(chat=chat)
    runner.log = logged.append
    report = runner.handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    assert report.failures == []
    assert [m["key"] for m in box.chat.messages()].count("1:g1:chat:alerts") == 1
    assert any("cannot be read back: counted as sent" in line for line in logged)
