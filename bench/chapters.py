"""How well chapters find topic borders and name them, on generated talks with known sections.

    python -m bench.chapters WORK_DIR [--keep-index]

Renders the talks of ``bench.chapters_corpus`` into WORK_DIR/videos, indexes them with the defaults
(speech only: no CLIP weights here, as in ``bench.quality``; OCR and voices as configured) and
compares each video's computed chapters with its sections:

- borders: a computed chapter start (other than 0) is right when a true section start lies within
  2 s and was not claimed by a nearer one; precision, recall and F1 per talk kind and split;
- titles: the share of computed chapters whose title shares a content word with the section they
  overlap most (its heading or the names of its topics);
- cost: the seconds chapters took while indexing (``timings["chapters"]``) per video-hour, and
  their share of the indexing time;
- real footage without labels (``--media``, default ``../shared/media``: Tears of Steel's battle
  clip, 30 s of Big Buck Bunny, a Popeye cartoon): how many chapters a film's many shots make.

With ``--keep-index`` an index already there is reused and chapters are computed again from the
catalog (``indexer.chapter_backfill``), which is how the weights were chosen on the dev talks.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.chapters_corpus import TOPICS, build

TOLERANCE = 2.0
FOOTAGE = ("tears-of-steel-battle-clip-medium.webm", "big_buck_bunny_0_30.webm", "popeye_sinbad_T03-4.mkv")


def border_counts(found: list[float], truth: list[float], tolerance: float = TOLERANCE) -> tuple[int, int, int]:
    """(right, found, true) borders, each true border claimed by its nearest found one at most."""
    pairs = sorted((abs(f - t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth) if abs(f - t) <= tolerance)
    used_f, used_t = set(), set()
    for _, i, j in pairs:
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
    return len(used_f), len(found), len(truth)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def title_fits(title: str, section: list) -> bool:
    """Does ``title`` share a content word with the section's heading or its topics' names?"""
    from indexer.chapters import content_words

    _, heading, keys = section
    named = {_stem(w) for w in content_words(heading + " " + " ".join(k.replace("_", " ") for k in keys))}
    return bool(named & {_stem(w) for w in content_words(title)})


def overlapped(chapter, sections: list, duration: float) -> list:
    """The section that ``chapter`` (start, end) overlaps most."""
    edges = [s[0] for s in sections[1:]]
    spans = list(zip([0.0] + edges, edges + [duration]))
    best = max(range(len(sections)), key=lambda k: min(chapter[1], spans[k][1]) - max(chapter[0], spans[k][0]))
    return sections[best]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chapters", description=__doc__.split("\n")[0])
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--keep-index", action="store_true", help="reuse the index in WORK_DIR; compute chapters again")
    parser.add_argument("--show", action="store_true", help="print every video's chapters beside its sections")
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media",
                        help="a folder holding the real footage (FOOTAGE); skipped where missing")
    args = parser.parse_args(argv)

    from core.library import Library
    from core.settings import Settings
    from indexer.chapter_backfill import add_chapters
    from indexer.pipeline import Indexer
    from core.encoders import Encoders

    labels = build(args.work_dir / "videos")
    assert all(k in TOPICS for lab in labels.values() for _, _, keys in lab["sections"] for k in keys)
    settings = Settings(data_dir=args.work_dir / "index", clip_pretrained=str(args.work_dir / "no-clip-weights.pt"))
    if not args.keep_index and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    library = Library(settings)
    began = time.perf_counter()
    footage = args.work_dir / "footage"
    footage.mkdir(parents=True, exist_ok=True)
    for name in FOOTAGE:
        if (args.media / name).exists() and not (footage / name).exists():
            shutil.copyfile(args.media / name, footage / name)
    indexed, encoders = bool(args.keep_index and library.videos("indexed")), Encoders(settings)
    Indexer(library, encoders, settings, progress=False).index([args.work_dir / "videos", footage])
    wall = None if indexed else time.perf_counter() - began
    if indexed:  # talks indexed before: their chapters made again by the code as it is now
        add_chapters(library, encoders, settings, [args.work_dir / "videos", footage], force=True)
    print(f"{'indexed' if wall else 'brought up to date, chapters made again'} in {time.perf_counter() - began:.0f} s",
          file=sys.stderr)

    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    films = []
    chapter_seconds, hours = 0.0, 0.0
    for video in library.videos("indexed"):
        marks = [m for m in library.chapters_of(video.id)[0] if m.source == "computed"]
        chapter_seconds += (video.timings or {}).get("chapters", 0.0)
        hours += video.duration / 3600
        label = labels.get(Path(video.path).name)
        if label is None:
            shots = sum(s.border is not None and s.border >= 1.0 for s in library.video_detail(video.id).segments)
            films.append((Path(video.path).name, video.duration, shots, marks))
            continue
        truth = [s[0] for s in label["sections"][1:]]
        right, found, true = border_counts([m.start for m in marks[1:]], truth)
        fits = sum(title_fits(m.title, overlapped((m.start, m.end), label["sections"], video.duration)) for m in marks)
        for key in ((label["split"], label["kind"]), (label["split"], "all")):
            row = rows[key]
            row[0] += right
            row[1] += found
            row[2] += true
            row[3] += fits
            row[4] += len(marks)
        if args.show:
            print(f"\n{Path(video.path).name}: sections at {', '.join(f'{t:.1f}' for t in truth)}")
            for m in marks:
                print(f"  {m.start:7.1f}  {m.title}")
            print("  summary: " + " | ".join(line[2][:60] for line in (library.chapters_of(video.id)[1] or [])))

    print(f"\n{'split':5} {'kind':7} {'borders':>7} {'P':>5} {'R':>5} {'F1':>5} {'titles':>6} {'fit':>5}")
    for (split, kind), (right, found, true, fits, marks) in sorted(rows.items()):
        p, r = right / found if found else 0.0, right / true if true else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{split:5} {kind:7} {true:>7} {p:5.2f} {r:5.2f} {f1:5.2f} {marks:>6} {fits / marks if marks else 0:5.2f}")
    if films:
        print(f"\n{'real footage':40} {'length':>7} {'shots':>5} {'chapters':>8}  titles")
        for name, duration, shots, marks in films:
            print(f"{name:40} {duration:6.1f}s {shots:>5} {len(marks):>8}  {' | '.join(m.title for m in marks)}")
    print(f"\nchapters while indexing: {chapter_seconds:.2f} s for {hours:.3f} video-hours "
          f"({chapter_seconds / hours if hours else 0:.1f} s per video-hour)"
          + (f", {100 * chapter_seconds / wall:.2f}% of indexing ({wall:.0f} s)" if wall else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
