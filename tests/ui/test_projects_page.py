"""The Projects page handlers: project -> three shots -> a take each -> circle ->
storyboard posters -> rough cut, as a signed-in browser calls them; viewers and
other workspaces are refused."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from studio.accounts.models import Role
from studio.db.session import Database
from tests.factories import UIError, add_member, call_ui, login, make_user, make_workspace


def wait_for_posters(http: httpx.Client, ws: int, project: int, count: int) -> str:
    deadline = time.monotonic() + 60
    while True:
        board = call_ui(http, "refresh_project", ws, project)[3]
        if len(re.findall(r'<img src="/media/', board)) >= count:
            return str(board)
        assert time.monotonic() < deadline, board
        time.sleep(0.3)


def test_from_shot_list_to_rough_cut_through_the_page(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    created = call_ui(http, "create_project", team.id, "The Lighthouse")
    project_id = created[2]["value"]
    assert project_id
    shots = []
    for text in ("Wide: the lighthouse at dusk", "Close: the keeper's hands", "Wide: the beam"):
        result = call_ui(http, "add_shot", team.id, project_id, text)
        shots = result[5]["choices"]
    assert [label.split(" · ")[0] for label, _ in shots] == [
        "SC01-SH010",
        "SC01-SH020",
        "SC01-SH030",
    ]
    for _, shot_id in shots:
        call_ui(http, "generate_shot_take", team.id, project_id, shot_id)
    # Each take must exist before it can be circled (newest take of each shot).
    for _, shot_id in shots:
        call_ui(http, "circle_newest_take", team.id, project_id, shot_id)
    board = wait_for_posters(http, team.id, project_id, 3)
    assert board.count('class="take shot-card"') == 3 and "take 1" in board
    call_ui(http, "render_rough_cut", team.id, project_id)
    deadline = time.monotonic() + 90
    while True:
        player = call_ui(http, "refresh_project", team.id, project_id)[5]
        if "<video" in player:
            break
        assert "failed" not in player, player
        assert time.monotonic() < deadline, player
        time.sleep(0.5)
    src = re.search(r'src="(/media/[^"]+)"', player)
    assert src is not None
    assert http.get(src.group(1)).headers["content-type"] == "video/mp4"


def test_viewers_and_outsiders_cannot_change_projects(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    owner = httpx.Client(base_url=str(http.base_url))
    login(owner, team.owner)
    project_id = call_ui(owner, "create_project", team.id, "Private")[2]["value"]
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    login(http, viewer)
    assert call_ui(http, "refresh_project", team.id, project_id)[3]  # viewers read
    with pytest.raises(UIError, match="editor role"):
        call_ui(http, "add_shot", team.id, project_id, "Sneaky")
    with pytest.raises(UIError, match="editor role"):
        call_ui(http, "render_rough_cut", team.id, project_id)
    outsider = make_workspace(db)
    stranger = httpx.Client(base_url=str(http.base_url))
    login(stranger, outsider.owner)
    with pytest.raises(UIError, match="No such project"):
        call_ui(stranger, "add_shot", outsider.id, project_id, "Sneaky")
    with pytest.raises(UIError, match="not found"):
        call_ui(stranger, "refresh_project", team.id, project_id)
