"""Real faster-whisper tiny.en (the packaged weights) on real and generated speech."""
import numpy as np
import pytest

from indexer.decode import DecodeOptions, decode_file
from indexer.transcribe import EMPTY, is_silent, make_asr, packaged_whisper_model
from search.encoders import ModelUnavailable
from search.settings import Settings

from .conftest import media


def test_packaged_tiny_en_is_the_default(asr):
    assert packaged_whisper_model() is not None
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
