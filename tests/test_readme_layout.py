"""README's layout section matches the tree: every path it names exists, and nothing of the package is left out.

The section is one code block: a line is `<indent><name>  <what it is>`, two spaces of indent per
level under its parent folder; a line indented past the names continues the description above it.
Named must be every top-level folder of the repository, every module and folder of
`webview_toolkit/`, and every module and folder of its sub-packages (deeper folders, such as
templates/ or kispg/sandbox/, are named as folders: their files are not listed).
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "webview_toolkit"
# A name: a folder (ending in /) or a file with an extension; the description starts 2+ spaces later.
ENTRY = re.compile(r"^(?P<indent>(?:  )*)(?P<name>[\w.-]+/|[\w-][\w.-]*\.[\w]+)(?:\s{2,}\S.*)?$")
# Lines indented this far are the previous description going on, not names.
CONTINUATION = 20
NEVER_NAMED = {"__init__.py", "__pycache__"}


def layout_block(readme: str) -> list[str]:
    """The lines of the first code block under `## Layout`."""
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1].strip("\n").splitlines()


def named_paths(lines: list[str]) -> list[str]:
    """Every path the block names, relative to the repository (folders end in /); ValueError on a malformed line."""
    parents: list[str] = []
    paths = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or len(line) - len(line.lstrip(" ")) >= CONTINUATION:
            continue
        match = ENTRY.match(line)
        if match is None:
            raise ValueError(f"layout line {number} is not `<indent><name>  <description>`: {line!r}")
        depth = len(match["indent"]) // 2
        if depth > len(parents):
            raise ValueError(f"layout line {number} is indented under no folder: {line!r}")
        del parents[depth:]
        path = "".join(parents) + match["name"]
        paths.append(path)
        if path.endswith("/"):
            parents.append(match["name"])
    return paths


def tracked_entries(folder: str) -> set[str]:
    """The files and folders directly in `folder` ('' for the top) that git tracks or would (untracked, not
    ignored); folders end in /."""
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", folder or "."],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    prefix = f"{folder}/" if folder else ""
    entries = set()
    for path in listing:
        rest = path[len(prefix):]
        first, _, deeper = rest.partition("/")
        entries.add(f"{prefix}{first}/" if deeper else f"{prefix}{first}")
    return entries


def required_paths() -> set[str]:
    """What the layout must name: the top-level folders, the package's entries and its sub-packages' entries."""
    required = {entry for entry in tracked_entries("") if entry.endswith("/") and not entry.startswith(".")}
    package = tracked_entries(PACKAGE)
    required |= package
    for entry in package:
        if entry.endswith("/") and (ROOT / entry / "__init__.py").exists():
            required |= tracked_entries(entry.rstrip("/"))
    return {path for path in required if Path(path.rstrip("/")).name not in NEVER_NAMED}


@pytest.fixture(scope="module")
def named() -> list[str]:
    return named_paths(layout_block((ROOT / "README.md").read_text(encoding="utf-8")))


def test_every_named_path_exists(named):
    missing = [path for path in named if not (ROOT / path).exists() or (ROOT / path).is_dir() != path.endswith("/")]
    assert not missing, f"README's layout names paths the tree does not have: {missing}"


def test_every_module_and_folder_of_the_package_is_named(named):
    left_out = sorted(required_paths() - set(named))
    assert not left_out, f"README's layout leaves these out (add a line for each): {left_out}"


def test_nothing_is_named_twice(named):
    assert sorted({path for path in named if named.count(path) > 1}) == []


def test_the_parser_reads_nesting_and_refuses_what_it_cannot_read():
    lines = ["top/                 a folder", "  sub/               its folder", "    a.py             a module",
             "                     its description, continued", "  b.py               back one level",
             "c.txt  a file"]
    assert named_paths(lines) == ["top/", "top/sub/", "top/sub/a.py", "top/b.py", "c.txt"]
    with pytest.raises(ValueError, match="line 1"):
        named_paths(["a.py, b.py           two names on one line"])
    with pytest.raises(ValueError, match="under no folder"):
        named_paths(["    a.py             too deep"])
