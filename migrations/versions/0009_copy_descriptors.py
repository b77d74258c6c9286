"""Copy descriptors (a perceptual hash per half second of each video) and the copy matches
found between videos, for finding copies.

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
        sa.Column("compared", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "copy_matches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("other_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False)
          for name in ("start", "end", "other_start", "other_end", "score", "evidence")),
    )
    op.create_index("ix_copy_matches_video_id", "copy_matches", ["video_id"])
    op.create_index("ix_copy_matches_other_id", "copy_matches", ["other_id"])


def downgrade() -> None:
    op.drop_table("copy_matches")
    op.drop_table("copy_descriptors")
