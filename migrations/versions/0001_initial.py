"""Initial catalog: videos, segments, transcript lines, segment vectors, model versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "videos",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("path", sa.Text(), nullable=False, unique=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mtime", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_stage", sa.String(32)),
        sa.Column("error", sa.Text()),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("fps", sa.Float()),
        sa.Column("width", sa.Integer()),
        sa.Column("height", sa.Integer()),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("video_codec", sa.String(32)),
        sa.Column("audio_codec", sa.String(32)),
        sa.Column("has_audio", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("timings", sa.JSON()),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("thumbnail_time", sa.Float()),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_segments_video_id", "segments", ["video_id"])
    op.create_table(
        "transcript_lines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words", sa.JSON()),
    )
    op.create_index("ix_transcript_lines_video_id", "transcript_lines", ["video_id"])
    op.create_table(
        "segment_vectors",
        sa.Column("segment_id", sa.Integer(), sa.ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("space", sa.String(16), primary_key=True),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_segment_vectors_space", "segment_vectors", ["space"])
    op.create_table(
        "model_versions",
        sa.Column("space", sa.String(16), primary_key=True),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_versions")
    op.drop_table("segment_vectors")
    op.drop_table("transcript_lines")
    op.drop_table("segments")
    op.drop_table("videos")
