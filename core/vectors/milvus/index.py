"""One Milvus collection per space, behind the same search interface as the FAISS indexes.

``MilvusIndex`` answers what the searcher, the tuner and the metrics ask of a ``VectorIndex``
(``len``, ``search``, ``ids``, ``reconstruct``, ``dim``, ``kind``) and takes writes by id
(``add`` replaces, ``remove`` counts what was there). Vectors stay L2-normalised and the metric
is inner product, so scores are cosines exactly as with FAISS. Each row also carries its
``video_id``, so a filter becomes a Milvus expression (``search(..., video_ids=...)``) instead
of asking for more and more neighbours. Tags, dates and paths stay in the catalog: they change
(tags are edited) and a Milvus row can only change by being written again whole.

The same client code runs against a ``milvus-lite`` file (tests, laptops) and a Milvus server
or cluster (``http://host:19530``). Every collection is created with ``Strong`` consistency: a
search sees every write acknowledged before it, whichever server or indexer made it.
"""
from __future__ import annotations

import contextlib
import logging
import re
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from ...errors import StoreUnavailable
from ..arrays import checked_batch, normalize
from ..faiss import build_params, choose_kind

log = logging.getLogger(__name__)

CONSISTENCY = "Strong"
_CONNECT_FAILED = 2  # pymilvus' code for a server that cannot be reached
LOAD_WAIT = 300.0  # seconds a restarted Milvus gets to load a collection
WRITE_BATCH = 5_000  # rows per insert/delete call (a 512-d batch is 10 MB, under gRPC's 64 MB)
ID_RANGE = 10_000  # ids per range when reading a collection's ids (at most this many rows a query)
MAX_TOPK = 16_384  # Milvus' cap on limit
FILTER_VIDEOS_MAX = 10_000  # larger allowed sets are filtered by the searcher instead (expression size)


class MilvusUnavailable(StoreUnavailable):
    """The Milvus backend was asked for but cannot be used (package missing, server down)."""


def connect(uri: str, token: str | None = None, database: str | None = None):
    """A ``MilvusClient`` for ``uri`` (a milvus-lite file path, or http(s)://host:port)."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MilvusUnavailable("the Milvus backend needs pymilvus (and milvus-lite for a local file): "
                                "pip install 'vidsearch[milvus]'") from exc
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        # The embedded engine answers pymilvus' AllocTimestamp with "not implemented", and its gRPC
        # server logs a traceback each time; the client falls back to its own clock.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    kwargs = {"uri": uri}
    if token:
        kwargs["token"] = token
    if database:
        kwargs["db_name"] = database
    try:
        return MilvusClient(**kwargs)
    except Exception as exc:
        if "://" not in uri:
            raise MilvusUnavailable(
                f"cannot open the milvus-lite file {uri} ({exc}); milvus-lite serves one process per file: "
                "if a server or another run has it open, index through its API (POST /api/index), or use a "
                "Milvus server (VIDSEARCH_MILVUS_URI=http://host:19530; `milvus-lite server` is one)") from exc
        raise MilvusUnavailable(f"cannot reach Milvus at {uri}: {exc}") from exc


def index_params(n: int, dim: int, memory_budget_bytes: int, gpu: bool = False) -> tuple[str, dict]:
    """(Milvus index type, build parameters) for ``n`` vectors: the rule the FAISS side uses
    (``choose_kind``), in Milvus' names; on a cluster with GPUs, CAGRA beyond exact sizes."""
    kind = choose_kind(n, dim, memory_budget_bytes)
    if gpu and kind != "flat":
        return "GPU_CAGRA", {"intermediate_graph_degree": 64, "graph_degree": 32}
    if kind == "hnsw":
        return "HNSW", {"M": 32, "efConstruction": 200}
    sized = build_params(kind, n, dim, memory_budget_bytes)  # nlist, and PQ's code size, as FAISS sizes them
    if kind == "ivf_flat":
        return "IVF_FLAT", {"nlist": sized["nlist"]}
    if kind == "ivf_pq":
        return "IVF_PQ", {"nlist": sized["nlist"], "m": sized["m"], "nbits": 8}
    return "FLAT", {}


@contextlib.contextmanager
def answering(uri: str) -> Iterator[None]:
    """Milvus failing to be reached, inside the block, as ``MilvusUnavailable`` (a run stops on it)."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as exc:
        if getattr(exc, "code", None) != _CONNECT_FAILED:
            raise
        raise MilvusUnavailable(f"Milvus at {uri} stopped answering ({exc.message}); what was written is in the "
                                "catalog, and the next run gives Milvus what it missed") from exc


def scalar_index_type(client) -> str:
    """The index for the video id filter: INVERTED from Milvus 2.4 on (milvus-lite included);
    Milvus 2.3 has none by that name and wants STL_SORT for a number field."""
    version = str(client.get_server_version())
    found = re.match(r"v?(\d+)\.(\d+)", version)
    return "STL_SORT" if found and (int(found.group(1)), int(found.group(2))) < (2, 4) else "INVERTED"


def search_params(index_type: str, build: dict, k: int) -> dict:
    """Query-time parameters that keep recall high for ``k`` results."""
    if index_type == "HNSW":
        return {"ef": max(64, 2 * k)}
    if index_type in ("IVF_FLAT", "IVF_PQ"):
        return {"nprobe": max(8, int(build.get("nlist", 64)) // 8)}
    if index_type == "GPU_CAGRA":
        return {"itopk_size": max(64, 2 * k)}
    return {}


class MilvusIndex:
    """The vectors of one space in one Milvus collection (``name``), addressed by segment id."""

    kind = "milvus"
    device = "server"
    filter_videos_max = FILTER_VIDEOS_MAX  # the searcher hands filters of up to this many videos down

    def __init__(self, client, name: str, dim: int):
        self.client, self.name, self.dim = client, name, int(dim)
        self.params: dict = {}
        self.search_params: dict = {}
        self.build_info: dict = {}
        self.meta: dict = {}
        self.exact_source = None  # the interface's; Milvus re-scores nothing here
        self._count: int | None = None

    # --- the collection
    def create(self, index_type: str = "FLAT", build: dict | None = None) -> "MilvusIndex":
        """Create the collection (id, video_id, vector) with its index, if it does not exist."""
        from pymilvus import DataType, MilvusClient

        if self.client.has_collection(self.name):
            return self
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("video_id", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self.client.prepare_index_params()
        params.add_index(field_name="vector", index_type=index_type, metric_type="IP", params=build or {})
        params.add_index(field_name="video_id", index_type=scalar_index_type(self.client))
        self.client.create_collection(self.name, schema=schema, index_params=params,
                                      consistency_level=CONSISTENCY)
        self._count = 0
        return self

    def ensure_loaded(self) -> bool:
        """Make an existing collection searchable: load it (a restarted engine may hold it
        released), after giving it an exact index if it lost its own (a run killed while changing
        it); True in that case, so the caller sizes the index again."""
        lost = not self.client.list_indexes(self.name, field_name="vector")
        if lost:
            params = self.client.prepare_index_params()
            params.add_index(field_name="vector", index_type="FLAT", metric_type="IP", params={})
            self.client.create_index(self.name, params)
        state = str(self.client.get_load_state(self.name).get("state", ""))
        if "Loaded" not in state and "Loading" not in state:
            self._load_collection()
        return lost

    def _load_collection(self) -> None:
        """Load the collection, waiting out a server that was just restarted: Milvus 2.3 answers
        "unrecoverable error" until its query node has registered again (seen after a SIGKILL)."""
        deadline = time.monotonic() + LOAD_WAIT
        while True:
            try:
                self.client.load_collection(self.name)
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise MilvusUnavailable(f"Milvus could not load the collection {self.name} within "
                                            f"{LOAD_WAIT:.0f} s: {exc}") from exc
                log.warning("Milvus cannot load %s yet (%s); trying again", self.name, str(exc)[:200])
                time.sleep(2)

    def index_type(self) -> tuple[str, dict]:
        """The vector index the collection has now: (type, build parameters)."""
        info = self.client.describe_index(self.name, "vector")
        build = {key: info[key] for key in ("M", "efConstruction", "nlist", "m", "nbits") if key in info}
        return str(info.get("index_type", "FLAT")), {k: int(v) for k, v in build.items()}

    def reindex(self, index_type: str, build: dict) -> None:
        """Replace the vector index (the collection is released while it is rebuilt)."""
        self.client.release_collection(self.name)
        self.client.drop_index(self.name, "vector")
        params = self.client.prepare_index_params()
        params.add_index(field_name="vector", index_type=index_type, metric_type="IP", params=build)
        self.client.create_index(self.name, params)
        self.client.load_collection(self.name)

    def dimension(self) -> int | None:
        """The vector size of the stored collection (None: it does not exist)."""
        if not self.client.has_collection(self.name):
            return None
        for field in self.client.describe_collection(self.name)["fields"]:
            if field["name"] == "vector":
                return int(field["params"]["dim"])
        return None

    def drop(self) -> None:
        if self.client.has_collection(self.name):
            self.client.drop_collection(self.name)
        self._count = 0

    # --- what the searcher asks
    def __len__(self) -> int:
        if self._count is None:
            self.refresh()
        return self._count

    def refresh(self) -> int:
        """Count the rows again (another process may have written)."""
        rows = self.client.query(self.name, filter="", output_fields=["count(*)"])
        self._count = int(rows[0]["count(*)"]) if rows else 0
        return self._count

    def search(self, queries: np.ndarray, k: int, video_ids=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row, as ``VectorIndex.search``; ``video_ids``: only
        segments of these videos."""
        queries = normalize(queries)
        n = len(self)
        if n == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        k = max(1, min(int(k), n, MAX_TOPK))
        expression = ""
        if video_ids is not None:
            expression = f"video_id in [{', '.join(str(int(v)) for v in video_ids)}]"
        index_type, build = self.index_type_cached()
        rows = self.client.search(self.name, data=list(queries), limit=k, filter=expression, output_fields=[],
                                  search_params={"metric_type": "IP", "params": search_params(index_type, build, k)})
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for q, hits in enumerate(rows):
            for j, hit in enumerate(hits[:k]):
                scores[q, j], ids[q, j] = hit["distance"], hit["id"]
        return scores, ids

    def index_type_cached(self) -> tuple[str, dict]:
        if "index_type" not in self.params:
            self.params["index_type"], self.params["build"] = self.index_type()
        return self.params["index_type"], self.params["build"]

    def ids(self) -> np.ndarray:
        """Every id in the collection, read an id range at a time (for small spaces and tests)."""
        stop = self._max_id() + 1
        return np.fromiter((i for low in range(0, stop, ID_RANGE)
                            for i in self.ids_between(low, min(stop, low + ID_RANGE))), np.int64)

    def ids_between(self, low: int, high: int) -> list[int]:
        """The ids in [low, high) (``high - low`` at most ``MAX_TOPK``)."""
        rows = self.client.query(self.name, filter=f"id >= {int(low)} and id < {int(high)}",
                                 output_fields=["id"], limit=MAX_TOPK)
        return sorted(int(row["id"]) for row in rows)

    def reconstruct(self, segment_id: int) -> np.ndarray:
        rows = self.client.get(self.name, ids=[int(segment_id)], output_fields=["vector"])
        if not rows:
            raise KeyError(segment_id)
        return np.asarray(rows[0]["vector"], np.float32)

    def to_device(self, device: str = "auto") -> bool:
        return False  # the Milvus server decides where its indexes run

    # --- writes
    def add(self, ids, vectors: np.ndarray, video_ids) -> None:
        """Write (or replace) vectors by id, each with its video id."""
        ids, vectors = checked_batch(ids, vectors, self.dim)
        if len(ids) == 0:
            return
        video_ids = np.asarray(video_ids, np.int64).ravel()
        for at in range(0, len(ids), WRITE_BATCH):
            rows = [{"id": int(i), "video_id": int(v), "vector": vector}
                    for i, v, vector in zip(ids[at:at + WRITE_BATCH], video_ids[at:at + WRITE_BATCH],
                                            vectors[at:at + WRITE_BATCH])]
            self.client.upsert(self.name, rows)
        self._count = None

    def remove(self, ids) -> int:
        """Delete by id; returns how many were present."""
        ids = sorted({int(i) for i in np.asarray(ids, np.int64).ravel()})
        present = 0
        for at in range(0, len(ids), WRITE_BATCH):
            part = ids[at:at + WRITE_BATCH]
            found = self.client.query(self.name, filter=f"id in {part}", output_fields=["id"], limit=MAX_TOPK)
            if found:
                present += len(found)
                self.client.delete(self.name, ids=[int(row["id"]) for row in found])
        if present:
            self._count = None
        return present

    def _max_id(self) -> int:
        """The largest id present (-1 when empty), found by halving id ranges (Milvus has no max())."""
        if len(self) == 0:
            return -1
        low, high = 0, 1
        while self.client.query(self.name, filter=f"id >= {high}", output_fields=["id"], limit=1):
            low, high = high, high * 2
        while high - low > 1:  # the largest id is in [low, high)
            middle = (low + high) // 2
            if self.client.query(self.name, filter=f"id >= {middle}", output_fields=["id"], limit=1):
                low = middle
            else:
                high = middle
        return low
