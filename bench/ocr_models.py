"""OCR models side by side: what each reads and what it costs, on real footage with text drawn on it.

    python -m bench.ocr_models [--media ../shared/media] [--models ppocrv6-tiny,ppocrv6-small,ppocrv4]
                               [--det-sides 640] [--every 1.5] [--per-file 25]

Frames are taken from every video in ``--media`` (one per ``--every`` seconds, at most
``--per-file`` a file, scaled to 480 px high as the indexer reads them); each gets one to three
lines of 12-40 px drawn on it (DejaVu fonts, random words, colours and places, some on a plate).
Every model reads every frame with and without its lines, through vidsearch's own ``OcrReader``
(the detector on a copy whose long side is ``--det-sides``, lines recognised one at a time).
Prints per model: the median detection time of a frame, the median recognition time of a line,
the drawn lines read exactly (case and spacing aside) in all and by size, and the lines read on
the same frames without drawn text (real text in the footage, or mistakes). The models take turns
frame by frame, so a busy machine slows them alike.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import numpy as np

FONTS = Path("/usr/share/fonts/truetype/dejavu")
WORDS = ("quarterly results budget council weather storm forecast harbour election lecture physics "
         "energy market index report").split()
SIZES = (12, 14, 16, 20, 24, 30, 40)


def sample_frames(path: Path, every: float, most: int) -> list[np.ndarray]:
    import av
    import cv2

    frames, due = [], 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            at = float(frame.pts * stream.time_base) if frame.pts is not None else due
            if at + 1e-6 < due:
                continue
            due = at + every
            image = frame.to_ndarray(format="rgb24")
            height, width = image.shape[:2]
            frames.append(cv2.resize(image, (round(width * 480 / height), 480), interpolation=cv2.INTER_AREA))
            if len(frames) >= most:
                break
    return frames


def draw_lines(image: np.ndarray, rng: random.Random) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """The frame with one to three lines drawn on it, and (text, pixel size) of each."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.fromarray(image)
    pen, (width, height), lines, rows = ImageDraw.Draw(picture), picture.size, [], []
    fonts = sorted(FONTS.glob("DejaVu*.ttf"))
    for _ in range(rng.randint(1, 3)):
        size = rng.choice(SIZES)
        font = ImageFont.truetype(str(rng.choice(fonts)), size)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        right, bottom = pen.textbbox((0, 0), text, font=font)[2:]
        x, y = rng.randint(0, max(1, width - right - 2)), rng.randint(0, height - size - 4)
        if any(abs(y - other) < 45 for other in rows):
            continue  # lines apart: a reader joining two lines is not what is measured
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        if rng.random() < 0.5:
            pen.rectangle((x - 3, y - 3, x + right + 3, y + bottom + 3), fill=tuple(255 - c for c in colour))
        pen.text((x, y), text, font=font, fill=colour)
        lines.append((text, size))
        rows.append(y)
    return np.asarray(picture), lines


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--models", default="ppocrv6-tiny,ppocrv6-small,ppocrv4")
    parser.add_argument("--det-sides", default="640", help="detector input long sides, comma-separated")
    parser.add_argument("--every", type=float, default=1.5)
    parser.add_argument("--per-file", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from core.models.ocr import OcrReader

    videos = sorted(p for p in args.media.iterdir() if p.suffix in (".mp4", ".webm", ".mkv", ".mov"))
    if not videos:
        raise SystemExit(f"no videos in {args.media}")
    rng = random.Random(args.seed)
    plain = [frame for path in videos for frame in sample_frames(path, args.every, args.per_file)]
    drawn = [draw_lines(frame, rng) for frame in plain]
    readers = {}
    for model in args.models.split(","):
        for side in (int(s) for s in args.det_sides.split(",")):
            reader = OcrReader(480, 0.6, model=model)
            reader.det_side = side
            readers[f"{model} @{side}"] = reader
    results = {name: {"det": [], "rec": [], "exact": {}, "plain": 0} for name in readers}
    for (image, truth), background in zip(drawn, plain):
        for name, reader in readers.items():
            result = results[name]
            for picture, lines in ((image, truth), (background, None)):
                bgr = np.ascontiguousarray(picture[:, :, ::-1])
                started = time.perf_counter()
                boxes = reader._detect(bgr)
                detected = time.perf_counter()
                found = reader._recognise(bgr, boxes)
                result["det"].append((detected - started) * 1000)
                if boxes:
                    result["rec"].append((time.perf_counter() - detected) * 1000 / len(boxes))
                read = [_norm(line.text) for line in reader.lines(found, *picture.shape[1::-1])]  # as kept
                if lines is None:
                    result["plain"] += len(read)
                    continue
                joined = " | ".join(read)
                for text, size in lines:
                    hits = result["exact"].setdefault(size, [0, 0])
                    hits[0] += _norm(text) in read or _norm(text) in joined
                    hits[1] += 1
    total = sum(len(lines) for _, lines in drawn)
    print(f"{len(plain)} frames from {len(videos)} videos, {total} lines drawn; the detector at the long side given")
    print(f"{'model':<22} {'det ms':>7} {'rec ms/line':>12} {'exact':>9}  by size (px: exact/drawn){'':<30} {'plain':>6}")
    for name, result in results.items():
        exact = sum(h for h, _ in result["exact"].values())
        sizes = " ".join(f"{size}:{h}/{n}" for size, (h, n) in sorted(result["exact"].items()))
        print(f"{name:<22} {statistics.median(result['det']):7.1f} {statistics.median(result['rec'] or [0]):12.1f} "
              f"{exact:>4}/{total:<4}  {sizes:<55} {result['plain']:>6}")


if __name__ == "__main__":
    main()
