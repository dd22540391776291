"""Plain HTTP routes the pages poll, outside Gradio's event queue.

`GET /ui/projects/<id>/changes?shot=<id>&take=<id>&have=<token>`: the Projects
page's 2 s poll (pages/project_live.py). `have` is the token of what the page
shows; the answer is `{"have": <token now>, "parts": {<part>: <html>},
"render": <bool>}`: the HTML parts whose inputs moved since, rendered, and
whether the page should ask Gradio for the parts that are not HTML. When
nothing moved it is one small stamp query after the access check.

Who is asking: the session cookie or an API key (auth/sessions.resolve_actor),
as for every other route; a project this person cannot see is a 404 that
names nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from studio.auth.sessions import actor_in_session
from studio.db.base import ID_MAX
from studio.db.session import Database
from studio.errors import StudioError
from studio.generation.context import Generation
from studio.ui.media_urls import stable_signer
from studio.ui.pages import project_live

Id = Annotated[int, Path(ge=1, le=ID_MAX)]
OptionalId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
# A token is a few hex digits per part; anything longer is not one of ours.
Token = Annotated[str | None, Query(max_length=200)]
NO_STORE = {"Cache-Control": "no-store"}


def build_live_router(db: Database, generation: Generation, media_secret: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    source = project_live.LiveRenderer(
        generation=generation,
        url=stable_signer(media_secret, generation.settings.media_url_ttl_seconds),
    )

    @router.get("/ui/projects/{project_id}/changes")
    async def project_changes(
        request: Request,
        project_id: Id,
        shot: OptionalId = None,
        take: OptionalId = None,
        have: Token = None,
    ) -> JSONResponse:
        def answer() -> dict[str, Any]:
            with db.session_scope() as session:
                actor = actor_in_session(session, request)
                if actor is None:
                    raise _SignedOut
                return project_live.changes_since(
                    source, session, actor, project_id, shot, take, have
                )

        try:
            # One thread hop and one transaction for the caller, the stamp and the parts.
            body = await run_in_threadpool(answer)
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

    return router


class _SignedOut(Exception):
    pass
