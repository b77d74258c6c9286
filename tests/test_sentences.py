"""Whisper's words regrouped into spoken sentences, with edges snapped to where the voice is heard.

Hand-built lines pin down each rule with exact times; one generated clip, heard by the real
tiny.en and the real voice-activity detector, checks that the edges land where the speech is.
"""
import dataclasses

import pytest

from bench.corpus import Spec, make_video
from indexer.decode import DecodeOptions, decode_file
from indexer.sentences import Sentence, sentences_of


@dataclasses.dataclass
class Line:
    start: float
    end: float
    text: str
    words: list = dataclasses.field(default_factory=list)


def line(*words) -> Line:
    """A transcript line holding ``words`` = (start, end, word), its text and edges from them."""
    return Line(words[0][0], words[-1][1], " ".join(w for _, _, w in words), list(words))


def spans(sentences):
    return [(s.start, s.end, s.text) for s in sentences]


def test_closing_punctuation_ends_a_sentence_and_commas_do_not():
    said = sentences_of([line((0.5, 0.9, "Well,"), (1.0, 1.5, "hello."), (1.5, 2.0, "Is"), (2.0, 2.5, "it"),
                              (2.5, 3.0, "'on?'"), (3.0, 3.5, "He"), (3.5, 3.75, "said"), (3.75, 4.0, '"stop!"'),
                              (4.0, 4.5, "Wait…"), (4.5, 5.0, "pi"), (5.0, 5.5, "is"), (5.5, 6.0, "3.14"),
                              (6.0, 6.5, "roughly"))])
    assert spans(said) == [(0.5, 1.5, "Well, hello."), (1.5, 3.0, "Is it 'on?'"), (3.0, 4.0, 'He said "stop!"'),
                           (4.0, 4.5, "Wait…"), (4.5, 6.5, "pi is 3.14 roughly")]


def test_a_one_second_gap_ends_a_sentence_without_punctuation():
    said = sentences_of([line((0.5, 1.0, "one"), (1.0, 1.5, "two"), (2.5, 3.0, "three"), (3.0, 3.5, "four"))])
    assert spans(said) == [(0.5, 1.5, "one two"), (2.5, 3.5, "three four")]
    shorter = sentences_of([line((0.5, 1.0, "one"), (1.0, 1.5, "two"), (2.25, 3.0, "three"))])
    assert spans(shorter) == [(0.5, 3.0, "one two three")]  # 0.75 s: still one sentence


def test_a_heard_pause_splits_unpunctuated_words_at_the_word_nearest_the_restart():
    # Whisper stamps the first word at 0.0 and pulls "then" 0.3 s back into the silence; the
    # detector hears speech from 0.83 to 2.0 and from 2.6 to 4.0.
    words = line((0.0, 1.1, "we"), (1.1, 1.4, "mixed"), (1.4, 1.5, "the"), (1.5, 1.95, "flour"),
                 (2.3, 2.9, "then"), (3.0, 3.4, "baked"), (3.5, 4.6, "bread"))
    assert spans(sentences_of([words])) == [(0.0, 4.6, "we mixed the flour then baked bread")]
    said = sentences_of([words], voiced=[(0.83, 2.0), (2.6, 4.0)])
    assert spans(said) == [(0.83, 2.0, "we mixed the flour"), (2.6, 4.0, "then baked bread")]


def test_a_pause_shorter_than_a_quarter_second_splits_nothing():
    words = line((1.0, 1.5, "keep"), (1.5, 2.0, "going"), (2.2, 2.6, "on"), (2.6, 3.0, "please"))
    said = sentences_of([words], voiced=[(1.0, 2.0), (2.2, 3.0)])
    assert spans(said) == [(1.0, 3.0, "keep going on please")]


def test_punctuation_within_reach_of_a_heard_restart_is_trusted_over_the_nearest_word():
    # "During" is stamped 1.0 s before the speaker restarts at 3.1: the nearest word to the
    # restart is "the", but the full stop after "glucose." already breaks within reach.
    words = [(0.5, 0.9, "Plants"), (1.0, 1.3, "make"), (1.4, 2.0, "glucose."), (2.1, 2.5, "During"),
             (3.2, 3.4, "the"), (3.5, 3.9, "night"), (4.0, 4.2, "they"), (4.3, 4.7, "rest")]
    voiced = [(0.5, 2.0), (3.1, 4.7)]
    said = sentences_of([line(*words)], voiced)
    assert spans(said) == [(0.5, 2.0, "Plants make glucose."), (3.1, 4.7, "During the night they rest")]
    # Without the full stop only the heard pause is left, and it breaks at the nearest word.
    bare = [(s, e, w.rstrip(".")) for s, e, w in words]
    assert spans(sentences_of([line(*bare)], voiced)) == [(0.5, 2.0, "Plants make glucose During"),
                                                         (3.1, 4.7, "the night they rest")]


def test_snapping_moves_a_zero_stamped_start_and_a_late_end_to_the_heard_edges():
    said = sentences_of([line((0.0, 0.9, "Good"), (0.9, 1.3, "evening"), (1.3, 2.9, "everyone."))],
                        voiced=[(0.83, 2.41)])
    assert spans(said) == [(0.83, 2.41, "Good evening everyone.")]


def test_edges_with_no_heard_edge_within_reach_stay_where_whisper_put_them():
    said = sentences_of([line((5.0, 5.5, "far"), (5.5, 6.0, "away."))], voiced=[(0.5, 1.0)])
    assert spans(said) == [(5.0, 6.0, "far away.")]


def test_snapped_sentences_stay_in_order_and_never_overlap():
    # One voiced stretch covers both sentences: snapping the first end to it would run into the second.
    said = sentences_of([line((0.0, 0.7, "Yes."), (0.75, 1.0, "Go."))], voiced=[(0.2, 0.9)])
    assert spans(said) == [(0.2, 0.7, "Yes."), (0.75, 0.9, "Go.")]
    # Two sentences nearest the same heard start: the second keeps a start after the first.
    crowded = sentences_of([line((1.0, 1.02, "Yes."), (1.02, 2.0, "Go."))], voiced=[(1.0, 2.0)])
    assert spans(crowded) == [(1.0, 1.02, "Yes."), (1.1, 2.0, "Go.")]


def test_a_line_without_words_is_one_sentence_and_separates_the_runs_around_it():
    lines = [line((3.1, 3.5, "three"), (3.5, 4.0, "four")),  # out of order: sorted by start
             Line(1.2, 3.0, "  no stamps here ", []),
             line((0.0, 0.5, "one"), (0.5, 1.0, "two")),
             Line(4.0, 4.5, "   ", [])]
    assert spans(sentences_of(lines)) == [(0.0, 1.0, "one two"), (1.2, 3.0, "no stamps here"),
                                          (3.1, 4.0, "three four")]


def test_pauses_between_a_sentences_words_are_recorded():
    (said,) = sentences_of([line((0.0, 0.5, "slowly"), (0.75, 1.0, "and"), (1.5, 2.0, "surely"),
                                 (2.0, 2.25, "we"), (2.25, 2.5, "went"))])
    assert said == Sentence(0.0, 2.5, "slowly and surely we went",
                            ((0.625, 0.25), (1.25, 0.5), (2.0, 0.0), (2.25, 0.0)))


def test_generated_speech_gives_sentences_that_start_where_the_voice_starts(asr, tmp_path):
    spec = Spec("talk.mp4", [("color=c=navy", 10)],
                [(1.0, "The weather is cold today."), (6.0, "Bring a warm coat and an umbrella.")])
    transcript = asr.transcribe(decode_file(str(make_video(spec, tmp_path)), DecodeOptions()).audio)
    said = sentences_of(transcript.lines, transcript.voiced)
    assert [s.text.lower().split()[:3] for s in said] == [["the", "weather", "is"], ["bring", "a", "warm"]]
    # espeak-ng starts each line a few hundredths of a second after it is placed
    assert [s.start for s in said] == [pytest.approx(1.0, abs=0.1), pytest.approx(6.0, abs=0.1)]
    assert said[0].end < said[1].start
