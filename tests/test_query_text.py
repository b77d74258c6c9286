"""One normal form of query text: what the CLI encodes is what the server encodes and caches."""
import pytest

from core.errors import InvalidInput
from search.query_text import normal_form, query_text


def test_whitespace_runs_are_one_space_and_an_empty_query_is_refused():
    assert query_text("  storm \t at\nsea  ") == "storm at sea" == normal_form("storm at sea")
    for empty in ("", "   ", "\n\t"):
        with pytest.raises(InvalidInput, match="empty"):
            query_text(empty)


def test_the_library_and_the_server_see_the_same_query(tmp_path, encoders):
    from api.query import QueryEncoder
    from core.library import Library
    from search.service import Searcher
    from core.settings import Settings

    searcher = Searcher(Library(Settings(data_dir=tmp_path / "data")), encoders)
    server = QueryEncoder(encoders, searcher.clip_for)
    asked = "  storm \t at\nsea "
    (vectors, _), = server._encode_batch([(query_text(asked), "speech")])
    assert (vectors["speech"] == searcher.text_vectors(asked, "speech")["speech"]).all()
