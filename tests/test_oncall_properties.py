"""Properties of the rotation that must hold for any queue, overrides, skips, zone and moment."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from bot.durations import format_duration
from bot.oncall import (
    check_oncall,
    first_handoff,
    handoffs_between,
    on_call,
    shifts_between,
    to_utc,
)
from bot.policy import WEEKDAYS, OnCall

UTC = timezone.utc
NAMES = [f"m{i}" for i in range(12)]
OUTSIDERS = ["cover-a", "cover-b"]  # people outside the rotation who can cover
ZONES = [
    ZoneInfo(name)
    for name in (
        "America/New_York",
        "Australia/Sydney",
        "America/Santiago",  # changes at midnight
        "Europe/London",
        "Australia/Lord_Howe",  # a 30-minute daylight-saving change
        "Asia/Kolkata",
        "UTC",
    )
]
LENGTHS = [timedelta(hours=12), timedelta(days=1), timedelta(days=3), timedelta(weeks=1), timedelta(weeks=2)]

PROPERTY = settings(max_examples=150, deadline=None)


def _wall_exists(moment: datetime, tz: ZoneInfo) -> bool:
    return moment.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == moment


@st.composite
def rotations(draw: st.DrawFn, *, skip: bool = False, overrides: bool = False) -> tuple[OnCall, ZoneInfo]:
    members = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=10, unique=True))
    start = draw(st.dates(date(2025, 1, 1), date(2028, 12, 31)))
    weekday = draw(st.integers(0, 6))
    at = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30])))
    section: dict[str, Any] = {
        "rotation": {
            "members": members,
            "start": start.isoformat(),
            "shift": format_duration(draw(st.sampled_from(LENGTHS))),
            "handoff": f"{WEEKDAYS[weekday]} {at:%H:%M}",
        },
        "overrides": [],
    }
    if skip:
        skipped = draw(st.lists(st.sampled_from(members), max_size=len(members) // 2, unique=True))
        section["rotation"]["skip"] = {
            m: (start + timedelta(days=draw(st.integers(-30, 120)))).isoformat() for m in skipped
        }
    if overrides:
        for _ in range(draw(st.integers(0, 4))):
            instead_of = draw(st.sampled_from(members))
            who = draw(st.sampled_from([m for m in members + OUTSIDERS if m != instead_of]))
            begin = datetime.combine(start, time()) + timedelta(hours=draw(st.integers(-24 * 10, 24 * 120)))
            end = begin + timedelta(hours=draw(st.integers(1, 24 * 21)))
            if draw(st.booleans()):  # naive: wall clock in the zone; else taken as given
                begin, end = begin.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
            section["overrides"].append({"who": who, "instead_of": instead_of, "from": begin, "to": end})
    return OnCall.model_validate(section), draw(st.sampled_from(ZONES))


def moments(oncall: OnCall) -> st.SearchStrategy[datetime]:
    origin = datetime.combine(oncall.rotation.start, time(), UTC)
    return st.integers(-60 * 24 * 30, 60 * 24 * 400).map(lambda minutes: origin + timedelta(minutes=minutes))


@PROPERTY
@given(data=st.data(), case=rotations(skip=True, overrides=True))
def test_a_valid_rotation_always_has_one_primary_and_a_different_secondary(
    data: st.DataObject, case: tuple[OnCall, ZoneInfo]
) -> None:
    oncall, tz = case
    assume(not list(check_oncall(oncall, tz)))
    moment = data.draw(moments(oncall))
    shift = on_call(oncall, tz, moment)
    assert isinstance(shift.primary, str) and isinstance(shift.secondary, str)
    assert shift.primary != shift.secondary
    assert shift.start <= moment < shift.end


@PROPERTY
@given(data=st.data(), case=rotations(skip=True, overrides=True))
def test_validation_catches_every_moment_with_one_person_in_both_roles(
    data: st.DataObject, case: tuple[OnCall, ZoneInfo]
) -> None:
    oncall, tz = case
    moment = data.draw(moments(oncall))
    while_overridden = bool(oncall.overrides) and data.draw(st.booleans())
    if while_overridden:  # most trouble is while an override runs
        override = data.draw(st.sampled_from(oncall.overrides))
        begin, end = to_utc(override.from_, tz), to_utc(override.to, tz)
        moment = begin + (end - begin) * data.draw(st.floats(0, 0.999))
    shift = on_call(oncall, tz, moment)
    event("one person in both roles" if shift.primary == shift.secondary else "two people")
    if shift.primary == shift.secondary:
        assert list(check_oncall(oncall, tz))


@PROPERTY
@given(case=rotations())
def test_without_overrides_or_skip_each_secondary_shift_is_followed_by_a_primary_shift(
    case: tuple[OnCall, ZoneInfo],
) -> None:
    oncall, tz = case
    members, n = oncall.rotation.members, len(oncall.rotation.members)
    first = on_call(oncall, tz, datetime.combine(oncall.rotation.start, time(), tz) + timedelta(days=7))
    shifts = shifts_between(oncall, tz, first.start, first.start + (2 * n + 1) * oncall.rotation.shift)
    for shift in shifts:
        assert (shift.primary, shift.secondary) == (members[shift.index % n], members[(shift.index + 1) % n])
    for this, following in pairwise(shifts):
        assert following.index == this.index + 1
        assert this.secondary == following.primary  # secondary one shift, primary the next
    # everyone gets a turn: each member is primary once in every n consecutive shifts
    assert sorted(s.primary for s in shifts[:n]) == sorted(members)


@PROPERTY
@given(case=rotations(skip=True))
def test_skip_passes_members_over_and_keeps_secondary_before_primary(case: tuple[OnCall, ZoneInfo]) -> None:
    oncall, tz = case
    assume(not list(check_oncall(oncall, tz)))
    begin = datetime.combine(oncall.rotation.start, time(), tz)
    shifts = shifts_between(oncall, tz, begin, begin + timedelta(days=150))
    for this, following in pairwise(shifts):
        assert this.secondary == following.primary
        assert this.primary != this.secondary
    for shift in shifts:
        # the piece of shift 0 starts at `begin` when that is before the first handoff
        starts = first_handoff(oncall.rotation, tz) if shift.index == 0 else shift.start
        for member in (shift.primary, shift.secondary):
            until = oncall.rotation.skip.get(member)
            assert until is None or starts.astimezone(tz).date() >= until


@PROPERTY
@given(data=st.data(), case=rotations(skip=True, overrides=True))
def test_pieces_tile_any_window_and_agree_with_on_call(data: st.DataObject, case: tuple[OnCall, ZoneInfo]) -> None:
    oncall, tz = case
    start = data.draw(moments(oncall))
    end = start + timedelta(hours=data.draw(st.integers(1, 24 * 60)))
    pieces = shifts_between(oncall, tz, start, end)
    assert pieces[0].start <= start and pieces[-1].end >= end
    for piece in pieces:
        assert piece.start < piece.end
        assert piece.start.utcoffset() == timedelta(0)
        assert on_call(oncall, tz, piece.start) == piece
    for this, following in pairwise(pieces):
        assert this.end == following.start
        assert following.index - this.index in (0, 1)
        assert (this.primary, this.secondary) != (following.primary, following.secondary) or (
            this.index != following.index
        )  # pieces of one shift only split where someone changes


@PROPERTY
@given(data=st.data(), case=rotations(overrides=True))
def test_handoffs_happen_at_the_handoff_time_on_the_local_wall_clock(
    data: st.DataObject, case: tuple[OnCall, ZoneInfo]
) -> None:
    oncall, tz = case
    since = data.draw(moments(oncall))
    until = since + timedelta(days=data.draw(st.integers(0, 60)))
    handoffs = handoffs_between(oncall, tz, since, until)
    rotation = oncall.rotation
    first_day = rotation.start
    while first_day.weekday() != rotation.handoff.weekday:
        first_day += timedelta(days=1)
    for shift in handoffs:
        assert since < shift.start <= until
        assert shift == on_call(oncall, tz, shift.start)
        planned = datetime.combine(first_day, rotation.handoff.at) + shift.index * rotation.shift
        wall = shift.start.astimezone(tz).replace(tzinfo=None)
        if _wall_exists(planned, tz):
            assert wall == planned
        else:  # in a daylight-saving gap: the handoff happens just past the jump
            assert planned < wall <= planned + timedelta(hours=1)
    for this, following in pairwise(handoffs):
        assert following.index == this.index + 1 and this.start < following.start
