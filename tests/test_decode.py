"""Probe and decode on real media and on generated videos whose content is known."""
import subprocess

import av
import numpy as np
import pytest

from bench.corpus import Spec, make_video
from indexer.decode import SAMPLE_RATE, DecodeOptions, decode_file
from indexer.frames import yuv_thumb
from indexer.shots import MIN_SHOT, shot_cuts
from indexer.probe import probe
from core.settings import Settings

from .conftest import media


def test_probe_reads_streams_of_real_files():
    info = probe(str(media("friday.mp4")))
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (640, 480, "h264", "aac")
    assert info.duration == pytest.approx(6.17, abs=0.05) and info.fps == pytest.approx(30)
    popeye = probe(str(media("popeye_sinbad_T03-4.mkv")))
    assert popeye.video_codec == "hevc" and not popeye.has_audio and popeye.has_video
    flac = probe(str(media("jfk.flac")))
    assert flac.has_audio and not flac.has_video


def test_frames_are_sampled_at_rate_small_and_upright():
    decoded = decode_file(str(media("friday.mp4")), DecodeOptions(fps=1.0, frame_size=224,
                                                                dedup_threshold=-1))
    assert len(decoded.frames) == 7  # t = 0..6 s
    assert decoded.frame_times == pytest.approx([0, 1, 2, 3, 4, 5, 6], abs=0.05)
    assert decoded.frames[0].shape == (224, 298, 3) and decoded.frames[0].dtype == np.uint8
    assert decoded.audio.dtype == np.float32
    assert len(decoded.audio) == pytest.approx(6.17 * SAMPLE_RATE, rel=0.02)


def test_static_footage_costs_one_frame(tmp_path):
    path = make_video(Spec("static.mp4", [("color=c=navy", 12)], audio=False), tmp_path)
    decoded = decode_file(str(path), DecodeOptions())
    assert decoded.stats["sampled_frames"] == 12
    assert len(decoded.frames) == 1 and decoded.stats["duplicate_frames"] == 11
    assert decoded.audio is None and decoded.cuts == []


def test_shot_changes_are_found_where_they_are(tmp_path):
    spec = Spec("shots.mp4", [("testsrc2", 3), ("color=c=darkred", 3), ("smptebars", 3)], audio=False)
    decoded = decode_file(str(make_video(spec, tmp_path)), DecodeOptions())
    assert decoded.cuts == pytest.approx([3.0, 6.0], abs=0.05)


def test_rotated_video_comes_out_upright(tmp_path):
    source = make_video(Spec("wide.mp4", [("testsrc2", 2)], audio=False, size=(320, 180)), tmp_path)
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source), "-metadata:s:v:0", "rotate=90",
                    "-c", "copy", str(rotated)], check=True)
    decoded = decode_file(str(rotated), DecodeOptions(frame_size=90))
    assert decoded.info.rotation in (90, 270)
    height, width, _ = decoded.frames[0].shape
    assert height > width  # a portrait frame, as a player shows it
    import io

    from PIL import Image

    from indexer.thumbnail import grab_frame

    thumb = Image.open(io.BytesIO(grab_frame(str(rotated), 0.5, width=90)))
    assert thumb.height > thumb.width  # the thumbnail turns the same way (one rule: probe.upright)


def test_truncated_file_raises(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(media("friday.mp4").read_bytes()[:3000])
    with pytest.raises(Exception):
        decode_file(str(broken), DecodeOptions())


# Dark blue and dark green of the same luma: only the chroma planes tell the two slides apart.
BLUE, GREEN = "color=c=0x172a5c", "color=c=0x0f3c16"


def test_a_change_of_hue_at_the_same_brightness_is_a_cut(tmp_path):
    path = make_video(Spec("hues.mp4", [(BLUE, 3), (GREEN, 3)], audio=False), tmp_path)
    with av.open(str(path)) as container:
        thumbs = [yuv_thumb(f) for f in container.decode(video=0)]
    first, last = thumbs[0].astype(float), thumbs[-1].astype(float)
    assert abs(first[0].mean() - last[0].mean()) < 1.0  # the luma alone would see no cut
    assert abs(first[1].mean() - last[1].mean()) > 20.0
    decoded = decode_file(str(path), DecodeOptions.from_settings(Settings(data_dir=tmp_path / "data")))
    assert decoded.cuts == [pytest.approx(3.0, abs=1 / 24)]  # within one frame at 24 fps


def test_two_shots_of_the_same_colour_give_no_cut(tmp_path):
    path = make_video(Spec("same.mp4", [(BLUE, 3), (BLUE, 3)], audio=False), tmp_path)
    assert decode_file(str(path), DecodeOptions.from_settings(Settings(data_dir=tmp_path / "data"))).cuts == []


TIMES = [float(t) for t in range(25)]


def scores(level: float, at: dict[int, float]) -> list[float]:
    """Per-frame change scores: ``level`` everywhere but at the frames given."""
    return [at.get(i, level) for i in range(25)]


def test_a_change_above_the_fixed_threshold_is_a_cut_whatever_is_around_it():
    assert shot_cuts(TIMES, scores(20.0, {12: 30.0}), threshold=30.0) == [12.0]
    assert shot_cuts(TIMES, scores(20.0, {12: 29.0}), threshold=30.0) == []
    assert shot_cuts(TIMES, scores(20.0, {12: 29.0}), threshold=25.0) == [12.0]


def test_a_small_change_that_stands_out_from_stillness_is_a_cut():
    assert shot_cuts(TIMES, scores(0.5, {12: 10.0}), threshold=30.0) == [12.0]


def test_the_same_small_change_amid_constant_motion_is_not_a_cut():
    assert shot_cuts(TIMES, scores(6.0, {12: 10.0}), threshold=30.0) == []


def test_a_change_too_small_to_see_is_not_a_cut_even_in_stillness():
    assert shot_cuts(TIMES, scores(0.0, {12: 7.5}), threshold=30.0) == []


def test_a_change_spread_over_two_frames_is_one_cut_at_its_peak():
    assert shot_cuts(TIMES, scores(0.5, {12: 12.0, 13: 14.0}), threshold=30.0) == [13.0]


def test_of_cuts_closer_than_min_shot_only_the_strongest_is_kept():
    times = [i / 24 for i in range(96)]  # 4 s at 24 fps
    flashes = {24: 60.0, 28: 90.0, 33: 50.0, 72: 50.0}  # 1.0, 1.167 and 1.375 s: one flash; then 3.0 s
    assert shot_cuts(times, [flashes.get(i, 0.0) for i in range(96)], threshold=45.0) == [28 / 24, 3.0]
    assert MIN_SHOT == 0.6
    near, apart = {24: 60.0, 38: 50.0}, {24: 60.0, 39: 50.0}  # 14 frames (0.583 s), 15 frames (0.625 s)
    assert shot_cuts(times, [near.get(i, 0.0) for i in range(96)], threshold=45.0) == [1.0]
    assert shot_cuts(times, [apart.get(i, 0.0) for i in range(96)], threshold=45.0) == [1.0, 39 / 24]


def test_frames_of_one_shot_are_kept_min_gap_apart_and_a_cut_keeps_one_at_once(tmp_path):
    # 10 s of motion (a new sample every second), then a cut to other motion.
    spec = Spec("motion.mp4", [("testsrc2", 10), ("mandelbrot", 4)], audio=False)
    path = str(make_video(spec, tmp_path))
    every = decode_file(path, DecodeOptions())
    spaced = decode_file(path, DecodeOptions(min_gap=2.5))
    assert every.frame_times == pytest.approx(list(range(14)), abs=0.05)
    assert spaced.frame_times == pytest.approx([0, 3, 6, 9, 10, 13], abs=0.05)  # 10: the new shot, at once
    assert spaced.stats["spaced_frames"] == 8 and spaced.cuts == every.cuts


def test_kept_frames_can_be_handed_on_in_chunks_as_they_are_decoded(tmp_path):
    path = str(make_video(Spec("long.mp4", [("testsrc2", 40)], audio=False, fps=10), tmp_path))
    whole = decode_file(path, DecodeOptions())
    chunks = []
    streamed = decode_file(path, DecodeOptions(), on_frames=lambda frames: chunks.append(list(frames)))
    assert [len(c) for c in chunks] == [32, 8] and streamed.frames == []
    assert streamed.frame_times == whole.frame_times
    assert all(np.array_equal(a, b) for a, b in zip([f for c in chunks for f in c], whole.frames))
