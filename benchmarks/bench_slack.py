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


if __name__ == "__main__":
    main()
