"""Hypothesis strategies for the fuzz tests (issue #11, item 4): random JSON, and mutations of real
payloads and policies, plus the one property they all check.

A mutation picks a place in the document (shallow places more often: that is where the fields the
bot reads live) and deletes it, replaces it with a value of another JSON type, or with a value
chosen to be awkward (empty, huge, a number as text, a date past datetime's end, control
characters...).
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Iterator
from typing import Any

from click.testing import Result
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The fast variant runs with the default test run; the slow one with .ci/run (`-m "slow or not slow"`).
# function_scoped_fixture: the fakes and tmp_path are shared by a test's examples on purpose (state
# piling up across examples is more hostile, not less).
_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=_CHECKS, database=None)
SLOW = settings(max_examples=400, deadline=None, suppress_health_check=_CHECKS, database=None)

Path = tuple[Any, ...]

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=15,
)
AWKWARD = [
    None, True, False, 0, -1, 1.5, 2**63, 10**30, "", " ", "0", "1", "abc", "²", "١٢", "null",
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "2017-09-15 16:52:00 UTC",
    [], {}, [1], [None], ["priority::highest"], [{"name": 1}], [{"title": None}], {"name": "x"},
    "x" * 5_000, "\u202e\u0000\x1b[31m", "@everyone <!channel> /close", "priority::highest", "/ack", "/resolve fixed",
]
awkward = st.sampled_from(AWKWARD) | json_values


def places(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path to a value inside `value` (keys of objects, indexes of lists)."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield prefix + (key,)
        yield from places(child, prefix + (key,))


def _get(document: Any, path: Path) -> Any:
    for key in path:
        document = document[key]
    return document


def _retyped(value: Any) -> list[Any]:
    """The same value as other JSON types."""
    return [str(value), [value], {"value": value}, len(str(value)), value is not None, None]


@st.composite
def mutated(draw: st.DrawFn, original: Any, *, max_changes: int = 4, values: st.SearchStrategy[Any] = awkward,
            hows: tuple[str, ...] = ("delete", "retype", "awkward"), leaves: bool = False) -> Any:
    """`original`, changed in 1 to `max_changes` places (`leaves`: only values that are not lists
    or objects); `values` are the awkward replacements."""
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, max_changes))):
        found = [p for p in places(document) if not leaves or not isinstance(_get(document, p), (dict, list))]
        if not found:
            break
        shallow = [p for p in found if len(p) <= 2]
        path = draw(st.sampled_from(shallow if shallow and draw(st.booleans()) else found))
        parent, key = _get(document, path[:-1]), path[-1]
        how = draw(st.sampled_from(hows))
        if how == "delete":
            del parent[key]
        elif how == "retype":
            parent[key] = copy.deepcopy(draw(st.sampled_from(_retyped(parent[key]))))
        else:
            # a copy: AWKWARD's lists and objects are shared by every example, and a later change
            # must not alter them (or make a document contain itself)
            parent[key] = copy.deepcopy(draw(values))
    return document


def no_traceback(result: Result, codes: frozenset[int] = frozenset({0, 1, 2})) -> None:
    """The property: an exit code the README documents, and no Python stack (CliRunner keeps an
    uncaught exception in `result.exception` and exits 1: that is a crash, not an answer)."""
    crash = result.exception if not isinstance(result.exception, SystemExit) else None
    if crash is not None:
        stack = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else repr(crash)
        raise AssertionError(f"crashed:\n{stack}\noutput:\n{result.output}")
    assert result.exit_code in codes, result.output
    assert "Traceback" not in result.output, result.output
