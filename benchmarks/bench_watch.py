"""What probes and upstreams add to a tick: forge requests and HTTP checks, against the fake
GitHub of the tests, with the targets and status pages real HTTP servers on 127.0.0.1.

    python benchmarks/bench_watch.py

A quiet tick (nothing due) of a repository with one active incident, measured with no probes,
then with 10 probes and 3 upstreams (issue 16's done-when: "the forge writes only on change"):

(a) all up: an hour of quiet ticks, with and without them (requests summed, time per tick);
(b) one probe failing for the first time: its count is written (the status issue, once);
(c) the same probe failing again, fail_after reached: the incident declared (issue opened, the
    label event's work);
(d) still failing: nothing written;
(e) recovered twice: resolved, the issue closed;
(f) an upstream going major: an upstream incident telling users only.
Wall time is in-process and relative: `farm-bench` for ratios on this shared machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "github")]

from click.testing import CliRunner
from fake_github import FakeGitHub
from loopback_target import Target

from bot.cli import cli

CONTRACT = ROOT / "tests" / "fixtures" / "contract_policy.yml"
WATCH = ROOT / "tests" / "fixtures" / "watch"
T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)
TICK = timedelta(minutes=10)


def policy(tmp: Path, targets: list[Target], pages: list[Target]) -> Path:
    data = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    data["kinds"]["upstream"]["notice_only"] = True
    if targets:
        data["probes"] = {f"p{i}": {"url": f"{t.url}/healthz", "severity": "major", "kind": "outage"} for i, t in enumerate(targets)}
        data["upstreams"] = {f"u{i}": {"url": f"{p.url}/api/v2/status.json"} for i, p in enumerate(pages)}
    path = tmp / f"policy-{len(targets)}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def tick(fake: FakeGitHub, path: Path, at: datetime) -> tuple[list[str], float]:
    fake.now = at
    before = len(fake.requests)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["tick", "--config", str(path), "--now", at.isoformat()],
                                env=fake.env(GITHUB_EVENT_NAME="schedule"))
    spent = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    return fake.lines()[before:], spent


def show(name: str, lines: list[str], spent: float, checks: int) -> None:
    writes = sum(1 for line in lines if not line.startswith("GET"))
    kinds = Counter(line.split(" ")[0] for line in lines)
    print(f"{name:<58} {len(lines):>3} forge requests ({writes} writes; {dict(kinds)}), {checks:>2} HTTP checks, {spent * 1000:6.0f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name, FakeGitHub() as fake:
        tmp = Path(tmp_name)
        targets = [Target().__enter__() for _ in range(10)]
        pages = [Target().__enter__() for _ in range(3)]
        for page in pages:
            page.page(WATCH / "status_none.json")
        bare, watched = policy(tmp, [], []), policy(tmp, targets, pages)
        fake.add_issue("Checkout is slow", "p95 over 4 s", author="reporter", at=T0 - timedelta(hours=1))
        fake.label(1, "priority::higher", actor="reporter", at=T0 - timedelta(hours=1))
        tick(fake, bare, T0 - timedelta(minutes=50))  # declares the incident, builds the index
        tick(fake, bare, T0 - timedelta(minutes=40))

        def hits() -> int:
            return sum(t.hits for t in targets + pages)

        # An hour of quiet ticks for each (the index's 30-minute heartbeat writes twice either way).
        at = T0 - timedelta(minutes=30)
        for name, path in (("(a) an hour of quiet ticks (6), no probes", bare),
                           ("(a) an hour of quiet ticks (6), 10 probes + 3 upstreams up", watched)):
            at += TICK
            tick(fake, path, at)  # the first run with this policy writes the index once
            lines, spent, checks = [], 0.0, 0
            for _ in range(6):
                at += TICK
                before = hits()
                more, took = tick(fake, path, at)
                lines, spent, checks = lines + more, spent + took, checks + hits() - before
            show(name, lines, spent / 6, checks)

        steps = [("(b) one probe fails (1 of fail_after 2)", lambda: targets[0].answer(500, "boom")),
                 ("(c) fails again: declared", lambda: None),
                 ("(d) still failing", lambda: None),
                 ("(e1) recovered (1 of recover_after 2)", lambda: targets[0].answer(200, "ok")),
                 ("(e2) recovered again: resolved, issue closed", lambda: None),
                 ("(e3) quiet again", lambda: None),
                 ("(f) an upstream goes major: users told", lambda: pages[0].page(WATCH / "status_major.json")),
                 ("(f2) still major", lambda: None)]
        for name, change in steps:
            change()
            at += TICK
            before = hits()
            lines, spent = tick(fake, watched, at)
            show(name, lines, spent, hits() - before)
        for server in targets + pages:
            server.__exit__(None, None, None)


if __name__ == "__main__":
    main()
