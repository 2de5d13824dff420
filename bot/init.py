"""`outage-bot init`: the CI wiring, a policy with the user's own people, and the report form,
written into the current repository; then the steps only a person can do, with their pages.

The wiring is the shipped one (bot/wiring/, copies of the repository's .github/workflows/,
.github/ISSUE_TEMPLATE/ and ci/ files; a test keeps them equal), with outage-bot's own
repository and commit put in when the installed outage-bot knows them (pip records both for
an install from a git URL or a checkout); otherwise the placeholders stay and a step says so.
Nothing is overwritten without --force, and nothing is written unless every file can be.

Two opt-ins, both off by default: --status-page (the status site on GitHub Pages or GitLab
Pages: on GitLab the include's OUTAGE_BOT_STATUS_PAGE is set to "true"; on GitHub the workflows'
`status-page` jobs wait for a repository variable, which the printed steps name) and --report
(the weekly report: on GitHub the workflow .github/workflows/outage-bot-report.yml is written;
on GitLab the include holds the job, and the steps name the schedule that runs it).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from bot.errors import UserError
from bot.resources import default_policy_path

WIRING = Path(__file__).resolve().parent / "wiring"
PLACEHOLDER_ACTION = "OWNER/outage-bot@" + "0" * 40
PLACEHOLDER_REPOSITORY = "https://github.com/OWNER/outage-bot.git"
PLACEHOLDER_VERSION = "COMMIT_SHA"
GITLAB_INCLUDE = ".gitlab/ci/outage-bot.gitlab-ci.yml"
GITHUB_WORKFLOW = ".github/workflows/outage-bot.yml"
# The schedule in a file of its own: GitHub disables a whole workflow whose schedule has gone
# 60 days without repository activity, so events must not share a file with it.
GITHUB_TICK = ".github/workflows/outage-bot-tick.yml"
GITHUB_REPORT = ".github/workflows/outage-bot-report.yml"
STATUS_PAGE_OFF = 'OUTAGE_BOT_STATUS_PAGE: "false"'
_SHA = re.compile(r"[0-9a-f]{40}")
_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Remote:
    """The repository being set up, from its git remote: forge, web URL (https), path."""

    forge: str | None
    web: str | None  # https://github.com/acme/shop
    path: str | None  # acme/shop


def parse_remote(url: str) -> Remote:
    url = url.strip()
    m = re.match(r"^(?:[\w+]+://)?(?:[^@/]+@)?([^/:]+)[:/](?:\d+/)?(.+?)(?:\.git)?/?$", url)
    if not m:
        return Remote(None, None, None)
    host, path = m.group(1).lower(), m.group(2).strip("/")
    forge = "github" if "github" in host else "gitlab" if "gitlab" in host else None
    return Remote(forge, f"https://{host}/{path}", path)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def remote_of(cwd: Path) -> Remote:
    url = _git(cwd, "remote", "get-url", "origin")
    return parse_remote(url) if url else Remote(None, None, None)


@dataclass(frozen=True)
class Origin:
    """Where the running outage-bot came from: a git URL (https) and a commit, when known."""

    repository: str
    commit: str

    @property
    def github_action(self) -> str | None:
        m = re.match(r"^https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?$", self.repository)
        return f"{m.group(1)}@{self.commit}" if m else None


def installed_origin() -> Origin | None:
    """From pip's record of the install (direct_url.json, PEP 610): the VCS URL and commit, or
    for a local checkout, its origin remote and HEAD. None when not known (or not public https)."""
    try:
        raw = metadata.distribution("outage-bot").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not raw:
        return None
    info = json.loads(raw)
    url, commit = str(info.get("url", "")), str(info.get("vcs_info", {}).get("commit_id", ""))
    if "dir_info" in info and url.startswith("file://"):
        checkout = Path(url[len("file://"):])
        remote = _git(checkout, "remote", "get-url", "origin") or ""
        url, commit = parse_remote(remote).web or "", _git(checkout, "rev-parse", "HEAD") or ""
    url = url.removeprefix("git+")
    if not url.startswith("https://") or "@" in url.split("//", 1)[1].split("/", 1)[0] or not _SHA.fullmatch(commit):
        return None  # a local path, or a URL with credentials in it, is not for a shared file
    return Origin(url if url.endswith(".git") else url + ".git", commit)


def policy_text(people: list[str], forge: str) -> str:
    """The bundled default policy with the user's people in place of its placeholders: all of
    them in the on-call rotation (a rotation takes two or more; one person is simply tagged),
    the first also the security contact."""
    policy: dict[str, Any] = yaml.safe_load(default_policy_path().read_text(encoding="utf-8"))
    if people:
        policy["people"] = {login: {"name": login, forge: login} for login in people}
        if len(people) > 1:
            policy["oncall"]["rotation"]["members"] = list(people)
        else:
            del policy["oncall"]
        for severity in policy["severities"].values():
            if "tag" in severity:
                severity["tag"] = ["oncall.primary"] if len(people) > 1 else list(people)
            if len(people) == 1:
                severity.pop("acknowledge_within", None)  # it calls the secondary: there is none
        for kind in policy["kinds"].values():
            if "tag" in kind:
                kind["tag"] = [people[0]]
    header = (
        "# outage-bot's policy for this repository, written by `outage-bot init` from the bundled default.\n"
        "# Reference: README, \"The policy file\". Check it with: outage-bot validate\n"
        "# Add each person's Slack member id (slack: U02ABCDEF) to have them tagged in Slack too.\n"
    )
    return header + yaml.safe_dump(policy, sort_keys=False, allow_unicode=True, width=100)


def _fill(text: str, origin: Origin | None) -> str:
    if origin is None:
        return text
    if origin.github_action:
        text = text.replace(PLACEHOLDER_ACTION, origin.github_action)
    text = text.replace(f'OUTAGE_BOT_REPOSITORY: "{PLACEHOLDER_REPOSITORY}"', f'OUTAGE_BOT_REPOSITORY: "{origin.repository}"')
    return text.replace(f'OUTAGE_BOT_VERSION: "{PLACEHOLDER_VERSION}"', f'OUTAGE_BOT_VERSION: "{origin.commit}"')


def files_for(forge: str, people: list[str], origin: Origin | None, cwd: Path, *, status_page: bool = False,
              report: bool = False) -> dict[str, str]:
    """Repository path -> content, for what init writes."""
    wiring = {name: (WIRING / name).read_text(encoding="utf-8") for name in
              ("github-workflow.yml", "github-tick-workflow.yml", "github-report-workflow.yml", "github-issue-form.yml",
               "gitlab-ci.yml", "gitlab-issue-template.md")}
    files = {".outage-bot.yml": policy_text(people, forge)}
    if forge == "github":
        files[GITHUB_WORKFLOW] = _fill(wiring["github-workflow.yml"], origin)
        files[GITHUB_TICK] = _fill(wiring["github-tick-workflow.yml"], origin)
        if report:
            files[GITHUB_REPORT] = _fill(wiring["github-report-workflow.yml"], origin)
        files[".github/ISSUE_TEMPLATE/outage.yml"] = wiring["github-issue-form.yml"]
    else:
        include = _fill(wiring["gitlab-ci.yml"], origin)
        if status_page:
            assert include.count(STATUS_PAGE_OFF) == 1, "the shipped include's status page switch"
            include = include.replace(STATUS_PAGE_OFF, 'OUTAGE_BOT_STATUS_PAGE: "true"')
        files[GITLAB_INCLUDE] = include
        files[".gitlab/issue_templates/Outage.md"] = wiring["gitlab-issue-template.md"]
        if not (cwd / ".gitlab-ci.yml").exists():
            files[".gitlab-ci.yml"] = (
                "# The project's pipeline. outage-bot's jobs are in the file included below (`outage-bot init`).\n"
                f"include:\n  - local: {GITLAB_INCLUDE}\n")
    return files


def ask_people(forge: str, ask: Callable[[str], str]) -> list[str]:
    answer = ask(f"Who responds to incidents? Their {'GitHub logins' if forge == 'github' else 'GitLab usernames'}, comma-separated")
    return parse_people(answer, "the answer")


def parse_people(value: str, where: str) -> list[str]:
    people = [p.strip().lstrip("@") for p in value.split(",") if p.strip()]
    bad = [p for p in people if not _LOGIN.match(p)]
    if bad:
        raise UserError(f"{where}: {', '.join(map(repr, bad))} is not a login (expected: logins separated by commas, like alice,bob)")
    if len(set(people)) != len(people):
        raise UserError(f"{where}: a login is given twice")
    return people


def run_init(cwd: Path, *, forge: str | None, people: str | None, yes: bool, force: bool,
             echo: Callable[[str], None], ask: Callable[[str], str], status_page: bool = False,
             report: bool = False) -> None:
    remote = remote_of(cwd)
    forge = forge or remote.forge
    if forge is None:
        raise UserError("--forge: cannot tell the forge from the git remote `origin`"
                        f"{' (' + remote.web + ')' if remote.web else ' (there is none)'}; use --forge github|gitlab")
    if people is not None:
        logins = parse_people(people, "--people")
    elif yes:
        logins = []  # the default's placeholders: named, never paged
    else:
        logins = ask_people(forge, ask)
    origin = installed_origin()
    files = files_for(forge, logins, origin, cwd, status_page=status_page, report=report)
    existing = [name for name in files if (cwd / name).exists()]
    if existing and not force:
        raise UserError(f"{', '.join(existing)}: already there; nothing was written (--force overwrites)")
    for name, text in files.items():
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        echo(f"wrote {name}")
    echo("")
    for line in next_steps(forge, remote, origin, logins, cwd, files, status_page=status_page, report=report):
        echo(line)


def pages_url(forge: str, remote: Remote) -> str:
    """Where the forge's Pages most likely serves this repository's site: a guess for the
    printed steps (a custom domain, GitHub Enterprise or a self-managed GitLab differ)."""
    host = (remote.web or "").split("/")[2] if remote.web else ""
    if remote.path and "/" in remote.path and host in ("github.com", "gitlab.com"):
        owner, _, name = remote.path.rpartition("/")
        domain = "github.io" if forge == "github" else "gitlab.io"
        if "/" not in owner:
            owner = owner.lower()
            return f"https://{owner}.{domain}/" if name.lower() == f"{owner}.{domain}" else f"https://{owner}.{domain}/{name}/"
    return "https://OWNER.github.io/REPO/" if forge == "github" else "https://GROUP.gitlab.io/PROJECT/"


def next_steps(forge: str, remote: Remote, origin: Origin | None, people: list[str], cwd: Path,
               files: dict[str, str], *, status_page: bool = False, report: bool = False) -> list[str]:
    steps: list[str] = []
    web = remote.web or ("https://github.com/OWNER/REPO" if forge == "github" else "https://GITLAB_HOST/GROUP/PROJECT")
    if not people:
        steps.append("Put your people in .outage-bot.yml (`people:`, `oncall:`): the placeholders page nobody.")
    if forge == "github":
        if origin is None or origin.github_action is None:
            workflows = f"{GITHUB_WORKFLOW}, {GITHUB_TICK} and {GITHUB_REPORT}" if report else f"{GITHUB_WORKFLOW} and {GITHUB_TICK}"
            steps.append(f"In {workflows}, replace OWNER/outage-bot@000...0 with the repository you take "
                         "outage-bot from and one of its commits, all 40 characters (README, \"Install in five minutes\").")
        steps += [
            (f"Slack (optional): add the repository secret SLACK_BOT_TOKEN (xoxb-...) at {web}/settings/secrets/actions "
            "(Settings > Secrets and variables > Actions), and invite the app to the policy's channels."),
            f"Check that Actions may run at {web}/settings/actions (Settings > Actions > General).",
            ("Commit and push to the default branch. outage-bot-tick.yml ticks every 10 minutes (a file of its own: if GitHub "
            "disables its schedule after 60 days without activity, events are still handled); "
            f"{web}/actions/workflows/outage-bot-tick.yml > Run workflow runs one now."),
        ]
        if status_page:
            steps += [
                (f"Status page: at {web}/settings/pages (Settings > Pages) choose Source: GitHub Actions, and add the "
                f"repository variable OUTAGE_BOT_STATUS_PAGE with the value true at {web}/settings/variables/actions "
                "(Settings > Secrets and variables > Actions > Variables): the workflows' status-page jobs then "
                "publish the site after every run."),
                (f"Put the site's address in .outage-bot.yml, so notices link to it:  status_page: {{url: {pages_url(forge, remote)}}}  "
                "(the address Settings > Pages shows once it is published)."),
            ]
        if report:
            steps.append(f"Weekly report: add the repository variable OUTAGE_BOT_REPORT with the value true at "
                         f"{web}/settings/variables/actions (Mondays 13:00 UTC); {web}/actions/workflows/outage-bot-report.yml "
                         "> Run workflow runs one now.")
    else:
        if origin is None:
            steps.append(f"In {GITLAB_INCLUDE}, set OUTAGE_BOT_REPOSITORY and OUTAGE_BOT_VERSION to the repository you take "
                         "outage-bot from and one of its commits, all 40 characters (README, \"GitLab CI\").")
        if ".gitlab-ci.yml" not in files:
            steps.append(f"Add to your .gitlab-ci.yml:  include: [{{local: {GITLAB_INCLUDE}}}]")
        steps += [
            (f"A token: {web}/-/settings/access_tokens (Settings > Access tokens): role Reporter, scope api. Save it as the "
            f"masked, protected CI/CD variable GITLAB_TOKEN at {web}/-/settings/ci_cd (Settings > CI/CD > Variables); "
            "SLACK_BOT_TOKEN too for Slack."),
            f"A pipeline trigger token: {web}/-/settings/ci_cd (Settings > CI/CD > Pipeline trigger tokens).",
            (f"A webhook: {web}/-/hooks (Settings > Webhooks), URL "
            "https://GITLAB_HOST/api/v4/projects/PROJECT_ID/ref/main/trigger/pipeline?token=TRIGGER_TOKEN, with Issues, "
            "Confidential issues, Comments, Confidential comments and Emoji events."),
            (f"A schedule: {web}/-/pipeline_schedules (Build > Pipeline schedules): */15 * * * * on the default branch; "
            "press Run once."),
            "Commit and push to the default branch.",
        ]
        if status_page:
            steps.append(
                f"Status page: {GITLAB_INCLUDE} has OUTAGE_BOT_STATUS_PAGE: \"true\", so its `pages` job publishes the site "
                f"after every handle or tick. Once published, {web}/pages (Deploy > Pages) shows its address: put it in "
                f".outage-bot.yml, so notices link to it:  status_page: {{url: {pages_url(forge, remote)}}}")
        if report:
            steps.append(
                f"Weekly report: a second schedule at {web}/-/pipeline_schedules: 0 13 * * 1 on the default branch, with "
                "the variable OUTAGE_BOT_REPORT set to true (on that schedule only: it runs the report instead of a tick).")
    steps.append("Check the policy any time with: outage-bot validate")
    return ["Still to do:", *(f"  {i}. {step}" for i, step in enumerate(steps, 1))]
