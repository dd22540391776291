"""Every page handler that reads an uploaded file refuses a path on the
server that the browser did not upload (Gradio mounted on FastAPI does not
check this itself). A real upload through /gradio_api/upload still works."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from studio.db.session import Database
from tests.factories import UIError, call_ui, login, make_user, make_workspace, upload_ui_file
from tests.jams.helpers import film_bytes
from tests.ui.test_jams_page import running_jam
from tests.ui.test_projects_page import add_shot, new_project


def server_file(folder: Path, name: str, data: bytes) -> dict[str, Any]:
    """A file that exists on the server but was never uploaded by this client."""
    path = folder / name
    path.write_bytes(data)
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (10, 200, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_file_handlers_refuse_server_paths(
    db: Database, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    shot = add_shot(http, team.id, project, "Close: a key")[0][1]
    image = server_file(tmp_path, "secret.png", png())
    video = server_file(tmp_path, "secret.mp4", film_bytes())
    sheet = server_file(tmp_path, "secret.csv", b"scene,description\n1,leaked\n")
    attempts: list[tuple[str, tuple[Any, ...]]] = [
        ("set_shot_reference", (shot, image, 1)),
        ("upload_take", (project, shot, video)),
        ("import_shots_csv", (team.id, project, None, None, False, sheet)),
        (
            "generate",
            (
                team.id,
                "animatic",
                "image_to_video",
                "x",
                "",
                image,
                "960:960",
                2,
                "static",
                0.5,
                False,
                1,
            ),
        ),
    ]
    for name, args in attempts:
        with pytest.raises(UIError, match="not uploaded"):
            call_ui(http, name, *args)
            pytest.fail(f"{name} read a server file")
    # The real thing still works.
    form = call_ui(http, "set_shot_reference", shot, upload_ui_file(http, "ref.png", png()), 1)
    assert '<img class="reference"' in form[1 + 11]


def test_jam_entry_refuses_server_paths(db: Database, http: httpx.Client, tmp_path: Path) -> None:
    slug, _ = running_jam(db)
    captain = make_user(db, "captain")
    login(http, captain)
    call_ui(http, "register_team", slug, "Otters")
    film = server_file(tmp_path, "secret.mp4", film_bytes())
    poster = server_file(tmp_path, "secret.png", png())
    with pytest.raises(UIError, match="not uploaded"):
        call_ui(http, "save_entry", slug, "Night", "", "", None, film, None)
    with pytest.raises(UIError, match="not uploaded"):
        call_ui(http, "save_entry", slug, "Night", "", "", poster, None, None)
