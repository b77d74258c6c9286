"""Keyword search over transcripts: exact words, where meaning-based search can be ambiguous.

SQLite uses its FTS5 index (BM25, Porter stemming); PostgreSQL its full-text search (a GIN index
on ``to_tsvector('english', transcript)``, ranked by ``ts_rank_cd``). Any word of the query may
match; segments matching more of them rank higher. Both are created by migration 0003.
"""
from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

_WORD = re.compile(r"\w+", re.UNICODE)


def keyword_search(session: Session, query: str, limit: int) -> list[tuple[int, float]]:
    """[(segment id, score)] best first; empty when the backend has no full-text index."""
    words = [w for w in _WORD.findall(query.lower()) if w][:32]
    if not words or limit < 1:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = " OR ".join(f'"{w}"' for w in words)
        rows = session.execute(text(
            "SELECT rowid, -bm25(segments_fts) FROM segments_fts WHERE segments_fts MATCH :q "
            "ORDER BY bm25(segments_fts) LIMIT :n"), {"q": match, "n": limit})
    elif dialect == "postgresql":
        rows = session.execute(text(
            "SELECT id, ts_rank_cd(to_tsvector('english', transcript), q) AS rank "
            "FROM segments, to_tsquery('english', :q) AS q "
            "WHERE to_tsvector('english', transcript) @@ q ORDER BY rank DESC, id LIMIT :n"),
            {"q": " | ".join(words), "n": limit})
    else:
        return []
    return [(int(i), float(s)) for i, s in rows]
