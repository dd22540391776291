"""Video to video (restyling a take): the checks and job fields of a submission
that names a source video. Kept apart from service.submit_job so each stays small.

A restyle renders the source's frames, sampled evenly over the whole clip, at
the model's size and frame count under a new prompt; `strength` says how far
it may move from them (0 keeps the source, 1 ignores it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.errors import InvalidInput, NotFound
from studio.generation import registry as reg
from studio.media import service as media

if TYPE_CHECKING:
    from studio.generation.service import Submission

MODE = "video_to_video"
DEFAULT_STRENGTH = 0.7
STRENGTH_MIN, STRENGTH_MAX = 0.1, 1.0


def able_models(registry: reg.Registry) -> list[str]:
    return [m.key for m in registry.all() if m.supports(MODE)]


def check_video_to_video(
    session: Session,
    actor: Actor,
    workspace_id: int,
    request: Submission,
    spec: reg.ModelSpec,
    registry: reg.Registry,
) -> None:
    """A source video goes with video_to_video and nothing else; the model can
    restyle (resolve() already refused a model without the mode), and the source
    is a video of this workspace."""
    if request.mode != MODE:
        if request.source_video is not None or request.strength is not None:
            raise InvalidInput(
                f"A source video and a strength are for video_to_video, not {request.mode}.",
                code="unsupported_control",
            )
        return
    if request.source_video is None:
        raise InvalidInput("Video to video needs a source video.", code="video_required")
    if request.last_frame is not None:
        raise InvalidInput(
            "Video to video takes no first or last frame.", code="unsupported_control"
        )
    strength = request.strength
    if strength is not None and not STRENGTH_MIN <= strength <= STRENGTH_MAX:
        raise InvalidInput(
            f"Strength goes from {STRENGTH_MIN} to {STRENGTH_MAX}.", code="invalid_strength"
        )
    asset = media.get_asset(session, actor, request.source_video)
    if asset.workspace_id != workspace_id:
        raise NotFound("No such video in this workspace.", code="asset_not_found")
    if not asset.mime.startswith("video/"):
        raise InvalidInput("Only a video can be restyled.", code="asset_not_video")


def video_params(request: Submission) -> dict[str, Any]:
    """The job's extra fields for a restyle (none for the other modes)."""
    if request.mode != MODE:
        return {}
    strength = DEFAULT_STRENGTH if request.strength is None else request.strength
    return {"source_asset_id": request.source_video, "strength": strength}


def unsupported_message(spec: reg.ModelSpec, registry: reg.Registry) -> str:
    able = able_models(registry)
    return f"{spec.name} cannot restyle a video (video_to_video). " + (
        f"Models that can: {', '.join(able)}." if able else "No model here can."
    )
