"""The docs stay true to the tree: every module is on the architecture page's map, and every
module the map names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "newsletter"
MAP = REPO / "docs" / "architecture.md"


def _mapped() -> set[str]:
    """Module paths under newsletter/ as the map's tables name them."""
    text = MAP.read_text(encoding="utf-8")
    section = text[text.index("## The module map") : text.index("## The layer rule")]
    found: set[str] = set()
    folder = ""
    for line in section.splitlines():
        if heading := re.match(r"### (?:`(\w+)/`|Top level)", line):
            folder = f"{heading.group(1)}/" if heading.group(1) else ""
        elif row := re.match(r"\| `([\w/]+\.py)` \|", line):
            name = row.group(1)
            found.add(name if "/" in name else folder + name)
    return found


def _modules() -> set[str]:
    return {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path != PACKAGE / "__init__.py"
        and not (path.name == "__init__.py" and _only_a_docstring(path))
    }


def _only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return len(body) <= 1 and all(isinstance(node, ast.Expr) for node in body)


def test_every_module_is_on_the_map_and_the_map_names_no_module_that_is_gone() -> None:
    mapped, modules = _mapped(), _modules()
    assert sorted(modules - mapped) == [], "add these to docs/architecture.md"
    assert sorted(mapped - modules) == [], "these are gone: remove them from docs/architecture.md"
