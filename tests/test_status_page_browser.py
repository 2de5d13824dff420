"""The status site in a real browser: headless Chromium opens the demo incident's page, saves a
screenshot and dumps the DOM it rendered (slow: a browser start takes seconds).

Debian's `chromium` (`apt-get install -y chromium`); skipped, saying so, when it is missing.
Nothing leaves the machine: the page is a file, and loads nothing from elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from core_helpers import T0, Sandbox

from bot.demo import BODY
from bot.events import EventKind
from bot.status_page.build import build_site, environment
from bot.status_page.shell import read_incidents, write_site

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or "") if p
                 and Path(p).is_file()), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
README_SHOT = Path(__file__).parents[1] / "docs" / "status-page.png"


def demo_site(tmp: Path) -> Path:
    """The demo's incident (bot/demo.py), declared and acknowledged, on the local forge."""
    box = Sandbox(tmp / "forge")
    issue = box.open_issue("pipx install fails for the latest release", body=BODY)
    box.runner().handle(box.event(EventKind.LABELED, issue.number, label="priority::highest"))
    box.clock.now = T0 + timedelta(minutes=25)
    box.runner().handle(box.comment(issue.number, "/ack", "maintainer"))
    box.clock.now = T0 + timedelta(hours=1)
    out = tmp / "public"
    write_site(build_site(read_incidents(box.forge, box.policy), box.policy, box.clock.now, environment(None)), out)
    return out / "index.html"


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    env = {**os.environ, "HOME": str(profile)}  # nothing of the real user's
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120, env=env, check=False)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `apt-get install -y chromium` (Debian's package) to run this test")
def test_the_page_renders_in_chromium(tmp_path: Path) -> None:
    page = demo_site(tmp_path)
    shot = tmp_path / "status-page.png"
    result = chromium(page, tmp_path / "profile-1", f"--screenshot={shot}", "--window-size=900,1500")
    assert shot.is_file(), result.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a blank page compresses to a few kB
    assert "CONSOLE" not in result.stderr, result.stderr  # no console message: no error, no script at all

    dom = chromium(page, tmp_path / "profile-2", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<h1 id="banner">Major outage</h1>' in dom.stdout
    assert "pipx install fails for the latest release" in dom.stdout and "Pin the previous version" in dom.stdout
    assert "CONSOLE" not in dom.stderr, dom.stderr
    if os.environ.get("OUTAGE_BOT_UPDATE_SCREENSHOT"):  # the README's picture: regenerate on purpose only
        README_SHOT.write_bytes(png)
