"""A shot's reference image: decoded with the upload caps, stored, then set."""

from __future__ import annotations

import io
import uuid

from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.errors import InvalidInput
from studio.generation.context import Generation
from studio.media import images
from studio.media import service as media
from studio.media.ffmpeg import MediaError
from studio.media.storage import Storage
from studio.projects import service as projects
from studio.projects.models import Project, Shot


def set_reference_image(
    session: Session,
    actor: Actor,
    shot_id: int,
    gen: Generation,
    data: bytes | None,
    *,
    expected_version: int,
) -> Shot:
    """Store `data` (PNG/JPEG/WebP) as the shot's reference; None or b"" clears it."""
    return store_reference_image(
        session,
        actor,
        shot_id,
        gen.storage,
        data,
        max_bytes=gen.settings.max_upload_bytes,
        max_pixels=gen.settings.max_image_pixels,
        expected_version=expected_version,
    )


def store_reference_image(
    session: Session,
    actor: Actor,
    shot_id: int,
    storage: Storage,
    data: bytes | None,
    *,
    max_bytes: int,
    max_pixels: int,
    expected_version: int | None,
) -> Shot:
    """As set_reference_image, for callers holding a store rather than a Generation
    (direct uploads finished on a worker). `expected_version` None: the shot's current."""
    shot = projects.get_shot(session, actor, shot_id, Role.EDITOR)
    version = shot.version if expected_version is None else expected_version
    if not data:
        return projects.set_reference(session, actor, shot.id, None, expected_version=version)
    try:
        image = images.load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    except MediaError as exc:
        raise InvalidInput(str(exc), code="invalid_image") from None
    project = session.get(Project, shot.project_id)
    assert project is not None
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    asset = media.write_reference(
        session,
        storage,
        workspace_id=project.workspace_id,
        key=f"ws{project.workspace_id}/refs/{uuid.uuid4().hex}.png",
        png_bytes=buffer.getvalue(),
        width=image.width,
        height=image.height,
    )
    return projects.set_reference(session, actor, shot.id, asset.id, expected_version=version)
