"""GitLab CI, as far as outage-bot can tell: the job's environment pointed at the fake GitLab,
and `outage-bot handle` / `outage-bot tick` run through click's CliRunner."""

from __future__ import annotations

from datetime import datetime, timedelta

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chat_sink import ChatSink
from click.testing import CliRunner, Result
from fake_gitlab import TOKEN, FakeGitLab
from payloads import as_trigger_payload, issue_hook, note_hook, write

from bot.cli import cli

POLICY = Path(__file__).resolve().parent.parent / "fixtures" / "gitlab" / "policy.yml"
_BLOBS = re.compile(r"<!-- outage-bot:(ledger|status) v1 \S+ -->")


@dataclass
class Pipeline:
    fake: FakeGitLab
    sink: ChatSink
    tmp: Path
    runs: int = 0
    last: tuple[str, str] | None = None  # (payload path, --now) of the last delivery

    def environ(self, source: str, payload: str | None = None) -> dict[str, str]:
        """What GitLab CI gives the job (and the CI/CD variables a user adds)."""
        env = {
            "GITLAB_CI": "true",
            "CI_API_V4_URL": self.fake.api_url,
            "CI_PROJECT_ID": str(self.fake.project_id),
            "CI_PROJECT_PATH": self.fake.project_path,
            "CI_PROJECT_DIR": str(self.tmp),
            "CI_PIPELINE_SOURCE": source,
            "CI_PIPELINE_ID": str(1000 + self.runs),
            "GITLAB_TOKEN": TOKEN,
            "OUTAGE_BOT_CONFIG": str(POLICY),
            "SLACK_WEBHOOK_URL": f"{self.sink.url}/alerts",
            "SLACK_WEBHOOK_URL_SECURITY": f"{self.sink.url}/security",
        }
        if payload is not None:
            env["TRIGGER_PAYLOAD"] = payload
        return env

    def deliver(self, body: dict[str, Any], now: str) -> Result:
        """A webhook delivery to the trigger URL, then the pipeline's `outage-bot handle`."""
        self.runs += 1
        path = write(self.tmp, as_trigger_payload(body, project_id=self.fake.project_id), f"payload-{self.runs}.json")
        self.last = (path, now)
        return CliRunner().invoke(cli, ["handle", "--now", now], env=self.environ("trigger", path))

    def deliver_again(self, late: timedelta = timedelta(0)) -> Result:
        """GitLab delivers the same webhook twice (a retried delivery, or "Resend request"),
        `late` after the first time."""
        assert self.last is not None
        path, now = self.last
        if late:
            now = (datetime.fromisoformat(now.replace("Z", "+00:00")) + late).isoformat()
        self.runs += 1
        return CliRunner().invoke(cli, ["handle", "--now", now], env=self.environ("trigger", path))

    def tick(self, now: str) -> Result:
        """A scheduled pipeline: `outage-bot tick`."""
        self.runs += 1
        return CliRunner().invoke(cli, ["tick", "--now", now], env=self.environ("schedule"))

    # -- what people do, and the webhook GitLab sends for it ---------------------------------------
    def label(self, iid: int, *labels: str, by: str, now: str) -> Result:
        before, _ = self.fake.label(iid, *labels, by=by)
        return self.deliver(issue_hook(self.fake, iid, "update", by=by, previous_labels=before), now)

    def comment(self, iid: int, text: str, *, by: str, now: str) -> Result:
        note = self.fake.comment(iid, text, by=by)
        return self.deliver(note_hook(self.fake, iid, note), now)

    def close(self, iid: int, *, by: str, now: str) -> Result:
        self.fake.close(iid, by=by)
        return self.deliver(issue_hook(self.fake, iid, "close", by=by), now)

    def echoes(self, since: int, now: str) -> list[Result]:
        """GitLab also sends webhooks for what the bot itself did (unlike GitHub's GITHUB_TOKEN):
        deliver them, as a real project would, for every note and issue the bot wrote."""
        results = []
        for iid, notes in sorted(self.fake.notes.items()):
            for note in notes:
                if note["author"] == self.fake.bot and not note["system"] and note["id"] > since:
                    results.append(self.deliver(note_hook(self.fake, iid, note), now))
        for iid, issue in sorted(self.fake.issues.items()):
            if issue["author"] == self.fake.bot and issue["id"] > since:
                results.append(self.deliver(issue_hook(self.fake, iid, "open", by=self.fake.bot), now))
        return results

    def state(self) -> Any:
        """The fake's end state, comparable across fakes: the server's URL (its port) made
        neutral, and the ledger and status blobs (compressed, URLs inside) left out."""

        def neutral(text: str) -> str:
            return _BLOBS.sub(r"<\1>", text.replace(self.fake.url, "http://gitlab"))

        issues, notes = self.fake.state()
        issues = {iid: tuple(neutral(v) if isinstance(v, str) else v for v in fields) for iid, fields in issues.items()}
        notes = {iid: [(a, neutral(b), s) for a, b, s in ns] for iid, ns in notes.items()}
        return issues, notes


def last_id(fake: FakeGitLab) -> int:
    ids = [n["id"] for ns in fake.notes.values() for n in ns] + [i["id"] for i in fake.issues.values()]
    return max(ids, default=0)
