"""maturity scores: each capability's proposed and recorded crawl/walk/run stage per quarterly review

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maturity_score",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("ritual_run.id"), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("capability", sa.String(64), nullable=False),
        sa.Column("proposed_stage", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=True),
        sa.Column("target_stage", sa.String(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("run_id", "capability"),
    )
    op.create_index("ix_maturity_score_run_id", "maturity_score", ["run_id"])
    op.create_index("ix_maturity_score_period", "maturity_score", ["period"])


def downgrade() -> None:
    op.drop_index("ix_maturity_score_period", "maturity_score")
    op.drop_index("ix_maturity_score_run_id", "maturity_score")
    op.drop_table("maturity_score")
