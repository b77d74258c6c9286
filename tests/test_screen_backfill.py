"""`vidsearch index --only ocr`: screen text for videos indexed without it, frames not embedded again."""
import json

import numpy as np

from indexer.pipeline import Indexer
from core.library import Library
from search.service import Searcher
from tests.test_screen_text import _slides


def test_screen_text_is_added_without_touching_frames_or_segments(tmp_path, make_settings, encoders, tiny_clip,
                                                                  monkeypatch, capsys):
    from api.cli import main

    folder = tmp_path / "videos"
    folder.mkdir()
    _slides(folder / "slides.mp4")
    settings = make_settings(ocr="off")
    library = Library(settings)
    Indexer(library, encoders, settings, progress=False).index([folder])
    video = library.known_file(str(folder / "slides.mp4"))
    assert video.screen_model is None
    searcher = Searcher(library, encoders)
    assert not searcher.search_text("quarterly results", mode="keyword", k=3)
    segments = sorted(library.video_detail(video.id).segments, key=lambda s: s.start)
    before = {space: {s.id: library.vector(s.id, space) for s in segments} for space in ("visual", "fused", "speech")}

    monkeypatch.setenv("VIDSEARCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VIDSEARCH_CLIP_MODEL", tiny_clip["clip_model"])
    monkeypatch.setenv("VIDSEARCH_CLIP_PRETRAINED", tiny_clip["clip_pretrained"])
    monkeypatch.setenv("VIDSEARCH_CLIP_MODEL_CONFIG", str(tiny_clip["clip_model_config"]))
    assert main(["index", "--only", "ocr", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["indexed"] == 1 and report["failed"] == 0

    library = Library(settings)
    video = library.known_file(str(folder / "slides.mp4"))
    assert video.screen_model == "rapidocr:PP-OCRv6-tiny" and video.screen_note is None
    after = sorted(library.video_detail(video.id).segments, key=lambda s: s.start)
    assert [(s.id, s.start, s.end) for s in after] == [(s.id, s.start, s.end) for s in segments]
    assert any("QUARTERLY RESULTS" in (s.screen_text or "") for s in after)
    for space in ("visual", "fused"):  # frames were not embedded again
        for s in after:
            old, new = before[space][s.id], library.vector(s.id, space)
            assert (old is None and new is None) or np.array_equal(old, new)
    titled = next(s for s in after if "QUARTERLY" in (s.screen_text or ""))
    assert library.vector(titled.id, "speech") is not None
    assert before["speech"][titled.id] is None or not np.allclose(before["speech"][titled.id],
                                                                  library.vector(titled.id, "speech"))
    assert all(not (r["missing"] or r["orphans"] or r["duplicates"]) for r in library.check().values())

    (hit, *_) = Searcher(library, encoders).search_text("quarterly results", mode="keyword", k=3)
    assert hit.start < 4.0 and "QUARTERLY RESULTS" in hit.screen_text
    (hit, *_) = Searcher(library, encoders).search_text("quarterly results", mode="speech", k=3)
    assert hit.segment_id == titled.id

    assert main(["index", "--only", "ocr", str(folder), "--json"]) == 0  # read once: skipped next time
    again = json.loads(capsys.readouterr().out)
    assert again["skipped"] == 1 and "screen text read by" in again["files"][0]["reason"]
