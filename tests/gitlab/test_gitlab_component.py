"""The GitLab CI/CD component, templates/outage-bot.yml: `include: component:` of a mirror of this
repository, with inputs.

GitLab takes a project's components from its top-level templates/ folder, one component per
`templates/NAME.yml` (or `templates/NAME/template.yml`), a `spec:` header and the jobs after
`---`. Checked here: the two documents against GitLab CI's schema, the same jobs as the include
(ci/outage-bot.gitlab-ci.yml) with the inputs in place of its variables, and, with
gitlab-ci-local, the inputs interpolated and the tick job run against the fake GitLab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from chat_sink import ChatSink
from fake_gitlab import FakeGitLab
from test_gitlab_ci_files import check
from test_gitlab_ci_jobs import GCL, passed, run_job

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ci_sandbox import (  # tests/ is not a package
    ROOT,
    WHEELHOUSE_HINT,
    Source,
    commit_all,
    has_wheelhouse,
    snapshot,
)

COMPONENT = ROOT / "templates" / "outage-bot.yml"
INCLUDE = ROOT / "ci" / "outage-bot.gitlab-ci.yml"
POLICY = ROOT / "tests" / "fixtures" / "gitlab" / "policy.yml"
needs_gcl = pytest.mark.skipif(GCL is None, reason="gitlab-ci-local is not installed (.ci/run installs it into .ci/node)")


def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    header, jobs = yaml.safe_load_all(COMPONENT.read_text(encoding="utf-8"))
    return header, jobs


def test_templates_holds_only_components() -> None:
    # GitLab reads every templates/*.yml as a component; the message templates live in bot/templates/
    assert sorted(p.name for p in (ROOT / "templates").iterdir()) == ["outage-bot.yml"]


def test_both_documents_match_gitlab_ci_schema(tmp_path: Path) -> None:
    text = COMPONENT.read_text(encoding="utf-8")
    header, jobs = text.split("\n---\n")
    (tmp_path / "header.yml").write_text(header, encoding="utf-8")
    (tmp_path / "jobs.yml").write_text(jobs, encoding="utf-8")
    result = check(tmp_path / "header.yml", tmp_path / "jobs.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_inputs() -> None:
    header, _ = documents()
    inputs = header["spec"]["inputs"]
    assert set(inputs) == {"version", "repository", "extras", "python", "stage", "status_page"}
    assert inputs["status_page"] == {"description": inputs["status_page"]["description"], "type": "boolean", "default": False}
    assert "default" not in inputs["version"] and "default" not in inputs["repository"]  # required: GitLab asks
    assert inputs["extras"]["default"] == "gitlab,slack" and inputs["python"]["default"] == "3.12"


def test_the_same_jobs_as_the_include() -> None:
    _, jobs = documents()
    include = yaml.safe_load(INCLUDE.read_text(encoding="utf-8"))
    assert "variables" not in jobs  # a component sets nothing for the rest of the user's pipeline
    for name in ("outage-bot:handle", "outage-bot:tick"):
        assert jobs[name] == include[name], name
    # the opt-in jobs: the include's, with the inputs in place of its variables
    for name, cache in (("pages", "pages"), ("outage-bot:report", "report")):
        ours, theirs = dict(jobs[name]), dict(include[name])
        assert ours.pop("cache") == {"key": f"outage-bot-{cache}-$[[ inputs.version ]]-py$[[ inputs.python ]]",
                                     "paths": theirs.pop("cache")["paths"]}, name
        if name == "pages":  # the input, as the variable the rules read (a CI/CD variable still overrides it)
            assert ours.pop("variables") == {**theirs.pop("variables"), "OUTAGE_BOT_STATUS_PAGE": "$[[ inputs.status_page ]]"}
        assert ours == theirs, name
    base, theirs = jobs[".outage-bot"], include[".outage-bot"]
    for key in ("interruptible", "timeout", "before_script", "retry"):
        assert base[key] == theirs[key], key
    assert base["cache"]["paths"] == theirs["cache"]["paths"]
    assert base["cache"]["key"] == "outage-bot-$[[ inputs.version ]]-py$[[ inputs.python ]]"
    assert base["image"] == "python:$[[ inputs.python ]]-slim" and base["stage"] == "$[[ inputs.stage ]]"
    assert base["variables"] == {
        "OUTAGE_BOT_REPOSITORY": "$[[ inputs.repository ]]", "OUTAGE_BOT_VERSION": "$[[ inputs.version ]]",
        "OUTAGE_BOT_EXTRAS": "$[[ inputs.extras ]]", "OUTAGE_BOT_PYTHON": "$[[ inputs.python ]]",
        **theirs["variables"],
    }


def project_with_component(tmp_path: Path, inputs: dict[str, Any]) -> Path:
    """A project including the component. GitLab fetches `component:` from the instance;
    gitlab-ci-local is given the same file as `include: local:` with the same inputs."""
    path = tmp_path / "project"
    (path / "templates").mkdir(parents=True)
    shutil.copy(COMPONENT, path / "templates" / "outage-bot.yml")
    shutil.copy(POLICY, path / ".outage-bot.yml")
    ci = {"include": [{"local": "templates/outage-bot.yml", "inputs": inputs}]}
    (path / ".gitlab-ci.yml").write_text(yaml.safe_dump(ci), encoding="utf-8")
    (path / ".gitignore").write_text(".gitlab-ci-local/\n", encoding="utf-8")
    commit_all(path)
    return path


def preview(project: Path) -> subprocess.CompletedProcess[str]:
    assert GCL is not None
    return subprocess.run([GCL, "--preview"], cwd=project, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "HOME": str(project.parent / "home")})


@needs_gcl
def test_inputs_are_interpolated(tmp_path: Path) -> None:
    project = project_with_component(tmp_path, {"version": "0123abc", "repository": "https://gitlab.example/tools/outage-bot.git",
                                                "stage": "deploy"})
    done = preview(project)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = yaml.safe_load(done.stdout[done.stdout.index("---"):])
    tick = jobs["outage-bot:tick"]
    assert tick["stage"] == "deploy" and tick["image"] == {"name": "python:3.12-slim"}
    assert tick["variables"]["OUTAGE_BOT_VERSION"] == "0123abc"
    assert tick["variables"]["OUTAGE_BOT_REPOSITORY"] == "https://gitlab.example/tools/outage-bot.git"
    assert [c["key"] for c in tick["cache"]] == ["outage-bot-0123abc-py3.12"]
    assert "resource_group" not in jobs["outage-bot:handle"] and tick["resource_group"] == "outage-bot-tick"
    assert "$[[" not in json.dumps(jobs)


def listed(project: Path, *variables: str) -> set[str]:
    """The jobs a schedule pipeline of `project` runs, as gitlab-ci-local plans them."""
    assert GCL is not None
    args = [GCL, "--list-json", "--ignore-predefined-vars", "CI_PIPELINE_SOURCE", "--variable", "CI_PIPELINE_SOURCE=schedule"]
    for variable in variables:
        args += ["--variable", variable]
    done = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=120, check=True,
                          env={**os.environ, "HOME": str(project.parent / "home")})
    return {job["name"] for job in json.loads(done.stdout) if job["when"] != "never"}


@needs_gcl
@pytest.mark.parametrize(("status_page", "variables", "active"), [
    (None, (), {"outage-bot:tick"}),  # off by default
    (True, (), {"outage-bot:tick", "pages"}),
    (False, ("OUTAGE_BOT_STATUS_PAGE=true",), {"outage-bot:tick", "pages"}),  # a CI/CD variable overrides the input
    (True, ("OUTAGE_BOT_REPORT=true",), {"outage-bot:report"}),  # the report's schedule runs only the report
])
def test_the_status_page_input(tmp_path: Path, status_page: bool | None, variables: tuple[str, ...],
                               active: set[str]) -> None:
    inputs: dict[str, Any] = {"version": "0123abc", "repository": "https://gitlab.example/tools/outage-bot.git"}
    if status_page is not None:
        inputs["status_page"] = status_page
    assert listed(project_with_component(tmp_path, inputs), *variables) == active


@needs_gcl
def test_version_and_repository_are_required(tmp_path: Path) -> None:
    done = preview(project_with_component(tmp_path, {"version": "0123abc"}))
    assert done.returncode != 0 and "repository" in done.stdout + done.stderr


@pytest.mark.slow
@needs_gcl
@pytest.mark.skipif(shutil.which("rsync") is None, reason="gitlab-ci-local's --shell-isolation needs rsync (.ci/run installs it)")
@pytest.mark.skipif(not has_wheelhouse(), reason=WHEELHOUSE_HINT)
def test_the_component_s_tick_job_runs(tmp_path: Path) -> None:
    source: Source = snapshot(tmp_path / "src")
    project = project_with_component(tmp_path, {"version": source.commit, "repository": source.url})
    with FakeGitLab() as fake, ChatSink() as sink:
        fake.open_issue("Checkout returns 500", by="alice", labels=["priority::highest"])
        # the inputs say what to install: no OUTAGE_BOT_* CI/CD variable is given
        done, _ = run_job("outage-bot:tick", project, source, fake, sink, "schedule",
                          OUTAGE_BOT_REPOSITORY=None, OUTAGE_BOT_VERSION=None)
        assert passed(done, "outage-bot:tick"), done.stdout + done.stderr
        assert f"outage-bot: installing {source.commit}" in done.stdout
        assert any("Critical incident declared" in body for body in fake.note_bodies(1))
