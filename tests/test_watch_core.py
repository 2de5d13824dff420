"""Issue #16, probes and upstreams: the pure part (bot.watch.state, .statuspage, .issue), the
notice-only kind in the planner and the schedule, and the policy's checks of both sections."""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from markdown_surface import (
    inline_types,
    parse,
    quick_action_lines,
    text_node_findings,
    text_nodes,
)

from bot.config import load
from bot.events import Event, EventKind
from bot.planner import ForgeInfo, plan
from bot.policy import Policy, Upstream
from bot.records import ForgeCapabilities as Capabilities
from bot.records import Issue
from bot.resources import default_policy_path
from bot.schedule import deadline_of, next_due
from bot.status_index import Index
from bot.watch import issue as text
from bot.watch import statuspage
from bot.watch.state import Check, Decision, WatchState, step

FIXTURES = Path(__file__).parent / "fixtures" / "watch"
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)
BAD, GOOD = False, True


def run(results: list[bool], *, fail_after: int = 2, recover_after: int = 2) -> tuple[list[str], WatchState]:
    """Feed checks in order; an incident is 'declared' as number 7 when asked."""
    state, said = WatchState(), []
    for i, ok in enumerate(results):
        state, decision = step(state, Check(ok=ok, at=T0 + timedelta(minutes=10 * i), summary=""),
                               fail_after=fail_after, recover_after=recover_after)
        said.append(decision.value[0].upper() if decision is not Decision.NOTHING else ".")
        if decision is Decision.DECLARE:
            state = WatchState(fails=state.fails, since=state.since, incident=7)
        elif decision is Decision.RESOLVE:
            state = WatchState()
    return said, state


@pytest.mark.parametrize(("results", "fail_after", "recover_after", "expected"), [
    ([GOOD, GOOD, GOOD], 2, 2, "..."),
    ([BAD, GOOD, BAD, GOOD, BAD], 2, 2, "....."),  # never two in a row: never declared
    ([BAD, BAD, BAD], 2, 2, ".D."),  # declared once, at the second failure
    ([BAD, BAD, BAD], 3, 2, "..D"),  # fail_after 3: the issue's "500 three ticks in a row"
    ([BAD, BAD, GOOD, GOOD], 2, 2, ".D.R"),
    ([BAD, BAD, GOOD, BAD, GOOD, BAD, GOOD, GOOD], 2, 2, ".D.....R"),  # flapping while declared: once
    ([BAD, BAD, GOOD, BAD, BAD, GOOD, BAD, BAD], 2, 3, ".D......"),  # flapping: declared once, never resolved
    ([BAD], 1, 1, "D"),  # an upstream: one reading declares
    ([BAD, GOOD], 1, 1, "DR"),
])
def test_step_declares_after_fail_after_and_resolves_after_recover_after(results, fail_after, recover_after, expected) -> None:
    said, _ = run(results, fail_after=fail_after, recover_after=recover_after)
    assert "".join(said) == expected


def test_a_steady_target_changes_no_state_so_the_index_is_not_written() -> None:
    up = WatchState()
    assert step(up, Check(ok=True, at=T0, summary=""), fail_after=2, recover_after=2) == (up, Decision.NOTHING)
    down = WatchState(fails=2, since=T0, incident=4)
    again, decision = step(down, Check(ok=False, at=T0 + timedelta(hours=3), summary=""), fail_after=2, recover_after=2)
    assert again == down and decision is Decision.NOTHING
    failing_undeclared = WatchState(fails=2, since=T0)  # the declaration failed: asked for again
    assert step(failing_undeclared, Check(ok=False, at=T0, summary=""), fail_after=2, recover_after=2) == (failing_undeclared, Decision.DECLARE)


def test_watch_states_round_trip_through_the_index_and_quiet_ones_are_not_kept() -> None:
    index = Index(watch={"probes:api": WatchState(fails=1, since=T0), "upstreams:pypi": WatchState(fails=1, since=T0, incident=12)})
    data = json.loads(json.dumps(index.to_data(), default=str))
    assert Index.from_data(data).watch == index.watch
    assert WatchState().quiet and not WatchState(fails=1).quiet


# -- Statuspage -----------------------------------------------------------------------------------

def page(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("fixture", "upstream", "ok"), [
    ("status_none.json", {}, True),
    ("status_major.json", {}, False),
    ("status_major.json", {"declare_from": "critical"}, True),
    ("summary_partial.json", {}, False),  # the page's indicator: major
    ("summary_partial.json", {"components": ["Git Operations"]}, True),  # ours is operational
    ("summary_partial.json", {"components": ["Actions"]}, False),
    ("summary_partial.json", {"components": ["Packages"]}, True),  # maintenance is not an outage
    ("summary_partial.json", {"components": ["Git Operations", "Actions"]}, False),
])
def test_statuspage_reading(fixture, upstream, ok) -> None:
    spec = Upstream(url="https://www.githubstatus.com/api/v2/summary.json", **upstream)
    check = statuspage.read(page(fixture), spec, T0)
    assert check.ok is ok
    if fixture.startswith("summary") and not ok:
        assert check.link == "https://stspg.io/p1x8y5kq4j7m"  # the upstream's incident, for users
    if fixture == "status_major.json":
        assert check.link == "https://www.githubstatus.com" and check.summary == "major: Partial System Outage"


@pytest.mark.parametrize("data", [None, [], {"status": "ok"}, {"status": {"indicator": "purple"}}])
def test_what_is_not_a_status_page_says_so(data) -> None:
    with pytest.raises(statuspage.NotAStatusPage):
        statuspage.read(data, Upstream(url="https://x.example/api/v2/status.json"), T0)


def test_components_need_the_summary() -> None:
    with pytest.raises(statuspage.NotAStatusPage, match="summary.json"):
        statuspage.read(page("status_major.json"), Upstream(url="https://x.example/api/v2/status.json", components=["API"]), T0)


# -- the issue ------------------------------------------------------------------------------------

def test_the_issue_shows_the_evidence_inert_and_no_secret_of_the_url() -> None:
    hostile = "<@channel> @everyone #12 [x](https://evil.example) /close ```"
    check = Check(ok=False, at=T0, summary="HTTP 500 in 12 ms",
                  evidence=(("status", "HTTP 500"), ("latency", "12 ms"), ("body", hostile)))
    url = "https://ops:hunter2@api.example.com/healthz?token=s3cret&x=1"
    body = text.body("probes", "api", url, WatchState(fails=2, since=T0 - timedelta(minutes=10)), [check],
                     fail_after=2, recover_after=2)
    assert "hunter2" not in body and "s3cret" not in body and "ops" not in body
    assert "https://api.example.com/healthz?token=…&x=…" in body.replace("\u2060", "")
    assert "HTTP 500" in body and "12 ms" in body and "2026-11-05 13:50 UTC" in body
    assert text.marker("probes", "api", url) in body
    shown = body.replace(text.marker("probes", "api", url), "")
    tokens = parse(shown)
    assert inline_types(tokens) <= {"text", "softbreak", "strong_open", "strong_close", "code_inline"}  # no link, no html
    assert not quick_action_lines(shown)
    assert not [f for node in text_nodes(tokens) for f in text_node_findings(node)]


def test_the_recovery_note_says_when_and_for_how_long() -> None:
    note = text.recovery_note("probes", WatchState(fails=2, since=T0, incident=3),
                              Check(ok=True, at=T0 + timedelta(minutes=95), summary="HTTP 200 in 9 ms"))
    assert note == "recovered at 2026-11-05 15:35 UTC, down for 1h35m (HTTP 200 in 9 ms)"


def test_markers_differ_by_name_and_url() -> None:
    assert len({text.marker("probes", "a", "https://x"), text.marker("probes", "b", "https://x"),
                text.marker("probes", "a", "https://y"), text.marker("upstreams", "a", "https://x")}) == 4


# -- the notice-only kind: users are told, nothing is owed -----------------------------------------

def upstream_policy() -> Policy:
    policy, _ = load(default_policy_path())
    kinds = {**policy.kinds, "upstream": policy.kinds["upstream"].model_copy(update={"notice_only": True})}
    return policy.model_copy(update={"kinds": kinds})


GITHUB = ForgeInfo("github", Capabilities(pinning=True, confidential_issues=False, incident_issue_type=False))


def labeled(labels: tuple[str, ...]) -> Event:
    issue = Issue(number=5, title="Upstream: PyPI is not operational", body="", labels=labels, state="open", url="",
                  author="outage-bot", created_at=T0, updated_at=T0)
    return Event(kind=EventKind.LABELED, issue=issue, actor="outage-bot", at=T0, labels_added=labels)


@pytest.mark.parametrize(("labels", "notice_only"), [
    (("priority::highest", "upstream"), True),
    (("priority::high", "upstream"), True),
    (("priority::highest", "outage"), False),
])
def test_a_notice_only_incident_tells_users_tags_nobody_and_owes_nothing(labels, notice_only) -> None:
    policy = upstream_policy()
    planned = plan(labeled(labels), None, T0, policy, GITHUB)
    chats = [x.channel for x in planned.actions if type(x).__name__ == "PostChatMessage"]
    tagged = next(x for x in planned.actions if type(x).__name__ == "TagPeople").people
    assert planned.incident is not None
    if notice_only:
        assert chats == ["users"] and tagged == ()
        assert deadline_of(planned.incident, policy) is None and next_due(planned.incident, policy, T0) is None
        later = plan(Event(kind=EventKind.TICK, issue=labeled(labels).issue, actor="", at=T0 + timedelta(days=3)),
                     planned.incident, T0 + timedelta(days=3), policy, GITHUB)
        assert later.actions == ()  # no escalation, reminder, breach or nudge, ever
    else:
        assert "alerts" in chats and tagged


# -- the policy -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("section", "message"), [
    ("probes:\n  api: {url: 'https://api.example.com/healthz', severity: urgent}\n", "unknown severity 'urgent'"),
    ("probes:\n  api: {url: 'ftp://api.example.com', severity: critical}\n", "http:// or https://"),
    ("probes:\n  api: {url: 'https://x.example', severity: critical, kind: security}\n", "confidential"),
    ("probes:\n  api: {url: 'https://x.example', severity: critical, component: API}\n", "unknown component 'API'"),
    ("probes:\n  api: {url: 'https://x.example', severity: critical, fail_after: 0}\n", "greater than or equal to 1"),
    ("upstreams:\n  pypi: {url: 'https://status.python.org/api/v2/status.json', kind: vendor}\n", "notice_only: true"),
    ("drills: {remind_on: ['13-01']}\n", "is not a month and day"),
    ("drills: {remind_on: []}\n", "at least 1"),
    ("drills: {remind_on: ['03-01'], notify: [pager]}\n", "unknown channel 'pager'"),
    ("drills: {remind_on: ['03-01'], severity: P9}\n", "unknown severity 'P9'"),
    ("ticks: {every: soon}\n", "ticks"),
])
def test_bad_probe_upstream_drills_and_ticks_entries_are_told_with_their_place(tmp_path: Path, section: str, message: str) -> None:
    from bot.errors import UserError

    path = tmp_path / "policy.yml"
    path.write_text(default_policy_path().read_text(encoding="utf-8") + section, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load(path)
    assert message in str(caught.value)
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", str(caught.value)), str(caught.value)


@pytest.mark.parametrize("preset", ["default", "meltano"])
def test_the_presets_commented_examples_are_valid_once_uncommented(tmp_path: Path, preset: str) -> None:
    """The presets show probes and upstreams commented out (a tick must not reach the internet
    on a preset); uncommented, they are a valid policy."""
    lines, on = [], False
    for line in (default_policy_path().parent / f"{preset}.yml").read_text(encoding="utf-8").splitlines():
        if line.startswith(("# probes:", "# upstreams:")):
            on = True
        elif not line.strip():
            on = False
        lines.append(re.sub(r"^# ?", "", line) if on else line)
    path = tmp_path / "policy.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy, _ = load(path)
    assert policy.probes and policy.upstreams
    assert policy.kinds["upstream"].notice_only


def test_without_the_watch_extra_the_tick_says_so_and_does_the_rest(tmp_path: Path) -> None:
    from bot.extras import MissingExtra
    from bot.watch.run import watch
    from tests.core_helpers import Sandbox

    path = tmp_path / "policy.yml"
    path.write_text(default_policy_path().read_text(encoding="utf-8")
                    + "probes:\n  api: {url: 'https://api.example.com/healthz', severity: critical}\n", encoding="utf-8")
    box = Sandbox(tmp_path / "box", path)
    box.open_issue("Checkout is down")
    runner = box.runner()

    def missing(policy: object, now: object) -> object:
        raise MissingExtra("watch", "probes and upstreams", "httpx")

    # as when httpx is not installed (bot.watch.http imports it under needs())
    runner.phases.append(functools.partial(watch, checks=missing))
    report = runner.tick()
    assert any("pip install 'outage-bot[watch]'" in line for line in report.lines)
    assert box.chat.messages()  # the incident was still declared and alerted
