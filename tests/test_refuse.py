"""Re-fusing the fused space with other weights from the catalog's own vectors (no decoding)."""
import numpy as np
import pytest
from sqlalchemy import delete

from indexer.pipeline import Indexer
from core.catalog import ModelVersion, SegmentVector
from core.vectors import SPOKEN
from core.errors import VidsearchError
from search.fusion import fuse
from core.library import Library, ModelMismatchError, NewSegment, NewVideo
from search.quality.evaluate import Gathered
from search.quality.querysets import LabelledQuery
from search.quality.tune import FusedParts
from search.refuse import refuse
from search.service import Searcher


@pytest.fixture
def indexed(settings, encoders, asr, corpus):
    library = Library(settings)
    Indexer(library, encoders, settings, progress=False).index([corpus])
    return library


def parts_of(library):
    """{segment id: vector} of the fused, visual and spoken parts of every fused segment."""
    ids = library.indexes["fused"].ids()
    return ({int(i): v for i, v in zip(*library.exact_vectors(space, ids))} for space in ("fused", "visual", SPOKEN))


def test_segments_keep_their_spoken_part_and_the_catalog_its_weights(indexed):
    fused, visual, spoken = parts_of(indexed)
    assert indexed.fused_weights() == (0.5, 0.5)
    assert spoken and set(spoken) <= set(fused) and "spoken" not in indexed.indexes
    for i, vector in fused.items():
        assert np.allclose(vector, fuse(visual.get(i), spoken.get(i), 0.5, 0.5), atol=1e-6)


def test_refusing_rewrites_every_fused_vector_and_the_index(indexed, settings, encoders):
    count = refuse(indexed, 0.8, 0.2)
    fused, visual, spoken = parts_of(indexed)
    assert count == len(fused) and indexed.fused_weights() == (0.8, 0.2)
    for i, vector in fused.items():
        assert np.allclose(vector, fuse(visual.get(i), spoken.get(i), 0.8, 0.2), atol=1e-6)
    reopened = Library(settings)  # the index on disk holds the new vectors
    query = next(v for i, v in fused.items() if i in spoken and i in visual)
    top = Searcher(reopened, encoders).search_vectors({"fused": query}, "fused", k=1)[0]
    assert top.segment_id == next(i for i, v in fused.items() if v is query)
    assert top.score == pytest.approx(1.0, abs=1e-5)


def test_new_files_are_fused_with_the_catalog_weights(indexed, settings, encoders, asr, corpus, tmp_path):
    import shutil

    refuse(indexed, 0.3, 0.7)
    extra = tmp_path / "more"
    extra.mkdir()
    shutil.copy(corpus / "weather.mp4", extra / "weather-again.mp4")
    report = Indexer(indexed, encoders, settings, progress=False).index([extra])
    (outcome,) = report.of("indexed")
    fused, visual, spoken = parts_of(indexed)
    new = [i for i in fused if i > max(i for i in fused) - outcome.segments]
    assert new and all(np.allclose(fused[i], fuse(visual.get(i), spoken.get(i), 0.3, 0.7), atol=1e-6) for i in new)
    assert indexed.fused_weights() == (0.3, 0.7)


def test_a_record_fused_otherwise_is_refused(indexed):
    with indexed.sessions() as session:
        fused = session.get(ModelVersion, "fused")
        clip_model, dim = fused.model, fused.dim
    record = NewVideo(path="/elsewhere.mp4", size=1, mtime=1.0, duration=2.0, fusion=(0.9, 0.1),
                      models={"fused": (clip_model, dim)},
                      segments=[NewSegment(0.0, 2.0, vectors={"fused": np.ones(dim, np.float32)})])
    with pytest.raises(ModelMismatchError, match="weigh frames 0.5 and speech 0.5"):
        indexed.write_video(record)


def test_refusing_needs_every_spoken_part_and_positive_weights(indexed):
    with pytest.raises(ValueError, match="positive"):
        refuse(indexed, 1.0, 0.0)
    with indexed.sessions.begin() as session:
        session.execute(delete(SegmentVector).where(SegmentVector.space == SPOKEN))
    before = dict(zip(*indexed.exact_vectors("fused", indexed.indexes["fused"].ids())))
    with pytest.raises(VidsearchError, match="index --force"):
        refuse(indexed, 0.7, 0.3)
    after = dict(zip(*indexed.exact_vectors("fused", indexed.indexes["fused"].ids())))
    assert indexed.fused_weights() == (0.5, 0.5)  # nothing changed
    assert all(np.array_equal(before[i], after[i]) for i in before)


def test_tuning_refuses_in_memory_as_the_catalog_would(indexed, encoders, settings):
    searcher = Searcher(indexed, encoders)
    parts = FusedParts(searcher, indexed.fused_weights())
    query = searcher.text_vectors("heavy rain on the coast", "hybrid")
    gathered = [Gathered(LabelledQuery("heavy rain on the coast", "weather.mp4"), 1,
                         {"hybrid": searcher.gather(query, "hybrid", 10)}, query)]
    in_memory = parts.relist(gathered, 0.2)[0].lists["hybrid"]["fused"]
    refuse(indexed, 0.2, 0.8)
    searched = Searcher(Library(settings), encoders)._exact("fused", query["fused"], len(in_memory),
                                                              set(parts.ids.tolist()))
    assert [i for i, _ in in_memory] == [i for i, _ in searched]
    assert np.allclose([s for _, s in in_memory], [s for _, s in searched], atol=1e-5)
