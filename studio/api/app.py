"""The JSON API, mounted at /v1 (OpenAPI at /v1/openapi.json)."""

from __future__ import annotations

from fastapi import FastAPI

from studio import __version__
from studio.api import accounts, errors
from studio.db.session import Database


def create_api(db: Database) -> FastAPI:
    api = FastAPI(
        title="Studio API",
        version=__version__,
        description="Authenticate with `Authorization: Bearer <api key>`. "
        'Errors are `{"error": "<code>", "message": "<text>"}`.',
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.db = db
    errors.install(api)
    api.include_router(accounts.router)
    return api
