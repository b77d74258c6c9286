"""End to end: index a folder of generated and real videos, then find moments by text and by clip.

Real models throughout (the tiny CLIP checkpoint, Whisper tiny.en, MiniLM), a real SQLite
catalog and real FAISS indexes. Spoken queries are paraphrases, never the words spoken.
"""
import shutil

import pytest

from bench.corpus import excerpt
from indexer.pipeline import Indexer
from indexer.query_clip import QueryClips
from core.errors import InvalidInput
from core.library import Library
from search.service import Searcher
from core.settings import Settings

from .conftest import media


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, corpus, tiny_clip, encoders, asr):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), **tiny_clip)
    library = Library(settings)
    indexer = Indexer(library, encoders, settings, progress=False)
    report = indexer.index([corpus])
    return library, indexer, report, Searcher(library, encoders)


def overlaps(moment, start, end):
    return moment.start < end and moment.end > start


def test_batch_completes_with_failures_recorded(indexed, corpus):
    library, _, report, _ = indexed
    assert sorted(o.path.rsplit("/", 1)[-1] for o in report.of("indexed")) == [
        "budget.mp4", "dog.mp4", "silent_timelapse.mp4", "weather.mp4"]
    (failed,) = report.of("failed")
    assert failed.path == str(corpus / "truncated.mp4") and failed.stage == "decode"
    assert "Invalid data" in failed.reason
    (row,) = library.videos(status="failed")
    assert row.path == failed.path and row.error_stage == "decode"
    assert set(report.stage_seconds()) == {"decode", "copies", "faces", "ocr", "transcribe", "voices", "embed", "write"}
    assert report.stage_seconds()["copies"] > 0  # hashing for copies is timed apart from decoding


def test_segments_follow_shots_and_carry_their_words(indexed, corpus):
    library, _, _, _ = indexed
    weather = library.known_file(str(corpus / "weather.mp4"))
    segs = library.segments(range(1, 100))
    spans = sorted((s.start, s.end, s.transcript) for s, v in segs.values() if v.id == weather.id)
    assert [(round(a, 1), round(b, 1)) for a, b, _ in spans] == [(0, 5), (5, 10), (10, 14)]
    assert "weather" in spans[0][2].lower() and "rain" in spans[2][2].lower()
    assert weather.language == "en" and weather.has_audio and weather.video_codec == "h264"


def test_silent_video_is_indexed_visually_without_asr(indexed, corpus):
    library, _, report, _ = indexed
    silent = library.known_file(str(corpus / "silent_timelapse.mp4"))
    assert silent.status == "indexed" and not silent.has_audio and silent.language is None
    ids = [s.id for s, v in library.segments(range(1, 100)).values() if v.id == silent.id]
    assert ids and all(library.vector(i, "visual") is not None for i in ids)
    assert all(library.vector(i, "speech") is None for i in ids)


@pytest.mark.parametrize("query, video, start, end", [
    ("storm forecast by the sea", "weather.mp4", 10.0, 14.0),
    ("education expenses went up", "budget.mp4", 6.0, 12.0),
    ("a puppy chasing a flying disc outdoors", "dog.mp4", 4.0, 9.0),
])
def test_spoken_paraphrase_finds_the_video_at_the_right_second(indexed, query, video, start, end):
    _, _, _, searcher = indexed
    top = searcher.search_text(query, mode="speech", k=3)[0]
    assert top.video_path.endswith(video)
    assert overlaps(top, start, end) and top.start >= start - 1.0


def test_cropped_reencoded_excerpt_finds_its_source_moment_first(indexed, corpus, tmp_path):
    _, _, _, searcher = indexed
    clip = excerpt(corpus / "weather.mp4", tmp_path / "excerpt.mp4", start=9.8, seconds=4)
    vectors = QueryClips(searcher.encoders, searcher.settings).vectors(clip)
    assert {"visual", "fused", "speech"} <= set(vectors)
    top = searcher.search_vectors(vectors, "hybrid", k=3)[0]
    assert top.video_path.endswith("weather.mp4") and overlaps(top, 10.0, 14.0)


def test_similar_to_an_indexed_segment_excludes_itself(indexed):
    _, _, _, searcher = indexed
    results = searcher.similar_segment(1, k=20)
    assert results and all(1 not in m.segment_ids for m in results)
    with pytest.raises(LookupError):
        searcher.similar_segment(987654)


def test_unchanged_files_are_skipped_on_the_next_run(indexed, corpus):
    library, indexer, _, _ = indexed
    again = indexer.index([corpus])
    assert len(again.of("skipped")) == 5 and not again.of("failed") and not again.of("indexed")
    (broken,) = [o for o in again.of("skipped") if o.path.endswith("truncated.mp4")]
    assert "failed before" in broken.reason and "--retry-failed" in broken.reason
    retried = indexer.index([corpus], retry_failed=True)
    assert [o.path for o in retried.of("failed")] == [str(corpus / "truncated.mp4")]
    assert library.counts().indexed == 4


def test_real_media_speech_and_audio_only(tmp_path, tiny_clip, encoders, asr):
    folder = tmp_path / "media"
    folder.mkdir()
    for name in ("friday.mp4", "jfk.flac", "sintel_2s_example3.mp4"):
        shutil.copy(media(name), folder / name)
    settings = Settings(data_dir=tmp_path / "data", **tiny_clip)
    library = Library(settings)
    report = Indexer(library, encoders, settings, progress=False).index([folder])
    assert len(report.of("indexed")) == 3, report.as_dict()
    searcher = Searcher(library, encoders)
    top = searcher.search_text("somebody took the royal treasure", mode="speech", k=2)[0]
    assert top.video_path.endswith("friday.mp4") and "stolen" in top.transcript.lower()
    top = searcher.search_text("serving the nation instead of asking from it", mode="speech", k=2)[0]
    assert top.video_path.endswith("jfk.flac")


def test_an_image_finds_the_shot_it_was_taken_from(indexed, corpus, tmp_path):
    import subprocess

    _, _, _, searcher = indexed
    clips = QueryClips(searcher.encoders, searcher.settings)
    still = tmp_path / "still.png"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-ss", "7.2", "-i", str(corpus / "weather.mp4"),
                    "-frames:v", "1", "-vf", "crop=iw*0.9:ih*0.9", str(still)], check=True)
    vectors = clips.vectors(still)
    assert set(vectors) == {"visual", "fused"}  # an image has no speech
    top = searcher.search_vectors(vectors, "visual", k=3)[0]
    assert top.video_path.endswith("weather.mp4") and overlaps(top, 5.0, 10.0)
    with pytest.raises(InvalidInput, match="not a readable image"):
        (tmp_path / "fake.png").write_bytes(b"not a png")
        clips.vectors(tmp_path / "fake.png")


def test_frames_embedded_as_they_stream_give_the_vectors_of_a_whole_file(indexed, corpus, encoders):
    """The indexer embeds each chunk of kept frames as the worker decodes it; the same file made
    whole in this process (as Ray and query clips do) gives the same segments and vectors."""
    import numpy as np

    from indexer.decode import DecodeOptions
    from indexer.prepare import Preparer
    from indexer.record import make_record

    library, indexer, _, _ = indexed
    path = str(corpus / "silent_timelapse.mp4")
    settings = indexer.settings
    whole = make_record(Preparer(settings, DecodeOptions.from_settings(settings)).prepare(path), "x",
                        encoders, settings)
    video = library.known_file(path)
    stored = sorted((s.start, s.end, s.id) for s, v in library.segments(range(1, 200)).values() if v.id == video.id)
    assert [(round(a, 3), round(b, 3)) for a, b, _ in stored] == \
        [(round(s.start, 3), round(s.end, 3)) for s in whole.segments]
    for (_, _, segment_id), segment in zip(stored, whole.segments):
        assert np.allclose(library.vector(segment_id, "visual"), segment.vectors["visual"], atol=1e-5)
