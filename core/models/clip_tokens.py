"""CLIP's byte-pair tokenizer without torch: the token ids open_clip's ``SimpleTokenizer`` gives.

open_clip's tokenizer is plain Python, but importing it imports open_clip, which imports torch,
torchvision and transformers: seconds before a text query can start. This is the same algorithm
over the same merges file (``bpe_simple_vocab_16e6.txt.gz``, which the CLIP export copies into
its cache folder): text cleaned with ftfy and HTML unescaping, whitespace collapsed, lower-cased,
split by CLIP's pattern, each piece's UTF-8 bytes merged by rank, framed by start- and
end-of-text, cut to the context length with end-of-text kept last. A test compares the ids with
open_clip's on thousands of strings.
"""
from __future__ import annotations

import gzip
import html
from functools import lru_cache
from pathlib import Path

import numpy as np

_MERGES = 49152 - 256 - 2  # the merges CLIP's vocabulary holds (the file has more)
SPECIAL = ("<start_of_text>", "<end_of_text>")


@lru_cache(maxsize=1)
def byte_symbols() -> dict[int, str]:
    """Each byte as a printable character (GPT-2's table): merges work on these, never on raw bytes."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols = dict(zip(printable, map(chr, printable)))
    extra = 0
    for byte in range(256):
        if byte not in symbols:
            symbols[byte] = chr(256 + extra)
            extra += 1
    return symbols


def clean(text: str) -> str:
    """open_clip's default cleaning ("lower"): ftfy, HTML entities twice, whitespace, lower case."""
    import ftfy

    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).strip().lower()


class ClipTokenizer:
    """``tokenizer(texts) -> int64 array (len(texts) x context_length)``, zero-padded."""

    def __init__(self, merges_path: Path, context_length: int = 77):
        import regex

        with gzip.open(merges_path, "rt", encoding="utf-8") as handle:
            lines = handle.read().split("\n")[1:_MERGES + 1]
        merges = [tuple(line.split()) for line in lines]
        symbols = list(byte_symbols().values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + list(SPECIAL)
        self.ids = {token: i for i, token in enumerate(vocab)}
        self.ranks = {merge: i for i, merge in enumerate(merges)}
        self.sot, self.eot = self.ids[SPECIAL[0]], self.ids[SPECIAL[1]]
        self.context_length = context_length
        self._cache: dict[str, list[int]] = {}
        self._pattern = regex.compile(
            "|".join(SPECIAL) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", regex.IGNORECASE)

    def _word(self, piece: str) -> list[int]:
        """One piece of text (already as byte symbols) -> its ids, by merging the best-ranked pair."""
        found = self._cache.get(piece)
        if found is not None:
            return found
        if piece in SPECIAL:
            found = [self.ids[piece]]
        else:
            parts = list(piece[:-1]) + [piece[-1] + "</w>"]
            while len(parts) > 1:
                pairs = {(a, b) for a, b in zip(parts, parts[1:])}
                best = min(pairs, key=lambda pair: self.ranks.get(pair, float("inf")))
                if best not in self.ranks:
                    break
                merged, i = [], 0
                while i < len(parts):
                    if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                        merged.append(parts[i] + parts[i + 1])
                        i += 2
                    else:
                        merged.append(parts[i])
                        i += 1
                parts = merged
            found = [self.ids[part] for part in parts]
        if len(self._cache) < 100_000:
            self._cache[piece] = found
        return found

    def encode(self, text: str) -> list[int]:
        symbols = byte_symbols()
        ids: list[int] = []
        for piece in self._pattern.findall(clean(text)):
            ids += self._word("".join(symbols[b] for b in piece.encode("utf-8")))
        return ids

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.context_length), np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot, *self.encode(text), self.eot]
            if len(ids) > self.context_length:
                ids = ids[:self.context_length]
                ids[-1] = self.eot
            out[row, :len(ids)] = ids
        return out
