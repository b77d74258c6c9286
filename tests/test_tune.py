"""Tuning learns from labelled queries: weights move towards the list that is right, the held-out
part does not get worse, and a saved profile is what later searches use."""
import json

import numpy as np
import pytest

from core.library import Library, NewSegment, NewVideo
from search.profile import active_profile, default_ranking, ranking_for, reset_profile, save_profile
from search.quality.evaluate import evaluate
from search.quality.querysets import load_queries
from search.quality.tune import split, tune
from search.service import Searcher
from core.settings import Settings
from core.vectors import normalize

# Rare names, each said in one segment only; everything else is filler every segment shares.
NAMES = ["Aldebaran", "Brouwer", "Callisto", "Dirichlet", "Euclid", "Fibonacci", "Galois", "Hilbert",
         "Io", "Jacobi", "Kepler", "Lagrange", "Mercator", "Noether", "Oberon", "Poincare", "Riemann",
         "Sagittarius", "Titania", "Umbriel", "Vesta", "Weierstrass", "Xenon", "Yukawa"]


@pytest.fixture
def exact_term_library(tmp_path, encoders):
    """24 videos; the speech vectors are noise, so only keyword evidence finds the right one."""
    settings = Settings(data_dir=tmp_path / "d")
    lib = Library(settings)
    rng, dim = np.random.default_rng(7), encoders.sentence.dim
    for n, name in enumerate(NAMES):
        segments = [NewSegment(start=5.0 * i, end=5.0 * i + 5, transcript=text,
                               vectors={"speech": normalize(rng.normal(size=dim))[0]})
                    for i, text in enumerate([f"today we talk about {name} and its history",
                                              "some general remarks about the lecture"])]
        lib.write_video(NewVideo(path=f"/lectures/{name.lower()}.mp4", size=1, mtime=1.0, duration=10.0,
                                 segments=segments, models={"speech": (encoders.sentence.model_id, dim)}))
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"query": f"the part on {name}", "video": f"{name.lower()}.mp4",
                                           "start": 0.0, "end": 5.0, "kind": "exact"}) + "\n"
                               for name in NAMES))
    return settings, lib, queries


def test_tuning_moves_weight_to_the_list_that_is_right(exact_term_library, encoders):
    settings, lib, queries = exact_term_library
    # Start from a ranking that trusts the (useless) speech list far more than keywords.
    settings = Settings(data_dir=settings.data_dir, hybrid_weights={"speech": 4.0, "keyword": 0.25})
    searcher = Searcher(Library(settings), encoders)
    result = tune(searcher, load_queries(queries), held_out=0.25, seed=1, progress=False)
    learned = result.after.weights
    assert learned["keyword"] / max(learned["speech"], 1e-9) > 4.0 / 0.25
    assert result.held_out[1]["R@1"] >= result.held_out[0]["R@1"]
    assert result.held_out[1]["R@1"] == 1.0 and result.train[1]["R@1"] == 1.0
    assert result.improved and result.train_queries == 18 and result.held_out_queries == 6


def test_a_saved_profile_is_used_by_later_searches_unless_a_setting_says_otherwise(exact_term_library,
                                                                                   encoders, monkeypatch):
    settings, lib, queries = exact_term_library
    before = evaluate(Searcher(lib, encoders), load_queries(queries), ["hybrid"], progress=False)
    learned = ranking_for(settings).replace(weights={"speech": 0.0, "keyword": 1.0}, merge_close=0.95)
    save_profile(settings, "exact", learned, {"note": "test"})
    assert active_profile(settings)[0] == "exact"
    searcher = Searcher(Library(settings), encoders)
    assert searcher.ranking == learned
    after = evaluate(searcher, load_queries(queries), ["hybrid"], progress=False)
    assert after.table()["hybrid"]["all"]["R@1"] == 1.0 > before.table()["hybrid"]["all"]["R@1"]
    # An explicit VIDSEARCH_* choice beats the learned one; the rest still comes from the profile.
    monkeypatch.setenv("VIDSEARCH_HYBRID_WEIGHTS", '{"speech": 2.0, "keyword": 0.5}')
    explicit = ranking_for(Settings(data_dir=settings.data_dir))
    assert explicit.weights == {"speech": 2.0, "keyword": 0.5} and explicit.merge_close == 0.95
    assert reset_profile(settings) and ranking_for(settings) == default_ranking(settings)
    assert not reset_profile(settings)


def test_profile_names_are_checked(tmp_path):
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ValueError, match="profile name"):
        save_profile(settings, "../escape", ranking_for(settings), {})


def test_the_split_is_seeded_and_disjoint():
    items = list(range(20))
    train, test = split(items, 0.3, seed=3)
    assert len(test) == 6 and sorted(train + test) == items
    assert split(items, 0.3, seed=3) == (train, test) and split(items, 0.3, seed=4) != (train, test)


def test_too_few_queries_to_tune_is_a_clear_error(exact_term_library, encoders, tmp_path):
    settings, lib, _ = exact_term_library
    few = tmp_path / "few.jsonl"
    few.write_text(json.dumps({"query": "Io", "video": "io.mp4"}) + "\n" +
                   json.dumps({"query": "x", "video": "not-indexed.mp4"}) + "\n")
    with pytest.raises(ValueError, match="only 1 queries name an indexed video .1 not indexed"):
        tune(Searcher(lib, encoders), load_queries(few), progress=False)
