"""Spreading an indexing run over a Ray cluster: actors produce records, one writer commits them.

Each actor (one CPU by default) loads the encoders and Whisper once, then decodes (in an
isolated child process, as locally), transcribes and embeds whole files and returns the finished
``NewVideo`` record, vectors included. Only the driver touches the catalog and the indexes, so
the single-writer rules of the library (one transaction per file, atomic index saves, reconcile
on open) hold on a cluster exactly as on one machine; the catalog may be PostgreSQL so that other
machines can search it. An actor that dies fails its file and is replaced.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator

from search.errors import Unavailable
from search.library import NewVideo
from search.settings import Settings

from .decode import decode_file
from .isolate import IsolatedFailure, run_isolated
from .transcribe import EMPTY, is_silent, make_asr
from .workers import Prepared, WorkFailure


class FileActor:
    """What a Ray actor runs; a plain class so it can be tested without a cluster."""

    def __init__(self, settings: Settings, naive: bool = False):
        from search.encoders import Encoders

        self.settings, self.naive = settings, naive
        self.encoders = Encoders(settings)
        self.asr = None

    def process(self, path: str, digest: str) -> NewVideo | WorkFailure:
        from .pipeline import decode_options
        from .record import make_record

        started = time.perf_counter()
        try:
            decoded = run_isolated(decode_file, path, decode_options(self.settings, not self.naive),
                                   timeout=self.settings.file_timeout)
        except IsolatedFailure as exc:
            return WorkFailure(path, "decode", str(exc), exc.kind, time.perf_counter() - started)
        timings = {"decode": time.perf_counter() - started}
        stage = "transcribe"
        try:
            t = time.perf_counter()
            transcript = EMPTY
            if decoded.info.has_audio and not is_silent(decoded.audio):
                if self.asr is None:
                    self.asr = make_asr(self.settings, vad=not self.naive, threads=1)
                transcript = self.asr.transcribe(decoded.audio)
            timings["transcribe"] = time.perf_counter() - t
            stage = "embed"
            return make_record(Prepared(path, decoded, transcript, timings), digest, self.encoders,
                               self.settings, self.naive)
        except Exception as exc:
            return WorkFailure(path, stage, f"{type(exc).__name__}: {exc}", "error",
                               time.perf_counter() - started)


def run_on_ray(address: str, todo: list[tuple[str, str]], settings: Settings, *, naive: bool = False,
               actors: int | None = None, on_start: Callable[[str], None] | None = None
               ) -> Iterator[NewVideo | WorkFailure]:
    """Process ``todo`` [(path, fingerprint)] on the cluster at ``address``; yields results as they finish."""
    try:
        import ray
    except ImportError as exc:
        raise Unavailable("--ray-address needs Ray: pip install 'vidsearch[ray]'") from exc
    try:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False,
                 include_dashboard=False)
    except Exception as exc:
        raise Unavailable(f"cannot connect to the Ray cluster at {address!r}: {exc}") from exc
    remote = ray.remote(num_cpus=1)(FileActor)
    count = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    pool = [remote.remote(settings, naive) for _ in range(min(count, max(1, len(todo))))]
    queue = list(todo)
    running: dict = {}  # object ref -> (actor, path)
    try:
        while queue or running:
            busy = {actor for actor, _ in running.values()}
            for actor in [a for a in pool if a not in busy]:
                if not queue:
                    break
                path, digest = queue.pop(0)
                if on_start is not None:
                    on_start(path)
                running[actor.process.remote(path, digest)] = (actor, path)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in ready:
                actor, path = running.pop(ref)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    yield WorkFailure(path, "decode", f"the Ray worker died: {str(exc)[:300]}", "crash", 0.0)
                    pool[pool.index(actor)] = remote.remote(settings, naive)
    finally:
        for actor in pool:
            ray.kill(actor)
