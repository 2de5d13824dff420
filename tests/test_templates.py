"""Where the message templates come from: the package's bot/templates/, and a policy's own
`templates:` folder, whose files replace the bundled ones of the same name."""

from __future__ import annotations

from pathlib import Path

from bot.config import load
from bot.resources import TEMPLATES, default_policy_path

POLICY = Path(__file__).parent / "fixtures" / "contract_policy.yml"


def test_the_bundled_templates_are_in_the_package() -> None:
    assert TEMPLATES == Path(__file__).parents[1] / "bot" / "templates"
    _, renderer = load(default_policy_path())
    assert {"outage_issue.md.j2", "tag.md.j2", "chat/alert.txt.j2"} <= renderer.names()
    # the repository's top-level templates/ is GitLab's (CI/CD components), never read for messages
    assert all(Path(d).resolve() != Path(__file__).parents[1] / "templates" for d in renderer.dirs)


def test_a_policy_s_own_templates_replace_the_bundled_ones_of_the_same_name(tmp_path: Path) -> None:
    own = tmp_path / ".outage-bot" / "templates"
    (own / "chat").mkdir(parents=True)
    (own / "tag.md.j2").write_text("Our own tag text for {{ incident.title }}\n")
    (own / "chat" / "alert.txt.j2").write_text("Our own alert\n")
    policy = tmp_path / ".outage-bot.yml"
    policy.write_text(POLICY.read_text(encoding="utf-8") + "\ntemplates: .outage-bot/templates\n")
    _, renderer = load(policy)
    context = {"incident": {"title": "Checkout is down"}}
    assert renderer.render("tag.md.j2", context) == "Our own tag text for Checkout is down\n"
    assert renderer.render("chat/alert.txt.j2", {}) == "Our own alert\n"
    assert renderer.dirs == [own.resolve(), TEMPLATES]  # the rest from the package
