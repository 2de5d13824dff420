"""How long the Slack notifier takes: rendering a message, and real slack_sdk calls against
the fake Slack on 127.0.0.1 (so the figures are this code plus slack_sdk, not Slack's latency).

    .venv/bin/python benchmarks/bench_slack.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "slack")]

from chat_samples import ALERTS, message
from fake_slack import TOKEN, FakeSlack

from bot.adapters.slack import SlackNotifier
from bot.adapters.slack.blocks import render


def timed(label: str, runs: int, func: Callable[[], object]) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    print(f"{label:<44} median {statistics.median(samples):8.3f} ms   p95 {samples[int(len(samples) * 0.95) - 1]:8.3f} ms   (n={runs})")


def main() -> None:
    typical = message()
    huge = message(headline="<!channel> " * 1000, body="&<>" * 5000, fields=tuple((f"f{i}", "x" * 3000) for i in range(30)))
    timed("render: typical alert", 2000, lambda: render(typical))
    timed("render: 10k-char title, 15k body, 30 fields", 200, lambda: render(huge))
    with FakeSlack() as fake:
        fake.add_channel("outage-alerts", id="C0ALERTS01")
        slack = SlackNotifier(TOKEN, base_url=fake.api_url)
        root = slack.post(ALERTS, typical)
        timed("chat.postMessage (thread reply), loopback", 200, lambda: slack.post(ALERTS, typical, thread=root))
        timed("chat.update, loopback", 200, lambda: slack.update(root, typical))
        for i in range(300):
            fake.post_as_user("C0ALERTS01", f"noise {i}")
        timed("find(): 3 history pages + 1 thread, loopback", 50, lambda: slack.find(ALERTS, "absent"))
    print()
    for active in (1, 10, 50):
        per_tick(active)


def per_tick(active: int) -> None:
    """Slack requests of a scheduled tick with `active` unacknowledged incidents and nothing
    due: reading 👀 and ✅ on the alerts (issue 13). Slack's tiers: conversations.history and
    .replies are Tier 3 (50+ a minute), conversations.list Tier 2 (20+ a minute)."""
    import tempfile
    from collections import Counter
    from datetime import datetime, timedelta, timezone

    from chat_samples import DEFAULT_CHANNELS

    from bot.adapters.local import LocalForge
    from bot.config import load
    from bot.events import Event, EventKind
    from bot.runner import Runner

    t0 = datetime(2026, 11, 10, 14, 0, tzinfo=timezone.utc)  # a Tuesday: no handoff near
    policy, renderer = load(ROOT / "tests" / "fixtures" / "team_policy.yml")
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(start=t0) as fake:
        for name, cid in DEFAULT_CHANNELS.items():
            fake.add_channel(name, id=cid, private=name == "security-incidents")
        clock = [t0]
        forge = LocalForge(Path(tmp) / "forge.sqlite", clock=lambda: clock[0])

        def runner() -> Runner:
            slack = SlackNotifier(TOKEN, base_url=fake.api_url, backoff=0.01)
            return Runner(forge, {c: slack for c in policy.channels}, policy, renderer, now=clock[0], sleep=lambda _: None)

        for n in range(active):
            forge.actor = "reporter"
            issue = forge.create_issue(title=f"Service {n} is down", body="", labels=["priority::highest"])
            forge.actor = forge.bot_login
            runner().handle(Event(kind=EventKind.LABELED, issue=issue, actor="reporter", at=clock[0], label="priority::highest"))
        for minutes in (10, 20, 30):  # the index is built, then quiet ticks
            clock[0] = t0 + timedelta(minutes=minutes)
            before = len(fake.calls())
            runner().tick()
        calls = Counter(c.api for c in fake.calls()[before:])
        print(f"tick with {active:>2} unacknowledged incident(s), nothing due: {sum(calls.values())} Slack request(s): "
              + ", ".join(f"{n} x {api}" for api, n in sorted(calls.items())))


if __name__ == "__main__":
    main()
