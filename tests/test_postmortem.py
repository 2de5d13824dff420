"""Issue 15, part 2: the post-mortem issue. Opened when an incident of a severity with
`postmortem:` is resolved (never for a false positive), before the resolution's notices so they
link it (the source issue's comment, the outage issue, the alert thread), assigned to whoever
acknowledged; the tick reminds on it once when it is due and still open."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import actions as a
from bot.config import load
from bot.events import Event, EventKind
from bot.incident import Incident
from bot.ledger import decode_ledger
from bot.planner import ForgeInfo, plan
from bot.records import ForgeCapabilities, Issue
from bot.text import UserText
from tests.core_helpers import T0, Sandbox

TEAM = Path(__file__).parent / "fixtures" / "team_policy.yml"
GITHUB = ForgeInfo("github", ForgeCapabilities(pinning=True, confidential_issues=False, incident_issue_type=False))
GITLAB = ForgeInfo("gitlab", ForgeCapabilities(pinning=False, confidential_issues=True, incident_issue_type=True))


def policy_file(tmp: Path, postmortem: Any) -> Path:
    data = yaml.safe_load(TEAM.read_text(encoding="utf-8"))
    for severity in data["severities"].values():
        severity["postmortem"] = postmortem
    path = tmp / "policy.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def issue(number: int, *, state: str = "open", labels: tuple[str, ...] = ("priority::highest",)) -> Issue:
    return Issue(number=number, title="Checkout is down", body="", labels=labels, state=state, url=f"https://forge/{number}",
                 author="reporter", created_at=T0, updated_at=T0)


def incident(**more: Any) -> Incident:
    base = dict(source=1, severity="critical", kind=None, status="acknowledged", title="Checkout is down", declared_at=T0,
                severity_since=T0, acknowledged_at=T0 + timedelta(minutes=5), acknowledged_by="eng-a", outage_issue=2,
                tagged=("release-lead",), notified=("alerts",))
    return Incident(**{**base, **more})  # type: ignore[arg-type]


def command(text: str, *, by: str = "release-lead", on: int = 1) -> Event:
    from bot.records import Comment
    return Event(kind=EventKind.COMMENTED, issue=issue(on), actor=by, at=T0 + timedelta(hours=2),
                 comment=Comment(id=9, author=by, body=text, created_at=T0 + timedelta(hours=2)), actor_trusted=True)


# -- plan(...): what is decided ------------------------------------------------------------------------
CASES = [
    # (name, postmortem policy, incident, event, forge, expected: kinds of the first actions / none)
    ("resolved: the post-mortem first, then the notices", True, incident(), command("/resolve rolled back"), GITHUB,
     ["OpenPostMortem", "PostComment"]),
    ("the object form", {"labels": ["postmortem", "needs-review"], "due": "2d"}, incident(), command("/resolve rolled back"), GITHUB,
     ["OpenPostMortem", "PostComment"]),
    ("a false positive has none", True, incident(), command("/false-positive the probe"), GITHUB, ["PostComment"]),
    ("not required: expected, none opened", {"required": False}, incident(), command("/resolve x"), GITHUB, ["PostComment"]),
    ("a severity without postmortem has none", None, incident(), command("/resolve x"), GITHUB, ["PostComment"]),
    ("confidential on GitHub: nowhere private to open it", True, incident(kind="security"), command("/resolve x"), GITHUB,
     ["PostComment"]),
    ("confidential on GitLab: a confidential post-mortem", True, incident(kind="security"), command("/resolve x"), GITLAB,
     ["OpenPostMortem", "PostComment"]),
]


@pytest.mark.parametrize(("name", "spec", "before", "event", "forge", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan_opens_a_postmortem_when_resolved(tmp_path: Path, name: str, spec: Any, before: Incident, event: Event,
                                               forge: ForgeInfo, expected: list[str]) -> None:
    policy, _ = load(policy_file(tmp_path, spec))
    planned = plan(event, before, T0 + timedelta(hours=2), policy, forge)
    assert [type(x).__name__ for x in planned.actions[:len(expected)]] == expected
    opened = [x for x in planned.actions if isinstance(x, a.OpenPostMortem)]
    assert len(opened) == (1 if expected[0] == "OpenPostMortem" else 0)
    if opened:
        [pm] = opened
        assert pm.key == "1:g1:postmortem" and pm.title == "Post-mortem: Checkout is down" and pm.assignee == "eng-a"
        assert pm.confidential == (before.kind == "security")
        due = timedelta(days=2) if isinstance(spec, dict) and spec.get("due") == "2d" else timedelta(days=5)
        assert planned.incident is not None and planned.incident.postmortem_due == T0 + timedelta(hours=2) + due
        assert pm.labels == (("postmortem", "needs-review") if isinstance(spec, dict) and "labels" in spec else ("postmortem",))
    else:
        assert planned.incident is not None and planned.incident.postmortem_due is None


def test_unacknowledged_the_resolver_owns_it(tmp_path: Path) -> None:
    policy, _ = load(policy_file(tmp_path, True))
    planned = plan(command("/resolve x", by="eng-b"), incident(status="active", acknowledged_at=None, acknowledged_by=None),
                   T0 + timedelta(hours=2), policy, GITHUB)
    [pm] = [x for x in planned.actions if isinstance(x, a.OpenPostMortem)]
    assert pm.assignee == "eng-b"


REMIND = [
    # (name, state of the post-mortem issue, now after resolution, reminded?)
    ("due and open: one reminder", "open", timedelta(days=5, minutes=10), True),
    ("not due yet", "open", timedelta(days=4), False),
    ("done (closed) in time", "closed", timedelta(days=6), False),
]


@pytest.mark.parametrize(("name", "state", "after", "reminded"), REMIND, ids=[c[0] for c in REMIND])
def test_plan_reminds_on_the_postmortem_once_due(tmp_path: Path, name: str, state: str, after: timedelta, reminded: bool) -> None:
    policy, _ = load(policy_file(tmp_path, True))
    resolved_at = T0 + timedelta(hours=2)
    done = incident(status="resolved", resolved_at=resolved_at, resolved_by="release-lead", postmortem_issue=3,
                    postmortem_due=resolved_at + timedelta(days=5))
    event = Event(kind=EventKind.TICK, issue=issue(3, state=state, labels=("postmortem",)), actor="outage-bot", at=resolved_at + after)
    planned = plan(event, done, resolved_at + after, policy, GITHUB)
    posts = [x for x in planned.actions if isinstance(x, a.PostComment)]
    assert [(x.key, x.target, x.template) for x in posts] == ([("1:g1:postmortem-due", 3, "postmortem_due.md.j2")] if reminded else [])


def test_policy_accepts_true_and_the_object_and_names_a_bad_key(tmp_path: Path) -> None:
    from bot.errors import ConfigError

    policy, _ = load(policy_file(tmp_path, True))
    spec = policy.severities["critical"].postmortem
    assert spec is not None and spec.required and spec.due == timedelta(days=5) and spec.labels == ["postmortem"]
    policy, _ = load(policy_file(tmp_path, False))
    assert policy.severities["critical"].postmortem is None
    with pytest.raises(ConfigError) as caught:
        load(policy_file(tmp_path, {"requird": True}))
    assert "policy.yml:" in str(caught.value) and "requird" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load(policy_file(tmp_path, {"template": "nope.md.j2"}))
    assert "unknown template 'nope.md.j2'" in str(caught.value)


# -- the whole thing on the local forge ------------------------------------------------------------------
def test_a_resolved_incident_gets_one_linked_postmortem_and_one_reminder(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box", policy_file(tmp_path, True))
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = T0 + timedelta(minutes=30)
    box.runner().handle(box.comment(1, "/ack", "eng-a"))
    box.clock.now = T0 + timedelta(hours=3)
    resolve = box.comment(1, "/resolve Reverted to 1.2.3", "maintainer")
    box.runner().handle(resolve)
    box.runner().handle(resolve)  # the same event again: nothing twice
    postmortems = [n for (n,) in box.forge.db.execute("select number from issues where title like 'Post-mortem:%'")]
    assert postmortems == [3]
    pm = box.forge.get_issue(3)
    assert pm.labels == ("postmortem",) and pm.author == box.forge.bot_login
    assert "**Owner:** @eng-a" in pm.body and "## Root causes" in pm.body and "## Timeline" in pm.body
    assert "Reverted to 1.2.3" in pm.body and "3h" in pm.body  # the resolution, the duration
    timeline = pm.body.split("## Timeline", 1)[1]  # from the forge (bot.timeline), oldest first
    steps = ["incident declared (label priority::highest) (reporter)", "outage issue #2 opened", "acknowledged (eng-a)",
             "resolved: Reverted to 1.2.3 (maintainer)"]
    assert all(step in timeline for step in steps) and sorted(steps, key=timeline.index) == steps
    led = decode_ledger(box.forge.list_comments(1)[0].body)
    assert led is not None and led.incident.postmortem_issue == 3 and led.incident.postmortem_due == T0 + timedelta(hours=3, days=5)
    resolved = [c.body for c in box.forge.list_comments(1) if "**Resolved**" in c.body]
    assert len(resolved) == 1 and "Post-mortem: #3" in resolved[0]
    assert "Post-mortem: #3" in box.forge.get_issue(2).body  # the outage issue
    thread = [m for m in box.chat.messages() if m["channel"] == "alerts" and m["thread"] is not None and ":resolved:" in m["key"]]
    assert len(thread) == 1 and "local://issues/3" in (thread[0]["body"] or "")
    # the ticks: the one recording the resolution, then after the due time one reminder, once
    box.clock.now = T0 + timedelta(hours=3, minutes=10)
    box.runner().tick()
    box.clock.now = T0 + timedelta(days=5, hours=3, minutes=10)
    box.runner().tick()
    box.clock.now += timedelta(minutes=10)
    box.runner().tick()
    reminders = [c.body for c in box.forge.list_comments(3) if "This post-mortem was due" in c.body]
    assert len(reminders) == 1


def test_a_false_positive_gets_no_postmortem(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box", policy_file(tmp_path, True))
    box.open_issue()
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = T0 + timedelta(hours=1)
    box.runner().handle(box.comment(1, "/false-positive the probe was wrong", "maintainer"))
    assert not [n for (n,) in box.forge.db.execute("select number from issues where title like 'Post-mortem:%'")]
    assert not any("Post-mortem" in c.body for c in box.forge.list_comments(1))


def test_user_text_in_the_postmortem_is_inert(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box", policy_file(tmp_path, True))
    box.open_issue(title="@everyone /close [x](javascript:alert(1))")
    box.runner().handle(box.event(EventKind.LABELED, 1, label="priority::highest"))
    box.clock.now = T0 + timedelta(hours=1)
    box.runner().handle(box.comment(1, "/resolve @admins see https://evil.example", "maintainer"))
    pm = box.forge.get_issue(3)
    assert "@everyone" not in pm.body and "@admins" not in pm.body and "](javascript" not in pm.body
    assert UserText  # escaping is bot.text's: tests/test_text.py
