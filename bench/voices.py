"""Who speaks when: diarization error rate on recordings composed from real voices.

    python -m bench.voices [--media ../shared/media] [--set dev|test|both] [--threshold 0.4,0.5]

Seven real speakers from ``../shared/media`` (PROVENANCE.md): John F. Kennedy (``jfk.flac``),
the two speakers of ``stereo_diarization.wav`` (one per channel), the English and the German
reader of ``multilingual.mp3`` (two voices, 0.66 apart against 0.96 within one), and the speakers
of ``sr_english.wav`` and ``sr_french.wav``. Each speaker's audio is cut at pauses into pieces of
2-8 s; a recording strings 8-14 pieces of 3-5 speakers in random order, a speaker often coming
back, with gaps of 0 (one voice right after another), 0.2, 0.5 or 1 s. The truth of a piece is its
span from first to last voiced sound. ``dev`` recordings (seeds 1-4) are where the threshold was
chosen; ``test`` recordings (seeds 101-106) were not looked at for it.

The hypothesis is what indexing computes: Silero's voiced stretches, then
``indexer.voices.diarize``. DER is scored per 10-ms frame with a 0.25-s collar around every true
border (the usual md-eval convention), the hypothesis' speakers mapped one-to-one onto the true
ones to agree most (Hungarian): missed speech + false alarm + confusion, over true speech.
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

RATE = 16_000
FRAME = 0.01
COLLAR = 0.25
SETS = {"dev": range(1, 5), "test": range(101, 107)}


def _channel(path: Path, channel: int) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=RATE)
        chunks = [out.to_ndarray() for frame in container.decode(container.streams.audio[0])
                  for out in resampler.resample(frame)]
    both = np.concatenate(chunks, axis=1)
    return np.ascontiguousarray(both[0, channel::2] if both.shape[0] == 1 else both[channel], np.float32)


def speakers(media: Path) -> dict[str, np.ndarray]:
    from indexer.decode import decode_audio

    multilingual = decode_audio(str(media / "multilingual.mp3"))
    return {"jfk": decode_audio(str(media / "jfk.flac")),
            "left": _channel(media / "stereo_diarization.wav", 0),
            "right": _channel(media / "stereo_diarization.wav", 1),
            "reader_en": multilingual[:29 * RATE], "reader_de": multilingual[31 * RATE:],
            "sr_en": decode_audio(str(media / "sr_english.wav")),
            "sr_fr": decode_audio(str(media / "sr_french.wav"))}


def pieces(audio: np.ndarray, rng: random.Random) -> list[np.ndarray]:
    """The speaker's speech cut at pauses into pieces of about 2-8 s (shorter material: one
    piece), each from its first to its last voiced sound."""
    from core.models.vad import voiced_spans

    out, start, end, target = [], None, None, rng.uniform(2, 8)
    for s, e in voiced_spans(audio):
        start, end = (s if start is None else start), e
        if end - start >= target:
            out.append((start, end))
            start, target = None, rng.uniform(2, 8)
    if start is not None and end - start >= 0.8:
        out.append((start, end))
    return [audio[int(s * RATE):int(e * RATE)] for s, e in out]


def compose(seed: int, material: dict[str, list[np.ndarray]]) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """One recording and its truth [(start, end, speaker)]."""
    rng = random.Random(seed)
    cast = rng.sample(sorted(material), rng.randint(3, 5))
    audio, truth, at = [np.zeros(int(0.5 * RATE), np.float32)], [], 0.5
    previous = None
    for _ in range(rng.randint(8, 14)):
        speaker = rng.choice([s for s in cast if s != previous])
        piece = rng.choice(material[speaker])
        gap = rng.choice([0.0, 0.2, 0.5, 1.0])
        audio += [np.zeros(int(gap * RATE), np.float32), piece]
        at += gap
        truth.append((round(at, 2), round(at + len(piece) / RATE, 2), speaker))
        at += len(piece) / RATE
        previous = speaker
    audio.append(np.zeros(int(0.5 * RATE), np.float32))
    return np.concatenate(audio), truth


def der(truth: list[tuple[float, float, str]], turns, length: float) -> dict:
    """Missed, false alarm, confusion and DER (seconds and share of true speech)."""
    from scipy.optimize import linear_sum_assignment

    frames = int(length / FRAME) + 1
    names = sorted({t[2] for t in truth})
    ref = np.full(frames, -1)
    scored = np.ones(frames, bool)
    for start, end, name in truth:
        ref[int(start / FRAME):int(end / FRAME)] = names.index(name)
    for start, end, _ in truth:
        for border in (start, end):
            scored[max(0, int((border - COLLAR) / FRAME)):int((border + COLLAR) / FRAME)] = False
    hyp = np.full(frames, -1)
    for turn in turns:
        hyp[int(turn.start / FRAME):int(turn.end / FRAME)] = turn.speaker
    ref, hyp = ref[scored], hyp[scored]
    speakers = int(hyp.max()) + 1 if (hyp >= 0).any() else 0
    overlap = np.zeros((len(names), max(speakers, 1)))
    for r, h in zip(ref, hyp):
        if r >= 0 and h >= 0:
            overlap[r, h] += 1
    rows, cols = linear_sum_assignment(-overlap)
    matched = overlap[rows, cols].sum()
    speech = (ref >= 0).sum()
    missed = ((ref >= 0) & (hyp < 0)).sum()
    false_alarm = ((ref < 0) & (hyp >= 0)).sum()
    confusion = ((ref >= 0) & (hyp >= 0)).sum() - matched
    return {"speech": speech * FRAME, "missed": missed * FRAME, "false_alarm": false_alarm * FRAME,
            "confusion": confusion * FRAME, "der": (missed + false_alarm + confusion) / max(speech, 1),
            "speakers": (len(names), speakers)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media")
    parser.add_argument("--set", default="both", choices=("dev", "test", "both"))
    parser.add_argument("--threshold", default="", help="cosine distances to try (default: the product's)")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "vidsearch" / "models")
    args = parser.parse_args(argv)

    from core.models.vad import voiced_spans
    from core.models.voices import load_voice_encoder
    from indexer.voices import THRESHOLD, diarize

    encoder = load_voice_encoder(args.cache_dir)
    rng = random.Random(0)
    material = {name: pieces(audio, rng) for name, audio in speakers(args.media).items()}
    thresholds = [float(t) for t in args.threshold.split(",") if t] or [THRESHOLD]
    print("DER on recordings composed from 7 real voices (collar 0.25 s); seconds of true speech, "
          "missed, false alarm, confusion")
    print(f"{'set':<5} {'threshold':>9} {'recordings':>10} {'speech s':>8} {'missed':>7} {'false al.':>9} "
          f"{'confusion':>9} {'DER':>6} {'speakers true/found':>20} {'s per min':>9}")
    for name in (("dev", "test") if args.set == "both" else (args.set,)):
        recordings = [compose(seed, material) for seed in SETS[name]]
        voiced = [voiced_spans(audio) for audio, _ in recordings]
        for threshold in thresholds:
            total = {"speech": 0.0, "missed": 0.0, "false_alarm": 0.0, "confusion": 0.0}
            counts, seconds, minutes = [], 0.0, 0.0
            for (audio, truth), spans in zip(recordings, voiced):
                began = time.perf_counter()
                found = diarize(audio, spans, encoder, threshold=threshold)
                seconds += time.perf_counter() - began
                minutes += len(audio) / RATE / 60
                scores = der(truth, found.turns, len(audio) / RATE)
                for key in total:
                    total[key] += scores[key]
                counts.append("%d/%d" % scores["speakers"])
            error = (total["missed"] + total["false_alarm"] + total["confusion"]) / total["speech"]
            print(f"{name:<5} {threshold:9.2f} {len(recordings):10d} {total['speech']:8.1f} {total['missed']:7.1f} "
                  f"{total['false_alarm']:9.1f} {total['confusion']:9.1f} {error:6.1%} {' '.join(counts):>20} "
                  f"{seconds / minutes:9.2f}", flush=True)


if __name__ == "__main__":
    main()
