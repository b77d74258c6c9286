"""Keyword search over transcripts and on-screen text: exact words, where meaning-based search can
be ambiguous.

SQLite uses its FTS5 index over both fields (BM25, Porter stemming); PostgreSQL its full-text
search (a GIN index on ``DOCUMENT``, the two fields together, ranked by ``ts_rank_cd``). Text in
scripts without spaces is searched by its character pairs (``cjk_grams``), kept in a third field. Any word
of the query may match; segments matching more of them rank higher; stop words never count
(``STOP_WORDS``). Both are created by migrations 0003, 0008 and 0011.

Ranking costs time for every segment that matches, so one common word ("like", "know", or any
word of a small vocabulary) would make a query score most of the archive, which takes seconds
at millions of segments. As in Lucene's common-terms query, the words
are taken rarest first while the segments they match fit a budget; the commoner words left out
weigh little in BM25 anyway (its IDF falls towards zero as a word gets common). When every word
is over the budget, keyword mode asks for segments holding all of them, and hybrid search goes
without keywords (the vector spaces carry that query). Document frequencies come from the
full-text index itself and are cached for a few minutes: they drift slowly as videos come in.
"""
from __future__ import annotations

import math
import re
import threading
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.cjk import CJK_RUN, cjk_grams, is_cjk
from core.settings import Settings

_WORD = re.compile(r"\w+", re.UNICODE)
DOCUMENT = "to_tsvector('english', coalesce(transcript, '') || ' ' || coalesce(screen_text, '') || ' ' || " \
           "coalesce(grams, ''))"
"""What PostgreSQL searches: the expression its GIN index is built on (migration 0011)."""
_DF_SECONDS = 300.0
_DF_ENTRIES = 50_000


# PostgreSQL's english stop words (Snowball's list): its full-text search drops them from queries
# itself; SQLite's FTS5 would match them, so they are dropped here for both. Otherwise, in a small
# archive, "for" in "money for education" is rare enough to count, and hybrid search puts the
# one segment that says "for" above the one about school budgets.
STOP_WORDS = frozenset("""
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
hers herself it its itself they them their theirs themselves what which who whom this that these
those am is are was were be been being have has had having do does did doing a an the and but if or
because as until while of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there when where
why how all any both each few more most other some such no nor not only own same so than too very s
t can will just don should now""".split())


def query_words(query: str) -> list[str]:
    """The distinct lower-case words of a query that are not stop words, in order, at most 32;
    runs of CJK script as their character pairs (``cjk_grams``)."""
    words = []
    for token in _WORD.findall(query.lower()):
        for part in CJK_RUN.split(token):
            words += cjk_grams(part).split() if is_cjk(part) else [part] if part else []
    return list(dict.fromkeys(w for w in words if w not in STOP_WORDS))[:32]


class KeywordSearch:
    """BM25-style keyword search with its work bounded by ``budget`` matching segments."""

    def __init__(self, budget: int | None = None):
        self.budget = int(budget if budget is not None else Settings.model_fields["keyword_budget"].default)
        self._df: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._segments: tuple[float, int] | None = None  # (when counted, segments in the archive)

    def search(self, session: Session, query: str, limit: int, *,
               all_common: str = "and") -> list[tuple[int, float]]:
        """[(segment id, score)] best first; empty when the backend has no full-text index.

        ``all_common``: what to do when every word matches more than the budget: ``"and"``
        ranks the segments holding all of them, ``"skip"`` returns nothing.
        """
        dialect = session.get_bind().dialect.name
        words = query_words(query)
        if not words or limit < 1 or dialect not in ("sqlite", "postgresql"):
            return []
        chosen = self.rare_words(session, words)
        if chosen:
            return _ranked(session, dialect, chosen, "or", limit)
        return _ranked(session, dialect, words, "and", limit) if all_common == "and" else []

    def coverage(self, session: Session, query: str, ids: list[int]) -> dict[int, float]:
        """{segment id: share of the query's information its words (spoken or on screen) hold}, for ``ids``.

        The share is IDF-weighted: sum of the IDFs of the query words a segment holds over the
        sum for all the query's words (stop words aside). One everyday word of a paraphrase that
        happens to appear in another topic's sentence covers little; a rare term typed exactly
        covers most of its query. Hybrid ranking weighs keyword evidence by it, so keyword hits
        count in proportion to how much of the query they explain.
        """
        dialect = session.get_bind().dialect.name
        words = query_words(query)
        if not ids or not words or dialect not in ("sqlite", "postgresql"):
            return {}
        total = max(1, self.segment_count(session))
        idf = {w: _idf(self.doc_frequency(session, w), total) for w in words}
        mass = sum(idf.values())
        found = dict.fromkeys(ids, 0.0)
        for word in self.rare_words(session, words):
            for segment_id in _holding(session, dialect, word, ids):
                found[segment_id] += idf[word]
        return {i: v / mass for i, v in found.items()}

    def with_coverage(self, session: Session, query: str, hits: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """``hits`` in the same order, each score replaced by the hit's query coverage (``coverage``):
        what hybrid ranking reads of a keyword list, whichever store found it."""
        covered = self.coverage(session, query, [i for i, _ in hits])
        return [(i, covered.get(i, 0.0)) for i, _ in hits]

    def segment_count(self, session: Session) -> int:
        """Segments in the archive (for IDF), cached like document frequencies."""
        now = time.monotonic()
        found = self._segments
        if found is not None and now - found[0] < _DF_SECONDS:
            return found[1]
        count = int(session.scalar(text("SELECT count(*) FROM segments")) or 0)
        self._segments = (now, count)
        return count

    def rare_words(self, session: Session, words: list[str]) -> list[str]:
        """The rarest words whose matching segments together fit the budget (none if the rarest does not)."""
        counted = sorted((self.doc_frequency(session, w), n, w) for n, w in enumerate(words))
        chosen, total = [], 0
        for df, _, word in counted:
            if df == 0:
                continue  # matches nothing: costs nothing, and FTS5 keeps it harmlessly in an OR
            if total + df > self.budget:
                break
            chosen.append(word)
            total += df
        return chosen

    def doc_frequency(self, session: Session, word: str) -> int:
        """How many segments hold ``word`` (after the index's stemming), cached for a few minutes."""
        now = time.monotonic()
        with self._lock:
            found = self._df.get(word)
        if found is not None and now - found[0] < _DF_SECONDS:
            return found[1]
        if session.get_bind().dialect.name == "sqlite":
            count = session.scalar(text("SELECT count(*) FROM segments_fts WHERE segments_fts MATCH :q"),
                                   {"q": f'"{word}"'})
        else:
            count = session.scalar(text(
                "SELECT count(*) FROM segments "
                f"WHERE {DOCUMENT} @@ plainto_tsquery('english', :q)"), {"q": word})
        with self._lock:
            if len(self._df) >= _DF_ENTRIES:
                self._df.clear()  # simpler than an LRU, and refilled at a query's worth of lookups
            self._df[word] = (now, int(count or 0))
        return int(count or 0)


def _idf(df: int, total: int) -> float:
    """BM25's IDF; a word no segment holds gets the highest value there can be."""
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def _holding(session: Session, dialect: str, word: str, ids: list[int]) -> list[int]:
    """Which of ``ids`` hold ``word`` (after the index's stemming)."""
    if dialect == "sqlite":
        marks = ",".join(str(int(i)) for i in ids)
        rows = session.execute(text(
            f"SELECT rowid FROM segments_fts WHERE segments_fts MATCH :q AND rowid IN ({marks})"),
            {"q": f'"{word}"'})
    else:
        rows = session.execute(text(
            "SELECT id FROM segments WHERE id = ANY(:ids) "
            f"AND {DOCUMENT} @@ plainto_tsquery('english', :q)"),
            {"ids": [int(i) for i in ids], "q": word})
    return [int(i) for (i,) in rows]


def _ranked(session: Session, dialect: str, words: list[str], how: str, limit: int) -> list[tuple[int, float]]:
    if dialect == "sqlite":
        match = f" {how.upper()} ".join(f'"{w}"' for w in words)
        rows = session.execute(text(
            "SELECT rowid, -bm25(segments_fts) FROM segments_fts WHERE segments_fts MATCH :q "
            "ORDER BY bm25(segments_fts) LIMIT :n"), {"q": match, "n": limit})
    else:
        rows = session.execute(text(
            f"SELECT id, ts_rank_cd({DOCUMENT}, q) AS rank "
            "FROM segments, to_tsquery('english', :q) AS q "
            f"WHERE {DOCUMENT} @@ q ORDER BY rank DESC, id LIMIT :n"),
            {"q": (" | " if how == "or" else " & ").join(words), "n": limit})
    return [(int(i), float(s)) for i, s in rows]
