"""people, teams, the accounts teams own, and the RACI

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("handle", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_person_role", "person", ["role"])
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "team_member",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), primary_key=True),
    )
    op.create_table(
        "team_account",
        sa.Column("account_id", sa.String(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=False),
        sa.Column("account_name", sa.String(), nullable=True),
    )
    op.create_index("ix_team_account_team_id", "team_account", ["team_id"])
    op.create_table(
        "raci_activity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "raci_assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("raci_activity.id"), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("letter", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.UniqueConstraint("activity_id", "role", "letter"),
    )
    op.create_index("ix_raci_assignment_activity_id", "raci_assignment", ["activity_id"])


def downgrade() -> None:
    for table in ("raci_assignment", "raci_activity", "team_account", "team_member", "team", "person"):
        op.drop_table(table)
