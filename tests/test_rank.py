import pytest

from search.rank import Moment, keyword_evidence, merge_adjacent, rrf, score_fusion


def m(video, seg, start, end, score, text=""):
    return Moment(f"/v{video}.mp4", video, seg, start, end, score, text)


def test_rrf_rewards_agreement_and_respects_weights():
    fused = rrf({"a": [1, 2, 3], "b": [2, 1, 4]}, {"a": 1.0, "b": 1.0}, k=60)
    assert [i for i, _ in fused][:2] in ([1, 2], [2, 1])
    assert {i for i, _ in fused} == {1, 2, 3, 4}
    weighted = rrf({"a": [1, 2], "b": [2, 1]}, {"a": 1.0, "b": 3.0}, k=60)
    assert weighted[0][0] == 2
    assert rrf({"a": [5]}, {"a": 0.0})[0] == (5, 0.0)


def test_adjacent_hits_of_one_video_merge_keeping_best_segment():
    hits = [m(1, 11, 5, 10, 0.9, "middle"), m(1, 10, 0, 5, 0.8, "first"), m(2, 20, 5, 10, 0.7),
            m(1, 13, 20, 25, 0.6)]
    out = merge_adjacent(hits, limit=10)
    assert [(x.video_id, x.start, x.end) for x in out] == [(1, 0, 10), (2, 5, 10), (1, 20, 25)]
    assert out[0].segment_id == 11 and out[0].score == 0.9
    assert out[0].transcript == "first middle"
    assert sorted(out[0].segment_ids) == [10, 11]


def test_a_hit_between_two_moments_joins_the_better_and_moments_never_fold():
    # Folding two shown moments into one would change earlier pages: it is not done.
    hits = [m(1, 1, 0, 5, 0.9), m(1, 3, 10, 15, 0.8), m(1, 2, 5, 10, 0.75)]
    out = merge_adjacent(hits, limit=5)
    assert [(x.start, x.end, sorted(x.segment_ids)) for x in out] == [(0, 10, [1, 2]), (10, 15, [3])]


def test_moments_stay_within_their_bound_and_close_scores():
    hits = [m(1, i, 5 * i, 5 * i + 5, 1.0 - 0.01 * abs(i - 5)) for i in range(12)]
    hits.sort(key=lambda x: -x.score)
    out = merge_adjacent(hits, limit=3, max_len=20.0, close=0.8, spread=0.25)  # joins within 0.05
    # 5 (best) takes 4, 6 and 3 up to 20 s; 7 and 2 start moments of their own and grow outwards
    assert [(x.start, x.end) for x in out] == [(15, 35), (35, 55), (0, 15)]
    assert all(x.end - x.start <= 20.0 for x in out)


def test_rrf_scales_keyword_hits_by_their_evidence():
    plain = rrf({"speech": [1, 2], "keyword": [2]}, {"speech": 1.0, "keyword": 1.0}, k=60)
    assert plain[0][0] == 2  # a keyword hit that counts fully lifts the second speech hit
    weak = rrf({"speech": [1, 2], "keyword": [2]}, {"speech": 1.0, "keyword": 1.0}, k=60, evidence={2: 0.01})
    assert weak[0][0] == 1  # one everyday word of the query: next to nothing


def test_score_fusion_standardises_vector_lists_and_adds_keyword_coverage():
    speech = [(1, 0.62), (2, 0.45), (3, 0.30), (4, 0.28)]
    # A keyword hit covering a fifth of the query does not outvote a clear speech winner ...
    fused = score_fusion({"speech": speech, "keyword": [(2, 0.2)]}, {"speech": 1.0, "keyword": 1.0})
    assert [i for i, _ in fused][:2] == [1, 2]
    # ... one holding the whole query (a rare term typed exactly) does.
    fused = score_fusion({"speech": speech, "keyword": [(2, 1.0)]}, {"speech": 1.0, "keyword": 2.0})
    assert fused[0][0] == 2
    # An item one list did not return gets that list's lowest value, not zero.
    fused = dict(score_fusion({"speech": speech, "keyword": [(9, 0.5)]}, {"speech": 1.0, "keyword": 1.0}))
    assert fused[9] == pytest.approx(fused[4] + keyword_evidence(0.5))


def test_keyword_evidence_ignores_incidental_words_and_grows_with_coverage():
    assert keyword_evidence(0.0) == keyword_evidence(0.2) == 0.0  # one everyday word
    assert keyword_evidence(1.0) == 1.0
    assert 0 < keyword_evidence(0.4) < keyword_evidence(0.6) < keyword_evidence(0.8) < 1.0
    assert keyword_evidence(0.6) == pytest.approx(0.25)


def test_hits_below_the_last_moment_do_not_merge():
    hits = [m(1, 1, 0, 5, 0.9), m(2, 2, 0, 5, 0.8), m(1, 3, 5, 10, 0.1)]
    out = merge_adjacent(hits, limit=2)
    assert [(x.video_id, x.end) for x in out] == [(1, 5), (2, 5)]


def test_a_tying_neighbour_still_joins_a_full_list():
    hits = [m(1, 2, 10, 20, 0.8, "spring."), m(1, 1, 0, 10, 0.8, "The museum will open"),
            m(2, 5, 0, 5, 0.7)]
    (only,) = merge_adjacent(hits, limit=1)
    assert (only.start, only.end, only.transcript) == (0, 20, "The museum will open spring.")
