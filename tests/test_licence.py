"""The licence is stated once and named the same way everywhere: `LICENSE` holds the text,
`pyproject.toml` names it as an SPDX expression, and the README links it by that name."""

import re
import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression

ROOT = Path(__file__).resolve().parent.parent
# The first line of each licence text this test knows, by SPDX identifier.
LICENCE_TITLES = {
    "BSD 3-Clause License": "BSD-3-Clause",
    "MIT License": "MIT",
    "Apache License": "Apache-2.0",
}


def licence_of_the_text() -> str:
    title = (ROOT / "LICENSE").read_text().splitlines()[0].strip()
    assert title in LICENCE_TITLES, f"LICENSE starts with an unknown title: {title!r}"
    return LICENCE_TITLES[title]


def test_license_file_has_the_bsd_3_clause_text_and_a_copyright_line():
    text = (ROOT / "LICENSE").read_text()

    assert licence_of_the_text() == "BSD-3-Clause"
    assert re.search(r"^Copyright \(c\) 20\d\d, the Tasklane contributors$", text, re.M)
    assert "Neither the name of the copyright holder" in text


def test_pyproject_names_the_licence_of_the_license_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    assert canonicalize_license_expression(project["license"]) == licence_of_the_text()
    assert project["license-files"] == ["LICENSE"]


def test_readme_links_the_license_and_names_the_same_licence():
    readme = (ROOT / "README.md").read_text()
    linked = re.findall(r"\[([^\]]*)\]\(LICENSE\)", readme)

    assert linked, "the README does not link LICENSE"
    assert any(licence_of_the_text() in label for label in linked), linked
    assert "](CONTRIBUTING.md)" in readme
