"""Copy detection: transformed copies and hard distractors, aligned spans against the truth.

    python -m bench.copies [--media ../shared/media] [--sources 16] [--out bench-out/copies]

Sources are distinct pieces of footage: windows of the real films in ``--media`` (when present)
and generated animations (Game of Life, cellular automata, each its own seed; Mandelbrot zooms,
each into its own place).
Each source gets one copy per transformation (re-encode, another codec, half size, 10% crop, letterbox,
pillarbox, another frame rate, 5 s trimmed off each end, mirrored; and what broadcasters and
re-uploaders do: a fifth cropped and padded to 16:9, grey, colour shifted, blurred, noisy, a logo
and a news strap, 5% faster and 7% slower, and the combinations mirrored+cropped+grey and
crop+pad+colour+logo) and lends a 12 s excerpt to a compilation at a known offset. Distractors are unrelated videos that share a black intro or a
test card, and talks over one static slide background. A found span is right when its pair of
videos really shares footage there (at least half of it overlaps the true span on both sides) and
its offset is the true one within 1 s; ``within 1s`` is the share of right spans whose four
edges are within 1 s of the truth. Groups are checked whole: a false group joins videos that are
not one footage.

Sound, the second witness: the films' windows keep their soundtracks and each generated source
is narrated (espeak-ng, its own sentences, one voice for all: the same narrator over other
footage is a distractor of its own). The crop+pad and logo+text copies keep it, as a
broadcaster's would; every other copy above is silent, so the pictures are measured alone there.
Three families carry sound: the source as an inset of a quarter of the
frame over other footage with its sound (``inset``), the same inset silent (``inset, silent``:
the pictures alone), and other pictures under the source's sound (``same sound``: they share
sound and no footage). A span found by the sound alone is right when the pair shares that sound
there; a span with a picture witness only where footage is shared; a group only of one footage.
"""
from __future__ import annotations

import argparse
import collections
import os
import dataclasses
import subprocess
import time
from pathlib import Path

from bench.corpus import FONTS
from bench.quality_topics import LECTURES
from indexer.decode import DecodeOptions, decode_file
from search.copies.align import Descriptors
from search.copies.finder import find_copies
from search.copies.groups import FileFacts
from search.copies.sound import sound_landmarks

SOUND_KEPT = ("crop+pad", "logo+text")  # a broadcaster's re-framing keeps the sound; the other copies are silent
TOPICS = [topic for lecture in LECTURES for topic in lecture.topics]  # what the generated sources say
TRANSFORMS = {  # name: ffmpeg arguments (the copy keeps the source's timeline unless said: trim, speed)
    "re-encode": "-c:v libx264 -crf 34 -preset veryfast",
    "other codec": "-c:v mpeg4 -q:v 10",
    "half size": "-vf scale=iw/2:-2",
    "crop 10%": "-vf crop=iw*0.9:ih*0.9",
    "letterbox": "-vf scale=480:200,pad=480:360:0:80",
    "pillarbox": "-vf scale=300:360,pad=480:360:90:0",
    "frame rate": "-r 15",
    "trim 5s": "-ss 5 -t {trimmed}",
    "mirror": "-vf hflip",
    # what broadcasters and re-uploaders do, alone and at once (VSC22's and VCSL's families)
    "crop+pad": "-vf 'crop=iw*0.8:ih*0.8,scale=480:270:force_original_aspect_ratio=decrease:force_divisible_by=2,"
                "pad=480:270:(ow-iw)/2:(oh-ih)/2'",
    "grey": "-vf hue=s=0",
    "colour": "-vf eq=brightness=0.06:contrast=1.3:saturation=1.5:gamma=1.2,hue=h=40",
    "blur": "-vf gblur=sigma=2.5",
    "noise": "-vf noise=alls=30:allf=t+u",
    "logo+text": f"-vf \"drawbox=x=iw-iw/5-8:y=8:w=iw/5:h=ih/8:color=red@0.85:t=fill,"
                 f"drawtext=fontfile={FONTS}/DejaVuSans-Bold.ttf:text='BREAKING NEWS 24':fontsize=h/14:"
                 f"fontcolor=white:box=1:boxcolor=black@0.7:x=10:y=h-th-14\"",
    "mirror+crop+grey": "-vf hflip,crop=iw*0.85:ih*0.85,hue=s=0",
    "speed 1.05": "-vf setpts=PTS/1.05 -r 25",
    "speed 0.93": "-vf setpts=PTS/0.93 -r 25",
    "crop+pad+colour+logo": "-vf 'crop=iw*0.8:ih*0.8,scale=480:270:force_original_aspect_ratio=decrease:"
                            "force_divisible_by=2,pad=480:270:(ow-iw)/2:(oh-ih)/2,eq=contrast=1.2:gamma=0.85,"
                            "drawbox=x=iw-90:y=10:w=80:h=30:color=yellow@0.9:t=fill'",
}


@dataclasses.dataclass
class Piece:
    """``video``'s [start, end) shows ``source`` from ``source_start`` on."""

    start: float
    end: float
    source: str
    source_start: float
    rate: float = 1.0  # seconds of the source a second of this video shows (a speed change)
    picture: bool = True  # shows the source's pictures (large or small)
    sound: bool = False  # carries the source's sound

    def source_end(self) -> float:
        return self.source_start + (self.end - self.start) * self.rate

    def at(self, source_time: float) -> float:
        """This video's time of ``source_time``."""
        return self.start + (source_time - self.source_start) / self.rate


def _ffmpeg(args: str) -> None:
    """Run ffmpeg whose last argument is the output file, unless that file was made before."""
    if Path(args.split()[-1]).exists():
        return
    partial = args.split()[-1] + ".part.mp4"
    subprocess.run(f"ffmpeg -nostdin -loglevel error -y {args[:args.rindex(' ')]} {partial}", shell=True, check=True)
    Path(partial).rename(args.split()[-1])


_RULES = [30, 45, 73, 75, 86, 89, 101, 105, 110, 124, 135, 137, 149, 150, 169, 193]


_POINTS = [(-0.743643887, 0.131825904), (-1.25066, 0.02012), (-0.1011, 0.9563), (0.2925, 0.0149),
           (-1.768778833, 0.001738996), (-0.16070135, 1.0375665), (0.3245, 0.04855), (-0.74529, 0.11307)]


def _generated(name: str, n: int, seconds: float, out: Path, fractal: bool = False) -> Path:
    """Footage of its own for each ``n``: a Game of Life or a cellular automaton from seed ``n``,
    or (``fractal``, every third) a zoom into one of eight distinct places of the Mandelbrot set
    (sources only: two zooms from nearby places, or outside the set, look alike)."""
    kinds = [f"life=s=320x240:seed={n}:mold=10:ratio=0.{2 + n % 6}:life_color=#{(n * 40) % 256:02x}c0ff",
             f"cellauto=s=320x240:rule={_RULES[n % len(_RULES)]}:random_seed={n}:scroll=1"]
    x, y = _POINTS[(n // 3) % len(_POINTS)]
    zoom = f"mandelbrot=s=320x240:start_x={x}:start_y={y}:start_scale=0.3:end_scale=0.001"
    kind = zoom if fractal and n % 3 == 2 else kinds[n % 2]
    _ffmpeg(f"-f lavfi -i {kind}:r=25 -t {seconds} -pix_fmt yuv420p {out / name}")
    return out / name


def _narrated(pictures: Path, n: int, out: Path) -> Path:
    """``pictures`` with a topic of its own read over them (espeak-ng; no sentence is read twice in
    the corpus, since one voice reading one sentence is one sound)."""
    if not out.exists():
        speech = out.with_suffix(".wav")
        text = " ".join(TOPICS[n % len(TOPICS)].sentences)
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(speech), text], check=True)
        _ffmpeg(f"-i {pictures} -i {speech} -map 0:v -map 1:a -c:v copy -c:a aac -af apad -t 20 {out}")
        speech.unlink()
    return out


def _has_audio(path: Path) -> bool:
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=index",
                            "-of", "csv=p=0", str(path)], capture_output=True, text=True)
    return bool(probe.stdout.strip())


def make_corpus(media: Path, sources: int, out: Path) -> tuple[dict[str, list[Piece]], list[str]]:
    """Every video with what it shows; and the distractor names."""
    out.mkdir(parents=True, exist_ok=True)
    shows: dict[str, list[Piece]] = {}
    films = [("tears-of-steel-battle-clip-medium.webm", [0, 22, 44]), ("popeye_sinbad_T03-4.mkv", [0, 20, 40]),
             ("big_buck_bunny_0_30.webm", [0])]
    made = []
    for film, starts in films:
        if (media / film).exists():
            for at in starts:
                name = f"src_{Path(film).stem[:12]}_{at}.mp4"
                _ffmpeg(f"-ss {at} -t 20 -i {media / film} -vf scale=480:-2 -c:v libx264 -crf 18 -c:a aac {out / name}")
                made.append(name)
    n = 0
    while len(made) < sources:
        pictures = _generated(f"pic_gen{n:02d}.mp4", n, 20, out, fractal=True)
        made.append(_narrated(pictures, n, out / f"src_gen{n:02d}.mp4").name)
        n += 1
    for s, name in enumerate(made):
        heard = _has_audio(out / name)
        shows[name] = [Piece(0, 20, name, 0, sound=heard)]
        if heard:  # the sound's families
            backdrop = _generated(f"back_{s}.mp4", 300 + s, 20, out)
            inset = "[0:v]scale=480:360,setsar=1[b];[1:v]scale=240:-2[i];[b][i]overlay=W-w-12:12"
            _ffmpeg(f"-i {backdrop} -i {out / name} -filter_complex '{inset}' -map 1:a? -c:a aac -t 20 "
                    f"{out / f'{Path(name).stem}__inset.mp4'}")
            shows[f"{Path(name).stem}__inset.mp4"] = [Piece(0, 20, name, 0, sound=True)]
            _ffmpeg(f"-i {backdrop} -i {out / name} -filter_complex '{inset}' -an -t 20 "
                    f"{out / f'{Path(name).stem}__inset,_silent.mp4'}")
            shows[f"{Path(name).stem}__inset,_silent.mp4"] = [Piece(0, 20, name, 0)]
            other = _generated(f"other_{s}.mp4", 400 + s, 20, out)
            _ffmpeg(f"-i {other} -i {out / name} -map 0:v -map 1:a -c:v copy -c:a aac -t 20 "
                    f"{out / f'dub_{Path(name).stem}.mp4'}")
            shows[f"dub_{Path(name).stem}.mp4"] = [Piece(0, 20, name, 0, picture=False, sound=True)]
        for kind, args in TRANSFORMS.items():
            copy = f"{Path(name).stem}__{kind.replace(' ', '_').replace('%', '')}.mp4"
            kept = heard and kind in SOUND_KEPT
            _ffmpeg(f"-i {out / name} {args.format(trimmed=10)} {'-c:a aac' if kept else '-an'} {out / copy}")
            rate = float(kind.split()[1]) if kind.startswith("speed") else 1.0
            shows[copy] = [Piece(0, 10, name, 5)] if kind == "trim 5s" else \
                [Piece(0, 20 / rate, name, 0, rate, sound=kept)]
    # Compilations: three excerpts of 12 s each between other footage, at known offsets.
    for c in range(len(made) // 3):
        parts, pieces, at = [], [], 0.0
        for k in range(3):
            source = made[3 * c + k]
            filler = _generated(f"fill_{c}_{k}.mp4", 100 + 3 * c + k, 7, out)
            parts += [str(filler), str(out / f"cut_{c}_{k}.mp4")]
            _ffmpeg(f"-ss 4 -t 12 -i {out / source} -vf scale=320:240 -r 25 -an {out / f'cut_{c}_{k}.mp4'}")
            pieces.append(Piece(at + 7, at + 19, source, 4))
            at += 19
        listing = out / f"comp_{c}.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in parts))
        _ffmpeg(f"-f concat -safe 0 -i {listing} -vf scale=320:240 -an {out / f'comp_{c}.mp4'}")
        shows[f"comp_{c}.mp4"] = pieces
    distractors, distractors_per_kind = [], max(4, sources * 3 + 2)
    for d in range(distractors_per_kind):  # unrelated footage after a shared black intro or test card
        intro = "color=c=black:s=320x240:d=3" if d % 2 else "smptebars=s=320x240:d=4"
        body = _generated(f"body_{d}.mp4", 200 + d, 12, out)
        name = f"distract_intro_{d}.mp4"
        _ffmpeg(f"-f lavfi -i {intro}:r=25 -i {body} -filter_complex "
                f"'[0:v]format=yuv420p[i];[1:v]format=yuv420p[b];[i][b]concat=n=2:v=1[v]' -map '[v]' {out / name}")
        distractors.append(name)
    for d in range(distractors_per_kind):  # talks over one slide background, each its own words
        lines = ",".join(
            f"drawtext=fontfile={FONTS}/DejaVuSans.ttf:text='talk {d} point {k} {'abcdefgh'[(d + k) % 8] * 6}':"
            f"fontsize=22:fontcolor=white:x=30:y={60 + 30 * k}:enable='gte(t,{3 * k})'" for k in range(5))
        name = f"distract_talk_{d}.mp4"
        _ffmpeg(f"-f lavfi -i \"color=c=0x203050:s=480x270:d=16:r=25,"
                f"drawbox=x=0:y=230:w=480:h=40:color=0x406080:t=fill,"
                f"{lines}\" -pix_fmt yuv420p {out / name}")
        distractors.append(name)
    for name in distractors:
        shows[name] = [Piece(0, 30, name, 0)]
    return shows, distractors


def truth_between(x: list[Piece], y: list[Piece], witness: str = "picture") -> list[tuple[float, float, float, float]]:
    """(x_start, x_end, y_start, y_end) of the footage two videos share (``witness`` "picture"),
    or of the sound they share ("sound")."""
    found = []
    for p in x:
        for q in y:
            if p.source != q.source or not (getattr(p, witness) and getattr(q, witness)):
                continue
            lo = max(p.source_start, q.source_start)
            hi = min(p.source_end(), q.source_end())
            if hi - lo >= 5:
                found.append((p.at(lo), p.at(hi), q.at(lo), q.at(hi)))
    return found


def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _kind(x: str, y: str) -> str:
    """The transformation a pair of videos stands for."""
    kinds = [name[:-4].split("__")[1].replace("_", " ").replace("crop 10", "crop 10%")
             for name in (x, y) if "__" in name]
    if x.startswith("dub_") or y.startswith("dub_"):
        return "same sound"
    insets = [kind for kind in kinds if kind.startswith("inset")]
    if insets:  # with its source, or with another copy of it (only the pictures can tell those)
        alone = len(kinds) == 1 and not (x.startswith("comp_") or y.startswith("comp_"))
        return insets[0] if alone else "inset-copy"
    if any(kind.startswith("mirror") for kind in kinds):
        return next(kind for kind in kinds if kind.startswith("mirror"))
    if x.startswith("comp_") or y.startswith("comp_"):
        return "excerpt"
    return kinds[0] if len(kinds) == 1 else "copy-copy" if kinds else "unrelated"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--sources", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("bench-out/copies"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    shows, distractors = make_corpus(args.media, args.sources, args.out)
    made = time.perf_counter() - started
    names = sorted(shows)
    ids = {name: n for n, name in enumerate(names)}
    descriptors, facts, seconds_hashing, seconds_hearing, video_seconds = [], {}, 0.0, 0.0, 0.0
    for name in names:
        decoded = decode_file(str(args.out / name), DecodeOptions(fps=1.0, frame_size=224))
        times, hashes, mirrored = decoded.copies.arrays()
        heard = time.perf_counter()
        sound = sound_landmarks(decoded.audio)
        seconds_hearing += time.perf_counter() - heard
        seconds_hashing += decoded.stats.get("copy_seconds", 0.0)
        video_seconds += decoded.info.duration
        info = decoded.info
        descriptors.append(Descriptors(ids[name], times, hashes, info.duration, mirrored=mirrored,
                                       sound_times=sound[0], sound_hashes=sound[1]))
        facts[ids[name]] = FileFacts(ids[name], info.duration, info.width or 0, info.height or 0,
                                     (args.out / name).stat().st_size)
    t0 = time.perf_counter()
    copies = find_copies(descriptors, facts)
    compare = time.perf_counter() - t0
    found = {(s.a, s.b): [] for s in copies.spans}
    for s in copies.spans:
        found[(s.a, s.b)].append(s)
    for members in copies.groups:  # a group's pairs share their whole footage
        for x in members:
            for y in members:
                if x < y:
                    found.setdefault((x, y), []).append(None)
    per_kind = collections.defaultdict(lambda: [0, 0, 0, 0])  # truths, found truths, predicted, right predicted
    edges_ok, right_pairs = [0, 0], set()
    witnesses = collections.Counter(s.witness for s in copies.found)
    for (x, y), spans in found.items():
        kind = _kind(names[x], names[y])
        for span in spans:
            witness = "sound" if span is not None and span.witness == "sound" else "picture"
            truths = truth_between(shows[names[x]], shows[names[y]], witness)
            per_kind[kind][2] += 1
            if os.environ.get("BENCH_VERBOSE") and not truths:
                print("false", names[x], names[y], span)
            if span is None:
                per_kind[kind][3] += bool(truths)
                if truths:
                    right_pairs.add((x, y))
                continue
            for t in truths:
                a_ok = _overlap(span.a_start, span.a_end, t[0], t[1]) >= 0.5 * (t[1] - t[0])
                b_ok = _overlap(span.b_start, span.b_end, t[2], t[3]) >= 0.5 * (t[3] - t[2])
                if a_ok and b_ok and abs((span.b_start - span.a_start) - (t[2] - t[0])) <= 1.0:
                    per_kind[kind][3] += 1
                    right_pairs.add((x, y))
                    edges_ok[1] += 1
                    edges_ok[0] += all(abs(u - v) <= 1.0 for u, v in zip(
                        (span.a_start, span.a_end, span.b_start, span.b_end), t))
                    break
    for x in range(len(names)):
        for y in range(x + 1, len(names)):
            if truth_between(shows[names[x]], shows[names[y]]) or truth_between(shows[names[x]], shows[names[y]],
                                                                               "sound"):
                kind = _kind(names[x], names[y])
                per_kind[kind][0] += 1
                per_kind[kind][1] += (x, y) in right_pairs
                if (x, y) not in right_pairs and os.environ.get("BENCH_VERBOSE"):
                    print("missed", names[x], names[y], found.get((x, y)))
    false_groups = [g for g in copies.groups if any(
        not truth_between(shows[names[g[0]]], shows[names[v]]) for v in g[1:])]
    if os.environ.get("BENCH_VERBOSE"):
        print("false groups", [[names[v] for v in g] for g in false_groups])
    print(f"copies: {len(names)} videos ({len(distractors)} distractors), {video_seconds / 60:.1f} video-min; "
          f"corpus made in {made:.0f} s")
    print(f"{'pair kind':<12} {'truths':>6} {'found':>6} {'spans':>6} {'right':>6} {'precision':>9} "
          f"{'recall':>7} {'F1':>6}")
    total = [0, 0, 0, 0]
    for kind in sorted(per_kind):
        t, f, p, r = per_kind[kind]
        total = [a + b for a, b in zip(total, (t, f, p, r))]
        _row(kind, t, f, p, r)
    _row("all", *total)
    print(f"groups: {len(copies.groups)}, false groups: {len(false_groups)}; right spans with all edges within 1 s: "
          f"{edges_ok[0] / max(edges_ok[1], 1):.2f}")
    print("spans found by witness (grouped pairs' too): " + ", ".join(f"{w} {n}" for w, n in sorted(witnesses.items())))
    print(f"segment-level µAP (every span found, grouped pairs' too, ranked by evidence): "
          f"{micro_ap(copies.found, shows, names):.3f}")
    hours = video_seconds / 3600
    print(f"descriptors: {seconds_hashing / max(hours, 1e-9):.0f} s per video-hour hashing, "
          f"{seconds_hearing / max(hours, 1e-9):.1f} s listening (sound landmarks); "
          f"comparison: {compare:.2f} s for {len(names)} videos ({copies.pairs_aligned} pairs aligned)")


def micro_ap(spans: list, shows: dict[str, list[Piece]], names: list[str]) -> float:
    """Micro-averaged precision over every span found, most evidence first, in the spirit of
    VSC22's segment-level µAP: a span is a true positive when it is right (as in the table) for a
    true segment of its pair not claimed by a stronger span; the average of the precision at each
    true positive, over every true segment of the corpus (footage and shared sound)."""
    truths: dict[tuple[int, int], list] = {}
    for x in range(len(names)):
        for y in range(x + 1, len(names)):
            segments = set(truth_between(shows[names[x]], shows[names[y]]))
            segments |= set(truth_between(shows[names[x]], shows[names[y]], "sound"))
            if segments:
                truths[(x, y)] = sorted(segments)
    total = sum(len(t) for t in truths.values())
    claimed, hits, precision_sum = set(), 0, 0.0
    for rank, span in enumerate(sorted(spans, key=lambda s: -s.evidence), 1):
        x, y = min(span.a, span.b), max(span.a, span.b)
        turned = span if span.a == x else span.turned()
        for t in truths.get((x, y), []):
            if (x, y, t) in claimed:
                continue
            a_ok = _overlap(turned.a_start, turned.a_end, t[0], t[1]) >= 0.5 * (t[1] - t[0])
            b_ok = _overlap(turned.b_start, turned.b_end, t[2], t[3]) >= 0.5 * (t[3] - t[2])
            if a_ok and b_ok and abs((turned.b_start - turned.a_start) - (t[2] - t[0])) <= 1.0:
                claimed.add((x, y, t))
                hits += 1
                precision_sum += hits / rank
                break
    return precision_sum / max(total, 1)


def _row(kind: str, truths: int, found: int, spans: int, right: int) -> None:
    precision = right / spans if spans else 1.0
    recall = found / truths if truths else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"{kind:<12} {truths:>6} {found:>6} {spans:>6} {right:>6} {precision:>9.2f} {recall:>7.2f} {f1:>6.2f}")


if __name__ == "__main__":
    main()
