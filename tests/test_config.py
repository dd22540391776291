"""Secret keys: generated for the embedded default, required and strong otherwise."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from studio.app import create_app
from studio.config import ConfigError, Settings

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_embedded_default_generates_and_keeps_a_private_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.is_embedded
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/studio.db"
    assert settings.media_path == tmp_path / "media"
    key = settings.resolved_secret_key()
    assert len(key) >= 32
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert Settings(data_dir=tmp_path).resolved_secret_key() == key  # survives a restart


def test_deployments_refuse_a_missing_or_weak_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="STUDIO_SECRET_KEY is not set"):
        Settings(data_dir=tmp_path, database_url=PG).resolved_secret_key()
    with pytest.raises(ConfigError, match="too weak"):
        Settings(
            data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0", secret_key="changeme"
        ).resolved_secret_key()
    with pytest.raises(ConfigError, match="too weak"):
        create_app(Settings(data_dir=tmp_path, database_url=PG, secret_key="x" * 31))
    assert not (tmp_path / "secret_key").exists()
    strong = "k" * 48
    assert (
        Settings(data_dir=tmp_path, database_url=PG, secret_key=strong).resolved_secret_key()
        == strong
    )


def test_settings_come_from_studio_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_BASE_URL", "https://studio.example")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.secure_cookies
