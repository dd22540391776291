"""One Settings object for the whole studio (env prefix STUDIO_).

The embedded default needs nothing configured: SQLite and media under
./data, no Redis, jobs in-process, a generated secret key kept in ./data.
Anything beyond that (Postgres, Redis) is a deployment, and a deployment
must bring its own strong secret key.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Placeholder values people paste from examples; never accepted as a key.
_WEAK_SECRETS = {"secret", "changeme", "change-me", "password", "studio", "dev", "test"}
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The settings cannot run a studio; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    media_dir: Path | None = None
    redis_url: str = ""
    base_url: str = "http://127.0.0.1:7860"
    host: str = "127.0.0.1"
    port: int = 7860
    secret_key: SecretStr = SecretStr("")

    # Sign-in protection: this many failures per email or per client address
    # inside the window locks further attempts until the window passes.
    login_max_failures: int = 5
    login_window_seconds: int = 900

    # Generation: the model registry, job leases, retries and dispatch.
    models_file: Path | None = None  # default: the registry shipped in studio/generation
    job_lease_seconds: int = 60  # a running job whose heartbeat stops this long is requeued
    job_heartbeat_seconds: float = 5.0
    job_max_attempts: int = 3
    # Each worker's loop: presence report, reaper, queue snapshots, wake-ups.
    maintenance_interval_seconds: float = 5.0
    # Celery queue names are "<prefix>gpu" and "<prefix>cpu" (tests isolate with a prefix).
    queue_prefix: str = ""
    model_memory_budget_gb: float = 20.0  # warm pipelines kept per GPU worker
    torch_threads: int = 2  # pinned: same seed -> same frames across workers
    # Uploads and media.
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    media_url_ttl_seconds: int = 3600
    # Where media lives: "" = the local folder media_dir (embedded default);
    # "s3://bucket/prefix" = any S3 API through boto3, credentials the standard
    # AWS way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, a role).
    storage_url: str = ""
    s3_endpoint_url: str = ""  # MinIO, R2, Ceph...; empty for AWS S3
    # The store's address as browsers see it, when it differs from the hosts' one.
    s3_public_endpoint_url: str = ""
    s3_region: str = ""
    storage_check_on_start: bool = True  # `studio serve`/`worker` prove write/read/delete first
    # Direct uploads (browser -> store): part size, how long part URLs stay valid,
    # and up to what size the web probes a finished upload itself (larger: a cpu worker).
    upload_part_bytes: int = 16 * 1024 * 1024
    upload_url_ttl_seconds: int = 3600
    upload_probe_inline_bytes: int = 64 * 1024 * 1024
    upload_expire_hours: int = 24  # unfinished uploads older than this are aborted
    # Files sent to the pages (Gradio's upload folder): per person and window,
    # at most this many files and bytes; files older than the TTL are removed
    # by a sweep of the web process (at start-up, then every interval).
    upload_window_seconds: int = 3600
    upload_max_files_per_window: int = 200
    upload_max_bytes_per_window: int = 6 * 1024**3
    upload_ttl_seconds: int = 6 * 3600
    upload_sweep_interval_seconds: float = 600.0
    # Webhooks to private, loopback or link-local addresses (single-machine installs, tests).
    webhooks_allow_private: bool = False
    webhook_timeout_seconds: float = 5.0  # per connect / send / read
    # Delivery retries: attempt n waits base * 2^(n-1) seconds (capped, +-20% jitter),
    # so the defaults keep trying for about two hours, then mark the event failed.
    webhook_max_attempts: int = 10
    webhook_backoff_base_seconds: float = 15.0
    webhook_backoff_max_seconds: float = 3600.0
    # A claimed attempt is another worker's to retry after this long (its sender died).
    webhook_lease_seconds: float = 60.0
    # Origins (scheme://host[:port]) besides STUDIO_BASE_URL's trusted to send
    # cookie requests and read answers (CORS). A JSON list; empty by default.
    cors_origins: list[str] = []

    # One generic OpenID Connect provider (Keycloak, Authentik, Google, ...).
    oidc_name: str = ""
    oidc_discovery_url: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    # GitHub preset (OAuth 2 with PKCE; GitHub issues no id_token).
    github_client_id: str = ""
    github_client_secret: SecretStr = SecretStr("")
    github_api_url: str = "https://api.github.com"
    github_authorize_url: str = "https://github.com/login/oauth/authorize"
    github_token_url: str = "https://github.com/login/oauth/access_token"  # noqa: S105

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'studio.db').as_posix()}"
        if self.media_dir is None:
            self.media_dir = self.data_dir / "media"
        if self.webhook_lease_seconds <= 3 * self.webhook_timeout_seconds:
            # An attempt may take up to 3 timeouts (connect, send, answer): a shorter
            # lease would let another worker send the same attempt while it runs.
            raise ValueError(
                "STUDIO_WEBHOOK_LEASE_SECONDS must be more than 3 x STUDIO_WEBHOOK_TIMEOUT_SECONDS"
            )
        return self

    @property
    def is_embedded(self) -> bool:
        """The zero-configuration mode: SQLite and no Redis."""
        return self.database_url.startswith("sqlite") and not self.redis_url

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def media_path(self) -> Path:
        assert self.media_dir is not None  # filled by the validator
        return self.media_dir

    def resolved_secret_key(self) -> str:
        """The key that signs sessions.

        Embedded installs get a generated key kept in data/secret_key (0600)
        so sessions survive a restart. Deployments must set a strong one.
        """
        key = self.secret_key.get_secret_value()
        if key:
            if len(key) < MIN_SECRET_LENGTH or key.lower() in _WEAK_SECRETS:
                raise ConfigError(
                    f"STUDIO_SECRET_KEY is too weak: use at least {MIN_SECRET_LENGTH} random "
                    "characters, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
                )
            return key
        if not self.is_embedded:
            raise ConfigError(
                "STUDIO_SECRET_KEY is not set. Outside the embedded default (SQLite, no Redis) "
                "Studio needs a secret key of at least 32 random characters."
            )
        return _embedded_secret_key(self.data_dir)


def _embedded_secret_key(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
