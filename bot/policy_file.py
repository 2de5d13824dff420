"""Load a policy file, keeping every node's position, and report ALL problems as FILE:LINE:COL.

The bot runs unattended and pages people: a policy is validated whole before anything is
fetched, and every problem is reported at once rather than one per CI run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import ConfigError, NotUtf8, Problem
from bot.policy import Path, Policy, check_references

Positions = dict[Path, tuple[int, int]]
VALUE = "<value>"  # suffix marking the position of a key's value rather than of the key
MAX_DEPTH = 40  # a policy nests 6 levels deep; far deeper is a mistake (or an attack)
MAX_VALUES = 100_000  # aliases can make a small file expand exponentially ("billion laughs")


def _compose(text: str, file: str) -> tuple[Any, Positions, list[Problem]]:
    """YAML -> (plain data, path -> (line, col) of each key and value, problems such as duplicate keys)."""
    positions: Positions = {}
    problems: list[Problem] = []
    try:
        loader = _Loader(text)  # reads the text whole first: a forbidden character fails here
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([Problem(file, line, col, f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids, such as most control characters
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise ConfigError([Problem(file, line, col, f"not valid YAML: character {char} is not allowed")]) from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ConfigError([Problem(file, 1, 1, f"not valid YAML: nested more than {MAX_DEPTH} levels deep")]) from None
    if root is None:
        return {}, positions, problems
    constructor = yaml.SafeLoader("")
    aliases = loader.aliases
    active: set[int] = set()  # the nodes on the way down to the current one: an alias back to one is a cycle
    count = 0

    def where(node: yaml.Node, mark: yaml.Mark | None = None) -> tuple[int, int]:
        mark = mark or node.start_mark
        return (mark.line + 1, mark.column + 1)

    def fail(node: yaml.Node, path: Path, message: str, mark: yaml.Mark | None = None) -> None:
        problems.append(Problem(file, *where(node, mark), f"{_dotted(path)}: {message}"))

    def scalar(node: yaml.Node, path: Path) -> Any:
        # One scalar whose text does not fit its tag: `!!int abc`, a date such as 2026-13-45
        # (YAML reads it as a timestamp), an integer of thousands of digits, an unknown `!tag`.
        try:
            return constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            fail(node, path, f"cannot read this value ({getattr(exc, 'problem', None) or exc})")
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            fail(node, path, f"cannot read {shown!r} as {node.tag.rsplit(':', 1)[-1]}")
        return None

    def walk(node: yaml.Node, path: Path, alias: yaml.Mark | None = None) -> Any:
        """`alias`: where the alias is, when `node` was reached through one (the node itself
        keeps its anchor's position)."""
        nonlocal count
        count += 1
        if count > MAX_VALUES:
            raise ConfigError([Problem(file, *where(node, alias), f"the policy expands to more than {MAX_VALUES} values"
                                                                   " (aliases of aliases?)")])
        positions.setdefault(path, where(node, alias))
        positions[path + (VALUE,)] = where(node, alias)
        if isinstance(node, yaml.ScalarNode):
            return scalar(node, path)
        if id(node) in active:
            fail(node, path, "this alias refers to a value that contains it (a recursive anchor)", alias)
            return None
        if len(path) > MAX_DEPTH:
            fail(node, path, f"nested more than {MAX_DEPTH} levels deep")
            return None
        active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                out: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        fail(key_node, path, "a key must be a plain name, not a list or mapping")
                        continue
                    key = scalar(key_node, path)
                    key = str(key) if not isinstance(key, str) else key
                    key_path = path + (key,)
                    if key in out:
                        fail(key_node, key_path, "duplicate key")
                    positions[key_path] = where(key_node)
                    out[key] = walk(value_node, key_path, aliases.get((id(node), id(key_node))))
                return out
            return [walk(item, path + (i,), aliases.get((id(node), i))) for i, item in enumerate(node.value)]
        finally:
            active.discard(id(node))

    return walk(root, ()), positions, problems


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, remembering where each alias is written: the node an alias stands
    for is the anchored node itself, positioned at the anchor."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # (id of the parent node, index in a sequence or id of the key node in a mapping) -> mark
        self.aliases: dict[tuple[int, int], yaml.Mark] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if parent is not None and self.check_event(yaml.AliasEvent):
            slot = index if isinstance(index, int) else id(index)
            self.aliases[(id(parent), slot)] = self.peek_event().start_mark
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _locate(path: Path, positions: Positions) -> tuple[int, int]:
    for cut in range(len(path), -1, -1):
        if path[:cut] in positions:
            return positions[path[:cut]]
    return (1, 1)


def _file_path(loc: tuple[Any, ...], data: Any) -> Path:
    """A pydantic error's location as keys of the file. Its own steps (function-after[...], a
    union member's type, [key]) are left out; a key of the file is kept whatever its name,
    even one containing "[". The last step of a `missing` error is the key that is absent."""
    out: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        elif i == len(loc) - 1 and isinstance(node, dict) and not (isinstance(part, str) and "[" in part):
            node = None
        else:
            continue
        out.append(part)
    return tuple(out)


def _pydantic_problems(exc: ValidationError, file: str, positions: Positions, data: Any) -> Iterable[Problem]:
    for error in exc.errors():
        path = _file_path(error["loc"], data)
        kind = error["type"]
        if kind == "extra_forbidden" and not path:
            continue  # cannot happen for a key of the file; nothing to name
        if kind == "extra_forbidden":
            message = f"unknown key {path[-1]!r}" + _did_you_mean(path, positions)
        elif kind == "missing":
            message = "required key is missing"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if error.get("input") is not None and kind not in ("value_error",):
                message += f" (got: {error['input']!r})"
        where = path if kind in ("extra_forbidden", "missing") or path + (VALUE,) not in positions else path + (VALUE,)
        yield Problem(file, *_locate(where, positions), f"{_dotted(path)}: {message}")


def _without(data: Any, paths: list[Path]) -> Any:
    """`data` with the values at `paths` removed, so the rest can still be checked."""
    import copy

    out = copy.deepcopy(data)
    for path in paths:
        node = out
        for part in path[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


def _did_you_mean(path: Path, positions: Positions) -> str:
    """A typo hint from the model's own field names."""
    import difflib

    cls = _model_at(path[:-1])
    if cls is None:
        return ""
    fields = cls.model_fields if isinstance(cls, type) and issubclass(cls, BaseModel) else {}
    names = [f.alias or name for name, f in fields.items() if name != "source"]
    close = difflib.get_close_matches(str(path[-1]), names, n=1)
    return f" (did you mean {close[0]!r}? expected one of: {', '.join(names)})" if close else f" (expected one of: {', '.join(names)})"


def _model_at(path: Path) -> type | None:
    from bot import policy as model

    routes: dict[str, Any] = {
        "people": model.Person,
        "channels": model.ChannelConfig,
        "severities": model.Severity,
        "kinds": model.Kind,
    }
    if not path:
        return model.Policy
    head = path[0]
    if head in routes and len(path) == 2:
        return routes[head]
    if head == "severities" and len(path) == 3 and path[2] == "outage_issue":
        return model.OutageIssue
    if head == "severities" and len(path) == 4 and path[2] == "escalation":
        return model.EscalationStep
    if head == "oncall":
        if len(path) == 1:
            return model.OnCall
        if path[1:] == ("rotation",):
            return model.Rotation
        if len(path) == 3 and path[1] == "overrides":
            return model.Override
    if path == ("labels",):
        return model.Labels
    if path == ("status_page",):
        return model.StatusPage
    if len(path) == 3 and path[:2] == ("status_page", "components"):
        return model.StatusComponent
    return None


def parse_policy(text: str, file: str, *, template_names: set[str] | None = None) -> Policy:
    """Validate policy text whole; raise ConfigError with every problem, or return the Policy.

    `template_names`: the templates that exist (bundled and the user's); None skips that check.
    """
    data, positions, problems = _compose(text, file)
    if not isinstance(data, dict):
        raise ConfigError([Problem(file, 1, 1, "a policy is a mapping of keys (timezone, people, severities, ...)")])
    if "source" in data:  # the model's own field, set below: the file must not set it quietly
        problems.append(Problem(file, *_locate(("source",), positions), "source: unknown key 'source'" + _did_you_mean(("source",), positions)))
        data = {k: v for k, v in data.items() if k != "source"}
    limits = _duration_limits(data, positions, file)
    if limits:
        problems.extend(limits)
        # Checked in their place (a placeholder), so that the rest is still validated.
        data = _replaced(data, [path for path, _ in _durations(data) if _too_long(_)], "1w")
    policy = None
    attempt = data
    for _ in range(5):
        try:
            policy = Policy.model_validate({**attempt, "source": file})
            break
        except ValidationError as exc:
            if attempt is data:
                problems.extend(_pydantic_problems(exc, file, positions, data))
            # Drop the offending values and validate again, so that reference problems
            # elsewhere are reported in the same run rather than the next.
            bad = [_file_path(e["loc"], attempt) for e in exc.errors()]
            if any(e["type"] == "missing" for e in exc.errors()):
                break
            attempt = _without(attempt, [b for b in bad if b])
    dates = _date_limits(policy, positions, file) if policy is not None else []
    if policy is None or problems or dates:
        if policy is not None and not dates:  # the on-call checks would overflow on such dates
            problems.extend(_reference_problems(policy, positions, file, template_names))
        raise ConfigError(sorted(set(problems + dates), key=lambda p: (p.line, p.column, p.message)))
    problems.extend(_reference_problems(policy, positions, file, template_names))
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.line, p.column)))
    return policy


# Deadlines, reminders and shifts are computed from these, and Python's datetime ends in the
# year 9999: a duration over 10 years or a date outside 1970-2999 is refused here, located,
# rather than overflowing in the middle of an incident.
MAX_DURATION = 520 * 7 * 86400  # seconds: 520w
YEARS = (1970, 2999)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_KEYS = {"acknowledge_within", "resolve_within", "breach_repeat", "remind_before", "after", "shift"}


def _durations(data: Any, path: Path = ()) -> Iterable[tuple[Path, str]]:
    """The policy's duration texts with their paths: the Duration fields of bot.policy (a list
    item of remind_before included)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _durations(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _durations(value, path + (i,))
    elif isinstance(data, str) and (path[-1:] and path[-1] in _DURATION_KEYS or path[-2:-1] == ("remind_before",)):
        yield path, data


def _seconds(text: str) -> int | None:
    """A duration's length in seconds, counted without timedelta (which overflows); None when
    the text is not a duration (bot.durations reports that)."""
    if not re.fullmatch(r"(?:\d+[smhdw])+", text.strip()):
        return None
    return sum(int(amount) * _UNIT[unit] for amount, unit in re.findall(r"(\d+)([smhdw])", text))


def _too_long(text: str) -> bool:
    seconds = _seconds(text)
    return seconds is not None and seconds > MAX_DURATION


def _duration_limits(data: Any, positions: Positions, file: str) -> list[Problem]:
    return [Problem(file, *_locate(path + (VALUE,), positions),
                    f"{_dotted(path)}: {text!r} is longer than 520w (10 years), the longest duration outage-bot plans with")
            for path, text in _durations(data) if _too_long(text)]


def _replaced(data: Any, paths: list[Path], value: Any) -> Any:
    import copy

    out = copy.deepcopy(data)
    for path in paths:
        node = out
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return out


def _date_limits(policy: Policy, positions: Positions, file: str) -> list[Problem]:
    if policy.oncall is None:
        return []
    rotation = policy.oncall.rotation
    dated: list[tuple[Path, date]] = [(("oncall", "rotation", "start"), rotation.start)]
    dated += [(("oncall", "rotation", "skip", who), day) for who, day in rotation.skip.items()]
    for i, override in enumerate(policy.oncall.overrides):
        dated += [(("oncall", "overrides", i, "from"), override.from_), (("oncall", "overrides", i, "to"), override.to)]
    return [Problem(file, *_locate(path + (VALUE,), positions), f"{_dotted(path)}: {value} is outside the years 1970 to 2999")
            for path, value in dated if not YEARS[0] <= value.year <= YEARS[1]]


def _reference_problems(policy: Policy, positions: Positions, file: str, template_names: set[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    names = template_names if template_names is not None else set()

    refs = list(check_references(policy, names))
    if template_names is None:
        refs = [(p, m) for p, m in refs if not m.startswith("unknown template")]
    if policy.oncall is not None:
        from bot.oncall import check_oncall

        refs.extend(check_oncall(policy.oncall, policy.tz))
    for path, message in refs:
        where = path + (VALUE,) if path + (VALUE,) in positions else path
        problems.append(Problem(file, *_locate(where, positions), f"{_dotted(path)}: {message}"))
    return problems


def load_policy(path: FsPath, *, template_names: set[str] | None = None) -> Policy:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(str(path), 1, 1, f"cannot read the policy: {exc.strerror or exc}")]) from None
    try:
        text = NotUtf8.decode(data, str(path), "the policy")
    except NotUtf8 as exc:
        raise ConfigError([Problem(exc.file, exc.line, exc.column, exc.detail)]) from None
    return parse_policy(text, str(path), template_names=template_names)
