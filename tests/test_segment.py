import pytest

from indexer.segment import make_spans


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
