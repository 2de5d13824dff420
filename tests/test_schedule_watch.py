"""Issue 16, part 5: a bot that notices when it stops. After a gap in the schedule the next
tick tells the team once (the alert channel, with the likely cause and the fix) and the status
issue says so for a week; every successful tick pings OUTAGE_BOT_HEARTBEAT_URL, a dead-man's
switch outside the CI that pages when the pings stop. The URL is never printed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.ledger import status_data
from bot.status_index import Index
from tests.core_helpers import T0, Sandbox

TEAM = Path(__file__).parent / "fixtures" / "team_policy.yml"


def gap_notices(box: Sandbox) -> list[dict[str, object]]:
    return [m for m in box.chat.messages() if "scheduled run did not run" in m["headline"]]


def test_a_gap_in_the_schedule_is_told_once_with_the_fix(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, TEAM)
    box.clock.now = T0 + timedelta(days=1, hours=2)  # a Tuesday: no handoff near
    box.runner().tick()
    box.clock.now += timedelta(minutes=10)
    box.runner().tick()
    assert gap_notices(box) == []  # ticks on time: nothing to say
    box.clock.now += timedelta(hours=5)  # the schedule stopped for five hours
    box.runner().tick()
    box.clock.now += timedelta(minutes=10)
    box.runner().tick()
    [notice] = gap_notices(box)
    assert notice["channel"] == "alerts" and "Pipeline schedules" not in str(notice["body"])  # the local forge's words
    [status] = [i for (i,) in box.forge.db.execute("select body from issues where labels like '%outage-bot::status%'")]
    assert "the scheduled run did not run from" in status
    index = Index.from_data(status_data(status))
    assert index.gap is not None and index.gap[1] - index.gap[0] > timedelta(hours=5)


class Switch(BaseHTTPRequestHandler):
    pings: list[str] = []
    status = 200

    def do_GET(self) -> None:  # noqa: N802
        Switch.pings.append(self.path)
        self.send_response(Switch.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def switch() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Switch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Switch.pings, Switch.status = [], 200
    yield f"http://127.0.0.1:{server.server_address[1]}/ping/4f1c-secret-uuid"
    server.shutdown()


def tick(tmp_path: Path, url: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["tick", "--forge", "local", "--db", str(tmp_path / "forge.sqlite"), "--config", str(TEAM),
                                      "--now", "2026-11-10T16:00Z", *extra], env={"OUTAGE_BOT_HEARTBEAT_URL": url})
    return result.exit_code, result.output


def test_every_successful_tick_pings_and_never_prints_the_url(tmp_path: Path, switch: str) -> None:
    code, output = tick(tmp_path, switch)
    assert code == 0 and Switch.pings == ["/ping/4f1c-secret-uuid"]
    assert "heartbeat: pinged (HTTP 200)" in output and "secret" not in output
    code, output = tick(tmp_path, switch, "--dry-run")
    assert code == 0 and len(Switch.pings) == 1  # a dry run says nothing about the schedule


def test_a_refused_ping_is_said_and_fails_nothing(tmp_path: Path, switch: str) -> None:
    Switch.status = 503
    code, output = tick(tmp_path, switch)
    assert code == 0 and "the ping was refused (HTTP 503)" in output and "secret" not in output
