"""The stages depend one way: the article is composed, rendered, checked, stored, sent, served.

A module may import from its own stage or a stage below it, never above: rendering knows
neither the list nor sending, settings stand below the list, providers below delivery.
Imports made only for type checking count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "newsletter"

LAYERS: list[set[str]] = [
    {"errors", "userinput", "atomic"},
    {"addresses", "recipients", "config", "tokens", "languages"},
    {"compose"},
    {"render"},
    {"qa"},
    {"db"},
    {"audience"},
    {"providers"},
    {"delivery"},
    {"web", "preview", "reports"},
    {"cli", "__main__"},
]
"""Lowest first. web and preview share a level (the preview borrows web's security headers);
reports read what delivery and serve stored."""

RANK = {stage: level for level, stages in enumerate(LAYERS) for stage in stages}


def _stage(module: str) -> str:
    return module.split(".")[1]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("newsletter."):
                found.add(node.module)
            elif node.module == "newsletter":
                found.update(f"newsletter.{a.name}" for a in node.names if _is_module(a.name))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("newsletter."))
    return found


def _is_module(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def _modules() -> list[tuple[str, Path]]:
    return [
        (".".join(("newsletter", *path.relative_to(PACKAGE).with_suffix("").parts)), path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py" or path.parent != PACKAGE
    ]


def test_every_module_belongs_to_a_stage() -> None:
    unplaced = {_stage(module) for module, _ in _modules()} - set(RANK)
    assert not unplaced, f"add these to a layer in {__file__}: {sorted(unplaced)}"


def test_no_module_imports_from_a_stage_above_its_own() -> None:
    upward = [
        f"{module} imports {imported}"
        for module, path in _modules()
        for imported in sorted(_imports(path))
        if RANK[_stage(imported)] > RANK[_stage(module)]
    ]
    assert not upward, "\n".join(upward)


def test_the_apps_reach_the_database_only_through_the_list_and_the_journal() -> None:
    """The CLI, the web app and the preview never write their own SQL against the tables."""
    direct = [
        f"{module} imports {imported}"
        for module, path in _modules()
        if _stage(module) in {"cli", "web", "preview"}
        for imported in sorted(_imports(path))
        if _stage(imported) == "db"
    ]
    assert not direct, "\n".join(direct)
