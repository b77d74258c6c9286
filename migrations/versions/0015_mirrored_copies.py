"""Copies that are mirrored: each sample's hash of its frame mirrored, and what a copy changed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("copy_descriptors") as batch:
        batch.add_column(sa.Column("mirrored", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("copy_matches") as batch:
        batch.add_column(sa.Column("change", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("copy_matches") as batch:
        batch.drop_column("change")
    with op.batch_alter_table("copy_descriptors") as batch:
        batch.drop_column("mirrored")
