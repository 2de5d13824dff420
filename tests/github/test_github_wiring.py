"""The files users copy: the workflows, the composite action and the issue form.

Validated against their published JSON schemas with check-jsonschema's vendored copies (no
network), then checked for what the schema cannot know: the triggers, the least privilege,
the concurrency that never cancels an event run, the headings the core parses. (What a security
linter says about them: tests/test_wiring_security.py.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.forms import parse_form
from bot.policy import Policy
from bot.resources import default_policy_path

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "outage-bot.yml"
TICK_WORKFLOW = ROOT / ".github" / "workflows" / "outage-bot-tick.yml"
REPORT_WORKFLOW = ROOT / ".github" / "workflows" / "outage-bot-report.yml"
ACTION = ROOT / "action.yml"
FORM = ROOT / ".github" / "ISSUE_TEMPLATE" / "outage.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (WORKFLOW, "vendor.github-workflows"),
        (TICK_WORKFLOW, "vendor.github-workflows"),
        (REPORT_WORKFLOW, "vendor.github-workflows"),
        (ACTION, "vendor.github-actions"),
        (FORM, "vendor.github-issue-forms"),
        (DEPENDABOT, "vendor.dependabot"),
    ],
)
def test_valid_against_the_published_schema(path: Path, schema: str) -> None:
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_would_catch_a_mistake(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "run-on:"), encoding="utf-8")
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(broken)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0


def triggers(path: Path) -> dict[str, Any]:
    workflow = load(path)
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def test_workflow_triggers() -> None:
    # Events in one file, the schedule in another: GitHub disables a workflow whose schedule
    # went 60 days without repository activity, the whole workflow, every trigger of it. Apart,
    # a disabled schedule stops the ticks only; events are still handled.
    on = triggers(WORKFLOW)
    assert set(on) == {"issues", "issue_comment", "repository_dispatch"}
    assert on["issues"]["types"] == ["labeled", "unlabeled", "opened", "closed", "reopened", "assigned"]
    assert on["issue_comment"]["types"] == ["created"]
    assert on["repository_dispatch"]["types"] == ["outage-bot-alert"]
    assert triggers(TICK_WORKFLOW) == {"schedule": [{"cron": "*/10 * * * *"}], "workflow_dispatch": None}
    header = TICK_WORKFLOW.read_text(encoding="utf-8").split("\nname:")[0]
    assert "60" in header and "disables the whole workflow" in header  # why it is a file of its own


def test_workflow_least_privilege() -> None:
    workflow = load(WORKFLOW)
    assert workflow["permissions"] == {}  # nothing by default
    assert list(workflow["jobs"]) == ["outage-bot", "status-page"]
    assert workflow["jobs"]["outage-bot"]["permissions"] == {"issues": "write", "contents": "read"}
    # Pages' permissions only on the job that deploys, which runs only when the user opts in
    assert workflow["jobs"]["status-page"]["permissions"] == {
        "issues": "read", "contents": "read", "pages": "write", "id-token": "write"}
    tick = load(TICK_WORKFLOW)
    assert tick["permissions"] == {}
    assert list(tick["jobs"]) == ["outage-bot", "status-page"]
    assert tick["jobs"]["outage-bot"]["permissions"] == {"issues": "write", "contents": "read"}
    report = load(REPORT_WORKFLOW)
    assert report["permissions"] == {}
    [job] = report["jobs"].values()
    assert job["permissions"] == {"issues": "read", "contents": "read"}


def test_workflow_concurrency_queues_ticks_only() -> None:
    # Event runs get a group of their own (the run id): GitHub keeps one pending run per group
    # and cancels the older pending one, which would lose its event; outage-bot's own lock
    # serialises runs of one incident. Ticks share one group: a replaced pending tick loses
    # nothing. A running run is never cancelled.
    concurrency = load(WORKFLOW)["concurrency"]
    assert concurrency == {"group": "outage-bot-${{ github.run_id }}", "cancel-in-progress": False}
    comment = WORKFLOW.read_text(encoding="utf-8").split("concurrency:")[0].rsplit("\n\n", 1)[1]
    assert "outage-bot:lock" in comment and "never queued or cancelled" in comment
    assert load(TICK_WORKFLOW)["concurrency"] == {"group": "outage-bot-tick", "cancel-in-progress": False}


def test_workflow_runs_the_composite_action_pinned_to_a_commit() -> None:
    # The action picks `handle` for issue and comment events (test_action_inputs_and_command);
    # the tick's workflow says `tick`. The samples pin it to a commit with a placeholder the
    # README explains and `outage-bot init` fills in.
    job = load(WORKFLOW)["jobs"]["outage-bot"]
    [checkout, action] = job["steps"]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"] == {"persist-credentials": False}
    assert action["uses"] == "OWNER/outage-bot@" + "0" * 40
    assert action["with"] == {"slack-bot-token": "${{ secrets.SLACK_BOT_TOKEN }}"}  # github-token: the job's own
    assert not any("pip install" in step.get("run", "") for step in job["steps"])  # no package index, ever
    tick = load(TICK_WORKFLOW)["jobs"]["outage-bot"]
    assert "if" not in tick  # no pull request comment reaches a schedule
    assert tick["timeout-minutes"] == job["timeout-minutes"]
    [tick_checkout, tick_action] = tick["steps"]
    assert tick_checkout == checkout and tick_action["uses"] == action["uses"]  # one line for init and Dependabot
    assert tick_action["with"] == {"command": "tick", "slack-bot-token": "${{ secrets.SLACK_BOT_TOKEN }}"}


# The status page's job (issue 14): OFF unless the repository variable says `true`; after the
# main job (events and ticks alike, since outage-bot does not say whether a run changed an
# incident); the site built by the same composite action, uploaded and deployed with GitHub's
# Pages actions.
OFF_UNLESS_STATUS_PAGE = "vars.OUTAGE_BOT_STATUS_PAGE == 'true'"


def test_the_status_page_job_is_off_by_default_and_follows_every_run() -> None:
    workflow = load(WORKFLOW)
    main, job = workflow["jobs"]["outage-bot"], workflow["jobs"]["status-page"]
    assert job["if"] == OFF_UNLESS_STATUS_PAGE  # an unset variable is "": skipped, nothing published
    assert job["needs"] == "outage-bot"  # after the run, and skipped with it (comments on pull requests)
    assert "status-page" not in triggers(WORKFLOW)  # no trigger of its own
    assert job["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert job["concurrency"] == {"group": "outage-bot-status-page", "cancel-in-progress": False}
    assert job["timeout-minutes"] == main["timeout-minutes"]
    checkout, build, upload, deploy = job["steps"]
    assert checkout == main["steps"][0]
    assert build["uses"] == main["steps"][1]["uses"]  # the same outage-bot, one line for init and Dependabot
    assert build["with"] == {"command": "status-page --out public", "extras": "github,status-page"}
    assert upload["uses"].startswith("actions/upload-pages-artifact@") and upload["with"] == {"path": "public/"}
    assert deploy["uses"].startswith("actions/deploy-pages@") and deploy["id"] == "deployment"
    assert "with" not in deploy  # the artifact upload-pages-artifact names, the job's token


def test_the_tick_workflow_builds_the_status_page_after_every_tick_too() -> None:
    # The same job in both files (the one above): the site follows events and ticks alike, and
    # still follows events when GitHub has disabled the schedule. They share one concurrency
    # group, which is the repository's, so the two files never deploy at once.
    assert load(TICK_WORKFLOW)["jobs"]["status-page"] == load(WORKFLOW)["jobs"]["status-page"]


def test_the_report_workflow_is_off_by_default() -> None:
    workflow = load(REPORT_WORKFLOW)
    assert triggers(REPORT_WORKFLOW) == {"schedule": [{"cron": "0 13 * * 1"}], "workflow_dispatch": None}  # weekly, or by hand
    [job] = workflow["jobs"].values()
    assert job["if"] == "github.event_name == 'workflow_dispatch' || vars.OUTAGE_BOT_REPORT == 'true'"
    checkout, action, upload = job["steps"]
    main = load(WORKFLOW)["jobs"]["outage-bot"]
    assert checkout == main["steps"][0] and action["uses"] == main["steps"][1]["uses"]
    assert action["with"] == {"command": "report --since 12w --out outage-bot-report", "extras": "github,report"}
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == "outage-bot-report/" and upload["with"]["if-no-files-found"] == "error"


def readme_section(heading: str) -> str:
    """A README section's prose, from its heading to the next heading, code blocks left out."""
    prose = re.sub(r"^```.*?^```", "", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)
    return prose.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]


def test_the_readme_points_at_the_shipped_files() -> None:
    reports = readme_section("### Reports")
    assert ".github/workflows/outage-bot-report.yml" in reports and "ci/outage-bot.gitlab-ci.yml" in reports
    assert "actions/upload-artifact@COMMIT_SHA" not in (ROOT / "README.md").read_text(encoding="utf-8")  # no unpinned copy
    status = readme_section("### Status page")
    assert "OUTAGE_BOT_STATUS_PAGE" in status and "--status-page" in status


def test_action_inputs_and_command() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"github-token", "slack-bot-token", "slack-webhook-url", "config", "command", "extras"}
    assert action["inputs"]["extras"]["default"] == "github,slack"
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    run = action["runs"]["steps"][-1]
    assert run["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert run["env"]["SLACK_BOT_TOKEN"] == "${{ inputs.slack-bot-token }}"
    assert run["env"]["OUTAGE_BOT_CONFIG"] == "${{ inputs.config }}"
    assert "schedule|workflow_dispatch) OUTAGE_BOT_COMMAND=tick" in run["run"]


def test_action_installs_what_pyproject_packages() -> None:
    # the cache key hashes the folders the package is built from: bot/ (with its message
    # templates, bot/templates/) and the presets at the top, workflows/
    action = ACTION.read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    [key_line] = [line for line in action.splitlines() if "source_hash=" in line]
    for folder in ("bot", "workflows"):
        assert re.search(rf"\b{folder}\b", key_line) and f'"{folder}"' in pyproject


FORM_HEADINGS = ["What is broken", "Who is affected", "Since when", "Workaround", "Upstream status", "Severity"]


def test_issue_form_fields() -> None:
    form = load(FORM)
    assert form["name"] == "Report an outage"
    assert form["labels"] == ["outage"]
    fields = [item for item in form["body"] if item["type"] != "markdown"]
    assert [f["attributes"]["label"] for f in fields] == FORM_HEADINGS
    assert fields[0]["validations"]["required"] is True


def test_severity_options_are_the_default_policy_s_labels() -> None:
    form = load(FORM)
    [dropdown] = [item for item in form["body"] if item["type"] == "dropdown"]
    policy = Policy.model_validate(yaml.safe_load(default_policy_path().read_text(encoding="utf-8")))
    first_labels = [severity.labels[0] for severity in policy.severities.values()]
    assert dropdown["attributes"]["options"] == first_labels == ["priority::highest", "priority::higher", "priority::high"]
    assert dropdown["validations"]["required"] is True


def test_the_core_reads_the_body_github_renders_from_the_form() -> None:
    # GitHub renders each field as "### <label>" then the answer; an empty optional field
    # shows "_No response_".
    answers = {
        "What is broken": "Checkout returns 502",
        "Who is affected": "_No response_",
        "Since when": "2026-11-05 14:20 UTC",
        "Workaround": "_No response_",
        "Upstream status": "https://www.githubstatus.com/incidents/x",
        "Severity": "priority::highest",
    }
    body = "\n\n".join(f"### {heading}\n\n{answer}" for heading, answer in answers.items())
    fields = parse_form(body)
    assert fields["broken"] == "Checkout returns 502"
    assert fields["affected"] == ""
    assert fields["since"] == "2026-11-05 14:20 UTC"
    assert fields["upstream"] == "https://www.githubstatus.com/incidents/x"
    assert fields["severity"] == "priority::highest"
