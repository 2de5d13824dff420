"""`outage-bot demo`: what it shows a new user. The whole demo runs in well under a second."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.adapters.local import LocalForge
from bot.cli import cli
from bot.demo import run_demo
from bot.demo_view import as_read, chat_as_read
from bot.records import ChatMessage
from bot.resources import default_policy_path


@pytest.fixture(scope="module")
def shown() -> str:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _section(output: str, heading: str) -> str:
    """The text under the view's heading that contains `heading`, up to the next one."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("── ") and heading in line)
    rest = lines[start + 1:]
    end = next((i for i, line in enumerate(rest) if line.startswith("── ") or not line.startswith("   ") and line), len(rest))
    return "\n".join(rest[:end])


def test_the_demo_shows_what_the_bot_wrote(shown: str) -> None:
    timeline, view = shown.split("What people read", 1)
    assert "opened outage issue #2" in timeline and "What people read" not in timeline
    outage = _section(view, "the outage issue #2, as opened")
    assert "Outage: pipx install fails for the latest release" in outage
    assert "`pipx install` of the latest release fails with a dependency conflict." in outage  # typed, entities decoded
    assert "Pin the previous version" in outage and "Source issue: #1" in outage
    tag = _section(view, "the tag comment on #1")
    assert "you are tagged on this incident" in tag and "@release-lead" in tag
    escalation = _section(view, "the escalation comment on #1")
    assert "Escalation (step 1)" in escalation and "not acknowledged 12h after it was declared" in escalation
    alert = _section(view, "the alert in #outage-alerts")
    assert "pipx install fails for the latest release" in alert and "CRITICAL · Active" in alert
    notice = _section(view, "the users' notice in #troubleshooting")
    assert "Everyone installing or upgrading since the release." in notice
    assert "Escalated to" in _section(view, "the escalation, in the alert's thread")
    assert view.index("the tag comment") < view.index("the escalation comment")  # in the order they were written


def test_the_reader_sees_no_markers_and_no_warning_the_demo_caused(shown: str) -> None:
    assert "<!--" not in shown and "outage-bot:" not in shown
    assert "did not run" not in shown and "stale" not in shown


def test_ticks_run_on_the_schedule_and_the_ack_time_is_the_reaction_time(tmp_path: Path) -> None:
    db = tmp_path / "forge.sqlite"
    out: list[str] = []
    run_demo(default_policy_path(), keep=str(db), quiet=True, echo=out.append)
    reacted = next(line for line in out if "reacts 👀" in line)
    at = reacted.split()[1]  # "Mon 21:25 ..."
    comments = [body for _issue, _author, body in LocalForge(db).all_comments()]
    ack = next(body for body in comments if "**Acknowledged**" in body)
    assert f"Mon 09 Nov {at} " in ack, (reacted, ack)
    assert not any("did not run" in body for body in comments)
    # every tick ran at its 10-minute slot: the quiet ones are counted, not printed one by one
    counted = sum(int(m.group(1)) for line in out if (m := re.search(r"\s(\d+) scheduled ticks?\s", line)))
    acted = sum(1 for line in out if re.match(r"\w{3} \d\d:\d\d\s+scheduled tick\s", line))
    assert counted + acted == 142 and "(142 scheduled ticks)" in out[-2]


def test_quiet_keeps_the_short_form() -> None:
    result = CliRunner().invoke(cli, ["demo", "--quiet"])
    assert result.exit_code == 0, result.output
    for expected in ("opened outage issue #2", "comment (escalation)", "comment (ack)", "outage issue pinned now: False"):
        assert expected in result.output
    assert "What people read" not in result.output and "you are tagged" not in result.output


def test_markdown_is_shown_as_a_page_shows_it() -> None:
    body = ("## What is broken\n> &#96;pipx&#96; &#42;fails&#42; for @\u2060team\n\n**Resolve by:** `a &amp; b` [the issue](https://x.example/1)\n"
            "---\nSeverity: **critical**\n\n<!-- outage-bot:key=1:g1:tag -->\n<!-- outage-bot:ledger v1\nabc -->\n")
    assert as_read(body) == ("WHAT IS BROKEN\n│ `pipx` *fails* for @\u2060team\n\nResolve by: a &amp; b the issue (https://x.example/1)\n"
                             + "─" * 40 + "\nSeverity: critical")


def test_a_chat_message_is_shown_as_slack_lays_it_out() -> None:
    message = ChatMessage(headline="🚨 CRITICAL: API down", body="Not acknowledged yet.", fields=(("Deadline", "Tue 09:00"),),
                          link=("Outage issue", "https://x.example/2"), status="active", severity="critical")
    assert chat_as_read(message) == ("🚨 CRITICAL: API down\nCRITICAL · Active\n\nNot acknowledged yet.\n\nDeadline: Tue 09:00\n\n"
                                     "Outage issue (https://x.example/2)")
