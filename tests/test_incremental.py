"""Incremental indexing: unchanged files are skipped, changed ones re-indexed, moved ones re-pointed."""
import os
import shutil

import pytest
from sqlalchemy import select

from bench.corpus import Spec, make_video
from indexer.fingerprint import fingerprint
from indexer.pipeline import Indexer
from indexer.scan import scan
from indexer.segment import signature
from core.catalog import Segment
from core.library import Library


@pytest.fixture
def setup(tmp_path, settings, encoders):
    folder = tmp_path / "videos"
    for i, src in enumerate(("testsrc2", "smptebars")):
        make_video(Spec(f"v{i}.mp4", [(src, 3), ("color=c=navy", 3)], audio=False), folder)
    library = Library(settings)
    return folder, library, Indexer(library, encoders, settings, progress=False)


def segment_ids(library, path):
    video = library.known_file(str(path))
    with library.sessions() as s:
        return sorted(s.scalars(select(Segment.id).where(Segment.video_id == video.id)))


def test_moves_are_repointed_without_embedding(setup):
    folder, library, indexer = setup
    assert len(indexer.index([folder]).of("indexed")) == 2
    before = segment_ids(library, folder / "v0.mp4")
    (folder / "sub").mkdir()
    os.rename(folder / "v0.mp4", folder / "sub" / "renamed.mp4")
    report = indexer.index([folder])
    (moved,) = report.of("moved")
    assert moved.path == str(folder / "sub" / "renamed.mp4") and "moved from" in moved.reason
    assert not report.of("indexed")
    assert segment_ids(library, folder / "sub" / "renamed.mp4") == before
    assert library.known_file(str(folder / "v0.mp4")) is None


def test_changed_files_are_reindexed_and_touched_files_are_not(setup):
    folder, library, indexer = setup
    indexer.index([folder])
    old = segment_ids(library, folder / "v1.mp4")
    os.utime(folder / "v0.mp4")  # new mtime, same bytes
    make_video(Spec("v1.mp4", [("mandelbrot", 4)], audio=False), folder)  # new content
    report = indexer.index([folder])
    assert [o.path for o in report.of("indexed")] == [str(folder / "v1.mp4")]
    assert any("content unchanged" in (o.reason or "") for o in report.of("skipped"))
    new = segment_ids(library, folder / "v1.mp4")
    assert not set(new) & set(old)
    assert set(library.indexes["visual"].ids().tolist()) == set(new) | set(segment_ids(library, folder / "v0.mp4"))


def test_prune_removes_what_disappeared(setup):
    folder, library, indexer = setup
    indexer.index([folder])
    (folder / "v1.mp4").unlink()
    assert not indexer.index([folder]).of("pruned")  # only when asked
    report = indexer.index([folder], prune=True)
    assert [o.path for o in report.of("pruned")] == [str(folder / "v1.mp4")]
    assert [v.path for v in library.videos()] == [str(folder / "v0.mp4")]
    assert len(library.indexes["visual"]) == len(segment_ids(library, folder / "v0.mp4"))


def test_scan_is_safe_with_loops_hidden_files_and_odd_entries(tmp_path):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "clip.MP4").write_bytes(b"x")
    (root / "a" / "notes.txt").write_bytes(b"x")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "secret.mp4").write_bytes(b"x")
    (root / ".dot.mp4").write_bytes(b"x")
    (root / "folder.mp4").mkdir()
    (root / "folder.mp4" / "inside.webm").write_bytes(b"x")
    os.symlink(root, root / "a" / "loop")
    files, problems = scan([root, tmp_path / "missing"])
    assert [f.relative_to(root).as_posix() for f in files] == ["a/clip.MP4", "folder.mp4/inside.webm"]
    assert problems == [(str(tmp_path / "missing"), "does not exist")]


def test_fingerprint_sees_content_not_names(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    data = os.urandom(5 << 20)
    a.write_bytes(data)
    shutil.copy(a, b)
    assert fingerprint(a) == fingerprint(b)
    b.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert fingerprint(a) != fingerprint(b)


def test_files_cut_under_other_segment_settings_are_indexed_again_once(setup, settings, make_settings, encoders):
    folder, library, indexer = setup
    first = signature(settings.segment_min, settings.segment_max, settings.shot_threshold)
    assert (settings.segment_min, settings.segment_max) == (2.0, 10.0)
    assert len(indexer.index([folder]).of("indexed")) == 2
    old = segment_ids(library, folder / "v0.mp4") + segment_ids(library, folder / "v1.mp4")
    assert library.known_file(str(folder / "v0.mp4")).segmentation == first
    assert len(indexer.index([folder]).of("skipped")) == 2  # same settings: nothing to do

    shorter = Indexer(library, encoders, make_settings(segment_max=8.0), progress=False)
    report = shorter.index([folder])
    assert sorted(o.path for o in report.of("indexed")) == [str(folder / "v0.mp4"), str(folder / "v1.mp4")]
    assert not report.of("skipped")
    recut = library.known_file(str(folder / "v0.mp4")).segmentation
    assert recut == signature(2.0, 8.0, settings.shot_threshold) != first
    new = segment_ids(library, folder / "v0.mp4") + segment_ids(library, folder / "v1.mp4")
    assert not set(new) & set(old) and len(new) == 4  # a cut at 3 s in each 6 s file
    assert set(library.indexes["visual"].ids().tolist()) == set(new)

    again = shorter.index([folder])
    assert [o.reason for o in again.of("skipped")] == ["unchanged since last index"] * 2
    assert not again.of("indexed")
