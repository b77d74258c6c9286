"""The indexing run: files in, catalog rows and vectors out, with a report of what happened.

Per file: decode (isolated child process) -> segment -> transcribe -> embed -> write. Decoding
the next file overlaps with transcribing and embedding the current one, so the decoder and the
models keep both cores busy. Every stage is timed per file; the progress bar shows the running
totals and the report keeps them. A file that fails at any stage is recorded with the stage and
the reason, and the batch goes on.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from search.encoders import Encoders
from search.library import Library, ModelMismatchError, NewVideo
from search.settings import Settings

from .decode import DecodeOptions, Decoded, decode_file
from .embed import embed_segments, query_vectors
from .isolate import IsolatedFailure, run_isolated
from .scan import IMAGE_EXTENSIONS, scan
from .segment import make_spans
from .transcribe import EMPTY, AsrBackend, Transcript, is_silent, make_asr

log = logging.getLogger(__name__)

STAGES = ("decode", "transcribe", "embed", "write")


@dataclasses.dataclass
class FileOutcome:
    path: str
    status: str  # indexed | skipped | failed
    stage: str | None = None
    reason: str | None = None
    video_id: int | None = None
    segments: int = 0
    duration: float = 0.0
    timings: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class IndexReport:
    outcomes: list[FileOutcome] = dataclasses.field(default_factory=list)
    wall_seconds: float = 0.0
    visual: bool = True

    def of(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def video_seconds(self) -> float:
        return sum(o.duration for o in self.of("indexed"))

    def stage_seconds(self) -> dict[str, float]:
        return {s: sum(o.timings.get(s, 0.0) for o in self.outcomes) for s in STAGES}

    def as_dict(self) -> dict:
        return {
            "indexed": len(self.of("indexed")),
            "skipped": len(self.of("skipped")),
            "failed": len(self.of("failed")),
            "video_seconds": round(self.video_seconds, 2),
            "wall_seconds": round(self.wall_seconds, 2),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds().items()},
            "visual": self.visual,
            "files": [dataclasses.asdict(o) for o in self.outcomes],
        }


def decode_options(settings: Settings, dedup: bool = True) -> DecodeOptions:
    return DecodeOptions(fps=settings.fps, frame_size=settings.frame_size,
                         dedup_threshold=settings.dedup_threshold if dedup else -1.0,
                         shot_threshold=settings.shot_threshold)


def decode_isolated(path: Path, settings: Settings, dedup: bool = True) -> Decoded:
    return run_isolated(decode_file, str(path), decode_options(settings, dedup),
                        timeout=settings.decode_timeout)


class Indexer:
    """Indexes files into a ``Library``.

    ``naive=True`` is the baseline the benchmark compares against: every sampled frame through
    CLIP, Whisper over all audio (no voice detection), each file's stages one after another.
    """

    def __init__(self, library: Library, encoders: Encoders, settings: Settings, *,
                 asr: AsrBackend | None = None, naive: bool = False, progress: bool = True):
        self.library, self.encoders, self.settings = library, encoders, settings
        self._asr = asr
        self.naive, self.progress = naive, progress

    @property
    def asr(self) -> AsrBackend:
        if self._asr is None:
            self._asr = make_asr(self.settings, vad=not self.naive)
        return self._asr

    def index(self, paths: list, force: bool = False,
              on_file: Callable[[FileOutcome, int, int], None] | None = None) -> IndexReport:
        """Index ``paths``; ``on_file(outcome, done, total)`` is called after each file."""
        from tqdm import tqdm

        started = time.perf_counter()
        report = IndexReport(visual=self.encoders.clip is not None)
        files, problems = scan(paths)
        for path, why in problems:
            report.outcomes.append(FileOutcome(str(path), "failed", "scan", why))
        todo = []
        for path in files:
            known = self.library.known_file(str(path))
            stat = path.stat()
            if not force and known is not None and known.status == "indexed" and \
                    known.size == stat.st_size and abs(known.mtime - stat.st_mtime) < 1e-3:
                report.outcomes.append(FileOutcome(str(path), "skipped", reason="unchanged since last index"))
            else:
                todo.append(path)
        bar = tqdm(total=len(todo), unit="file", disable=not self.progress, dynamic_ncols=True)
        totals = dict.fromkeys(STAGES, 0.0)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode") as pool:
            pending: Future | None = None
            for i, path in enumerate(todo):
                future = pending or pool.submit(self._timed_decode, path)
                pending = pool.submit(self._timed_decode, todo[i + 1]) \
                    if not self.naive and i + 1 < len(todo) else None
                outcome = self._index_one(path, future)
                report.outcomes.append(outcome)
                for stage, seconds in outcome.timings.items():
                    totals[stage] = totals.get(stage, 0.0) + seconds
                bar.set_postfix_str(" ".join(f"{s} {totals[s]:.1f}s" for s in STAGES) +
                                    f" | {outcome.status}: {Path(outcome.path).name[:30]}")
                bar.update()
                if on_file is not None:
                    on_file(outcome, i + 1, len(todo))
        bar.close()
        report.wall_seconds = time.perf_counter() - started
        return report

    def _timed_decode(self, path: Path):
        started = time.perf_counter()
        try:
            return decode_isolated(path, self.settings, not self.naive), None, time.perf_counter() - started
        except IsolatedFailure as exc:
            return None, str(exc), time.perf_counter() - started

    def _index_one(self, path: Path, decoding: Future) -> FileOutcome:
        stat = path.stat() if path.exists() else os.stat_result((0,) * 10)
        outcome = FileOutcome(str(path), "failed")
        decoded, error, outcome.timings["decode"] = decoding.result()
        stage = "decode"
        try:
            if decoded is None:
                raise RuntimeError(error)
            outcome.duration = decoded.info.duration
            stage = "transcribe"
            t = time.perf_counter()
            transcript = self._transcribe(decoded)
            outcome.timings["transcribe"] = time.perf_counter() - t
            stage = "embed"
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
                segments=segments, models=models,
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
            decoded, error, _ = self._timed_decode(path)
            if decoded is None:
                raise RuntimeError(f"{path}: cannot decode the query clip: {error}")
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
