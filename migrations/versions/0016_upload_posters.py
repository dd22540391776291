"""posters for uploaded videos and jam films (issue 12)

assets.poster_asset_id: an uploaded video's poster (its first keyframe as
a JPEG), made when it was kept. jam_entries.film_poster_asset_id: a frame
of the entry's film (the upload's, the take's or the rough cut's poster),
shown where the team uploaded no poster.

Plain ADD COLUMN with the foreign key inline (REFERENCES in the same
statement: SQLite cannot ALTER a constraint in, and batch mode would
recreate tables other tables reference). Existing rows keep NULL.

Revision ID: 0016_upload_posters
Revises: 0015_sound
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_upload_posters"
down_revision: str | None = "0015_sound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "assets",
        sa.Column("poster_asset_id", sa.Integer(), sa.ForeignKey("assets.id"), nullable=True),
        inline_references=True,
    )
    op.add_column(
        "jam_entries",
        sa.Column("film_poster_asset_id", sa.Integer(), sa.ForeignKey("assets.id"), nullable=True),
        inline_references=True,
    )


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35+): no table is recreated, so no child row is touched.
    op.drop_column("jam_entries", "film_poster_asset_id")
    op.drop_column("assets", "poster_asset_id")
