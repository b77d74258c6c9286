"""The indexing run: files in, catalog rows and vectors out, with a report of what happened.

Per file: decode and transcribe (in worker processes, see ``workers``) -> segment -> embed ->
write. Workers prepare the next files while this process embeds and writes the current one, so
the cores stay busy. Every stage is timed per file; the progress bar shows throughput (video
hours per hour) and an ETA. A file that fails at any stage is recorded with the stage and the
reason (in the catalog and in the job table), crashes and timeouts get one more try, and the
batch goes on. Killed at any moment, the same command resumes: the catalog only ever holds
whole videos, and the indexes are reconciled with it when opened.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from search.encoders import Encoders
from search.library import Library, ModelMismatchError, NewVideo
from search.settings import Settings

from .decode import DecodeOptions, Decoded
from .embed import embed_segments, query_vectors
from .isolate import IsolatedFailure, run_isolated
from .decode import decode_file
from .jobs import JobLog
from .plan import plan_files, prune_missing
from .report import STAGES, FileOutcome, IndexReport
from .scan import IMAGE_EXTENSIONS, printable, scan
from .segment import make_spans
from .transcribe import EMPTY, AsrBackend, Transcript, is_silent, make_asr
from .workers import Prepared, WorkerPool, WorkFailure

log = logging.getLogger(__name__)

__all__ = ["Indexer", "IndexReport", "FileOutcome", "STAGES"]


def decode_options(settings: Settings, dedup: bool = True) -> DecodeOptions:
    return DecodeOptions(fps=settings.fps, frame_size=settings.frame_size,
                         dedup_threshold=settings.dedup_threshold if dedup else -1.0,
                         shot_threshold=settings.shot_threshold)


class Indexer:
    """Indexes files into a ``Library``.

    ``naive=True`` is the baseline the benchmark compares against: every sampled frame through
    CLIP, Whisper over all audio (no voice detection), each file's stages one after another.
    """

    def __init__(self, library: Library, encoders: Encoders, settings: Settings, *,
                 asr: AsrBackend | None = None, naive: bool = False, progress: bool = True,
                 workers: int | None = None):
        self.library, self.encoders, self.settings = library, encoders, settings
        self._asr = asr
        self.naive, self.progress = naive, progress
        self.workers = max(1, workers or settings.workers)

    @property
    def asr(self) -> AsrBackend:
        if self._asr is None:
            self._asr = make_asr(self.settings, vad=not self.naive)
        return self._asr

    def index(self, paths: list, force: bool = False, retry_failed: bool = False, prune: bool = False,
              on_file: Callable[[FileOutcome, int, int], None] | None = None) -> IndexReport:
        """Index ``paths`` (files and folders, recursively); ``on_file(outcome, done, total)`` after each file."""
        started = time.perf_counter()
        report = IndexReport(visual=self.encoders.clip is not None)
        files, problems = scan(paths)
        for path, why in problems:
            report.outcomes.append(FileOutcome(str(path), "failed", "scan", why))
            if why != "does not exist":  # a typo on the command line is not an archive's failure
                self.library.record_failure(str(path), 0, 0.0, "scan", why)
        job = JobLog(self.library, [printable(Path(p).expanduser().resolve()) for p in paths])
        report.job_id = job.id
        job.plan([str(p) for p in files])
        todo, settled = plan_files(self.library, files, force=force, retry_failed=retry_failed)
        if prune:
            settled += prune_missing(self.library, [Path(p).expanduser() for p in paths])
        for outcome in settled:
            job.mark(outcome.path, "failed" if outcome.status == "failed" else "done",
                     outcome.stage, outcome.reason)
        report.outcomes += settled
        self._run(todo, report, job, on_file)
        job.finish()
        report.wall_seconds = time.perf_counter() - started
        return report

    def _run(self, todo: list[tuple[Path, str]], report: IndexReport, job: JobLog, on_file) -> None:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="file", disable=not self.progress, dynamic_ncols=True)
        totals = dict.fromkeys(STAGES, 0.0)
        clock, media_seconds = time.perf_counter(), 0.0
        queue = list(todo)
        digests = dict(todo)
        attempts: dict[Path, int] = {}
        cores = os.cpu_count() or 2
        pool = WorkerPool(1 if self.naive else self.workers, self.settings,
                          decode_options(self.settings, dedup=not self.naive), vad=not self.naive,
                          timeout=self.settings.file_timeout,
                          threads=max(1, cores // self.workers))
        done = 0
        with pool:
            while queue or pool.busy:
                # The naive baseline prepares one file at a time; otherwise workers run ahead.
                while queue and pool.idle and not (self.naive and pool.busy):
                    path, _ = queue.pop(0)
                    job.mark(str(path), "running", attempt=True)
                    pool.submit(str(path))
                for result in pool.collect(0.2):
                    path = Path(result.path)
                    if isinstance(result, WorkFailure) and result.kind != "error" and \
                            attempts.get(path, 1) < self.settings.max_attempts:
                        attempts[path] = attempts.get(path, 1) + 1
                        log.warning("%s: %s; trying again", path, result.reason)
                        queue.append((path, digests[path]))
                        continue
                    outcome = self._store(path, digests[path], result)
                    job.mark(str(path), "done" if outcome.status == "indexed" else "failed",
                             outcome.stage, outcome.reason, outcome.duration)
                    report.outcomes.append(outcome)
                    done += 1
                    media_seconds += outcome.duration
                    for stage, seconds in outcome.timings.items():
                        totals[stage] = totals.get(stage, 0.0) + seconds
                    rate = media_seconds / max(time.perf_counter() - clock, 1e-9)
                    bar.set_postfix_str(f"{rate:.1f} video-h/h | " +
                                        " ".join(f"{s} {totals[s]:.0f}s" for s in STAGES) +
                                        f" | {outcome.status}: {path.name[:24]}")
                    bar.update()
                    if on_file is not None:
                        on_file(outcome, done, len(todo))
        bar.close()

    def _store(self, path: Path, digest: str, result: Prepared | WorkFailure) -> FileOutcome:
        """Embed and write one prepared file; any failure is recorded with its stage and reason."""
        outcome = FileOutcome(str(path), "failed")
        try:
            stat = path.stat()
        except OSError:
            stat = os.stat_result((0,) * 10)
        if isinstance(result, WorkFailure):
            outcome.stage, outcome.reason = result.stage, result.reason
            outcome.timings[result.stage] = result.seconds
            self.library.record_failure(str(path), stat.st_size, stat.st_mtime, result.stage, result.reason)
            return outcome
        decoded, transcript = result.decoded, result.transcript
        outcome.timings.update(result.timings)
        outcome.duration = decoded.info.duration
        stage = "embed"
        try:
            t = time.perf_counter()
            spans = make_spans(decoded.info.duration, decoded.cuts,
                               self.settings.segment_min, self.settings.segment_max)
            segments, models = embed_segments(decoded, spans, transcript, self.encoders, self.settings,
                                              frames_per_segment=0 if self.naive else None)
            if not any(seg.vectors for seg in segments):
                raise RuntimeError("nothing to index: no frames could be embedded (visual search is off) "
                                   "and no speech was found")
            outcome.timings["embed"] = time.perf_counter() - t
            stage = "write"
            t = time.perf_counter()
            info = decoded.info
            outcome.video_id = self.library.write_video(NewVideo(
                path=str(path), size=stat.st_size, mtime=stat.st_mtime, duration=info.duration,
                fps=info.fps, width=info.width, height=info.height, rotation=info.rotation,
                video_codec=info.video_codec, audio_codec=info.audio_codec, has_audio=info.has_audio,
                language=transcript.language, timings={**decoded.stats, **outcome.timings},
                fingerprint=digest, segments=segments, models=models,
                transcript=[(l.start, l.end, l.text, [list(w) for w in l.words]) for l in transcript.lines],
            ))
            outcome.timings["write"] = time.perf_counter() - t
            outcome.status, outcome.segments = "indexed", len(segments)
        except ModelMismatchError:
            raise  # a configuration problem: every file would fail the same way
        except Exception as exc:
            log.debug("failed %s at %s", path, stage, exc_info=True)
            outcome.stage, outcome.reason = stage, str(exc) or type(exc).__name__
            self.library.record_failure(str(path), stat.st_size, stat.st_mtime, stage, outcome.reason)
        return outcome

    def _transcribe(self, decoded: Decoded) -> Transcript:
        if not decoded.info.has_audio or is_silent(decoded.audio):
            return EMPTY
        return self.asr.transcribe(decoded.audio)

    def query_vectors(self, path: Path) -> dict:
        """Per-space vectors for a query clip or image, made the way segments are made."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            decoded = _decode_image(path, self.settings.frame_size)
        else:
            try:
                decoded = run_isolated(decode_file, str(path), decode_options(self.settings),
                                       timeout=self.settings.file_timeout)
            except IsolatedFailure as exc:
                raise RuntimeError(f"{path}: cannot decode the query clip: {exc}") from exc
        return query_vectors(decoded, self._transcribe(decoded), self.encoders, self.settings)


def _decode_image(path: Path, short_side: int) -> Decoded:
    from PIL import Image, ImageOps

    from .probe import MediaInfo

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
    except Exception as exc:
        raise RuntimeError(f"{path}: not a readable image ({exc})") from exc
    scale = short_side / min(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
    info = MediaInfo(0.0, None, image.width, image.height, 0, "image", None, True, False)
    return Decoded(info, [np.array(image)], [0.0], [], None, {})
