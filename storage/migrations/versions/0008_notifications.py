"""notifications: channels per team (references only, never the secret), the notification log, and when
an anomaly case was notified (time to acknowledge)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_channel",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=True),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_notify_channel_team_id", "notify_channel", ["team_id"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("notify_channel.id"), nullable=False),
        sa.Column("team", sa.String(), nullable=True),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.UniqueConstraint("kind", "key", "channel_id"),
    )
    op.create_index("ix_notification_kind", "notification", ["kind"])
    op.create_index("ix_notification_channel_id", "notification", ["channel_id"])
    with op.batch_alter_table("anomaly_case") as batch:
        batch.add_column(sa.Column("notified_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("anomaly_case") as batch:
        batch.drop_column("notified_at")
    op.drop_index("ix_notification_channel_id", "notification")
    op.drop_index("ix_notification_kind", "notification")
    op.drop_table("notification")
    op.drop_index("ix_notify_channel_team_id", "notify_channel")
    op.drop_table("notify_channel")
