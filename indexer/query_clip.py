"""A clip or an image a user searches with, made into per-space vectors the way segments are.

Not an indexing job: nothing is written. A video is decoded in a child process (PyAV can crash
on damaged files, and uploads are untrusted) and its speech transcribed; an image is read with
Pillow. The whole clip is one moment, so all its frames are used.
"""
from __future__ import annotations

import dataclasses

from pathlib import Path

import numpy as np

from core.encoders import Encoders
from core.errors import InvalidInput, NotFound
from core.settings import Settings

from .decode import Decoded, DecodeOptions, decode_file
from .embed import query_vectors
from .isolate import IsolatedFailure, run_isolated
from .prepare import Preparer
from .scan import IMAGE_EXTENSIONS
from core.models.whisper import AsrBackend


class QueryClips:
    def __init__(self, encoders: Encoders, settings: Settings, asr: AsrBackend | None = None):
        self.encoders, self.settings = encoders, settings
        # No OCR for queries; every kept frame, since the whole clip is one moment.
        options = dataclasses.replace(DecodeOptions.from_settings(settings), screen_size=0, min_gap=0.0, faces=False)
        self.preparer = Preparer(settings, options, asr=asr, decode=self._decode_isolated)

    def _decode_isolated(self, path: str, options: DecodeOptions) -> Decoded:
        try:
            return run_isolated(decode_file, path, options, timeout=self.settings.file_timeout)
        except IsolatedFailure as exc:
            raise InvalidInput(f"{path}: cannot decode the query clip: {exc}") from exc

    def vectors(self, path: Path) -> dict[str, np.ndarray]:
        """Per-space vectors for a query clip or image."""
        path = Path(path)
        if not path.is_file():
            raise NotFound(f"{path}: no such file")
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            decoded = decode_image(path, self.settings.frame_size)
        else:
            decoded = self.preparer.decode(str(path), self.preparer.options)
        return query_vectors(decoded, self.preparer.transcribe(decoded), self.encoders, self.settings)


def decode_image(path: Path, short_side: int) -> Decoded:
    from PIL import Image, ImageOps

    from .probe import MediaInfo

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
    except Exception as exc:
        raise InvalidInput(f"{path}: not a readable image ({exc})") from exc
    scale = short_side / min(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
    info = MediaInfo(0.0, None, image.width, image.height, 0, "image", None, True, False)
    return Decoded(info, [np.array(image)], [0.0], [], None, {})


def recording_voice_of(path: Path, settings: Settings) -> np.ndarray:
    """The speaker vector of the voice in the recording at ``path`` (``similar --voice``), its
    audio decoded in a child process as every query file is; ``InvalidInput`` when it cannot be
    decoded or holds too little speech, ``ModelUnavailable`` without the encoder."""
    from core.models.voices import load_voice_encoder
    from search.voices import recording_voice

    from .decode import decode_audio

    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    encoder = load_voice_encoder(settings.onnx_cache_dir)
    try:
        audio = run_isolated(decode_audio, str(path), timeout=settings.file_timeout)
    except IsolatedFailure as exc:
        raise InvalidInput(f"{path}: cannot decode the recording: {exc}") from exc
    return recording_voice(encoder, audio, path)
