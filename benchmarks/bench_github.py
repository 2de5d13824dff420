"""Requests and wall time of outage-bot's GitHub jobs, against the fake GitHub of the tests.

    python benchmarks/bench_github.py

(a) handling one `priority::highest` label event (`outage-bot handle`);
(b) one `outage-bot tick` over a repository of 10,000 issues, 50 of them active incidents, with
    0 / 5 / 50 of those having something due.
Requests per job are what GitHub's rate limits count (GITHUB_TOKEN: 1,000 an hour per
repository), so each count is printed next to the least the job could make. Wall time is
in-process (no Python start-up, no network latency: the fake is on 127.0.0.1).
    python benchmarks/bench_github.py --scale   # also (c): 2,000 active incidents (minutes)

Targets (issue "Exactly once"): (a) at most 6 requests, the first incident included (7 since
issue 16: a run that acts on an incident reads the status issue to know whether ticks are
overdue); (b) with
nothing due, 1; with N due, at most 3 a due incident + 1; (c) the same at 2,000 active incidents.
"Least" for a busy tick counts what a correct tick cannot do without: the listing, the look for
👀 before anyone is paged, 3 a due incident, the status issue (the tick's record), and the run
lock taken and given back (bot.run_lock: what lets runs of one incident overlap safely).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "github")]

from click.testing import CliRunner
from fake_github import FakeGitHub
from github_helpers import webhook

from bot.cli import cli

POLICY = ROOT / "tests" / "fixtures" / "contract_policy.yml"  # critical: 12h to acknowledge, 24h to resolve, pinned
M = datetime(2026, 11, 10, 15, 0, tzinfo=timezone.utc)  # the measured tick
ISSUES, ACTIVE = 10_000, 50


@dataclass
class Run:
    requests: list[str]
    seconds: float
    exit_code: int


class Job:
    def __init__(self, fake: FakeGitHub, tmp: Path) -> None:
        self.fake, self.tmp, self.n = fake, tmp, 0

    def _invoke(self, args: list[str], env: dict[str, str], at: datetime) -> Run:
        self.fake.now = at
        before = len(self.fake.requests)
        started = time.perf_counter()
        result = CliRunner().invoke(cli, [*args, "--config", str(POLICY), "--now", at.isoformat()], env=env)
        seconds = time.perf_counter() - started
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(self.fake.lines()[before:], seconds, result.exit_code)

    def label(self, number: int, at: datetime, label: str = "priority::highest") -> Run:
        self.fake.label(number, label, actor="reporter", at=at)
        self.n += 1
        path = self.tmp / f"event-{self.n}.json"
        payload = webhook(self.fake, "issues", "labeled", number, sender="reporter", label=label)
        path.write_text(json.dumps(payload), encoding="utf-8")
        env = self.fake.env(GITHUB_EVENT_NAME="issues", GITHUB_EVENT_PATH=str(path))
        return self._invoke(["handle"], env, at + timedelta(seconds=20))

    def tick(self, at: datetime) -> Run:
        return self._invoke(["tick"], self.fake.env(GITHUB_EVENT_NAME="schedule"), at)


def clean_environment() -> None:
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "SLACK_", "GITLAB_", "OUTAGE_BOT_")):
            del os.environ[name]


def bench_label_event(tmp: Path) -> list[tuple[str, Run, int]]:
    rows = []
    with FakeGitHub() as fake:
        job = Job(fake, tmp)
        at = M
        first = fake.add_issue("Checkout is down", "Every order fails.", author="reporter", at=at)
        rows.append(("(a) label event, first incident in the repository", job.label(first.number, at), 4))
        second = fake.add_issue("Search is down", "No results.", author="reporter", at=at)
        rows.append(("(a) label event, the bot's labels already exist", job.label(second.number, at + timedelta(minutes=5)), 4))
    return rows


def bench_tick(tmp: Path, due: int) -> list[tuple[str, Run, int]]:
    """A repository of 10,000 issues, 50 active incidents, `due` of them past their 12h
    acknowledgement (escalation) and 12h reminder at the measured tick M."""
    with FakeGitHub() as fake:
        job = Job(fake, tmp)
        start = M - timedelta(hours=12, minutes=5)
        for i in range(ISSUES):
            fake.add_issue(f"Issue {i}", "Nothing to see.", author="someone", at=start - timedelta(days=30))
        numbers = list(range(1, ACTIVE * 200 + 1, 200))  # 50 incidents spread over the repository
        late, fresh = numbers[:due], numbers[due:]
        for number in late:
            job.label(number, start)
        # the scheduled ticks before the measured one, every 10 minutes; the late incidents fall
        # due at M - 5 min, between the last two; the others were declared an hour before M,
        # out of the 40 minutes a tick lists (a quiet tick lists nothing that changed)
        for k in range(72, 0, -1):
            at = M - timedelta(minutes=10 * k)
            if k == 6:
                for number in fresh:
                    job.label(number, at - timedelta(minutes=5))
            job.tick(at)
        run = job.tick(M)
        # with nothing due, the status issue's heartbeat is written every 30 minutes: the
        # costliest of the next three ticks shows it
        later = [job.tick(M + timedelta(minutes=10 * k)) for k in (1, 2, 3)] if due == 0 else []
    if later:
        # One of any three ticks in a row writes the heartbeat: the cheapest of the four is a
        # quiet tick, the costliest the heartbeat's.
        runs = [run, *later]
        quiet = min(runs, key=lambda r: len(r.requests))
        worst = max(runs, key=lambda r: len(r.requests))
        return [("(b) tick, 10,000 issues, 50 active,  0 due", quiet, 1),
                ("(b) the same, costliest of 4 ticks in a row", worst, 2)]
    # least: the search; then per due incident its ledger read, one comment (escalation and
    # reminder together), the ledger written back; then the status issue once
    least = 1 + 1 + 3 * due + 1 + 2 if due else 1  # listing, 👀 look, 3 each, status, lock taken and given back
    return [(f"(b) tick, 10,000 issues, 50 active, {due:>2} due", run, least)]


def bench_scale(tmp: Path, active: int = 2_000) -> list[tuple[str, Run, int]]:
    """10,000 issues, `active` of them incidents declared by their label events over the last
    hours (more than GitHub search's 1,000 results), ticks every 10 minutes: then a quiet tick,
    and one with 50 of them due."""
    with FakeGitHub() as fake:
        job = Job(fake, tmp)
        start = M - timedelta(hours=14)
        for i in range(ISSUES):
            fake.add_issue(f"Issue {i}", "Nothing to see.", author="someone", at=start - timedelta(days=30))
        numbers = list(range(1, ISSUES + 1, ISSUES // active))[:active]
        due = numbers[:50]
        for number in due:  # their 12h acknowledgement and reminder fall due just before M
            job.label(number, M - timedelta(hours=12, minutes=5))
        for k, number in enumerate(numbers[50:]):  # the rest: declared over the 10 hours before
            job.label(number, M - timedelta(hours=11) + timedelta(seconds=16 * k), label="priority::higher")
        for k in range(12, 0, -1):  # ticks every 10 minutes: the last two hours
            job.tick(M - timedelta(minutes=10 * k))
        run_due = job.tick(M)
        # ticks every 10 minutes; quiet: once the due incidents' changes are out of the 40
        # minutes a tick lists (a gap longer than that makes the next tick list everything)
        after = [job.tick(M + timedelta(minutes=10 * k)) for k in range(1, 8)]
        quiet = after[4:]
        body = max((len(i.body or "") for i in fake.issues.values() if "outage-bot::status" in i.labels), default=0)
    print(f"(c) status issue body with {active} active incidents: {body:,} characters (GitHub's limit: 65,536)")
    least = 1 + 1 + 3 * len(due) + 1 + 2  # listing, one look for 👀, 3 per due incident, the status issue, the lock
    return [(f"(c) tick, 10,000 issues, {active:,} active, 50 due", run_due, least),
            (f"(c) the same, quiet: fewest of the next 3 ticks", min(quiet, key=lambda r: len(r.requests)), 1),
            (f"(c) the same, quiet: costliest of the next 3 ticks", max(quiet, key=lambda r: len(r.requests)), 2)]


def main() -> None:
    clean_environment()
    rows: list[tuple[str, Run, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_label_event(Path(tmp))
        for due in (0, 5, 50):
            rows += bench_tick(Path(tmp), due)
        if "--scale" in sys.argv:
            rows += bench_scale(Path(tmp))
    width = max(len(name) for name, _, _ in rows)
    print(f"{'job':<{width}}  requests  least  wall time")
    for name, run, least in rows:
        print(f"{name:<{width}}  {len(run.requests):>8}  {least:>5}  {run.seconds * 1000:>7.0f} ms")
    print()
    for name, run, _ in rows:
        counts = Counter(re.sub(r"/\d+", "/{n}", line) for line in run.requests)
        print(f"{name}:")
        for line, count in counts.items():
            print(f"    {count:>3} x {line}")
    targets = [
        ("(a) at most 7 requests, labels existing (6 + the status read of issue 16)", len(rows[1][1].requests) <= 7),
        ("(a) at most 7 requests, the first incident (6 + the status read of issue 16)", len(rows[0][1].requests) <= 7),
        ("(b) 1 request with nothing due (2 on the heartbeat tick)",
         min(len(rows[2][1].requests), len(rows[3][1].requests)) <= 1 and max(len(rows[2][1].requests), len(rows[3][1].requests)) <= 2),
        *[(f"{name[4:].strip()}: at most 3 a due incident + 1 (the issue's figure)",
           len(run.requests) <= 3 * int(name.split()[-2]) + 1) for name, run, _ in rows if name.startswith("(b)") and name.endswith(" due")
          and not name.endswith(" 0 due")],
        *[(f"{name[4:].strip()}: the least a correct tick can make", len(run.requests) <= least)
          for name, run, least in rows if name.endswith(" due") and not name.endswith(" 0 due")],
    ]
    print()
    for target, met in targets:
        print(f"target {target}: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
