"""Voices: a speaker vector for a stretch of speech, from Resemblyzer's packaged encoder run by numpy.

Resemblyzer's wheel ships a GE2E speaker encoder (a 3-layer LSTM over 40 mel bands of 25 ms
windows every 10 ms, read 1.6 s at a time, then a ReLU projection to a unit 256-d vector): two
stretches of one voice lie closer than stretches of two voices, whatever is said and in which
language. Only its weights file is used (``core.machine.voice_model_file``): the package's own
code would import librosa and webrtcvad. Here the mel frames are computed as librosa computes
them (centred, zero-padded periodic Hann STFT, power spectrum, Slaney mel filters) and the LSTM
runs in numpy, so indexing and a voice query never import torch for it; the weights are read
from the PyTorch file once (``torch.load``) and kept as an ``.npz`` named by the file's stat.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
from pathlib import Path

import numpy as np

from ..files import write_atomically
from ..machine import voice_model_file
from .base import ModelUnavailable

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
_WINDOW, _HOP, _MELS = 400, 160, 40  # 25 ms, 10 ms, 40 bands (the encoder's training)
PARTIAL_FRAMES = 160  # 1.6 s of frames per read
PARTIAL_SECONDS = PARTIAL_FRAMES * _HOP / SAMPLE_RATE
_LOUDNESS_DBFS = -30.0  # quieter speech is raised to this before reading (as Resemblyzer does)
_LAYERS = 3


def voice_model_id(path: Path) -> str:
    return f"resemblyzer-ge2e:{os.path.getsize(path)}"


def _mel_filters() -> np.ndarray:
    """(40, 201) Slaney mel filters, normalised by band width, as librosa.filters.mel makes them."""
    def hz_to_mel(hz):
        hz = np.asarray(hz, np.float64)
        linear = hz / (200.0 / 3)
        return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (math.log(6.4) / 27.0), linear)

    def mel_to_hz(mel):
        mel = np.asarray(mel, np.float64)
        return np.where(mel >= 15.0, 1000.0 * np.exp((math.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))

    bins = np.linspace(0, SAMPLE_RATE / 2, 1 + _WINDOW // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), _MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    lower, upper = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    filters = np.maximum(0, np.minimum(lower, upper))
    return (filters * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


_FILTERS = _mel_filters()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_WINDOW) / _WINDOW)).astype(np.float32)


def mel_frames(audio: np.ndarray) -> np.ndarray:
    """(frames, 40) float32 power mel frames of 16 kHz mono audio, one every 10 ms."""
    audio = np.asarray(audio, np.float32)
    padded = np.pad(audio, _WINDOW // 2)
    count = 1 + (len(padded) - _WINDOW) // _HOP
    if count <= 0:
        return np.zeros((0, _MELS), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, _WINDOW)[::_HOP][:count] * _HANN
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return (power.astype(np.float32) @ _FILTERS.T).astype(np.float32)


def louder(audio: np.ndarray) -> np.ndarray:
    """Speech quieter than -30 dBFS raised to it (never lowered): the encoder reads power, not log."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    if rms <= 0:
        return audio
    gain = 10 ** ((_LOUDNESS_DBFS - 20 * math.log10(rms)) / 20)
    return audio * np.float32(gain) if gain > 1 else audio


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


class VoiceEncoder:
    """``embed_partials(mels)`` and ``embed(audio)`` -> unit 256-d speaker vectors."""

    def __init__(self, weights: Path, cache_dir: Path):
        self.model_id = voice_model_id(weights)
        state = _load_weights(Path(weights), Path(cache_dir))
        self._layers = [(state[f"lstm.weight_ih_l{i}"].T.copy(), state[f"lstm.weight_hh_l{i}"].T.copy(),
                         state[f"lstm.bias_ih_l{i}"] + state[f"lstm.bias_hh_l{i}"]) for i in range(_LAYERS)]
        self._linear = (state["linear.weight"].T.copy(), state["linear.bias"])
        self.dim = int(self._linear[1].shape[0])

    def embed_partials(self, mels: np.ndarray, batch: int = 256) -> np.ndarray:
        """(n, frames, 40) mel reads -> (n, 256) unit vectors."""
        if len(mels) == 0:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate([self._forward(mels[i:i + batch]) for i in range(0, len(mels), batch)])

    def _forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        count, steps = x.shape[:2]
        for w_ih, w_hh, bias in self._layers:
            size = w_hh.shape[0]
            inputs = x @ w_ih + bias  # every step's input part at once
            h = np.zeros((count, size), np.float32)
            c = np.zeros((count, size), np.float32)
            out = np.empty((count, steps, size), np.float32)
            for t in range(steps):
                gates = inputs[:, t] + h @ w_hh
                i, f, g, o = (gates[:, k * size:(k + 1) * size] for k in range(4))  # PyTorch's order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                out[:, t] = h
            x = out
        weight, bias = self._linear
        embedded = np.maximum(h @ weight + bias, 0)
        return (embedded / np.maximum(np.linalg.norm(embedded, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def embed(self, audio: np.ndarray) -> np.ndarray | None:
        """One vector for all of ``audio`` (one speaker's speech): the mean of its 1.6-s reads
        (every 0.8 s), re-normalised; None for under half a second."""
        if len(audio) < SAMPLE_RATE // 2:
            return None
        mels = mel_frames(louder(audio))
        starts = range(0, max(1, len(mels) - PARTIAL_FRAMES // 2), PARTIAL_FRAMES // 2)
        reads = np.stack([_fit(mels[s:s + PARTIAL_FRAMES]) for s in starts])
        mean = self.embed_partials(reads).mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def load_voice_encoder(cache_dir: Path) -> VoiceEncoder:
    """The packaged encoder (its converted weights kept in ``cache_dir``), or ``ModelUnavailable``
    saying how to install it."""
    weights = voice_model_file()
    if weights is None:
        raise ModelUnavailable("the voice encoder is not installed: pip install --no-deps resemblyzer")
    return VoiceEncoder(weights, cache_dir)


def _fit(mels: np.ndarray) -> np.ndarray:
    """A read of exactly 1.6 s: a shorter one zero-padded at the end (as Resemblyzer pads)."""
    if len(mels) >= PARTIAL_FRAMES:
        return mels[:PARTIAL_FRAMES]
    return np.pad(mels, ((0, PARTIAL_FRAMES - len(mels)), (0, 0)))


def _load_weights(path: Path, cache_dir: Path) -> dict[str, np.ndarray]:
    """The encoder's weights as arrays: from the ``.npz`` kept for this file's stat, else read
    from the PyTorch file (once) and kept."""
    stat = path.stat()
    key = hashlib.blake2b(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode(), digest_size=8).hexdigest()
    kept = cache_dir / f"voice-encoder-{key}.npz"
    try:
        with np.load(kept) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError):
        pass
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
    arrays = {name: tensor.numpy().astype(np.float32) for name, tensor in state.items()
              if name.startswith(("lstm.", "linear."))}
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(kept, lambda out: np.savez(out, **arrays))
    return arrays
