"""run snapshots: what a ritual run's minutes show (actions, people), frozen when the run closes

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for runs closed before snapshots existed: their minutes say so and show the actions as they are now.
    with op.batch_alter_table("ritual_run") as batch:
        batch.add_column(sa.Column("snapshot", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ritual_run") as batch:
        batch.drop_column("snapshot")
