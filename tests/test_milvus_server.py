"""vidsearch on a real Milvus standalone server, not only milvus-lite: the ``milvus`` package's
``milvus-server`` (Milvus 2.3.5 with its embedded etcd and local storage), started once for the
module on free ports. The collection conformance suite and the two-servers test run against it
as against milvus-lite, and the Milvus server is killed with SIGKILL while vidsearch indexes
into it: after a restart on the same data, ``vidsearch check`` is consistent and a resumed run
loses nothing. Skipped, with the reason, where ``milvus-server`` is not installed or does not
start.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytest.importorskip("pymilvus")

from core.vectors.milvus.index import connect  # noqa: E402

from .conftest import cli_env  # noqa: E402
from .test_crash import _cli, crash_corpus  # noqa: E402,F401 (a fixture)
from .test_milvus import collection_conformance, two_servers_one_milvus  # noqa: E402
from .test_ray import free_port  # noqa: E402

# milvus-server's flags for the ports its parts listen on: all free ones, so a Milvus already
# running on this machine (19530, 2379, ...) is neither hit nor in the way.
PORTS = ("proxy-port", "etcd-port", "root-coord-port", "proxy-internal-port", "query-coord-port", "query-node-port",
         "index-coord-port", "index-node-port", "data-coord-port", "data-node-port")


def _executable() -> str | None:
    return shutil.which("milvus-server") or next(
        (str(p) for p in [Path(sys.executable).parent / "milvus-server"] if p.exists()), None)


def _wait_until_free(port: int, timeout: float) -> None:
    """Until ``port`` can be bound again (a killed server's connections hold it a while)."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} stayed taken") from None
        time.sleep(0.5)


class Standalone:
    """One ``milvus-server`` on a data folder: started, killed with SIGKILL, started again."""

    def __init__(self, data: Path):
        self.data = data
        self.ports = {flag: free_port() for flag in PORTS}
        self.uri = f"http://127.0.0.1:{self.ports['proxy-port']}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 240) -> None:
        """Start on the data folder; the internal ports are new ones on each start (the public one
        stays): the sessions of a killed server live on in etcd until they expire, and a new node
        on an old node's address is refused as that node ("node not match")."""
        self.ports = {flag: port if flag == "proxy-port" else free_port() for flag, port in self.ports.items()}
        _wait_until_free(self.ports["proxy-port"], timeout)  # else milvus-server moves to the next port
        args = [_executable(), "--data", str(self.data)]
        for flag, port in self.ports.items():
            args += [f"--{flag}", str(port)]
        log = open(self.data.parent / "milvus-server.log", "ab")
        # A session of its own: it spawns `milvus run standalone`, which must go with it.
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                connect(self.uri).list_collections()
                return
            except Exception as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"milvus-server did not start: {exc}") from exc
                time.sleep(1)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    if _executable() is None:
        pytest.skip("milvus-server is not installed (pip install milvus)")
    folder = tmp_path_factory.mktemp("milvus-standalone")
    server = Standalone(folder / "data")
    try:
        server.start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield server
    server.kill()


def test_the_server_is_a_real_milvus_23(standalone):
    assert connect(standalone.uri).get_server_version().startswith("v2.3")


def test_collection_conformance_on_a_milvus_server(standalone):
    collection_conformance(standalone.uri, "t_conformance")


@pytest.mark.parametrize("catalog_url", ["postgres"], indirect=True)
def test_two_servers_one_catalog_one_milvus_server(standalone, catalog_url, corpus, tiny_clip, encoders, asr,
                                                    tmp_path):
    two_servers_one_milvus(standalone.uri, "two_servers", catalog_url, corpus, tiny_clip, encoders, asr, tmp_path)


def _indexed(catalog: Path) -> int:
    engine = create_engine(f"sqlite:///{catalog}")
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM videos WHERE status = 'indexed'")).scalar() or 0
    except Exception:  # not created yet
        return 0
    finally:
        engine.dispose()


def test_sigkill_of_the_milvus_server_while_indexing_then_restart_and_resume(standalone, crash_corpus,
                                                                              tiny_clip, tmp_path):
    """The Milvus server dies (SIGKILL, its children with it) once the first video is in; the
    indexer fails or is stopped; Milvus starts again on its data; `check` finds the vector store
    and the catalog equal (after the open's repair), and a resumed run indexes the rest."""
    env = cli_env(tiny_clip, tmp_path / "data", VIDSEARCH_VECTOR_BACKEND="milvus",
                  VIDSEARCH_MILVUS_URI=standalone.uri, VIDSEARCH_MILVUS_PREFIX="killed")
    indexer = subprocess.Popen(_cli("index", "-q", str(crash_corpus)), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while _indexed(tmp_path / "data" / "catalog.db") < 1:
        assert indexer.poll() is None, indexer.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no video was indexed"
        time.sleep(0.2)
    standalone.kill()
    try:
        indexer.wait(timeout=120)
    except subprocess.TimeoutExpired:  # still waiting on the dead server: stopped as a user would
        os.killpg(indexer.pid, signal.SIGKILL)
        indexer.wait()
    indexer.stderr.close()
    standalone.start()

    done = subprocess.run(_cli("index", "--json", str(crash_corpus)), env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    check = subprocess.run(_cli("check", "--json"), env=env, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert report["consistent"]
    assert _indexed(tmp_path / "data" / "catalog.db") == 6
    for space, row in report["spaces"].items():
        assert row["catalog"] == row["index"] and not row["missing"] and not row["orphans"], space
