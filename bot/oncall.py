"""The on-call rotation: who is primary and secondary at any moment (pure: no I/O, no clock).

The rules (CONTRACT.md, after Meltano's handbook):

- `members` is a queue. Shift k starts at the handoff (weekday + time on the wall clock of the
  policy's time zone) and lasts `shift`; shifts are consecutive multiples of `shift` on the
  wall clock, so a weekly Monday 12:00 handoff stays at 12:00 local and a shift that spans a
  daylight-saving change lasts 167 or 169 hours.
- The first shift starts at the first handoff weekday on or after `start`.
- On shift k, members[k mod n] is primary and members[(k+1) mod n] is secondary: everyone is
  secondary for one shift (and avoids taking blocking work), primary the next, then goes to
  the back of the queue. A new hire is appended at the end of `members`. Because positions
  are counted from `start`, appending a member changes who is on call from then on (k mod n
  with a bigger n): hold a new hire back with `skip` until they are ready.
- `skip: {member: date}` passes that member over for every shift that starts before that
  date (local date of the shift's start). The queue then moves on to the next member who may
  serve, and a member's primary shift always follows their own secondary shift: the
  secondary of shift k is the primary of shift k+1. So a member back from `skip` starts with
  a secondary shift.
- An override {who, instead_of, from, to}: during [from, to), wherever `instead_of` would be
  primary or secondary, `who` takes that role. Overrides are applied to the rotation's own
  assignment all at once (not one after another), so two overrides that swap two people
  make a trade. An override splits a shift into pieces: each piece is a `Shift` record with
  the shift's index.
- Primary and secondary are never the same person: `check_oncall` reports an override (or a
  `skip`) that would make them so.

Every instant this module returns is aware and in UTC. (Two datetimes sharing one ZoneInfo
compare and subtract by wall clock, ignoring `fold`, which is wrong across a fall-back
change: keeping instants in UTC avoids that trap.) Naive datetimes given to it, like naive
times in the policy file, are wall-clock times in the policy's zone.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.policy import ONCALL_REFS, OnCall, Override, Path, Rotation

UTC = timezone.utc
# Shorter shifts could start inside a daylight-saving gap twice in a row and come out of
# order on the real clock; nobody hands over on-call duty more often than hourly anyway.
MIN_SHIFT = timedelta(hours=1)


@dataclass(frozen=True)
class Shift:
    """Who is on call from `start` to `end` (aware, UTC).

    `index` is the rotation's shift number (0 = the first shift). An override splits a shift
    into several records with the same index. `usual` is who the rotation alone puts on call
    (primary, secondary) during this piece; it differs from (primary, secondary) under an
    override.
    """

    index: int
    start: datetime
    end: datetime
    primary: str
    secondary: str
    usual: tuple[str, str] | None = None

    @property
    def overridden(self) -> bool:
        return self.usual is not None and self.usual != (self.primary, self.secondary)


# -- instants and shift boundaries --------------------------------------------------------


def to_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """An aware instant in UTC; a naive `moment` is wall-clock time in `tz`.

    A wall-clock time that happens twice (fall back) means the first one (fold=0); one that
    never happens (spring forward) is read with the offset before the change, i.e. it lands
    that far after the jump (PEP 495).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


class _Clock:
    """Shift boundaries of one rotation in one zone."""

    def __init__(self, rotation: Rotation, tz: ZoneInfo) -> None:
        self.tz = tz
        self.length = rotation.shift
        first_day = rotation.start + timedelta(days=(rotation.handoff.weekday - rotation.start.weekday()) % 7)
        self.first_wall = datetime.combine(first_day, rotation.handoff.at.replace(tzinfo=None))
        self.first = self.boundary(0)

    def wall(self, k: int) -> datetime:
        return self.first_wall + k * self.length

    def boundary(self, k: int) -> datetime:
        """Start of shift k (end of shift k-1): the wall clock, read in the zone."""
        return to_utc(self.wall(k), self.tz)

    def index_at(self, instant: datetime) -> int:
        """The k with boundary(k) <= instant < boundary(k+1); may be negative (before the first)."""
        # Estimate on the real clock, then correct: wall clock and real clock differ by the
        # zone's offset changes only (hours), so this moves a step or two at most.
        k = (instant - self.first) // self.length
        while self.boundary(k + 1) <= instant:
            k += 1
        while self.boundary(k) > instant:
            k -= 1
        return k


# -- the queue, with skip -----------------------------------------------------------------


class _Queue:
    """Which member is primary on shift k (k >= 0), passing over skipped members."""

    def __init__(self, rotation: Rotation, clock: _Clock) -> None:
        self.members = rotation.members
        self.skip = {m: d for m, d in rotation.skip.items() if m in rotation.members}
        self.clock = clock
        self.positions: list[int] = []  # primary position of shifts 0..len-1, walked lazily
        # From the first shift starting on or after the last skip date, nobody is skipped
        # and the queue simply advances by one: no need to walk further than that.
        last = max(self.skip.values(), default=None)
        self.settled = 0 if last is None else max(0, self._first_shift_on(last))

    def _first_shift_on(self, day: date) -> int:
        start = to_utc(datetime.combine(day, datetime.min.time()), self.clock.tz)
        k = self.clock.index_at(start)
        while self.clock.boundary(k).astimezone(self.clock.tz).date() < day:
            k += 1
        return k

    def serves(self, member: str, k: int) -> bool:
        """May `member` be on call during shift k (not skipped then)?"""
        until = self.skip.get(member)
        return until is None or self.clock.boundary(k).astimezone(self.clock.tz).date() >= until

    def _next(self, position: int, k: int) -> int:
        """The next position after `position` whose member serves on shift k (or `position`)."""
        n = len(self.members)
        for step in range(1, n + 1):
            candidate = (position + step) % n
            if self.serves(self.members[candidate], k):
                return candidate
        return position

    def primary_position(self, k: int) -> int:
        if not self.skip:
            return k % len(self.members)
        if k > self.settled:
            return (self.primary_position(self.settled) + k - self.settled) % len(self.members)
        while len(self.positions) <= k:
            j = len(self.positions)
            if j == 0:
                first = 0 if self.serves(self.members[0], 0) else self._next(0, 0)
                self.positions.append(first)
            else:
                # The primary of shift j was the secondary of shift j-1: it must serve then.
                self.positions.append(self._next(self.positions[j - 1], j - 1))
        return self.positions[k]

    def pair(self, k: int) -> tuple[str, str]:
        """(primary, secondary) of shift k, before overrides."""
        k = max(k, 0)
        return self.members[self.primary_position(k)], self.members[self.primary_position(k + 1)]


# -- overrides ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cover:
    number: int  # position in the policy's `overrides` list
    who: str
    instead_of: str
    start: datetime
    end: datetime


def _covers(overrides: Sequence[Override], tz: ZoneInfo) -> list[_Cover]:
    out = [
        _Cover(i, o.who, o.instead_of, to_utc(o.from_, tz), to_utc(o.to, tz)) for i, o in enumerate(overrides)
    ]
    return [c for c in out if c.start < c.end]


def _apply(usual: tuple[str, str], active: Sequence[_Cover]) -> tuple[str, str]:
    """Both roles substituted at once, so that a pair of overrides can swap two people."""
    primary, secondary = usual
    for cover in active:  # in policy order: with overlapping covers the later one wins
        if cover.instead_of == usual[0]:
            primary = cover.who
        if cover.instead_of == usual[1]:
            secondary = cover.who
    return primary, secondary


class _Schedule:
    """Everything needed to answer questions about one on-call policy in one zone."""

    def __init__(self, oncall: OnCall, tz: ZoneInfo) -> None:
        self.clock = _Clock(oncall.rotation, tz)
        self.queue = _Queue(oncall.rotation, self.clock)
        self.covers = _covers(oncall.overrides, tz)
        self.covers_by_start = sorted(self.covers, key=lambda c: c.start)
        self.starts = [c.start for c in self.covers_by_start]

    def touching(self, start: datetime, end: datetime) -> list[_Cover]:
        """Covers overlapping [start, end), in policy order."""
        upto = bisect.bisect_left(self.starts, end)
        return sorted((c for c in self.covers_by_start[:upto] if c.end > start), key=lambda c: c.number)

    def pieces(self, k: int, start: datetime, end: datetime) -> list[Shift]:
        """Shift k between `start` and `end`, cut where the overrides in effect change."""
        usual = self.queue.pair(k)
        covers = self.touching(start, end)
        cuts = sorted({start, end, *(t for c in covers for t in (c.start, c.end) if start < t < end)})
        out: list[Shift] = []
        for a, b in pairwise(cuts):
            primary, secondary = _apply(usual, [c for c in covers if c.start <= a < c.end])
            if out and (out[-1].primary, out[-1].secondary) == (primary, secondary):
                last = out.pop()  # an override of someone not on call: no visible change
                a = last.start
            out.append(Shift(k, a, b, primary, secondary, usual))
        return out

    def span(self, k: int, start: datetime) -> tuple[datetime, datetime]:
        """Where shift k's pieces run: its boundaries; before the first shift, from `start`."""
        end = self.clock.boundary(k + 1)
        if k == 0 and start < self.clock.first:
            return start, end
        return self.clock.boundary(k), end

    def index_at(self, instant: datetime) -> int:
        return max(self.clock.index_at(instant), 0)


# -- the public questions -------------------------------------------------------------------


def first_handoff(rotation: Rotation, tz: ZoneInfo) -> datetime:
    """When shift 0 starts: the first handoff weekday and time on or after `start`."""
    return _Clock(rotation, tz).first


def on_call(oncall: OnCall, tz: ZoneInfo, at: datetime) -> Shift:
    """Who is on call at `at`: the piece of the shift that contains it.

    Before the first shift starts, the first shift's people are on call: the piece returned
    then starts at `at` itself (the rotation has no earlier beginning).
    """
    schedule = _Schedule(oncall, tz)
    instant = to_utc(at, tz)
    k = schedule.index_at(instant)
    start, end = schedule.span(k, instant)
    for piece in schedule.pieces(k, start, end):
        if piece.start <= instant < piece.end:
            return piece
    raise AssertionError("the pieces of a shift cover it")  # pragma: no cover


def resolve(ref: str, oncall: OnCall, tz: ZoneInfo, at: datetime) -> str:
    """`"oncall.primary"` / `"oncall.secondary"` -> the person id on call at `at`.

    Any other reference is a person id already and is returned unchanged.
    """
    if ref not in ONCALL_REFS:
        return ref
    shift = on_call(oncall, tz, at)
    return shift.primary if ref == "oncall.primary" else shift.secondary


def shifts_between(oncall: OnCall, tz: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """Every piece of every shift that overlaps [start, end), in time order.

    Pieces are not cut at `start` or `end`: the first one may begin before `start` and the
    last one end after `end`, so each row shows a real handoff. Before the first shift, the
    first shift's people are on call from `start`.
    """
    schedule = _Schedule(oncall, tz)
    begin, finish = to_utc(start, tz), to_utc(end, tz)
    out: list[Shift] = []
    k = schedule.index_at(begin)
    while True:
        low, high = schedule.span(k, begin)
        if low >= finish:
            break
        out.extend(p for p in schedule.pieces(k, low, high) if p.end > begin and p.start < finish)
        k += 1
    return out


def handoffs_between(oncall: OnCall, tz: ZoneInfo, since: datetime, until: datetime) -> list[Shift]:
    """The shifts that start in (since, until], each as its first piece (overrides applied).

    The scheduled tick posts one handoff notice per shift returned: the new primary and
    secondary, and the secondary's reminder that they are primary next.
    """
    schedule = _Schedule(oncall, tz)
    low, high = to_utc(since, tz), to_utc(until, tz)
    out: list[Shift] = []
    k = max(schedule.clock.index_at(low) + 1, 0)
    while (start := schedule.clock.boundary(k)) <= high:
        if start > low:
            out.append(schedule.pieces(k, start, schedule.clock.boundary(k + 1))[0])
        k += 1
    return out


# -- validation -----------------------------------------------------------------------------


def check_oncall(oncall: OnCall, tz: ZoneInfo) -> Iterator[tuple[Path, str]]:
    """Rotation problems, as (path in the policy file, message).

    Checked: the shift length; that `skip` leaves two people for every shift; that no two
    overrides replace the same person at the same time; that no override makes one person
    both primary and secondary.
    """
    rotation = oncall.rotation
    if rotation.shift < MIN_SHIFT:
        yield ("oncall", "rotation", "shift"), "a shift must last at least 1h"
        return  # the other checks walk shifts: meaningless (and slow) with tiny ones
    if len(set(rotation.members)) < 2:
        return  # reported by check_references (a member listed twice)
    schedule = _Schedule(oncall, tz)
    yield from _check_skip(schedule, tz)
    yield from _check_overlaps(schedule, tz)
    yield from _check_same_person(schedule, tz)


def _when(instant: datetime, tz: ZoneInfo) -> str:
    return f"{instant.astimezone(tz):%a %Y-%m-%d %H:%M %Z}"


def _check_skip(schedule: _Schedule, tz: ZoneInfo) -> Iterator[tuple[Path, str]]:
    queue = schedule.queue
    for k in range(queue.settled + 1):
        serving = [m for m in dict.fromkeys(queue.members) if queue.serves(m, k)]
        if len(serving) < 2:
            who = serving[0] if serving else "nobody"
            yield ("oncall", "rotation", "skip"), (
                f"the shift starting {_when(schedule.clock.boundary(k), tz)} has {who} alone to serve "
                "(expected: at least two members not skipped, for primary and secondary)"
            )
            return


def _check_overlaps(schedule: _Schedule, tz: ZoneInfo) -> Iterator[tuple[Path, str]]:
    covers = schedule.covers
    for i, later in enumerate(covers):
        for earlier in covers[:i]:
            if earlier.instead_of == later.instead_of and earlier.start < later.end and later.start < earlier.end:
                yield ("oncall", "overrides", later.number), (
                    f"overlaps override {earlier.number} (both replace {later.instead_of} from "
                    f"{_when(max(earlier.start, later.start), tz)} to {_when(min(earlier.end, later.end), tz)})"
                )


def _check_same_person(schedule: _Schedule, tz: ZoneInfo) -> Iterator[tuple[Path, str]]:
    reported: set[int] = set()
    for cover in sorted(schedule.covers, key=lambda c: c.number):
        if cover.number in reported:
            continue
        k = schedule.index_at(cover.start)
        while True:
            low, high = schedule.span(k, cover.start)
            if low >= cover.end:
                break
            for piece in schedule.pieces(k, max(low, cover.start), min(high, cover.end)):
                if piece.primary != piece.secondary:
                    continue
                person = piece.primary
                for culprit in schedule.touching(piece.start, piece.end):
                    if culprit.who == person and culprit.number not in reported:
                        reported.add(culprit.number)
                        usual_primary, usual_secondary = piece.usual or ("?", "?")
                        yield ("oncall", "overrides", culprit.number, "who"), (
                            f"{person} would be both primary and secondary from {_when(piece.start, tz)} "
                            f"to {_when(piece.end, tz)} (the rotation has {usual_primary} primary and "
                            f"{usual_secondary} secondary then)"
                        )
            k += 1
