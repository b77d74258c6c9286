"""Text read off the screen (OCR): per line with its time, confidence and box, and per segment
as a field of its own that keyword search reads beside the transcript.

SQLite: the FTS5 table gets a second column (``screen_text``), so a match can say where a word
was found and BM25 weighs the two; its triggers follow both columns. PostgreSQL: the GIN index
covers the transcript and the screen text together, under the expression keyword search uses.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TRIGGERS = ("segments_fts_insert", "segments_fts_delete", "segments_fts_update")


def _sqlite_fts(columns: tuple[str, ...]) -> list[str]:
    """The FTS5 table over ``columns`` of segments, the triggers that keep it, and its first fill."""
    names = ", ".join(columns)
    new, old = ", ".join(f"new.{c}" for c in columns), ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE segments_fts USING fts5({names}, content='segments', content_rowid='id', "
        "tokenize='porter unicode61')",
        f"CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN "
        f"INSERT INTO segments_fts(rowid, {names}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN "
        f"INSERT INTO segments_fts(segments_fts, rowid, {names}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER segments_fts_update AFTER UPDATE OF {names} ON segments BEGIN "
        f"INSERT INTO segments_fts(segments_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO segments_fts(rowid, {names}) VALUES (new.id, {new}); END",
        "INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')",
    ]


def _drop_sqlite_fts() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS segments_fts")


PG_DOCUMENT = "to_tsvector('english', coalesce(transcript, '') || ' ' || coalesce(screen_text, ''))"


def upgrade() -> None:
    op.create_table(
        "screen_lines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("box", sa.JSON(), nullable=True),
    )
    op.create_index("ix_screen_lines_video_id", "screen_lines", ["video_id"])
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("screen_note", sa.Text()))
        batch.add_column(sa.Column("screen_model", sa.String(64)))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _drop_sqlite_fts()
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("screen_text", sa.Text()))
    if dialect == "sqlite":
        for statement in _sqlite_fts(("transcript", "screen_text")):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_segments_transcript_fts")
        op.execute(f"CREATE INDEX ix_segments_text_fts ON segments USING gin ({PG_DOCUMENT})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _drop_sqlite_fts()
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_segments_text_fts")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("screen_text")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("screen_model")
        batch.drop_column("screen_note")
    op.drop_index("ix_screen_lines_video_id", "screen_lines")
    op.drop_table("screen_lines")
    if dialect == "sqlite":
        for statement in _sqlite_fts(("transcript",)):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE INDEX ix_segments_transcript_fts ON segments "
                   "USING gin (to_tsvector('english', transcript))")
