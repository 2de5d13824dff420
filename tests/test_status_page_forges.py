"""`outage-bot status-page` on GitHub and GitLab: the whole command, as a CI job runs it,
against the fake GitHub and the fake GitLab of the adapter tests (loopback only). An incident
is declared and resolved the way tests/github/test_github_e2e.py and
tests/gitlab/test_gitlab_e2e.py drive one; the site is built while it lasts and after."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

sys.path[:0] = [str(Path(__file__).parent / "github"), str(Path(__file__).parent / "gitlab")]

from chat_sink import ChatSink  # noqa: E402 - tests/github and tests/gitlab are not packages
from fake_github import FakeGitHub  # noqa: E402
from fake_gitlab import FakeGitLab  # noqa: E402
from gitlab_pipeline import Pipeline  # noqa: E402
from test_github_e2e import POLICY as GITHUB_POLICY  # noqa: E402
from test_github_e2e import T0 as GITHUB_T0  # noqa: E402
from test_github_e2e import Actions, label_incident  # noqa: E402
from test_gitlab_e2e import T0 as GITLAB_T0  # noqa: E402

from bot.cli import cli  # noqa: E402

SECRET = "Zanzibar-token-leak"


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "GITHUB_ACTIONS", "GITLAB_CI", "OUTAGE_BOT_CONFIG", "SLACK_WEBHOOK_URL",
                 "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def site(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*")) if p.is_file())


def build(env: dict[str, str], out: Path, now: str, *config: str) -> None:
    result = CliRunner().invoke(cli, ["status-page", *config, "--out", str(out), "--now", now], env=env)
    assert result.exit_code == 0, result.output


def test_github(tmp_path: Path) -> None:
    with FakeGitHub() as fake:
        actions = Actions(fake, tmp_path / "runs")
        assert label_incident(fake, actions).exit_code == 0  # "Checkout is down", critical, outage issue #2
        secret = fake.add_issue(f"{SECRET} in logs", f"{SECRET} everywhere", author="reporter", at=GITHUB_T0)
        fake.label(secret.number, "priority::highest", actor="reporter", at=GITHUB_T0)
        fake.label(secret.number, "security", actor="reporter", at=GITHUB_T0)
        actions.handle("issues", "labeled", secret.number, sender="reporter", at=GITHUB_T0 + timedelta(seconds=30), label="security")
        config = ("--config", str(GITHUB_POLICY))
        now = GITHUB_T0 + timedelta(minutes=5)
        build(fake.env(), tmp_path / "during", now.isoformat(), *config)
        index = (tmp_path / "during" / "index.html").read_text()
        assert "Checkout is down" in index and "Major outage" in index and "We are investigating" in index
        assert SECRET not in site(tmp_path / "during")
        summary = json.loads((tmp_path / "during" / "api" / "v2" / "summary.json").read_text())
        assert [i["name"] for i in summary["incidents"]] == ["Checkout is down"]

        fake.set_role("maint", "maintain")
        at = GITHUB_T0 + timedelta(hours=1)
        resolve = fake.comment(1, "/resolve restarted the payment pods", user="maint", at=at)
        assert actions.handle("issue_comment", "created", 1, sender="maint", at=at, comment=resolve).exit_code == 0
        build(fake.env(), tmp_path / "after", (at + timedelta(minutes=1)).isoformat(), *config)
        after = tmp_path / "after"
        assert "All systems operational" in (after / "index.html").read_text()
        assert "Checkout is down" in (after / "index.html").read_text().split("Last 90 days")[1]
        month = (after / "history" / "2026-11.html").read_text()
        assert "restarted the payment pods" in month and "maint" not in month
        assert SECRET not in site(after)
        feed = feedparser.parse((after / "feed.atom").read_bytes())
        assert [e.title for e in feed.entries] == ["Resolved: Checkout is down", "Investigating: Checkout is down"]


def test_gitlab(tmp_path: Path) -> None:
    with FakeGitLab(now=GITLAB_T0) as fake, ChatSink() as sink:
        fake.add_member("dev1", 30)
        pipeline = Pipeline(fake, sink, tmp_path)
        fake.open_issue("Checkout returns 500", by="alice", description="### Workaround\n\nPay by invoice.\n")
        assert pipeline.label(1, "priority::highest", by="alice", now="2026-11-09T15:00Z").exit_code == 0
        fake.open_issue(f"{SECRET} in logs", by="alice", description=f"{SECRET} everywhere")  # #3 (#2: the outage issue)
        assert pipeline.label(3, "priority::highest", "security", by="alice", now="2026-11-09T15:01Z").exit_code == 0
        assert pipeline.tick("2026-11-09T15:10Z").exit_code == 0  # the status issues, public and confidential
        build(pipeline.environ("schedule"), tmp_path / "during", "2026-11-09T15:20Z")
        index = (tmp_path / "during" / "index.html").read_text()
        assert "Checkout returns 500" in index and "Pay by invoice." in index and "Major outage" in index
        assert SECRET not in site(tmp_path / "during")

        assert pipeline.comment(1, "/resolve rolled back the deploy", by="dev1", now="2026-11-09T16:00Z").exit_code == 0
        build(pipeline.environ("schedule"), tmp_path / "after", "2026-11-09T16:05Z")
        after = tmp_path / "after"
        index = (after / "index.html").read_text()
        assert "All systems operational" in index and "Checkout returns 500" in index.split("Last 90 days")[1]
        assert "rolled back the deploy" in (after / "history" / "2026-11.html").read_text()
        assert SECRET not in site(after) and "dev1" not in site(after) and "alice" not in site(after)
