"""Relevance labels: thresholds learned from (score, right) pairs, and labels from a moment's evidence."""
from search.relevance import calibrate, label, precision_by_label

THRESHOLDS = {"speech": (0.6, 0.4), "keyword": (0.5, 0.3)}


def test_thresholds_are_the_lowest_scores_that_keep_the_wanted_share_right():
    # Best first: 5 right (0.9-0.7), then one wrong, two right, then wrong ones.
    pairs = [(0.9, True), (0.85, True), (0.8, True), (0.75, True), (0.7, True), (0.65, False),
             (0.6, True), (0.55, True), (0.5, False), (0.45, False), (0.4, False), (0.3, False), (0.2, False)]
    strong, good = calibrate(pairs, strong_precision=0.85, good_precision=0.6, min_support=5)
    # >= 0.55: 7 of 8 right (0.875); >= 0.5: 7 of 9 (0.78), >= 0.45: 0.7, >= 0.4: 7 of 11 (0.64), then 0.58
    assert (strong, good) == (0.55, 0.4)


def test_a_band_no_threshold_reaches_is_above_every_score():
    pairs = [(0.9, False), (0.8, True), (0.7, False), (0.6, False), (0.5, False), (0.4, True)]
    strong, good = calibrate(pairs, strong_precision=0.9, good_precision=0.6, min_support=2)
    assert strong == good == 0.9001  # nothing is strong, or good, on this evidence
    assert calibrate(pairs[:3], min_support=5) is None  # too few observations to say anything


def test_ties_move_together():
    # Three moments score 0.5, one of them wrong: a threshold cannot split them.
    pairs = [(0.9, True), (0.8, True), (0.5, True), (0.5, False), (0.5, True)]
    assert calibrate(pairs, strong_precision=0.9, good_precision=0.6, min_support=2) == (0.8, 0.5)


def test_label_is_the_best_calibrated_signal():
    assert label({"speech": 0.7}, "speech", THRESHOLDS) == "strong"
    assert label({"speech": 0.45}, "hybrid", THRESHOLDS) == "good"
    assert label({"speech": 0.2, "keyword": 0.55}, "hybrid", THRESHOLDS) == "strong"  # the words carry it
    assert label({"speech": 0.2, "keyword": 0.1}, "hybrid", THRESHOLDS) == "weak"
    # BM25 (keyword mode) and CLIP cosines are not calibrated: no label rather than a guess.
    assert label({"keyword": 12.5}, "keyword", THRESHOLDS) is None
    assert label({"visual": 0.31, "fused": 0.4}, "hybrid", THRESHOLDS) is None
    assert label({"visual": 0.31, "speech": 0.41}, "hybrid", THRESHOLDS) == "good"


def test_precision_by_label_counts_each_label():
    found = precision_by_label([("strong", True), ("strong", False), ("weak", False), (None, True)])
    assert found == {"strong": (2, 0.5), "weak": (1, 0.0), "none": (1, 1.0)}
