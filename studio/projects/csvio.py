"""Shot lists as CSV, with the columns a production uses.

Import is all or nothing: every row is checked first, and one bad row means
nothing is written and the error names each bad row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.accounts.models import Membership, Role, User
from studio.errors import InvalidInput, StudioError
from studio.projects import service as projects
from studio.projects.models import Scene, Shot, ShotStatus

COLUMNS = [
    "code",
    "scene",
    "description",
    "dialogue",
    "camera_notes",
    "prompt",
    "negative_prompt",
    "duration",
    "ratio",
    "status",
    "assignee",
]
MAX_ROWS = 2000
MAX_BYTES = 2_000_000


def export_csv(session: Session, actor: Actor, project_id: int) -> str:
    shots = projects.list_shots(session, actor, project_id)
    scenes = {
        s.id: s.number for s in session.scalars(select(Scene).where(Scene.project_id == project_id))
    }
    emails = dict(
        (row.id, row.email)
        for row in session.execute(
            select(User.id, User.email).where(
                User.id.in_([s.assignee_user_id for s in shots if s.assignee_user_id])
            )
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for shot in shots:
        writer.writerow(
            [
                shot.code,
                scenes[shot.scene_id],
                shot.description,
                shot.dialogue,
                shot.camera_notes,
                shot.prompt,
                shot.negative_prompt,
                "" if shot.target_duration is None else f"{shot.target_duration:g}",
                shot.ratio or "",
                shot.status.value,
                emails.get(shot.assignee_user_id, ""),
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def import_csv(session: Session, actor: Actor, project_id: int, data: bytes) -> ImportResult:
    project = projects.get_project(session, actor, project_id, Role.EDITOR)
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            f"The CSV is larger than {MAX_BYTES // 1_000_000} MB.", code="csv_too_large"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The CSV is not UTF-8 text.", code="invalid_csv") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    unknown = [h for h in header if h not in COLUMNS]
    if not header or unknown:
        raise InvalidInput(
            f"Unknown columns: {', '.join(unknown) or '(none found)'}. Use: {', '.join(COLUMNS)}.",
            code="invalid_csv",
        )
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"At most {MAX_ROWS} shots per import.", code="csv_too_large")
    existing = {
        s.code: s for s in session.scalars(select(Shot).where(Shot.project_id == project.id))
    }
    members = {
        email
        for (email,) in session.execute(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == project.workspace_id)
        )
    }
    errors: list[str] = []
    plans: list[tuple[Shot | None, int | None, projects.ShotFields]] = []
    for number, raw in enumerate(rows, start=2):  # row 1 is the header
        problems = []
        if raw.get(None):  # DictReader puts surplus fields under the key None
            problems.append("has more fields than the header (quote text that contains commas)")
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        code = row.get("code", "")
        target = existing.get(code) if code else None
        if code and target is None:
            problems.append(f"code {code} is not in this project (leave it empty to add a shot)")
        scene = None
        if row.get("scene"):
            if row["scene"].isdigit() and 1 <= int(row["scene"]) <= 99:
                scene = int(row["scene"])
            else:
                problems.append(f"scene '{row['scene']}' is not a number from 1 to 99")
        duration = None
        if row.get("duration"):
            try:
                duration = float(row["duration"])
                if not 0 < duration <= 600:
                    raise ValueError
            except ValueError:
                problems.append(f"duration '{row['duration']}' is not a number of seconds (0-600)")
        status = row.get("status") or None
        if status and status.lower().replace(" ", "_") not in {s.value for s in ShotStatus}:
            problems.append(
                f"status '{status}' is not one of {', '.join(s.value for s in ShotStatus)}"
            )
        ratio = row.get("ratio") or None
        if ratio and ratio not in projects.RATIO_CHOICES:
            problems.append(f"ratio '{ratio}' is not one of {', '.join(projects.RATIO_CHOICES)}")
        assignee = row.get("assignee", "")
        if assignee and assignee.lower() not in members:
            problems.append(f"assignee {assignee} is not a member of this workspace")
        for field in ("description", "dialogue", "camera_notes", "prompt", "negative_prompt"):
            if len(row.get(field, "")) > projects.TEXT_MAX:
                problems.append(f"{field} is longer than {projects.TEXT_MAX} characters")
        if problems:
            errors.append(f"row {number}: " + "; ".join(problems))
            continue
        plans.append(
            (
                target,
                scene,
                projects.ShotFields(
                    description=row.get("description", ""),
                    dialogue=row.get("dialogue", ""),
                    camera_notes=row.get("camera_notes", ""),
                    prompt=row.get("prompt", ""),
                    negative_prompt=row.get("negative_prompt", ""),
                    target_duration=duration,
                    ratio=ratio,
                    status=status,
                    assignee_email=assignee,
                ),
            )
        )
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise InvalidInput("Nothing was imported. " + " | ".join(shown), code="csv_rows_invalid")
    created = updated = 0
    try:
        for target, scene, values in plans:
            if target is None:
                projects.add_shot(session, actor, project.id, values, scene_number=scene)
                created += 1
            else:
                projects.update_shot(
                    session, actor, target.id, values, expected_version=target.version
                )
                updated += 1
    except StudioError as exc:  # a check only the service can make; the edge rolls back
        raise InvalidInput(
            f"Nothing was imported: {exc.message}", code="csv_rows_invalid"
        ) from None
    return ImportResult(created, updated)
