"""Render message text from Jinja2 templates: sandboxed, StrictUndefined, user text inert.

Markdown templates (`*.md.j2`) write to the forge; chat templates (`chat/*.j2`) write plain
text that each notifier escapes for its service. Values that users control arrive as
`UserText`; `finalize` escapes any that a template printed without a filter.

The filters, for templates (bot/text.py says how each stays inert and readable):
`|md` one line of Markdown (the default for UserText in `*.md.j2`), `|md_block` several lines
as a blockquote, `|code` a code span (never inside backticks of the template's own: entities
are not decoded in code, so `|md` there would show `&#42;`), `|chat` (the default in `chat/`),
`|title` plain text for an issue title, `|url` a link we may render.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot import text
from bot.durations import humanize
from bot.errors import ConfigError, Problem
from bot.resources import TEMPLATES


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    """A moment for people: local time in the policy's zone, and UTC."""
    if value is None:
        return "not set"
    local = value.astimezone(tz)
    utc = value.astimezone(timezone.utc)
    return f"{local:%a %d %b %H:%M} {local.tzname()} ({utc:%H:%M} UTC)"


class Renderer:
    def __init__(self, tz: ZoneInfo, user_dir: Path | None = None) -> None:
        self.tz = tz
        self.dirs = [d for d in (user_dir, TEMPLATES) if d is not None]
        loader = jinja2.FileSystemLoader([str(d) for d in self.dirs])
        self._md = self._env(loader, text.md_inline)
        self._chat = self._env(loader, text.chat_text)

    def _env(self, loader: jinja2.BaseLoader, escape: Any) -> ImmutableSandboxedEnvironment:
        def finalize(value: object) -> object:
            return escape(value) if isinstance(value, text.UserText) else value

        env = ImmutableSandboxedEnvironment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            finalize=finalize,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        env.filters.update(
            md=text.md_inline,
            md_block=text.md_block,
            code=text.md_code,
            chat=text.chat_text,
            title=text.plain_title,
            url=text.safe_url,
            when=lambda v: _when(v, self.tz),
            utc=lambda v: v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if v else "not set",
            duration=lambda v: humanize(v) if isinstance(v, timedelta) else str(v),
        )
        return env

    def render_when(self, value: datetime | None) -> str:
        return _when(value, self.tz)

    def names(self) -> set[str]:
        found: set[str] = set()
        for base in self.dirs:
            for path in base.rglob("*.j2"):
                found.add(path.relative_to(base).as_posix())
        return found

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        env = self._chat if name.startswith("chat/") else self._md
        try:
            template = env.get_template(name)
            return template.render(**context).strip() + "\n"
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError([Problem(exc.filename or name, exc.lineno or 1, 1, f"template error: {exc.message}")]) from None
        except jinja2.TemplateNotFound:
            raise ConfigError([Problem(name, 1, 1, "template not found")]) from None
        except Exception as exc:  # noqa: BLE001 - any runtime error names the template and line
            line = 1
            filename = name
            for frame, lineno in traceback.walk_tb(exc.__traceback__):
                code_file = frame.f_code.co_filename
                if code_file.endswith((name, name.replace("/", "\\"))):
                    line, filename = lineno, code_file
            raise ConfigError([Problem(filename, line, 1, f"template error: {type(exc).__name__}: {exc}")]) from None

    def check(self, name: str, sample: Mapping[str, Any]) -> list[Problem]:
        """Parse and render `name` with sample data; the problems found."""
        try:
            self.render(name, sample)
        except ConfigError as exc:
            return exc.problems
        return []
