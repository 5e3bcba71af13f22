"""The README and the API reference stand on their own and stay runnable.

A reader has only the repository: every link must resolve inside it, the first session must
work on the day it is run (no fixed date that passes), and every `make` target it names must
exist.
"""

import re
from pathlib import Path

import pytest

from tests.support.readme import SHELL_BLOCK, section

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda path: path.name)
def test_every_relative_link_resolves_inside_the_repository(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"


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
