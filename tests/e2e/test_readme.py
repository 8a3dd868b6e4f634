"""The README as a reader sees it: every table renders as a table, and the commands it promises
exist."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

import harness

README = harness.ROOT / "README.md"


def table_row_cells(line: str) -> int:
    """Cells in a GFM table row: split on pipes that are not escaped."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(re.split(r"(?<!\\)\|", inner))


def test_every_table_renders_and_every_row_has_the_headers_cells():
    text = README.read_text()
    lines = text.splitlines()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    table_lines: set[int] = set()
    tables = 0
    for token in tokens:
        if token.type == "table_open" and token.map:
            tables += 1
            start, end = token.map
            table_lines.update(range(start, end))
            header = table_row_cells(lines[start])
            for number in range(start, end):
                cells = table_row_cells(lines[number])
                assert cells == header, f"README.md:{number + 1} has {cells} cells, its table's header {header}: {lines[number]}"
    assert tables >= 10, "the README's tables were not found"
    # A row that is not part of a rendered table shows as literal pipes: a paragraph in the
    # middle of a table, or a missing header line.
    in_code = False
    for number, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("|"):
            assert number in table_lines, f"README.md:{number + 1} is not part of a rendered table: {line}"


def test_the_first_screen_gives_the_two_commands():
    first_screen = "\n".join(README.read_text().splitlines()[:20])
    assert "make invoke" in first_screen and "make test" in first_screen
