"""Plain HTTP routes the pages poll, outside Gradio's event queue (ui/live_poll.py).

- `GET /ui/projects/<id>/changes?shot=<id>&take=<id>&have=<token>`: the
  Projects page's 2 s poll (pages/project_live.py);
- `GET /ui/generate/changes?workspace=<id>&have=<token>`: the Generate page's
  (generate/live.py).

`have` is the token of what the page shows; the answer is `{"have": <token
now>, "parts": {<part>: <html>}, "render": <bool>}`: the HTML parts whose
inputs moved since, rendered, and whether the page should ask Gradio for the
parts that are not HTML. When nothing moved it is one small stamp query after
the access check.

Who is asking: the session cookie or an API key (auth/sessions.resolve_actor),
as for every other route; a project or workspace this person cannot see is a
404 that names nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from studio.accounts.access import Actor
from studio.auth.sessions import actor_in_session
from studio.db.base import ID_MAX
from studio.db.session import Database
from studio.errors import StudioError
from studio.generation.context import Generation
from studio.ui import live_poll
from studio.ui.generate import live as generate_live
from studio.ui.media_urls import stable_signer
from studio.ui.pages import project_live

Id = Annotated[int, Path(ge=1, le=ID_MAX)]
OptionalId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
QueryId = Annotated[int, Query(ge=1, le=ID_MAX)]
# A token is a few hex digits per part; anything longer is not one of ours.
Token = Annotated[str | None, Query(max_length=200)]
NO_STORE = {"Cache-Control": "no-store"}


def build_live_router(db: Database, generation: Generation, media_secret: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    source = live_poll.LiveRenderer(
        generation=generation,
        url=stable_signer(media_secret, generation.settings.media_url_ttl_seconds),
    )

    async def answer(request: Request, make: Callable[[Session, Actor], dict[str, Any]]) -> Any:
        """The caller and the answer in one transaction, on one thread hop."""

        def run() -> dict[str, Any]:
            with db.session_scope() as session:
                actor = actor_in_session(session, request)
                if actor is None:
                    raise _SignedOut
                return make(session, actor)

        try:
            body = await run_in_threadpool(run)
        except _SignedOut:
            return JSONResponse(
                {"error": "not_authenticated", "message": "Sign in again."},
                status_code=401,
                headers=NO_STORE,
            )
        except StudioError as exc:
            return JSONResponse(
                {"error": exc.code, "message": exc.message},
                status_code=exc.status,
                headers=NO_STORE,
            )
        return JSONResponse(body, headers=NO_STORE)

    @router.get("/ui/projects/{project_id}/changes")
    async def project_changes(
        request: Request,
        project_id: Id,
        shot: OptionalId = None,
        take: OptionalId = None,
        have: Token = None,
    ) -> Any:
        return await answer(
            request,
            lambda session, actor: project_live.changes_since(
                source, session, actor, project_id, shot, take, have
            ),
        )

    @router.get("/ui/generate/changes")
    async def generate_changes(request: Request, workspace: QueryId, have: Token = None) -> Any:
        return await answer(
            request,
            lambda session, actor: generate_live.changes_since(
                source, session, actor, workspace, have
            ),
        )

    return router


class _SignedOut(Exception):
    pass
