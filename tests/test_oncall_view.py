"""The rotation shown: `oncall now --json`, text, the schedule table and the iCalendar feed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from bot.oncall import on_call, shifts_between
from bot.oncall_view import now_json, now_text, schedule_table, to_ics
from bot.policy import OnCall, Person

NY = ZoneInfo("America/New_York")
UTC = timezone.utc
PEOPLE = {
    "taylor": Person.model_validate({"github": "taylor-gh", "name": "Taylor Otwell"}),
    "will": Person.model_validate({"github": "willds", "name": "Will Da Silva"}),
    "aj": Person.model_validate({"github": "aj-gh"}),  # no name: shown by id
    "ism": Person.model_validate({"name": "Security Lead"}),
}
COVER = {"who": "ism", "instead_of": "aj", "from": "2026-12-23T09:00", "to": "2026-12-24T09:00"}
TRADE = {"who": "taylor", "instead_of": "will", "from": "2026-12-21T12:00", "to": "2026-12-28T12:00"}


def policy(*overrides: dict[str, Any]) -> OnCall:
    return OnCall.model_validate(
        {"rotation": {"members": ["taylor", "will", "aj"], "start": "2026-11-02"}, "overrides": list(overrides)}
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- now --------------------------------------------------------------------------------------


def test_now_json_is_exactly_the_contracts_shape() -> None:
    shift = on_call(policy(), NY, at("2026-11-09T12:00-05:00"))
    payload = now_json(shift)
    assert payload == {"primary": "will", "secondary": "aj", "until": "2026-11-16T17:00:00+00:00"}
    assert json.loads(json.dumps(payload)) == payload
    assert datetime.fromisoformat(payload["until"]) == at("2026-11-16T12:00-05:00")


def test_now_json_until_is_the_next_change_under_an_override() -> None:
    payload = now_json(on_call(policy(TRADE, COVER), NY, at("2026-12-23T10:00-05:00")))
    assert payload == {"primary": "taylor", "secondary": "ism", "until": "2026-12-24T14:00:00+00:00"}


def test_now_text_names_people_and_the_local_handoff() -> None:
    text = now_text(on_call(policy(), NY, at("2026-11-17T08:00-05:00")), PEOPLE, NY)
    assert text == (
        "Primary:   aj\n"
        "Secondary: Taylor Otwell (taylor)\n"
        "Until:     Mon 2026-11-23 12:00 EST"
    )


def test_now_text_says_who_covers_whom() -> None:
    text = now_text(on_call(policy(TRADE, COVER), NY, at("2026-12-23T10:00-05:00")), PEOPLE, NY)
    assert text.splitlines() == [
        "Primary:   Taylor Otwell (taylor)",
        "Secondary: Security Lead (ism)",
        "Until:     Thu 2026-12-24 09:00 EST",
        "Override:  taylor covers will (primary); ism covers aj (secondary)",
    ]


def test_people_outside_the_policy_are_shown_by_id() -> None:
    assert now_text(on_call(policy(), NY, at("2026-11-03T00:00-05:00")), {}, NY).splitlines()[:2] == [
        "Primary:   taylor",
        "Secondary: will",
    ]


# -- schedule table ---------------------------------------------------------------------------


def test_schedule_table_lists_local_handoffs_and_overrides() -> None:
    shifts = shifts_between(policy(TRADE, COVER), NY, at("2026-12-14T12:00-05:00"), at("2026-12-28T12:00-05:00"))
    assert schedule_table(shifts, NY, PEOPLE).splitlines() == [
        "Start                     Primary        Secondary      Note",
        "------------------------  -------------  -------------  -------------------------------------------------------",
        "Mon 2026-12-14 12:00 EST  Taylor Otwell  Will Da Silva",
        "Mon 2026-12-21 12:00 EST  Taylor Otwell  aj             taylor covers will (primary)",
        "Wed 2026-12-23 09:00 EST  Taylor Otwell  Security Lead  taylor covers will (primary); ism covers aj (secondary)",
        "Thu 2026-12-24 09:00 EST  Taylor Otwell  aj             taylor covers will (primary)",
    ]


def test_schedule_table_shows_local_time_across_a_daylight_saving_change() -> None:
    shifts = shifts_between(policy(), NY, at("2027-03-01T12:00-05:00"), at("2027-03-22T12:00-04:00"))
    starts = [line[:24] for line in schedule_table(shifts, NY, PEOPLE).splitlines()[2:]]
    assert starts == ["Mon 2027-03-01 12:00 EST", "Mon 2027-03-08 12:00 EST", "Mon 2027-03-15 12:00 EDT"]


# -- iCalendar --------------------------------------------------------------------------------


def parse(feed: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(feed)


def events(cal: icalendar.Calendar) -> list[icalendar.Component]:
    return cal.walk("VEVENT")


def test_ics_has_one_event_per_primary_and_per_secondary_stretch() -> None:
    oncall = policy(TRADE, COVER)
    start, end = at("2026-12-14T12:00-05:00"), at("2027-01-04T12:00-05:00")
    cal = parse(to_ics(oncall, NY, start, end, PEOPLE, "Team on-call"))
    found = sorted(
        (str(e["summary"]), e.decoded("dtstart").astimezone(UTC), e.decoded("dtend").astimezone(UTC))
        for e in events(cal)
    )
    expected = sorted(
        [
            ("On call (primary): Taylor Otwell", at("2026-12-14T17:00Z"), at("2026-12-21T17:00Z")),
            ("On call (primary): Taylor Otwell", at("2026-12-21T17:00Z"), at("2026-12-28T17:00Z")),  # one stretch
            ("On call (primary): aj", at("2026-12-28T17:00Z"), at("2027-01-04T17:00Z")),
            ("On call (secondary): Will Da Silva", at("2026-12-14T17:00Z"), at("2026-12-21T17:00Z")),
            ("On call (secondary): aj", at("2026-12-21T17:00Z"), at("2026-12-23T14:00Z")),
            ("On call (secondary): Security Lead", at("2026-12-23T14:00Z"), at("2026-12-24T14:00Z")),
            ("On call (secondary): aj", at("2026-12-24T14:00Z"), at("2026-12-28T17:00Z")),
            ("On call (secondary): Taylor Otwell", at("2026-12-28T17:00Z"), at("2027-01-04T17:00Z")),
        ]
    )
    assert found == expected
    assert str(cal["x-wr-calname"]) == "Team on-call"
    assert all(str(e["transp"]) == "TRANSPARENT" for e in events(cal))


def test_ics_times_are_local_with_the_zones_vtimezone_across_daylight_saving() -> None:
    oncall = policy()
    start, end = at("2027-02-22T12:00-05:00"), at("2027-03-29T12:00-04:00")
    feed = to_ics(oncall, NY, start, end, PEOPLE, "Team on-call")
    assert b"DTSTART;TZID=America/New_York:20270315T120000" in feed
    cal = parse(feed)
    (vtimezone,) = cal.timezones
    assert str(vtimezone["tzid"]) == "America/New_York"
    # What a calendar app computes from the embedded VTIMEZONE alone, not from its own tz database.
    embedded = vtimezone.to_tz(lookup_tzid=False)
    shifts = shifts_between(oncall, NY, start, end)
    primaries = sorted((e for e in events(cal) if "primary" in str(e["summary"])), key=lambda e: e.decoded("dtstart"))
    assert len(primaries) == len(shifts) == 5
    for event, shift in zip(primaries, shifts):
        dtstart = event["dtstart"]
        assert dtstart.params["TZID"] == "America/New_York"
        wall = event.decoded("dtstart").replace(tzinfo=None)
        assert wall.hour == 12 and wall.weekday() == 0  # every handoff at noon local
        assert wall.replace(tzinfo=embedded).astimezone(UTC) == shift.start
        assert event.decoded("dtend").replace(tzinfo=None).replace(tzinfo=embedded).astimezone(UTC) == shift.end
    durations = [(s.end - s.start) / timedelta(hours=1) for s in shifts]
    assert durations == [168, 168, 167, 168, 168]


def test_ics_uids_are_unique_and_stable_when_the_window_moves() -> None:
    oncall = policy(TRADE, COVER)
    first = parse(to_ics(oncall, NY, at("2026-12-01T00:00-05:00"), at("2027-01-15T00:00-05:00"), PEOPLE, "Team"))
    later = parse(to_ics(oncall, NY, at("2026-12-10T08:00-05:00"), at("2027-02-01T00:00-05:00"), PEOPLE, "Team"))

    def by_uid(cal: icalendar.Calendar) -> dict[str, tuple[str, datetime, datetime]]:
        out = {str(e["uid"]): (str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend")) for e in events(cal)}
        assert len(out) == len(events(cal))  # unique
        return out

    a, b = by_uid(first), by_uid(later)
    common = a.keys() & b.keys()
    assert len(common) >= 10
    assert all(a[uid] == b[uid] for uid in common)
    other = parse(to_ics(oncall, NY, at("2026-12-01T00:00-05:00"), at("2027-01-15T00:00-05:00"), PEOPLE, "Other"))
    assert not by_uid(other).keys() & a.keys()  # another rotation's feed never collides


def test_ics_before_the_rotation_starts_keeps_stable_uids() -> None:
    oncall = policy()
    one = parse(to_ics(oncall, NY, at("2026-10-01T00:00-04:00"), at("2026-11-20T00:00-05:00"), PEOPLE, "Team"))
    two = parse(to_ics(oncall, NY, at("2026-10-15T00:00-04:00"), at("2026-11-20T00:00-05:00"), PEOPLE, "Team"))
    uids = [sorted(str(e["uid"]) for e in events(cal)) for cal in (one, two)]
    assert uids[0] == uids[1]
    first_primary = min((e for e in events(two) if "primary" in str(e["summary"])), key=lambda e: e.decoded("dtstart"))
    assert first_primary.decoded("dtstart").astimezone(UTC) == at("2026-10-15T04:00Z")


def test_ics_is_a_function_of_its_arguments() -> None:
    oncall = policy(TRADE)
    args = (oncall, NY, at("2026-12-01T00:00-05:00"), at("2027-12-01T00:00-05:00"), PEOPLE, "Team")
    feed = to_ics(*args)
    assert feed == to_ics(*args)
    cal = parse(feed)
    assert {e.decoded("dtstamp") for e in events(cal)} == {at("2026-12-01T05:00Z")}
    assert str(cal["version"]) == "2.0" and "outage-bot" in str(cal["prodid"])


def test_ics_describes_the_secondarys_duty() -> None:
    cal = parse(to_ics(policy(COVER), NY, at("2026-12-21T12:00-05:00"), at("2026-12-28T12:00-05:00"), PEOPLE, "T"))
    descriptions = {str(e["summary"]): str(e["description"]) for e in events(cal)}
    assert "Primary next shift: avoid taking work that would block others." in descriptions["On call (secondary): aj"]
    assert "Covering for aj." in descriptions["On call (secondary): Security Lead"]
    assert date(2026, 12, 21) == min(e.decoded("dtstart").date() for e in events(cal))
