"""Text on screen (OCR): PP-OCRv4 detection and recognition on ONNX Runtime, via rapidocr-onnxruntime.

Its models ship inside the wheel, so it works offline. Detection runs first on every frame given;
a frame without text costs detection only. The angle classifier is off: text in video is upright
(slides, captions, signs), and it would cost a third pass. Frames come with their short side at
``size`` pixels: small text at 480p stays readable. Detection sees a smaller copy (long side 4/3 of
``size``): RapidOCR's own size option is ignored for frames under 960 px, and finding where lines
are needs fewer pixels than reading them; recognition reads each line from the full frame.
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
        # "max": RapidOCR never enlarges what it is given (its default, "min", scales 480p frames up to 736 px).
        # rec_batch_num 1: a batch is padded to its widest line (a slide title is four times as
        # wide as a bullet), which made reading a slide twice as slow as one line at a time.
        options = {"use_cls": False, "text_score": float(min_score), "det_limit_type": "max", "rec_batch_num": 1}
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
        self.det_side = round(size * 4 / 3)
        self._lock = threading.Lock()

    def read(self, frame: np.ndarray) -> list[ScreenLine]:
        height, width = frame.shape[:2]
        image = np.ascontiguousarray(frame[:, :, ::-1])  # it wants BGR
        with self._lock:
            found = self._recognise(image, self._detect(image))
        lines = []
        for box, (text, score, char_boxes, *_) in found:
            text, score = str(text).strip(), float(score)
            if not text or score < self.min_score:
                continue
            xs, ys = box[:, 0], box[:, 1]
            spaced = respace(text, char_boxes) if char_boxes else text
            lines.append(ScreenLine(spaced, round(score, 4),
                                    (round(float(xs.min()) / width, 4), round(float(ys.min()) / height, 4),
                                     round(float(xs.max()) / width, 4), round(float(ys.max()) / height, 4))))
        return lines

    def _detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Line boxes (4 corners, full-frame pixels, reading order), found on a smaller copy."""
        import cv2

        height, width = image.shape[:2]
        scale = min(1.0, self.det_side / max(height, width))
        small = image if scale == 1.0 else cv2.resize(
            image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
        boxes, _ = self.engine.text_det(small)
        if boxes is None or len(boxes) == 0:
            return []
        limit = np.array([width, height], dtype=np.float32)
        return [np.clip(box / scale, 0, limit).astype(np.float32) for box in self.engine.sorted_boxes(boxes)]

    def _recognise(self, image: np.ndarray, boxes: list[np.ndarray]) -> list[tuple[np.ndarray, list]]:
        """(box, [text, score, character boxes, ...]) per line."""
        if not boxes:
            return []
        crops = self.engine.get_crop_img_list(image, boxes)
        recognised, _ = self.engine.text_rec(crops, True)
        return list(zip(boxes, self.engine.cal_rec_boxes(crops, boxes, recognised)))
