"""sound: whether a video asset has an audio track; the jam rule "films need sound" (issue 11)

Plain ADD COLUMN on both tables (never batch mode: jams and assets are
referenced by other tables, and SQLite's batch mode recreates the table,
which would cascade-delete their children).

Revision ID: 0015_sound
Revises: 0014_uploads_owner
Create Date: 2026-12-01 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_sound"
down_revision: str | None = "0014_uploads_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("assets", sa.Column("has_audio", sa.Boolean(), nullable=True))
    op.add_column("assets", sa.Column("audio_codec", sa.String(length=32), nullable=True))
    op.add_column(
        "jams",
        sa.Column("film_needs_sound", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35+): no table is recreated, so no child row is touched.
    op.drop_column("jams", "film_needs_sound")
    op.drop_column("assets", "audio_codec")
    op.drop_column("assets", "has_audio")
