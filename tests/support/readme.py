"""Reading the README as its tests do: its sections and its shell blocks."""

import re

SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]
