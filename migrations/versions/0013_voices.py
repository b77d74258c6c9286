"""Voices heard while indexing: each video's speakers with their turns and vectors, the voices
they are across the archive, and which model told voices apart in each video.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("centre", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "speakers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("turns", sa.JSON(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("voice_id", sa.Integer(), sa.ForeignKey("voices.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_speakers_video_id", "speakers", ["video_id"])
    op.create_index("ix_speakers_voice_id", "speakers", ["voice_id"])
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("voice_model", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("voice_model")
    op.drop_table("speakers")
    op.drop_table("voices")
