"""Segment vectors: which frames and words a moment gets, and how its parts are fused."""
import numpy as np
import pytest

from bench.corpus import Spec, make_video
from indexer.decode import DecodeOptions, decode_file
from indexer.embed import _words_inside, embed_segments
from indexer.segment import make_spans
from core.models.whisper import EMPTY, Line, Transcript
from search.fusion import fuse, pool


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    path = make_video(Spec("moving.mp4", [("testsrc2", 12)], audio=False), tmp_path_factory.mktemp("v"))
    return decode_file(str(path), DecodeOptions())


def test_frames_per_moment_are_capped_and_evenly_spaced(moving, encoders, settings):
    spans = make_spans(moving.info.duration, moving.cuts, 2.0, 10.0)
    assert spans == [(0.0, 6.0), (6.0, 12.0)] and len(moving.frames) == 12
    capped, models = embed_segments(moving, spans, EMPTY, encoders, settings)
    assert [s.frame_count for s in capped] == [4, 4]
    assert set(models) == {"visual", "fused"}
    every, _ = embed_segments(moving, spans, EMPTY, encoders, settings, frames_per_segment=0)
    assert [s.frame_count for s in every] == [6, 6]
    for a, b in zip(capped, every):  # a pooled shot barely moves when fewer frames are averaged
        assert float(a.vectors["visual"] @ b.vectors["visual"]) > 0.99
        assert np.allclose(a.vectors["fused"], a.vectors["visual"], atol=1e-6)  # no speech: fused = visual


def test_words_belong_to_the_moment_they_are_spoken_in():
    line = Line(4.8, 9.0, "heavy rain tonight", [(5.1, 5.5, "heavy"), (5.6, 6.0, "rain"), (8.0, 8.5, "tonight")])
    transcript = Transcript("en", [line])
    assert _words_inside(transcript, 0.0, 5.0) == ""
    assert _words_inside(transcript, 5.0, 8.0) == "heavy rain"
    assert _words_inside(transcript, 8.0, 10.0) == "tonight"


def test_fusion_weights_and_missing_parts():
    visual, spoken = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    both = fuse(visual, spoken, 0.5, 0.5)
    assert np.allclose(both, [0.70710677, 0.70710677, 0, 0])
    assert np.allclose(fuse(visual, spoken, 3.0, 1.0), np.array([3, 1, 0, 0]) / np.sqrt(10))
    assert np.allclose(fuse(None, spoken, 0.5, 0.5), spoken)
    assert fuse(None, None, 0.5, 0.5) is None and pool(np.zeros((0, 4))) is None
