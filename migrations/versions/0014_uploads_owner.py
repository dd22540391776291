"""page uploads: the owner of each file in the pages' upload folder (issue 13, finding 6)

Revision ID: 0014_uploads_owner
Revises: 0006_jams
Create Date: 2026-12-02 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import studio.db.base

revision: str = "0014_uploads_owner"
down_revision: str | None = "0009_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "upload",
                "output",
                name="page_upload_kind",
                native_enum=False,
                create_constraint=True,
                length=6,
            ),
            nullable=False,
        ),
        sa.Column("path", sa.String(length=1024), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", studio.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_page_uploads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_uploads")),
    )
    with op.batch_alter_table("page_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_uploads_path"), ["path"], unique=False)
        batch_op.create_index(
            "ix_page_uploads_user_id_created_at", ["user_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("page_uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_page_uploads_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_page_uploads_path"))
    op.drop_table("page_uploads")
