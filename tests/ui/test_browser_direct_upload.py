"""Direct uploads in a real browser (Debian's Chromium), with media in S3 (moto's
server on loopback, with the CORS rule docs/deploy.md gives operators).

A take and a jam film go from the page straight to the store in presigned
parts: the progress bar is seen moving to full, the web server never gets
the bytes (its part route is not used), and both play back through signed
links that redirect to the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.media import ffmpeg
from studio.projects.models import Take
from studio.uploads.models import Upload, UploadStatus
from tests.conftest import LiveServer, start_server
from tests.factories import make_user, make_workspace
from tests.jams.helpers import film_bytes, make_jam, register
from tests.s3 import make_bucket
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser

SLOW_MS = 60_000


@pytest.fixture(scope="module")
def s3_server(settings: Settings, s3_endpoint: str) -> Iterator[LiveServer]:
    bucket = make_bucket(s3_endpoint)
    server = start_server(
        settings.model_copy(
            update={
                "storage_url": f"s3://{bucket}/media",
                "s3_endpoint_url": s3_endpoint,
                # Small parts: a 6 MB film goes up in two parallel parts.
                "upload_part_bytes": 5 * 1024 * 1024,
            }
        )
    )
    yield server
    server.stop()


def _plays(page: Page, selector: str) -> None:
    video = page.locator(selector).first
    expect(video).to_have_count(1, timeout=SLOW_MS)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        f"() => document.querySelector({selector!r}).currentTime > 0.1", timeout=SLOW_MS
    )


def _watch_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(f"{request.method} {request.url}"))
    return seen


def test_a_take_and_a_jam_film_go_straight_to_the_store_and_play(
    page: Page,
    s3_server: LiveServer,
    s3_endpoint: str,
    db: Database,
    backend: str,
    artifacts_dir: Path,
    tmp_path: Path,
) -> None:
    requests = _watch_requests(page)
    user = make_user(db, "director")
    make_workspace(db, user, name="Harbour Films")
    clip = tmp_path / "outside.mp4"
    ramp = np.linspace(0, 255, 24, dtype=np.uint8)[:, None, None, None]
    ffmpeg.encode_mp4(np.broadcast_to(ramp, (24, 96, 128, 3)).copy(), 12, clip)

    def snap(name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"{backend}-direct-upload-{name}.png"))

    now = datetime.now(UTC)
    slug, _ = make_jam(
        db,
        title="Harbour Jam",
        registration_opens_at=now - timedelta(hours=5),
        registration_closes_at=now - timedelta(hours=2),
        kickoff_at=now - timedelta(hours=1),
        deadline_at=now + timedelta(minutes=30),  # the last hour: the page warns
        film_max_seconds=10.0,
    )
    register(db, slug, user, "Otters", when=now - timedelta(hours=4))
    sign_in(page, s3_server.url, user.email, user.password)
    page.click("#nav-projects")
    projects_page = page.locator("#page-projects")
    page.locator("#proj-new").get_by_role("button", name=re.compile("New project")).click()
    projects_page.get_by_label("Title").fill("Uploads")
    page.click("#proj-create")
    expect(page.locator("#proj-info")).to_contain_text("Uploads")
    projects_page.get_by_role("tab", name="Shot list").click()
    projects_page.get_by_label("New shot").fill("Wide: the harbour at night")
    page.click("#proj-add-shot")
    page.locator("#shot-table tr", has_text="SC01-SH010").click()
    expect(page.locator("#shot-header")).to_contain_text("SC01-SH010")

    # The take: chosen in the widget, sent to the store, checked, in the grid, playing.
    projects_page.get_by_text("Upload a clip as a take").click()
    page.locator("#take-direct-upload input[type=file]").set_input_files(str(clip))
    page.click("#take-direct-upload-button")
    status = page.locator("#take-direct-upload .upload-status")
    expect(status).to_contain_text("take added", timeout=SLOW_MS)
    bar = page.locator("#take-direct-upload progress")
    expect(bar).to_be_visible()
    assert bar.evaluate("b => b.value === b.max && b.max > 0")
    _plays(page, "#shot-takes video")
    snap("01-take")
    with db.session_scope() as session:
        take = session.scalars(select(Take)).all()[-1]
        assert take.upload_asset_id is not None

    # The jam film: two parts in parallel straight to the store, then the entry is submitted.
    data = film_bytes(2.0)
    filler = 6 * 1024 * 1024 - len(data)
    film = tmp_path / "night-swim.mp4"
    film.write_bytes(data + filler.to_bytes(4, "big") + b"free" + b"\0" * (filler - 8))
    page.click("#nav-jams")
    page.locator(f'#jam-list tr[data-jam="{slug}"]').click()
    page.get_by_role("tab", name="Submit").click()
    page.locator("#entry-title textarea, #entry-title input").first.fill("Night Swim")
    page.get_by_text("Large film: upload straight to storage and submit").click()
    page.locator("#entry-direct-upload input[type=file]").set_input_files(str(film))
    page.click("#entry-direct-submit")
    warning = page.locator("#entry-direct-upload .upload-warning")
    expect(warning).to_contain_text("must finish before it", timeout=SLOW_MS)
    expect(page.locator("#entry-direct-upload .upload-status")).to_contain_text(
        "Uploaded and submitted", timeout=SLOW_MS
    )
    snap("02-film")
    entry = page.locator("#jam-entry .jam-entry")
    expect(entry).to_have_attribute("data-status", "submitted", timeout=SLOW_MS)
    _plays(page, "#jam-entry video")
    snap("03-film-plays")

    # The bytes went to the store, never through the web server's own part route.
    puts = [r for r in requests if r.startswith("PUT ")]
    assert len([r for r in puts if r.startswith(f"PUT {s3_endpoint}/")]) >= 3, puts
    assert not [r for r in puts if "/uploads/" in r and r.startswith(f"PUT {s3_server.url}")]
    with db.session_scope() as session:
        done = session.scalars(select(Upload).where(Upload.status == UploadStatus.READY)).all()
        assert {u.purpose.value for u in done} >= {"take", "jam_film"}
