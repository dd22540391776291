"""The dependency direction of docs/ARCHITECTURE.md, checked on the source.

ui/, api/, auth/ and celery tasks -> domain services -> domain models -> db.
Domains never import web frameworks or the edges; only the diffusers engine
imports torch/diffusers; media's ffmpeg and storage modules stay pure.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

STUDIO = Path(__file__).resolve().parents[1] / "studio"
DOMAINS = ["accounts", "projects", "generation", "media", "jams", "uploads", "db"]
DOMAIN_FILES = ["config.py", "errors.py", "queue.py"]
WEB = ("gradio", "fastapi", "starlette", "studio.ui", "studio.api", "studio.auth", "studio.app")
HEAVY = ("torch", "diffusers", "transformers", "accelerate")
ENGINE_PREFIX = "generation/engines/diffusers"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def python_files() -> list[Path]:
    return sorted(STUDIO.rglob("*.py"))


def domain_files() -> list[Path]:
    files = [f for d in DOMAINS for f in (STUDIO / d).rglob("*.py")]
    return files + [STUDIO / f for f in DOMAIN_FILES if (STUDIO / f).exists()]


def test_domains_do_not_import_web_frameworks_or_edges() -> None:
    offenders = {
        str(path.relative_to(STUDIO)): sorted(n for n in imports_of(path) if matches(n, WEB))
        for path in domain_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_diffusers_engine_imports_torch() -> None:
    offenders = {
        str(path.relative_to(STUDIO)): sorted(n for n in imports_of(path) if matches(n, HEAVY))
        for path in python_files()
        if not str(path.relative_to(STUDIO)).startswith(ENGINE_PREFIX)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_media_ffmpeg_and_storage_are_pure() -> None:  # and the backends, cut assembly, sound
    for name in ("ffmpeg.py", "storage.py", "s3.py", "assemble.py", "sounds.py", "audio.py"):
        path = STUDIO / "media" / name
        if path.exists():
            bad = [
                n
                for n in imports_of(path)
                if matches(n, ("studio.db", "studio.config", "sqlalchemy"))
            ]
            assert bad == [], f"media/{name} imports {bad}"


def test_services_flush_and_never_commit() -> None:
    offenders = [
        str(path.relative_to(STUDIO))
        for path in domain_files()
        if path.name != "session.py" and ".commit()" in path.read_text()
    ]
    assert offenders == []


def test_edges_reach_the_database_through_services_only() -> None:
    """UI and API modules use services; they do not build queries themselves."""
    offenders = {}
    for edge in ("ui", "api"):
        for path in (STUDIO / edge).rglob("*.py"):
            bad = sorted(
                n for n in imports_of(path) if n == "sqlalchemy" or n.startswith("sqlalchemy.sql")
            )
            if bad:
                offenders[str(path.relative_to(STUDIO))] = bad
    # Session objects may be passed through (type hints), queries may not be built.
    assert {k: v for k, v in offenders.items() if v != ["sqlalchemy.orm"]} == {}


def test_importing_the_web_app_does_not_import_torch() -> None:
    code = (
        "import sys, studio.app, studio.cli, studio.worker\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    """The scanner itself works: a domain file importing gradio is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import gradio as gr\nfrom studio.api import deps\nimport torch.nn\n")
    names = imports_of(bad)
    assert matches("gradio", WEB) and "gradio" in names
    assert any(matches(n, WEB) for n in names if n.startswith("studio.api"))
    assert any(matches(n, HEAVY) for n in names)


# ---------------------------------------------------------------- layers and cycles

# Domains in layer order: each may import those before it, never those after it
# (not even inside a function). db.all_models gathers every model for metadata.
LAYERS = ["db", "accounts", "media", "generation", "projects", "jams", "uploads"]
GATHERS_ALL = {"studio.db.all_models"}


def module_graph(root: Path, package: str = "studio") -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports, anywhere in the file (function
    bodies included; type-checking-only imports left out), relative imports
    resolved. `from pkg import sub` counts as an import of pkg.sub when sub is a
    module, else of pkg."""
    modules: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in runtime_nodes(ast.parse(path.read_text(), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join(here + ([node.module] if node.module else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                targets = subs + ([base] if len(subs) < len(node.names) else [])
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, except under `if TYPE_CHECKING:` (type-only imports never run)."""
    found: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_domains_import_only_the_layers_below_them() -> None:
    upward = []
    for module, imported in module_graph(STUDIO).items():
        here = layer_of(module)
        if here is None or module in GATHERS_ALL:
            continue
        upward += [f"{module} -> {o}" for o in imported if (layer_of(o) or -1) > here]
    assert sorted(upward) == []


def test_no_import_cycles() -> None:
    assert cycles(module_graph(STUDIO)) == []


def test_the_cycle_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def late():\n    from .. import a\n    return a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
    )
    graph = module_graph(package, "pkg")
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.c"] == set()  # a type-only import is no cycle
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]
