"""The README and the docs stand on their own and stay runnable.

A reader has only the repository: every relative link of every doc must resolve inside it, to
a file that exists and, when it names one, a heading of that file (GitHub's anchors); the
first session must work on the day it is run (no fixed date that passes), and every `make`
target the README names must exist.
"""

import re
from pathlib import Path

import pytest

from tests.support.readme import SHELL_BLOCK, section

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted(
    {
        README,
        ROOT / "CONTRIBUTING.md",
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("bench/*.md"),
    }
)
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^#{1,6} (.+?)\s*#*$", re.M)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings (fenced code left out)."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in found:
            number += 1
            candidate = f"{slug}-{number}"
        found.add(candidate)
    return found


def test_anchors_are_made_as_github_makes_them(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n## A request's path\n## `make bench`\n```sh\n# not a heading\n```\n"
        "### The serving layer (2 December 2026, 17:50-18:20)\n## Title\n"
    )

    assert anchors(page) == {
        "title",
        "a-requests-path",
        "make-bench",
        "the-serving-layer-2-december-2026-1750-1820",
        "title-1",
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page):
    for link in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        resolved = (page.parent / target).resolve() if target else page
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside: {link}"
        assert resolved.exists(), f"{page.name} links to a missing file: {link}"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name} links to a missing heading: {link}"


def test_the_readme_links_the_api_reference():
    assert "](docs/api.md)" in README.read_text()


def test_the_first_session_uses_no_fixed_date():
    first_session = section(README.read_text(), "A first session")

    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", first_session)
    assert "date -d" in first_session


def test_every_make_target_the_readme_shows_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    shown = set()
    for block in SHELL_BLOCK.findall(README.read_text()):
        shown |= set(re.findall(r"\bmake ([a-z][a-z-]*)", block))

    assert shown, "no make command found in the README"
    assert shown <= targets, shown - targets
