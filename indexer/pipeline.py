"""The indexing run: files in, catalog rows and vectors out, with a report of what happened.

Per file: decode and transcribe (in worker processes, see ``workers``) -> segment -> embed ->
write. Workers prepare the next files while this process embeds and writes the current one, so
the cores stay busy; a file's kept frames reach this process as they are decoded and go through
CLIP at once, so embedding overlaps decoding within one long file too, and only their vectors
are kept (memory does not grow with a file's length). Every stage is timed per file; the
progress bar shows throughput (video hours per hour) and an ETA. A file that fails at any stage
is recorded with the stage and the reason (in the catalog and in the job table), crashes and
timeouts get one more try, and the batch goes on. Killed at any moment, the same command
resumes: the catalog only ever holds whole videos, and the indexes are reconciled with it when
opened.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from search.copies.archive import update_matches
from core.voices import link_people
from search.people import cluster_faces
from core.encoders import Encoders
from core.errors import StoreUnavailable
from core.jobs import JobRun
from core.library import Library, ModelMismatchError, NewVideo
from core.settings import Settings

from .decode import DecodeOptions
from .plan import plan_files, prune_missing
from .report import STAGES, FileOutcome, IndexReport
from .scan import printable, scan
from .record import file_stat, make_record, segmentation_of
from .prepare import Prepared
from .workers import FrameChunk, WorkerPool, WorkFailure

log = logging.getLogger(__name__)

__all__ = ["Indexer", "IndexReport", "FileOutcome", "STAGES"]


class Indexer:
    """Indexes files into a ``Library``.

    ``naive=True`` is the baseline the benchmark compares against: every sampled frame through
    CLIP, Whisper over all audio (no voice detection), each file's stages one after another.
    """

    def __init__(self, library: Library, encoders: Encoders, settings: Settings, *,
                 naive: bool = False, progress: bool = True, workers: int | None = None):
        self.library, self.encoders, self.settings = library, encoders, settings
        self.naive, self.progress = naive, progress
        self.workers = max(1, workers or settings.resolved_workers())
        self._record_settings = settings

    def index(self, paths: list, force: bool = False, retry_failed: bool = False, prune: bool = False,
              on_file: Callable[[FileOutcome, int, int], None] | None = None,
              ray_address: str | None = None, job_id: int | None = None) -> IndexReport:
        """Index ``paths`` (files and folders, recursively); ``on_file(outcome, done, total)`` after each file.

        With ``ray_address`` the files are prepared and embedded on a Ray cluster; this process writes.
        ``job_id``: the catalog job this run carries out (one the server queued), instead of its own.
        """
        started = time.perf_counter()
        self._record_settings = self._with_catalog_fusion()
        report = IndexReport(visual=self.encoders.clip is not None)
        files, problems = scan(paths)
        for path, why in problems:
            report.outcomes.append(FileOutcome(str(path), "failed", "scan", why))
            if why != "does not exist":  # a typo on the command line is not an archive's failure
                self.library.record_failure(str(path), 0, 0.0, "scan", why)
        job = self.library.jobs.run([printable(Path(p).expanduser().resolve()) for p in paths], job_id)
        report.job_id = job.id
        job.plan([str(p) for p in files])
        todo, settled = plan_files(self.library, files, force=force, retry_failed=retry_failed,
                                   subtitles=self.settings.transcripts != "asr",
                                   segmentation=segmentation_of(self.settings))
        if prune:
            settled += prune_missing(self.library, [Path(p).expanduser() for p in paths])
        for outcome in settled:
            job.mark(outcome.path, "failed" if outcome.status == "failed" else "done",
                     outcome.stage, outcome.reason)
        report.outcomes += settled
        progress = _Progress(len(todo), report, job, on_file, self.progress)
        with self.library.batched_saves(self.settings.index_save_seconds):
            if ray_address:
                self._run_on_ray(ray_address, todo, progress)
            else:
                self._run(todo, progress)
        progress.close()
        if report.of("indexed"):
            update_matches(self.library)  # the new videos against the archive, once (vidsearch duplicates)
            cluster_faces(self.library, self.settings.face_match)  # their faces into people
            link_people(self.library)  # voices to the person seen while they speak
        job.finish()
        report.wall_seconds = time.perf_counter() - started
        return report

    def _with_catalog_fusion(self) -> Settings:
        """The settings to embed with: the catalog's fused weights win over the configured ones
        (``vidsearch tune`` may have changed them; every fused vector must share them)."""
        weights = self.library.fused_weights()
        if weights is None or weights == (self.settings.visual_weight, self.settings.speech_weight):
            return self.settings
        log.info("fusing with the catalog's weights: visual %g, speech %g", *weights)
        return self.settings.model_copy(update={"visual_weight": weights[0], "speech_weight": weights[1]})

    def _run(self, todo: list[tuple[Path, str]], progress: "_Progress") -> None:
        queue = list(todo)
        digests = dict(todo)
        attempts: dict[Path, int] = {}
        cores = os.cpu_count() or 2
        streamed: dict[str, _Streamed] = {}  # per file in work: its frames' vectors so far
        size = 1 if self.naive else self.workers
        pool = WorkerPool(size, self.settings,
                          DecodeOptions.from_settings(self.settings, dedup=not self.naive), vad=not self.naive,
                          timeout=self.settings.file_timeout,
                          threads=max(1, cores // size),
                          stream_frames=not self.naive and self.encoders.clip is not None, overlap=not self.naive)
        with pool:
            while queue or pool.busy:
                # The naive baseline prepares one file at a time; otherwise workers run ahead.
                while queue and pool.idle and not (self.naive and pool.busy):
                    path, _ = queue.pop(0)
                    progress.started(str(path))
                    streamed[str(path)] = _Streamed()
                    pool.submit(str(path))
                for result in pool.collect(0.2):
                    if isinstance(result, FrameChunk):
                        streamed[result.path].add(self.encoders.clip, result.frames)
                        continue
                    frames = streamed.pop(result.path, None)
                    path = Path(result.path)
                    if isinstance(result, WorkFailure) and result.kind != "error" and \
                            attempts.get(path, 1) < self.settings.max_attempts:
                        attempts[path] = attempts.get(path, 1) + 1
                        log.warning("%s: %s; trying again", path, result.reason)
                        queue.append((path, digests[path]))
                        continue
                    progress.finished(self._store(path, digests[path], result, frames))

    def _run_on_ray(self, address: str, todo: list[tuple[Path, str]], progress: "_Progress") -> None:
        from .distribute import run_on_ray

        work = [(str(path), digest) for path, digest in todo]
        for result in run_on_ray(address, work, self._record_settings, naive=self.naive, on_start=progress.started):
            progress.finished(self.write(result))

    def _store(self, path: Path, digest: str, result: Prepared | WorkFailure,
               frames: "_Streamed | None" = None) -> FileOutcome:
        """Embed one prepared file here (with its frames' vectors when they were streamed), then
        write it (see ``write``)."""
        if isinstance(result, Prepared):
            try:
                streamed = frames is not None and (frames.count or frames.error)
                vectors = frames.vectors(len(result.decoded.frame_times)) if streamed else None
                result = make_record(result, digest, self.encoders, self._record_settings, self.naive, vectors)
                if vectors is not None:
                    result.timings["embed"] += frames.seconds
            except Exception as exc:
                log.debug("failed %s at embed", path, exc_info=True)
                result = WorkFailure(str(path), "embed", str(exc) or type(exc).__name__, "error",
                                     sum(result.timings.values()))
        return self.write(result)

    def write(self, result: NewVideo | WorkFailure) -> FileOutcome:
        """Commit a file's record, or its failure, to the library; the outcome says which."""
        if isinstance(result, WorkFailure):
            stat = file_stat(result.path)
            self.library.record_failure(result.path, stat.st_size, stat.st_mtime, result.stage, result.reason)
            return FileOutcome(result.path, "failed", result.stage, result.reason,
                               timings={result.stage: result.seconds})
        outcome = FileOutcome(result.path, "failed", duration=result.duration,
                              timings={k: v for k, v in (result.timings or {}).items() if k in STAGES})
        try:
            started = time.perf_counter()
            outcome.video_id = self.library.write_video(result)
            outcome.timings["write"] = time.perf_counter() - started
            outcome.status, outcome.segments = "indexed", len(result.segments)
        except (ModelMismatchError, StoreUnavailable):
            raise  # a configuration problem or a vector store that is down: every file would fail the same way
        except Exception as exc:
            log.debug("failed %s at write", result.path, exc_info=True)
            outcome.stage, outcome.reason = "write", str(exc) or type(exc).__name__
            stat = file_stat(result.path)
            self.library.record_failure(result.path, stat.st_size, stat.st_mtime, "write", outcome.reason)
        return outcome


class _Streamed:
    """The CLIP vectors of one file's kept frames, embedded as the frames arrived."""

    def __init__(self):
        self.parts: list[np.ndarray] = []
        self.count, self.seconds = 0, 0.0
        self.error: str | None = None  # why a chunk could not be embedded: the file fails at embed

    def add(self, clip, frames: list) -> None:
        if self.error is not None:
            return
        started = time.perf_counter()
        try:
            self.parts.append(clip.encode_images(frames))
        except Exception as exc:
            log.debug("embedding streamed frames failed", exc_info=True)
            self.error = str(exc) or type(exc).__name__
        self.count += len(frames)
        self.seconds += time.perf_counter() - started

    def vectors(self, expected: int) -> np.ndarray:
        if self.error is not None:
            raise RuntimeError(self.error)
        if self.count != expected:
            raise RuntimeError(f"{self.count} frames arrived for {expected} kept")
        return np.concatenate(self.parts)


class _Progress:
    """Per-file bookkeeping of a run: job table, report, progress bar (video-h/h, ETA), callback."""

    def __init__(self, total: int, report: IndexReport, job: JobRun, on_file, show: bool):
        from tqdm import tqdm

        self.total, self.report, self.job, self.on_file = total, report, job, on_file
        self.bar = tqdm(total=total, unit="file", disable=not show, dynamic_ncols=True)
        self.totals = dict.fromkeys(STAGES, 0.0)
        self.clock, self.media_seconds, self.done = time.perf_counter(), 0.0, 0

    def started(self, path: str) -> None:
        self.job.mark(path, "running", attempt=True)

    def finished(self, outcome: FileOutcome) -> None:
        self.job.mark(outcome.path, "done" if outcome.status == "indexed" else "failed",
                      outcome.stage, outcome.reason, outcome.duration)
        self.report.outcomes.append(outcome)
        self.done += 1
        self.media_seconds += outcome.duration
        for stage, seconds in outcome.timings.items():
            self.totals[stage] = self.totals.get(stage, 0.0) + seconds
        rate = self.media_seconds / max(time.perf_counter() - self.clock, 1e-9)
        self.bar.set_postfix_str(f"{rate:.1f} video-h/h | " +
                                 " ".join(f"{s} {self.totals[s]:.0f}s" for s in STAGES) +
                                 f" | {outcome.status}: {Path(outcome.path).name[:24]}")
        self.bar.update()
        if self.on_file is not None:
            self.on_file(outcome, self.done, self.total)

    def close(self) -> None:
        self.bar.close()
