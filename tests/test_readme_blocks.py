"""Every shell block of the README runs, in order, against a fresh server, and works.

The blocks are taken from README.md as they are (```sh fences), so a block added tomorrow is
run tomorrow. A block that must not run here (it serves until stopped, needs a terminal,
deploys, ...) carries a visible marker on the line before its fence:

    <!-- readme-test: skip: <why> -->

Every other block runs in one bash, in the README's order, so the variables one block sets
($TOKEN, $PAT, $PROJECT, ...) are there for the next, as for a reader pasting them into one
terminal. bash runs with `-euo pipefail`: an undefined variable, a failing command or a
failing pipe stage fails the test. `localhost:8000` and `127.0.0.1:8000` are the address of
the server, which is `make run` itself on its defaults (a throwaway SQLite file, the worker
beside it). Every curl's HTTP status is recorded, and every one must be a success (2xx or
304); a block that shows an error on purpose says so with `<!-- readme-test: expect: 400 -->`
(one status per expected error, in the block's order).
"""

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.make_run import start_make_run

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
FENCED = re.compile(r"((?:<!-- readme-test: [^\n]*-->\n)*)```sh\n(.*?)```", re.S)
MARKER = re.compile(r"<!-- readme-test: (skip|expect): ([^\n]*?) -->")
STATUS = re.compile(r"^readme-test (block \d+|status \d{3})$", re.M)
PRELUDE = r"""
curl() { command curl -w '%{stderr}readme-test status %{http_code}\n' "$@"; }
"""


def readme_blocks() -> list[dict]:
    blocks = []
    for markers, text in FENCED.findall((ROOT / "README.md").read_text()):
        found = dict(MARKER.findall(markers))
        blocks.append(
            {
                "text": text,
                "skip": found.get("skip"),
                "expect": [int(code) for code in found.get("expect", "").split()],
            }
        )
    return blocks


def test_every_readme_block_is_run_or_visibly_skipped_with_a_reason():
    blocks = readme_blocks()
    markers = MARKER.findall((ROOT / "README.md").read_text())

    assert len(blocks) == (ROOT / "README.md").read_text().count("```sh\n")
    # Every marker belongs to the block right below it, and every skip gives its reason.
    assert len(markers) == sum(bool(b["skip"]) + bool(b["expect"]) for b in blocks)
    assert all(reason.strip() for kind, reason in markers if kind == "skip")
    assert [b for b in blocks if not b["skip"]], "no README block runs"


def test_the_readme_shell_blocks_run_against_a_fresh_server(tmp_path):
    blocks = readme_blocks()
    run = [b for b in blocks if not b["skip"]]
    server = start_make_run(tmp_path)
    address = f"127.0.0.1:{server.port}"
    script = PRELUDE + "".join(
        f"echo 'readme-test block {number}' >&2\n"
        + re.sub(r"\b(?:localhost|127\.0\.0\.1):8000\b", address, block["text"])
        for number, block in enumerate(run)
    )
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        server.stop()

    print(f"{len(run)} README blocks run, {len(blocks) - len(run)} skipped:")
    for block in blocks:
        if block["skip"]:
            print(f"  skipped ({block['skip']}): {block['text'].splitlines()[0]}")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{server.logs()}"

    statuses: dict[int, list[int]] = {}
    for line in STATUS.findall(result.stderr):
        kind, value = line.split()
        if kind == "block":
            current = int(value)
            statuses[current] = []
        else:
            statuses[current].append(int(value))
    assert sorted(statuses) == list(range(len(run))), result.stderr
    for number, block in enumerate(run):
        errors = [status for status in statuses[number] if status >= 400 or status < 200]
        assert errors == block["expect"], (block["text"], statuses[number], result.stdout)
        assert statuses[number] or "curl" not in block["text"], block["text"]
