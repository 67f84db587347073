"""Initial schema: workflow versions, runs, node runs, run events, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_versions")),
    )
    op.create_index(op.f("ix_workflow_versions_content_hash"), "workflow_versions", ["content_hash"], unique=True)
    op.create_index(op.f("ix_workflow_versions_name"), "workflow_versions", ["name"])

    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("workflow_name", sa.String(length=255), nullable=False),
        sa.Column("workflow_path", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_dir", sa.Text(), nullable=False),
        sa.Column("retry_of", sa.String(length=32), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["workflow_versions.id"], name=op.f("fk_runs_version_id_workflow_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    # Runs are listed newest first by (created_at, id), optionally filtered on one column.
    op.create_index("ix_runs_created_at_id", "runs", ["created_at", "id"])
    op.create_index("ix_runs_workflow_name_created_at_id", "runs", ["workflow_name", "created_at", "id"])
    op.create_index("ix_runs_status_created_at_id", "runs", ["status", "created_at", "id"])
    op.create_index("ix_runs_trigger_created_at_id", "runs", ["trigger", "created_at", "id"])
    op.create_index(op.f("ix_runs_retry_of"), "runs", ["retry_of"])

    op.create_table(
        "node_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notebook", sa.Text(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_node_runs_run_id_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_runs")),
        sa.UniqueConstraint("run_id", "node_id", name=op.f("uq_node_runs_run_id_node_id")),
    )
    op.create_index(op.f("ix_node_runs_run_id"), "node_runs", ["run_id"])
    op.create_index(op.f("ix_node_runs_cache_key"), "node_runs", ["cache_key"])

    op.create_table(
        "run_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_events_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_run_events_run_id"), "run_events", ["run_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_time_id", "audit_log", ["time", "id"])
    op.create_index("ix_audit_log_action_time_id", "audit_log", ["action", "time", "id"])
    op.create_index("ix_audit_log_target_time_id", "audit_log", ["target", "time", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("run_events")
    op.drop_table("node_runs")
    op.drop_table("runs")
    op.drop_table("workflow_versions")
