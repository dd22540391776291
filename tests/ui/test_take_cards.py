"""Take actions on the take cards of the Shot tab.

Each card in the take grid carries its own buttons (Circle, Favorite,
Re-roll, Extend, Vary…, Restyle…) that act on that card's take through the
grid's click event (`take_card`, with {take, action} as event data, the way
the page's JavaScript sends it). A button that cannot apply is rendered
disabled with a title that says why, and the handler refuses it the same
way: a viewer, an outsider, a take still generating.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from studio.accounts.models import Role
from studio.db.session import Database
from studio.generation import service as jobs
from studio.generation.models import Job, JobStatus
from studio.generation.registry import load_registry
from studio.projects import takes
from studio.projects.models import Shot, Take, TakeLineage
from studio.ui.pages import project_html as render
from tests.factories import (
    UIError,
    add_member,
    call_ui,
    live_view,
    login,
    make_user,
    make_workspace,
)
from tests.ui.named import call_event, untouched
from tests.ui.test_projects_page import add_shot, new_project, take_ids, wait_takes

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>\"' onmouseover=alert(3)"
REGISTRY = load_registry()
NOW = datetime(2030, 6, 7, 17, 0, tzinfo=UTC)


def card(http: httpx.Client, project: int, shot: int, take: int, action: str) -> dict[str, Any]:
    return call_event(http, "take_card", {"take": take, "action": action}, project, shot)


def buttons(grid: str, take: int) -> dict[str, str]:
    """The card's buttons: action -> the button's opening tag."""
    return {
        found.group(1): found.group(0)
        for found in re.finditer(rf'<button[^>]*data-take="{take}" data-action="(\w+)"[^>]*>', grid)
    }


def disabled(tag: str) -> bool:
    return re.search(r"\sdisabled(\s|>|$)", tag) is not None


def title(tag: str) -> str:
    found = re.search(r'title="([^"]*)"', tag)
    assert found is not None, tag
    return found.group(1)


# ---------------------------------------------------------------- rendering (pure)


def job_view(
    status: JobStatus = JobStatus.SUCCEEDED,
    *,
    model: str = "animatic",
    mime: str | None = "video/mp4",
    prompt: str = "waves",
    error: str | None = None,
) -> jobs.JobView:
    done = status not in (JobStatus.QUEUED, JobStatus.RUNNING)
    return jobs.JobView(
        public_id="task_1",
        workspace_id=1,
        user_id=1,
        model_key=model,
        mode="text_to_video",
        status=status,
        queue="default",
        progress=0.4,
        attempts=1,
        params={"seed": 7, "duration": 2, "user_prompt": prompt},
        created_at=NOW,
        started_at=NOW,
        finished_at=NOW if done else None,
        error_code=None,
        error_message=error,
        output_asset_id=9 if done and status is JobStatus.SUCCEEDED else None,
        poster_asset_id=None,
        output_mime=mime if status is JobStatus.SUCCEEDED else None,
        cancel_requested=False,
    )


def take_view(take_id: int, job: jobs.JobView | None, *, upload: int | None = None) -> Any:
    take = Take(id=take_id, shot_id=1, number=take_id, favorite=False, rating=None)
    take.upload_asset_id = upload
    return takes.TakeView(take, job, EVIL)


def grid_of(views: list[Any], *, circled: int | None = None, can_edit: bool = True) -> str:
    actions = {
        tv.take.id: takes.card_actions(
            tv, circled=tv.take.id == circled, can_edit=can_edit, registry=REGISTRY
        )
        for tv in views
    }
    return render.take_grid(
        views, circled, None, lambda i: f"/media/{i}", "/?view=projects&project=1&shot=1", actions
    )


def test_a_finished_video_offers_every_action() -> None:
    grid = grid_of([take_view(1, job_view())])
    found = buttons(grid, 1)
    assert list(found) == list(takes.CARD_ACTIONS)
    assert not any(disabled(tag) for tag in found.values()), found


def test_a_still_image_cannot_be_extended_or_restyled() -> None:
    grid = grid_of([take_view(1, job_view(model="sd-1_5", mime="image/png"))])
    found = buttons(grid, 1)
    assert disabled(found["extend"]) and title(found["extend"]) == (
        "A still image cannot be extended."
    )
    assert disabled(found["restyle"])
    assert not disabled(found["circle"]) and not disabled(found["reroll"])


def test_a_model_without_image_to_video_cannot_extend() -> None:
    found = buttons(grid_of([take_view(1, job_view(model="wan2_2-t2v-a14b"))]), 1)
    assert disabled(found["extend"]) and "no image-to-video mode" in title(found["extend"])
    assert not disabled(found["restyle"])


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_a_take_still_generating_offers_nothing(status: JobStatus) -> None:
    found = buttons(grid_of([take_view(3, job_view(status))]), 3)
    assert len(found) == len(takes.CARD_ACTIONS)
    assert all(disabled(tag) for tag in found.values()), found
    state = "queued" if status is JobStatus.QUEUED else "generating"
    assert {title(tag) for tag in found.values()} == {
        f"Take 3 is still {state}: wait until it finishes."
    }


def test_a_failed_take_can_be_tried_again_but_not_circled() -> None:
    found = buttons(grid_of([take_view(2, job_view(JobStatus.FAILED, error=EVIL))]), 2)
    assert disabled(found["circle"]) and disabled(found["extend"]) and disabled(found["restyle"])
    assert not disabled(found["reroll"]) and not disabled(found["vary"])


def test_the_circled_take_and_an_upload() -> None:
    views = [take_view(2, None, upload=5), take_view(1, job_view())]
    grid = grid_of(views, circled=1)
    circled, upload = buttons(grid, 1), buttons(grid, 2)
    assert disabled(circled["circle"]) and ">Circled</button>" in grid
    assert not disabled(upload["circle"]) and not disabled(upload["extend"])
    assert disabled(upload["reroll"]) and disabled(upload["vary"])


def test_a_viewer_sees_every_button_disabled() -> None:
    grid = grid_of([take_view(1, job_view()), take_view(2, None, upload=5)], can_edit=False)
    for take in (1, 2):
        found = buttons(grid, take)
        assert all(disabled(tag) for tag in found.values()), found
        assert {title(tag) for tag in found.values()} == {takes.READ_ONLY}


def test_hostile_text_on_a_card_stays_text() -> None:
    views = [
        take_view(1, job_view(prompt=EVIL)),
        take_view(2, job_view(JobStatus.FAILED, error=EVIL)),
    ]
    grid = grid_of(views)
    assert "<script" not in grid.lower() and "<img src=x" not in grid.lower()
    assert '" onmouseover' not in grid and "' onmouseover" not in grid
    assert "&lt;script&gt;" in grid
    out = str(render.take_actions(1, 1, dict.fromkeys(takes.CARD_ACTIONS, EVIL)))
    assert "<script" not in out and '" onmouseover' not in out and "&lt;script&gt;" in out


# ---------------------------------------------------------------- the handler


def two_takes(db: Database, http: httpx.Client) -> tuple[Any, int, int, int, int]:
    """A team's shot with two finished takes: (team, project, shot, newer, older)."""
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    shot = add_shot(http, team.id, project, "Wide: the harbour at dawn")[0][1]
    call_ui(http, "generate_shot_take", project, shot, None, "animatic", "1")
    call_ui(http, "generate_shot_take", project, shot, None, "animatic", "2")
    newer, older = take_ids(wait_takes(http, project, shot, 2))
    return team, project, shot, newer, older


def grid(out: dict[str, Any]) -> str:
    return str(out["shot-takes"])


def test_a_card_button_acts_on_its_own_take(db: Database, http: httpx.Client) -> None:
    _, project, shot, newer, older = two_takes(db, http)
    # The newest take is the one picked; the older card's button acts on the older take.
    out = card(http, project, shot, older, "circle")
    with db.session_scope() as session:
        row = session.get(Shot, shot)
        assert row is not None and row.selected_take_id == older
    assert out["take-pick"]["value"] == older
    assert disabled(buttons(grid(out), older)["circle"])
    assert not disabled(buttons(grid(out), newer)["circle"])

    card(http, project, shot, older, "favorite")
    with db.session_scope() as session:
        marks = {t.id: t.favorite for t in session.query(Take).filter(Take.shot_id == shot)}
    assert marks == {older: True, newer: False}

    out = card(http, project, shot, newer, "reroll")
    with db.session_scope() as session:
        made = session.query(Take).filter(Take.shot_id == shot).order_by(Take.id.desc()).first()
        assert made is not None and made.id not in (newer, older)
        assert made.parent_take_id == newer and made.lineage is TakeLineage.REROLL
        made_id = made.id
    # The new take is queued in the answer: its card offers nothing yet.
    fresh = buttons(grid(out), made_id)
    assert fresh and all(disabled(tag) for tag in fresh.values()), fresh
    assert "still queued" in title(fresh["circle"])

    out = card(http, project, shot, older, "vary")
    assert out["take-vary-box"]["visible"] is True and out["take-vary-box"]["open"] is True
    assert out["take-vary-box"]["label"].startswith("Vary take 1")
    assert out["take-pick"]["value"] == older


def test_a_take_still_generating_is_refused(db: Database, http: httpx.Client) -> None:
    _, project, shot, newer, older = two_takes(db, http)
    card(http, project, shot, older, "circle")
    with db.session_scope() as session:
        take = session.get(Take, newer)
        assert take is not None
        job = session.get(Job, take.job_id)
        assert job is not None
        # Running on a live lease: the reaper leaves it alone.
        job.status = JobStatus.RUNNING
        job.lease_expires_at = datetime.now(UTC) + timedelta(hours=1)
    for action in ("circle", "extend", "favorite", "reroll"):
        with pytest.raises(UIError, match="still generating"):
            card(http, project, shot, newer, action)
            pytest.fail(f"{action} was allowed on a running take")
    with db.session_scope() as session:
        row = session.get(Shot, shot)
        assert row is not None and row.selected_take_id == older
        assert session.query(Take).filter(Take.shot_id == shot).count() == 2
        assert not any(t.favorite for t in session.query(Take).filter(Take.shot_id == shot))
    shown = live_view(http, project, shot)["grid"]
    assert all(disabled(tag) for tag in buttons(shown, newer).values())


def test_viewers_and_outsiders_are_refused_and_nothing_changes(
    db: Database, http: httpx.Client
) -> None:
    team, project, shot, newer, older = two_takes(db, http)
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    watcher = httpx.Client(base_url=str(http.base_url), timeout=30)
    login(watcher, viewer)
    # The viewer's grid: every button disabled, saying why.
    shown = live_view(watcher, project, shot)["grid"]
    for take in (newer, older):
        found = buttons(shown, take)
        assert found and all(disabled(tag) for tag in found.values()), found
        assert title(found["circle"]) == takes.READ_ONLY
    outsider = make_workspace(db)
    stranger = httpx.Client(base_url=str(http.base_url), timeout=30)
    login(stranger, outsider.owner)
    for client, refusal in ((watcher, "editor role"), (stranger, r"[Nn]o such")):
        for action in takes.CARD_ACTIONS:
            with pytest.raises(UIError, match=refusal):
                card(client, project, shot, older, action)
                pytest.fail(f"{action} was allowed")
    with db.session_scope() as session:
        row = session.get(Shot, shot)
        assert row is not None and row.selected_take_id is None and row.version == 1
        rows = session.query(Take).filter(Take.shot_id == shot).all()
        assert len(rows) == 2 and not any(t.favorite for t in rows)
    watcher.close()
    stranger.close()


def test_generate_saves_the_edited_form_first(db: Database, http: httpx.Client) -> None:
    """The prompt sits right above Generate: what is typed there is what the take uses.
    Generate's first step saves an edited form (with the version check) and leaves
    an unedited one alone."""
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id)
    shot = add_shot(http, team.id, project, "Wide: the pier")[0][1]
    form = call_ui(http, "load_shot", project, shot, None, None)
    fields = form[1:10]  # description ... status, assignee

    def before_generate(values: list[Any], version: int) -> dict[str, Any]:
        return call_event(http, "save_before_generate", {}, shot, *values, version)

    unchanged = before_generate(fields, form[10])
    assert untouched(unchanged, *unchanged), unchanged
    with db.session_scope() as session:
        row = session.get(Shot, shot)
        assert row is not None and row.version == 1
    edited = list(fields)
    edited[3] = "the pier at midnight, lanterns swinging"  # the prompt
    saved = before_generate(edited, form[10])
    assert saved["shot-version"] == 2
    with db.session_scope() as session:
        row = session.get(Shot, shot)
        assert row is not None and row.prompt == edited[3] and row.version == 2
    with pytest.raises(UIError, match="changed by"):
        before_generate([*edited[:3], "stale", *edited[4:]], form[10])
