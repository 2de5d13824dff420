"""Policy validation: every problem at once, each as FILE:LINE:COL: path: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import check_templates, load
from bot.errors import ConfigError
from bot.policy_file import parse_policy
from bot.resources import data_dir

GOOD = """\
timezone: America/New_York
people:
  taylor: {github: taylor-gh, slack: U02TAYLOR}
  will: {github: willds}
channels:
  alerts: {slack: "#outage-alerts"}
severities:
  critical:
    labels: [priority::highest]
    resolve_within: 24h
    tag: [taylor]
    notify: [alerts]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_policy(text, "p.yml", template_names={"outage_issue.md.j2"})
    return [str(p) for p in exc.value.problems]


def test_the_contract_example_is_valid() -> None:
    contract = (Path(__file__).parent / "fixtures" / "contract_policy.yml").read_text()
    policy = parse_policy(contract, "contract.yml", template_names={"outage_issue.md.j2"})
    assert policy.severity_of(["urgency::highest"]) == "critical"
    assert policy.kind_of(["security"]) == "security"


@pytest.mark.parametrize("preset", sorted(p.name for p in data_dir("workflows").glob("*.yml")))
def test_every_preset_validates_with_its_templates(preset: str) -> None:
    policy, renderer = load(data_dir("workflows") / preset)
    assert check_templates(policy, renderer) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("resolve_within: 24h", "resolve_withn: 24h"),
         "p.yml:10:5: severities.critical.resolve_withn: unknown key 'resolve_withn' (did you mean 'resolve_within'?"),
        (("resolve_within: 24h", "resolve_within: 24 hours"), "p.yml:10:21: severities.critical.resolve_within: '24 hours' is not a duration"),
        (("America/New_York", "America/New_Yrok"), "p.yml:1:11: timezone: unknown time zone 'America/New_Yrok'"),
        (("tag: [taylor]", "tag: [tayler]"), "p.yml:11:11: severities.critical.tag[0]: unknown person 'tayler'"),
        (("notify: [alerts]", "notify: [alert]"), "p.yml:12:14: severities.critical.notify[0]: unknown channel 'alert'"),
        (("tag: [taylor]", "tag: [oncall.primary]"), "severities.critical.tag[0]: 'oncall.primary' needs an `oncall:` section"),
    ],
)
def test_each_kind_of_mistake_is_located(change: tuple[str, str], expected: str) -> None:
    found = problems(GOOD.replace(*change))
    assert any(line.startswith(expected) or expected in line for line in found), found


def test_a_label_claimed_twice_and_other_problems_are_reported_together() -> None:
    text = GOOD + """\
  major:
    labels: [priority::highest]
    resolve_within: soon
    outage_issue: {template: nope.md.j2}
"""
    found = problems(text)
    assert any(line.startswith("p.yml:14:14: severities.major.labels[0]: label 'priority::highest' is already claimed") for line in found), found
    assert any("severities.major.resolve_within" in line for line in found)
    assert len(found) >= 2


def test_duplicate_keys_and_bad_yaml() -> None:
    assert any("duplicate key" in p for p in problems(GOOD + "timezone: UTC\n"))
    bad = problems("severities: [\n")
    assert bad[0].startswith("p.yml:") and "not valid YAML" in bad[0]


def test_own_labels_sharing_a_gitlab_scope_are_an_error() -> None:
    found = problems(GOOD + "labels: {active: incident::open}\n")
    assert any("shares the scope 'incident'::" in p for p in found), found


def test_a_broken_user_template_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "tag.md.j2").write_text("Hello\n{{ incident.nope }}\n")
    policy_file = tmp_path / "p.yml"
    policy_file.write_text(GOOD + "templates: t\n")
    policy, renderer = load(policy_file)
    found = [str(p) for p in check_templates(policy, renderer)]
    assert any("tag.md.j2:2:1: template error" in p for p in found), found


ONCALL = GOOD.replace("  will: {github: willds}\n", "  will: {github: willds}\n  sam: {github: sam-gh}\n") + """\
oncall:
  rotation:
    members: [taylor, will]
    start: 2026-11-02
  overrides:
    - {who: sam, instead_of: taylor, from: "2026-11-20T09:00:00-05:00", to: %s}
"""


def test_an_override_mixing_offset_and_wall_clock_times_is_compared_in_the_policy_zone() -> None:
    # `to` without an offset is New York wall-clock time: 08:00 there is before 09:00-05:00
    assert any("`to` must be after `from`" in p for p in problems(ONCALL % '"2026-11-20T08:00:00"'))
    policy = parse_policy(ONCALL % '"2026-11-20T10:00:00"', "p.yml", template_names={"outage_issue.md.j2"})
    assert policy.oncall is not None and len(policy.oncall.overrides) == 1


@pytest.mark.parametrize(("text", "column", "path"), [
    ("status_page: &x [*x]\n", 18, "status_page[0]"),
    ("status_page: &x {title: {url: *x}}\n", 31, "status_page.title.url"),
    ("status_page: &x [[[*x]]]\n", 20, "status_page[0][0][0]"),
])
def test_a_recursive_anchor_is_located_at_its_alias(text: str, column: int, path: str) -> None:
    line = GOOD.count("\n") + 1
    found = problems(GOOD + text)
    assert f"p.yml:{line}:{column}: {path}: this alias refers to a value that contains it (a recursive anchor)" in found, found


def test_an_alias_that_is_not_recursive_still_works() -> None:
    text = GOOD.replace("notify: [alerts]", "notify: &n [alerts]") + "kinds:\n  outage: {labels: [outage], notify: *n}\n"
    policy = parse_policy(text, "p.yml", template_names={"outage_issue.md.j2"})
    assert policy.kinds["outage"].notify == ["alerts"]


def test_a_problem_inside_an_aliased_value_is_reported_where_it_is_used() -> None:
    text = GOOD + "kinds:\n  outage: &k {labels: [outage], notify: [nowhere]}\n  upstream: *k\n"
    found = problems(text)
    assert any("kinds.outage.notify[0]" in p for p in found), found


def test_a_scalar_that_does_not_fit_its_tag_is_located_and_the_rest_is_still_checked() -> None:
    found = problems(GOOD.replace("timezone: America/New_York", "timezone: !!int abc") + "bogus: 1\n")
    assert "p.yml:1:11: timezone: cannot read 'abc' as int" in found
    assert any("unknown key 'bogus'" in p for p in found), found


def test_a_key_with_a_bracket_and_a_key_named_source_are_unknown_keys() -> None:
    found = problems(GOOD + '"[": 1\nsource: elsewhere\n')
    assert any(p.startswith("p.yml:13:1: [: unknown key '['") for p in found), found
    assert any(p.startswith("p.yml:14:1: source: unknown key 'source'") for p in found), found


@pytest.mark.parametrize(("change", "expected"), [
    (("resolve_within: 24h", "resolve_within: 99999999999w"),
     "p.yml:10:21: severities.critical.resolve_within: '99999999999w' is longer than 520w (10 years)"),
    (("resolve_within: 24h", "resolve_within: 521w"), "severities.critical.resolve_within: '521w' is longer than 520w"),
    (("resolve_within: 24h", "resolve_within: 24h\n    remind_before: [1h, 1000w]"),
     "severities.critical.remind_before[1]: '1000w' is longer than 520w"),
])
def test_a_duration_too_long_to_plan_with_is_located(change: tuple[str, str], expected: str) -> None:
    found = problems(GOOD.replace(*change))
    assert any(expected in p for p in found), found


DATED = """\
oncall:
  rotation: {members: [taylor, will], start: START}
  overrides: [{who: taylor, instead_of: will, from: FROM, to: 2026-12-28T12:00}]
"""


@pytest.mark.parametrize(("start", "start_from", "expected"), [
    ("9999-12-27", "2026-12-21T12:00", "oncall.rotation.start: 9999-12-27 is outside the years 1970 to 2999"),
    ("2026-11-02", "1900-12-21T12:00", "oncall.overrides[0].from: 1900-12-21 12:00:00 is outside the years 1970 to 2999"),
])
def test_a_date_outside_the_years_outage_bot_plans_in_is_located(start: str, start_from: str, expected: str) -> None:
    found = problems(GOOD + DATED.replace("START", start).replace("FROM", start_from))
    assert any(expected in p for p in found), found


def test_a_time_zone_that_is_a_tzdata_folder_is_unknown() -> None:
    found = problems(GOOD.replace("America/New_York", "America"))
    assert found == ["p.yml:1:11: timezone: unknown time zone 'America' (expected: an IANA name like America/New_York)"]
