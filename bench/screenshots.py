"""The README's screenshots, retaken from the pages as they are in this tree.

    .venv/bin/python bench/screenshots.py

A scratch Postgres database (STUDIO_TEST_PG_ADMIN_URL) seeded through the
services with a small film: the workspace "Night Shift" (three members), the
project "Last Ferry" with six shots, takes on most of them (tiny clips made
with ffmpeg's lavfi patterns, uploaded as takes so each gets its own poster,
and on one shot an animatic take and its re-roll, run in this process), a
circled take on several shots, a comment thread with a timecode and a
mention, a shot in review. `studio serve` from this checkout runs on it;
Chromium (1440x900) signs in as a member and writes:

    docs/dashboard.png               the workspace home after signing in
    docs/screenshots/storyboard.png  the project's storyboard
    docs/screenshots/shot-page.png   the shot tab: generate, takes, comments

Each picture runs from the top of the page down to its last part (the first
row of recent takes, the storyboard, the comment thread). The take cards'
sound badge is an emoji: without a colour emoji font on the machine
(Debian: fonts-noto-color-emoji) Chromium draws it as an empty box.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ui_stack as stack

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.db.session import Database
from studio.generation.context import Generation, build_generation
from studio.projects import review, takes
from studio.projects import service as projects

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 900}
DOCS = stack.ROOT / "docs"

# Who is in the workspace: (email, name, role); the first owns it.
PEOPLE = [
    ("maya@nightshift.example", "Maya Chen", "owner"),
    ("ben@nightshift.example", "Ben Okafor", "editor"),
    ("ana@nightshift.example", "Ana Ruiz", "editor"),
]
SIGNED_IN = "ben@nightshift.example"

# lavfi sources, one look per clip (the first frame becomes the poster).
LOOKS = {
    "harbour": "gradients=nb_colors=3:c0=0x0b1d3a:c1=0x1f5f8b:c2=0xe0a458:seed=3",
    "fractal": "mandelbrot=start_scale=2.2",
    "deck": "testsrc2",
    "bars": "smptehdbars",
    "spectrum": "colorspectrum=type=all",
    "life": "life=mold=10:r=0.12:life_color=0x7fd1ff:death_color=0x0b1020:seed=9",
    "dawn": "gradients=nb_colors=3:c0=0x2b1055:c1=0xd53369:c2=0xf7b267:seed=5",
    "deep": "mandelbrot=start_scale=0.003:start_x=-0.743643887037151:start_y=0.13182590420533",
}

# The shot list: (description, prompt, status, looks of its uploaded takes, circled take).
SHOTS = [
    (
        "Wide: the last ferry leaves the harbour, its lights smeared across the rain",
        "night harbour, ferry pulling away, sodium lights on wet water, anamorphic, 35mm",
        "approved",
        ["harbour", "dawn"],
        1,
    ),
    (
        "Medium: Iris at the wheelhouse window, counting the buoys under her breath",
        "ferry pilot in a dim wheelhouse, green instrument glow, rain on glass",
        "in_progress",
        ["fractal"],
        1,
    ),
    (
        "Close: the passenger's ticket, dated tomorrow, trembling in the wind",
        "close-up of a paper ferry ticket in a gloved hand, shallow focus, night",
        "review",
        [],  # an animatic take and its re-roll, then one upload (circled)
        3,
    ),
    (
        "Insert: radar sweep finds a second ship where none should be",
        "marine radar screen, a blip appears, cyan phosphor, slow push in",
        "in_progress",
        ["life", "spectrum"],
        None,
    ),
    (
        "Wide: deck lights fail one by one from stern to bow",
        "ferry deck at night, lights switching off in sequence, fog rolling in",
        "todo",
        ["deck", "bars"],
        2,
    ),
    (
        "Two-shot: Iris and the passenger at the rail as the fog lifts at dawn",
        "two figures at a ship's rail, dawn breaking through fog, warm backlight",
        "todo",
        [],
        None,
    ),
]
HERO = 2  # the shot the shot tab shows


@dataclass
class Film:
    project_id: int
    hero_shot_id: int


def clip(look: str) -> bytes:
    """A 2-second H.264 clip of one lavfi pattern, gently graded and vignetted."""
    name, _, options = LOOKS[look].partition("=")
    source = f"{name}=size=480x270:rate=12" + (f":{options}" if options else "")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "clip.mp4"
        subprocess.run(
            [
                *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", source),
                *("-vf", "scale=480:270,vignette=PI/5,format=yuv420p"),
                *("-t", "2", "-c:v", "libx264", "-crf", "28", str(path)),
            ],
            check=True,
        )
        return path.read_bytes()


def run_jobs(gen: Generation) -> None:
    """The queued generation jobs (animatic, CPU), run here one after another."""
    assert gen.runner is not None
    while gen.runner.runner.work_once() is not None:
        pass


def seed_film(scratch: stack.Scratch) -> Film:
    settings = stack.settings_for(scratch, port=0)
    db = Database(scratch.url)
    gen = build_generation(db, settings)  # no Redis: jobs run in this process (run_jobs)
    try:
        with db.session_scope() as session:
            users = [
                accounts.create_user(
                    session, email=email, display_name=name, password=stack.PASSWORD
                )
                for email, name, _ in PEOPLE
            ]
            owner = Actor(user=users[0])
            workspace = accounts.create_workspace(session, owner, name="Night Shift")
            for email, _, role in PEOPLE[1:]:
                accounts.add_member(session, owner, workspace.id, email=email, role=role)
            project = projects.create_project(
                session,
                owner,
                workspace_id=workspace.id,
                title="Last Ferry",
                logline="A night-shift ferry pilot and the passenger who never gets off.",
            )
            shot_ids = []
            for number, (description, prompt, _status, _looks, _circled) in enumerate(SHOTS):
                fields = projects.ShotFields(
                    description=description,
                    prompt=prompt,
                    target_duration=2,
                    assignee_email=PEOPLE[number % len(PEOPLE)][0],
                )
                shot_ids.append(projects.add_shot(session, owner, project.id, fields).id)
            editor = Actor(user=users[1])
            # The hero shot: an animatic take, then its re-roll (lineage on the card).
            first = takes.generate_take(session, editor, shot_ids[HERO], gen, model="animatic")
            film = Film(project.id, shot_ids[HERO])
            first_id = first.id
        run_jobs(gen)
        with db.session_scope() as session:
            takes.reroll_take(session, editor, first_id, gen)
        run_jobs(gen)
        with db.session_scope() as session:
            for number, (_d, _p, _s, looks, _c) in enumerate(SHOTS):
                for look in looks:
                    takes.upload_take(session, editor, shot_ids[number], gen, clip(look))
            takes.upload_take(session, editor, shot_ids[HERO], gen, clip("deep"))
            for number, (_d, _p, _s, _looks, circled) in enumerate(SHOTS):
                if circled is not None:
                    made = takes.list_takes(session, owner, shot_ids[number])
                    pick = next(v.take.id for v in made if v.take.number == circled)
                    takes.select_take(session, owner, pick)
            for number, (_d, _p, status, _looks, _c) in enumerate(SHOTS):
                if status not in ("todo", "review"):
                    shot = projects.get_shot(session, owner, shot_ids[number])
                    projects.update_shot(
                        session,
                        owner,
                        shot.id,
                        projects.ShotFields(status=status),
                        expected_version=shot.version,
                    )
            made = takes.list_takes(session, owner, film.hero_shot_id)
            failed = [v.take.number for v in made if v.job and v.job.status != "succeeded"]
            if failed:
                raise RuntimeError(f"the animatic takes {failed} did not succeed")
            hero = {v.take.number: v.take.id for v in made}
            takes.mark_take(session, editor, hero[3], favorite=True)
            maya, ben, ana = (Actor(user=u) for u in users)
            review.add_comment(
                session,
                ana,
                film.hero_shot_id,
                "The ticket shakes too early here; can we hold it still until the gust?",
                take_id=hero[2],
                timecode=1.2,
                mentions=[PEOPLE[1][0]],
            )
            review.add_comment(
                session,
                ben,
                film.hero_shot_id,
                "Shot a practical insert instead (take 3): the date reads at a glance now.",
                take_id=hero[3],
            )
            review.add_comment(
                session,
                maya,
                film.hero_shot_id,
                "Take 3 it is. Circled; moving the shot to review for the grade.",
                take_id=hero[3],
                timecode=0.5,
                status="review",
            )
    finally:
        db.dispose()
    return film


def settle(page: Page, selector: str, minimum: int = 1) -> None:
    """Wait for `selector` (at least `minimum` of it), every image under the page
    loaded, every video's poster painted, and no Gradio progress left."""
    page.locator(selector).nth(minimum - 1).wait_for()
    page.wait_for_function(
        """() => [...document.images].every(i => i.complete && i.naturalWidth > 0)
              && [...document.querySelectorAll('video[poster]')].every(v => v.poster)
              && !document.querySelector('.progress-text, .eta-bar, .wrap.pending')""",
        timeout=60_000,
    )
    page.wait_for_timeout(800)  # transitions and fonts


def shoot(page: Page, path: Path, bottom: str, margin: int = 24) -> None:
    """The page from the top, 1440 wide, down to `bottom`'s lower edge (+ a margin):
    the viewport is made that high (the sidebar spans it) and then put back."""
    box = page.locator(bottom).bounding_box()
    assert box is not None, bottom
    height = int(box["y"] + box["height"] + margin)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, 600)})
    page.wait_for_timeout(500)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(path), clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
    )
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    print(f"{path.relative_to(stack.ROOT)}: {height} px high, {path.stat().st_size / 1024:.0f} KB")


def take_pictures(base: str, film: Film) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("input[name=email]", SIGNED_IN)
        page.fill("input[name=password]", stack.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        page.locator("#signed-in-as", has_text="Signed in as").wait_for()
        settle(page, "#ws-home img")
        shoot(page, DOCS / "dashboard.png", "#ws-home .take-tile >> nth=0", margin=8)

        page.goto(base + f"/projects?project={film.project_id}")
        settle(page, "#proj-storyboard [data-shot]", minimum=len(SHOTS))
        shoot(page, DOCS / "screenshots" / "storyboard.png", "#proj-storyboard")

        page.goto(base + f"/projects?project={film.project_id}&shot={film.hero_shot_id}")
        settle(page, "#shot-takes figure", minimum=3)
        page.locator("#shot-comments", has_text="ticket").wait_for()
        settle(page, "#shot-comments")
        shoot(page, DOCS / "screenshots" / "shot-page.png", "#shot-comments", margin=10)
        browser.close()


def main() -> None:
    scratch = stack.scratch_database("shots")
    server = None
    try:
        film = seed_film(scratch)
        server = stack.serve(stack.ROOT, scratch)
        take_pictures(server.url, film)
    finally:
        if server is not None:
            server.stop()
        scratch.drop()


if __name__ == "__main__":
    main()
