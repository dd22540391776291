"""The JSON API, mounted at /v1 (OpenAPI at /v1/openapi.json)."""

from __future__ import annotations

from fastapi import FastAPI

from studio import __version__
from studio.api import accounts, errors, jams, projects, review, takes, tasks, uploads, webhooks
from studio.db.session import Database
from studio.generation.context import Generation


def create_api(db: Database, generation: Generation, media_secret: str) -> FastAPI:
    api = FastAPI(
        title="Studio API",
        version=__version__,
        description=(
            "Authenticate with `Authorization: Bearer <api key>` (cookies are never "
            "accepted here). A key acts as its person inside one workspace: it cannot "
            "manage API keys, passwords or workspaces (403 `session_required`), and it "
            "organizes only the jams its person created or was appointed to.\n\n"
            'Every error is `{"error": "<code>", "message": "<text>"}`, 404 and 405 (with '
            "`Allow`) included. Ids are whole numbers from 1 to 2147483647: outside that "
            "range, a path answers 404 and a query or body 422. NaN, Infinity and NUL "
            "characters are refused. Raw uploads take the media types listed per "
            "operation (415 otherwise). An `Idempotency-Key` reused with a different "
            "request answers 409."
        ),
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
    api.include_router(uploads.router)
    return api
