"""Each video records where its transcript came from and which subtitle files lay beside it.

``transcript_source`` is "asr" (Whisper heard it), "sidecar:<file name>" or "stream:<n> (<language>)"
(the file's own subtitles, read instead of running Whisper); ``subtitle_note`` says why subtitles
that exist were not used (a broken file, with the line that broke it; none in a wanted language);
``sidecars`` is a digest of the subtitle files beside the video, so that ``vidsearch index``
indexes a file again when one appears, changes or goes, though the video itself did not change.
Videos indexed before this revision have none of the three.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("transcript_source", sa.String(256)))
        batch.add_column(sa.Column("subtitle_note", sa.Text()))
        batch.add_column(sa.Column("sidecars", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("sidecars")
        batch.drop_column("subtitle_note")
        batch.drop_column("transcript_source")
