"""Text encoders a query process runs without PyTorch: an exported graph, its tokenizer and a manifest.

Importing torch and building a sentence-transformer takes seconds on a small CPU, yet a text query
needs only a tokenizer and a graph. So when the full model has exported its graph and the graph
has given PyTorch's vectors (``onnx_runtime``), it leaves three things in the ONNX cache:

* the graph (``<kind>-<weights hash>.onnx``);
* its fast tokenizer, with the model's truncation and padding (``<graph>.tokenizer.json``);
* a manifest, named by a fingerprint of the model's files (their paths, sizes and modification
  times: a stat, no weights read), holding the SHA-256 of the graph and of the tokenizer file
  (with the stat each had when hashed: a file with that stat is not hashed again), the vector
  size and the model id.

The manifest is written only after this tokenizer and this graph, run as a later process will run
them, gave the model's own vectors on probe texts: the check runs once, at export. A later
process finds the manifest by the same fingerprint, checks the graph against its digest, and
answers with onnxruntime and tokenizers alone. A changed model folder has another fingerprint,
and a changed graph another digest: either way the full model loads and exports again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..files import write_bytes_atomically, write_text_atomically
from .onnx_runtime import open_session, run_tower

log = logging.getLogger(__name__)

_FORMAT = "2"  # bump when what a manifest promises changes
_BATCH = 64


def source_fingerprint(model_dir: str | Path, kind: str) -> str | None:
    """A fingerprint of a model folder from a stat of its files; None when it is not a folder
    (a hub name: the full model resolves it)."""
    folder = Path(model_dir)
    if not folder.is_dir():
        return None
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{kind}|{_FORMAT}|{folder.resolve()}".encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"|{path.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def manifest_path(cache_dir: Path, kind: str, fingerprint: str) -> Path:
    return Path(cache_dir) / f"{kind}-{fingerprint}.manifest.json"


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class ExportedTextEncoder:
    """``encode(texts)`` -> unit float32 vectors, from a graph and a tokenizer named by a manifest."""

    def __init__(self, manifest: dict, folder: Path, threads: int = 0):
        self.model_id, self.dim = manifest["model_id"], int(manifest["dim"])
        self.graph = Path(folder) / manifest["graph"]
        self.tokenizer = self.load_tokenizer(manifest, Path(folder) / manifest["tokenizer"])
        self.run = self.open_graph(manifest, self.graph, threads)

    @staticmethod
    def open_graph(manifest: dict, path: Path, threads: int) -> Callable[[dict], np.ndarray]:
        """The graph as a function of the tokenizer's arrays -> unit float32 vectors."""
        session, inputs = open_session(path, threads), list(manifest["inputs"])
        return lambda feeds: run_tower(session, inputs, feeds)

    @staticmethod
    def load_tokenizer(manifest: dict, path: Path):
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(path))

    @classmethod
    def open(cls, cache_dir: Path, kind: str, fingerprint: str | None) -> "ExportedTextEncoder | None":
        """The checked export for this fingerprint, or None (and the reason, in the log)."""
        manifest = _usable_manifest(cache_dir, kind, fingerprint)
        if manifest is None:
            return None
        try:
            return cls(manifest, Path(cache_dir))
        except Exception as exc:  # an unreadable graph or tokenizer: export again
            log.info("cannot use the export %s (%s); the full model loads instead", manifest["graph"], exc)
        return None

    @staticmethod
    def exists(cache_dir: Path, kind: str, fingerprint: str | None) -> bool:
        """Whether a usable export is there, without opening it (a model that loads in full asks
        this on every start, and a session of CLIP's text tower takes a quarter second)."""
        return _usable_manifest(cache_dir, kind, fingerprint) is not None

    def tokens(self, texts: list[str]) -> dict[str, np.ndarray]:
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encoded], np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], np.int64)
        return {"input_ids": ids, "attention_mask": mask}

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate([self.run(self.tokens(texts[i:i + _BATCH]))
                               for i in range(0, len(texts), _BATCH)])


def _usable_manifest(cache_dir: Path, kind: str, fingerprint: str | None) -> dict | None:
    """The manifest for this fingerprint when it still holds, or None (the reason in the log)."""
    if fingerprint is None:
        return None
    path = manifest_path(cache_dir, kind, fingerprint)
    try:
        manifest = json.loads(path.read_text())
        problem = _mismatch(manifest, Path(cache_dir))
    except FileNotFoundError:
        log.debug("no checked export at %s", path)
        return None
    except Exception as exc:  # a torn or foreign manifest: export again
        log.info("cannot use %s (%s); the full model loads instead", path.name, exc)
        return None
    if problem:
        log.info("%s: %s; the full model loads and exports again", path.name, problem)
        return None
    return manifest


def _mismatch(manifest: dict, folder: Path) -> str | None:
    """Why a manifest cannot be trusted any more, or None: another format, a graph or tokenizer
    file that is not the one checked, a weights file that changed since (a stat)."""
    if manifest.get("format") != _FORMAT:
        return "another format"
    for part in ("graph", "tokenizer"):
        if not _unchanged(folder / manifest[part], manifest, part):
            return f"its {part} changed"
    if any(_stat(path) != [size, mtime] for path, size, mtime in manifest.get("sources", [])):
        return "the weights changed"
    return None


def _unchanged(path: Path, manifest: dict, part: str) -> bool:
    """Whether a file is the one whose digest the manifest keeps: by its stat when that is the
    one recorded with the digest (hashing a CLIP graph, 250 MB, would cost a cold query a quarter
    of a second), else by hashing it."""
    return _stat(path) == manifest.get(f"{part}_stat") or _sha256(path) == manifest[f"{part}_sha256"]


def _stat(path: str | Path) -> list[int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def save_export(cache_dir: Path, kind: str, fingerprint: str | None, graph: Path, tokenizer: tuple[str, bytes],
                *, model_id: str, dim: int, inputs: list[str], agrees: Callable[[ExportedTextEncoder], bool],
                encoder: type[ExportedTextEncoder] = ExportedTextEncoder, sources: list[Path] = (),
                **extra) -> bool:
    """Leave a manifest for ``graph`` when ``agrees(encoder)`` holds for the encoder a later process
    would build from it; True when written. ``tokenizer``: (file suffix, content) written beside
    the graph; ``sources``: weight files whose stat the manifest keeps (a changed one voids it);
    ``extra``: more fields the encoder reads."""
    if fingerprint is None:
        return False
    cache_dir = Path(cache_dir)
    suffix, content = tokenizer
    tokenizer_path = graph.with_name(graph.stem + suffix)
    write_bytes_atomically(tokenizer_path, content)
    manifest = {"format": _FORMAT, "graph": graph.name, "graph_sha256": _sha256(graph), "graph_stat": _stat(graph),
                "tokenizer": tokenizer_path.name, "tokenizer_sha256": _sha256(tokenizer_path),
                "tokenizer_stat": _stat(tokenizer_path),
                "model_id": model_id, "dim": int(dim), "inputs": list(inputs),
                "sources": [[str(Path(p).resolve()), *_stat(p)] for p in sources], **extra}
    if not agrees(encoder(manifest, cache_dir)):
        log.warning("%s with its own tokenizer gives other vectors than the model; queries will load "
                    "the full model", graph.name)
        return False
    write_text_atomically(manifest_path(cache_dir, kind, fingerprint), json.dumps(manifest, indent=1))
    return True
