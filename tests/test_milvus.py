"""The Milvus backend on a real milvus-lite engine: the index conformance life with exact counts,
the library's catalog contract (reconcile, check, repair, generations) on SQLite and PostgreSQL,
filters handed to Milvus, a move between backends, and kill -9 while indexing into Milvus.

A milvus-lite file serves one process (a second gets "Open local milvus failed"); milvus-lite's
own gRPC server (``milvus-lite server``) is a Milvus that several processes share over the
network, so two servers, one catalog (PostgreSQL) and one Milvus are tested against it.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sqlalchemy import update

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from core.catalog import CatalogState  # noqa: E402
from search.filters import Filters  # noqa: E402
from core.library import Library  # noqa: E402
from core.vectors.milvus.index import MilvusIndex, connect  # noqa: E402
from search.service import Searcher  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.vectors.faiss import exact_search, recall_at_k  # noqa: E402

from .conftest import cli_env  # noqa: E402
from .test_crash import _cli, crash_corpus  # noqa: E402,F401 (a fixture)
from .test_library import unit, video  # noqa: E402
from .test_store import clustered  # noqa: E402

DIM = 32
N = 3000


def test_collection_conformance(tmp_path):
    collection_conformance(str(tmp_path / "milvus.db"), "t_space")


def collection_conformance(uri: str, name: str) -> None:
    """build N -> search -> append -> replace -> delete -> missing ids -> more than exist ->
    filter by video -> reopen: the same counts as the FAISS suite asks of every type, on the
    Milvus at ``uri`` (a milvus-lite file, or a server)."""
    base, queries = clustered(N, 1), clustered(50, 2)
    index = MilvusIndex(connect(uri), name, DIM).create()
    assert len(index) == 0 and index.search(queries[:1], 5)[1].shape == (1, 0)
    videos = np.arange(1, N + 1) % 50
    index.add(np.arange(1, N + 1), base, videos)
    assert len(index) == N and index.ids().tolist() == list(range(1, N + 1))
    scores, ids = index.search(queries, 10)
    truth_scores, truth = exact_search(queries, np.arange(1, N + 1), base, 10)
    assert recall_at_k(ids, truth, 10) >= 0.99  # FLAT at this size: exact
    assert np.allclose(scores, truth_scores, atol=1e-4)

    extra = clustered(500, 3)
    index.add(np.arange(N + 1, N + 501), extra, np.zeros(500, np.int64))
    assert len(index) == N + 500 and N + 250 in index.search(extra[249], 10)[1][0]
    replacement = clustered(1, 4)
    index.add([7], replacement, [7])  # re-adding an id replaces it
    assert len(index) == N + 500 and float(index.reconstruct(7) @ replacement[0]) > 0.999
    with pytest.raises(ValueError, match="twice"):
        index.add([8, 8], clustered(2, 5), [1, 1])
    with pytest.raises(ValueError, match="dimension"):
        index.add([8], np.ones((1, DIM + 1), np.float32), [1])

    assert index.remove([5, 6]) == 2 and len(index) == N + 498
    assert index.remove([5, 999_999]) == 0 and index.remove([]) == 0 and len(index) == N + 498
    live = set(range(1, N + 501)) - {5, 6}
    assert set(index.ids().tolist()) == live and len(index.ids()) == N + 498
    with pytest.raises(KeyError):
        index.reconstruct(5)
    for row in (4, 5):  # deleted ids never come back, even for their own vectors
        assert not {5, 6} & set(index.search(base[row], 50)[1][0].tolist())

    scores, ids = index.search(base[100], N + 1000)  # more than exist: all of them, once
    assert ids.shape == (1, N + 498) and set(ids[0].tolist()) == live
    assert np.all(np.diff(scores[0]) <= 1e-6)

    scores, ids = index.search(base[100], 20, video_ids=[3, 4])  # the store filters
    found = [i for i in ids[0].tolist() if i >= 0]
    assert len(found) == 20 and all(i % 50 in (3, 4) for i in found)
    allowed = np.array([i for i in range(1, N + 1) if i % 50 in (3, 4) and i not in (5, 6)])
    exact = exact_search(base[100:101], allowed, base[allowed - 1], 20)[1]
    assert recall_at_k(ids, exact, 20) >= 0.99

    index.client.close()
    again = MilvusIndex(connect(uri), name, DIM)
    assert again.dimension() == DIM and len(again) == N + 498 and set(again.ids().tolist()) == live


@pytest.fixture
def milvus_settings(tmp_path, catalog_url):
    return Settings(data_dir=tmp_path / "data", database_url=catalog_url, vector_backend="milvus")


def _recorded(library: Library) -> int | None:
    with library.sessions() as session:
        return library.index_set.recorded(session)


def test_library_round_trip_on_milvus(milvus_settings):
    lib = Library(milvus_settings)
    vid = lib.write_video(video("/a.mp4", 3))
    lib.write_video(video("/b.mp4", 2, seed=10))
    assert lib.index_set.sizes() == {"fused": 5, "speech": 5}
    scores, ids = lib.indexes["fused"].search(unit(1), 1)
    seg, row = lib.segments(ids[0])[int(ids[0][0])]
    assert row.id == vid and seg.start == 5.0 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert _recorded(lib) == lib.generation() == 2  # each write moved the record on
    assert lib.remove_video(vid) is True
    assert lib.index_set.sizes() == {"fused": 2, "speech": 2} and _recorded(lib) == 3
    assert all(not (r["missing"] or r["orphans"]) for r in lib.check().values())


def test_reopen_in_step_reads_no_ids_and_out_of_step_repairs(milvus_settings, monkeypatch):
    lib = Library(milvus_settings)
    lib.write_video(video("/a.mp4", 3))
    lib.index_set.client.close()

    def no_id_reads(*args, **kwargs):
        raise AssertionError("an open in step with the catalog read ids")

    with monkeypatch.context() as patch:
        patch.setattr(MilvusIndex, "ids_between", no_id_reads)
        again = Library(milvus_settings)
    assert again.index_set.sizes() == {"fused": 3, "speech": 3}

    # A crash between the catalog commit and the Milvus write: a vector missing, a stray one,
    # and the record behind the catalog.
    first = int(again.indexes["fused"].ids()[0])
    again.indexes["fused"].remove([first])
    again.indexes["speech"].add([999], unit(7)[None], [1])
    with again.sessions() as session:
        session.execute(update(CatalogState).where(CatalogState.name == again.index_set.state_name).values(value=0))
        session.commit()
    report = again.check()
    assert report["fused"]["missing"] == [first] and report["speech"]["orphans"] == [999]
    assert report["fused"]["catalog"] == 3 and report["fused"]["index"] == 2
    assert again.reconcile() == {"fused": (1, 0), "speech": (0, 1)}
    assert _recorded(again) == again.generation()
    assert all(not (r["missing"] or r["orphans"]) for r in again.check().values())
    assert again.index_set.sizes() == {"fused": 3, "speech": 3}


def test_two_libraries_on_one_store_see_each_others_writes(tmp_path, catalog_url):
    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url, vector_backend="milvus")
    writer, reader = Library(settings), Library(settings)
    writer.write_video(video("/a.mp4", 2))
    assert reader.refresh_if_changed() is True and reader.index_set.sizes() == {"fused": 2, "speech": 2}
    reader.write_video(video("/b.mp4", 1, seed=20))  # a write by the other one, on top
    assert writer.refresh_if_changed() is True and writer.index_set.sizes() == {"fused": 3, "speech": 3}
    assert _recorded(writer) == writer.generation() == 2
    assert writer.refresh_if_changed() is False


def test_filters_are_handed_to_milvus(tmp_path, monkeypatch):
    faiss_lib = Library(Settings(data_dir=tmp_path / "faiss"))
    milvus_lib = Library(Settings(data_dir=tmp_path / "milvus", vector_backend="milvus"))
    for lib in (faiss_lib, milvus_lib):
        for n in range(6):
            lib.write_video(video(f"/v/{'ab'[n % 2]}{n}.mp4", 4, seed=10 * n))
    monkeypatch.setattr("search.service.EXACT_FILTER_LIMIT", 0)  # skip the exact path: filter in the store
    calls = []
    search = MilvusIndex.search
    monkeypatch.setattr(MilvusIndex, "search", lambda self, q, k, video_ids=None: calls.append(video_ids)
                        or search(self, q, k, video_ids))
    query = {"speech": unit(103)}
    filters = Filters(path_prefix="/v/a")
    got = [(m.video_path, m.start) for m in Searcher(milvus_lib, encoders=None).search_vectors(
        query, "speech", k=5, filters=filters)]
    want = [(m.video_path, m.start) for m in Searcher(faiss_lib, encoders=None).search_vectors(
        query, "speech", k=5, filters=filters)]
    assert got == want and len(got) == 5 and all(p.startswith("/v/a") for p, _ in got)
    assert calls and sorted(calls[0]) == [1, 3, 5]  # the videos, not an over-fetch


def test_migrate_between_backends(tmp_path, capsys):
    from api.cli import main

    data = tmp_path / "data"
    lib = Library(Settings(data_dir=data))
    for n in range(3):
        lib.write_video(video(f"/m{n}.mp4", 2 + n, seed=7 * n))
    os.environ["VIDSEARCH_DATA_DIR"] = str(data)
    try:
        assert main(["vectors", "migrate", "--to", "milvus", "--json"]) == 0
        moved = json.loads(capsys.readouterr().out)
        assert moved["consistent"] and moved["written"] == {"fused": 9, "speech": 9}
        assert moved["spaces"]["fused"] == {"catalog": 9, "index": 9}
        os.environ["VIDSEARCH_VECTOR_BACKEND"] = "milvus"
        assert main(["check", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["consistent"] is True
    finally:
        os.environ.pop("VIDSEARCH_DATA_DIR", None)
        os.environ.pop("VIDSEARCH_VECTOR_BACKEND", None)
    milvus = Library(Settings(data_dir=data, vector_backend="milvus"))
    for space in ("fused", "speech"):
        q = unit(3 if space == "fused" else 103)
        assert milvus.indexes[space].search(q, 5)[1].tolist() == lib.indexes[space].search(q, 5)[1].tolist()
    milvus.remove_video(milvus.videos()[0].id)  # a change made while on Milvus, then back to FAISS
    for f in (data / "index").glob("*.faiss*"):
        f.unlink()
    os.environ["VIDSEARCH_DATA_DIR"] = str(data)
    try:
        assert main(["vectors", "migrate", "--to", "faiss", "--json"]) == 0
    finally:
        os.environ.pop("VIDSEARCH_DATA_DIR", None)
    back = json.loads(capsys.readouterr().out)
    assert back["consistent"] and back["spaces"]["speech"] == {"catalog": 7, "index": 7}
    assert len(Library(Settings(data_dir=data)).indexes["speech"]) == 7


def test_sigkill_while_indexing_into_milvus_then_resume(crash_corpus, tiny_clip, tmp_path):
    env = cli_env(tiny_clip, tmp_path / "data", VIDSEARCH_VECTOR_BACKEND="milvus")
    rng = random.Random(20261129)
    for _ in range(4):
        process = subprocess.Popen(_cli("index", "-q", str(crash_corpus)), env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(2.0, 9.0))
        os.killpg(process.pid, signal.SIGKILL)  # the indexer, its workers and the milvus-lite engine
        process.wait()
    done = subprocess.run(_cli("index", "--json", str(crash_corpus)), env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    check = subprocess.run(_cli("check", "--json"), env=env, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    spaces = json.loads(check.stdout)["spaces"]
    assert spaces["visual"]["catalog"] > 0 and spaces["speech"]["catalog"] > 0
    for space, row in spaces.items():
        assert row["catalog"] == row["index"] and not row["missing"] and not row["orphans"], space



def test_a_lite_file_held_by_another_process_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    held = Library(Settings(data_dir=data, vector_backend="milvus"))  # this process holds the file
    held.write_video(video("/a.mp4", 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    env.update(VIDSEARCH_DATA_DIR=str(data), VIDSEARCH_VECTOR_BACKEND="milvus")
    run = subprocess.run(_cli("check"), env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "milvus-lite serves one process per file" in run.stderr and "Traceback" not in run.stderr


@pytest.fixture
def milvus_server(tmp_path):
    """milvus-lite's own gRPC server on a free port: a Milvus that several processes share."""
    from .test_ray import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "milvus"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            connect(uri).list_collections()
            break
        except Exception:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.2)
    yield uri
    server.terminate()
    server.wait(timeout=30)


@pytest.mark.parametrize("catalog_url", ["postgres"], indirect=True)
def test_two_servers_one_catalog_one_milvus(milvus_server, catalog_url, corpus, tiny_clip, encoders, asr, tmp_path):
    two_servers_one_milvus(milvus_server, "vidsearch", catalog_url, corpus, tiny_clip, encoders, asr, tmp_path)


def two_servers_one_milvus(uri, prefix, catalog_url, corpus, tiny_clip, encoders, asr, tmp_path) -> None:
    """Index through one server, search through the other; remove from a third process."""
    import httpx

    from api.app import create_app
    from api.serve import ServerThread

    from .test_visibility import _eventually

    root = tmp_path / "archive"
    root.mkdir()
    shutil.copy(corpus / "dog.mp4", root / "dog.mp4")
    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url, vector_backend="milvus",
                        milvus_uri=uri, milvus_prefix=prefix, refresh_seconds=0.5, allowed_roots=[root], **tiny_clip)
    query = {"q": "a dog catching a frisbee in the park", "mode": "speech", "k": 3}

    def names(url):
        return [m["video_name"] for m in httpx.get(f"{url}/api/search", params=query, timeout=30).json()["moments"]]

    with ServerThread(create_app(settings, encoders=encoders, asr=asr, warm=False)) as first, \
            ServerThread(create_app(settings, encoders=encoders, asr=asr, warm=False)) as second:
        assert names(second) == []
        job = httpx.post(f"{first}/api/index", json={"paths": [str(root)]}, timeout=30).json()
        deadline = time.monotonic() + 300
        while httpx.get(f"{first}/api/jobs/{job['id']}", timeout=30).json()["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.3)
        assert _eventually(lambda: names(second)[:1] == ["dog.mp4"]), "the other server never saw the video"
        assert not (tmp_path / "data" / "index" / "speech.faiss").exists()  # no vectors of its own
        env = cli_env(tiny_clip, tmp_path / "data", VIDSEARCH_DATABASE_URL=catalog_url,
                      VIDSEARCH_VECTOR_BACKEND="milvus", VIDSEARCH_MILVUS_URI=uri, VIDSEARCH_MILVUS_PREFIX=prefix)
        removed = subprocess.run(_cli("remove", str(root / "dog.mp4")), env=env, capture_output=True, text=True,
                                 timeout=300)
        assert removed.returncode == 0, removed.stderr
        assert _eventually(lambda: names(first) == [] and names(second) == []), "the removed video was still found"
        check = subprocess.run(_cli("check", "--json"), env=env, capture_output=True, text=True, timeout=300)
        assert check.returncode == 0 and json.loads(check.stdout)["consistent"], check.stdout + check.stderr
