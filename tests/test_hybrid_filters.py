"""Keyword + vector hybrid ranking, metadata filters with exact results, best moment per video."""
import datetime as dt
import math

import numpy as np
import pytest
from sqlalchemy import select

import search.service as service
from core.catalog import Segment
from search.keyword import KeywordSearch, query_words
from search.filters import Filters
from core.library import Library, NewSegment, NewVideo
from search.service import Searcher
from core.settings import Settings
from core.vectors import normalize

UTC = dt.timezone.utc


def unit(seed, dim=64):
    return normalize(np.random.default_rng(seed).normal(size=dim))[0]


@pytest.fixture
def searcher(tmp_path, catalog_url, encoders):
    lib = Library(Settings(data_dir=tmp_path / "d", database_url=catalog_url))
    texts = {
        "/a/deploy.mp4": "Deploy the Kestrel release to production on Friday.",
        "/a/birds.mp4": "A small falcon hovered above the field looking for mice.",
        "/b/budget.mp4": "We reviewed the budget numbers for the last quarter.",
        "/b/cooking.mp4": "Fry the onions slowly until they turn golden brown.",
        "/c/sport.mp4": "The striker scored twice in the second half of the match.",
    }
    for n, (path, text) in enumerate(texts.items()):
        speech = encoders.sentence.encode([text])[0]
        segments = [NewSegment(start=10.0 * i, end=10.0 * i + 5, transcript=text if i == 0 else f"part {i}",
                               vectors={"visual": unit(100 * n + i), "speech": speech if i == 0 else unit(7 + i, len(speech))})
                    for i in range(4)]
        lib.write_video(NewVideo(path=path, size=1, mtime=1.0, duration=60.0 * (n + 1), segments=segments,
                                 models={"visual": ("v", 64), "speech": ("s", len(speech))},
                                 recorded_at=dt.datetime(2020 + n, 6, 1, tzinfo=UTC)))
        lib.set_tags(lib.known_file(path).id, add=["even"] if n % 2 == 0 else ["odd"])
    return Searcher(lib, encoders)


def names(moments):
    return [m.video_path.rsplit("/", 1)[-1] for m in moments]


def test_verbatim_words_win_when_meaning_is_ambiguous(searcher):
    assert names(searcher.search_text("kestrel", mode="keyword", k=2)) == ["deploy.mp4"]
    assert names(searcher.search_text("kestrel", mode="hybrid", k=3))[0] == "deploy.mp4"
    assert names(searcher.search_text("onions", mode="keyword", k=5)) == ["cooking.mp4"]
    assert searcher.search_text("zeppelin", mode="keyword", k=5) == []


def test_stop_words_match_nothing_on_either_backend(searcher):
    """PostgreSQL drops "for", "the" from a query; SQLite would match them: both ignore them now."""
    assert query_words("Money for THE kestrel, for sure") == ["money", "kestrel", "sure"]
    assert searcher.search_text("for the", mode="keyword", k=5) == []  # "for": birds and budget say it
    assert names(searcher.search_text("money for the kestrel", mode="keyword", k=5)) == ["deploy.mp4"]


def test_common_words_are_dropped_within_the_budget(searcher):
    """A word in more segments than the budget is left out; counts come from the real full-text index."""
    bounded = KeywordSearch(budget=3)
    with searcher.library.sessions() as session:
        assert bounded.doc_frequency(session, "onion") == 1  # stemmed like the index: "onions"
        assert bounded.doc_frequency(session, "part") == 15  # "part 1" .. "part 3" in every video
        assert bounded.rare_words(session, ["part", "kestrel", "onion"]) == ["kestrel", "onion"]
        assert bounded.rare_words(session, ["part"]) == []
        hits = [i for i, _ in bounded.search(session, "part kestrel", 10)]
        assert [video.path for _, video in searcher.library.segments(hits).values()] == ["/a/deploy.mp4"]
        # every word too common: keyword mode ranks segments holding all of them, hybrid skips
        assert len(bounded.search(session, "part", 50)) == 15
        assert bounded.search(session, "part", 50, all_common="skip") == []
    unbounded = KeywordSearch()
    with searcher.library.sessions() as session:
        assert len(unbounded.search(session, "part kestrel", 50)) == 16


def test_filters_give_exact_results(searcher):
    query = {"visual": unit(0)}
    every = lambda f, k=50: {(m.video_path, m.start) for m in searcher.search_vectors(query, "visual", k, filters=f)}  # noqa: E731
    assert {p for p, _ in every(Filters(path_prefix="/b/"))} == {"/b/budget.mp4", "/b/cooking.mp4"}
    assert {p for p, _ in every(Filters(tags=["odd"]))} == {"/a/birds.mp4", "/b/cooking.mp4"}
    assert {p for p, _ in every(Filters(min_duration=150, max_duration=250))} == {"/b/budget.mp4", "/b/cooking.mp4"}
    after = Filters(recorded_after=dt.datetime(2022, 1, 1), recorded_before=dt.datetime(2023, 12, 31))
    assert {p for p, _ in every(after)} == {"/b/budget.mp4", "/b/cooking.mp4"}
    vid = searcher.library.known_file("/c/sport.mp4").id
    assert {p for p, _ in every(Filters(video_ids=[vid]))} == {"/c/sport.mp4"}
    assert every(Filters(path_prefix="/nowhere/")) == set()
    assert every(Filters(video_ids=[2**70, -5])) == set()  # impossible ids match nothing, quietly
    assert every(Filters(path_prefix="/a%")) == set()  # LIKE wildcards in a prefix are literal
    # k results whenever k matching segments exist (4 segments in /c/, none adjacent)
    assert len(searcher.search_vectors(query, "visual", 3, filters=Filters(video_ids=[vid]))) == 3
    assert len(searcher.search_vectors(query, "visual", 9, filters=Filters(video_ids=[vid]))) == 4


def test_over_fetching_finds_what_exact_scoring_finds(searcher, monkeypatch):
    query, f = {"visual": unit(3)}, Filters(tags=["even"])
    exact = [(m.segment_id, round(m.score, 5)) for m in searcher.search_vectors(query, "visual", 5, filters=f)]
    monkeypatch.setattr(service, "EXACT_FILTER_LIMIT", 0)
    fetched = [(m.segment_id, round(m.score, 5)) for m in searcher.search_vectors(query, "visual", 5, filters=f)]
    assert fetched == exact and len(exact) == 5


def test_best_moment_per_video(searcher):
    moments = searcher.search_vectors({"visual": unit(0)}, "visual", 10, per_video=True)
    assert len(moments) == 5 and len({m.video_id for m in moments}) == 5
    assert moments[0].video_path == "/a/deploy.mp4" and moments[0].start == 0.0


def coverage(searcher, query):
    """(how many of the archive's 20 segments got a share, {first words of a transcript: its
    share} for the segments holding any of ``query``)."""
    with searcher.library.sessions() as session:
        rows = session.execute(select(Segment.id, Segment.transcript)).all()
        found = KeywordSearch().coverage(session, query, [i for i, _ in rows])
    return len(found), {" ".join(text.split()[:2]): round(found[i], 4) for i, text in rows if found.get(i)}


def test_coverage_is_the_share_of_the_query_a_segment_holds(searcher):
    assert coverage(searcher, "Kestrel release") == (20, {"Deploy the": 1.0})  # the other 19: 0.0
    assert coverage(searcher, "releases kestrels") == (20, {"Deploy the": 1.0})  # stemmed like the index


def test_a_segment_holding_one_of_two_equally_rare_words_covers_half(searcher):
    assert coverage(searcher, "kestrel falcon") == (20, {"Deploy the": 0.5, "A small": 0.5})


def test_stop_words_do_not_count_towards_coverage(searcher):
    # "the" is said in all five videos, "for" in two: neither takes a share of the query
    assert coverage(searcher, "the kestrel for") == (20, {"Deploy the": 1.0})
    assert coverage(searcher, "for the") == (0, {})  # nothing but stop words: nothing to cover


def test_words_no_segment_holds_lower_every_share(searcher):
    # BM25's IDF over 20 segments: "kestrel" is in one, "zeppelin" in none (the highest IDF there is)
    kestrel, zeppelin = math.log(1 + 19.5 / 1.5), math.log(1 + 20.5 / 0.5)
    assert round(kestrel / (kestrel + zeppelin), 4) == 0.4139
    assert coverage(searcher, "kestrel zeppelin") == (20, {"Deploy the": 0.4139})
    assert coverage(searcher, "zeppelin") == (20, {})


def test_a_paraphrase_ranks_by_meaning_over_one_shared_everyday_word(searcher):
    query = "A footballer netted two goals in the last game"  # "last": only the budget video says it
    assert names(searcher.search_text(query, mode="keyword", k=5)) == ["budget.mp4"]
    ranked = names(searcher.search_text(query, mode="hybrid", k=5))
    assert ranked[0] == "sport.mp4"
    assert ranked.index("budget.mp4") > ranked.index("sport.mp4")
