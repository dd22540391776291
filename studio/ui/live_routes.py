"""Plain HTTP routes the pages poll, outside Gradio's event queue.

`GET /ui/projects/<id>/changes?shot=<id>&take=<id>`: the Projects page's 2 s
poll (pages/project_live.py). It answers `{"seen": <fingerprint>}` of what a
view of that project, shot and take shows right now: one small stamp query
after the access check. The page compares it with the fingerprint of what it
was last sent and asks for a render (a Gradio event) only when they differ.

Who is asking: the session cookie or an API key (auth/sessions.resolve_actor),
as for every other route; a project this person cannot see is a 404 that
names nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from studio.auth.sessions import actor_in_session
from studio.config import Settings
from studio.db.base import ID_MAX
from studio.db.session import Database
from studio.errors import StudioError
from studio.ui.pages import project_live

Id = Annotated[int, Path(ge=1, le=ID_MAX)]
OptionalId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
NO_STORE = {"Cache-Control": "no-store"}


def build_live_router(db: Database, settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    ttl = settings.media_url_ttl_seconds

    @router.get("/ui/projects/{project_id}/changes")
    async def project_changes(
        request: Request, project_id: Id, shot: OptionalId = None, take: OptionalId = None
    ) -> JSONResponse:
        def seen() -> str:
            with db.session_scope() as session:
                actor = actor_in_session(session, request)
                if actor is None:
                    raise _SignedOut
                return project_live.fingerprint(
                    project_live.look(session, actor, ttl, project_id, shot, take)
                )

        try:
            # One thread hop and one transaction for the caller and the stamp.
            fingerprint = await run_in_threadpool(seen)
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
        return JSONResponse({"seen": fingerprint}, headers=NO_STORE)

    return router


class _SignedOut(Exception):
    pass
