"""Requests and wall time of outage-bot on GitLab: a benchmark, not a timed test.

    .venv/bin/python benchmarks/bench_gitlab.py [--issues 10000] [--incidents 50]

Runs `outage-bot handle` and `outage-bot tick` exactly as a GitLab CI job would (the job's
environment, through click's CliRunner) against the fake GitLab of tests/gitlab on 127.0.0.1,
and prints each run's request count next to the least a run could do, and its wall time.

(a) one priority::highest label event (target: at most 6 requests);
(b) one tick over a project of 10,000 issues with 50 active incidents, with 0, 5 and 50 of
    them due (target: nothing due costs at most 2 requests, whatever the project's size).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "gitlab"))
sys.path.insert(0, str(HERE.parent))

from chat_sink import ChatSink
from fake_gitlab import FakeGitLab
from gitlab_pipeline import Pipeline

T0 = datetime(2026, 11, 9, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in New York


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(pipeline: Pipeline, what: str, at: datetime, **kw: object) -> tuple[int, float, list[str]]:
    """One pipeline at `at` (the fake's clock too); its requests and wall time."""
    pipeline.fake.now = at
    pipeline.fake.reset_requests()
    started = time.perf_counter()
    if what == "tick":
        result = pipeline.tick(iso(at))
    else:
        result = pipeline.label(int(kw["iid"]), str(kw["label"]), by="alice", now=iso(at))  # type: ignore[call-overload]
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"{what} failed (exit {result.exit_code}):\n{result.output}")
    return len(pipeline.fake.requests), elapsed, [str(r) for r in pipeline.fake.requests]


def shape(requests: list[str]) -> str:
    """GET /projects/14/issues/7/notes x 5 -> a short summary of what was asked."""
    import re

    counts = Counter(re.sub(r"/\d+(?=/|$)", "/:n", r) for r in requests)
    return ", ".join(f"{r}" + (f" x{n}" if n > 1 else "") for r, n in counts.items())


def line(label: str, count: int, minimum: str, elapsed: float, detail: str = "") -> None:
    print(f"  {label:<44} {count:>4} requests   least possible: {minimum:<38} {elapsed * 1000:>7.0f} ms")
    if detail:
        print(f"  {'':<44} {detail}")


def project(fake: FakeGitLab, issues: int) -> None:
    """`issues` issues, a tenth of them with ordinary labels, none with a severity label."""
    fake.now = T0 - timedelta(days=30)
    for n in range(issues):
        fake.open_issue(f"Issue {n}", by="alice", labels=["bug"] if n % 10 == 0 else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=50)
    args = parser.parse_args()
    for name in [k for k in os.environ if k.startswith(("CI_", "GITLAB", "SLACK", "TRIGGER", "GITHUB"))]:
        del os.environ[name]
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"

    print(f"outage-bot on GitLab: the fake GitLab API on 127.0.0.1, {args.issues:,} issues\n")
    with tempfile.TemporaryDirectory() as tmp, FakeGitLab(now=T0) as fake, ChatSink() as sink:
        pipeline = Pipeline(fake, sink, Path(tmp))
        project(fake, args.issues)

        # (a) label events --------------------------------------------------------------------------
        print("(a) one priority::highest label event (`outage-bot handle`, target <= 6)")
        first = args.issues + 1
        fake.now = T0
        for n in range(args.incidents):
            fake.open_issue(f"Incident {n}", by="alice")
        samples = []
        late = args.incidents - 5  # the last five were declared 11h55m earlier: due at other times
        for n in range(args.incidents):
            at = T0 - timedelta(hours=11, minutes=55) if n >= late else T0 + timedelta(seconds=n)
            samples.append(run(pipeline, "label", at, iid=first + n, label="priority::highest"))
        counts = Counter(c for c, _, _ in samples)
        times = sorted(e for _, e, _ in samples)
        count, _, requests = samples[0]
        line("label event (median of the incidents)", count, "4 (read ledger, tag, outage issue, record)",
             times[len(times) // 2], shape(requests))
        if len(counts) > 1:
            print(f"  {'':<44} request counts seen: {dict(counts)}")
        print("  (one of them is GET /user: the token's own name, so the bot knows its notes and issues;"
              " OUTAGE_BOT_GITLAB_LOGIN saves it)\n")

        # (b) a day of scheduled ticks, every 15 minutes ---------------------------------------------
        k = args.incidents
        print(f"(b) `outage-bot tick` every 15 minutes over {args.issues + k:,} issues, {k} active incidents")
        quiet: list[tuple[int, float]] = []
        at = T0 + timedelta(minutes=5)
        while at <= T0 + timedelta(hours=12, minutes=5):
            count, elapsed, requests = run(pipeline, "tick", at)
            looked = sum(1 for r in requests if r.endswith("/notes") and r.startswith("GET"))
            offset = at - T0
            if offset == timedelta(minutes=5):
                line("first tick (no status issue yet; 5 due)", count, f"{k + 2} (search, {k} ledgers, status)",
                     elapsed, shape(requests))
            elif looked == 0:
                quiet.append((count, elapsed))
            else:
                least = f"{looked} due: 1 + {looked} x 3 + 1 + 2 (lock) = {3 * looked + 4}"
                line(f"tick at T0+{offset} ({looked} due)", count, least, elapsed, shape(requests))
            at += timedelta(minutes=15)
        counts = Counter(c for c, _ in quiet)
        print(f"  {'nothing due':<44} {min(counts):>4}-{max(counts)} requests over {len(quiet)} ticks: "
              + ", ".join(f"{n} ticks x {c}" for c, n in sorted(counts.items())))
        print(f"  {'':<44} least possible: 1 (the search, which also names the token's user); +1 PUT of the status")
        print(f"  {'':<44} issue every 30 minutes (the heartbeat that shows the schedule runs);"
              f" median {sorted(e for _, e in quiet)[len(quiet) // 2] * 1000:.0f} ms")

        fake.graphql_or = False
        count, elapsed, requests = run(pipeline, "tick", at)
        line("nothing due, GitLab without GraphQL `or`", count, "one REST list per severity label", elapsed,
             shape(requests))
    print("\nleast possible: what any correct run must ask.")


if __name__ == "__main__":
    main()
