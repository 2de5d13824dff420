"""What the tests that run the shipped CI jobs share: outage-bot's source as a git repository the
jobs install from (`git+file://`), a package index made of local wheels, and a Python.

The jobs run their own `pip install` exactly as written; only where pip looks changes, through
pip's own environment variables (PIP_NO_INDEX, PIP_FIND_LINKS): no test reaches the network.
The wheels are the project's dependencies and its build backend, made by .ci/run
(`pip wheel --wheel-dir .venv/wheelhouse hatchling '.[all]'`), or found in $OUTAGE_BOT_WHEELHOUSE.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(os.environ.get("OUTAGE_BOT_WHEELHOUSE") or ROOT / ".venv" / "wheelhouse")
WHEELHOUSE_HINT = (f"no wheels for an offline install in {WHEELHOUSE}: .ci/run makes them "
                   "(.venv/bin/python -m pip wheel --wheel-dir .venv/wheelhouse hatchling '.[all]')")


def has_wheelhouse() -> bool:
    return WHEELHOUSE.is_dir() and any(WHEELHOUSE.glob("hatchling-*.whl"))


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def commit_all(path: Path, message: str = "snapshot") -> str:
    """`git init` (branch main) if needed, commit everything in `path`, return the commit."""
    if not (path / ".git").exists():
        git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "--allow-empty", "-m", message, cwd=path)
    return git("rev-parse", "HEAD", cwd=path)


@dataclass(frozen=True)
class Source:
    """outage-bot's source as a repository of its own: the working tree (tracked and untracked,
    not ignored files), committed, so a job installs what is being tested, not the last commit."""

    path: Path
    commit: str

    @property
    def url(self) -> str:
        # localhost: older pip (23.x, as some images carry) refuses a git+file:/// URL with no host
        return f"file://localhost{self.path}"


def snapshot(into: Path) -> Source:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True, timeout=60).stdout.decode().split("\0")
    into.mkdir(parents=True)
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, into / name)
    return Source(into, commit_all(into))


def offline_pip() -> dict[str, str]:
    """pip's settings for a job: the wheelhouse is its only index."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def python_dir() -> Path:
    """The folder of the interpreter the wheelhouse was made for (this venv's base Python, with
    `python3` and `python` in it): first on a job's PATH, as `python:3.x` images have it."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    assert (base.parent / "python3").exists(), base
    return base.parent
