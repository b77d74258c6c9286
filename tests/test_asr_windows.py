"""Long audio through Whisper a window at a time: cut at pauses, one transcript on the file's clock."""
import dataclasses
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


def test_voice_no_line_covers_is_found_allowing_for_drift_and_unheard_languages():
    from core.models.asr_gaps import uncovered
    from core.models.whisper import Line, Transcript

    said = Transcript("en", [Line(0.2, 3.0, "first", []), Line(9.0, 11.0, "last", [])],
                      voiced=[(0.0, 3.2), (3.8, 4.4), (4.9, 6.0), (8.9, 11.1), (12.0, 12.5), (14.0, 18.0), (19.0, 19.9)],
                      unheard=[(14.0, 18.0, "de")])
    # 0-3.2 is covered within the slack; 3.8-6.0 is one stretch (pauses under a second) of 1.7 s
    # of voice; 12.0-12.5 is too short; 14-18 is German the model cannot hear; 19.0-19.9 is short.
    assert uncovered(said, 20.0) == [pytest.approx((3.6, 6.2))]
    nothing = Transcript(None, [], voiced=[(0.5, 19.5)])
    assert uncovered(nothing, 20.0) == []  # all of it: what was just heard, not worth a repeat
    # A line covers its words; a last word stretched over 6 s of voice (Whisper stopped writing and
    # laid the rest of the window on it) covers no more than a word can last.
    glued = Transcript("en", [Line(0.0, 9.0, "and this", [(0.0, 0.4, "notice"), (0.5, 0.9, "and"), (1.0, 9.0, "this")])],
                       voiced=[(0.0, 9.0)])
    assert uncovered(glued, 30.0) == [pytest.approx((2.6, 9.2))]  # 1.0 + 1.5 + slack, padded


def test_a_sentence_whisper_skipped_is_heard_again_on_the_files_clock(tmp_path, asr):
    from core.models.asr_gaps import hear_gaps

    sentences = ["The orchestra rehearsed the symphony twice before the concert.",
                 "Volcanic ash closed the northern airports for three days."]
    pause = np.zeros(SAMPLE_RATE, np.float32)
    audio = np.concatenate([decode_audio(str(speak(sentences[0], tmp_path / "0.wav"))), pause,
                            decode_audio(str(speak(sentences[1], tmp_path / "1.wav"))), pause])
    whole = asr.transcribe(audio)
    second = [line for line in whole.lines if "airport" in line.text.lower()]
    assert second, whole.text
    skipped = dataclasses.replace(whole, lines=[line for line in whole.lines if line not in second])  # as an early end of text leaves it
    again = hear_gaps(asr, audio, skipped)
    assert again.lines[:len(skipped.lines)] == skipped.lines and len(again.lines) == len(whole.lines)
    found = again.lines[-1]
    assert "northern airport" in found.text.lower()
    assert found.start == pytest.approx(second[0].start, abs=0.6) and found.end == pytest.approx(second[0].end, abs=0.6)
    assert hear_gaps(asr, audio, whole) is whole  # nothing skipped: no second hearing

