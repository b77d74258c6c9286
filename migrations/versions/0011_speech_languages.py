"""The language speech is in, per stretch: each segment and transcript line keeps the language it
was heard in (a file can switch), a video the languages it holds (most spoken first) and a note
for speech its model could not transcribe (another language heard by an English-only model); a
segment in another language than English also keeps an English rendering, which the English
text models search (the words as spoken stay in ``transcript`` for keywords and subtitles).

Keyword search reads scripts written without spaces (Chinese, Japanese) through ``grams``: the
overlapping character pairs of a segment's CJK text (``core.cjk.cjk_grams``), a third column
of the SQLite FTS5 table and part of PostgreSQL's indexed document.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


_DROP_SQLITE_FTS = [f"DROP TRIGGER IF EXISTS segments_fts_{event}" for event in ("insert", "delete", "update")] \
    + ["DROP TABLE IF EXISTS segments_fts"]


def _sqlite_fts(columns: tuple[str, ...]) -> list[str]:
    """The FTS5 table over ``columns`` of segments, the triggers that keep it, and its first fill
    (as in 0008, over other columns)."""
    names = ", ".join(columns)
    new, old = ", ".join(f"new.{c}" for c in columns), ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO segments_fts(segments_fts, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO segments_fts(rowid, {names}) VALUES (new.id, {new});"
    return _DROP_SQLITE_FTS + [
        f"CREATE VIRTUAL TABLE segments_fts USING fts5({names}, content='segments', content_rowid='id', "
        "tokenize='porter unicode61')",
        f"CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN {insert} END",
        f"CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN {delete} END",
        f"CREATE TRIGGER segments_fts_update AFTER UPDATE OF {names} ON segments BEGIN {delete} {insert} END",
        "INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')",
    ]


def _pg_document(columns: tuple[str, ...]) -> str:
    return "to_tsvector('english', " + " || ' ' || ".join(f"coalesce({c}, '')" for c in columns) + ")"


OLD, NEW = ("transcript", "screen_text"), ("transcript", "screen_text", "grams")


def _keywords_over(columns: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _sqlite_fts(columns):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_segments_text_fts")
        op.execute(f"CREATE INDEX ix_segments_text_fts ON segments USING gin ({_pg_document(columns)})")


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("languages", sa.JSON()))
        batch.add_column(sa.Column("speech_note", sa.Text()))
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("language", sa.String(16)))
        batch.add_column(sa.Column("rendering", sa.Text()))
        batch.add_column(sa.Column("grams", sa.Text()))
        batch.create_index("ix_segments_language", ["language"])
    with op.batch_alter_table("transcript_lines") as batch:
        batch.add_column(sa.Column("language", sa.String(16)))
    _keywords_over(NEW)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # its triggers name the column dropped below
        for statement in _DROP_SQLITE_FTS:
            op.execute(statement)
    with op.batch_alter_table("transcript_lines") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("segments") as batch:
        batch.drop_index("ix_segments_language")
        batch.drop_column("grams")
        batch.drop_column("rendering")
        batch.drop_column("language")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("speech_note")
        batch.drop_column("languages")
    _keywords_over(OLD)
