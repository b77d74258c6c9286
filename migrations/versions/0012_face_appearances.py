"""Faces found while indexing: one row per appearance (a face followed through a video), and which
model looked for faces in each video.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_appearances",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("descriptor", sa.LargeBinary(), nullable=False),
        sa.Column("still", sa.LargeBinary(), nullable=True),
        sa.Column("sightings", sa.Integer(), nullable=False),
    )
    op.create_index("ix_face_appearances_video_id", "face_appearances", ["video_id"])
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("face_model", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("face_model")
    op.drop_table("face_appearances")
