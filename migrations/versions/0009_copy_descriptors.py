"""Copy descriptors: a perceptual hash per sampled second of each video, for finding copies.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "copy_descriptors",
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("times", sa.LargeBinary(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("copy_descriptors")
