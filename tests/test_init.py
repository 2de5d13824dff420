"""`outage-bot init` in a fresh git repository: what it writes passes `outage-bot validate` and
the forges' published schemas; it never overwrites without --force; it names what is left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

import bot.init
from bot.cli import cli
from bot.init import Origin, parse_remote

ROOT = Path(__file__).resolve().parents[1]
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
GITHUB_FILES = [".outage-bot.yml", ".github/workflows/outage-bot.yml", ".github/workflows/outage-bot-tick.yml",
                ".github/ISSUE_TEMPLATE/outage.yml"]
GITLAB_FILES = [".outage-bot.yml", ".gitlab/ci/outage-bot.gitlab-ci.yml", ".gitlab/issue_templates/Outage.md", ".gitlab-ci.yml"]


@pytest.fixture(autouse=True)
def _origin_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the installed outage-bot knows of its own source depends on how it was installed:
    # unknown here unless a test says otherwise.
    monkeypatch.setattr(bot.init, "installed_origin", lambda: None)


def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remote: str | None) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    if remote:
        subprocess.run(["git", "remote", "add", "origin", remote], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def init(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["init", *args], input=input)


def schema_check(schema: str, *paths: Path) -> None:
    done = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def validate() -> Result:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert ".outage-bot.yml: valid" in result.output
    return result


def test_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo(tmp_path, monkeypatch, "https://github.com/acme/shop.git")
    result = init("--people", "a,b", "--yes")
    assert result.exit_code == 0, result.output
    assert [line.removeprefix("wrote ") for line in result.output.splitlines() if line.startswith("wrote ")] == GITHUB_FILES
    validate()
    schema_check("vendor.github-workflows", path / ".github/workflows/outage-bot.yml", path / ".github/workflows/outage-bot-tick.yml")
    schema_check("vendor.github-issue-forms", path / ".github/ISSUE_TEMPLATE/outage.yml")
    policy = yaml.safe_load((path / ".outage-bot.yml").read_text(encoding="utf-8"))
    assert policy["people"] == {"a": {"name": "a", "github": "a"}, "b": {"name": "b", "github": "b"}}
    assert policy["oncall"]["rotation"]["members"] == ["a", "b"]
    # the steps left, with the repository's own settings pages
    assert "https://github.com/acme/shop/settings/secrets/actions" in result.output
    assert "SLACK_BOT_TOKEN" in result.output and "OWNER/outage-bot@000...0" in result.output
    text = " ".join(result.output.split())
    assert "In .github/workflows/outage-bot.yml and .github/workflows/outage-bot-tick.yml, replace" in text
    # the schedule is in a file of its own (GitHub disables a whole workflow whose schedule it disables)
    assert "https://github.com/acme/shop/actions/workflows/outage-bot-tick.yml > Run workflow" in text
    assert "events are still handled" in text


def test_gitlab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo(tmp_path, monkeypatch, "git@gitlab.example.com:acme/shop.git")
    result = init("--people", "a,b", "--yes")
    assert result.exit_code == 0, result.output
    assert [line.removeprefix("wrote ") for line in result.output.splitlines() if line.startswith("wrote ")] == GITLAB_FILES
    validate()
    schema_check("vendor.gitlab-ci", path / ".gitlab-ci.yml", path / ".gitlab/ci/outage-bot.gitlab-ci.yml")
    assert yaml.safe_load((path / ".gitlab-ci.yml").read_text(encoding="utf-8")) == {
        "include": [{"local": ".gitlab/ci/outage-bot.gitlab-ci.yml"}]}
    policy = yaml.safe_load((path / ".outage-bot.yml").read_text(encoding="utf-8"))
    assert policy["people"]["a"] == {"name": "a", "gitlab": "a"}
    for page in ("/-/settings/access_tokens", "/-/settings/ci_cd", "/-/hooks", "/-/pipeline_schedules"):
        assert f"https://gitlab.example.com/acme/shop{page}" in result.output
    assert "GITLAB_TOKEN" in result.output and "OUTAGE_BOT_VERSION" in result.output


def test_the_description_template_reads_as_the_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.forms import parse_form

    path = repo(tmp_path, monkeypatch, "https://gitlab.com/acme/shop.git")
    assert init("--people", "a", "--yes").exit_code == 0
    template = (path / ".gitlab/issue_templates/Outage.md").read_text(encoding="utf-8")
    form = yaml.safe_load((ROOT / ".github/ISSUE_TEMPLATE/outage.yml").read_text(encoding="utf-8"))
    headings = [item["attributes"]["label"] for item in form["body"] if item["type"] != "markdown"]
    assert [line[4:] for line in template.splitlines() if line.startswith("### ")] == headings
    # as GitLab stores it once the /label quick action has run: the least severity, to be raised
    filed = template.replace("/label ~outage\n", "").replace("### What is broken\n", "### What is broken\nCheckout fails\n")
    fields = parse_form(filed)
    assert fields["broken"] == "Checkout fails" and fields["severity"] == "priority::high" and fields["affected"] == ""


def test_an_existing_pipeline_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo(tmp_path, monkeypatch, "https://gitlab.com/acme/shop.git")
    (path / ".gitlab-ci.yml").write_text("build:\n  script: [make]\n", encoding="utf-8")
    result = init("--people", "a", "--yes", "--force")
    assert result.exit_code == 0, result.output
    assert (path / ".gitlab-ci.yml").read_text(encoding="utf-8") == "build:\n  script: [make]\n"
    assert "include: [{local: .gitlab/ci/outage-bot.gitlab-ci.yml}]" in result.output


@pytest.mark.parametrize("remote", ["https://github.com/acme/shop.git", "https://gitlab.com/acme/shop.git"])
def test_never_overwrites_without_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remote: str) -> None:
    path = repo(tmp_path, monkeypatch, remote)
    assert init("--people", "a,b", "--yes").exit_code == 0
    (path / ".outage-bot.yml").write_text("# mine\n", encoding="utf-8")  # a one-person team below: no rotation
    again = init("--people", "c", "--yes")
    assert again.exit_code == 1
    assert ".outage-bot.yml" in again.output and "--force" in again.output and "nothing was written" in again.output
    assert (path / ".outage-bot.yml").read_text(encoding="utf-8") == "# mine\n"
    forced = init("--people", "c", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert "c:" in (path / ".outage-bot.yml").read_text(encoding="utf-8")
    validate()


def test_people_are_asked_for_without_people_or_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo(tmp_path, monkeypatch, "https://github.com/acme/shop.git")
    result = init(input="alice, @bob\n")
    assert result.exit_code == 0, result.output
    assert "GitHub logins" in result.output
    assert list(yaml.safe_load((path / ".outage-bot.yml").read_text(encoding="utf-8"))["people"]) == ["alice", "bob"]


def test_yes_without_people_keeps_the_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo(tmp_path, monkeypatch, "https://github.com/acme/shop.git")
    result = init("--yes")
    assert result.exit_code == 0, result.output
    assert "page nobody" in result.output
    people = yaml.safe_load((path / ".outage-bot.yml").read_text(encoding="utf-8"))["people"]
    assert all(set(person) == {"name"} for person in people.values())
    validate()


def test_the_forge_option_and_its_absence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, None)
    refused = init("--people", "a", "--yes")
    assert refused.exit_code == 1 and "--forge" in refused.output and "origin" in refused.output
    assert not (tmp_path / ".outage-bot.yml").exists()
    assert init("--people", "a", "--yes", "--forge", "gitlab").exit_code == 0
    assert (tmp_path / ".gitlab/issue_templates/Outage.md").exists()


def test_a_bad_login_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, monkeypatch, "https://github.com/acme/shop.git")
    result = init("--people", "a b,c", "--yes")
    assert result.exit_code == 1 and "--people" in result.output and "'a b'" in result.output
    assert not (tmp_path / ".outage-bot.yml").exists()


def test_the_installed_source_is_pinned_when_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    origin = Origin("https://github.com/upstream/outage-bot.git", "a" * 40)
    monkeypatch.setattr(bot.init, "installed_origin", lambda: origin)
    path = repo(tmp_path, monkeypatch, "https://github.com/acme/shop.git")
    result = init("--people", "a", "--yes")
    assert result.exit_code == 0 and "OWNER" not in result.output
    for name in ("outage-bot.yml", "outage-bot-tick.yml"):
        workflow = (path / ".github/workflows" / name).read_text(encoding="utf-8")
        assert f"uses: upstream/outage-bot@{'a' * 40} # v" in workflow and "OWNER/outage-bot@0" not in workflow
    schema_check("vendor.github-workflows", path / ".github/workflows/outage-bot.yml", path / ".github/workflows/outage-bot-tick.yml")
    gitlab = tmp_path / "gl"
    gitlab.mkdir()
    monkeypatch.chdir(gitlab)
    subprocess.run(["git", "init", "-q"], cwd=gitlab, check=True)
    assert init("--people", "a", "--yes", "--forge", "gitlab").exit_code == 0
    variables = yaml.safe_load((gitlab / ".gitlab/ci/outage-bot.gitlab-ci.yml").read_text(encoding="utf-8"))["variables"]
    assert variables["OUTAGE_BOT_REPOSITORY"] == origin.repository and variables["OUTAGE_BOT_VERSION"] == origin.commit


def test_github_status_page_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo(tmp_path, monkeypatch, "https://github.com/Acme/shop.git")
    plain = init("--people", "a,b", "--yes")
    assert "OUTAGE_BOT_STATUS_PAGE" not in plain.output and "OUTAGE_BOT_REPORT" not in plain.output  # off by default
    assert not (path / ".github/workflows/outage-bot-report.yml").exists()
    result = init("--people", "a,b", "--yes", "--force", "--status-page", "--report")
    assert result.exit_code == 0, result.output
    written = [line.removeprefix("wrote ") for line in result.output.splitlines() if line.startswith("wrote ")]
    assert written == [*GITHUB_FILES[:3], ".github/workflows/outage-bot-report.yml", GITHUB_FILES[3]]
    schema_check("vendor.github-workflows", *(path / ".github/workflows" / name for name in
                                             ("outage-bot.yml", "outage-bot-tick.yml", "outage-bot-report.yml")))
    # the workflows are the shipped ones (their status-page jobs wait for the variable the steps name)
    for name in ("outage-bot.yml", "outage-bot-tick.yml"):
        assert (path / ".github/workflows" / name).read_text(encoding="utf-8") == (
            ROOT / ".github/workflows" / name).read_text(encoding="utf-8")
    text = " ".join(result.output.split())
    assert "https://github.com/Acme/shop/settings/pages" in text and "Source: GitHub Actions" in text
    assert "OUTAGE_BOT_STATUS_PAGE with the value true at https://github.com/Acme/shop/settings/variables/actions" in text
    assert "status_page: {url: https://acme.github.io/shop/}" in text  # the policy key, with the likely address
    assert "OUTAGE_BOT_REPORT with the value true" in text
    assert (".github/workflows/outage-bot.yml, .github/workflows/outage-bot-tick.yml and "
            ".github/workflows/outage-bot-report.yml, replace OWNER/outage-bot@000...0") in text


def test_gitlab_status_page_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo(tmp_path, monkeypatch, "https://gitlab.com/acme/shop.git")
    result = init("--people", "a", "--yes", "--status-page", "--report")
    assert result.exit_code == 0, result.output
    written = [line.removeprefix("wrote ") for line in result.output.splitlines() if line.startswith("wrote ")]
    assert written == GITLAB_FILES
    include = path / ".gitlab/ci/outage-bot.gitlab-ci.yml"
    schema_check("vendor.gitlab-ci", path / ".gitlab-ci.yml", include)
    assert yaml.safe_load(include.read_text(encoding="utf-8"))["variables"]["OUTAGE_BOT_STATUS_PAGE"] == "true"
    shipped = (ROOT / "ci/outage-bot.gitlab-ci.yml").read_text(encoding="utf-8")
    assert include.read_text(encoding="utf-8") == shipped.replace('OUTAGE_BOT_STATUS_PAGE: "false"', 'OUTAGE_BOT_STATUS_PAGE: "true"')
    text = " ".join(result.output.split())
    assert "https://gitlab.com/acme/shop/pages" in text and "status_page: {url: https://acme.gitlab.io/shop/}" in text
    assert "0 13 * * 1" in text and "OUTAGE_BOT_REPORT set to true" in text
    # without the flag, the page stays off
    again = init("--people", "a", "--yes", "--force")
    assert yaml.safe_load(include.read_text(encoding="utf-8"))["variables"]["OUTAGE_BOT_STATUS_PAGE"] == "false"
    assert "status_page" not in again.output and "OUTAGE_BOT_REPORT" not in again.output


@pytest.mark.parametrize(("remote", "forge", "url"), [
    ("https://github.com/Acme/shop.git", "github", "https://acme.github.io/shop/"),
    ("https://github.com/acme/acme.github.io", "github", "https://acme.github.io/"),
    ("https://github.example.com/acme/shop", "github", "https://OWNER.github.io/REPO/"),  # Enterprise: not guessed
    ("https://gitlab.com/acme/shop.git", "gitlab", "https://acme.gitlab.io/shop/"),
    ("https://gitlab.com/acme/sub/shop.git", "gitlab", "https://GROUP.gitlab.io/PROJECT/"),
    ("https://gitlab.example.com/acme/shop.git", "gitlab", "https://GROUP.gitlab.io/PROJECT/"),
])
def test_pages_url(remote: str, forge: str, url: str) -> None:
    assert bot.init.pages_url(forge, parse_remote(remote)) == url


def test_the_report_workflow_is_pinned_when_the_source_is_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.init, "installed_origin", lambda: Origin("https://github.com/upstream/outage-bot.git", "b" * 40))
    path = repo(tmp_path, monkeypatch, "https://github.com/acme/shop.git")
    assert init("--people", "a", "--yes", "--report").exit_code == 0
    report = (path / ".github/workflows/outage-bot-report.yml").read_text(encoding="utf-8")
    assert f"uses: upstream/outage-bot@{'b' * 40} # v" in report and "OWNER/outage-bot@0" not in report


@pytest.mark.parametrize(("url", "forge", "web"), [
    ("https://github.com/acme/shop.git", "github", "https://github.com/acme/shop"),
    ("git@github.com:acme/shop.git", "github", "https://github.com/acme/shop"),
    ("ssh://git@gitlab.example.com:2222/group/sub/shop.git", "gitlab", "https://gitlab.example.com/group/sub/shop"),
    ("https://user:token@gitlab.com/group/shop", "gitlab", "https://gitlab.com/group/shop"),
    ("https://git.example.org/acme/shop.git", None, "https://git.example.org/acme/shop"),
])
def test_parse_remote(url: str, forge: str | None, web: str) -> None:
    remote = parse_remote(url)
    assert (remote.forge, remote.web) == (forge, web)


@pytest.mark.parametrize(("shipped", "source"), [
    ("github-workflow.yml", ".github/workflows/outage-bot.yml"),
    ("github-tick-workflow.yml", ".github/workflows/outage-bot-tick.yml"),
    ("github-report-workflow.yml", ".github/workflows/outage-bot-report.yml"),
    ("github-issue-form.yml", ".github/ISSUE_TEMPLATE/outage.yml"),
    ("gitlab-ci.yml", "ci/outage-bot.gitlab-ci.yml"),
])
def test_the_package_ships_the_repository_s_wiring(shipped: str, source: str) -> None:
    assert (ROOT / "bot" / "wiring" / shipped).read_text(encoding="utf-8") == (ROOT / source).read_text(encoding="utf-8")
