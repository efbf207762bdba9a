"""README promises a newcomer can check without running anything heavy (issue 14): its in-page links land on a
heading, CI runs exactly its test command, and its two commands are Makefile targets that set up what is missing."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_in_page_links_land_on_a_heading():
    anchors = {slug(h) for h in re.findall(r"^#{1,6} (.+)$", README, re.MULTILINE)}
    links = re.findall(r"\]\(#([^)]+)\)", README)
    assert "what-our-benchmarks-show" in links
    assert set(links) <= anchors, set(links) - anchors


def test_ci_runs_the_readme_test_command():
    block = README.split("## Install, test, demo", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == ["make test"]


def test_make_targets_set_up_before_they_run():
    makefile = (REPO / "Makefile").read_text()
    for target, extra in (("demo", "plots"), ("test", "test")):
        recipe = makefile.split(f"\n{target}:\n", 1)[1].split("\n\n", 1)[0]
        assert f"bash scripts/setup.sh {extra}" in recipe.splitlines()[0]
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert "torch==2.13.0" in setup and re.search(r"install[^\n]* torch\s*$", setup, re.MULTILINE) is None
