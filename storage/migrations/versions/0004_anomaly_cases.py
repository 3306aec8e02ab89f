"""anomaly cases: one per detected (or AWS) anomaly, with its triage

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anomaly_case",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("aws_anomaly_id", sa.String(128), nullable=True),
        sa.Column("dimension", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("expected_cost", sa.Float(), nullable=False),
        sa.Column("actual_cost", sa.Float(), nullable=False),
        sa.Column("impact", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("root_causes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("owner_team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=True),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("historical", sa.Boolean(), nullable=False),
        sa.Column("aws_feedback", sa.String(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_index("ix_anomaly_case_aws_anomaly_id", "anomaly_case", ["aws_anomaly_id"])
    op.create_index("ix_anomaly_case_status", "anomaly_case", ["status"])


def downgrade() -> None:
    op.drop_index("ix_anomaly_case_status", "anomaly_case")
    op.drop_index("ix_anomaly_case_aws_anomaly_id", "anomaly_case")
    op.drop_table("anomaly_case")
