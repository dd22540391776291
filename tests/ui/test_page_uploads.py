"""Page uploads (issue 13, finding 6): owned, bounded per person, swept, no URL fetched.

The real app runs under uvicorn with small limits; people upload through
Gradio's own route (/gradio_api/upload) and read files back through
/gradio_api/file=, as a browser does, each with their own session.
"""

from __future__ import annotations

import base64
import io
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select, update

from studio.config import Settings
from studio.db.session import Database
from studio.media.models import PageUpload
from tests.conftest import LiveServer, start_server
from tests.factories import (
    UIError,
    bearer,
    call_ui,
    login,
    make_api_key,
    make_user,
    make_workspace,
    upload_ui_file,
)
from tests.ui.conftest import sign_in
from tests.ui.test_projects_page import FORM, add_shot, new_project

MAX_FILES = 5
MAX_BYTES = 300_000


@pytest.fixture(scope="module")
def guarded(settings: Settings) -> Iterator[LiveServer]:
    server = start_server(
        settings.model_copy(
            update={
                "upload_max_files_per_window": MAX_FILES,
                "upload_max_bytes_per_window": MAX_BYTES,
                "upload_window_seconds": 3600,
                "upload_ttl_seconds": 3600,
                "upload_sweep_interval_seconds": 0.2,
            }
        )
    )
    yield server
    server.stop()


@pytest.fixture
def folder(gradio_upload_folder: Path) -> Path:
    return gradio_upload_folder


@contextmanager
def client(server: LiveServer, user: Any = None, **kwargs: Any) -> Iterator[httpx.Client]:
    """A browser of its own (cookie jar), signed in as `user` if given."""
    with httpx.Client(base_url=server.url, timeout=30, **kwargs) as http:
        if user is not None:
            login(http, user)
        yield http


def png(shade: int = 90, size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (10, shade, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def stored(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def resolved(path: str) -> str:
    return str(Path(path).resolve())


def file_url(path: str) -> str:
    return f"/gradio_api/file={path}"


def shot_of(http: httpx.Client, workspace: int) -> int:
    project = new_project(http, workspace)
    return int(add_shot(http, workspace, project, "Close: a key")[0][1])


def test_an_upload_is_readable_and_usable_by_its_owner_only(
    db: Database, guarded: LiveServer, folder: Path
) -> None:
    team_a, team_b = make_workspace(db), make_workspace(db)
    with (
        client(guarded, team_a.owner) as a,
        client(guarded, team_b.owner) as b,
        client(guarded) as nobody,
    ):
        image = png(91)
        mine = upload_ui_file(a, "still.png", image)
        path = mine["path"]
        assert Path(path).read_bytes() == image

        got = a.get(file_url(path))
        assert (got.status_code, got.content) == (200, image)
        for url in (file_url(path), f"/gradio_api/file/{path}"):
            theirs = b.get(url)
            assert theirs.status_code == 404, theirs.text
            assert theirs.json() == {"error": "not_found", "message": "No such file."}
            assert b.head(url).status_code == 404
        dotted = f"{Path(path).parent}/../{Path(path).parent.name}/{Path(path).name}"
        assert b.get(file_url(dotted)).status_code == 404
        assert nobody.get(file_url(path)).status_code == 401

        # B's handler with A's upload: refused like a file that was never uploaded.
        b_shot = shot_of(b, team_b.id)
        with pytest.raises(UIError, match="not uploaded here"):
            call_ui(b, "set_shot_reference", b_shot, mine, 1)
        assert '<img class="reference"' not in call_ui(b, "reload_shot", b_shot)[11]

        # A may use it, signed in or with an API key of theirs (the same person).
        a_shot = shot_of(a, team_a.id)
        form = call_ui(a, "set_shot_reference", a_shot, mine, 1)
        assert '<img class="reference"' in form[1 + 11]
        with client(guarded, headers=bearer(make_api_key(db, team_a.owner, team_a))) as key:
            again = call_ui(key, "set_shot_reference", a_shot, mine, form[1 + FORM["version"]])
            assert '<img class="reference"' in again[1 + 11]
        # Any image kind: Gradio must hand the handler the uploaded file itself (a
        # converted copy would be a file nobody uploaded).
        for mode in ("RGBA", "L", "P"):
            buffer = io.BytesIO()
            Image.new(mode, (24, 24)).save(buffer, format="PNG")
            kind = upload_ui_file(a, f"{mode}.png", buffer.getvalue())
            form = call_ui(a, "set_shot_reference", a_shot, kind, again[1 + FORM["version"]])
            assert '<img class="reference"' in form[1 + 11]
            again = form

        # Same file from B: Gradio stores it at the same path; now both own it.
        assert upload_ui_file(b, "still.png", image)["path"] == path
        assert b.get(file_url(path)).status_code == 200

        # A file made for A to download (a CSV export) is A's alone, too.
        exported = call_ui(a, "export_shots_csv", new_project(a, team_a.id, "Export"))[0]
        assert Path(exported["path"]).is_relative_to(folder)
        csv = a.get(exported["url"])
        assert csv.status_code == 200 and csv.text.startswith("code,scene,")
        assert b.get(exported["url"]).status_code == 404


def multipart(*files: tuple[str, bytes]) -> tuple[bytes, str]:
    boundary = "studio-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def test_upload_limits_per_person_refuse_clearly_and_store_nothing(
    db: Database, guarded: LiveServer, folder: Path
) -> None:
    with client(guarded, make_user(db, "many")) as many:
        for shade in range(MAX_FILES):
            upload_ui_file(many, f"{shade}.png", png(shade))
        before = stored(folder)
        over = many.post(
            "/gradio_api/upload", files={"files": (f"{MAX_FILES}.png", png(MAX_FILES))}
        )
        assert over.status_code == 429, over.text
        assert over.json()["error"] == "too_many_requests"
        assert f"uploaded {MAX_FILES} files in the last 1 h" in over.json()["message"]
        assert 0 < int(over.headers["retry-after"]) <= 3600
        assert stored(folder) == before

    # Parallel uploads cannot pass the count together: each one is counted
    # under a lock on its sender before it is stored.
    with client(guarded, make_user(db, "racer")) as racer:
        barrier = threading.Barrier(2 * MAX_FILES)

        def send(index: int) -> int:
            barrier.wait()
            answer = racer.post(
                "/gradio_api/upload", files={"files": (f"r{index}.png", png(index))}
            )
            return answer.status_code

        with ThreadPoolExecutor(2 * MAX_FILES) as pool:
            statuses = sorted(pool.map(send, range(2 * MAX_FILES)))
        assert statuses == [200] * MAX_FILES + [429] * MAX_FILES

    # Another person's window is their own.
    with client(guarded, make_user(db, "other")) as other:
        upload_ui_file(other, "3.png", png(3))

    # Bytes: 200 KB fits the 300 KB window, 150 KB more does not.
    with client(guarded, make_user(db, "big")) as big:
        upload_ui_file(big, "a.bin", os.urandom(200_000))
        before = stored(folder)
        too_big = big.post("/gradio_api/upload", files={"files": ("b.bin", os.urandom(150_000))})
        assert too_big.status_code == 413, too_big.text
        assert too_big.json()["error"] == "upload_quota"
        assert "left of the" in too_big.json()["message"]
        assert stored(folder) == before
        upload_ui_file(big, "c.bin", os.urandom(50_000))  # what is left still goes

    # Several files in one request count one by one, and none is kept past the limit.
    with client(guarded, make_user(db, "batch")) as batch:
        body, boundary = multipart(*((f"{i}.bin", os.urandom(1000)) for i in range(MAX_FILES + 1)))
        before = stored(folder)
        refused = batch.post(
            "/gradio_api/upload",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert refused.status_code == 429, refused.text
        assert f"This upload has {MAX_FILES + 1} files" in refused.json()["message"]
        assert stored(folder) == before
        upload_ui_file(batch, "one.png", png(7))  # the refused request used up nothing

        # A body without a length cannot be checked before it is stored: 411.
        before = stored(folder)
        chunked = batch.post(
            "/gradio_api/upload",
            content=iter([body]),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert chunked.status_code == 411, chunked.text
        assert chunked.json()["error"] == "length_required"
        assert stored(folder) == before


def wait_until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_sweep_removes_old_uploads_and_nothing_else(
    db: Database, guarded: LiveServer, folder: Path
) -> None:
    team = make_workspace(db)
    with client(guarded, team.owner) as owner:
        old = upload_ui_file(owner, "old.csv", b"scene,description\n1,Wide: the harbour\n")
        fresh = upload_ui_file(owner, "fresh.png", png(12))
        # Two hours pass for `old` (TTL: one): its row first, then its file, as
        # the sweep removes them in that order.
        with db.session_scope() as session:
            session.execute(
                update(PageUpload)
                .where(PageUpload.path == resolved(old["path"]))
                .values(created_at=datetime.now(UTC) - timedelta(hours=2))
            )
        two_hours_ago = time.time() - 7200
        os.utime(old["path"], (two_hours_ago, two_hours_ago))
        broken_off = folder / "tmpbrokenoffupload"  # what an interrupted upload leaves
        broken_off.write_bytes(b"partial")
        os.utime(broken_off, (two_hours_ago, two_hours_ago))
        not_gradios = folder / "deep_links" / "keep.json"
        not_gradios.parent.mkdir(exist_ok=True)
        not_gradios.write_text("{}")
        os.utime(not_gradios, (two_hours_ago, two_hours_ago))

        wait_until(lambda: not Path(old["path"]).exists() and not broken_off.exists())
        assert Path(fresh["path"]).exists() and not_gradios.exists()
        with db.session_scope() as session:
            rows = select(func.count()).select_from(PageUpload)
            assert session.scalar(rows.where(PageUpload.path == resolved(old["path"]))) == 0
            assert session.scalar(rows.where(PageUpload.path == resolved(fresh["path"]))) == 1
        assert owner.get(file_url(old["path"])).status_code == 404
        # A handler given the swept file refuses it (a file input; an image input
        # is refused by Gradio itself, which cannot open it).
        project = new_project(owner, team.id)
        with pytest.raises(UIError, match="not uploaded here"):
            call_ui(owner, "import_shots_csv", team.id, project, None, None, False, old)
        assert owner.get(file_url(fresh["path"])).status_code == 200


class CountingServer(ThreadingHTTPServer):
    """A web server on loopback that counts every request made to it."""

    def __init__(self) -> None:
        self.hits = 0
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                counter.hits += 1
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"fetched")

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def target() -> Iterator[CountingServer]:
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_no_gradio_route_fetches_a_url_or_serves_a_file_outside_uploads(
    db: Database, guarded: LiveServer, folder: Path, target: CountingServer, tmp_path: Path
) -> None:
    team = make_workspace(db)
    with client(guarded, team.owner) as http:
        shot = shot_of(http, team.id)
        links = [f"{target.url}/still.png", "https://example.com/still.png", "//example.com/x"]
        for link in links:
            fetched = http.get(file_url(link))
            assert fetched.status_code == 403, fetched.text
            assert fetched.json()["error"] == "link_refused"
            assert http.get(f"/gradio_api/proxy={link}").status_code == 404
            as_input = {"path": link, "url": link, "meta": {"_type": "gradio.FileData"}}
            with pytest.raises(UIError, match=r"HTTP 422.*link_refused"):
                call_ui(http, "set_shot_reference", shot, as_input, 1)
            with pytest.raises(UIError, match="HTTP 422"):
                call_ui(http, "set_shot_reference", shot, {"path": link}, 1)
        # A data: URL beside a real upload: Gradio would write it to its folder.
        real = upload_ui_file(http, "real.png", png(5))
        inline = "data:image/png;base64," + base64.b64encode(png(6)).decode()
        with pytest.raises(UIError, match=r"HTTP 422.*link_refused"):
            call_ui(http, "set_shot_reference", shot, {**real, "url": inline}, 1)
        assert (
            http.post("/gradio_api/run-history/connect", json={"bucket_id": "a/b"}).status_code
            == 404
        )
        assert http.get("/gradio_api/runs").status_code == 404
        assert target.hits == 0

        # Files outside the upload folder, however they are named.
        secret = tmp_path / "secret.txt"
        secret.write_text("TOP-SECRET-MARKER")
        inside_link = folder / ("f" * 64)
        inside_link.mkdir(exist_ok=True)
        (inside_link / "link.txt").unlink(missing_ok=True)
        (inside_link / "link.txt").symlink_to(secret)
        relative = os.path.relpath(secret, folder)
        attempts = [
            file_url(str(secret)),
            file_url("/etc/passwd"),
            f"/gradio_api/file/{secret}",
            file_url(f"{folder}/{relative}"),
            file_url(f"{folder}/%2e%2e/{'%2e%2e/' * 8}etc/passwd"),
            file_url(str(inside_link / "link.txt")),
            file_url(f"file://{secret}"),
            "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/gradio_api/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            f"/custom_component/x/y/z/{'%2e%2e%2f' * 8}etc%2fpasswd",
            file_url(f"{secret}%00.png"),
            file_url("x" * 5000),
        ]
        for url in attempts:
            answer = http.get(url)
            assert answer.status_code in {400, 401, 403, 404}, (url, answer.status_code)
            assert b"TOP-SECRET-MARKER" not in answer.content and b"root:" not in answer.content
        # Hostile event bodies get a clear 4xx, never a 500.
        nested = http.post(
            "/gradio_api/call/set_shot_reference",
            content=b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert nested.status_code == 400, nested.text
        # The page itself still loads for its owner.
        page = http.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200


@pytest.mark.browser
def test_in_chromium_the_uploader_sees_the_preview_and_no_one_else_can_load_it(
    db: Database, guarded: LiveServer, page: Page, browser: Browser
) -> None:
    team, other = make_workspace(db), make_user(db, "onlooker")
    with client(guarded, team.owner) as http:
        shot_of(http, team.id)
    sign_in(page, guarded.url, team.owner.email, team.owner.password)
    page.click("#nav-projects")
    page.locator("#proj-storyboard [data-shot]").first.click()
    expect(page.locator("#shot-header")).to_contain_text("SC01-SH010")
    page.get_by_text("Reference image", exact=True).click()
    page.locator("#page-projects input[type=file][accept*=image]").set_input_files(
        files=[{"name": "still.png", "mimeType": "image/png", "buffer": png(123, 64)}]
    )
    preview = page.locator("#page-projects img[src*='/gradio_api/file=']").first
    expect(preview).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 64", arg=preview.element_handle()
    )
    source = preview.get_attribute("src")
    assert source

    context = browser.new_context()
    try:
        theirs = context.new_page()
        sign_in(theirs, guarded.url, other.email, other.password)
        assert theirs.request.get(urljoin(guarded.url + "/", source)).status == 404
    finally:
        context.close()
