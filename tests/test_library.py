"""The catalog and its indexes, on SQLite and on a real PostgreSQL server."""
import numpy as np
import pytest
from sqlalchemy import inspect, select

from core.catalog import Segment, SegmentVector
from core.library import Library, ModelMismatchError, NewSegment, NewVideo
from core.settings import Settings
from core.vectors import normalize

DIM = 8


def unit(seed):
    return normalize(np.random.default_rng(seed).normal(size=DIM))[0]


def video(path, n, seed=0, model="m1"):
    segs = [NewSegment(start=i * 5.0, end=(i + 1) * 5.0, transcript=f"words {i}",
                       vectors={"fused": unit(seed + i), "speech": unit(100 + seed + i)})
            for i in range(n)]
    return NewVideo(path=path, size=10, mtime=1.0, duration=n * 5.0, segments=segs,
                    transcript=[(0.0, 1.0, "words", [[0.0, 0.5, "words"]])],
                    models={"fused": (model, DIM), "speech": ("s1", DIM)})


@pytest.fixture
def lib(tmp_path, catalog_url):
    return Library(Settings(data_dir=tmp_path / "data", database_url=catalog_url))


def test_schema_is_migrated_on_open(lib):
    tables = set(inspect(lib.sessions.kw["bind"]).get_table_names())
    assert {"videos", "segments", "transcript_lines", "segment_vectors", "model_versions",
            "alembic_version"} <= tables


def test_write_search_remove_round_trip(lib):
    vid = lib.write_video(video("/a.mp4", 3))
    lib.write_video(video("/b.mp4", 2, seed=10))
    assert len(lib.indexes["fused"]) == 5 and len(lib.indexes["speech"]) == 5
    scores, ids = lib.indexes["fused"].search(unit(1), 1)
    seg, vrow = lib.segments(ids[0])[int(ids[0][0])]
    assert vrow.id == vid and seg.start == 5.0 and seg.transcript == "words 1"
    assert lib.remove_video(vid) is True
    assert len(lib.indexes["fused"]) == 2 and lib.remove_video(vid) is False
    assert lib.counts().segments == 2


def test_segment_ids_are_never_reused(lib):
    first = lib.write_video(video("/a.mp4", 2))
    with lib.sessions() as s:
        old = set(s.scalars(select(Segment.id)))
    lib.remove_video(first)
    lib.write_video(video("/c.mp4", 2))
    with lib.sessions() as s:
        new = set(s.scalars(select(Segment.id)))
    assert not old & new and min(new) > max(old)


def test_reindexing_a_path_replaces_its_segments(lib):
    lib.write_video(video("/a.mp4", 3))
    lib.write_video(video("/a.mp4", 2, seed=50))
    assert lib.counts().segments == 2 and len(lib.indexes["fused"]) == 2
    assert len(lib.videos()) == 1


def test_failures_are_recorded_and_replace_old_rows(lib):
    lib.write_video(video("/a.mp4", 2))
    lib.record_failure("/a.mp4", 1, 2.0, "decode", "InvalidDataError: truncated")
    (row,) = lib.videos(status="failed")
    assert (row.path, row.error_stage, row.error) == ("/a.mp4", "decode", "InvalidDataError: truncated")
    assert len(lib.indexes["fused"]) == 0


def test_a_second_model_in_one_space_is_refused(lib):
    lib.write_video(video("/a.mp4", 1))
    with pytest.raises(ModelMismatchError, match="m1"):
        lib.write_video(video("/b.mp4", 1, model="m2"))
    assert lib.counts().segments == 1


def test_reopen_reconciles_index_with_catalog(tmp_path, catalog_url):
    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url)
    lib = Library(settings)
    lib.write_video(video("/a.mp4", 3))
    # A crash after the catalog commit but before the index save: the index misses rows...
    (settings.index_dir / "fused.faiss").unlink()
    (settings.index_dir / "fused.faiss.prev").unlink(missing_ok=True)
    # ...and a stray vector with no row (written by a run whose transaction rolled back).
    speech = lib.indexes["speech"]
    speech.add([999], unit(7)[None])
    speech.save(settings.index_dir / "speech.faiss")
    again = Library(settings)
    with again.sessions() as s:
        truth = {space: set(s.scalars(select(SegmentVector.segment_id).where(SegmentVector.space == space)))
                 for space in ("fused", "speech")}
    for space in ("fused", "speech"):
        assert set(again.indexes[space].ids().tolist()) == truth[space] and len(truth[space]) == 3


def test_torn_index_file_is_rebuilt(tmp_path, catalog_url):
    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url)
    Library(settings).write_video(video("/a.mp4", 2))
    for f in settings.index_dir.glob("fused.faiss*"):
        f.write_bytes(b"\x00garbage")
    assert len(Library(settings).indexes["fused"]) == 2


def test_migrations_match_the_models(lib):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.catalog import Base

    with lib.sessions.kw["bind"].connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_full_text})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _not_full_text(name, kind, parent_names) -> bool:
    """The full-text machinery (FTS5 tables, a GIN expression index) lives outside the ORM models."""
    return not (name or "").startswith(("segments_fts", "ix_segments_text_fts"))


def test_the_library_builds_the_index_type_the_setting_asks_for(tmp_path):
    dim, n = 8, 3000
    rng = np.random.default_rng(0)

    def many(path, count, offset):
        segs = [NewSegment(start=float(i), end=i + 1.0, vectors={"fused": normalize(rng.normal(size=dim))[0]})
                for i in range(count)]
        return NewVideo(path=path, size=1, mtime=1.0, segments=segs, models={"fused": ("m1", dim)})

    forced = Settings(data_dir=tmp_path / "d", index_kind="ivf_flat")
    lib = Library(forced)
    lib.write_video(many("/small.mp4", 10, 0))
    assert lib.indexes["fused"].kind == "flat"  # too few vectors to train an IVF yet
    lib.write_video(many("/big.mp4", n, 1))
    assert lib.indexes["fused"].kind == "ivf_flat" and len(lib.indexes["fused"]) == n + 10
    again = Library(Settings(data_dir=tmp_path / "d", index_kind="hnsw"))
    assert again.indexes["fused"].kind == "hnsw" and len(again.indexes["fused"]) == n + 10
    row = again.check()["fused"]
    assert row["catalog"] == row["index"] == n + 10 and not row["missing"] and not row["orphans"]
    probe = again.vector(again.segments(range(1, 20)).popitem()[0], "fused")
    scores, ids = again.indexes["fused"].search(probe, 1)
    assert scores[0][0] > 0.999  # a stored vector finds itself through the rebuilt index


def test_ivf_pq_rescores_its_candidates_from_the_catalog(tmp_path):
    dim, n = 16, 10_500  # IVF-PQ trains once there are 10k vectors
    vectors = normalize(np.random.default_rng(1).normal(size=(n, dim)))
    segments = [NewSegment(start=float(i), end=i + 1.0, vectors={"fused": vectors[i]}) for i in range(n)]
    lib = Library(Settings(data_dir=tmp_path / "d", index_kind="ivf_pq"))
    lib.write_video(NewVideo(path="/big.mp4", size=1, mtime=1.0, segments=segments, models={"fused": ("m", dim)}))
    index = lib.indexes["fused"]
    assert index.kind == "ivf_pq" and index.search_params.get("rerank", 0) > 1
    scores, ids = index.search(vectors[123], 5)
    # the scores are the catalog's exact ones: a stored vector finds itself at cosine 1
    assert ids[0][0] == 124 and abs(scores[0][0] - 1.0) < 1e-5
    assert np.allclose(scores[0], vectors[ids[0] - 1] @ vectors[123], atol=1e-5)
    reopened = Library(Settings(data_dir=tmp_path / "d", index_kind="ivf_pq"))
    again = reopened.indexes["fused"].search(vectors[123], 5)
    assert np.array_equal(again[1], ids) and np.allclose(again[0], scores, atol=1e-6)


def test_index_files_record_the_catalog_generation_they_hold(tmp_path, catalog_url):
    """A file saved at the catalog's generation is taken as it is on open; any other is repaired."""
    from core.vectors.faiss import load_index

    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url)
    lib = Library(settings)
    lib.write_video(video("/a.mp4", 2))
    lib.write_video(video("/b.mp4", 1, seed=20))
    generation = lib.generation()
    assert lib.seen_generation == generation
    for space in ("fused", "speech"):
        assert load_index(settings.index_dir / f"{space}.faiss").meta["generation"] == generation
    assert Library(settings).reconcile() == {"fused": (0, 0), "speech": (0, 0)}


def test_a_writer_that_missed_another_writers_video_never_hides_it(tmp_path, catalog_url):
    """Two libraries on one data dir write in turn: the second one's indexes never saw the first
    one's video, so the file it saves matches no generation, and the next open repairs it."""
    from core.vectors.faiss import load_index

    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url)
    first, second = Library(settings), Library(settings)
    first.write_video(video("/a.mp4", 2))
    second.write_video(video("/b.mp4", 3, seed=30))
    assert second.seen_generation is None and len(second.indexes["fused"]) == 3  # it lacks /a.mp4
    assert load_index(settings.index_dir / "fused.faiss").meta["generation"] is None
    assert second.refresh_if_changed() and len(second.indexes["fused"]) == 5
    fresh = Library(settings)
    with fresh.sessions() as s:
        truth = set(s.scalars(select(SegmentVector.segment_id).where(SegmentVector.space == "fused")))
    assert set(fresh.indexes["fused"].ids().tolist()) == truth and len(truth) == 5


def test_schema_head_is_the_newest_migration(lib):
    """The catalog recognises a current schema without Alembic, by this revision."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.catalog import SCHEMA_HEAD, _migrations_dir, schema_revision

    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD
    assert schema_revision(lib.sessions.kw["bind"]) == SCHEMA_HEAD


def test_batched_saves_write_index_files_once_and_a_crash_in_between_loses_nothing(tmp_path, catalog_url):
    """Inside ``batched_saves`` the files are saved when the interval has passed and at the end;
    a process that dies before (a library opened meanwhile sees the files behind) loses no video."""
    from core.vectors.faiss import load_index

    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url)
    lib = Library(settings)
    lib.write_video(video("/a.mp4", 2))
    saved = lib.generation()
    saved_file = lambda: load_index(settings.index_dir / "fused.faiss")
    with lib.batched_saves(3600):
        lib.write_video(video("/b.mp4", 3, seed=30))
        lib.write_video(video("/c.mp4", 1, seed=40))
        lib.write_video(video("/a.mp4", 1, seed=50))  # replaced: two old segments go, one comes
        assert len(lib.indexes["fused"]) == 5  # searches in this process see every write at once
        assert saved_file().meta["generation"] == saved and len(saved_file()) == 2  # the file: not yet
        crashed = Library(settings)  # as the next open after a kill -9 here would find it
        with crashed.sessions() as s:
            truth = set(s.scalars(select(SegmentVector.segment_id).where(SegmentVector.space == "fused")))
        assert set(crashed.indexes["fused"].ids().tolist()) == truth and len(truth) == 5
    assert saved_file().meta["generation"] == lib.generation() and set(saved_file().ids().tolist()) == truth
    assert lib.index_set.save_every == 0.0  # outside the block: saved after every write again
    lib.write_video(video("/d.mp4", 1, seed=60))
    assert saved_file().meta["generation"] == lib.generation()


def test_a_read_only_library_maps_current_files_repairs_stale_ones_and_refuses_writes(tmp_path):
    """A query process maps the index files (the vectors stay in the page cache), answers as a
    library that read them whole, reads a stale file whole to repair it, and takes no writes
    (adding to a mapped FAISS index would abort the process)."""
    settings = Settings(data_dir=tmp_path / "data")
    writer = Library(settings)
    writer.write_video(video("/a.mp4", 3))
    writer.write_video(video("/b.mp4", 2, seed=10))
    reader = Library(settings, read_only=True)
    for space in ("fused", "speech"):
        mapped, whole = reader.indexes[space].search(unit(1), 5), writer.indexes[space].search(unit(1), 5)
        assert np.array_equal(mapped[1], whole[1]) and np.allclose(mapped[0], whole[0])
    with pytest.raises(RuntimeError, match="read-only"):
        reader.write_video(video("/c.mp4", 1, seed=30))
    assert len(Library(settings).indexes["fused"]) == 5  # the refused write left nothing behind

    (settings.index_dir / "speech.faiss").unlink()  # a crash before the save: the file is behind
    (settings.index_dir / "speech.faiss.prev").rename(settings.index_dir / "speech.faiss")
    stale = Library(settings, read_only=True, reconcile=False)
    assert stale.reconcile() == {"fused": (0, 0), "speech": (2, 0)}  # read whole and repaired
    assert sorted(stale.indexes["speech"].ids().tolist()) == sorted(writer.indexes["speech"].ids().tolist())
