"""The demo's incident, run on the local forge, then its timeline read back from the forge alone:
`outage-bot timeline` lists what happened, in order, at the demo's own times."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.adapters.local import LocalForge
from bot.cli import cli
from bot.config import load
from bot.demo import run_demo
from bot.resources import default_policy_path
from bot.timeline import BOT
from bot.timeline_forge import timeline_of

START = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # the demo's Monday 09:00 in New York


def t(hours: int, minutes: int = 0) -> datetime:
    return START + timedelta(hours=hours, minutes=minutes)


# What the demo does (bot/demo.py): release-lead opens the issue labeled at 09:00; nobody reacts,
# so the 21:00 tick escalates (acknowledge_within: 12h) and sends the 12h reminder; platform-lead's
# 👀 at 21:25 is found by the 21:30 tick; reminders at 4h and 1h; /resolve at 08:25 the next day.
EXPECTED = [
    (t(0), "declared", "release-lead", "label"),
    (t(0), "tagged", BOT, "comment"),
    (t(0), "outage_issue_opened", BOT, "issue"),
    (t(0), "alerted", BOT, "chat"),
    (t(0), "alerted", BOT, "chat"),
    (t(3), "handoff", BOT, "tick"),
    (t(12), "escalated", BOT, "tick"),
    (t(12), "reminded", BOT, "tick"),
    (t(12, 25), "acknowledged", "platform-lead", "👀"),
    (t(20), "reminded", BOT, "tick"),
    (t(23), "reminded", BOT, "tick"),
    (t(23, 25), "resolved", "platform-lead", "command"),
]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "forge.sqlite"
    run_demo(default_policy_path(), keep=str(db), quiet=True, echo=lambda _: None)
    return db


@pytest.mark.parametrize("number", [1, 2], ids=["source issue", "outage issue"])
def test_the_demo_incidents_timeline(demo_db: Path, number: int) -> None:
    policy, _ = load(default_policy_path())
    _, entries = timeline_of(LocalForge(demo_db), number, policy, now=t(30))
    assert [(e.at, e.kind, e.who, e.how) for e in entries] == EXPECTED
    what = {e.kind: e for e in entries}
    assert what["declared"].what == "critical incident declared (label priority::highest), kind outage"
    assert what["tagged"].what.startswith("tagged ")
    assert what["outage_issue_opened"].what == "outage issue #2 opened, pinned"
    assert [e.what for e in entries if e.kind == "alerted"] == ["alert posted in alerts (#outage-alerts)",
                                                                "alert posted in users (#troubleshooting)"]
    assert what["escalated"].what.startswith("escalated (step 1): tagged ")
    assert [e.what for e in entries if e.kind == "reminded"] == [f"reminder: {left} left to resolve" for left in ("12h", "4h", "1h")]
    assert what["resolved"].note == "Reverted to the last good release (1.2.3)"
    assert what["resolved"].what == "resolved; outage issue #2 closed" and what["resolved"].channels == ("alerts", "users")


def test_cli_prints_it_in_the_zone_and_utc(demo_db: Path) -> None:
    result = CliRunner().invoke(cli, ["timeline", "1", "--forge", "local", "--db", str(demo_db),
                                      "--config", str(default_policy_path()), "--now", "2026-11-11T00:00Z"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Incident #1, outage issue #2: pipx install fails for the latest release (critical, outage; resolved).")
    assert "Mon 09 Nov 21:25 EST (02:25 UTC)  acknowledged (platform-lead, 👀); told alerts" in lines
    assert lines[-1].startswith('Tue 10 Nov 08:25 EST (13:25 UTC)  resolved; outage issue #2 closed: "Reverted to the last good')


def test_cli_json(demo_db: Path) -> None:
    result = CliRunner().invoke(cli, ["timeline", "2", "--json", "--forge", "local", "--db", str(demo_db),
                                      "--config", str(default_policy_path())])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["incident"]["source"] == 1 and data["timezone"] == "America/New_York"
    ack = next(e for e in data["entries"] if e["kind"] == "acknowledged")
    assert ack == {"at": "2026-11-10T02:25:00Z", "local": "2026-11-09T21:25:00-05:00", "when": "Mon 09 Nov 21:25 EST (02:25 UTC)",
                   "kind": "acknowledged", "what": "acknowledged", "who": "platform-lead", "how": "👀", "issue": 1,
                   "channels": ["alerts"], "note": "", "generation": 1}


def test_cli_errors(demo_db: Path, tmp_path: Path) -> None:
    base = ["--forge", "local", "--config", str(default_policy_path())]
    result = CliRunner().invoke(cli, ["timeline", "9", "--db", str(demo_db), *base])
    assert result.exit_code == 1 and "ISSUE #9: no such issue" in result.output
    result = CliRunner().invoke(cli, ["timeline", "3", "--db", str(demo_db), *base])  # the status issue
    assert result.exit_code == 1 and "ISSUE #3: no incident there" in result.output
    result = CliRunner().invoke(cli, ["timeline", "1", "--db", str(tmp_path / "none.sqlite"), *base])
    assert result.exit_code == 1 and "no such file" in result.output
    result = CliRunner().invoke(cli, ["timeline", "1", "--to-gitlab", "--db", str(demo_db), *base])
    assert result.exit_code == 1 and "--to-gitlab" in result.output
