"""Copy descriptors: a 64-bit perceptual hash (DCT "pHash") of each sampled frame.

Why pHash: it keeps the frame's coarse layout of light and dark (the 8x8 lowest DCT frequencies
of a 32x32 grey image, each bit one coefficient above or below their median), which survives
re-encoding, scaling and changes of frame rate, and moves only a few bits under a small crop.
Black borders (letterbox, pillarbox) are cut off first so a boxed copy hashes like its source.
Frames that are nearly flat (black, one colour, a fade) say nothing about where they came from:
they get no hash (``informative`` is False) rather than one that matches every other black frame.

Each sample is hashed in two views: the whole picture and its centre (``CENTRE`` of each side).
A copy cropped by a fifth shows what its source's centre shows, so its whole view matches the
source's centre view; and overlays at the edges (a logo in a corner, a news strap) leave the
centre views of both closer than their whole views.
"""
from __future__ import annotations

import numpy as np

HASH_ID = "phash64-v3"  # changes when the hash does: stored descriptors of another id are recomputed
# v2: each sample also has the hash of its frame mirrored (a mirrored copy matches its source).
# v3: two views per sample (whole, centre); a logo or caption over a black band keeps it a band.
CENTRE = 0.8  # the centre view: this share of the picture's width and height
GREY_SIZE = 128  # frames come in as grey squares this big (aspect does not matter: both copies squash alike)
_BORDER_MEAN = 28.0  # a row or column darker than this on average ...
_BORDER_SPREAD = 12.0  # ... and this even is a border
_CORNER = 0.2  # the share of a row's or column's length at either end its judgement leaves out
_MAX_BORDER = 0.3  # never cut more than this share of a side
_FLAT = 8.0  # grey levels: a frame whose content varies less than this is not informative


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


_DCT32 = _dct_matrix(32)
_BITS = (1 << np.arange(64, dtype=np.uint64)).astype(np.uint64)
_MIRROR = np.where(np.arange(8) % 2, -1.0, 1.0)[None, :]  # the sign of each horizontal frequency under a mirror


def _border(profile_mean: np.ndarray, profile_spread: np.ndarray) -> int:
    """How many leading rows (or columns) are a dark, even border."""
    limit = int(len(profile_mean) * _MAX_BORDER)
    n = 0
    while n < limit and profile_mean[n] < _BORDER_MEAN and profile_spread[n] < _BORDER_SPREAD:
        n += 1
    return n


def crop_borders(grey: np.ndarray) -> np.ndarray:
    """``grey`` without dark, even bands at its edges. A row is judged by its middle (the
    ``_CORNER`` share at either end left out) and a column likewise, since corners are where
    logos go: a logo over a band keeps neither its rows nor its columns from being a band."""
    h, w = grey.shape
    dy, dx = int(h * _CORNER), int(w * _CORNER)
    rows, cols = grey[:, dx:w - dx], grey[dy:h - dy, :]
    rows_mean, rows_spread = rows.mean(axis=1), rows.std(axis=1)
    cols_mean, cols_spread = cols.mean(axis=0), cols.std(axis=0)
    top = _border(rows_mean, rows_spread)
    bottom = _border(rows_mean[::-1], rows_spread[::-1])
    left = _border(cols_mean, cols_spread)
    right = _border(cols_mean[::-1], cols_spread[::-1])
    return grey[top:h - bottom, left:w - right]


def _resize(grey: np.ndarray, size: int) -> np.ndarray:
    """Area-average ``grey`` to size x size (each output pixel the mean of its source block)."""
    h, w = grey.shape
    rows = np.linspace(0, h, size + 1).astype(int)
    cols = np.linspace(0, w, size + 1).astype(int)
    rows[1:] = np.maximum(rows[1:], rows[:-1] + 1)
    cols[1:] = np.maximum(cols[1:], cols[:-1] + 1)
    rows, cols = np.minimum(rows, h), np.minimum(cols, w)
    summed = np.add.reduceat(np.add.reduceat(grey, rows[:-1], axis=0), cols[:-1], axis=1)
    counts = np.diff(rows)[:, None] * np.diff(cols)[None, :]
    return summed / np.maximum(counts, 1)


def frame_hashes(grey: np.ndarray) -> tuple[int, int, bool]:
    """(hash, hash of the frame mirrored left to right, informative) of a grey frame (uint8 or
    float, HxW), hashes as unsigned 64-bit ints. Mirroring a picture keeps each DCT coefficient
    and flips the sign of those of odd horizontal frequency, so the mirrored hash costs no second
    transform; a mirrored copy's hashes are its source's mirrored hashes."""
    found = view_hashes(grey, views=1)
    return (*found[0], True) if found else (0, 0, False)


def view_hashes(grey: np.ndarray, views: int = 2) -> list[tuple[int, int]]:
    """[(hash, mirrored hash)] of the whole frame and, with ``views`` 2, of its centre; [] when
    the frame is not informative."""
    content = crop_borders(np.asarray(grey, np.float64))
    if content.shape[0] < 8 or content.shape[1] < 8 or content.std() < _FLAT:
        return []
    h, w = content.shape
    dy, dx = int(round(h * (1 - CENTRE) / 2)), int(round(w * (1 - CENTRE) / 2))
    pictures = [content, content[dy:h - dy, dx:w - dx]][:views]
    return [_hash_pair(picture) for picture in pictures]


def _hash_pair(picture: np.ndarray) -> tuple[int, int]:
    small = _resize(picture, 32)
    low = (_DCT32 @ small @ _DCT32.T)[:8, :8]
    return _bits(low.reshape(-1)), _bits((low * _MIRROR).reshape(-1))


def frame_hash(grey: np.ndarray) -> tuple[int, bool]:
    """(hash, informative) of a grey frame: ``frame_hashes`` without the mirrored one."""
    value, _, informative = frame_hashes(grey)
    return value, informative


def _bits(low: np.ndarray) -> int:
    bits = (low > np.median(low)).astype(np.uint64)
    return int((bits * _BITS).sum(dtype=np.uint64))


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit differences between uint64 hashes (broadcasting)."""
    x = np.atleast_1d(np.bitwise_xor(np.asarray(a, np.uint64), np.asarray(b, np.uint64)))
    counts = np.unpackbits(x.view(np.uint8).reshape(*x.shape, 8), axis=-1).sum(axis=-1)
    return counts if np.ndim(a) or np.ndim(b) else counts[0]
