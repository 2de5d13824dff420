"""Reminders and breach notices under real schedules: ticks that run late, are skipped, or
run twice. Pure planner; the executor's rule (an action whose key is done is not redone) is
applied by the test."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import load
from bot.events import Event, EventKind
from bot.incident import Incident
from bot.planner import LATE_AFTER, ForgeInfo, plan
from bot.records import ForgeCapabilities, Issue
from bot.resources import default_policy_path
from tests.core_helpers import T0

POLICY, _ = load(default_policy_path())
SPEC = POLICY.severities["critical"]
DEADLINE = T0 + SPEC.resolve_within  # type: ignore[operator]
OFFSETS = sorted(SPEC.reminders(), reverse=True)  # 12h, 4h, 1h
INFO = ForgeInfo("github", ForgeCapabilities(pinning=True, confidential_issues=False, incident_issue_type=False))
ISSUE = Issue(number=1, title="pipx install fails", body="", labels=("priority::highest",), state="open",
              url="https://forge/1", author="reporter", created_at=T0, updated_at=T0)
# acknowledged, so only reminders and breaches are in play
INCIDENT = Incident(source=1, severity="critical", kind=None, status="acknowledged", title=ISSUE.title,
                    declared_at=T0, severity_since=T0, acknowledged_at=T0, acknowledged_by="taylor",
                    tagged=("taylor", "will"), notified=("alerts",), outage_issue=2)


def run_ticks(times: list[datetime]) -> list[tuple[datetime, str, str]]:
    """(tick time, key, late text) of each notice comment the ticks post, in order."""
    done: set[str] = set()
    posted = []
    for now in times:
        planned = plan(Event(kind=EventKind.TICK, issue=ISSUE, actor="outage-bot", at=now), INCIDENT, now, POLICY, INFO)
        for action in planned.actions:
            if action.key in done or getattr(action, "template", "") not in ("reminder.md.j2", "breach.md.j2"):
                continue
            done.add(action.key)
            posted.append((now, action.key, str(action.context.get("late", ""))))  # type: ignore[attr-defined]
    return posted


# ticks every 10 minutes over 50 hours, some skipped, some delayed by up to 90 minutes, some doubled
tick_plans = st.lists(
    st.tuples(st.booleans(), st.integers(min_value=0, max_value=90), st.booleans()),
    min_size=300, max_size=300,
)


def schedule(plan_: list[tuple[bool, int, bool]]) -> list[datetime]:
    times = []
    for i, (skipped, delay, doubled) in enumerate(plan_):
        if skipped:
            continue
        at = T0 + timedelta(minutes=10 * i + delay)
        times += [at, at] if doubled else [at]
    return sorted(times)


@settings(max_examples=50, deadline=None)
@given(tick_plans)
def test_reminders_under_late_skipped_and_doubled_ticks(plan_: list[tuple[bool, int, bool]]) -> None:
    times = schedule(plan_)
    posted = run_ticks(times)
    reminders = [(at, int(key.rsplit(":", 1)[1]), late) for at, key, late in posted if ":remind:" in key]
    offsets = [timedelta(seconds=s) for _, s, _ in reminders]
    # each reminder at most once, in deadline order: a later tick never sends an earlier reminder
    assert offsets == sorted(set(offsets), reverse=True)
    for at, seconds, late in reminders:
        due = DEADLINE - timedelta(seconds=seconds)
        assert due <= at < DEADLINE
        # it is the latest reminder due at that moment: the ones it supersedes are never sent
        assert not any(due < DEADLINE - off <= at for off in OFFSETS)
        assert bool(late) == (at - due > LATE_AFTER)
    # nothing due is lost: after each tick before the deadline, the latest reminder then due was sent
    for now in times:
        due_now = [off for off in OFFSETS if DEADLINE - off <= now < DEADLINE]
        if due_now:
            assert any(a <= now and timedelta(seconds=s) <= min(due_now) for a, s, _ in reminders)
    # breach notices: one per day overdue that a tick saw, never twice
    breaches = [key for _, key, _ in posted if ":breach:" in key]
    assert len(breaches) == len(set(breaches))
    seen_days = {int((now - DEADLINE) / SPEC.breach_repeat) for now in times if now >= DEADLINE}
    assert {int(k.rsplit(":", 1)[1]) for k in breaches} == seen_days


def test_a_tick_run_twice_at_the_same_minute_sends_nothing_twice() -> None:
    at = DEADLINE - timedelta(hours=3, minutes=50)
    assert len(run_ticks([at, at])) == 1
