"""The Projects page handlers, called the way a signed-in browser (or anyone
with a session) calls them: `/gradio_api/call/<api_name>`.

Covers the whole loop (project -> shots -> takes -> circle -> storyboard ->
rough cut), the shot tab (edit with a version check, re-roll, vary, extend,
favorite, rate, comment with a timecode and a status change), the shot list
(reorder keeps codes, duplicate, delete and restore), and who may do what.
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from studio.accounts.models import Role
from studio.db.session import Database
from studio.generation.models import Job
from studio.media import ffmpeg
from studio.projects import takes
from studio.projects.models import Take
from tests.factories import (
    UIError,
    add_member,
    call_ui,
    live_view,
    login,
    make_user,
    make_workspace,
    upload_ui_file,
)
from tests.ui.named import call_event

# Output positions (see ProjectUI.frame and ProjectUI.live in ui/pages/projects.py).
FRAME = {"project": 1, "shot": 3, "deleted": 4, "info": 9, "table": 11}
LIVE = {
    "info": 0,
    "board": 1,
    "table": 2,
    "grid": 3,
    "take": 4,
    "comments": 5,
    "feed": 6,
    "cut": 7,
}
FORM = {"header": 0, "description": 1, "prompt": 4, "status": 8, "version": 10}


def client_for(server: httpx.Client) -> httpx.Client:
    return httpx.Client(base_url=str(server.base_url), timeout=30)


def new_project(http: httpx.Client, ws: int, title: str = "The Lighthouse") -> int:
    out = call_ui(http, "create_project", ws, title, "A keeper's last night", "1280:720", 24, False)
    project_id = out[3 + FRAME["project"]]["value"]
    assert isinstance(project_id, int)
    return project_id


def add_shot(http: httpx.Client, ws: int, project: int, text: str) -> list[Any]:
    out = call_ui(http, "add_shot", ws, project, None, None, False, text, "", None)
    return list(out[2 + FRAME["shot"]]["choices"])


def live(http: httpx.Client, project: int, shot: int | None, take: int | None) -> list[Any]:
    """The live parts in the order of LIVE."""
    shown = live_view(http, project, shot, take)
    return [shown["cuts" if name == "cut" else name] for name in LIVE]


def wait_takes(http: httpx.Client, project: int, shot: int, count: int) -> list[Any]:
    """Until the shot's grid shows `count` finished videos; returns the live outputs."""
    deadline = time.monotonic() + 90
    while True:
        out = live(http, project, shot, None)
        if out[LIVE["grid"]].count("<video") >= count:
            return out
        assert "failed" not in out[LIVE["grid"]].lower(), out[LIVE["grid"]]
        assert time.monotonic() < deadline, out[LIVE["grid"]]
        time.sleep(0.3)


def take_ids(out: list[Any]) -> list[int]:
    return [value for _, value in out[LIVE["take"]]["choices"]]


def card(http: httpx.Client, project: int, shot: int, take: int, action: str) -> dict[str, Any]:
    """Press a button on a take's card (the grid's click, with the card's take)."""
    return call_event(http, "take_card", {"take": take, "action": action}, project, shot)


def test_from_shot_list_to_rough_cut_through_the_page(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    assert "add the first shot" in live(http, project, None, None)[LIVE["info"]]
    shots = []
    for text in ("Wide: the lighthouse at dusk", "Close: the keeper's hands", "Wide: the beam"):
        shots = add_shot(http, team.id, project, text)
    assert [label.split(" · ")[0] for label, _ in shots] == [
        "SC01-SH010",
        "SC01-SH020",
        "SC01-SH030",
    ]
    for _, shot_id in shots:
        call_ui(http, "generate_shot_take", project, shot_id, None, "animatic", "7")
    for _, shot_id in shots:
        out = wait_takes(http, project, shot_id, 1)
        card(http, project, shot_id, take_ids(out)[0], "circle")
    now = live(http, project, None, None)
    board = now[LIVE["board"]]
    assert len(re.findall(r'<img src="/media/', board)) == 3, board
    assert "render the rough cut" in now[LIVE["info"]]  # the next step follows the work
    assert board.count("take 1") == 3
    call_ui(http, "render_rough_cut", project, None, None, False, False, "refuse", None, 25)
    deadline = time.monotonic() + 90
    while "<video" not in (player := live(http, project, None, None)[LIVE["cut"]]):
        assert "failed" not in player, player
        assert time.monotonic() < deadline, player
        time.sleep(0.5)
    src = re.search(r'src="(/media/[^"]+)"', player)
    assert src is not None and "download" in player
    assert http.get(src.group(1)).headers["content-type"] == "video/mp4"
    feed = live(http, project, None, None)[LIVE["feed"]]
    assert "circled take 1 of SC01-SH030" in feed and "added SC01-SH010" in feed
    assert "started rough cut v1 (3 shots)" in feed


def test_shot_tab_iterates_on_takes(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    shot = add_shot(http, team.id, project, "Wide: waves on the rocks")[0][1]
    call_ui(http, "generate_shot_take", project, shot, None, "animatic", "11")
    first = take_ids(wait_takes(http, project, shot, 1))[0]
    card(http, project, shot, first, "reroll")
    call_ui(http, "vary_take", project, shot, first, "waves at night", "")
    card(http, project, shot, first, "extend")
    out = wait_takes(http, project, shot, 4)
    grid = out[LIVE["grid"]]
    assert "re-roll of take 1" in grid and "variation of take 1" in grid
    assert "extends take 1" in grid and "seed 11" in grid

    card(http, project, shot, first, "favorite")
    out = call_ui(http, "rate_take", project, shot, first, 4)
    assert "★" in out[LIVE["grid"]] and "●●●●○" in out[LIVE["grid"]]
    picked = call_ui(http, "pick_take", first)
    assert picked[0]["value"] == first and picked[3] == 4

    # A comment at a timecode of take 1 that approves the shot.
    posted = call_ui(
        http, "post_comment", project, shot, first, "Keep this one", True, "0:01.5", "approved", []
    )
    comments = posted[4 + 12 + LIVE["comments"]]
    assert 'data-t="1.5"' in comments and "Keep this one" in comments
    assert posted[4 + FORM["status"]] == "approved"
    with pytest.raises(UIError, match="past its end"):
        call_ui(http, "post_comment", project, shot, first, "Too late", True, "9:00", "", [])
    with pytest.raises(UIError, match="not a timecode"):
        call_ui(http, "post_comment", project, shot, first, "When?", True, "soon", "", [])

    compared = call_ui(http, "compare_takes", first, take_ids(out)[0])
    assert 'id="compare-view"' in compared[0] and 'class="differs"' in compared[0]


def test_restyle_the_picked_take_from_the_shot_tab(db: Database, http: httpx.Client) -> None:
    """Video to video from the page: a new take of the shot whose parent is the source,
    its job a restyle of the source's video at the strength asked."""
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    shot = add_shot(http, team.id, project, "Wide: the harbour at noon")[0][1]
    call_ui(http, "generate_shot_take", project, shot, None, "animatic", "5")
    first = take_ids(wait_takes(http, project, shot, 1))[0]
    with pytest.raises(UIError, match="Write the prompt"):
        call_ui(http, "restyle_take", project, shot, first, "  ", 0.5)
    call_ui(http, "restyle_take", project, shot, first, "as a watercolour", 0.4)
    with db.session_scope() as session:
        source = session.get(Take, first)
        assert source is not None and source.job_id is not None
        source_job = session.get(Job, source.job_id)
        made = session.query(Take).filter(Take.shot_id == shot).order_by(Take.id.desc()).first()
        assert made is not None and made.id != first and made.parent_take_id == first
        job = session.get(Job, made.job_id)
        assert source_job is not None and job is not None
        assert job.mode == "video_to_video" and job.params["strength"] == 0.4
        assert job.params["source_asset_id"] == source_job.output_asset_id


def test_two_editors_never_overwrite_each_other(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    editor = make_user(db, "editor")
    add_member(db, team, editor, Role.EDITOR)
    other = client_for(http)
    login(other, editor)
    project = new_project(http, team.id)
    shot = add_shot(http, team.id, project, "Close: a match is struck")[0][1]

    mine = call_ui(http, "load_shot", project, shot, None, None)
    theirs = call_ui(other, "load_shot", project, shot, None, None)
    assert mine[FORM["version"]] == theirs[FORM["version"]] == 1

    def save(client: httpx.Client, form: list[Any], description: str) -> list[Any]:
        fields = form[1:9]
        fields[0] = description
        return call_ui(client, "save_shot", shot, *fields, None, form[FORM["version"]])

    saved = save(other, theirs, "Close: a match flares in the dark")
    assert saved[FORM["version"]] == 2
    with pytest.raises(UIError, match=r"changed by .* Reload"):
        save(http, mine, "Close: a match")
    reloaded = call_ui(http, "reload_shot", shot)
    assert reloaded[FORM["description"]] == "Close: a match flares in the dark"
    assert save(http, reloaded, "Close: a match, slow")[FORM["version"]] == 3


def test_shot_list_reorder_duplicate_delete_restore(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    for text in ("one", "two", "three"):
        shots = add_shot(http, team.id, project, text)
    third = shots[2][1]
    out = call_ui(http, "move_shot_up", team.id, project, third, None, False)
    codes = [label.split(" · ")[0] for label, _ in out[FRAME["shot"]]["choices"]]
    assert codes == ["SC01-SH010", "SC01-SH030", "SC01-SH020"]  # moved, code kept
    out = call_ui(http, "duplicate_shot", team.id, project, third, None, False)
    labels = [label for label, _ in out[FRAME["shot"]]["choices"]]
    assert labels[-1].startswith("SC01-SH040 · three")
    feed = live(http, project, None, None)[LIVE["feed"]]
    assert "duplicated SC01-SH030 as SC01-SH040" in feed and "added SC01-SH040" not in feed
    out = call_ui(http, "delete_shot", team.id, project, third, None, False)
    assert "SC01-SH030" not in out[FRAME["table"]]
    assert out[FRAME["deleted"]]["choices"] == [["SC01-SH030 · three", third]]
    out = call_ui(http, "restore_shot", team.id, project, None, None, False, third)
    assert "SC01-SH030" in out[FRAME["table"]]
    exported = call_ui(http, "export_shots_csv", project)
    assert exported[0]["orig_name"].endswith("-shots.csv")


def test_csv_import_names_bad_rows_and_imports_nothing(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    bad = (
        b"scene,description,prompt,duration,status\n"
        b"1,Wide: harbour,boats at dawn,4,todo\n"
        b"1,Close: rope,,-3,todo\n"
        b"2,Wide: cliffs,,5,finished\n"
    )
    with pytest.raises(UIError, match=r"(?s)[Rr]ow 3.*[Rr]ow 4"):
        call_ui(
            http,
            "import_shots_csv",
            team.id,
            project,
            None,
            None,
            False,
            upload_ui_file(http, "bad.csv", bad),
        )
    assert "The shot list is empty" in live(http, project, None, None)[LIVE["table"]]
    good = b"scene,description,prompt,duration\n1,Wide: harbour,boats at dawn,4\n2,Cliffs,,5\n"
    out = call_ui(
        http,
        "import_shots_csv",
        team.id,
        project,
        None,
        None,
        False,
        upload_ui_file(http, "good.csv", good),
    )
    table = out[1 + FRAME["table"]]
    assert "SC01-SH010" in table and "SC02-SH010" in table


def test_reference_image_and_live_updates_between_members(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    editor = make_user(db, "editor")
    add_member(db, team, editor, Role.EDITOR)
    other = client_for(http)
    login(other, editor)
    project = new_project(http, team.id)
    shot = add_shot(http, team.id, project, "Close: the door")[0][1]
    image = upload_ui_file(http, "door.png", _png())
    form = call_ui(http, "set_shot_reference", shot, image, 1)
    assert '<img class="reference"' in form[1 + 11] and form[1 + FORM["version"]] == 2
    board = live(other, project, None, None)[LIVE["board"]]
    assert 'alt="SC01-SH010 reference"' in board  # no circled take yet: the reference shows
    with pytest.raises(UIError, match="changed by"):
        # Stale version (and their own upload: another member's is not theirs to use).
        call_ui(other, "set_shot_reference", shot, upload_ui_file(other, "door.png", _png()), 1)
    # A take one member starts shows up on the other's next poll, with its progress.
    call_ui(other, "generate_shot_take", project, shot, None, "animatic", "")
    grid = live(http, project, shot, None)[LIVE["grid"]]
    assert "Take 1" in grid


def test_viewers_read_and_comment_but_cannot_change(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    owner = client_for(http)
    login(owner, team.owner)
    project = new_project(owner, team.id, "Private")
    shot = add_shot(owner, team.id, project, "Wide: the harbour")[0][1]
    call_ui(owner, "generate_shot_take", project, shot, None, "animatic", "1")
    take = take_ids(wait_takes(owner, project, shot, 1))[0]
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    login(http, viewer)
    form = call_ui(http, "load_shot", project, shot, None, None)
    assert form[FORM["description"]] == "Wide: the harbour"
    posted = call_ui(http, "post_comment", project, shot, take, "Lovely", True, "", "", [])
    assert "Lovely" in posted[4 + 12 + LIVE["comments"]]
    refused: list[tuple[str, tuple[Any, ...]]] = [
        ("add_shot", (team.id, project, None, None, False, "Sneaky", "", None)),
        ("save_shot", (shot, "x", "", "", "", "", None, "", "todo", None, 1)),
        ("generate_shot_take", (project, shot, None, "animatic", None)),
        ("vary_take", (project, shot, take, "other", "")),
        ("restyle_take", (project, shot, take, "noir", 0.5)),
        ("rate_take", (project, shot, take, 2)),
        ("delete_shot", (team.id, project, shot, None, False)),
        ("move_shot_up", (team.id, project, shot, None, False)),
        ("render_rough_cut", (project, None, None, False, False, "refuse", None, 25)),
        ("post_comment", (project, shot, take, "Approve", True, "", "approved", [])),
    ]
    for name, args in refused:
        with pytest.raises(UIError, match=r"editor role|cannot change"):
            call_ui(http, name, *args)
            pytest.fail(f"{name} was allowed for a viewer")
    for action in takes.CARD_ACTIONS:
        with pytest.raises(UIError, match="editor role"):
            card(http, project, shot, take, action)
            pytest.fail(f"the card's {action} was allowed for a viewer")
    form_after = call_ui(owner, "load_shot", project, shot, None, None)
    assert form_after[FORM["version"]] == form[FORM["version"]]  # nothing changed


def test_other_workspaces_ids_are_not_found(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    owner = client_for(http)
    login(owner, team.owner)
    project = new_project(owner, team.id, "Private")
    shot = add_shot(owner, team.id, project, "Wide: the harbour")[0][1]
    queued = call_ui(owner, "generate_shot_take", project, shot, None, "animatic", "1")
    first_take = take_ids(queued)[0]
    outsider = make_workspace(db)
    login(http, outsider.owner)
    attempts: list[tuple[str, tuple[Any, ...]]] = [
        ("refresh_project", (project, shot, None, None)),
        ("load_shot", (project, shot, None, None)),
        ("add_shot", (outsider.id, project, None, None, False, "x", "", None)),
        ("save_shot", (shot, "x", "", "", "", "", None, "", "todo", None, 1)),
        ("generate_shot_take", (project, shot, None, "animatic", None)),
        ("post_comment", (project, shot, None, "hi", False, "", "", [])),
        ("render_rough_cut", (project, None, None, False, False, "refuse", None, 25)),
        ("export_shots_csv", (project,)),
        ("pick_take", (first_take,)),
        ("compare_takes", (first_take, first_take)),
        ("rate_take", (project, shot, first_take, 3)),
        ("vary_take", (project, shot, first_take, "other", "")),
        ("restyle_take", (project, shot, first_take, "noir", 0.5)),
        ("compare_newest_takes", (shot, None)),
        ("move_shot_up", (outsider.id, project, shot, None, False)),
        ("move_shot_down", (outsider.id, project, shot, None, False)),
        ("duplicate_shot", (outsider.id, project, shot, None, False)),
        ("delete_shot", (outsider.id, project, shot, None, False)),
        ("restore_shot", (outsider.id, project, None, None, False, shot)),
        ("archive_project", (outsider.id, project, False)),
        ("restore_project", (outsider.id, project, True)),
        ("clear_shot_reference", (shot, None, 1)),
        ("reload_shot", (shot,)),
        (
            "set_shot_reference",
            (shot, upload_ui_file(http, "ref.png", _png()), 1),
        ),
        (
            "upload_take",
            (project, shot, upload_ui_file(http, "clip.mp4", b"\0" * 64)),
        ),
        (
            "import_shots_csv",
            (
                outsider.id,
                project,
                None,
                None,
                False,
                upload_ui_file(http, "s.csv", b"scene,description\n1,x\n"),
            ),
        ),
    ]
    for name, args in attempts:
        with pytest.raises(UIError, match=r"[Nn]o such|not found"):
            call_ui(http, name, *args)
            pytest.fail(f"{name} was allowed for an outsider")
    for action in takes.CARD_ACTIONS:
        with pytest.raises(UIError, match=r"[Nn]o such|not found"):
            card(http, project, shot, first_take, action)
            pytest.fail(f"the card's {action} was allowed for an outsider")
    # Nothing of theirs changed.
    mine = call_ui(owner, "load_shot", project, shot, None, None)
    assert mine[FORM["version"]] == 1 and mine[FORM["description"]] == "Wide: the harbour"
    assert len(take_ids(live(owner, project, shot, None))) == 1


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (30, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_archive_restore_and_upload_a_clip(db: Database, http: httpx.Client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id, "Old pitch")
    shot = add_shot(http, team.id, project, "Wide: the pier")[0][1]

    clip = tmp_path / "outside.mp4"
    frames = np.full((12, 64, 112, 3), 90, dtype=np.uint8)
    ffmpeg.encode_mp4(frames, 12, clip, preset="ultrafast")
    out = call_ui(
        http, "upload_take", project, shot, upload_ui_file(http, "outside.mp4", clip.read_bytes())
    )
    assert "uploaded clip" in out[1 + LIVE["grid"]] and "<video" in out[1 + LIVE["grid"]]
    with pytest.raises(UIError, match=r"(?i)video|media|decode|format"):
        call_ui(http, "upload_take", project, shot, upload_ui_file(http, "fake.mp4", b"x" * 500))

    archived = call_ui(http, "archive_project", team.id, project, False)
    assert project not in [v for _, v in archived[FRAME["project"]]["choices"]]
    shown = call_ui(http, "restore_project", team.id, project, True)
    assert shown[FRAME["project"]]["value"] == project
    assert project in [v for _, v in shown[FRAME["project"]]["choices"]]


def test_user_text_in_the_header_is_escaped(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    out = call_ui(
        http,
        "create_project",
        team.id,
        "<img src=x onerror=alert(1)> [click](http://evil.example)",
        "*loud*",
        "1280:720",
        24,
        False,
    )
    header = out[3 + FRAME["info"]]
    assert "<img" not in header and "&lt;img" in header
    # HTML, not Markdown: a link written in the title stays text.
    assert "<a" not in header and "[click](http://evil.example)" in header and "*loud*" in header
