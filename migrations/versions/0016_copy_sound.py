"""Sound as a second witness of copies: each video's sound landmarks beside its picture hashes,
and which witness found a copy match.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("copy_descriptors") as batch:
        batch.add_column(sa.Column("sound_times", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("sound_hashes", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("copy_matches") as batch:
        batch.add_column(sa.Column("witness", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("copy_matches") as batch:
        batch.drop_column("witness")
    with op.batch_alter_table("copy_descriptors") as batch:
        batch.drop_column("sound_hashes")
        batch.drop_column("sound_times")
