"""forecast snapshots: every forecast of a month's spend, kept with when it was made, and its score

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("team", sa.String(), nullable=True),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("forecast", sa.Float(), nullable=False),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("interval_pct", sa.Integer(), nullable=True),
        sa.Column("data_through", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("variance_pct", sa.Float(), nullable=True),
        sa.Column("band", sa.String(), nullable=True),
        sa.Column("scored_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_forecast_snapshot_month", "forecast_snapshot", ["month"])


def downgrade() -> None:
    op.drop_index("ix_forecast_snapshot_month", "forecast_snapshot")
    op.drop_table("forecast_snapshot")
