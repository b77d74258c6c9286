"""Probe and decode on real media and on generated videos whose content is known."""
import subprocess

import numpy as np
import pytest

from bench.corpus import Spec, make_video
from indexer.decode import SAMPLE_RATE, DecodeOptions, decode_file
from indexer.probe import probe

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


def test_truncated_file_raises(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(media("friday.mp4").read_bytes()[:3000])
    with pytest.raises(Exception):
        decode_file(str(broken), DecodeOptions())
