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

from core.errors import Unavailable
from core.library import NewVideo
from core.settings import Settings

from .decode import DecodeOptions, decode_file
from .isolate import IsolatedFailure, run_isolated
from .prepare import Preparer, StageFailed
from .screen import decode_reading_screen
from .record import make_record
from .workers import WorkFailure


class FileActor:
    """What a Ray actor runs; a plain class so it can be tested without a cluster."""

    def __init__(self, settings: Settings, naive: bool = False):
        from core.encoders import Encoders

        self.settings, self.naive = settings, naive
        self.encoders = Encoders(settings)
        # Ray actors decode in a child process too (PyAV can crash on damaged files).
        self.preparer = Preparer(settings, DecodeOptions.from_settings(settings, dedup=not naive),
                                 vad=not naive, threads=1, decode=self._decode_isolated)

    def _decode_isolated(self, path: str, options: DecodeOptions, on_screen=None):
        if on_screen is None:
            return run_isolated(decode_file, path, options, timeout=self.settings.file_timeout)
        # OCR reads the frames in the child too; what it found comes back with them.
        decoded, *read = run_isolated(decode_reading_screen, path, options, self.settings,
                                      timeout=self.settings.file_timeout)
        on_screen.take(*read)
        return decoded

    def process(self, path: str, digest: str) -> NewVideo | WorkFailure:
        started = time.perf_counter()
        try:
            prepared = self.preparer.prepare(path)
        except StageFailed as failed:
            cause = failed.cause
            kind = cause.kind if isinstance(cause, IsolatedFailure) else "error"
            reason = str(cause) if isinstance(cause, IsolatedFailure) else str(failed)
            return WorkFailure(path, failed.stage, reason, kind, failed.seconds)
        try:
            return make_record(prepared, digest, self.encoders, self.settings, self.naive)
        except Exception as exc:
            return WorkFailure(path, "embed", f"{type(exc).__name__}: {exc}", "error",
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
