"""`outage-bot drill` (issue 16, item 4): the drill policy (table tests), every text marked, the
report built from what was read back, and whole drills on the local forge. The drill on the
fake GitHub and fake Slack is in tests/github/test_drill_github.py."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.adapters.local import LocalChat, LocalForge
from bot.cli import cli
from bot.config import load, sample_context
from bot.drill import (
    DRILL_LABEL,
    DRILL_MARK,
    Drill,
    DrillRenderer,
    Seen,
    Timing,
    build_report,
    drill_policy,
    marked,
    participants_of,
)
from bot.errors import ServiceError, UserError
from bot.events import Event, EventKind
from bot.incident import Incident
from bot.ledger import (
    Ledger,
    decode_ledger,
    encode_ledger,
    key_marker,
    keys_in,
    outage_marker,
    outage_source,
)
from bot.planner import COMMAND, resolve_people, tag_refs
from bot.policy import ONCALL_REFS, Policy, check_references
from bot.policy_file import parse_policy
from bot.records import Comment, ForgeCapabilities, Issue
from bot.runner import Runner

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 New York: eng-a primary, eng-b secondary
TEAM = Path(__file__).parent / "fixtures" / "team_policy.yml"

# A policy with every thing a drill must change: tags of people who are not taking part, on-call
# references, escalation steps, users' and announcement channels (one of them `audience: team`
# by name only), pinning, a post-mortem, the on-call Slack user group, overrides.
FULL = """
timezone: America/New_York
people:
  lead:   {name: Lead, github: lead, slack: U0LEAD}
  eng-a:  {name: Engineer A, github: eng-a, slack: U0ENGA}
  eng-b:  {name: Engineer B, github: eng-b, slack: U0ENGB}
  eng-c:  {name: Engineer C, github: eng-c, slack: U0ENGC}
  sec:    {name: Security, github: sec, slack: U0SEC}
channels:
  alerts:         {slack: "#alerts"}
  users:          {slack: "#users"}
  announcements:  {slack: "#announcements"}
  announce-beta:  {slack: "#beta", audience: team}
  status-updates: {slack: "#status", audience: users}
  security:       {slack: "#sec"}
oncall:
  rotation: {members: [eng-a, eng-b, eng-c, lead], start: 2026-11-02, skip: {eng-c: 2026-12-01}}
  overrides: [{who: lead, instead_of: eng-a, from: 2026-11-09T00:00, to: 2026-11-10T00:00}]
  notify: [alerts, users]
  slack_group: S0ONCALL
severities:
  critical:
    labels: [p0]
    acknowledge_within: 1h
    escalation: [{after: 2h, tag: [lead, sec]}]
    resolve_within: 24h
    tag: [lead, oncall.primary, oncall.secondary]
    notify: [alerts, users, announcements, announce-beta, status-updates]
    outage_issue: {pin: true}
    postmortem: true
  minor:
    labels: [p2]
    notify: [alerts]
kinds:
  security: {labels: [security], confidential: true, notify: [security], tag: [sec]}
  upstream: {labels: [upstream], notify: [users, alerts], tag: [lead]}
"""


def full_policy() -> Policy:
    return parse_policy(FULL, "full.yml")


def every_tag_list(policy: Policy) -> list[list[str]]:
    lists = [list(s.tag) for s in policy.severities.values()] + [list(k.tag) for k in policy.kinds.values()]
    return lists + [list(step.tag) for s in policy.severities.values() for step in s.escalation]


def every_notify(policy: Policy) -> list[str]:
    told = [c for s in policy.severities.values() for c in s.notify] + [c for k in policy.kinds.values() for c in k.notify]
    return told + (list(policy.oncall.notify) if policy.oncall else [])


# -- the drill policy --------------------------------------------------------------------------------
@pytest.mark.parametrize(("participants", "oncall"), [
    (["eng-b"], None),  # one: no rotation of one, so no secondary to call
    (["eng-b", "eng-c"], ["eng-b", "eng-c"]),
    (["eng-c", "eng-b", "eng-c"], ["eng-c", "eng-b"]),  # repeats dropped, order kept
    ([], None),  # nobody: the drill still runs, tagging no one
])
def test_the_drill_policy_tags_only_the_participants(participants: list[str], oncall: list[str] | None) -> None:
    real = full_policy()
    drill = drill_policy(real, "critical", participants)
    people = list(dict.fromkeys(participants))
    assert all(tags == people for tags in every_tag_list(drill) if tags)
    assert drill.severities["critical"].tag == people and drill.kinds["security"].tag == people
    assert [s.tag for s in drill.severities["critical"].escalation] == ([people] if people else [])
    if oncall is None:
        assert drill.oncall is None
        assert all(s.acknowledge_within is None for s in drill.severities.values())  # no secondary to call
    else:
        assert drill.oncall is not None and drill.oncall.rotation.members == oncall
        assert drill.oncall.overrides == [] and drill.oncall.rotation.skip == {}
        assert drill.severities["critical"].acknowledge_within == timedelta(hours=1)
    # whoever any tag list or on-call reference names, at any moment: a participant
    for at in (T0, T0 + timedelta(days=3), T0 + timedelta(weeks=5)):
        for severity in drill.severities:
            for kind in [None, *drill.kinds]:
                assert set(resolve_people(tag_refs(drill, severity, kind) + list(ONCALL_REFS), drill, at)) <= set(people)
    # the drill policy is a valid policy
    _, renderer = load(TEAM)
    assert list(check_references(drill, renderer.names())) == []


def test_the_drill_policy_tells_no_users_and_announcement_channel() -> None:
    drill = drill_policy(full_policy(), "critical", ["eng-a"])
    assert set(drill.channels) == {"alerts", "security"}
    assert set(every_notify(drill)) <= {"alerts", "security"}
    assert drill.severities["critical"].notify == ["alerts"]
    assert drill.kinds["upstream"].notify == ["alerts"] and drill.kinds["security"].notify == ["security"]


@pytest.mark.parametrize("participants", [["eng-a"], ["eng-a", "eng-b"], []])
def test_the_drill_policy_pins_nothing_opens_no_post_mortem_and_leaves_the_group_and_status_page(participants: list[str]) -> None:
    real = full_policy()
    drill = drill_policy(real, "critical", participants)
    spec = drill.severities["critical"]
    assert spec.outage_issue is not None and spec.outage_issue.pin is False
    assert all(s.postmortem is None for s in drill.severities.values())
    assert drill.oncall is None or drill.oncall.slack_group is None
    assert drill.status_page.enabled is False
    # what a drill does not change
    assert spec.labels == real.severities["critical"].labels and spec.resolve_within == timedelta(hours=24)
    assert drill.people == real.people and drill.labels == real.labels
    # and the real policy is untouched
    assert real.severities["critical"].outage_issue.pin is True  # type: ignore[union-attr]
    assert real.oncall is not None and real.oncall.slack_group == "S0ONCALL"


def test_the_drill_policy_refuses_an_unknown_severity_or_person() -> None:
    with pytest.raises(UserError, match="unknown severity 'p9'"):
        drill_policy(full_policy(), "p9", [])
    with pytest.raises(UserError, match="unknown participant 'ghost'"):
        drill_policy(full_policy(), "critical", ["eng-a", "ghost"])


# -- who takes part ----------------------------------------------------------------------------------
def test_by_default_the_participants_are_whom_the_severity_tags_now() -> None:
    policy, _ = load(TEAM)
    assert participants_of(policy, "critical", None, T0) == ["release-lead", "platform-lead", "eng-a"]
    assert participants_of(policy, "major", None, T0) == ["eng-a"]
    assert participants_of(policy, "major", None, T0 + timedelta(weeks=1)) == ["eng-b"]  # the next primary
    assert participants_of(policy, "minor", None, T0) == []  # tags nobody: the drill mentions no one


def test_participants_given_are_checked() -> None:
    policy, _ = load(TEAM)
    assert participants_of(policy, "critical", " eng-b, eng-a ,eng-b", T0) == ["eng-b", "eng-a"]
    assert participants_of(policy, "critical", "", T0) == []
    with pytest.raises(UserError, match=r"^--participants: unknown person 'eng-z'"):
        participants_of(policy, "critical", "eng-a,eng-z", T0)
    with pytest.raises(UserError, match=r"^--severity: unknown severity 'sev1' \(expected: one of critical, major, minor\)"):
        participants_of(policy, "sev1", None, T0)


# -- every text marked ---------------------------------------------------------------------------------
def test_every_template_renders_marked_as_a_drill() -> None:
    policy, renderer = load(TEAM)
    drill = DrillRenderer(renderer)
    ctx = sample_context(policy)
    names = sorted(n for n in renderer.names() if not n.startswith(("_", "status_page/")) and "/_" not in n
                   and n not in ("status.md.j2", "stale_tick.md.j2", "chat/handoff.txt.j2"))
    assert "tag.md.j2" in names and "chat/alert.txt.j2" in names
    for name in names:
        text = drill.render(name, ctx)
        assert text.startswith(DRILL_MARK), name
        plain = renderer.render(name, ctx)
        if name.startswith("chat/"):  # on the headline itself: Slack's header and notification
            assert text.partition("\n")[0] == f"{DRILL_MARK}: {plain.partition(chr(10))[0]}"
        else:
            assert text.endswith(plain)
    assert drill.render_when(T0) == renderer.render_when(T0)


def test_marking_twice_marks_once() -> None:
    assert marked("tag.md.j2", marked("tag.md.j2", "hi")) == marked("tag.md.j2", "hi")
    assert marked("chat/alert.txt.j2", "") == f"{DRILL_MARK}\n"


def test_the_markers_the_bot_parses_are_still_found_after_the_mark() -> None:
    incident = Incident(source=7, severity="critical", kind=None, status="active", title="t", declared_at=T0, severity_since=T0)
    ledger = Ledger(incident=incident, done=frozenset({"7:g1:tag"}))
    # as the executor writes them: the rendered (marked) text, then the markers
    comment = marked("tag.md.j2", "🚨 declared\n") + "\n\n" + key_marker("7:g1:tag") + "\n" + encode_ledger(ledger) + "\n"
    assert decode_ledger(comment) == ledger and keys_in(comment) == ["7:g1:tag"]
    outage = marked("outage_issue.md.j2", "## What is broken\n") + "\n\n" + outage_marker(7, "7:g1:outage-issue") + "\n"
    assert outage_source(outage) == 7
    assert COMMAND.search(marked("ack.md.j2", "done")) is None  # the mark is no command


# -- the report --------------------------------------------------------------------------------------
def issue(number: int, *, labels: tuple[str, ...] = (), state: str = "closed", body: str = "") -> Issue:
    return Issue(number=number, title="DRILL", body=body, labels=labels, state=state, url=f"https://forge/{number}",
                 author="bot", created_at=T0, updated_at=T0)


def everything_seen(**changes: Any) -> Seen:
    incident = Incident(source=1, severity="critical", kind=None, status="resolved", title="DRILL", declared_at=T0,
                        severity_since=T0, acknowledged_at=T0, acknowledged_by="eng-b", resolved_at=T0, resolved_by="eng-b",
                        resolution="DRILL over", tagged=("eng-b",), notified=("alerts",), outage_issue=2)
    keys = {"1:g1:tag", "1:g1:outage-issue", "1:g1:chat:alerts", "1:g1:ack", "1:g1:resolved"}
    base = Seen(severity_labels=("priority::highest",), drill_issue=issue(1, labels=(DRILL_LABEL,)),
                ledger=Ledger(incident=incident, done=frozenset(keys)),
                comments=(Comment(id=1, author="bot", body=key_marker("1:g1:tag"), created_at=T0),),
                outage_expected=True, outage=issue(2, body=outage_marker(1, "1:g1:outage-issue")),
                chat={"alerts": "read back from slack"})
    return replace(base, **changes)


TIMINGS = {step: Timing(T0, 0.25, done_now=("1:g1:tag", "1:g1:outage-issue", "1:g1:chat:alerts", "1:g1:ack", "1:g1:resolved"))
           for step in ("open", "declare", "acknowledge", "resolve", "close")}


def test_a_report_of_a_drill_where_everything_happened() -> None:
    report = build_report("critical", ["eng-b"], TIMINGS, everything_seen())
    assert report.ok and report.missed() == []
    assert [(r.step, r.done) for r in report.rows] == [
        ("drill issue opened", True), ("declared", True), ("tagged", True), ("outage issue opened", True),
        ("chat alert: alerts", True), ("acknowledged", True), ("resolved", True), ("closed", True)]
    assert all(r.seconds == 0.25 for r in report.rows)
    text = "\n".join(report.lines())
    assert "done      acknowledged" in text and "by eng-b" in text and "DRILL over" in text
    assert text.endswith("Every step happened (1.25 s in all).")


@pytest.mark.parametrize(("change", "missed"), [
    ({"drill_issue": issue(1, labels=(DRILL_LABEL, "priority::highest"), state="open")}, ["closed"]),
    ({"comments": ()}, ["tagged"]),
    ({"outage": None}, ["outage issue opened"]),
    ({"chat": {"alerts": None}, "chat_errors": {"alerts": "no chat service serves this channel"}}, ["chat alert: alerts"]),
    ({"ledger": None}, ["declared", "tagged", "outage issue opened", "chat alert: alerts", "acknowledged", "resolved"]),
])
def test_a_step_that_did_not_happen_makes_the_report_say_so(change: dict[str, Any], missed: list[str]) -> None:
    report = build_report("critical", ["eng-b"], TIMINGS, everything_seen(**change))
    assert not report.ok and report.missed() == missed
    assert report.lines()[-1] == f"{len(missed)} step(s) did not happen: {', '.join(missed)}."


def test_a_failed_step_s_error_is_in_the_report() -> None:
    seen = everything_seen()
    assert seen.ledger is not None
    unacked = replace(seen.ledger.incident, acknowledged_at=None, acknowledged_by=None)
    seen = replace(seen, ledger=replace(seen.ledger, incident=unacked, done=seen.ledger.done - {"1:g1:ack"}))
    timings = {**TIMINGS, "acknowledge": Timing(T0, 4.0, failures=("github: POST /repos/o/r/issues/1/comments failed: 502",))}
    report = build_report("critical", ["eng-b"], timings, seen)
    [row] = [r for r in report.rows if r.step == "acknowledged"]
    assert row.done is False and row.seconds == 4.0
    assert row.detail == "github: POST /repos/o/r/issues/1/comments failed: 502"
    assert report.missed() == ["acknowledged"]


def test_what_a_severity_does_not_do_is_not_a_failure() -> None:
    seen = everything_seen(outage_expected=False, outage=None, chat={})
    report = build_report("critical", [], TIMINGS, seen)
    assert report.ok
    assert [(r.step, r.done) for r in report.rows if r.done is None] == [("outage issue opened", None), ("chat alert", None)]
    assert "n/a       chat alert" in "\n".join(report.lines())


def test_steps_the_drill_never_reached_are_not_done() -> None:
    report = build_report("critical", [], {"open": TIMINGS["open"]}, everything_seen(ledger=None, drill_issue=issue(1, state="open")))
    assert not report.ok and "the drill stopped before this step" in [r.detail for r in report.rows][1]


# -- whole drills on the local forge --------------------------------------------------------------------
def drill_cli(tmp: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["drill", "--forge", "local", "--db", str(tmp / "forge.sqlite"), "--config", str(TEAM),
                                    "--now", T0.isoformat(), *args])


def bot_texts(db: Path) -> list[str]:
    forge = LocalForge(db)
    issues = [forge.get_issue(n) for n in range(1, 20) if _exists(forge, n)]
    return [i.body for i in issues] + [body for _, author, body in forge.all_comments() if author == forge.bot_login]


def _exists(forge: LocalForge, number: int) -> bool:
    try:
        forge.get_issue(number)
    except LookupError:
        return False
    return True


def test_a_drill_on_the_local_forge(tmp_path: Path) -> None:
    result = drill_cli(tmp_path, "--participants", "eng-b")
    assert result.exit_code == 0, result.output
    assert "drill: a critical incident on local; participants: eng-b" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Every step happened")
    db = tmp_path / "forge.sqlite"
    forge, chat = LocalForge(db), LocalChat(db)
    drill, outage = forge.get_issue(1), forge.get_issue(2)
    assert drill.title == "DRILL: incident-response drill (critical)" and drill.labels == (DRILL_LABEL,) and not drill.is_open
    assert outage_source(outage.body) == 1 and not outage.is_open and not forge.is_pinned(2)
    texts = bot_texts(db)
    assert len(texts) == 5 and all(t.startswith(DRILL_MARK) for t in texts)  # 2 issues, tag, ack, resolved
    messages = chat.messages()
    assert {m["channel"] for m in messages} == {"alerts"}  # not users, not announcements
    assert all(str(m["headline"]).startswith(DRILL_MARK) for m in messages)
    assert {tuple(json.loads(str(m["mentions"]))) for m in messages} == {("U00000ENGB",)}
    mentions = {m for t in texts for m in re.findall(r"@([\w-]+)", t)}
    assert mentions == {"eng-b"}  # not release-lead, platform-lead or eng-a, whom `critical` tags
    # no status issue: the drill is no outage users can see
    assert not [n for n in range(1, 10) if _exists(forge, n) and "outage-bot::status" in forge.get_issue(n).labels]


def test_the_dry_run_writes_nothing(tmp_path: Path) -> None:
    result = drill_cli(tmp_path, "--dry-run", "--participants", "eng-a,eng-b")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "would open an issue 'DRILL: incident-response drill (critical)' with labels ['priority::highest', 'outage-bot:drill']" in out
    assert "would TagPeople(target='source', template='tag.md.j2', people=('eng-a', 'eng-b'))" in out
    assert "PinIssue" not in out and "channel='users'" not in out and "OpenPostMortem" not in out
    assert "would acknowledge as eng-a:" in out and "would resolve as eng-a:" in out
    assert out.rstrip().endswith("(dry run: nothing was written)")
    assert not (tmp_path / "forge.sqlite").exists()


def test_unknown_severity_or_participant_is_one_line_exit_1(tmp_path: Path) -> None:
    for args, message in ((["--severity", "huge"], "outage-bot: --severity: unknown severity 'huge'"),
                          (["--participants", "eng-a,ghost"], "outage-bot: --participants: unknown person 'ghost'")):
        result = drill_cli(tmp_path, *args)
        assert result.exit_code == 1
        assert result.output.startswith(message) and len(result.output.strip().splitlines()) == 1


class Failing:
    """The local forge, with one write failing as a service that keeps failing would."""

    def __init__(self, forge: LocalForge, method: str, error: Exception | None = None) -> None:
        self._forge, self._method, self._error = forge, method, error

    def __getattr__(self, name: str) -> Any:
        if name == self._method:
            def fail(*args: Any, **kwargs: Any) -> Any:
                raise self._error or ServiceError("local", f"{name} #{args[0] if args else ''}", "503 Service Unavailable")
            return fail
        return getattr(self._forge, name)


def local_drill(tmp: Path, forge: Any, participants: list[str]) -> Drill:
    policy, renderer = load(TEAM)
    policy = drill_policy(policy, "critical", participants)
    chat = LocalChat(tmp / "forge.sqlite", clock=lambda: T0)
    lines: list[str] = []
    return Drill(forge, {c: chat for c in policy.channels}, policy, DrillRenderer(renderer), severity="critical",
                 participants=participants, now=T0, echo=lines.append, sleep=lambda _: None)


def test_a_failed_step_is_in_the_report_and_the_next_drill_finishes_it(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path / "forge.sqlite", clock=lambda: T0)
    report = local_drill(tmp_path, Failing(forge, "close_issue"), ["eng-b"]).run()
    assert not report.ok and report.missed() == ["closed"]
    [closed] = [r for r in report.rows if r.step == "closed"]
    assert closed.detail == "local: close_issue #1 failed: 503 Service Unavailable"
    assert forge.get_issue(1).is_open and forge.get_issue(1).labels == (DRILL_LABEL,)  # no severity label left on
    # run again: the unfinished drill issue is found by its marker; nothing is done twice
    again = local_drill(tmp_path, forge, ["eng-b"]).run()
    assert again.ok, again.lines()
    assert not _exists(forge, 3)  # no second drill issue, no second outage issue
    assert [r.detail.endswith("(by an earlier run)") for r in again.rows if r.step in ("tagged", "chat alert: alerts")] == [True, True]
    assert len([c for c in forge.all_comments() if c[0] == 1]) == 3  # tag, ack, resolved: once each


def test_a_failed_declaration_still_ends_the_drill(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path / "forge.sqlite", clock=lambda: T0)
    report = local_drill(tmp_path, Failing(forge, "post_comment"), ["eng-b"]).run()
    assert not report.ok and "declared" in report.missed() and "closed" not in report.missed()
    assert not forge.get_issue(1).is_open and "priority::highest" not in forge.get_issue(1).labels


def test_a_crash_half_way_still_closes_the_drill_issue(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path / "forge.sqlite", clock=lambda: T0)
    with pytest.raises(RuntimeError, match="a bug"):
        local_drill(tmp_path, Failing(forge, "post_comment", RuntimeError("a bug")), ["eng-b"]).run()
    # no drill issue is left open with a severity label, for a tick to declare under the real policy
    assert not forge.get_issue(1).is_open and forge.get_issue(1).labels == (DRILL_LABEL,)


class Unpinned:
    """The local forge as GitLab is: no pinning, so event runs write the status issue."""

    capabilities = ForgeCapabilities(pinning=False, confidential_issues=True, incident_issue_type=False)

    def __init__(self, forge: LocalForge) -> None:
        self._forge = forge

    def __getattr__(self, name: str) -> Any:
        return getattr(self._forge, name)


def status_issues(forge: LocalForge) -> list[int]:
    return [n for n in range(1, 10) if _exists(forge, n) and "outage-bot::status" in forge.get_issue(n).labels]


def test_where_the_forge_cannot_pin_the_drill_still_writes_no_status_issue(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path / "forge.sqlite", clock=lambda: T0)
    report = local_drill(tmp_path, Unpinned(forge), ["eng-b"]).run()
    assert report.ok, report.lines()
    assert status_issues(forge) == []
    # while an ordinary event run there writes it at once (what DrillRunner leaves out)
    policy, renderer = load(TEAM)
    labeled = forge.create_issue(title="real", body="", labels=["priority::high"])
    Runner(Unpinned(forge), {}, policy, renderer, now=T0).handle(  # type: ignore[arg-type]
        Event(kind=EventKind.LABELED, issue=labeled, actor="someone", at=T0, labels_added=("priority::high",)))
    assert len(status_issues(forge)) == 1


# -- every other run leaves a drill's issue alone ---------------------------------------------------

def test_runs_under_the_real_policy_leave_a_drills_issue_to_the_drill(tmp_path: Path) -> None:
    """A drill's issue carries a severity label: a webhook run or a tick that reaches it in the
    drill's seconds (or after a drill that crashed) must not declare it under the real policy,
    which would page real people."""
    from bot.events import EventKind
    from bot.policy import DRILL_LABEL
    from tests.core_helpers import Sandbox

    box = Sandbox(tmp_path / "real")
    issue = box.open_issue("DRILL: incident-response drill (critical)", labels=("priority::highest", DRILL_LABEL))
    report = box.runner().handle(box.event(EventKind.LABELED, issue.number, labels_added=("priority::highest",)))
    assert any("drill's issue" in line for line in report.lines)
    box.runner().tick()
    assert box.chat.messages() == []
    assert [c for c in box.forge.list_comments(issue.number)] == []
