"""Real faster-whisper tiny.en and base (the packaged weights) on real and generated speech.

The Hub is the one thing faked (this machine is offline, and a test must not depend on the
network either way): ``download_model``, where faster-whisper reaches it.
"""
import json
import logging
import time

import numpy as np
import pytest

from indexer.decode import DecodeOptions, decode_file
from core.models import packaged_whisper
from core.models.packaged_whisper import packaged_tiny_en
from core.models.whisper import DEFAULT_MODELS, EMPTY, FasterWhisper, default_whisper_model, is_silent, make_asr
from core.models.base import ModelUnavailable
from core.settings import Settings

from .conftest import media


def test_packaged_tiny_en_by_name(asr):
    assert packaged_tiny_en() is not None
    assert asr.model_id == "faster-whisper:tiny.en"


def test_words_and_timestamps_of_real_speech(asr):
    audio = decode_file(str(media("jfk.flac")), DecodeOptions()).audio
    transcript = asr.transcribe(audio)
    assert transcript.language == "en"
    text = transcript.text.lower()
    assert "ask not what your country can do for you" in text
    words = [w for line in transcript.lines for w in line.words]
    assert len(words) > 15
    country = [s for s, e, w in words if w.lower().strip(".,") == "country"]
    assert country and all(0 < s < 11.1 for s in country)
    assert all(a[0] <= b[0] for a, b in zip(words, words[1:]))


def test_silence_is_not_sent_to_whisper(asr):
    silence = np.zeros(16_000 * 5, np.float32)
    assert is_silent(silence) and is_silent(None)
    assert asr.transcribe(silence) is EMPTY


def test_unknown_backend_and_missing_openai_whisper_fail_clearly(tmp_path):
    with pytest.raises(Exception):
        make_asr(Settings(data_dir=tmp_path, asr_backend="nemo"))
    try:
        import whisper  # noqa: F401
    except ImportError:
        with pytest.raises(ModelUnavailable, match="vidsearch\\[whisper\\]"):
            make_asr(Settings(data_dir=tmp_path, asr_backend="openai-whisper"))


@pytest.fixture
def offline(monkeypatch):
    """The Hub out of reach: the cache lookup and the download both fail; every call is recorded."""
    import faster_whisper.transcribe
    import faster_whisper.utils

    calls = []

    def download_model(size_or_id, output_dir=None, local_files_only=False, cache_dir=None, **_):
        calls.append((size_or_id, local_files_only))
        if local_files_only:
            raise FileNotFoundError(f"{size_or_id} is not in the cache")
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(faster_whisper.utils, "download_model", download_model)
    monkeypatch.setattr(faster_whisper.transcribe, "download_model", download_model)
    return calls


def test_on_a_cpu_the_default_is_the_packaged_multilingual_base_without_the_hub(offline, tmp_path):
    backend = FasterWhisper(None, marker_dir=tmp_path, join_dir=tmp_path / "models")
    assert backend.model_id == "faster-whisper:base" and backend.multilingual
    assert offline == []  # neither looked up nor downloaded: the packages hold it
    assert DEFAULT_MODELS["cpu"] == "base"


def test_without_the_gpu_default_the_packaged_base_is_used_with_a_warning(offline, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="core.models.whisper"):
        name = default_whisper_model("cuda", None, tmp_path, tmp_path / "models")
    assert name == packaged_whisper.packaged_base(tmp_path / "models")
    gpu = DEFAULT_MODELS["cuda"]  # looked up in the cache, then downloaded
    assert offline == [(gpu, True), (gpu, False)]
    fallback = [r.getMessage() for r in caplog.records if "packaged base" in r.getMessage()]
    assert len(fallback) == 1 and fallback[0].startswith(f"Whisper {gpu} is not available (Name or service not known)")
    marker = json.loads((tmp_path / "whisper-download-failed.json").read_text())
    assert (marker["model"], marker["error"]) == (gpu, "Name or service not known")


def test_without_base_packages_the_packaged_tiny_en_is_the_last_resort(offline, tmp_path, monkeypatch):
    monkeypatch.setattr(packaged_whisper, "base_parts", lambda: None)
    assert default_whisper_model("cpu", None, tmp_path, tmp_path / "models") == packaged_tiny_en()
    assert offline == [("base", True), ("base", False)]  # the hub's base was tried first


def test_a_failed_download_is_not_tried_again_on_the_next_run(offline, tmp_path, caplog):
    default_whisper_model("cuda", None, tmp_path, tmp_path / "models")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.models.whisper"):
        default_whisper_model("cuda", None, tmp_path, tmp_path / "models")
    gpu = DEFAULT_MODELS["cuda"]
    assert [call for call in offline if not call[1]] == [(gpu, False)]  # one download, the first run's
    assert offline.count((gpu, True)) == 2  # the cache is still looked at: it costs nothing
    assert not any("downloading" in r.getMessage() for r in caplog.records)
    assert any("its download failed 0 min ago" in r.getMessage() for r in caplog.records)


def test_a_failure_older_than_a_day_or_of_another_model_is_tried_again(offline, tmp_path):
    marker = tmp_path / "whisper-download-failed.json"
    gpu = DEFAULT_MODELS["cuda"]
    marker.write_text(json.dumps({"model": gpu, "at": time.time() - 25 * 3600, "error": "offline"}))
    default_whisper_model("cuda", None, tmp_path, tmp_path / "models")
    marker.write_text(json.dumps({"model": "medium", "at": time.time(), "error": "offline"}))
    default_whisper_model("cuda", None, tmp_path, tmp_path / "models")
    assert [call for call in offline if not call[1]] == [(gpu, False), (gpu, False)]


def test_tiny_en_by_name_is_the_packaged_copy_without_any_download(offline):
    assert packaged_tiny_en() is not None
    backend = FasterWhisper("tiny.en")
    assert backend.model_id == "faster-whisper:tiny.en"
    assert offline == []


def test_a_transcript_says_which_model_heard_it_and_where_the_voice_is(asr):
    audio = decode_file(str(media("jfk.flac")), DecodeOptions()).audio
    transcript = asr.transcribe(audio)
    assert transcript.model == asr.model_id == "faster-whisper:tiny.en"
    # "And so, my fellow Americans, ask | not what | your country can do for you, | ask what ..."
    assert len(transcript.voiced) == 4
    assert [s for s, _ in transcript.voiced] == pytest.approx([0.32, 3.36, 5.44, 8.22], abs=0.1)
    assert all(a < b < c for (a, b), (c, _) in zip(transcript.voiced, transcript.voiced[1:]))
    assert 10.0 < transcript.voiced[-1][1] <= len(audio) / 16_000
    assert asr.transcribe(np.zeros(16_000, np.float32)).voiced == []  # silence: nothing heard
