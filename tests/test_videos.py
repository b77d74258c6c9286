"""Query sets' video references matched to catalog paths: rules, ambiguity, large archives."""
import pytest

from search.quality.videos import AMBIGUOUS, VideoMatch, VideoMatcher


CATALOG = {
    1: "/archive/lectures/a.mp4",
    2: "/archive/mylectures/a.mp4",
    3: "/msrvtt/video7020.mp4",
    4: "/anet/QOlSCBRmfWY.mkv",
    5: "/anet/v_uqiMw7tQ1Cc.mp4",
    6: "/anet/uqiMw7tQ1Cc.mp4",
    7: "/x/clip.mp4",
    8: "/y/clip.mkv",
    9: "/n/talk.mp4",
    10: "/n/talk.mp4.mkv",
    11: "/b1/talks/x.mp4",
    12: "/b2/talks/x.mp4",
}


@pytest.mark.parametrize("ref, ids, rule", [
    ("/archive/lectures/a.mp4", (1,), "path"),
    ("/archive//lectures/./a.mp4/", (1,), "path"),  # the same path, written loosely
    ("lectures/a.mp4", (1,), "suffix"),             # whole components: not mylectures/a.mp4
    ("archive/lectures/a.mp4", (1,), "suffix"),
    ("b1/talks/x.mp4", (11,), "suffix"),
    ("talks/x.mp4", (11, 12), "suffix"),            # ambiguous
    ("a.mp4", (1, 2), "name"),                      # ambiguous
    ("clip.mp4", (7,), "name"),
    ("talk.mp4", (9,), "name"),                     # name beats the stem of talk.mp4.mkv
    ("video7020", (3,), "stem"),
    ("clip", (7, 8), "stem"),                       # ambiguous
    ("v_QOlSCBRmfWY", (4,), "activitynet"),
    ("v_uqiMw7tQ1Cc", (5,), "stem"),                # a file named with the v_ beats the bare id
    ("ectures/a.mp4", (), None),                    # part of a component is not a suffix
    ("/old/lectures/a.mp4", (), None),              # an absolute path never falls back to a name
    ("old/a.mp4", (), None),
    ("nothing.mp4", (), None),
    ("v_nothing", (), None),
    ("Video7020", (), None),                        # case-sensitive
    ("", (), None),
])
def test_video_matcher_rules(ref, ids, rule):
    assert VideoMatcher(CATALOG).lookup(ref) == VideoMatch(ids, rule)


def test_match_returns_the_id_none_or_ambiguous():
    matcher = VideoMatcher(CATALOG)
    assert matcher.match("lectures/a.mp4") == 1
    assert matcher.match("a.mp4") == AMBIGUOUS == "ambiguous"
    assert matcher.match("nothing.mp4") is None
    assert VideoMatcher({0: "/d/first.mp4"}).match("first") == 0


def test_matching_in_a_large_archive():
    # 100,000 videos sharing two folder names; 2,000 suffix and stem lookups, each exact.
    videos = {i: f"/archive/{'a' if i % 2 else 'b'}/video{i}.mp4" for i in range(100_000)}
    matcher = VideoMatcher(videos)
    for i in range(0, 100_000, 100):
        assert matcher.match(f"{'a' if i % 2 else 'b'}/video{i}.mp4") == i
        assert matcher.match(f"video{i}") == i
