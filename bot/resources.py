"""Where the bundled policy presets and templates are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The bundled folder `name` ("workflows" or "templates").

    A wheel carries them as bot/_data/NAME; a source checkout or an editable install has them
    at the repository root, beside bot/.
    """
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name!r} is missing from the installation")


def default_policy_path() -> Path:
    return data_dir("workflows") / "default.yml"
