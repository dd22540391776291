"""The Generate page in a real browser (Debian's Chromium), with the tiny
registry (random-weight diffusers pipelines plus the animatic) and the app's
own runner: for every model and each of its modes, switch model and mode back
and forth, see only the controls that model offers with values valid for it,
generate, and see the take succeed. And an error (an empty prompt) shows
beside Generate, every field still shown and as it was.

One server with its own database (its runner must be the only one working
its jobs), one sign-in per test. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from studio.config import Settings
from studio.db import migrate
from studio.db.session import Database
from studio.generation import registry as reg
from studio.generation.models import Job, JobStatus
from studio.projects import service as projects
from studio.projects import takes
from studio.ui.generate import controls
from tests.conftest import TEST_SECRET, LiveServer, start_server
from tests.factories import UserInfo, make_workspace
from tests.generation.conftest import require_ml
from tests.jams.helpers import actor
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser

TAKE_MS = 120_000  # a tiny diffusers take on a busy 2-core machine
MODE_LABELS = controls.MODE_LABELS
page_modes = controls.page_modes
MODE_OF = {label: mode for mode, label in MODE_LABELS.items()}


@dataclass
class TinyStudio:
    server: LiveServer
    db: Database
    registry: reg.Registry
    owner: UserInfo
    workspace_id: int


@pytest.fixture(scope="module")
def tiny_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyStudio]:
    require_ml()
    from studio.generation.engines.diffusers_tiny import make_tiny

    models = make_tiny(tmp_path_factory.mktemp("tiny-models"))
    url = f"sqlite:///{tmp_path_factory.mktemp('generate-db') / 'studio.db'}"
    migrate.upgrade(url)
    db = Database(url)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("generate-data"),
        database_url=url,
        secret_key=TEST_SECRET,
        models_file=models,
        max_upload_bytes=1_000_000,
        max_image_pixels=4_000_000,
        maintenance_interval_seconds=0.5,
    )
    server = start_server(settings)
    team = make_workspace(db, name="Tiny Films")
    try:
        yield TinyStudio(server, db, reg.load_registry(models), team.owner, team.id)
    finally:
        server.stop()
        db.dispose()


def choose(page: Page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def choose_mode(page: Page, spec: reg.ModelSpec, mode: str) -> None:
    """Pick a mode; the list offers exactly the model's modes."""
    page.locator("#gen-mode input").click()
    offered = page.get_by_role("option")
    expect(offered).to_have_count(len(page_modes(spec)))
    names = [text.replace("✓", "").strip() for text in offered.all_inner_texts()]
    assert names == [MODE_LABELS[m] for m in page_modes(spec)], spec.key
    offered.nth(page_modes(spec).index(mode)).click()


def field(page: Page, elem_id: str) -> Locator:
    return page.locator(f"#{elem_id}")


def check_controls(page: Page, spec: reg.ModelSpec, mode: str) -> None:
    """Only what the model offers in this mode is shown, with its own values."""
    video = mode != "text_to_image"
    shown = {
        "gen-prompt": spec.prompt,
        "gen-negative": spec.negative_prompt,
        "gen-reference": mode == "image_to_video",
        "gen-duration": video,
        "gen-camera": controls.has_camera(spec, mode),
        "gen-motion": spec.motion_strength,
        "gen-seed": spec.seed,
    }
    for elem_id, expected in shown.items():
        if expected:
            expect(field(page, elem_id), f"{spec.key} {mode} {elem_id}").to_be_visible()
        else:
            expect(field(page, elem_id), f"{spec.key} {mode} {elem_id}").to_be_hidden()
    expect(field(page, "gen-mode").locator("input")).to_have_value(MODE_LABELS[mode])
    ratio = field(page, "gen-ratio").locator("input").input_value()
    assert ratio in spec.ratios, (spec.key, mode, ratio)
    if video:
        seconds = field(page, "gen-duration").locator("input").input_value()
        assert seconds in {controls.seconds_label(d) for d in spec.durations}, (spec.key, seconds)


def png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 90), (30, 120, 200)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_every_model_and_mode_generates_from_the_page(
    page: Page, tiny_studio: TinyStudio, artifacts_dir: Path, tmp_path: Path
) -> None:
    registry = tiny_studio.registry
    pairs = [(spec, mode) for spec in registry.all() for mode in page_modes(spec)]
    assert len(pairs) >= 9  # the animatic's three modes and five diffusers families
    sign_in(page, tiny_studio.server.url, tiny_studio.owner.email, tiny_studio.owner.password)
    page.click("#nav-generate")
    expect(field(page, "gen-queue")).to_contain_text("Nothing in the queue")
    reference = png(tmp_path / "still.png")
    others = registry.all()
    for index, (spec, mode) in enumerate(pairs):
        # Back and forth: another model (and its first mode) first, then this one.
        other = others[(others.index(spec) + 1) % len(others)]
        shown_mode = MODE_OF[field(page, "gen-mode").locator("input").input_value()]
        choose(page, "#gen-model", other.name)
        # The form keeps the mode it shows when the new model has it, else its first.
        other_mode = controls.chosen_mode(other, shown_mode)
        check_controls(page, other, other_mode)
        choose(page, "#gen-model", spec.name)
        # The switch back lands before the mode list is opened (an open list keeps
        # the choices it opened with).
        check_controls(page, spec, controls.chosen_mode(spec, other_mode))
        for step in (*[m for m in page_modes(spec) if m != mode][:1], mode):
            choose_mode(page, spec, step)
            check_controls(page, spec, step)
        if spec.prompt:
            field(page, "gen-prompt").locator("textarea").fill(f"take {index}: {spec.key} {mode}")
        if mode == "image_to_video" and not field(page, "gen-reference").locator("img").count():
            field(page, "gen-reference").locator("input[type=file]").set_input_files(str(reference))
            expect(field(page, "gen-reference").locator("img")).to_have_count(1)
        page.click("#gen-submit")
        expect(field(page, "gen-history").locator("figure.take")).to_have_count(
            index + 1, timeout=TAKE_MS
        )
        expect(field(page, "gen-error")).to_be_hidden()
        newest = field(page, "gen-history").locator("figure.take").first
        expect(newest).to_contain_text(spec.key)
        expect(newest.locator(".status")).to_have_text("succeeded")
        expect(newest.locator("video" if mode != "text_to_image" else "img")).to_have_count(1)
        check_controls(page, spec, mode)  # the form kept its settings
    page.screenshot(path=str(artifacts_dir / "generate-every-model.png"), full_page=True)
    with tiny_studio.db.session_scope() as session:
        made = session.execute(
            select(Job.model_key, Job.mode, Job.status).where(
                Job.workspace_id == tiny_studio.workspace_id
            )
        ).all()
    assert sorted((k, m) for k, m, _ in made) == sorted((s.key, m) for s, m in pairs)
    assert {status for _, _, status in made} == {JobStatus.SUCCEEDED}


def test_an_error_shows_beside_generate_and_keeps_the_form(
    page: Page, tiny_studio: TinyStudio, artifacts_dir: Path
) -> None:
    with tiny_studio.db.session_scope() as session:
        owner = actor(session, tiny_studio.owner)
        project = projects.create_project(
            session, owner, workspace_id=tiny_studio.workspace_id, title="Harbour"
        )
        shot = projects.add_shot(
            session, owner, project.id, projects.ShotFields(description="Rock")
        )
        shot_id = shot.id
    sign_in(page, tiny_studio.server.url, tiny_studio.owner.email, tiny_studio.owner.password)
    page.click("#nav-generate")
    ltx = tiny_studio.registry.get("tiny-ltx")
    choose(page, "#gen-model", ltx.name)
    choose_mode(page, ltx, "text_to_video")
    check_controls(page, ltx, "text_to_video")
    field(page, "gen-negative").locator("textarea").fill("blurry, text")
    choose(page, "#gen-ratio", "960:960")
    choose(page, "#gen-duration", "2 s")
    choose(page, "#gen-camera", "Zoom in")
    field(page, "gen-random").locator("input").uncheck()
    field(page, "gen-seed").locator("input").fill("4242")
    taken = field(page, "gen-history").locator("figure.take").count()

    page.click("#gen-submit")  # no prompt
    line = field(page, "gen-error")
    expect(line).to_have_text("Write a prompt: what should the shot show?")
    page.screenshot(path=str(artifacts_dir / "generate-error-in-place.png"))
    button = page.locator("#gen-submit").bounding_box()
    box = line.bounding_box()
    assert button is not None and box is not None
    assert 0 <= box["y"] - (button["y"] + button["height"]) < 40  # right under the button
    assert abs(box["x"] - button["x"]) < 40
    # Every field still shown, as it was; nothing queued.
    check_controls(page, ltx, "text_to_video")
    expect(field(page, "gen-negative").locator("textarea")).to_have_value("blurry, text")
    expect(field(page, "gen-ratio").locator("input")).to_have_value("960:960")
    expect(field(page, "gen-duration").locator("input")).to_have_value("2 s")
    expect(field(page, "gen-camera").locator("input")).to_have_value("Zoom in")
    expect(field(page, "gen-seed").locator("input")).to_have_value("4242")
    expect(field(page, "gen-random").locator("input")).not_to_be_checked()
    expect(page.locator("#page-generate .error")).to_have_count(0)  # no red output badges
    assert field(page, "gen-history").locator("figure.take").count() == taken

    # Write the prompt: the line goes away and the take is made with those settings.
    field(page, "gen-prompt").locator("textarea").fill("waves on the rock")
    page.click("#gen-submit")
    expect(line).to_be_hidden()
    newest = field(page, "gen-history").locator("figure.take").first
    expect(newest).to_contain_text(re.compile(r"seed 4242 · 2 s · 960:960"), timeout=TAKE_MS)
    expect(newest.locator(".status")).to_have_text("succeeded", timeout=TAKE_MS)

    # Send it to a shot: pick the take, the project, the shot.
    page.locator("#gen-take-pick input").click()
    page.get_by_role("option").first.click()
    choose(page, "#gen-send-project", "Harbour")
    choose(page, "#gen-send-shot", "SC01-SH010 · Rock")
    page.click("#gen-send")
    expect(page.get_by_text("Sent to SC01-SH010 as take 1.")).to_be_visible()
    expect(field(page, "gen-take-error")).to_be_hidden()
    with tiny_studio.db.session_scope() as session:
        on_shot = takes.list_takes(session, actor(session, tiny_studio.owner), shot_id)
        assert [(t.take.number, t.job.params["seed"] if t.job else None) for t in on_shot] == [
            (1, 4242)
        ]
