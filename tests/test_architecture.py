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


def test_media_ffmpeg_and_storage_are_pure() -> None:  # s3.py: the storage backend too
    for name in ("ffmpeg.py", "storage.py", "s3.py"):
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
