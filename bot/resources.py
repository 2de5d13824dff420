"""Where the bundled message templates and policy presets are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

# The message templates live in the package (bot/templates/): the repository's top-level
# templates/ folder belongs to GitLab, which looks there for CI/CD component files.
TEMPLATES = _PACKAGE / "templates"


def presets_dir() -> Path:
    """The bundled policy presets (default.yml and the teams' presets).

    Users read them at the repository's top-level workflows/; a wheel carries a copy as
    bot/_data/workflows (pyproject.toml, force-include), and a source checkout or an editable
    install reads the top-level folder itself.
    """
    for candidate in (_PACKAGE / "_data" / "workflows", _PACKAGE.parent / "workflows"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the bundled policy presets (workflows/) are missing from the installation")


def data_dir(name: str) -> Path:
    """The bundled folder `name`: "templates" or "workflows" (the presets)."""
    if name == "templates":
        return TEMPLATES
    if name == "workflows":
        return presets_dir()
    raise ValueError(f"no bundled folder {name!r} (expected: templates or workflows)")


def default_policy_path() -> Path:
    return presets_dir() / "default.yml"
