"""The metrics against numbers computed by hand, edge cases included.

Every expected value is worked out in a comment next to it, so a change in a definition shows
up as a failing number, not as a silently different score.
"""
from __future__ import annotations

import pytest

from search.quality.metrics import QueryOutcome, best_iou, by_kind, iou, summarize


@pytest.mark.parametrize("a, b, expected", [
    ((0, 10), (5, 15), 5 / 15),     # overlap 5, covered 15
    ((0, 5), (5, 10), 0.0),         # touching: no shared time
    ((0, 1), (10, 20), 0.0),        # disjoint
    ((2, 4), (0, 10), 2 / 10),      # nested: inner / outer
    ((3, 7), (3, 7), 1.0),          # identical
    ((5, 5), (5, 5), 1.0),          # the same instant
    ((5, 5), (6, 6), 0.0),          # two different instants: union 0
    ((5, 5), (0, 10), 0.0),         # an instant inside a span covers none of it
    ((13, 20), (10, 20), 0.7),      # 7 / 10, exactly the 0.7 threshold
])
def test_iou(a, b, expected):
    assert iou(a, b) == pytest.approx(expected)
    assert iou(b, a) == pytest.approx(expected)


def test_iou_refuses_a_reversed_span():
    with pytest.raises(ValueError, match="ends before it starts"):
        iou((5, 4), (0, 10))


def test_best_iou_takes_the_closest_truth_and_is_zero_without_truths():
    assert best_iou((22, 30), ((0, 10), (20, 30))) == pytest.approx(8 / 10)
    assert best_iou((22, 30), ()) == 0.0


def _outcomes() -> list[QueryOutcome]:
    return [
        # o1: right video first, exact span. Its second moment (wrong video) does not matter.
        QueryOutcome(1, [(True, 10, 20), (False, 0, 5)], ((10, 20),), "exact"),
        # o2: right video at rank 3. Top-1 is another video; rank 3 (12, 22) vs (10, 20) = 8/12;
        # the perfect moment at rank 6 is outside the top 5.
        QueryOutcome(3, [(False, 0, 5), (False, 5, 10), (True, 12, 22), (True, 40, 50),
                         (False, 60, 70), (True, 10, 20)], ((10, 20),), "exact"),
        # o3: top-1 (11.5, 25) vs (10, 20) = 8.5/15 = 0.567, starts 1.5 s late;
        # rank 2 (30, 39) vs (30, 40) = 0.9.
        QueryOutcome(1, [(True, 11.5, 25), (True, 30, 39)], ((10, 20), (30, 40)), "paraphrase"),
        # o4: right video not returned (rank 11 for MdR/MnR). Its moment has the true times
        # but is in another video: it scores nothing.
        QueryOutcome(None, [(False, 5, 8)], ((5, 8),)),
        # o5: text -> video only (no truths): counts for R@ and ranks, not for moment metrics.
        QueryOutcome(7, [(False, 0, 3)]),
        # o6: (30, 35) vs (29, 36) = 5/7 = 0.714; nearest truth start 29, 1 s away.
        QueryOutcome(1, [(True, 30, 35)], ((0, 4), (29, 36))),
        # o7: (13, 20) vs (10, 20) = 0.7 exactly (thresholds are >=); starts 3 s late.
        QueryOutcome(1, [(True, 13, 20)], ((10, 20),)),
        # o8: text -> video only, right video at rank 4.
        QueryOutcome(4, [(False, 0, 1)]),
    ]


def test_summarize_matches_hand_computed_numbers():
    got = summarize(_outcomes(), searched_k=10)
    # ranks: o1..o8 = 1, 3, 1, 11, 7, 1, 1, 4 -> sorted 1 1 1 1 3 4 7 11
    # moment outcomes: o1 o2 o3 o4 o6 o7 (6)
    assert got == {
        "queries": 8,
        "R@1": pytest.approx(4 / 8),          # o1 o3 o6 o7
        "R@5": pytest.approx(6 / 8),          # + o2 (3), o8 (4)
        "R@10": pytest.approx(7 / 8),         # + o5 (7); o4 was not returned
        "MdR": pytest.approx(2.0),            # (1 + 3) / 2, the two middle ranks
        "MnR": pytest.approx(29 / 8),         # (1+3+1+11+7+1+1+4) / 8
        "hit@1": pytest.approx(4 / 6),        # o1, o3 (8.5 of 13.5 s inside), o6, o7; o2 top-1 elsewhere
        "hit@5": pytest.approx(5 / 6),        # + o2 (8 of its 10 s inside at rank 3)
        "mR@1 IoU0.3": pytest.approx(4 / 6),  # o1 1.0, o3 0.567, o6 0.714, o7 0.7
        "mR@1 IoU0.5": pytest.approx(4 / 6),
        "mR@1 IoU0.7": pytest.approx(3 / 6),  # o1 o6 o7
        "mR@5 IoU0.3": pytest.approx(5 / 6),  # + o2 (0.667 at rank 3)
        "mR@5 IoU0.5": pytest.approx(5 / 6),
        "mR@5 IoU0.7": pytest.approx(4 / 6),  # o1, o3 (0.9 at rank 2), o6, o7
        "mIoU": pytest.approx((1.0 + 0 + 8.5 / 15 + 0 + 5 / 7 + 0.7) / 6),
        "start<=2s": pytest.approx(3 / 6),    # o1 (0 s), o3 (1.5 s), o6 (1 s)
        "hit start<=2s": pytest.approx(3 / 4),  # of the hits o1 o3 o6 o7, all but o7 (3 s late)
    }
    assert list(got) == ["queries", "R@1", "R@5", "R@10", "MdR", "MnR", "hit@1", "hit@5",
                         "mR@1 IoU0.3", "mR@1 IoU0.5", "mR@1 IoU0.7",
                         "mR@5 IoU0.3", "mR@5 IoU0.5", "mR@5 IoU0.7", "mIoU", "start<=2s", "hit start<=2s"]


def test_a_missing_video_counts_as_one_past_the_searched_depth():
    # ranks 2 and (not returned, k=5) 6: median (2 + 6) / 2, mean the same.
    got = summarize([QueryOutcome(2, []), QueryOutcome(None, [])], searched_k=5)
    assert got["MdR"] == pytest.approx(4.0)
    assert got["MnR"] == pytest.approx(4.0)
    assert got["R@1"] == 0.0 and got["R@5"] == pytest.approx(0.5)


def test_a_moment_is_about_the_truth_when_half_of_it_lies_inside():
    truth = ((10, 30),)
    assert summarize([QueryOutcome(1, [(True, 25, 35)], truth)], 10)["hit@1"] == 1.0  # 5 of 10 s
    assert summarize([QueryOutcome(1, [(True, 26, 36)], truth)], 10)["hit@1"] == 0.0  # 4 of 10 s
    assert summarize([QueryOutcome(1, [(True, 30, 35)], truth)], 10)["hit@1"] == 0.0  # touching
    assert summarize([QueryOutcome(1, [(True, 12, 12)], truth)], 10)["hit@1"] == 1.0  # an instant inside


def test_start_within_exactly_two_seconds_counts():
    got = summarize([QueryOutcome(1, [(True, 12, 20)], ((10, 20),))], searched_k=10)
    assert got["start<=2s"] == 1.0
    assert got["mIoU"] == pytest.approx(8 / 10)


def test_a_query_with_truths_but_no_moments_scores_zero():
    got = summarize([QueryOutcome(None, [], ((1, 2),))], searched_k=10)
    assert got["mIoU"] == 0.0 and got["start<=2s"] == 0.0 and got["mR@5 IoU0.3"] == 0.0


def test_text_to_video_sets_get_no_moment_keys():
    got = summarize([QueryOutcome(1, [(True, 0, 5)]), QueryOutcome(2, [])], searched_k=10)
    assert set(got) == {"queries", "R@1", "R@5", "R@10", "MdR", "MnR"}
    assert got["MdR"] == pytest.approx(1.5) and got["MnR"] == pytest.approx(1.5)


def test_no_outcomes():
    assert summarize([], searched_k=10) == {"queries": 0}


@pytest.mark.parametrize("rank, k", [(0, 10), (11, 10), (1, 0)])
def test_impossible_ranks_are_refused(rank, k):
    with pytest.raises(ValueError):
        summarize([QueryOutcome(rank, [])], searched_k=k)


def test_by_kind_reports_all_first_then_each_kind_sorted():
    outcomes = _outcomes()
    got = by_kind(outcomes, searched_k=10)
    assert list(got) == ["all", "exact", "paraphrase"]
    assert got["all"] == summarize(outcomes, 10)
    # exact: o1 (rank 1), o2 (rank 3); paraphrase: o3 only
    assert got["exact"]["queries"] == 2 and got["exact"]["R@1"] == pytest.approx(0.5)
    assert got["exact"]["MnR"] == pytest.approx(2.0)
    assert got["paraphrase"]["queries"] == 1
    assert got["paraphrase"]["mR@5 IoU0.7"] == 1.0 and got["paraphrase"]["mR@1 IoU0.7"] == 0.0


def test_by_kind_refuses_a_kind_named_all():
    with pytest.raises(ValueError, match="reserved"):
        by_kind([QueryOutcome(1, [], kind="all")], searched_k=10)
