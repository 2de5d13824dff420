"""One exception hierarchy, mapped to exit codes at the CLI edge."""

from __future__ import annotations

from dataclasses import dataclass


class OutageBotError(Exception):
    """Base of every error the bot expects and explains."""

    exit_code = 1


class UserError(OutageBotError):
    """Bad configuration, payload or credential: the user can fix it (exit 1)."""

    exit_code = 1


class MissingCredential(UserError):
    """A required environment variable is not set; the message names it, never its value."""

    def __init__(self, variable: str, why: str = "") -> None:
        self.variable = variable
        super().__init__(f"{variable} is not set" + (f": {why}" if why else ""))


@dataclass(frozen=True)
class Problem:
    """One policy or template problem, located in its file."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ConfigError(UserError):
    """The policy or a template is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NotUtf8(UserError):
    """A file that must be UTF-8 text is not; names its file, line and column of the first bad byte."""

    def __init__(self, file: str, data: bytes, error: UnicodeDecodeError, what: str) -> None:
        start = error.start
        self.file = file
        self.line = data.count(b"\n", 0, start) + 1
        self.column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        self.detail = f"{what} is not UTF-8 text (byte 0x{data[start]:02x}); save it as UTF-8"
        super().__init__(f"{file}:{self.line}:{self.column}: {self.detail}")

    @classmethod
    def decode(cls, data: bytes, file: str, what: str) -> str:
        """`data` as text (a UTF-8 byte-order mark, as some Windows editors write, is dropped)."""
        try:
            return data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise cls(file, data, exc, what) from None


class NotMine(OutageBotError):
    """An event the bot does not handle: said in one line, exit 0."""

    exit_code = 0


class ServiceError(OutageBotError):
    """A forge or chat service still failed after retries (exit 2).

    `request` names the call (method and path, or API method), never a token.
    `uncertain`: the request was sent and may have taken effect (a 5xx, a timeout, or the
    connection dropped after sending). The executor then looks the write up by its key
    before it retries: a POST is never repeated blindly.
    """

    exit_code = 2

    def __init__(self, service: str, request: str, detail: str, *, hint: str = "", uncertain: bool = False) -> None:
        self.service = service
        self.request = request
        self.detail = detail
        self.hint = hint
        self.uncertain = uncertain
        text = f"{service}: {request} failed: {detail}"
        super().__init__(text + (f"\n  fix: {hint}" if hint else ""))
