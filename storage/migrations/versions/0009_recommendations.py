"""recommendations: the inbox of right-sizing and clean-up candidates (de-duplicated across sources, routed,
accepted/dismissed/snoozed), and the resource an action changes

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("action_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(512), nullable=False),
        sa.Column("resource_type", sa.String(), nullable=True),
        sa.Column("account", sa.String(64), nullable=True),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("estimated_monthly_savings", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("effort", sa.String(), nullable=True),
        sa.Column("restart_needed", sa.Boolean(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("routed_by", sa.String(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dismissed_reason", sa.String(), nullable=True),
        sa.Column("dismissed_savings", sa.Float(), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_recommendation_action_type", "recommendation", ["action_type"])
    op.create_index("ix_recommendation_account", "recommendation", ["account"])
    op.create_index("ix_recommendation_status", "recommendation", ["status"])
    with op.batch_alter_table("action") as batch:
        batch.add_column(sa.Column("resource_id", sa.String(512), nullable=True))
        batch.add_column(sa.Column("account_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("realised_monthly_savings", sa.Float(), nullable=True))
        batch.add_column(sa.Column("savings_state", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.drop_column("savings_state")
        batch.drop_column("realised_monthly_savings")
        batch.drop_column("account_id")
        batch.drop_column("resource_id")
    op.drop_index("ix_recommendation_status", "recommendation")
    op.drop_index("ix_recommendation_account", "recommendation")
    op.drop_index("ix_recommendation_action_type", "recommendation")
    op.drop_table("recommendation")
