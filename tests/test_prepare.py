"""Preparing one file: decode, then transcribe only what has speech, failures named by step."""
import os

import pytest

from bench.corpus import Spec, make_video
from indexer.decode import DecodeOptions
from indexer.prepare import Preparer, StageFailed
from core.settings import Settings


def test_silent_footage_never_loads_whisper(tmp_path):
    silent = make_video(Spec("silent.mp4", [("testsrc2", 2)], audio=False), tmp_path)
    preparer = Preparer(Settings(data_dir=tmp_path / "d", asr_model="tiny.en"), DecodeOptions())
    prepared = preparer.prepare(str(silent))
    assert prepared.decoded.frames and prepared.transcript.lines == []
    assert set(prepared.timings) == {"decode", "copies", "transcribe", "voices"}
    assert preparer._asr is None and preparer._voice_encoder is None  # nothing to hear: neither was built


def test_speech_is_transcribed_with_the_given_model(tmp_path, asr):
    spoken = make_video(Spec("spoken.mp4", [("testsrc2", 3)], speech=[(0.3, "one two three")]), tmp_path)
    prepared = Preparer(Settings(data_dir=tmp_path / "d"), DecodeOptions(), asr=asr).prepare(str(spoken))
    text = prepared.transcript.text.lower()
    assert ("three" in text or "3" in text) and prepared.transcript.model == asr.model_id


def test_a_file_that_cannot_be_decoded_fails_at_decode(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(StageFailed) as failed:
        Preparer(Settings(data_dir=tmp_path / "d"), DecodeOptions()).prepare(str(bad))
    assert failed.value.stage == "decode" and "InvalidData" in str(failed.value)


def test_whisper_runs_beside_the_picture_decoder_with_the_same_result(tmp_path, asr):
    spoken = make_video(Spec("spoken.mp4", [("testsrc2", 3)], speech=[(0.3, "one two three")]), tmp_path)
    settings = Settings(data_dir=tmp_path / "d")
    apart = Preparer(settings, DecodeOptions(), asr=asr).prepare(str(spoken))
    beside = Preparer(settings, DecodeOptions(), asr=asr, overlap=True).prepare(str(spoken))
    assert beside.transcript.lines == apart.transcript.lines and beside.transcript.lines
    assert beside.decoded.audio is None  # decoded in the speech thread, not kept
    assert beside.decoded.frame_times == apart.decoded.frame_times


def test_a_file_with_subtitles_is_not_sent_to_whisper_early(tmp_path, asr):
    spoken = make_video(Spec("captioned.mp4", [("testsrc2", 3)], speech=[(0.3, "one two three")]), tmp_path)
    spoken.with_suffix(".srt").write_text("1\n00:00:00,300 --> 00:00:02,000\nOne, two, three.\n")
    preparer = Preparer(Settings(data_dir=tmp_path / "d"), DecodeOptions(subtitles=True), asr=asr, overlap=True)
    assert preparer._speech_early(str(spoken)) is None
    assert preparer.prepare(str(spoken)).transcript.source.startswith("sidecar")
