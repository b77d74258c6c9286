"""Indexing jobs started over HTTP live in the catalog: origin, options and why one failed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="cli"))
        batch.add_column(sa.Column("force", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("error", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("error")
        batch.drop_column("force")
        batch.drop_column("origin")
