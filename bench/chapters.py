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
    from indexer.chapter_titles import content_words

    _, heading, keys = section
    named = {_stem(w) for w in content_words(heading + " " + " ".join(k.replace("_", " ") for k in keys))}
    return bool(named & {_stem(w) for w in content_words(title)})


def overlapped(chapter, sections: list, duration: float) -> list:
    """The section that ``chapter`` (start, end) overlaps most."""
    edges = [s[0] for s in sections[1:]]
    spans = list(zip([0.0] + edges, edges + [duration]))
    best = max(range(len(sections)), key=lambda k: min(chapter[1], spans[k][1]) - max(chapter[0], spans[k][0]))
    return sections[best]


def index_talks(work_dir: Path, keep_index: bool):
    """(library, seconds indexing took or None when only chapters were made again) of the talks."""
    from core.encoders import Encoders
    from core.library import Library
    from core.settings import Settings
    from indexer.chapter_backfill import add_chapters
    from indexer.pipeline import Indexer

    settings = Settings(data_dir=work_dir / "index", clip_pretrained=str(work_dir / "no-clip-weights.pt"))
    if not keep_index and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    library, encoders = Library(settings), Encoders(settings)
    again = bool(keep_index and library.videos("indexed"))
    began = time.perf_counter()
    Indexer(library, encoders, settings, progress=False).index([work_dir / "videos"])
    if again:  # talks indexed before: their chapters made again by the code as it is now
        add_chapters(library, encoders, settings, [work_dir / "videos"], force=True)
    return library, None if again else time.perf_counter() - began


def index_footage(work_dir: Path, media: Path):
    """The real footage, indexed with an untrained CLIP (films need frames embedded to be indexed
    at all; chapters read none of the visual vectors); None when none is there."""
    from bench.throughput import untrained_clip
    from core.encoders import Encoders
    from core.library import Library
    from core.settings import Settings
    from indexer.pipeline import Indexer

    footage = work_dir / "footage"
    footage.mkdir(parents=True, exist_ok=True)
    for name in FOOTAGE:
        if (media / name).exists() and not (footage / name).exists():
            shutil.copyfile(media / name, footage / name)
    if not any(footage.iterdir()):
        return None
    settings = Settings(data_dir=work_dir / "footage-index", **untrained_clip(work_dir, "tiny"))
    library = Library(settings)
    Indexer(library, Encoders(settings), settings, progress=False).index([footage])
    return library


def talk_rows(library, labels: dict, show: bool) -> tuple[dict, float, float]:
    """({(split, kind): [right, found, true, titles that fit, titles]}, chapter seconds, video-hours)."""
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    seconds = hours = 0.0
    for video in library.videos("indexed"):
        label = labels[Path(video.path).name]
        marks, summary = library.chapters_of(video.id)
        marks = [m for m in marks if m.source == "computed"]
        seconds += (video.timings or {}).get("chapters", 0.0)
        hours += video.duration / 3600
        truth = [s[0] for s in label["sections"][1:]]
        right, found, true = border_counts([m.start for m in marks[1:]], truth)
        fits = sum(title_fits(m.title, overlapped((m.start, m.end), label["sections"], video.duration)) for m in marks)
        for key in ((label["split"], label["kind"]), (label["split"], "all")):
            for n, value in enumerate((right, found, true, fits, len(marks))):
                rows[key][n] += value
        if show:
            print(f"\n{Path(video.path).name}: sections at {', '.join(f'{t:.1f}' for t in truth)}")
            for m in marks:
                print(f"  {m.start:7.1f}  {m.title}")
            print("  summary: " + " | ".join(line[2][:60] for line in summary or []))
    return rows, seconds, hours


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chapters", description=__doc__.split("\n")[0])
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--keep-index", action="store_true", help="reuse the index in WORK_DIR; compute chapters again")
    parser.add_argument("--show", action="store_true", help="print every video's chapters beside its sections")
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media",
                        help="a folder holding the real footage (FOOTAGE); skipped where missing")
    args = parser.parse_args(argv)

    labels = build(args.work_dir / "videos")
    assert all(k in TOPICS for lab in labels.values() for _, _, keys in lab["sections"] for k in keys)
    library, wall = index_talks(args.work_dir, args.keep_index)
    rows, seconds, hours = talk_rows(library, labels, args.show)
    print(f"\n{'split':5} {'kind':7} {'borders':>7} {'P':>5} {'R':>5} {'F1':>5} {'titles':>6} {'fit':>5}")
    for (split, kind), (right, found, true, fits, marks) in sorted(rows.items()):
        p, r = right / found if found else 0.0, right / true if true else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{split:5} {kind:7} {true:>7} {p:5.2f} {r:5.2f} {f1:5.2f} {marks:>6} {fits / marks if marks else 0:5.2f}")
    print(f"\nchapters while indexing: {seconds:.2f} s for {hours:.3f} video-hours "
          f"({seconds / hours if hours else 0:.1f} s per video-hour)"
          + (f", {100 * seconds / wall:.2f}% of indexing ({wall:.0f} s)" if wall else ""))
    films = index_footage(args.work_dir, args.media)
    if films is not None:
        print(f"\n{'real footage':40} {'length':>7} {'shots':>5} {'chapters':>8}  titles")
        for video in films.videos("indexed"):
            marks = [m for m in films.chapters_of(video.id)[0] if m.source == "computed"]
            shots = sum(s.border is not None and s.border >= 1.0 for s in films.video_detail(video.id).segments)
            print(f"{Path(video.path).name:40} {video.duration:6.1f}s {shots:>5} {len(marks):>8}  "
                  + " | ".join(m.title for m in marks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
