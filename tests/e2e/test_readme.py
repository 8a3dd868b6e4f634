"""The README and docs/ as a reader sees them: every table renders as a table, every relative link
and anchor resolves, and the README stays a first screen with the commands it promises."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

import harness

README = harness.ROOT / "README.md"
DOCS = harness.ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_MAX_LINES = 250
# Links that would need the network are not followed: CI has none.
EXTERNAL = re.compile(r"^(https?|mailto):", re.IGNORECASE)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def name(page: Path) -> str:
    return page.relative_to(harness.ROOT).as_posix()


def parse(page: Path) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(page.read_text())


def table_row_cells(line: str) -> int:
    """Cells in a GFM table row: split on pipes that are not escaped."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(re.split(r"(?<!\\)\|", inner))


def check_tables(page: Path) -> int:
    """Asserts every table in the page renders with the header's cell count on every row, and
    that no line outside code looks like a table row without being one; returns the tables."""
    lines = page.read_text().splitlines()
    table_lines: set[int] = set()
    code_lines: set[int] = set()
    tables = 0
    for token in parse(page):
        if token.type in ("fence", "code_block") and token.map:
            code_lines.update(range(*token.map))
        if token.type == "table_open" and token.map:
            tables += 1
            start, end = token.map
            table_lines.update(range(start, end))
            header = table_row_cells(lines[start])
            for number in range(start, end):
                cells = table_row_cells(lines[number])
                assert cells == header, (
                    f"{name(page)}:{number + 1} has {cells} cells, its table's header {header}: {lines[number]}"
                )
    # A row that is not part of a rendered table shows as literal pipes: a paragraph in the
    # middle of a table, or a missing header line.
    for number, line in enumerate(lines):
        if number not in code_lines and line.startswith("|"):
            assert number in table_lines, f"{name(page)}:{number + 1} is not part of a rendered table: {line}"
    return tables


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: lowercase, punctuation other than `-` and `_`
    removed, each space a `-`."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings (a repeated heading gets -1, -2, ...)."""
    tokens = parse(page)
    seen: dict[str, int] = {}
    found: set[str] = set()
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type != "heading_open":
            continue
        text = "".join(
            child.content for child in inline.children or [] if child.type in ("text", "code_inline")
        )
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    """Every link and image target in the page, with its line number (1-based)."""
    found = []
    for token in parse(page):
        if token.type != "inline":
            continue
        line = token.map[0] + 1 if token.map else 0
        stack = list(token.children or [])
        while stack:
            child = stack.pop(0)
            if child.type == "link_open":
                found.append((line, str(child.attrs["href"])))
            elif child.type == "image":
                found.append((line, str(child.attrs["src"])))
            stack[:0] = child.children or []
    return found


def resolve(page: Path, target: str) -> tuple[Path, str]:
    path, _, anchor = target.partition("#")
    return ((page.parent / unquote(path)).resolve() if path else page), unquote(anchor)


def test_the_docs_exist():
    assert len(PAGES) > 1, "docs/ holds no Markdown pages"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_table_renders_and_every_row_has_the_headers_cells(page):
    check_tables(page)


def test_the_tables_are_found():
    assert sum(check_tables(page) for page in PAGES) >= 10, "the README's and docs/' tables were not found"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_relative_link_and_anchor_resolves(page):
    problems = []
    for line, target in links(page):
        if EXTERNAL.match(target):
            continue
        where = f"{name(page)}:{line}: {target}"
        if SCHEME.match(target):
            problems.append(f"{where}: neither relative nor http(s)")
            continue
        file, anchor = resolve(page, target)
        if not file.is_relative_to(harness.ROOT):
            problems.append(f"{where}: outside the repository")
        elif not file.exists():
            problems.append(f"{where}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            problems.append(f"{where}: no heading in {name(file)} has the anchor #{anchor}")
    assert not problems, "\n".join(problems)


def test_the_readme_links_every_page_of_the_docs():
    linked = {resolve(README, target)[0] for _, target in links(README) if not SCHEME.match(target)}
    missing = [name(page) for page in PAGES[1:] if page not in linked]
    assert not missing, f"README.md does not link {missing}"


def test_the_readme_is_a_first_screen():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; the rest belongs in docs/"


def test_the_first_screen_gives_the_two_commands():
    first_screen = "\n".join(README.read_text().splitlines()[:20])
    assert "make invoke" in first_screen and "make test" in first_screen


@pytest.mark.parametrize(
    "heading, anchor",
    [
        ("Severity policy", "severity-policy"),
        ("`sam local invoke` (needs Docker)", "sam-local-invoke-needs-docker"),
        ("Chat (AWS Chatbot / Amazon Q Developer in chat applications)",
         "chat-aws-chatbot--amazon-q-developer-in-chat-applications"),
        ("On AWS (reasoning; there is no AWS account here, so these are not measurements)",
         "on-aws-reasoning-there-is-no-aws-account-here-so-these-are-not-measurements"),
        ("Self-healing (opt-in)", "self-healing-opt-in"),
    ],
)
def test_anchors_follow_githubs_rules(heading, anchor):
    assert slug(heading) == anchor
