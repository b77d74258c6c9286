"""Worker processes that decode and transcribe files, so one bad file cannot take the batch down.

Each worker is a long-lived process (forked from a clean ``forkserver``) that takes one path at a
time, decodes it with PyAV and runs Whisper on its audio, and sends back what the embedder needs:
with ``stream_frames``, the kept frames as they are decoded (``FrameChunk``, so the embedder works
while the file is still being decoded and no process holds a long file's frames), then the rest.
The parent watches every worker: one that dies (PyAV can SIGSEGV on damaged files) or runs past
the per-file timeout is killed and replaced, and only the file it held fails, with the reason.
Workers load Whisper once, on their first file with speech.
"""
from __future__ import annotations

import dataclasses
import signal
import time
from multiprocessing.connection import wait

from core.settings import Settings

from .decode import DecodeOptions
from .isolate import forkserver_context
from .prepare import Prepared, Preparer, StageFailed

__all__ = ["FrameChunk", "Prepared", "WorkFailure", "WorkerPool"]


@dataclasses.dataclass
class FrameChunk:
    """The next kept frames of the file a worker holds (in order; the file is not done yet)."""

    path: str
    frames: list


@dataclasses.dataclass
class WorkFailure:
    path: str
    stage: str  # decode | transcribe
    reason: str
    kind: str  # error | crash | timeout
    seconds: float


def _worker_main(conn, settings: Settings, options: DecodeOptions, vad: bool, threads: int,
                 stream_frames: bool = False, overlap: bool = False) -> None:
    preparer = Preparer(settings, options, vad=vad, threads=threads, overlap=overlap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if path is None:
            return
        def send_frames(frames, path=path):
            conn.send(FrameChunk(path, frames))

        try:
            message = preparer.prepare(path, on_frames=send_frames if stream_frames else None)
        except StageFailed as failed:
            message = WorkFailure(path, failed.stage, str(failed), "error", failed.seconds)
        try:
            conn.send(message)
        except (EOFError, OSError, BrokenPipeError):
            return


class _Worker:
    def __init__(self, ctx, args):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, *args), daemon=True)
        self.process.start()
        child.close()
        self.path: str | None = None
        self.since = 0.0

    def give(self, path: str) -> None:
        self.path, self.since = path, time.perf_counter()
        self.conn.send(path)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the decoder crashed ({name}); the file is probably damaged"
    return f"the worker process exited unexpectedly (code {exitcode})"


class WorkerPool:
    """``n`` decode+ASR workers; ``submit`` paths while ``idle``, collect with ``collect``."""

    def __init__(self, n: int, settings: Settings, options: DecodeOptions, *, vad: bool = True,
                 timeout: float = 600.0, threads: int = 1, stream_frames: bool = False, overlap: bool = False):
        self._ctx = forkserver_context()
        self._args = (settings, options, vad, threads, stream_frames, overlap)
        self.timeout = timeout
        self.workers = [_Worker(self._ctx, self._args) for _ in range(max(1, n))]

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def idle(self) -> int:
        return sum(1 for w in self.workers if w.path is None)

    @property
    def busy(self) -> int:
        return len(self.workers) - self.idle

    def submit(self, path: str) -> None:
        worker = next(w for w in self.workers if w.path is None)
        try:
            worker.give(path)
        except OSError:  # died while idle: replace it and hand the file to the new one
            self._replace(worker).give(path)

    def collect(self, wait_seconds: float = 1.0) -> list[Prepared | WorkFailure | FrameChunk]:
        """Results that are ready (waiting at most ``wait_seconds``); dead or stuck workers are
        replaced. A ``FrameChunk`` is part of a file still in work: its result comes later."""
        busy = [w for w in self.workers if w.path is not None]
        if not busy:
            return []
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=wait_seconds)
        out: list[Prepared | WorkFailure | FrameChunk] = []
        now = time.perf_counter()
        for worker in busy:
            if worker.conn in ready:
                try:
                    message = worker.conn.recv()
                    out.append(message)
                    if not isinstance(message, FrameChunk):
                        worker.path = None
                    continue
                except (EOFError, OSError):
                    pass  # died mid-send: handled as a death below
            if worker.conn in ready or worker.process.sentinel in ready:
                worker.process.join(1)
                out.append(WorkFailure(worker.path, "decode", _death_reason(worker.process.exitcode),
                                       "crash", now - worker.since))
                self._replace(worker)
            elif now - worker.since > self.timeout:
                out.append(WorkFailure(worker.path, "decode",
                                       f"gave up after {self.timeout:.0f} s (decoding or transcription hung)",
                                       "timeout", now - worker.since))
                self._replace(worker)
        return out

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop(kill=True)
        fresh = _Worker(self._ctx, self._args)
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        for worker in self.workers:
            worker.stop(kill=worker.path is not None)
