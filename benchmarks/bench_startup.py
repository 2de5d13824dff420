"""Start-up cost of outage-bot, as ratios to a bare `python -c pass` measured in the same run.

    python benchmarks/bench_startup.py [--runs 15]

(a) `outage-bot --help` (the installed console script) / `python -c pass`;
(b) a GitHub `handle` of one `priority::highest` label event (no chat configured), from the
    process start to the first request the fake GitHub of the tests receives / `python -c pass`;
    printed with that time itself, the part of a warm CI job before it touches GitHub;
(c) which client libraries (b) imported: python-gitlab, slack_sdk, apprise, icalendar must not.

The machine is shared and noisy: the commands run in turn (A B A B ...), each ratio is taken pair
by pair, and the median is printed with the min and max.

Targets (issue "Install it in five minutes"): (a) at most 5x; (b) well under 5 s before the first
request; (c) none of them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "github")]

from fake_github import FakeGitHub  # found through the path above
from github_helpers import webhook

POLICY = ROOT / "tests" / "fixtures" / "contract_policy.yml"
SCRIPT = Path(sys.executable).parent / "outage-bot"
CLIENTS = ("github", "gitlab", "slack_sdk", "apprise", "icalendar", "jinja2", "pydantic")
# Runs the CLI and writes the top-level modules it imported (for (c)); exit status as the CLI's.
RECORDER = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: json.dump(sorted({m.partition(".")[0] for m in sys.modules}), open(out, "w")))
sys.argv[0] = "outage-bot"
from bot.cli import main
main()
"""


class TimedGitHub(FakeGitHub):
    """The fake GitHub, noting when each run's first request arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.first: float | None = None
        self._first_lock = threading.Lock()

    def _handle(self, handler: Any) -> None:
        with self._first_lock:
            if self.first is None:
                self.first = time.perf_counter()
        super()._handle(handler)


def wall(args: list[str], **kwargs: Any) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - started


def spread(values: list[float], unit: str = "x") -> str:
    return f"{statistics.median(values):.2f}{unit} (min {min(values):.2f}, max {max(values):.2f})"


def bench_help(runs: int) -> tuple[list[float], list[float]]:
    command = [str(SCRIPT), "--help"] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli", "--help"]
    ratios, bare = [], []
    wall(command), wall([sys.executable, "-c", "pass"])  # warm-up: the file cache
    for _ in range(runs):
        a = wall(command)
        b = wall([sys.executable, "-c", "pass"])
        ratios.append(a / b)
        bare.append(b)
    return ratios, bare


def bench_handle(runs: int, tmp: Path) -> tuple[list[float], list[float], list[str]]:
    ratios, seconds, imported = [], [], []
    with TimedGitHub() as fake:
        env_base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)}
        for n in range(runs + 1):  # the first is a warm-up
            issue = fake.add_issue(f"Installs fail {n}")
            fake.label(issue.number, "priority::highest", actor="taylor-gh")
            event = tmp / f"event{n}.json"
            event.write_text(json.dumps(webhook(fake, "issues", "labeled", issue.number, sender="taylor-gh",
                                                label="priority::highest")))
            modules = tmp / f"modules{n}.json"
            env = {**env_base, **fake.env(GITHUB_EVENT_NAME="issues", GITHUB_EVENT_PATH=str(event))}
            fake.first = None
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", RECORDER, str(modules), "handle", "--config", str(POLICY),
                            "--now", fake.now.isoformat()], env=env, check=True, capture_output=True, cwd=tmp)
            assert fake.first is not None, "the handle made no request"
            to_first = fake.first - started
            bare = wall([sys.executable, "-c", "pass"])
            if n:
                seconds.append(to_first)
                ratios.append(to_first / bare)
            imported = json.loads(modules.read_text())
    return ratios, seconds, imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    ratios, bare = bench_help(runs)
    print(f"python -c pass:                              {spread(bare, ' s')}")
    print(f"(a) outage-bot --help / python -c pass:      {spread(ratios)}   target <= 5x")
    with tempfile.TemporaryDirectory() as tmp:
        ratios, seconds, imported = bench_handle(runs, Path(tmp))
    print(f"(b) GitHub handle, start to first request:   {spread(seconds, ' s')}   target <= 5 s")
    print(f"    / python -c pass:                         {spread(ratios)}")
    loaded = [name for name in CLIENTS if name in imported]
    print(f"(c) imported by the GitHub handle:           {', '.join(loaded)}")
    unwanted = [name for name in ("gitlab", "slack_sdk", "apprise", "icalendar") if name in imported]
    print(f"    of python-gitlab, slack_sdk, apprise, icalendar: {', '.join(unwanted) or 'none'}")


if __name__ == "__main__":
    main()
