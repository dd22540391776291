"""scheduler: counters the fair claim reads (kept by triggers on jobs), worker
presence, queue snapshots, hard concurrency caps

Revision ID: 0007_scheduler
Revises: 0006_jams
Create Date: 2026-12-01

The counters are backfilled from the jobs already there, so an existing
database keeps every job and its queue state. From then on triggers on `jobs`
keep them right in the same transaction as whatever changed a job: a claim, a
finish, a cancel, the reaper, a rough cut's insert, or an operator's SQL.

Triggers on `jobs` disappear if SQLite batch mode ever recreates that table
(a later migration that alters a column of `jobs` in batch mode): such a
migration must create them again (`create_job_triggers()` below).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import studio.db.base

revision: str = "0007_scheduler"
down_revision: str | None = "0006_jams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = "status = 'queued' AND deleted_at IS NULL"

# ---------------------------------------------------------------- Postgres
# One function for insert, update and delete: take away what the old row
# counted, add what the new row counts. Row locks are always taken in the
# order lane -> workspace -> user, so two transactions never wait in a circle.
PG_FUNCTION = """
CREATE FUNCTION scheduler_track_job() RETURNS trigger AS $$
DECLARE
  served timestamptz := NULL;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF OLD.status = 'queued' AND OLD.deleted_at IS NULL THEN
      UPDATE scheduler_lanes SET queued = queued - 1
       WHERE workspace_id = OLD.workspace_id AND queue = OLD.queue
         AND model_key = OLD.model_key;
    END IF;
    IF OLD.status = 'running' OR (OLD.status = 'succeeded' AND OLD.gpu_seconds <> 0) THEN
      UPDATE scheduler_workspaces
         SET running = running - CASE WHEN OLD.status = 'running' THEN 1 ELSE 0 END,
             gpu_seconds_used = gpu_seconds_used
               - CASE WHEN OLD.status = 'succeeded' THEN OLD.gpu_seconds ELSE 0 END
       WHERE workspace_id = OLD.workspace_id;
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN NULL;
    END IF;
    IF NEW.started_at IS DISTINCT FROM OLD.started_at THEN
      served := NEW.started_at;
    END IF;
  ELSE
    INSERT INTO scheduler_workspaces (workspace_id) VALUES (NEW.workspace_id)
      ON CONFLICT DO NOTHING;
    INSERT INTO scheduler_users (workspace_id, user_id) VALUES (NEW.workspace_id, NEW.user_id)
      ON CONFLICT DO NOTHING;
    served := NEW.started_at;
  END IF;
  IF NEW.status = 'queued' AND NEW.deleted_at IS NULL THEN
    INSERT INTO scheduler_lanes (workspace_id, queue, model_key, queued)
      VALUES (NEW.workspace_id, NEW.queue, NEW.model_key, 1)
      ON CONFLICT (workspace_id, queue, model_key)
      DO UPDATE SET queued = scheduler_lanes.queued + 1;
  END IF;
  IF NEW.status = 'running' OR (NEW.status = 'succeeded' AND NEW.gpu_seconds <> 0)
     OR served IS NOT NULL THEN
    UPDATE scheduler_workspaces
       SET running = running + CASE WHEN NEW.status = 'running' THEN 1 ELSE 0 END,
           gpu_seconds_used = gpu_seconds_used
             + CASE WHEN NEW.status = 'succeeded' THEN NEW.gpu_seconds ELSE 0 END,
           last_served_at = GREATEST(last_served_at, served)
     WHERE workspace_id = NEW.workspace_id;
  END IF;
  IF served IS NOT NULL THEN
    UPDATE scheduler_users SET last_served_at = GREATEST(last_served_at, served)
     WHERE workspace_id = NEW.workspace_id AND user_id = NEW.user_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGERS = [
    "CREATE TRIGGER jobs_scheduler_insert_delete AFTER INSERT OR DELETE ON jobs "
    "FOR EACH ROW EXECUTE FUNCTION scheduler_track_job()",
    # Heartbeats and progress (every 0.25 s per running job) change none of
    # these columns and fire nothing.
    "CREATE TRIGGER jobs_scheduler_update "
    "AFTER UPDATE OF status, deleted_at, gpu_seconds, started_at ON jobs FOR EACH ROW "
    "WHEN (OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at "
    "OR OLD.gpu_seconds IS DISTINCT FROM NEW.gpu_seconds "
    "OR OLD.started_at IS DISTINCT FROM NEW.started_at) "
    "EXECUTE FUNCTION scheduler_track_job()",
]

# ---------------------------------------------------------------- SQLite
# SQLite has no GREATEST over NULLs and no trigger functions: the same
# arithmetic, spelled out per event. Timestamps are ISO text in UTC, so text
# comparison orders them.
_LATER = (
    "CASE WHEN {new} IS NOT NULL AND (last_served_at IS NULL OR last_served_at < {new}) "
    "THEN {new} ELSE last_served_at END"
)
_RUNNING = "(CASE WHEN {row}.status = 'running' THEN 1 ELSE 0 END)"
_GPU = "(CASE WHEN {row}.status = 'succeeded' THEN {row}.gpu_seconds ELSE 0 END)"
_WAITING = "({row}.status = 'queued' AND {row}.deleted_at IS NULL)"
_LANE = "workspace_id = {row}.workspace_id AND queue = {row}.queue AND model_key = {row}.model_key"

# (S608 below: SQL assembled from this file's constants only; no values.)
SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER jobs_scheduler_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO scheduler_workspaces (workspace_id) VALUES (NEW.workspace_id)
    ON CONFLICT DO NOTHING;
  INSERT INTO scheduler_users (workspace_id, user_id) VALUES (NEW.workspace_id, NEW.user_id)
    ON CONFLICT DO NOTHING;
  INSERT INTO scheduler_lanes (workspace_id, queue, model_key, queued)
    VALUES (NEW.workspace_id, NEW.queue, NEW.model_key,
            CASE WHEN {_WAITING.format(row="NEW")} THEN 1 ELSE 0 END)
    ON CONFLICT (workspace_id, queue, model_key) DO UPDATE SET queued = queued + excluded.queued;
  UPDATE scheduler_workspaces
     SET running = running + {_RUNNING.format(row="NEW")},
         gpu_seconds_used = gpu_seconds_used + {_GPU.format(row="NEW")},
         last_served_at = {_LATER.format(new="NEW.started_at")}
   WHERE workspace_id = NEW.workspace_id;
  UPDATE scheduler_users SET last_served_at = {_LATER.format(new="NEW.started_at")}
   WHERE NEW.started_at IS NOT NULL
     AND workspace_id = NEW.workspace_id AND user_id = NEW.user_id;
END
""",  # noqa: S608 - SQL text from the constants above, no values
    f"""
CREATE TRIGGER jobs_scheduler_update
AFTER UPDATE OF status, deleted_at, gpu_seconds, started_at ON jobs
WHEN OLD.status IS NOT NEW.status OR OLD.deleted_at IS NOT NEW.deleted_at
  OR OLD.gpu_seconds IS NOT NEW.gpu_seconds OR OLD.started_at IS NOT NEW.started_at
BEGIN
  UPDATE scheduler_lanes SET queued = queued - 1
   WHERE {_WAITING.format(row="OLD")} AND {_LANE.format(row="OLD")};
  UPDATE scheduler_lanes SET queued = queued + 1
   WHERE {_WAITING.format(row="NEW")} AND {_LANE.format(row="NEW")};
  UPDATE scheduler_workspaces
     SET running = running - {_RUNNING.format(row="OLD")} + {_RUNNING.format(row="NEW")},
         gpu_seconds_used = gpu_seconds_used - {_GPU.format(row="OLD")}
                            + {_GPU.format(row="NEW")},
         last_served_at = CASE WHEN NEW.started_at IS NOT OLD.started_at
                          THEN {_LATER.format(new="NEW.started_at")}
                          ELSE last_served_at END
   WHERE workspace_id = NEW.workspace_id;
  UPDATE scheduler_users SET last_served_at = {_LATER.format(new="NEW.started_at")}
   WHERE NEW.started_at IS NOT OLD.started_at AND NEW.started_at IS NOT NULL
     AND workspace_id = NEW.workspace_id AND user_id = NEW.user_id;
END
""",  # noqa: S608 - SQL text from the constants above, no values
    f"""
CREATE TRIGGER jobs_scheduler_delete AFTER DELETE ON jobs BEGIN
  UPDATE scheduler_lanes SET queued = queued - 1
   WHERE {_WAITING.format(row="OLD")} AND {_LANE.format(row="OLD")};
  UPDATE scheduler_workspaces
     SET running = running - {_RUNNING.format(row="OLD")},
         gpu_seconds_used = gpu_seconds_used - {_GPU.format(row="OLD")}
   WHERE workspace_id = OLD.workspace_id;
END
""",  # noqa: S608 - SQL text from the constants above, no values
]

# What the triggers would have counted, computed once from the jobs there.
BACKFILL = [
    """
INSERT INTO scheduler_workspaces (workspace_id, running, gpu_seconds_used, last_served_at)
SELECT workspace_id,
       SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'succeeded' THEN gpu_seconds ELSE 0 END),
       MAX(started_at)
  FROM jobs GROUP BY workspace_id
""",
    """
INSERT INTO scheduler_lanes (workspace_id, queue, model_key, queued)
SELECT workspace_id, queue, model_key,
       SUM(CASE WHEN status = 'queued' AND deleted_at IS NULL THEN 1 ELSE 0 END)
  FROM jobs GROUP BY workspace_id, queue, model_key
""",
    """
INSERT INTO scheduler_users (workspace_id, user_id, last_served_at)
SELECT workspace_id, user_id, MAX(started_at) FROM jobs GROUP BY workspace_id, user_id
""",
]


def create_job_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def drop_job_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS jobs_scheduler_insert_delete ON jobs")
        op.execute("DROP TRIGGER IF EXISTS jobs_scheduler_update ON jobs")
        op.execute("DROP FUNCTION IF EXISTS scheduler_track_job()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS jobs_scheduler_{name}")


def upgrade() -> None:
    op.create_table(
        "queue_snapshots",
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("taken_at", studio.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workspace_order", sa.JSON(), nullable=False),
        sa.Column("order_keys", sa.JSON(), nullable=False),
        sa.Column("order_sizes", sa.JSON(), nullable=False),
        sa.Column("lane_sizes", sa.JSON(), nullable=False),
        sa.Column("mean_run_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("queue", name=op.f("pk_queue_snapshots")),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("queues", sa.String(length=200), nullable=False),
        sa.Column("started_at", studio.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", studio.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("alive_until", studio.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_alive_until"), ["alive_until"], unique=False)

    op.create_table(
        "scheduler_lanes",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("model_key", sa.String(length=80), nullable=False),
        sa.Column("queued", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_scheduler_lanes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "queue", "model_key", name=op.f("pk_scheduler_lanes")
        ),
    )
    with op.batch_alter_table("scheduler_lanes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scheduler_lanes_waiting",
            ["queue", "model_key", "workspace_id"],
            unique=False,
            postgresql_where=sa.text("queued > 0"),
            sqlite_where=sa.text("queued > 0"),
        )

    op.create_table(
        "scheduler_users",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_served_at", studio.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_scheduler_users_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_scheduler_users_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_scheduler_users")),
    )
    op.create_table(
        "scheduler_workspaces",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("running", sa.Integer(), server_default="0", nullable=False),
        sa.Column("gpu_seconds_used", sa.Float(), server_default="0", nullable=False),
        sa.Column("last_served_at", studio.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_scheduler_workspaces_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_scheduler_workspaces")),
    )
    with op.batch_alter_table("jams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("team_concurrent_jobs_cap", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("concurrent_jobs_cap", sa.Integer(), nullable=True))

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_status_queue"))
        batch_op.create_index(
            "ix_jobs_queued_by_model",
            ["workspace_id", "user_id", "model_key", "id"],
            unique=False,
            postgresql_where=sa.text(QUEUED),
            sqlite_where=sa.text(QUEUED),
        )
        batch_op.create_index(
            "ix_jobs_queued_by_user",
            ["workspace_id", "queue", "user_id", "id"],
            unique=False,
            postgresql_where=sa.text(QUEUED),
            sqlite_where=sa.text(QUEUED),
        )
        batch_op.create_index(
            "ix_jobs_status_queue_finished_at",
            ["status", "queue", "finished_at"],
            unique=False,
        )

    if op.get_bind().dialect.name == "postgresql":
        # No job may change between the backfill and the triggers taking over.
        op.execute("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE")
    create_job_triggers()
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    drop_job_triggers()
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_queue_finished_at")
        batch_op.drop_index("ix_jobs_queued_by_user")
        batch_op.drop_index("ix_jobs_queued_by_model")
        batch_op.create_index(batch_op.f("ix_jobs_status_queue"), ["status", "queue"], unique=False)

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("concurrent_jobs_cap")
    with op.batch_alter_table("jams", schema=None) as batch_op:
        batch_op.drop_column("team_concurrent_jobs_cap")

    op.drop_table("scheduler_workspaces")
    op.drop_table("scheduler_users")
    with op.batch_alter_table("scheduler_lanes", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduler_lanes_waiting")
    op.drop_table("scheduler_lanes")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_alive_until"))
    op.drop_table("workers")
    op.drop_table("queue_snapshots")
