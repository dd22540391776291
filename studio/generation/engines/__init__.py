"""Engines turn a GenerationRequest into frames. Loaded lazily by name, so
importing the studio never imports torch; only the diffusers engine does.
"""

from __future__ import annotations

import importlib

from studio.generation.engines.base import Engine

_ENGINE_MODULES = {
    "animatic": "studio.generation.engines.animatic",
    "diffusers": "studio.generation.engines.diffusers_engine",
}
_loaded: dict[str, Engine] = {}
_options: dict[str, dict[str, object]] = {}


def configure(name: str, **options: object) -> None:
    """Options passed to an engine's create_engine() when it is first made."""
    _options[name] = options


def get_engine(name: str) -> Engine:
    """The process-wide engine instance (the diffusers one keeps pipelines warm)."""
    if name not in _loaded:
        module = importlib.import_module(_ENGINE_MODULES[name])
        _loaded[name] = module.create_engine(**_options.get(name, {}))
    return _loaded[name]


def loaded_engine(name: str) -> Engine | None:
    """The engine if this process has already created it (for warm-model hints)."""
    return _loaded.get(name)
