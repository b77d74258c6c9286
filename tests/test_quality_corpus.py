"""Segments against spoken sentences, and eval numbers, on generated narrated lectures.

Two short lectures from the bench's labelled corpus (one with a slide per topic in colours of one
brightness, one on a static background), indexed with the real tiny.en and MiniLM, speech-only:
the test CLIP has random weights, and lists of noise say nothing about ranking quality. Their
sentence timings are exact (measured in the rendered audio), so borders can be checked.
"""
import dataclasses
import json

import pytest

from bench.quality_corpus import build_corpus
from bench.quality_topics import BIOLOGY, EARTH, Lecture
from indexer.pipeline import Indexer
from core.library import Library
from search.quality.evaluate import evaluate
from search.quality.querysets import load_queries
from search.service import Searcher

from .conftest import ENGLISH_TINY

pytestmark = pytest.mark.slow

LECTURES = [Lecture("slides.mp4", BIOLOGY[:4], "en-us", 150, slides=True, split="dev"),
            Lecture("static.mp4", EARTH[:4], "en-gb", 140, slides=False, split="dev")]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    from core.encoders import Encoders
    from core.settings import Settings

    folder = tmp_path_factory.mktemp("lectures")
    queries = build_corpus(folder, LECTURES)
    data = tmp_path_factory.mktemp("data")
    # tiny.en, told the speech is English: the counts below were measured with it (the default base
    # hears the espeak voices about as well, with other mistakes; bench.quality has both tables).
    settings = Settings(data_dir=data, clip_pretrained=str(data / "no-clip-weights.pt"), **ENGLISH_TINY)
    encoders = Encoders(settings)
    library = Library(settings)
    report = Indexer(library, encoders, settings, progress=False).index([folder])
    assert len(report.of("indexed")) == 2, [(o.path, o.stage, o.reason) for o in report.outcomes]
    sentences = json.loads((folder / "sentences.json").read_text())
    topics = json.loads((folder / "topics.json").read_text())
    return library, Searcher(library, encoders), queries, sentences, topics


def _segments(library, name):
    video = next(v for v in library.videos() if v.path.endswith(name))
    found = library.segments([s.id for s in _all_segments(library, video.id)])
    return sorted((seg.start, seg.end, seg.transcript) for seg, _ in found.values())


def _all_segments(library, video_id):
    from sqlalchemy import select

    from core.catalog import Segment

    with library.sessions() as session:
        return list(session.scalars(select(Segment).where(Segment.video_id == video_id)))


@pytest.mark.parametrize("name", ["slides.mp4", "static.mp4"])
def test_segments_hold_whole_sentences(indexed, name):
    library, _, _, sentences, _ = indexed
    said = sentences[name]
    segments = _segments(library, name)
    for start, _, text in segments[1:]:
        # every border lies in a pause between sentences, or within 0.5 s of a sentence's start
        in_pause = any(end <= start <= nxt for (_, end, _), (nxt, _, _) in zip(said, said[1:]))
        near_onset = any(abs(start - s) <= 0.5 for s, _, _ in said)
        assert in_pause or near_onset, f"{name}: a segment starts at {start:.2f}, inside a sentence"
    for start, end, _ in said:  # and no sentence is cut in two
        assert not any(start + 0.5 < b < end - 0.5 for b, _, _ in segments), f"{name}: cut inside {start}-{end}"


def test_slide_changes_of_one_brightness_are_found(indexed):
    library, _, _, _, topics = indexed
    borders = [s for s, _, _ in _segments(library, "slides.mp4")]
    for start, _, key in topics["slides.mp4"][1:]:
        assert any(abs(start - b) <= 0.5 for b in borders), f"no border at the start of {key} ({start})"


def test_moment_starts_where_its_topic_starts(indexed):
    _, searcher, queries, _, _ = indexed
    queryset = load_queries(queries)
    result = evaluate(searcher, queryset, ["speech"], k=5, progress=False)
    summary = result.table()["speech"]["all"]
    assert summary["queries"] == len(queryset.queries) == 21
    assert summary["R@1"] >= 0.85 and summary["start<=2s"] >= 0.75, summary


def test_eval_numbers_are_exact_for_a_fixed_corpus(indexed):
    _, searcher, queries, _, _ = indexed
    table = evaluate(searcher, load_queries(queries), ["hybrid", "speech", "keyword"], k=5,
                     progress=False).table()
    counts = {mode: {kind: s["queries"] for kind, s in kinds.items()} for mode, kinds in table.items()}
    assert counts == {m: {"all": 21, "exact": 7, "paraphrase": 14} for m in ("hybrid", "speech", "keyword")}
    # queries (of 21) whose right video comes first, whose top moment is the right one, and
    # whose top moment starts within 2 s of the topic; counts, so no tolerance
    found = {mode: tuple(round(kinds["all"][m] * 21) for m in ("R@1", "hit@1", "start<=2s"))
             for mode, kinds in table.items()}
    assert found in [EXPECTED, *EXPECTED_ON_OTHER_CPUS]
    # Hybrid ranks the right segment first at least as often as its best list does, per kind
    # (how far a moment then grows is the moment policy's business, measured by the bench).
    firsts = {mode: _right_first(searcher, load_queries(queries), mode) for mode in ("hybrid", "speech", "keyword")}
    for kind in ("exact", "paraphrase"):
        assert firsts["hybrid"][kind] >= max(firsts["speech"][kind], firsts["keyword"][kind]), firsts


def _right_first(searcher, queryset, mode) -> dict[str, int]:
    """Per kind, how many queries get a first moment whose best segment lies in the true span."""
    counts = {"exact": 0, "paraphrase": 0}
    for query in queryset.queries:
        found = searcher.search_text(query.text, mode, 1)
        if found and found[0].video_path.endswith(query.video):
            segment, _ = searcher.library.segments([found[0].segment_id])[found[0].segment_id]
            middle = (segment.start + segment.end) / 2
            counts[query.kind] += any(s <= middle <= e for s, e in query.spans)
    return counts

# With the packages of .ci/constraints.txt: another release of a model runtime moves these counts.
# (A hit taking its whole slide as its moment: hit@1 18 -> 19, keyword start<=2s 3 -> 5. The default
# sentence model all-mpnet-base-v2 instead of MiniLM, on an AMD EPYC of family 25 model 17: hybrid
# (21, 18, 16) -> (21, 21, 19).)
# The CPU moves them too, with the same packages: Whisper's int8 kernels differ by instruction set
# (with MiniLM, a machine with AVX-512 VNNI and BF16 and an AMD EPYC of family 25 model 17 each
# transcribed one sentence differently), so each tuple seen on the development machines is
# listed; any other tuple is a change in ranking, segmentation or models.
EXPECTED = {"hybrid": (21, 21, 19), "speech": (21, 21, 19), "keyword": (11, 7, 5)}
EXPECTED_ON_OTHER_CPUS: list[dict] = []


def test_relevance_labels_say_how_likely_a_moment_is_right(indexed):
    """With the default thresholds (learned by bench.quality on other lectures), strong moments
    are mostly right and weak ones mostly not."""
    from search.quality.calibration import label_precision

    _, searcher, queries, _, _ = indexed
    result = evaluate(searcher, load_queries(queries), ["hybrid"], k=5, progress=False)
    precision = label_precision(result, searcher.settings.relevance_thresholds)
    assert set(precision) == {"strong", "good", "weak"}  # every moment of a text query has a label here
    assert sum(n for n, _ in precision.values()) == 21 * 5
    # seen: strong 5 of 6 right, good 8 of 12, weak 6 of 87
    assert precision["strong"][1] >= 0.8 and precision["weak"][1] <= 0.1
    assert precision["strong"][1] > precision["good"][1] > precision["weak"][1]
