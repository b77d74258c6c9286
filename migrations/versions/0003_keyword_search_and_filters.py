"""Keyword search over transcripts (SQLite FTS5 / PostgreSQL full text) and filterable metadata.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE segments_fts USING fts5(transcript, content='segments', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN "
    "INSERT INTO segments_fts(rowid, transcript) VALUES (new.id, new.transcript); END",
    "CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, transcript) VALUES ('delete', old.id, old.transcript); END",
    "CREATE TRIGGER segments_fts_update AFTER UPDATE OF transcript ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, transcript) VALUES ('delete', old.id, old.transcript); "
    "INSERT INTO segments_fts(rowid, transcript) VALUES (new.id, new.transcript); END",
    "INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE INDEX ix_segments_transcript_fts ON segments "
                   "USING gin (to_tsvector('english', transcript))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("segments_fts_insert", "segments_fts_delete", "segments_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS segments_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_segments_transcript_fts")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("recorded_at")
        batch.drop_column("tags")
