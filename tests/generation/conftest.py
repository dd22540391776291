"""Generation fixtures: tiny random-weight diffusers pipelines, built once per session.

Needs the `ml` extra (torch, diffusers, transformers). Without it the tests
that use these fixtures skip locally and fail in CI, like the other services.
Nothing is imported from torch until a fixture asks for it.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import pytest

from studio.generation.registry import Registry, load_registry

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ML_PACKAGES = ("torch", "diffusers", "transformers")


def require_ml() -> None:
    missing = [name for name in ML_PACKAGES if find_spec(name) is None]
    if missing:
        message = f"the ml extra is not installed (missing {', '.join(missing)})"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the diffusers engine", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The models.toml of a freshly written set of tiny pipelines (plus the animatic)."""
    require_ml()
    from studio.generation.engines.diffusers_tiny import make_tiny

    return make_tiny(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def tiny_registry(tiny_models: Path) -> Registry:
    return load_registry(tiny_models)
