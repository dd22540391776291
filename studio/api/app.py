"""The JSON API, mounted at /v1 (OpenAPI at /v1/openapi.json)."""

from __future__ import annotations

from fastapi import FastAPI

from studio import __version__
from studio.api import accounts, errors, jams, projects, review, takes, tasks, webhooks
from studio.db.session import Database
from studio.generation.context import Generation


def create_api(db: Database, generation: Generation, media_secret: str) -> FastAPI:
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
    api.state.generation = generation
    api.state.media_secret = media_secret
    errors.install(api)
    api.include_router(accounts.router)
    api.include_router(tasks.router)
    api.include_router(webhooks.router)
    api.include_router(projects.router)
    api.include_router(takes.router)
    api.include_router(jams.router)
    api.include_router(review.router)
    return api
