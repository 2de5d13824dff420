"""The composite action (action.yml), run as the Actions runner would run it: its `run:` steps in
order, in bash as `shell: bash` runs them, with the Actions environment (GITHUB_ACTION_PATH,
GITHUB_OUTPUT, GITHUB_EVENT_PATH, RUNNER_OS, ...), their `env:` and `if:` evaluated, against the
fake GitHub on 127.0.0.1. There is no offline Actions runner, so the two `uses:` steps are
played by this file: actions/setup-python gives a Python, actions/cache restores the path its
key names from a folder standing for GitHub's cache, and saves it after a successful job.

The inputs are the shipped workflows' `with:` (secrets undefined: "", as GitHub gives them). The
install step's own `pip install` runs as written, from a snapshot of this working tree as the
action's checkout, with pip reading a local wheelhouse instead of an index (tests/ci_sandbox.py).

Slow (one install): .ci/run makes the wheels.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_github import FakeGitHub
from github_helpers import webhook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ci_sandbox import (  # tests/ is not a package
    ROOT,
    WHEELHOUSE_HINT,
    Source,
    has_wheelhouse,
    offline_pip,
    snapshot,
)

ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / ".github" / "workflows" / "outage-bot.yml"
TICK_WORKFLOW = ROOT / ".github" / "workflows" / "outage-bot-tick.yml"  # the schedule's, apart (60-day disable)
POLICY = ROOT / "tests" / "fixtures" / "contract_policy.yml"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not has_wheelhouse(), reason=WHEELHOUSE_HINT)]

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


@dataclass
class Runner:
    """One machine's worth of Actions: a home folder (where the action keeps its virtualenv),
    GitHub's cache, and the context the expressions read."""

    tmp: Path
    action_path: Path
    workspace: Path
    fake: FakeGitHub
    workflow: Path = WORKFLOW  # whose `with:` gives the inputs
    job: str = "outage-bot"  # the job of that workflow whose outage-bot step is run
    cache: dict[str, Path] = field(default_factory=dict)  # key -> saved copy
    log: list[str] = field(default_factory=list)

    def value(self, expr: str, ctx: dict[str, Any]) -> str:
        """An expression's value: a context path (inputs.x, steps.id.outputs.y, github.token,
        secrets.X, runner.os) or a quoted literal; nothing else occurs in action.yml."""
        expr = expr.strip()
        if expr.startswith("'") and expr.endswith("'"):
            return expr[1:-1]
        node: Any = ctx
        for part in expr.split("."):
            assert re.fullmatch(r"[\w-]+", part), f"unsupported expression {expr!r}"
            node = node.get(part, "") if isinstance(node, dict) else ""
        return "" if node is None else str(node)

    def expand(self, text: str, ctx: dict[str, Any]) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1), ctx), text)

    def condition(self, text: str | None, ctx: dict[str, Any]) -> bool:
        if text is None:
            return True
        m = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", EXPRESSION.sub(lambda m: m.group(1), text).strip())
        assert m, f"unsupported if: {text!r}"
        left, right = self.value(m.group(1), ctx), self.value(m.group(3), ctx)
        return (left == right) == (m.group(2) == "==")

    def run(self, event_name: str, payload: dict[str, Any] | None) -> tuple[subprocess.CompletedProcess[str], list[str], float]:
        """The action's steps for one event; (the last step's result, names of the steps run, seconds)."""
        action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
        job = yaml.safe_load(self.workflow.read_text(encoding="utf-8"))["jobs"][self.job]
        [uses] = [step for step in job["steps"] if step.get("uses", "").startswith("OWNER/outage-bot@")]
        ctx: dict[str, Any] = {"github": {"token": self.fake.token}, "secrets": {}, "runner": {"os": "Linux"}, "steps": {}}
        inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
        inputs.update({name: self.expand(str(value), ctx) for name, value in uses.get("with", {}).items()})
        ctx["inputs"] = {name: self.expand(str(value), ctx) for name, value in inputs.items()}

        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        event_path = self.tmp / "event.json"
        event_path.write_text(json.dumps(payload or {}), encoding="utf-8")
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("GITHUB_", "GITLAB_", "SLACK_", "CI_", "PIP_", "OUTAGE_BOT_", "RUNNER_"))}
        base_env.update({
            "HOME": str(home), "CI": "true", "RUNNER_OS": "Linux", "RUNNER_TEMP": str(self.tmp),
            "GITHUB_ACTION_PATH": str(self.action_path), "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path), "GITHUB_RUN_ID": "4242",
            "GITHUB_STEP_SUMMARY": str(self.tmp / "step-summary.md"),
            **self.fake.env(), **offline_pip(), "NO_PROXY": "127.0.0.1,localhost",
        })
        del base_env["GITHUB_TOKEN"]  # the job's token reaches outage-bot only through the action's input

        ran: list[str] = []
        saves: list[tuple[str, Path]] = []
        done: subprocess.CompletedProcess[str] | None = None
        started = time.monotonic()
        for index, step in enumerate(action["runs"]["steps"]):
            sid = step.get("id", f"step{index}")
            if not self.condition(step.get("if"), ctx):
                continue
            ran.append(step.get("name", sid))
            outputs: dict[str, str] = {}
            if "uses" in step:
                outputs = self.uses(step, ctx, saves)
            else:
                assert step["shell"] == "bash"
                output_file = self.tmp / f"output-{index}"
                output_file.write_text("", encoding="utf-8")
                env = {**base_env, "GITHUB_OUTPUT": str(output_file),
                       **{k: self.expand(str(v), ctx) for k, v in step.get("env", {}).items()}}
                # what `shell: bash` runs: bash --noprofile --norc -eo pipefail {0}
                script = self.tmp / f"step-{index}.sh"
                script.write_text(step["run"], encoding="utf-8")
                done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=self.workspace,
                                      env=env, capture_output=True, text=True, timeout=300, check=False)
                self.log.append(done.stdout + done.stderr)
                assert done.returncode == 0, f"step {step.get('name')}: {done.stdout}{done.stderr}"
                outputs = dict(line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if line)
            ctx["steps"][sid] = {"outputs": outputs}
        for key, path in saves:  # actions/cache's post step: save what the job built, under its key
            if key not in self.cache:
                self.cache[key] = self.tmp / "github-cache" / key
                shutil.copytree(path, self.cache[key], symlinks=True)
        assert done is not None
        return done, ran, time.monotonic() - started

    def uses(self, step: dict[str, Any], ctx: dict[str, Any], saves: list[tuple[str, Path]]) -> dict[str, str]:
        name = step["uses"].split("@")[0]
        args = {k: self.expand(str(v), ctx) for k, v in step.get("with", {}).items()}
        if name == "actions/setup-python":
            # the Python the wheelhouse was made for, standing for the version asked
            base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
            return {"python-version": ".".join(map(str, sys.version_info[:3])), "python-path": str(base)}
        if name == "actions/cache":
            path = Path(args["path"].replace("~", str(self.tmp / "home"), 1))
            key = args["key"]
            if key in self.cache:
                shutil.rmtree(path, ignore_errors=True)
                shutil.copytree(self.cache[key], path, symlinks=True)
                return {"cache-hit": "true"}
            saves.append((key, path))
            return {"cache-hit": "false"}
        raise AssertionError(f"no stand-in for {step['uses']}")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    return snapshot(tmp_path_factory.mktemp("action") / "outage-bot")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(now=datetime.now(timezone.utc) - timedelta(minutes=5)) as server:
        yield server


@pytest.fixture
def runner(tmp_path: Path, source: Source, fake: FakeGitHub) -> Runner:
    workspace = tmp_path / "workspace"  # the user's repository, checked out: its policy at the root
    workspace.mkdir()
    shutil.copy(POLICY, workspace / ".outage-bot.yml")
    return Runner(tmp_path, source.path, workspace, fake)


def test_the_action_installs_once_then_handles_and_ticks_from_its_cache(runner: Runner, fake: FakeGitHub) -> None:
    issue = fake.add_issue("Checkout is down", "Every order fails.", author="reporter")
    fake.label(issue.number, "priority::highest", actor="reporter")
    payload = webhook(fake, "issues", "labeled", issue.number, sender="reporter", label="priority::highest")

    done, ran, cold = runner.run("issues", payload)
    assert "Install outage-bot" in ran  # cold: nothing cached
    assert "event: labeled on #1 by reporter" in done.stdout
    tag = fake.stored_comments(issue.number, containing="you are tagged")
    assert len(tag) == 1 and "@taylor-gh" in tag[0]["body"]
    assert fake.stored_issues()  # the outage issue
    assert len(runner.cache) == 1  # saved after the job

    requests = len(fake.requests)
    runner.workflow = TICK_WORKFLOW  # the tick's own workflow, its `command: tick`, the same virtualenv
    done, ran, warm = runner.run("schedule", None)
    assert "Install outage-bot" not in ran and "Cache outage-bot" in ran  # warm: restored, no pip
    assert "pip" not in runner.log[-1]
    assert len(fake.requests) > requests  # the tick read the repository's incidents
    assert len(fake.stored_comments(issue.number, containing="you are tagged")) == 1  # nothing twice
    print(f"\ncomposite action: handle (cold, installs) {cold:.1f} s, tick (warm) {warm:.1f} s")
    assert warm < cold


def test_the_command_input_overrides_the_event(runner: Runner, fake: FakeGitHub, tmp_path: Path) -> None:
    # `command: tick --dry-run` on an issue event: the tick's plan, nothing written
    workflow = tmp_path / "workflow.yml"
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    [step] = [s for s in data["jobs"]["outage-bot"]["steps"] if s.get("uses", "").startswith("OWNER/")]
    step["with"]["command"] = "tick --dry-run"
    workflow.write_text(yaml.safe_dump(data), encoding="utf-8")
    runner.workflow = workflow
    issue = fake.add_issue("Checkout is down", "", author="reporter")
    fake.label(issue.number, "priority::highest", actor="reporter")
    done, _, _ = runner.run("issues", webhook(fake, "issues", "labeled", issue.number, sender="reporter",
                                               label="priority::highest"))
    assert "dry run: nothing was written" in done.stdout
    assert fake.stored_comments(issue.number) == [] and fake.stored_issues() == []


def test_the_status_page_job_builds_the_site_pages_deploys(runner: Runner, fake: FakeGitHub) -> None:
    # The status-page job's outage-bot step, after an event run: the same action with
    # `command: status-page --out public` installs its own extras (github,status-page) and
    # leaves the site where the job's next step, actions/upload-pages-artifact, takes it.
    issue = fake.add_issue("Checkout is down", "Every order fails.", author="reporter")
    fake.label(issue.number, "priority::highest", actor="reporter")
    runner.run("issues", webhook(fake, "issues", "labeled", issue.number, sender="reporter", label="priority::highest"))
    runner.job = "status-page"
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["status-page"]
    [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    _, ran, seconds = runner.run("issues", webhook(fake, "issues", "labeled", issue.number, sender="reporter",
                                                       label="priority::highest"))
    assert "Install outage-bot" in ran and len(runner.cache) == 2  # a virtualenv of its own: other extras
    site = runner.workspace / upload["with"]["path"]
    assert "Checkout is down" in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "feed.atom").is_file() and (site / "api" / "v2" / "summary.json").is_file()
    print(f"\ncomposite action: status-page (installs its extras, builds) {seconds:.1f} s")


def test_the_report_workflow_writes_the_summary_and_the_charts(runner: Runner, fake: FakeGitHub, tmp_path: Path) -> None:
    runner.workflow, runner.job = ROOT / ".github" / "workflows" / "outage-bot-report.yml", "report"
    job = yaml.safe_load(runner.workflow.read_text(encoding="utf-8"))["jobs"]["report"]
    [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    done, _, seconds = runner.run("workflow_dispatch", None)
    assert "Incident report" in done.stdout and "Incident report" in (tmp_path / "step-summary.md").read_text(encoding="utf-8")
    charts = runner.workspace / upload["with"]["path"]
    assert sorted(p.name for p in charts.iterdir()) == ["report-mtt.svg", "report-severity.svg"]
    print(f"\ncomposite action: report (installs its extras) {seconds:.1f} s")
