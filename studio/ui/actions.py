"""ui_action: how every Gradio handler resolves its caller and reports errors.

Gradio is not an authorization boundary: each handler is a public endpoint
(/gradio_api/call/<api_name>) that any signed-in user can call with any
arguments. So every handler opens its session here, gets the Actor from the
request, and passes it to a service, which checks membership itself.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts import apikeys
from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.db.session import Database
from studio.errors import NotAuthenticated, StudioError

log = logging.getLogger(__name__)

SIGNED_OUT = "Your session has ended. Reload the page to sign in again."


def username_for(actor: Actor) -> str:
    """What the auth dependency hands Gradio as request.username."""
    if actor.api_key_id is not None:
        return f"key:{actor.api_key_id}"
    return f"user:{actor.user_id}"


def actor_from_username(session: Session, username: str | None) -> Actor:
    kind, _, ident = (username or "").partition(":")
    if not ident.isdigit():
        raise NotAuthenticated(SIGNED_OUT)
    if kind == "key":
        return apikeys.actor_for_key_id(session, int(ident))
    user = session.get(User, int(ident)) if kind == "user" else None
    if user is None:
        raise NotAuthenticated(SIGNED_OUT)
    return Actor(user=user)


@contextmanager
def ui_action(db: Database, request: gr.Request | None) -> Iterator[tuple[Session, Actor]]:
    """One transaction for one UI event; StudioError becomes a readable gr.Error."""
    try:
        with db.session_scope() as session:
            actor = actor_from_username(session, getattr(request, "username", None))
            yield session, actor
    except StudioError as exc:
        raise gr.Error(exc.message, print_exception=False) from None
    except gr.Error:
        raise
    except Exception:
        reference = uuid.uuid4().hex[:12]
        log.exception("UI action failed (reference %s)", reference)
        raise gr.Error(
            f"Something went wrong on our side (reference {reference}). Try again.",
            print_exception=False,
        ) from None
