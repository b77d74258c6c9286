"""Kept answers: one per search, dropped when the index changes, never kept from before a change."""
from api.answers import AnswerCache


def test_a_search_is_answered_again_until_the_index_changes():
    cache = AnswerCache(8)
    key = cache.key("  rain   on the coast ", "hybrid", 10, "filters", False, 0)
    assert key == cache.key("rain on the coast", "hybrid", 10, "filters", False, 0)  # spacing aside
    assert key != cache.key("rain on the coast", "hybrid", 10, "filters", False, 10)  # another page
    cache.put(key, b"[1]")
    assert cache.get(key) == b"[1]"
    cache.invalidate()
    assert cache.get(key) is None
    assert cache.get(cache.key("rain on the coast", "hybrid", 10, "filters", False, 0)) is None


def test_an_answer_computed_before_a_change_is_not_kept():
    cache = AnswerCache(8)
    key = cache.key("q", "speech", 5)
    cache.invalidate()  # the index changed while that search was running
    cache.put(key, b"stale")
    assert cache.get(key) is None and cache.get(cache.key("q", "speech", 5)) is None


def test_size_zero_keeps_nothing():
    cache = AnswerCache(0)
    cache.put(cache.key("q", "speech", 5), b"x")
    assert cache.get(cache.key("q", "speech", 5)) is None
