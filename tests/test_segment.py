import numpy as np
import pytest

from indexer.segment import SEGMENTATION_VERSION, make_segments, make_spans, signature, topic_change
from indexer.sentences import Sentence


def _check_tiling(spans, duration):
    assert spans[0][0] == 0.0 and spans[-1][1] == pytest.approx(duration)
    for (a, b), (c, _) in zip(spans, spans[1:]):
        assert b == pytest.approx(c) and b > a


def test_no_cuts_gives_fixed_windows_within_bounds():
    spans = make_spans(35.0, [], 2.0, 10.0)
    assert len(spans) == 4
    assert all(b - a == pytest.approx(8.75) for a, b in spans)
    _check_tiling(spans, 35.0)


def test_cuts_become_boundaries():
    spans = make_spans(14.0, [5.0, 10.0], 2.0, 10.0)
    assert spans == [(0.0, 5.0), (5.0, 10.0), (10.0, 14.0)]


def test_short_shots_merge_and_long_shots_split():
    spans = make_spans(30.0, [0.5, 1.0, 25.0, 29.5], 2.0, 10.0)
    _check_tiling(spans, 30.0)
    assert all(2.0 - 1e-9 <= b - a <= 10.0 + 1e-9 for a, b in spans)
    assert any(b == pytest.approx(25.0) for _, b in spans)  # the real cut survives


def test_file_shorter_than_min_is_one_moment():
    assert make_spans(0.8, [], 2.0, 10.0) == [(0.0, 0.8)]
    assert make_spans(0.0, [], 2.0, 10.0) == []


def test_cuts_outside_the_file_are_ignored():
    assert make_spans(6.0, [-1.0, 0.0, 6.0, 9.0], 2.0, 10.0) == [(0.0, 6.0)]


def test_bad_bounds_fail():
    with pytest.raises(ValueError):
        make_spans(10.0, [], 5.0, 2.0)


# Four sentences with pauses of 1.0, 1.5 and 0.6 s between them, in a 21 s file.
TALK = [Sentence(0.8, 4.0, "a"), Sentence(5.0, 9.0, "b"), Sentence(10.5, 14.0, "c"), Sentence(14.6, 19.5, "d")]


def _inside_a_sentence(spans, said):
    return [b for _, b in spans[:-1] if any(s.start < b < s.end for s in said)]


def test_borders_fall_just_before_sentence_starts_in_the_pause():
    spans = make_spans(21.0, [], 2.0, 10.0, TALK)
    # a quarter second before each sentence (or half a shorter pause), so a segment starts with its words
    assert spans == [(0.0, 4.75), (4.75, 10.25), (10.25, 14.35), (14.35, 21.0)]
    assert _inside_a_sentence(spans, TALK) == []


def test_a_shot_cut_inside_a_sentence_is_ignored():
    assert make_spans(21.0, [7.0], 2.0, 10.0, TALK) == make_spans(21.0, [], 2.0, 10.0, TALK)
    assert make_spans(21.0, [15.0, 18.0], 2.0, 10.0, TALK) == make_spans(21.0, [], 2.0, 10.0, TALK)


def test_a_shot_cut_in_a_pause_replaces_the_following_sentences_border():
    with_cut = make_segments(21.0, [4.5], 2.0, 10.0, TALK)
    assert with_cut == [(0.0, 4.5, 1.0), (4.5, 10.25, 1.2), (10.25, 14.35, 0.675),
                        (14.35, 21.0, pytest.approx(0.54))]
    assert make_spans(21.0, [10.0], 2.0, 10.0, TALK) == [(0.0, 4.75), (4.75, 10.0), (10.0, 14.35), (14.35, 21.0)]


def test_a_sentence_longer_than_max_len_is_split_at_its_longest_word_pause():
    monologue = Sentence(0.5, 14.5, "x", pauses=((5.0, 0.1), (6.5, 0.8), (8.0, 0.1)))
    # 8.0 would split it nearer the middle; the speaker breathes at 6.5
    assert make_spans(16.0, [], 2.0, 10.0, [monologue]) == [(0.0, 6.5), (6.5, 16.0)]
    assert make_spans(16.0, [], 2.0, 20.0, [monologue]) == [(0.0, 16.0)]  # short enough: whole


def test_min_len_keeps_a_very_short_sentence_with_a_neighbour():
    said = [Sentence(0.3, 4.0, "a"), Sentence(5.0, 5.6, "Yes."), Sentence(6.5, 11.0, "c")]
    assert make_spans(12.0, [], 2.0, 10.0, said) == [(0.0, 4.75), (4.75, 12.0)]
    assert make_spans(12.0, [], 1.0, 10.0, said) == [(0.0, 4.75), (4.75, 6.25), (6.25, 12.0)]


def test_borders_are_strong_at_shots_middling_at_sentences_and_zero_inside_windows():
    assert make_segments(14.0, [5.0, 10.0]) == [(0.0, 5.0, 1.0), (5.0, 10.0, 1.0), (10.0, 14.0, 1.0)]
    strengths = [s for _, _, s in make_segments(21.0, [], 2.0, 10.0, TALK)]
    assert strengths == [1.0, 0.6, 0.675, pytest.approx(0.54)]  # grow with the pause before
    assert all(0.45 <= s <= 0.8 for s in strengths[1:])
    # a long silence after the last sentence: a strong border after it, then equal windows
    assert make_segments(40.0, [], 2.0, 10.0, [Sentence(0.0, 4.0, "a")]) == [
        (0.0, 4.25, 1.0), (4.25, 13.1875, 1.0), (13.1875, 22.125, 0.0), (22.125, 31.0625, 0.0),
        (31.0625, 40.0, 0.0)]
    assert make_segments(35.0, []) == [(0.0, 8.75, 1.0), (8.75, 17.5, 0.0), (17.5, 26.25, 0.0), (26.25, 35.0, 0.0)]


def test_topic_change_weighs_sentence_borders():
    said = [Sentence(0.8, 4.0, "a"), Sentence(5.0, 9.0, "b")]
    assert make_segments(10.0, [], 2.0, 10.0, said) == [(0.0, 4.75, 1.0), (4.75, 10.0, 0.6)]
    assert make_segments(10.0, [], 2.0, 10.0, said, [1.0]) == [(0.0, 4.75, 1.0), (4.75, 10.0, pytest.approx(0.9))]
    assert make_segments(10.0, [], 2.0, 10.0, said, [-1.0]) == [(0.0, 10.0, 1.0)]  # one thought goes on


def test_topic_change_is_negative_for_similar_neighbours_and_positive_for_dissimilar():
    near = [1.0, 0.0], [0.45, float(np.sqrt(1 - 0.45 ** 2))]  # cosine 0.45
    far = [1.0, 0.0], [0.15, float(np.sqrt(1 - 0.15 ** 2))]  # cosine 0.15
    assert topic_change(near, 0.3) == [pytest.approx(-0.5, abs=1e-6)]
    assert topic_change(far, 0.3) == [pytest.approx(0.5, abs=1e-6)]
    assert topic_change(near, 0.6) == [pytest.approx(0.25, abs=1e-6)]  # a model whose neighbours lie closer
    assert topic_change([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], 0.3) == [-1.0, 1.0, 1.0]  # clipped
    assert topic_change([[1.0, 0.0]], 0.3) == []


def test_signature_changes_with_every_setting_that_decides_the_cut():
    assert signature(2.0, 10.0, 30.0) == f"v{SEGMENTATION_VERSION} len 2-10 shot 30"
    changed = {signature(2.0, 10.0, 30.0), signature(1.5, 10.0, 30.0), signature(2.0, 8.0, 30.0),
               signature(2.0, 10.0, 25.0)}
    assert len(changed) == 4
