"""Text on screen (OCR): PP-OCRv4 detection and recognition on ONNX Runtime, via rapidocr-onnxruntime.

Its models ship inside the wheel, so it works offline. Detection runs first on every frame given;
a frame without text costs detection only. The angle classifier is off: text in video is upright
(slides, captions, signs), and it would cost a third pass. Frames come with their short side at
``size`` pixels: small text at 480p stays readable.
Lines below ``min_score`` are dropped (the recogniser's confidence); spaces it dropped between
words are put back (``ocr_spacing``).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import threading
from pathlib import Path

import numpy as np

from .base import ModelUnavailable
from .ocr_spacing import respace


@dataclasses.dataclass(frozen=True)
class ScreenLine:
    """One line of text read off a frame: its words, the recogniser's confidence, its box
    (x0, y0, x1, y1 as fractions of the frame's width and height)."""

    text: str
    score: float
    box: tuple[float, float, float, float]


def ocr_installed() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


class OcrReader:
    """``read(rgb frame) -> [ScreenLine]``; thread-safe (one frame at a time)."""

    def __init__(self, size: int = 480, min_score: float = 0.6, threads: int = 0,
                 det_model: Path | None = None):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise ModelUnavailable("on-screen text needs rapidocr-onnxruntime: pip install 'vidsearch[ocr]' "
                                   "(or set VIDSEARCH_OCR=off)") from exc
        # Detection sees the frame with its long side at 4/3 of ``size`` (640 px for 480p), a
        # quarter fewer pixels than the frame: small text is still found, and recognition reads
        # the lines from the full frame.
        options = {"use_cls": False, "text_score": float(min_score), "det_limit_side_len": round(size * 4 / 3),
                   "det_limit_type": "max"}
        if threads:
            options.update(intra_op_num_threads=int(threads), inter_op_num_threads=1)
        if det_model is not None:
            options["det_model_path"] = str(det_model)
        try:
            self.engine = RapidOCR(**options)
        except Exception as exc:
            raise ModelUnavailable(f"the OCR models could not be loaded: {exc}") from exc
        self.model_id = "rapidocr:PP-OCRv4"
        self.min_score = float(min_score)
        self._lock = threading.Lock()

    def read(self, frame: np.ndarray) -> list[ScreenLine]:
        height, width = frame.shape[:2]
        with self._lock:
            found, _ = self.engine(np.ascontiguousarray(frame[:, :, ::-1]), return_word_box=True)  # it wants BGR
        lines = []
        for item in found or []:
            box, text, score = item[0], str(item[1]).strip(), float(item[2])
            if not text or score < self.min_score:
                continue
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            spaced = respace(text, item[3]) if len(item) > 3 and item[3] else text
            lines.append(ScreenLine(spaced, round(score, 4),
                                    (round(min(xs) / width, 4), round(min(ys) / height, 4),
                                     round(max(xs) / width, 4), round(max(ys) / height, 4))))
        return lines
