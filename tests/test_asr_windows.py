"""Long audio through Whisper a window at a time: cut at pauses, one transcript on the file's clock."""
import difflib

import numpy as np
import pytest

from bench.corpus import speak
from indexer.decode import decode_audio
from core.models.asr_windows import transcribe_windows, windows
from core.models.vad import SAMPLE_RATE


def test_windows_end_at_the_quietest_half_second_before_their_limit():
    rng = np.random.default_rng(0)
    audio = rng.normal(0, 0.1, int(700 * SAMPLE_RATE)).astype(np.float32)
    for quiet in (290.0, 583.75):  # a pause in each window's last 20 s
        audio[int(quiet * SAMPLE_RATE):int((quiet + 0.5) * SAMPLE_RATE)] = 0.0
    spans = windows(audio)
    assert [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in spans] == [(0.0, 290.25), (290.25, 584.0), (584.0, 700.0)]
    assert windows(audio[:SAMPLE_RATE * 10]) == [(0, SAMPLE_RATE * 10)]  # short: one


def test_a_transcript_in_windows_says_what_one_call_says_at_the_same_times(tmp_path, asr):
    sentences = ["Our team won the championship after a penalty shootout in the final minute.",
                 "The train to the airport is delayed because of snow on the tracks.",
                 "Doctors recommend walking thirty minutes every day to stay healthy.",
                 "The library now lends laptops and cameras as well as books."]
    pause = np.zeros(SAMPLE_RATE, np.float32)
    parts = []
    for n, text in enumerate(sentences):
        parts += [decode_audio(str(speak(text, tmp_path / f"{n}.wav"))), pause]
    audio = np.concatenate(parts)
    window = sum(len(p) for p in parts[:6]) / SAMPLE_RATE  # the first window ends in the third pause
    spans = windows(audio, window)
    pause_ends = np.cumsum([len(p) for p in parts])[1::2]
    assert len(spans) == 2 and any(end - SAMPLE_RATE <= spans[0][1] <= end for end in pause_ends)  # in a pause
    whole, cut = asr.transcribe(audio), transcribe_windows(asr, audio, window)
    # Whisper hears a window with less context, so a word may differ; the words said at the same
    # second must agree, on the file's clock.
    timed = lambda t: [(a, w.lower().strip(".,")) for line in t.lines for a, _, w in line.words]
    ours, theirs = timed(cut), timed(whole)
    same = difflib.SequenceMatcher(None, [w for _, w in ours], [w for _, w in theirs], autojunk=False)
    assert same.ratio() >= 0.9 and len(theirs) > 30
    for block in same.get_matching_blocks():
        for k in range(block.size):
            # Whisper stamps a window's first word early, as it does a file's (vad.py): up to ~1 s
            assert ours[block.a + k][0] == pytest.approx(theirs[block.b + k][0], abs=1.0)
    assert np.allclose(cut.voiced, whole.voiced, atol=0.1)  # the exact speech edges moments start at
    assert cut.language == whole.language and cut.model == whole.model
