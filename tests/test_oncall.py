"""The on-call rotation: handoffs (daylight saving included), the queue, skip, overrides, checks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ConfigError
from bot.oncall import (
    Shift,
    check_oncall,
    first_handoff,
    handoffs_between,
    on_call,
    resolve,
    shifts_between,
)
from bot.policy import OnCall
from bot.policy_file import parse_policy

NY = ZoneInfo("America/New_York")
UTC = timezone.utc
MEMBERS = ["taylor", "will", "aj"]


def policy(
    members: list[str] | None = None,
    *,
    start: str = "2026-11-02",
    handoff: str = "monday 12:00",
    shift: str = "1w",
    skip: dict[str, str] | None = None,
    overrides: list[dict[str, Any]] | None = None,
) -> OnCall:
    """An `oncall:` section as a policy file would spell it."""
    rotation: dict[str, Any] = {"members": members or MEMBERS, "start": start, "handoff": handoff, "shift": shift}
    if skip:
        rotation["skip"] = skip
    return OnCall.model_validate({"rotation": rotation, "overrides": overrides or []})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def local(instant: datetime, tz: ZoneInfo = NY) -> datetime:
    return instant.astimezone(tz)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


# -- the handoff moment ---------------------------------------------------------------------


def test_the_handoff_at_noon_eastern_changes_the_primary() -> None:
    """The issue's example: taylor until 11:59, will from 12:00 (EST: DST ended 2026-11-01)."""
    oncall = policy()
    before = on_call(oncall, NY, at("2026-11-09T11:59-05:00"))
    after = on_call(oncall, NY, at("2026-11-09T12:00-05:00"))
    assert (before.index, before.primary, before.secondary) == (0, "taylor", "will")
    assert (after.index, after.primary, after.secondary) == (1, "will", "aj")
    assert before.end == after.start == at("2026-11-09T17:00Z")


def test_shifts_follow_the_queue_and_everyone_is_secondary_before_primary() -> None:
    shifts = shifts_between(policy(), NY, at("2026-11-02T12:00-05:00"), at("2026-12-14T12:00-05:00"))
    assert [(s.primary, s.secondary) for s in shifts] == [
        ("taylor", "will"),
        ("will", "aj"),
        ("aj", "taylor"),
        ("taylor", "will"),
        ("will", "aj"),
        ("aj", "taylor"),
    ]
    assert [s.index for s in shifts] == [0, 1, 2, 3, 4, 5]
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in shifts)


def test_every_instant_returned_is_utc() -> None:
    shift = on_call(policy(), NY, at("2026-11-20T08:00-05:00"))
    assert shift.start.utcoffset() == timedelta(0) and shift.end.utcoffset() == timedelta(0)


def test_a_naive_moment_is_wall_clock_in_the_policy_zone() -> None:
    oncall = policy()
    assert on_call(oncall, NY, datetime(2026, 11, 9, 11, 59)).primary == "taylor"
    assert on_call(oncall, NY, datetime(2026, 11, 9, 12, 0)).primary == "will"


def test_before_the_first_shift_the_first_shifts_people_are_on_call() -> None:
    oncall = policy()
    early = at("2026-10-15T09:00-04:00")
    shift = on_call(oncall, NY, early)
    assert (shift.index, shift.primary, shift.secondary) == (0, "taylor", "will")
    assert shift.start == early  # the rotation has no earlier beginning
    assert shift.end == at("2026-11-09T12:00-05:00")
    assert first_handoff(oncall.rotation, NY) == at("2026-11-02T12:00-05:00")


def test_a_start_that_is_not_the_handoff_weekday_waits_for_the_next_one() -> None:
    oncall = policy(start="2026-11-04")  # a Wednesday
    assert first_handoff(oncall.rotation, NY) == at("2026-11-09T12:00-05:00")
    assert [h.start for h in handoffs_between(oncall, NY, at("2026-11-01T00:00Z"), at("2026-11-17T00:00Z"))] == [
        at("2026-11-09T12:00-05:00"),
        at("2026-11-16T12:00-05:00"),
    ]


def test_another_handoff_weekday_and_time() -> None:
    oncall = policy(handoff="friday 17:30", start="2026-03-02")
    starts = [local(h.start) for h in handoffs_between(oncall, NY, at("2026-03-01T00:00Z"), at("2026-03-31T00:00Z"))]
    assert [s.date() for s in starts] == [date(2026, 3, d) for d in (6, 13, 20, 27)]
    assert {(s.weekday(), s.time()) for s in starts} == {(4, time(17, 30))}


@pytest.mark.parametrize(
    ("length", "step"),
    [("2w", timedelta(weeks=2)), ("1d", timedelta(days=1)), ("3d", timedelta(days=3))],
)
def test_other_shift_lengths_are_consecutive_multiples_on_the_wall_clock(length: str, step: timedelta) -> None:
    oncall = policy(shift=length, start="2026-02-23")  # across the March change
    shifts = shifts_between(oncall, NY, at("2026-02-23T12:00-05:00"), at("2026-04-30T00:00-04:00"))
    first = datetime(2026, 2, 23, 12, 0)
    for k, shift in enumerate(shifts):
        assert shift.index == k
        assert local(shift.start).replace(tzinfo=None) == first + k * step
        assert (shift.primary, shift.secondary) == (MEMBERS[k % 3], MEMBERS[(k + 1) % 3])


def test_daily_shifts_are_23_and_25_hours_on_the_days_the_clocks_change() -> None:
    oncall = policy(shift="1d", start="2026-03-06", handoff="friday 12:00")
    shifts = shifts_between(oncall, NY, at("2026-03-06T12:00-05:00"), at("2026-03-10T00:00-04:00"))
    assert [hours(s.end - s.start) for s in shifts] == [24, 23, 24, 24]
    oncall = policy(shift="1d", start="2026-10-30", handoff="friday 12:00")
    shifts = shifts_between(oncall, NY, at("2026-10-30T12:00-04:00"), at("2026-11-03T00:00-05:00"))
    assert [hours(s.end - s.start) for s in shifts] == [24, 25, 24, 24]


# -- daylight saving: 12:00 local on the Mondays around every change ---------------------------

# (zone, local date of the change, hours of the weekly shift that spans it)
DST_CHANGES = [
    ("America/New_York", date(2026, 3, 8), 167),
    ("America/New_York", date(2026, 11, 1), 169),
    ("America/New_York", date(2027, 3, 14), 167),
    ("America/New_York", date(2027, 11, 7), 169),
    # southern hemisphere: summer time ends in April and starts in October
    ("Australia/Sydney", date(2026, 4, 5), 169),
    ("Australia/Sydney", date(2026, 10, 4), 167),
    ("Australia/Sydney", date(2027, 4, 4), 169),
    ("Australia/Sydney", date(2027, 10, 3), 167),
    # Chile changes at midnight between Saturday and Sunday
    ("America/Santiago", date(2026, 4, 5), 169),
    ("America/Santiago", date(2026, 9, 6), 167),
    ("America/Santiago", date(2027, 4, 4), 169),
    ("America/Santiago", date(2027, 9, 5), 167),
]


@pytest.mark.parametrize(("zone", "change", "span"), DST_CHANGES, ids=[f"{z}-{d}" for z, d, _ in DST_CHANGES])
def test_handoffs_stay_at_noon_local_around_daylight_saving_changes(zone: str, change: date, span: int) -> None:
    tz = ZoneInfo(zone)
    # the zone really changes its offset that day (guards against a stale tz database)
    assert datetime.combine(change - timedelta(days=1), time(12), tz).utcoffset() != datetime.combine(
        change + timedelta(days=1), time(12), tz
    ).utcoffset()
    oncall = policy(start="2026-01-05")
    monday_before = change - timedelta(days=change.weekday() or 7)  # the Monday before the change
    window = (datetime.combine(monday_before - timedelta(days=7), time(13), tz), datetime.combine(
        monday_before + timedelta(days=14), time(12), tz
    ))
    handoffs = handoffs_between(oncall, tz, *window)
    assert [local(h.start, tz).date() for h in handoffs] == [
        monday_before,
        monday_before + timedelta(days=7),
        monday_before + timedelta(days=14),
    ]
    assert all(local(h.start, tz).time() == time(12) and local(h.start, tz).weekday() == 0 for h in handoffs)
    assert [hours(h.end - h.start) for h in handoffs] == [span, 168, 168]
    # and on_call agrees at the minute either side of the Monday handoff after the change
    after = datetime.combine(monday_before + timedelta(days=7), time(12), tz)
    assert on_call(oncall, tz, after - timedelta(minutes=1)).index + 1 == on_call(oncall, tz, after).index


def test_a_handoff_inside_a_daylight_saving_gap_happens_when_the_clock_jumps_past_it() -> None:
    # 02:30 does not exist on 2026-03-08 in New York (02:00 EST -> 03:00 EDT): read with the
    # offset before the change it is 07:30 UTC, i.e. 03:30 EDT, and the shifts stay in order.
    oncall = policy(handoff="sunday 02:30", shift="1d", start="2026-03-01")
    shifts = shifts_between(oncall, NY, at("2026-03-07T00:00-05:00"), at("2026-03-10T00:00-04:00"))
    starts = {local(s.start).date(): local(s.start).time() for s in shifts}
    assert starts[date(2026, 3, 8)] == time(3, 30)
    assert all(a.end == b.start and a.start < a.end for a, b in pairwise(shifts))


# -- resolve --------------------------------------------------------------------------------


def test_resolve_oncall_references() -> None:
    oncall = policy()
    moment = at("2026-11-10T09:00-05:00")
    assert resolve("oncall.primary", oncall, NY, moment) == "will"
    assert resolve("oncall.secondary", oncall, NY, moment) == "aj"
    assert resolve("ism", oncall, NY, moment) == "ism"  # a person id names itself


# -- overrides ------------------------------------------------------------------------------


def test_the_contracts_override_puts_taylor_in_wills_place() -> None:
    oncall = policy(overrides=[{"who": "taylor", "instead_of": "will", "from": "2026-12-21T12:00", "to": "2026-12-28T12:00"}])
    shift = on_call(oncall, NY, at("2026-12-22T03:00-05:00"))
    assert (shift.index, shift.primary, shift.secondary) == (7, "taylor", "aj")
    assert shift.usual == ("will", "aj") and shift.overridden
    assert (shift.start, shift.end) == (at("2026-12-21T12:00-05:00"), at("2026-12-28T12:00-05:00"))
    assert on_call(oncall, NY, at("2026-12-28T12:00-05:00")).primary == "aj"
    assert list(check_oncall(oncall, NY)) == []


def test_an_override_within_a_shift_splits_it_into_pieces_with_the_same_index() -> None:
    # shift 1 (will primary, aj secondary): ism covers aj's secondary duty for a day
    oncall = policy(overrides=[{"who": "ism", "instead_of": "aj", "from": "2026-11-11T09:00", "to": "2026-11-12T09:00"}])
    pieces = shifts_between(oncall, NY, at("2026-11-09T12:00-05:00"), at("2026-11-16T12:00-05:00"))
    assert [(p.index, local(p.start).strftime("%d %H:%M"), p.primary, p.secondary) for p in pieces] == [
        (1, "09 12:00", "will", "aj"),
        (1, "11 09:00", "will", "ism"),
        (1, "12 09:00", "will", "aj"),
    ]
    assert [p.overridden for p in pieces] == [False, True, False]
    assert all(a.end == b.start for a, b in pairwise(pieces))
    assert on_call(oncall, NY, at("2026-11-11T10:00-05:00")) == pieces[1]


def test_an_override_of_someone_not_on_call_changes_nothing_visible() -> None:
    oncall = policy(overrides=[{"who": "ism", "instead_of": "taylor", "from": "2026-11-11T09:00", "to": "2026-11-12T09:00"}])
    pieces = shifts_between(oncall, NY, at("2026-11-09T12:00-05:00"), at("2026-11-16T11:00-05:00"))
    assert [(p.start, p.end, p.primary, p.secondary) for p in pieces] == [
        (at("2026-11-09T17:00Z"), at("2026-11-16T17:00Z"), "will", "aj")
    ]


def test_two_overrides_swapping_two_people_make_a_trade() -> None:
    week = {"from": "2026-11-09T12:00", "to": "2026-11-16T12:00"}
    oncall = policy(
        overrides=[{"who": "aj", "instead_of": "will", **week}, {"who": "will", "instead_of": "aj", **week}]
    )
    shift = on_call(oncall, NY, at("2026-11-10T00:00-05:00"))
    assert (shift.primary, shift.secondary, shift.usual) == ("aj", "will", ("will", "aj"))
    assert list(check_oncall(oncall, NY)) == []


def test_an_override_given_with_an_offset_is_taken_as_given() -> None:
    oncall = policy(overrides=[{"who": "ism", "instead_of": "will", "from": "2026-11-10T05:00:00Z", "to": "2026-11-10T06:00:00Z"}])
    assert on_call(oncall, NY, at("2026-11-10T00:30-05:00")).primary == "ism"
    assert on_call(oncall, NY, at("2026-11-10T01:00-05:00")).primary == "will"


def test_an_override_before_the_first_shift_applies_too() -> None:
    oncall = policy(overrides=[{"who": "ism", "instead_of": "taylor", "from": "2026-10-01T00:00", "to": "2026-11-03T00:00"}])
    assert on_call(oncall, NY, at("2026-10-20T00:00-04:00")).primary == "ism"
    assert on_call(oncall, NY, at("2026-11-03T00:00-05:00")).primary == "taylor"


# -- skip -----------------------------------------------------------------------------------


def test_a_skipped_new_hire_is_passed_over_then_is_secondary_before_primary() -> None:
    oncall = policy(["taylor", "will", "aj", "sam"], skip={"sam": "2026-11-30"})
    shifts = shifts_between(oncall, NY, at("2026-11-02T12:00-05:00"), at("2026-12-28T12:00-05:00"))
    assert [(local(s.start).date().isoformat(), s.primary, s.secondary) for s in shifts] == [
        ("2026-11-02", "taylor", "will"),
        ("2026-11-09", "will", "aj"),
        ("2026-11-16", "aj", "taylor"),  # sam is passed over
        ("2026-11-23", "taylor", "will"),
        ("2026-11-30", "will", "aj"),
        ("2026-12-07", "aj", "sam"),  # sam's first turn: secondary...
        ("2026-12-14", "sam", "taylor"),  # ...then primary
        ("2026-12-21", "taylor", "will"),
    ]
    assert all(a.secondary == b.primary for a, b in pairwise(shifts))


def test_skip_in_the_past_changes_nothing() -> None:
    plain = shifts_between(policy(), NY, at("2026-11-02T12:00-05:00"), at("2027-03-01T12:00-05:00"))
    skipped = shifts_between(policy(skip={"aj": "2026-01-01"}), NY, at("2026-11-02T12:00-05:00"), at("2027-03-01T12:00-05:00"))
    assert plain == skipped


def test_a_skipped_first_member_does_not_start_the_rotation() -> None:
    oncall = policy(skip={"taylor": "2026-11-09"})  # serves from the shift starting that day
    shifts = shifts_between(oncall, NY, at("2026-11-02T12:00-05:00"), at("2026-11-23T12:00-05:00"))
    assert [(s.primary, s.secondary) for s in shifts] == [("will", "aj"), ("aj", "taylor"), ("taylor", "will")]


# -- handoffs -------------------------------------------------------------------------------


def test_handoffs_between_is_open_at_since_and_closed_at_until() -> None:
    oncall = policy()
    handoff = at("2026-11-16T12:00-05:00")
    assert [h.start for h in handoffs_between(oncall, NY, handoff - timedelta(hours=1), handoff)] == [handoff]
    assert handoffs_between(oncall, NY, handoff, handoff + timedelta(hours=1)) == []
    missed = handoffs_between(oncall, NY, at("2026-11-01T00:00Z"), at("2026-11-24T00:00Z"))  # ticks missed
    assert [(h.index, h.primary, h.secondary) for h in missed] == [
        (0, "taylor", "will"),
        (1, "will", "aj"),
        (2, "aj", "taylor"),
        (3, "taylor", "will"),
    ]


def test_a_handoff_notice_names_who_is_really_on_call_then() -> None:
    oncall = policy(overrides=[{"who": "taylor", "instead_of": "will", "from": "2026-12-21T12:00", "to": "2026-12-28T12:00"}])
    (handoff,) = handoffs_between(oncall, NY, at("2026-12-21T00:00-05:00"), at("2026-12-21T12:00-05:00"))
    assert handoff == on_call(oncall, NY, handoff.start)
    assert (handoff.primary, handoff.secondary, handoff.usual) == ("taylor", "aj", ("will", "aj"))


# -- check_oncall ---------------------------------------------------------------------------


def test_check_catches_an_override_that_makes_primary_and_secondary_the_same() -> None:
    # shift 0: taylor primary, will secondary; taylor covering will makes taylor both
    oncall = policy(
        overrides=[
            {"who": "ism", "instead_of": "aj", "from": "2026-11-20T00:00", "to": "2026-11-21T00:00"},
            {"who": "taylor", "instead_of": "will", "from": "2026-11-03T12:00", "to": "2026-11-04T12:00"},
        ]
    )
    assert list(check_oncall(oncall, NY)) == [
        (
            ("oncall", "overrides", 1, "who"),
            (
                "taylor would be both primary and secondary from Tue 2026-11-03 12:00 EST to Wed 2026-11-04 12:00 EST "
                "(the rotation has taylor primary and will secondary then)"
            ),
        )
    ]


def test_check_reports_the_same_person_once_per_override() -> None:
    # aj covers taylor for four weeks: fine on shifts 0 and 3, but on shift 2 aj is already primary
    oncall = policy(overrides=[{"who": "aj", "instead_of": "taylor", "from": "2026-11-02T12:00", "to": "2026-11-30T12:00"}])
    problems = list(check_oncall(oncall, NY))
    assert [path for path, _ in problems] == [("oncall", "overrides", 0, "who")]
    assert "aj would be both primary and secondary from Mon 2026-11-16 12:00 EST" in problems[0][1]


def test_check_catches_overlapping_overrides_for_the_same_person() -> None:
    oncall = policy(
        overrides=[
            {"who": "ism", "instead_of": "will", "from": "2026-11-10T00:00", "to": "2026-11-12T00:00"},
            {"who": "aj", "instead_of": "taylor", "from": "2026-11-10T00:00", "to": "2026-11-12T00:00"},
            {"who": "sam", "instead_of": "will", "from": "2026-11-11T00:00", "to": "2026-11-13T00:00"},
        ]
    )
    assert list(check_oncall(oncall, NY)) == [
        (
            ("oncall", "overrides", 2),
            "overlaps override 0 (both replace will from Wed 2026-11-11 00:00 EST to Thu 2026-11-12 00:00 EST)",
        )
    ]


def test_check_catches_a_skip_that_leaves_one_person() -> None:
    oncall = policy(["taylor", "will", "aj"], skip={"will": "2026-12-01", "aj": "2026-11-20"})
    assert list(check_oncall(oncall, NY)) == [
        (
            ("oncall", "rotation", "skip"),
            (
                "the shift starting Mon 2026-11-02 12:00 EST has taylor alone to serve "
                "(expected: at least two members not skipped, for primary and secondary)"
            ),
        )
    ]


def test_check_rejects_a_tiny_shift() -> None:
    assert list(check_oncall(policy(shift="30m"), NY)) == [
        (("oncall", "rotation", "shift"), "a shift must last at least 1h")
    ]


def test_check_accepts_a_sound_rotation() -> None:
    oncall = policy(
        ["taylor", "will", "aj", "sam"],
        skip={"sam": "2027-01-01"},
        overrides=[{"who": "ism", "instead_of": "will", "from": "2026-12-24T00:00", "to": "2026-12-26T00:00"}],
    )
    assert list(check_oncall(oncall, NY)) == []


POLICY_FILE = """\
timezone: America/New_York
people:
  taylor: {github: taylor-gh}
  will: {github: willds}
  aj: {github: aj-gh}
oncall:
  rotation:
    members: [taylor, will, aj]
    start: 2026-11-02
  overrides:
    - {who: taylor, instead_of: will, from: 2026-11-03T12:00, to: 2026-11-04T12:00}
severities:
  critical:
    labels: [P0]
"""


def test_policy_validation_reports_the_override_with_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(POLICY_FILE, ".outage-bot.yml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (".outage-bot.yml", 11)
    assert problem.message.startswith("oncall.overrides[0].who: taylor would be both primary and secondary")


def test_shift_records_are_frozen() -> None:
    shift = Shift(0, at("2026-11-02T17:00Z"), at("2026-11-09T17:00Z"), "taylor", "will")
    with pytest.raises(AttributeError):
        shift.primary = "aj"  # type: ignore[misc]
    assert not shift.overridden


def test_override_times_from_a_policy_file_in_every_spelling() -> None:
    """Naive times are New York wall clock; YAML timestamps with an offset are taken as given."""
    spellings = ["2026-11-10T07:00", "2026-11-10 07:00:00", "2026-11-10T12:00:00Z", "2026-11-10T07:00:00-05:00"]
    for spelling in spellings:
        text = POLICY_FILE.replace(
            "{who: taylor, instead_of: will, from: 2026-11-03T12:00, to: 2026-11-04T12:00}",
            # (`to` spelled alike: check_references compares from/to as given, naive vs aware fails)
            f"{{who: taylor, instead_of: aj, from: {spelling}, to: {spelling.replace('11-10', '11-11')}}}",
        )
        oncall = parse_policy(text, ".outage-bot.yml").oncall
        assert oncall is not None
        assert on_call(oncall, NY, at("2026-11-10T06:59-05:00")).secondary == "aj", spelling
        assert on_call(oncall, NY, at("2026-11-10T07:00-05:00")).secondary == "taylor", spelling
