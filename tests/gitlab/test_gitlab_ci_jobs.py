"""The shipped GitLab jobs, run: gitlab-ci-local runs `outage-bot:tick` and `outage-bot:handle`
from the repository's .gitlab-ci.yml (the copy users paste, which holds the include's jobs) with
the shell executor, against the fake GitLab and a Slack webhook sink on 127.0.0.1.

The project the jobs run in is a fresh git repository holding that .gitlab-ci.yml and a policy
(.outage-bot.yml). The jobs install outage-bot as written, with their own `pip install` from a
git URL: OUTAGE_BOT_REPOSITORY points at a snapshot of this working tree (`git+file://`), and pip
reads a local wheelhouse instead of an index (tests/ci_sandbox.py). `--shell-isolation` runs each
job in a build directory of its own and carries `cache:` between them as GitLab's runner would:
the first job installs (cold), the next finds the cached virtualenv and runs no pip (warm).

Slow (two jobs, one install): .ci/run installs gitlab-ci-local (.ci/node) and makes the wheels.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_sink import ChatSink
from fake_gitlab import TOKEN, FakeGitLab
from payloads import as_trigger_payload, issue_hook, write

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ci_sandbox import (  # tests/ is not a package: on the path above
    ROOT,
    WHEELHOUSE_HINT,
    Source,
    commit_all,
    git,
    has_wheelhouse,
    offline_pip,
    python_dir,
    snapshot,
)

POLICY = ROOT / "tests" / "fixtures" / "gitlab" / "policy.yml"


def gitlab_ci_local() -> str | None:
    local = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"
    return str(local) if local.exists() else shutil.which("gitlab-ci-local")


GCL = gitlab_ci_local()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(GCL is None, reason="gitlab-ci-local is not installed (.ci/run installs it into .ci/node)"),
    pytest.mark.skipif(shutil.which("rsync") is None, reason="gitlab-ci-local's --shell-isolation needs rsync (.ci/run installs it)"),
    pytest.mark.skipif(not has_wheelhouse(), reason=WHEELHOUSE_HINT),
]

# What GitLab sets and gitlab-ci-local sets otherwise: it says GITLAB_CI=false (so a job can
# tell it runs locally), derives the project from the git remote, and gives a job with an
# `image:` run by the shell executor a CI_PROJECT_DIR under /builds that is not where it runs.
PREDEFINED = ("GITLAB_CI", "CI_PIPELINE_SOURCE", "CI_API_V4_URL", "CI_PROJECT_ID", "CI_PROJECT_PATH", "CI_SERVER_URL",
              "CI_PROJECT_DIR")


def build_dir(project: Path, job: str) -> Path:
    """Where --shell-isolation runs `job`: .gitlab-ci-local/builds/ and the job's name with each
    run of other characters than [A-Za-z0-9_-] base64url-encoded (its safeDockerString)."""
    safe = re.sub(r"[^\w-]+", lambda m: base64.urlsafe_b64encode(m.group().encode()).decode().rstrip("="), job)
    return project / ".gitlab-ci-local" / "builds" / safe


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    return snapshot(tmp_path_factory.mktemp("outage-bot") / "src")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's project: the shipped .gitlab-ci.yml and a policy, committed on main (gitlab-ci-local
    copies only tracked files into a job's build directory)."""
    path = tmp_path / "project"
    path.mkdir()
    shutil.copy(ROOT / ".gitlab-ci.yml", path / ".gitlab-ci.yml")
    shutil.copy(POLICY, path / ".outage-bot.yml")
    (path / ".gitignore").write_text(".gitlab-ci-local/\n", encoding="utf-8")
    commit_all(path)
    return path


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        yield server


@pytest.fixture
def sink() -> Iterator[ChatSink]:
    with ChatSink() as server:
        yield server


def run_job(job: str, project: Path, source: Source, fake: FakeGitLab, sink: ChatSink, pipeline_source: str,
            **variables: str | None) -> tuple[subprocess.CompletedProcess[str], float]:
    """`gitlab-ci-local JOB` in `project`, as a pipeline of `pipeline_source`; (result, seconds).
    `variables` add to or replace the CI/CD variables given; None leaves one out."""
    assert GCL is not None
    values = {
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(build_dir(project, job)),
        "CI_PIPELINE_SOURCE": pipeline_source,
        "CI_API_V4_URL": fake.api_url,
        "CI_SERVER_URL": fake.url,
        "CI_PROJECT_ID": str(fake.project_id),
        "CI_PROJECT_PATH": fake.project_path,
        # what the user sets: the token (a masked CI/CD variable), Slack, and where outage-bot comes from
        "GITLAB_TOKEN": TOKEN,
        "SLACK_WEBHOOK_URL": f"{sink.url}/alerts",
        "OUTAGE_BOT_REPOSITORY": source.url,
        "OUTAGE_BOT_VERSION": source.commit,
        **offline_pip(),
        "NO_PROXY": "127.0.0.1,localhost",
        **variables,
    }
    args = [GCL, "--force-shell-executor", "--shell-isolation", "--no-color",
            "--ignore-predefined-vars", ",".join(PREDEFINED)]
    for name, value in values.items():
        if value is not None:
            args += ["--variable", f"{name}={value}"]
    # The job's shell starts from this environment: no credential of the developer's, the
    # wheelhouse's Python first on PATH, and nothing that points pip anywhere else.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITLAB_", "GITHUB_", "SLACK_", "CI_", "PIP_", "OUTAGE_BOT_", "TRIGGER_"))}
    env["PATH"] = f"{python_dir()}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(project.parent / "home")  # gitlab-ci-local's own ~/.gitlab-ci-local stays in the sandbox
    started = time.monotonic()
    done = subprocess.run([*args, job], cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    return done, time.monotonic() - started


def passed(done: subprocess.CompletedProcess[str], job: str) -> bool:
    return done.returncode == 0 and re.search(rf"PASS\s+{re.escape(job)}", done.stdout) is not None


def test_the_shipped_jobs_run_tick_cold_then_handle_warm(project: Path, source: Source, fake: FakeGitLab,
                                                         sink: ChatSink, tmp_path: Path) -> None:
    # An issue labeled while no webhook was set up: the scheduled tick declares it.
    fake.open_issue("Checkout returns 500", by="alice", labels=["priority::highest"])
    tick, cold = run_job("outage-bot:tick", project, source, fake, sink, "schedule")
    assert passed(tick, "outage-bot:tick"), tick.stdout + tick.stderr
    assert "outage-bot: installing" in tick.stdout  # cold: nothing cached yet
    assert any("Critical incident declared" in body for body in fake.note_bodies(1))
    assert any(path == "/alerts" for path, _ in sink.posts)

    # A webhook delivery: issue 2 labeled, as the trigger pipeline's TRIGGER_PAYLOAD file holds it.
    issue = fake.open_issue("Search is slow", by="alice")
    before, _ = fake.label(issue["iid"], "priority::higher", by="alice")
    payload = write(tmp_path, as_trigger_payload(issue_hook(fake, issue["iid"], "update", by="alice", previous_labels=before),
                                                 project_id=fake.project_id), "trigger-payload.json")
    handle, warm = run_job("outage-bot:handle", project, source, fake, sink, "trigger", TRIGGER_PAYLOAD=payload)
    assert passed(handle, "outage-bot:handle"), handle.stdout + handle.stderr
    assert "outage-bot: installing" not in handle.stdout and "pip" not in handle.stdout  # warm: the cached virtualenv
    assert f"on #{issue['iid']}" in handle.stdout
    bodies = fake.note_bodies(issue["iid"])
    assert bodies and fake.calls("POST", rf"/projects/{fake.project_id}/issues/{issue['iid']}/notes")
    print(f"\ngitlab-ci-local: tick (cold, installs) {cold:.1f} s, handle (warm) {warm:.1f} s")
    assert warm < cold


STATUS_PAGE, REPORT = "OUTAGE_BOT_STATUS_PAGE=true", "OUTAGE_BOT_REPORT=true"


@pytest.mark.parametrize(("pipeline_source", "branch", "variables", "active"), [
    ("trigger", "main", (), {"outage-bot:handle"}),
    ("schedule", "main", (), {"outage-bot:tick"}),
    ("web", "main", (), {"outage-bot:tick"}),
    ("api", "main", (), {"outage-bot:tick"}),
    ("push", "main", (), set()),
    ("merge_request_event", "main", (), set()),
    ("schedule", "feature", (), set()),  # only the default branch: GITLAB_TOKEN is a protected variable
    # the status page, once OUTAGE_BOT_STATUS_PAGE is "true": after handle or tick
    ("trigger", "main", (STATUS_PAGE,), {"outage-bot:handle", "pages"}),
    ("schedule", "main", (STATUS_PAGE,), {"outage-bot:tick", "pages"}),
    ("web", "main", (STATUS_PAGE,), {"outage-bot:tick", "pages"}),
    ("push", "main", (STATUS_PAGE,), set()),
    ("schedule", "feature", (STATUS_PAGE,), set()),
    ("trigger", "main", ("OUTAGE_BOT_STATUS_PAGE=yes",), {"outage-bot:handle"}),  # "true" only
    # the weekly report's schedule: the report alone, no tick and no page
    ("schedule", "main", (REPORT,), {"outage-bot:report"}),
    ("schedule", "main", (REPORT, STATUS_PAGE), {"outage-bot:report"}),
    ("web", "main", (REPORT,), set()),
    ("schedule", "feature", (REPORT,), set()),
])
def test_which_job_a_pipeline_runs(project: Path, pipeline_source: str, branch: str, variables: tuple[str, ...],
                                   active: set[str]) -> None:
    # gitlab-ci-local runs a job named on its command line whatever its rules say: the rules
    # are read from its pipeline listing instead.
    assert GCL is not None
    if branch != "main":
        git("checkout", "-q", "-b", branch, cwd=project)
    args = [GCL, "--list-json", "--ignore-predefined-vars", "CI_PIPELINE_SOURCE", "--variable",
            f"CI_PIPELINE_SOURCE={pipeline_source}"]
    for variable in variables:
        args += ["--variable", variable]
    done = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=120, check=True,
                          env={**os.environ, "HOME": str(project.parent / "home")})
    jobs = json.loads(done.stdout)
    assert {job["name"] for job in jobs} == {"outage-bot:handle", "outage-bot:tick", "pages", "outage-bot:report"}
    assert {job["name"] for job in jobs if job["when"] != "never"} == active


def test_the_pages_job_builds_the_site(project: Path, source: Source, fake: FakeGitLab, sink: ChatSink) -> None:
    # After the tick has declared an incident, the `pages` job installs outage-bot with the
    # status page's extra (a virtualenv of its own) and leaves the site in public/, the artifact
    # GitLab Pages publishes.
    fake.open_issue("Checkout returns 500", by="alice", labels=["priority::highest"])
    tick, _ = run_job("outage-bot:tick", project, source, fake, sink, "schedule", OUTAGE_BOT_STATUS_PAGE="true")
    assert passed(tick, "outage-bot:tick"), tick.stdout + tick.stderr
    pages, seconds = run_job("pages", project, source, fake, sink, "schedule", OUTAGE_BOT_STATUS_PAGE="true")
    assert passed(pages, "pages"), pages.stdout + pages.stderr
    assert "outage-bot: installing" in pages.stdout and "gitlab,status-page" in pages.stdout  # not the tick's venv
    site = build_dir(project, "pages") / "public"
    assert "Checkout returns 500" in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "feed.atom").is_file() and (site / "api" / "v2" / "summary.json").is_file()
    print(f"\ngitlab-ci-local: pages (installs its extras, builds) {seconds:.1f} s")


def test_the_report_job_writes_its_artifacts(project: Path, source: Source, fake: FakeGitLab, sink: ChatSink) -> None:
    done, seconds = run_job("outage-bot:report", project, source, fake, sink, "schedule", OUTAGE_BOT_REPORT="true")
    assert passed(done, "outage-bot:report"), done.stdout + done.stderr
    where = build_dir(project, "outage-bot:report")
    assert "Incident report" in (where / "outage-bot-report.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in (where / "outage-bot-report").iterdir()) == ["report-mtt.svg", "report-severity.svg"]
    print(f"\ngitlab-ci-local: report (installs its extras) {seconds:.1f} s")


def test_the_job_refuses_the_placeholders(project: Path, source: Source, fake: FakeGitLab, sink: ChatSink) -> None:
    done, _ = run_job("outage-bot:tick", project, source, fake, sink, "schedule",
                      OUTAGE_BOT_REPOSITORY="https://github.com/OWNER/outage-bot.git", OUTAGE_BOT_VERSION="COMMIT_SHA")
    assert done.returncode != 0
    assert "set OUTAGE_BOT_REPOSITORY and OUTAGE_BOT_VERSION" in done.stdout + done.stderr
    assert fake.calls() == []
