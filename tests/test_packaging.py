"""The release: `python -m build` makes an sdist and a wheel that carry the message templates
and the policy presets, `twine check` accepts both, and the installed wheel runs on its own data.

Built offline (`--no-isolation`: the hatchling of the test extra, no download), into tmp_path.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from bot import __version__

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
TEMPLATES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "bot" / "templates").rglob("*.j2"))
PRESETS = sorted(p.name for p in (ROOT / "workflows").glob("*.yml"))

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


def test_the_wheel_carries_templates_presets_and_the_version(dist: Path) -> None:
    [wheel] = dist.glob("*.whl")
    assert wheel.name == f"outage_bot-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [meta_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = HeaderParser().parsestr(archive.read(meta_name).decode())
        entry_points = archive.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert set(TEMPLATES) <= names
    assert {f"bot/_data/workflows/{p}" for p in PRESETS} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)  # the MIT text travels with it
    assert not any(n.startswith(("templates/", "workflows/", "tests/")) for n in names)
    assert meta["Version"] == __version__
    assert {"github", "gitlab", "slack", "apprise", "ical", "all", "test"} <= set(meta.get_all("Provides-Extra") or [])
    assert "outage-bot = bot.cli:main" in entry_points


def test_the_sdist_carries_what_the_wheel_is_built_from(dist: Path) -> None:
    [sdist] = dist.glob("*.tar.gz")
    assert sdist.name == f"outage_bot-{__version__}.tar.gz"
    top = f"outage_bot-{__version__}/"
    with tarfile.open(sdist) as archive:
        names = {n.removeprefix(top) for n in archive.getnames()}
    assert set(TEMPLATES) <= names
    assert {f"workflows/{p}" for p in PRESETS} <= names
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "bot/__init__.py"} <= names


def test_twine_check_passes(dist: Path) -> None:
    output = _run(BIN / "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert output.count("PASSED") == 2, output


def test_the_installed_wheel_runs_on_its_own_templates_and_presets(dist: Path, tmp_path: Path) -> None:
    # installed without dependencies beside the test environment's: its bot/ comes first on the path
    [wheel] = dist.glob("*.whl")
    site = tmp_path / "site"
    _run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", site, wheel)
    work = tmp_path / "work"  # no .outage-bot.yml: the bundled default policy
    work.mkdir()
    script = ("import sys; sys.path.insert(0, sys.argv.pop(1)); import bot, bot.resources as r; "
              "print(bot.__file__); print(r.default_policy_path()); print(r.TEMPLATES)")
    lines = _run(sys.executable, "-c", script, site, cwd=work).splitlines()
    assert all(line.startswith(str(site)) for line in lines), lines
    validate = ("import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'outage-bot'; "
                "from bot.cli import main; main()")
    assert "valid" in _run(sys.executable, "-c", validate, site, "validate", cwd=work)
    assert _run(sys.executable, "-c", validate, site, "--version", cwd=work).strip() == f"outage-bot, version {__version__}"
