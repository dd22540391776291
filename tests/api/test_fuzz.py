"""A bounded, seeded schemathesis run over every /v1 operation (issue 13, finding 9).

The real app runs under uvicorn with a real API key and real data (a project
with shots, takes and a comment, a jam with a team); the fuzzer sends what
the OpenAPI document allows and much that it does not, with real ids bound
to path parameters half of the time. It passes only with no 5xx, no
undocumented status, no response that breaks its schema, and every 405 with
an Allow header. Seeded and deterministic: a failure reproduces.

Bounded for CI: a few examples per operation (STUDIO_FUZZ_EXAMPLES, default
6), one worker, a tiny animatic registry so the tasks it creates cost nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.config import Settings
from studio.db.session import Database
from tests.conftest import LiveServer, start_server
from tests.factories import bearer, make_api_key, make_user, make_workspace
from tests.jams.helpers import film_bytes

SEED = 20261
EXAMPLES = int(os.environ.get("STUDIO_FUZZ_EXAMPLES", "6"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "unsupported_method",
    ]
)
TINY_MODELS = """
[models.animatic]
name = "Animatic (tiny)"
engine = "animatic"
modes = ["text_to_video", "image_to_video", "text_to_image"]
ratios = { "1280:720" = [32, 18], "720:1280" = [18, 32], "960:960" = [24, 24] }
durations = { 1 = 2, 2 = 4, 3 = 6, 4 = 8, 5 = 10, 6 = 12, 7 = 14, 8 = 16, 9 = 18, 10 = 20 }
fps = 2
camera_move = "native"
last_frame = true
default_steps = 1
memory_gb = 0

[aliases]
gen4_turbo = ["animatic"]
gen4_image = ["animatic"]
"""


@pytest.fixture(scope="module")
def fuzz_server(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    models = tmp_path_factory.mktemp("fuzz") / "models.toml"
    models.write_text(TINY_MODELS)
    server = start_server(settings.model_copy(update={"models_file": models}))
    yield server
    server.stop()


def real_data(db: Database, url: str) -> tuple[str, dict[str, list[Any]]]:
    """A key for an admin who owns a workspace with work in it; the ids to bind."""
    admin = make_user(db, "fuzz", is_admin=True)
    team = make_workspace(db, admin, name="Fuzz")
    key = make_api_key(db, admin, team)
    auth = bearer(key)
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        project = http.post("/v1/projects", json={"title": "Fuzzed"}).json()
        shots = [
            http.post(f"/v1/projects/{project['id']}/shots", json={"prompt": p}).json()
            for p in ("a door", "a window")
        ]
        take = http.post(f"/v1/shots/{shots[0]['id']}/takes", json={}).json()
        comment = http.post(f"/v1/shots/{shots[0]['id']}/comments", json={"body": "tighter"}).json()
        jam = http.post(
            "/v1/jams",
            json={
                "title": "Fuzz Jam",
                "slug": f"fuzz-jam-{team.id}",
                "registration_opens_at": "2020-01-01T00:00:00Z",
                "kickoff_at": "2030-01-01T00:00:00Z",
            },
        ).json()
        captain = make_user(db, "captain")
        their = make_workspace(db, captain)
        with httpx.Client(
            base_url=url, headers=bearer(make_api_key(db, captain, their)), timeout=60
        ) as team_http:
            team_http.post(f"/v1/jams/{jam['slug']}/teams", json={"name": "Fuzz Team"})
            team_http.post(
                f"/v1/jams/{jam['slug']}/entry/film",
                content=film_bytes(),
                headers={"Content-Type": "video/mp4"},
            )
    ids = {
        "project_id": [project["id"]],
        "shot_id": [s["id"] for s in shots],
        "take_id": [take["take"]],
        "comment_id": [comment["id"]],
        "task_id": [take["id"]],
        "slug": [team.slug, jam["slug"]],
        "user_id": [admin.id, captain.id],
    }
    return key, ids


def config_file(path: Path, ids: dict[str, list[Any]]) -> Path:
    lines = []
    for name, values in ids.items():
        rendered = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values)
        lines += [f"[dictionaries.{name}]", f"values = [{rendered}]", ""]
    lines.append("[parameters]")
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_seeded_fuzzer_finds_no_5xx_and_no_schema_violation(
    fuzz_server: LiveServer, db: Database, tmp_path: Path
) -> None:
    key, ids = real_data(db, fuzz_server.url)
    config = config_file(tmp_path / "schemathesis.toml", ids)
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        f"{fuzz_server.url}/v1/openapi.json",
        "--url",
        f"{fuzz_server.url}/v1",
        "-H",
        f"Authorization: Bearer {key}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "30",
        "--continue-on-failure",
        "--no-color",
        "--suppress-health-check",
        "all",
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False
    )
    report = (run.stdout + run.stderr)[-12000:]
    assert run.returncode == 0, report
