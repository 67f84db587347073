"""Schedules, their fires, heartbeats of schedulers and workers, and the fire that made a run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("workflow_path", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("cron", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("catch_up", sa.String(length=16), nullable=False),
        sa.Column("catch_up_limit", sa.Integer(), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index("ix_schedules_enabled_next_fire_at", "schedules", ["enabled", "next_fire_at"])
    op.create_table(
        "fires",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.String(length=32), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("scheduler", sa.String(length=255), nullable=True),
        sa.Column("notifications", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedules.id"], name=op.f("fk_fires_schedule_id_schedules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fires")),
        sa.UniqueConstraint("schedule_id", "scheduled_for", name=op.f("uq_fires_schedule_id_scheduled_for")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_fires_schedule_id"), "fires", ["schedule_id"])
    op.create_index(op.f("ix_fires_run_id"), "fires", ["run_id"])
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_heartbeats")),
    )
    op.create_index(op.f("ix_heartbeats_last_beat_at"), "heartbeats", ["last_beat_at"])
    op.add_column("runs", sa.Column("fire_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_runs_fire_id"), "runs", ["fire_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_runs_fire_id"), table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("fire_id")
    op.drop_index(op.f("ix_heartbeats_last_beat_at"), table_name="heartbeats")
    op.drop_table("heartbeats")
    op.drop_index(op.f("ix_fires_run_id"), table_name="fires")
    op.drop_index(op.f("ix_fires_schedule_id"), table_name="fires")
    op.drop_table("fires")
    op.drop_index("ix_schedules_enabled_next_fire_at", table_name="schedules")
    op.drop_table("schedules")
