"""Moments people can use: bounded merging, k moments whenever k exist, paging without repeats."""
import numpy as np
import pytest

from core.library import Library, NewSegment, NewVideo
from search.service import Searcher
from core.settings import Settings

DIM = 32
QUERY = np.eye(DIM, dtype=np.float32)[0]


def at_cosine(c: float, seed: int) -> np.ndarray:
    """A unit vector whose cosine with QUERY is exactly ``c``."""
    other = np.random.default_rng(seed).normal(size=DIM)
    other[0] = 0.0
    other /= np.linalg.norm(other)
    return (c * QUERY + np.sqrt(1 - c * c) * other).astype(np.float32)


def add_video(lib: Library, name: str, cosines: list[float], length: float = 5.0, seed: int = 0,
              borders: list[float] | None = None) -> None:
    """A video whose consecutive (touching) segments score ``cosines`` against QUERY and start
    at cuts of strength ``borders`` (default: weak ones)."""
    borders = borders or [1.0] + [0.5] * (len(cosines) - 1)
    segments = [NewSegment(start=i * length, end=(i + 1) * length, transcript=f"{name} part {i}",
                           vectors={"visual": at_cosine(c, seed * 1000 + i)}, border=b)
                for i, (c, b) in enumerate(zip(cosines, borders))]
    lib.write_video(NewVideo(path=f"/v/{name}.mp4", size=1, mtime=1.0, duration=length * len(cosines),
                             segments=segments, models={"visual": ("test", DIM)}))


@pytest.fixture
def searcher(tmp_path) -> Searcher:
    return Searcher(Library(Settings(data_dir=tmp_path / "d")), encoders=None)


def test_per_video_reads_past_the_first_chunk_of_hits(searcher):
    # 30 strong segments of one video come before any other video's: the first chunk of rows
    # read (2k + 10 = 20) holds only that video, so the search must read a second chunk.
    # (Short segments: the crash came from a segment's start time overwriting the read position.)
    add_video(searcher.library, "long", [0.9 - 0.001 * i for i in range(30)], length=0.5, seed=1)
    for n in range(5):
        add_video(searcher.library, f"short{n}", [0.5 - 0.01 * n], seed=10 + n)
    moments = searcher.search_vectors({"visual": QUERY}, "visual", k=5, per_video=True)
    assert [m.video_path for m in moments] == ["/v/long.mp4"] + [f"/v/short{n}.mp4" for n in range(4)]


def test_a_broad_query_gets_k_distinct_bounded_moments(searcher):
    for n in range(5):  # five 150 s videos, every segment close to the query
        add_video(searcher.library, f"v{n}", [0.8 - 0.002 * i - 0.0005 * n for i in range(30)], seed=n)
    moments = searcher.search_vectors({"visual": QUERY}, "visual", k=20)
    assert len(moments) == 20
    assert all(m.end - m.start <= 30.0 + 1e-6 for m in moments)
    segments = [s for m in moments for s in m.segment_ids]
    assert len(segments) == len(set(segments))


def test_only_close_neighbours_join_and_never_beyond_the_bound(tmp_path):
    lib = Library(Settings(data_dir=tmp_path / "d", moment_max=12.0, moment_merge=0.9))
    # best segment in the middle; its left neighbour scores close, its right one does not
    add_video(lib, "a", [0.3, 0.76, 0.8, 0.5, 0.2], length=5.0, seed=3)
    top = Searcher(lib, encoders=None).search_vectors({"visual": QUERY}, "visual", k=3)
    assert (top[0].start, top[0].end) == (5.0, 15.0)  # 0.76 >= 0.9 * 0.8 joined; 0.5 did not
    assert top[0].score == pytest.approx(0.8, abs=1e-5)
    assert (top[1].start, top[1].end) == (15.0, 20.0)
    # with a bound of 8 s nothing can join a 5 s segment
    lib.settings = Settings(data_dir=tmp_path / "d", moment_max=8.0, moment_merge=0.9)
    top = Searcher(lib, encoders=None).search_vectors({"visual": QUERY}, "visual", k=3)
    assert [(m.start, m.end) for m in top] == [(10.0, 15.0), (5.0, 10.0), (15.0, 20.0)]


def test_a_moment_grows_over_weak_cuts_and_stops_at_strong_ones(searcher):
    # two topics of three segments; the best hit is the second segment of the first topic
    add_video(searcher.library, "t", [0.5, 0.9, 0.2, 0.7, 0.3, 0.1], borders=[1.0, 0.5, 0.5, 0.95, 0.5, 0.5])
    first, second = searcher.search_vectors({"visual": QUERY}, "visual", k=2)
    assert (first.start, first.end, first.score) == (0.0, 15.0, pytest.approx(0.9, abs=1e-5))
    assert first.transcript == "t part 0 t part 1 t part 2"  # starts where the topic starts
    assert (second.start, second.end) == (15.0, 30.0)


def test_a_hit_in_a_short_shot_is_the_whole_shot(searcher):
    # Slides: shots of 15 s (three sentences each, inner sentence borders strong enough to stop
    # growth) then a 40 s shot, longer than moment_max (30 s): sentences stay moments there.
    borders = [1.0, 0.7, 0.7, 1.2, 0.7, 0.7] + [1.2] + [0.7] * 7
    cosines = [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.2, 0.3, 0.85, 0.2, 0.1, 0.1, 0.1, 0.1]
    add_video(searcher.library, "slides", cosines, borders=borders)
    add_video(searcher.library, "oneshot", [0.2, 0.88, 0.6], borders=[1.0, 0.7, 0.7], seed=7)
    first, second, third = searcher.search_vectors({"visual": QUERY}, "visual", k=3)
    assert (first.video_path, first.start, first.end) == ("/v/slides.mp4", 15.0, 30.0)  # not 25-30
    assert first.score == pytest.approx(0.9, abs=1e-5) and first.segment_id == first.segment_ids[0]
    assert (second.video_path, second.start, second.end) == ("/v/oneshot.mp4", 5.0, 10.0)  # no cut: as said
    assert (third.start, third.end) == (40.0, 45.0)  # inside the 40 s shot
    pages = [searcher.search_vectors({"visual": QUERY}, "visual", k=2, offset=o) for o in (0, 2, 4)]
    spans = [(m.video_path, m.start, m.end) for page in pages for m in page]
    assert len(spans) == 6 and len(set(spans)) == 6
    shown = [s for page in pages for m in page for s in m.segment_ids]
    assert len(shown) == len(set(shown))
    assert ("/v/slides.mp4", 0.0, 15.0) in spans and ("/v/slides.mp4", 20.0, 25.0) not in spans  # inside 15-30


def test_pages_never_repeat_a_moment(tmp_path):
    searcher = Searcher(Library(Settings(data_dir=tmp_path / "d", moment_merge=0.9)), encoders=None)
    for n in range(3):
        add_video(searcher.library, f"p{n}", [0.9 - 0.03 * i - 0.01 * n for i in range(10)], seed=20 + n)
    seen, pages = set(), []
    for offset in range(0, 30, 4):
        page = searcher.search_vectors({"visual": QUERY}, "visual", k=4, offset=offset)
        pages.append(page)
        ids = {s for m in page for s in m.segment_ids}
        assert not ids & seen, f"page at offset {offset} repeats {ids & seen}"
        seen |= ids
    assert [len(p) for p in pages[:3]] == [4, 4, 4]
    assert len(seen) == 30  # every segment shown exactly once over the pages
    first = [m.segment_id for m in pages[0]]
    assert first == [m.segment_id for m in searcher.search_vectors({"visual": QUERY}, "visual", k=4)]


def test_bad_paging_arguments_fail_clearly(searcher):
    add_video(searcher.library, "x", [0.5], seed=5)
    with pytest.raises(ValueError, match="offset"):
        searcher.search_vectors({"visual": QUERY}, "visual", k=3, offset=-1)
