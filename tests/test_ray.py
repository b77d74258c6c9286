"""Indexing on a Ray cluster started by the test: actors prepare records, this process writes them."""
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.distribute import FileActor
from indexer.fingerprint import fingerprint
from indexer.pipeline import Indexer
from core.library import Library
from core.settings import Settings

ray = pytest.importorskip("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    ray_cli = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    port = free_port()
    temp = tmp_path_factory.mktemp("ray")
    subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                    "--disable-usage-stats", f"--temp-dir={temp}"], check=True, capture_output=True, timeout=180)
    yield f"127.0.0.1:{port}"
    ray.shutdown()
    subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)


def test_the_actor_makes_the_same_record_as_the_local_pipeline(corpus, settings):
    path = str(corpus / "weather.mp4")
    record = FileActor(settings).process(path, fingerprint(path))
    assert record.path == path and len(record.segments) == 3
    assert {"visual", "fused", "speech"} <= set(record.segments[2].vectors)
    assert "rain" in record.segments[2].transcript.lower()
    failure = FileActor(settings).process(str(corpus / "truncated.mp4"), "x")
    assert failure.stage == "decode" and "Invalid data" in failure.reason


def test_index_on_a_ray_cluster(cluster, corpus, tiny_clip, tmp_path, encoders):
    settings = Settings(data_dir=tmp_path / "ray", **tiny_clip)
    library = Library(settings)
    report = Indexer(library, encoders, settings, progress=False).index([corpus], ray_address=cluster)
    assert len(report.of("indexed")) == 4 and [o.stage for o in report.of("failed")] == ["decode"]
    for space, row in library.check().items():
        assert row["catalog"] == row["index"] and not row["missing"] and not row["orphans"], space

    local_settings = Settings(data_dir=tmp_path / "local", **tiny_clip)
    local = Library(local_settings)
    Indexer(local, encoders, local_settings, progress=False).index([corpus])
    ray_rows = {v.path: v for v in library.videos(status="indexed")}
    for video in local.videos(status="indexed"):
        assert ray_rows[video.path].duration == pytest.approx(video.duration)
    weather = str(corpus / "weather.mp4")
    pick = lambda lib: sorted(s.id for s, v in lib.segments(range(1, 200)).values() if v.path == weather)  # noqa: E731
    assert len(pick(library)) == len(pick(local)) == 3
    for a, b in zip(pick(library), pick(local)):
        # Frames decode and embed identically. Whisper's beams can part ways on thread settings
        # (Ray runs workers with OMP_NUM_THREADS=1: "strong winds" there, "strong wind" here),
        # so what was said is compared by meaning.
        assert np.allclose(library.vector(a, "visual"), local.vector(b, "visual"), atol=1e-4)
        spoken = library.vector(a, "speech"), local.vector(b, "speech")
        assert (spoken[0] is None) == (spoken[1] is None)
        assert spoken[0] is None or float(spoken[0] @ spoken[1]) > 0.95


@pytest.mark.parametrize("catalog_url", ["postgres"], indirect=True)
def test_ray_postgres_and_milvus_together(cluster, corpus, tiny_clip, tmp_path, encoders, catalog_url):
    pytest.importorskip("milvus_lite")
    settings = Settings(data_dir=tmp_path / "ray", database_url=catalog_url, vector_backend="milvus", **tiny_clip)
    report = Indexer(Library(settings), encoders, settings, progress=False).index([corpus], ray_address=cluster)
    assert len(report.of("indexed")) == 4 and [o.stage for o in report.of("failed")] == ["decode"]
    library = Library(settings)  # a fresh open, as another server would make: in step, no id read
    sizes = library.index_set.sizes()
    assert sizes["visual"] > 0 and sizes["speech"] > 0
    for space, row in library.check().items():
        assert row["catalog"] == row["index"] and not row["missing"] and not row["orphans"], space
