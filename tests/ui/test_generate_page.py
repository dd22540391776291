"""The Generate page through its handlers, by name (as any signed-in browser
calls them): the controls follow the model and mode with values valid for
it, errors show beside Generate with the form untouched, the history lists
takes only, and a take goes to a shot for editors. Takes are generated for
real (the animatic engine, through the app's runner).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from studio.accounts.models import Role
from studio.db.session import Database
from studio.generation import registry as reg
from studio.projects import takes
from studio.ui.generate.controls import page_modes
from tests.conftest import LiveServer
from tests.factories import (
    add_member,
    bearer,
    login,
    make_api_key,
    make_user,
    make_workspace,
    wait_finished,
)
from tests.jams.helpers import actor
from tests.ui.named import call, error, untouched, value, visible
from tests.ui.workspace_team import Team, make_team

CONTROLS = ["gen-mode", "gen-prompt", "gen-negative", "gen-reference", "gen-ratio"]
CONTROLS += ["gen-duration", "gen-camera", "gen-motion", "gen-random", "gen-seed"]
LISTS = ["gen-queue", "gen-cancel-pick", "gen-history", "gen-take-pick"]


@pytest.fixture(scope="module")
def team(db: Database, live_server: LiveServer) -> Team:
    return make_team(db, live_server)


def choices(out: dict[str, Any], name: str) -> list[Any]:
    return [pair[1] for pair in out[name]["choices"]]


def pick(http: httpx.Client, model: str, mode: str, **now: Any) -> dict[str, Any]:
    out = call(http, "pick_model", gen_model=model, gen_mode=mode, **now)
    assert error(out, "gen-error") == ""
    return out


def test_the_controls_follow_every_model_and_mode(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    registry = reg.load_registry()  # the shipped models, installed or not
    stale = {"gen_ratio": "960:960", "gen_duration": 10, "gen_camera": "zoom_in"}
    for spec in registry.all():
        for mode in page_modes(spec):
            out = pick(http, spec.key, mode, **stale)
            video = mode != "text_to_image"
            assert value(out, "gen-mode") == mode and choices(out, "gen-mode") == page_modes(spec)
            assert visible(out, "gen-prompt") is spec.prompt
            assert visible(out, "gen-negative") is spec.negative_prompt
            assert visible(out, "gen-reference") is (mode == "image_to_video")
            assert visible(out, "gen-motion") is spec.motion_strength
            assert visible(out, "gen-seed") is spec.seed and visible(out, "gen-random") is spec.seed
            # Each value lands in its own field, valid for this model.
            assert choices(out, "gen-ratio") == list(spec.ratios)
            assert value(out, "gen-ratio") == (
                "960:960" if "960:960" in spec.ratios else next(iter(spec.ratios))
            )
            assert visible(out, "gen-duration") is video
            if video:
                assert choices(out, "gen-duration") == sorted(spec.durations)
                assert value(out, "gen-duration") == (
                    10 if 10 in spec.durations else spec.default_seconds()
                )
            else:
                assert value(out, "gen-duration") is None
            camera = video and spec.camera_move != "none"
            assert visible(out, "gen-camera") is camera
            assert value(out, "gen-camera") == ("zoom_in" if camera else "static")


def test_switching_resets_only_what_the_new_model_cannot_do(
    db: Database, http: httpx.Client
) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    # Animatic, image to video, 960:960, 10 s, zoom in -> SVD: only image to video,
    # no square, 3 s only, no camera, motion strength, no prompt.
    now = {"gen_ratio": "960:960", "gen_duration": 10, "gen_camera": "zoom_in"}
    svd = pick(http, "svd-xt", "image_to_video", **now)
    assert value(svd, "gen-mode") == "image_to_video"
    assert (value(svd, "gen-ratio"), value(svd, "gen-duration")) == ("1280:720", 3)
    assert visible(svd, "gen-camera") is False and visible(svd, "gen-prompt") is False
    assert visible(svd, "gen-motion") is True and visible(svd, "gen-reference") is True
    # Back to LTX in text to video: its own 960:960 stays, 3 s becomes its default (2 s).
    ltx = pick(http, "ltx-video", "text_to_video", gen_ratio="960:960", gen_duration=3)
    assert (value(ltx, "gen-ratio"), value(ltx, "gen-duration")) == ("960:960", 2)
    assert visible(ltx, "gen-reference") is False and visible(ltx, "gen-camera") is True
    # A mode the model lacks becomes its first: SD 1.5 only makes images.
    sd = pick(http, "sd-1_5", "image_to_video", gen_ratio="720:1280", gen_duration=2)
    assert value(sd, "gen-mode") == "text_to_image" and choices(sd, "gen-mode") == ["text_to_image"]
    assert value(sd, "gen-ratio") == "720:1280" and value(sd, "gen-duration") is None
    assert visible(sd, "gen-duration") is False and visible(sd, "gen-camera") is False
    # The mode radio of the animatic: text to image hides duration and camera.
    still = call(http, "pick_mode", gen_model="animatic", gen_mode="text_to_image")
    assert visible(still, "gen-duration") is False and visible(still, "gen-camera") is False
    # Junk from the browser becomes the model's defaults.
    junk = pick(
        http, "ltx-video", "sideways", gen_ratio="wide", gen_duration="soon", gen_camera="roll"
    )
    assert value(junk, "gen-mode") == "text_to_video"
    assert (value(junk, "gen-ratio"), value(junk, "gen-duration")) == ("1280:720", 2)
    assert value(junk, "gen-camera") == "static"


def generate(http: httpx.Client, workspace: int, **fields: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "gen_workspace": workspace,
        "gen_model": "animatic",
        "gen_mode": "text_to_video",
        "gen_prompt": "",
        "gen_ratio": "1280:720",
        "gen_duration": 2,
        "gen_camera": "static",
        "gen_motion": 0.5,
        "gen_random": True,
        "gen_seed": 0,
    }
    return call(http, "generate", **(form | fields))


def test_errors_show_beside_generate_and_leave_the_page_alone(
    db: Database, http: httpx.Client
) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    cases = [
        ({"gen_prompt": "  "}, "Write a prompt"),
        ({"gen_prompt": "x", "gen_mode": "image_to_video"}, "needs a reference image"),
        ({"gen_prompt": "x", "gen_ratio": "1584:672"}, "renders ratios 1280:720"),
        ({"gen_prompt": "x", "gen_duration": 60}, "whole seconds from 1 to 10"),
        ({"gen_prompt": "x", "gen_camera": "barrel_roll"}, "Camera move must be one of"),
        ({"gen_prompt": "x", "gen_model": "svd-xt"}, "cannot do text_to_video"),
        ({"gen_prompt": "x", "gen_mode": "sideways"}, "Mode must be one of"),
        ({"gen_prompt": "x", "gen_workspace": None}, "Choose a workspace first"),
        ({"gen_prompt": "x", "gen_workspace": make_workspace(db).id}, "Workspace not found"),
    ]
    for fields, message in cases:
        out = generate(http, team.id, **fields)
        assert message in error(out, "gen-error"), (fields, error(out, "gen-error"))
        assert untouched(out, *LISTS), fields
    key = bearer(make_api_key(db, team.owner, team))
    assert httpx.get(f"{http.base_url}/v1/tasks", headers=key).json()["tasks"] == []
    # The same form with a prompt queues a take, and the error line is cleared.
    out = generate(http, team.id, gen_prompt="A lighthouse", gen_random=False, gen_seed=77)
    assert error(out, "gen-error") == ""
    assert "A lighthouse" in value(out, "gen-queue") + value(out, "gen-history")
    (task,) = httpx.get(f"{http.base_url}/v1/tasks", headers=key).json()["tasks"]
    assert task["studio"]["seed"] == 77 and task["studio"]["ratio"] == "1280:720"


def test_recent_takes_reuse_and_send_to_a_shot(
    db: Database, http: httpx.Client, live_server: LiveServer, team: Team
) -> None:
    key = bearer(make_api_key(db, team.owner, team.workspace))
    cut = http.post(
        f"/v1/projects/{team.project}/rough_cut", json={"missing": "slate"}, headers=key
    )
    assert cut.status_code == 200, cut.text
    assert wait_finished(http, key, cut.json()["id"])["status"] == "SUCCEEDED"
    login(http, team.editor)
    out = generate(
        http,
        team.workspace.id,
        gen_mode="text_to_image",
        gen_prompt="A keeper's lamp <b>",
        gen_ratio="960:960",
        gen_random=False,
        gen_seed=7,
    )
    queued = choices(out, "gen-cancel-pick") or choices(out, "gen-take-pick")
    job = queued[0]
    assert wait_finished(http, key, job)["status"] == "SUCCEEDED"
    shown = call(http, "show_generate", gen_workspace=team.workspace.id)
    history = value(shown, "gen-history")
    # Takes only: the shots' takes and this one, never the rough cut.
    assert f'data-job="{job}"' in history and cut.json()["id"] not in history
    assert "seed None" not in history and history.count('<figure class="take"') == 3
    assert "A keeper&#39;s lamp &lt;b&gt;" in history and "seed 7 · image · 960:960" in history
    assert choices(shown, "gen-take-pick")[0] == job
    assert choices(shown, "gen-send-project") == [team.empty_project, team.project]

    # "Use these settings again": every field by name, the seed fixed.
    form = call(http, "reuse_settings", gen_take_pick=job)
    assert value(form, "gen-model") == "animatic" and value(form, "gen-mode") == "text_to_image"
    assert value(form, "gen-prompt") == "A keeper's lamp <b>"
    assert value(form, "gen-ratio") == "960:960" and value(form, "gen-duration") is None
    assert visible(form, "gen-duration") is False and visible(form, "gen-camera") is False
    assert value(form, "gen-random") is False and value(form, "gen-seed") == 7

    # Send it to SH030 as an editor: the shot's new take is this generation.
    shots = call(http, "pick_send_project", gen_send_project=team.project)
    codes = choices(shots, "gen-send-shot")
    assert codes == team.shots
    sent = call(http, "send_take_to_shot", gen_take_pick=job, gen_send_shot=team.shots[2])
    assert error(sent, "gen-take-error") == ""
    with db.session_scope() as session:
        on_shot = takes.list_takes(session, actor(session, team.editor), team.shots[2])
        assert [(t.take.number, t.job.public_id if t.job else None) for t in on_shot] == [(1, job)]
    again = call(http, "send_take_to_shot", gen_take_pick=job, gen_send_shot=team.shots[0])
    assert "already on a shot (SC01-SH030, take 1)" in error(again, "gen-take-error")
    nothing = call(http, "send_take_to_shot", gen_take_pick=job, gen_send_shot=None)
    assert "Choose a shot first" in error(nothing, "gen-take-error")

    # A viewer may look but not send; an outsider does not even find the shot.
    viewer = make_user(db, "viewer")
    add_member(db, team.workspace, viewer, Role.VIEWER)
    login(http, viewer)
    refused = call(http, "send_take_to_shot", gen_take_pick=job, gen_send_shot=team.shots[1])
    assert "editor" in error(refused, "gen-take-error").lower()
    outsider = make_user(db, "outsider")
    login(http, outsider)
    hidden = call(http, "send_take_to_shot", gen_take_pick=job, gen_send_shot=team.shots[1])
    assert "No such shot" in error(hidden, "gen-take-error")
    nosy = call(http, "reuse_settings", gen_take_pick=job)
    assert "No such task" in error(nosy, "gen-take-error")
    assert untouched(nosy, "gen-model", *CONTROLS)


def test_pickers_refuse_what_is_not_yours_beside_the_form(
    db: Database, http: httpx.Client, team: Team
) -> None:
    stranger = make_user(db, "stranger")
    login(http, stranger)
    out = call(http, "show_generate", gen_workspace=team.workspace.id)
    assert "Workspace not found" in error(out, "gen-error")
    assert untouched(out, "gen-workspace", *LISTS)
    typed = call(http, "show_generate", gen_workspace="my films")
    assert "Choose a workspace from the list" in error(typed, "gen-error")
    shots = call(http, "pick_send_project", gen_send_project=team.project)
    assert "No such project" in error(shots, "gen-take-error")
    assert untouched(shots, "gen-send-shot")
    cancel = call(http, "cancel_job", gen_workspace=None, gen_cancel_pick=None)
    assert "Choose a job to cancel" in error(cancel, "gen-cancel-error")


def test_the_queue_and_recent_takes_follow_by_a_poll(
    db: Database, http: httpx.Client, team: Team
) -> None:
    """The page's 2 s poll is a plain request (ui/live_poll.py): it sends the queue's
    and the recent takes' HTML when their jobs moved, nothing when nothing did, and
    asks for the pickers' render when the jobs they list moved."""
    login(http, team.editor)
    address = f"/ui/generate/changes?workspace={team.workspace.id}"
    shown = call(http, "show_generate", gen_workspace=team.workspace.id)
    assert f'data-poll="{address.replace("&", "&amp;")}"' in value(shown, "gen-poll")
    ask = {"workspace": team.workspace.id}
    first = http.get("/ui/generate/changes", params=ask | {"have": "not a token"}).json()
    assert set(first["parts"]) == {"queue", "history"} and first["render"] is True
    quiet = http.get("/ui/generate/changes", params=ask | {"have": first["have"]})
    assert quiet.headers["cache-control"] == "no-store"
    assert quiet.json() == {"have": first["have"], "parts": {}, "render": False}

    out = generate(http, team.workspace.id, gen_prompt="Fog over the pier")
    job = (choices(out, "gen-cancel-pick") or choices(out, "gen-take-pick"))[0]
    moved = http.get("/ui/generate/changes", params=ask | {"have": first["have"]}).json()
    assert "Fog over the pier" in moved["parts"]["queue"] and moved["render"] is True
    pickers = call(http, "refresh_generate_pickers", gen_workspace=team.workspace.id)
    assert set(pickers) == {"gen-cancel-pick", "gen-take-pick"}
    listed = choices(pickers, "gen-cancel-pick") + choices(pickers, "gen-take-pick")
    assert job in listed
    # It finishes: the queue empties and the recent takes show it, by the poll.
    key = bearer(make_api_key(db, team.owner, team.workspace))
    assert wait_finished(http, key, job)["status"] == "SUCCEEDED"
    done = http.get("/ui/generate/changes", params=ask | {"have": moved["have"]}).json()
    assert f'data-job="{job}"' in done["parts"]["history"] and done["render"] is True
    assert "Nothing in the queue" in done["parts"]["queue"]

    # Who is asking: signed out, a stranger, a bad id.
    outsider = make_workspace(db)
    login(http, outsider.owner)
    refused = http.get(address)
    assert refused.status_code == 404 and "Fog" not in refused.text
    assert http.get("/ui/generate/changes?workspace=0").status_code == 422
    assert http.get("/ui/generate/changes").status_code == 422
    stranger = call(http, "refresh_generate_pickers", gen_workspace=team.workspace.id)
    assert all("choices" not in str(shown) for shown in stranger.values()), stranger
    signed_out = httpx.get(f"{http.base_url}{address}")
    assert signed_out.status_code == 401
