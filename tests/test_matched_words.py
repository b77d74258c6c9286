"""What the page highlights is what keyword search ranked by: one list of query words for both."""
from search import keyword, matched_words
from core.library import Library, NewSegment, NewVideo
from search.matched_words import found_in, query_words
from search.service import Searcher
from core.settings import Settings
from tests.test_library import DIM, unit

LINES = ["New AI rules for research labs in the UK were agreed today.",
         "明天的天气预报说北京有大雨。",
         "Storm forecasts warn the coast of heavy rain tonight.",
         "The bakery opens at dawn with fresh bread."]


def test_highlighting_uses_the_words_keyword_search_ranks_by():
    assert matched_words.query_words is keyword.query_words
    assert query_words("The AI of the UK: forecasts, 天气预报!") == ["ai", "uk", "forecasts", "天气", "气预", "预报"]


def test_each_keyword_answer_highlights_the_query_words_it_holds(tmp_path):
    library = Library(Settings(data_dir=tmp_path / "data"))
    segments = [NewSegment(start=i * 5.0, end=i * 5.0 + 5.0, transcript=line, vectors={"speech": unit(i)})
                for i, line in enumerate(LINES)]
    library.write_video(NewVideo(path="/news.mp4", size=1, mtime=1.0, duration=20.0, segments=segments,
                                 models={"speech": ("s1", DIM)}))
    searcher = Searcher(library, encoders=None)
    cases = {"AI research in the UK": ["ai", "research", "uk"],  # two-letter words: themselves only
             "北京天气": ["北京", "天气"],  # pairs of a script without spaces, wherever they stand
             "storms and forecast": ["storms", "forecast"]}  # stems: storm(s), forecast(s)
    for query, expected in cases.items():
        top = searcher.search_text(query, "keyword", 1)[0]
        assert found_in(query_words(query), top.transcript) == expected, query
    assert found_in(query_words("aim"), LINES[0]) == []  # "ai" is not the stem of "aim", nor "aim" of "ai"
