"""The layout of the Jams, Workspaces, Account and Generate page packages, checked on the
source: one package per page, no import cycles between their modules (imports
inside functions included), no page importing another page (or the old
`ui/pages` modules), no database access and no hand-built HTML strings with
an escape helper of their own.
"""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "studio" / "ui"
PACKAGES = ("jams", "workspaces", "account", "generate")
PAGE_PACKAGES = ("jams", "workspaces", "account", "projects", "generate", "pages")


def modules(package: str) -> dict[str, Path]:
    return {f"studio.ui.{package}.{p.stem}": p for p in (UI / package).glob("*.py")}


def imported(path: Path, name: str) -> set[str]:
    """Every module this file imports, at any depth (inside functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A path that comes back to where it started, if the graph has one."""
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> list[str] | None:
        if node in visiting:
            return [*trail, node]
        if node in done:
            return None
        visiting.add(node)
        for nxt in sorted(graph[node]):
            found = visit(nxt, [*trail, node])
            if found:
                return found
        visiting.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_no_import_cycles_inside_a_page_package() -> None:
    for package in PACKAGES:
        mods = modules(package)
        init = f"studio.ui.{package}.__init__"
        # `__init__` re-exports the page's build(); nothing inside imports it back.
        graph = {
            name: {m for m in imported(path, name) if m in mods and m not in (name, init)}
            for name, path in mods.items()
        }
        assert find_cycle(graph) is None, f"{package}: {find_cycle(graph)}"


def test_the_cycle_check_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_a_page_never_imports_another_page_or_the_database() -> None:
    offenders: dict[str, list[str]] = {}
    for package in PACKAGES:
        others = tuple(f"studio.ui.{p}" for p in PAGE_PACKAGES if p != package)
        for name, path in modules(package).items():
            bad = sorted(
                m
                for m in imported(path, name)
                if any(m == o or m.startswith(o + ".") for o in others)
                or m.startswith("sqlalchemy.sql")
                or m in ("sqlalchemy", "sqlalchemy.select", "sqlalchemy.func")
            )
            text = path.read_text(encoding="utf-8")
            if "session.get(" in text or "session.execute(" in text or "session.scalar" in text:
                bad.append("session queries")
            if "html.escape" in text or "def esc(" in text:
                bad.append("its own HTML escaping")
            if bad:
                offenders[name] = bad
    assert offenders == {}


def test_the_old_flat_modules_are_gone() -> None:
    old = ["jams", "jams_entry", "jams_html", "jams_judge", "jams_organize", "jams_setup"]
    old += ["workspaces", "account", "generate"]
    assert [m for m in old if (UI / "pages" / f"{m}.py").exists()] == []
