from search.rank import Moment, merge_adjacent, rrf


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


def test_a_hit_bridging_two_moments_folds_them_together():
    hits = [m(1, 1, 0, 5, 0.9), m(1, 3, 10, 15, 0.8), m(1, 2, 5, 10, 0.7)]
    out = merge_adjacent(hits, limit=5)
    assert len(out) == 1 and (out[0].start, out[0].end) == (0, 15)
    assert sorted(out[0].segment_ids) == [1, 2, 3]


def test_hits_below_the_last_moment_do_not_merge():
    hits = [m(1, 1, 0, 5, 0.9), m(2, 2, 0, 5, 0.8), m(1, 3, 5, 10, 0.1)]
    out = merge_adjacent(hits, limit=2)
    assert [(x.video_id, x.end) for x in out] == [(1, 5), (2, 5)]


def test_a_tying_neighbour_still_joins_a_full_list():
    hits = [m(1, 2, 10, 20, 0.8, "spring."), m(1, 1, 0, 10, 0.8, "The museum will open"),
            m(2, 5, 0, 5, 0.7)]
    (only,) = merge_adjacent(hits, limit=1)
    assert (only.start, only.end, only.transcript) == (0, 20, "The museum will open spring.")
