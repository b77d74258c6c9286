"""Faces and people on a labelled archive: appearance recall and precision per query photo, start
error, clustering B-cubed F1, a stranger's photo, and what looking for faces costs indexing.

    python -m bench.people [--media ../shared/media] [--videos 12] [--work-dir bench-out/people]

The archive is composed from the real photos of known people in ``../shared/media/faces``
(several of two people, one of others, one photo of two people together) as shots of 2-7 s
between colour shots, scaled so that faces range from large to below what the detector sees,
some with a slow zoom; every shot's people and span is the truth. Each person is asked for with
each of their photos (so a photo must also find the shots of another photo of that person), and
a stranger (a person in no video) is asked for too. Videos are indexed with faces off and on,
three times each, with CLIP's real architecture (ViT-B-32, untrained weights: speed does not
depend on them); so are three real clips without human faces, narrated (``FACELESS``): what
looking for faces costs footage that has none, beside Whisper and the voices stage.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

PEOPLE = {"obama": ["obama.jpg", "obama2.jpg"], "alex": ["alex-lacamoire.png", "alex_lacamoire2.jpg"],
          "biden": ["biden.jpg"], "lin": ["lin-manuel-miranda.png"]}
TOGETHER = ("two_people.jpg", ("obama", "biden"))
STRANGER = "rose_leslie.jpg"
COLOURS = ("navy", "darkgreen", "maroon", "gray", "black", "teal")
SIZE = (960, 540)


def compose_video(out: Path, shots: list[dict], faces: Path) -> None:
    inputs, chains = [], []
    for n, shot in enumerate(shots):
        if "photo" in shot:
            inputs += ["-loop", "1", "-framerate", "25", "-t", f"{shot['seconds']:.2f}", "-i", str(faces / shot["photo"])]
            height = int(SIZE[1] * shot["scale"]) // 2 * 2
            chain = (f"[{n}]scale=-2:{height},pad={SIZE[0]}:{SIZE[1]}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25")
            if shot["zoom"]:
                chain += f",zoompan=z='min(1+{shot['zoom']}*in,1.4)':d=1:s={SIZE[0]}x{SIZE[1]}:fps=25"
            chains.append(chain + f"[v{n}]")
        else:
            inputs += ["-f", "lavfi", "-t", f"{shot['seconds']:.2f}", "-i",
                       f"color=c={shot['colour']}:s={SIZE[0]}x{SIZE[1]}:r=25"]
            chains.append(f"[{n}]setsar=1[v{n}]")
    joined = "".join(f"[v{n}]" for n in range(len(shots)))
    graph = ";".join(chains) + f";{joined}concat=n={len(shots)}:v=1:a=0,format=yuv420p"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-c:v", "libx264",
                    "-preset", "veryfast", str(out)], check=True)


def build_archive(folder: Path, faces: Path, videos: int, seed: int = 7) -> dict[str, list]:
    """Compose the videos; {video name: [(person, start, end), ...]}."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    photos = [(person, photo) for person, names in PEOPLE.items() for photo in names]
    truth = {}
    for v in range(videos):
        shots, spans, at = [], [], 0.0
        for _ in range(rng.randint(3, 5)):
            seconds = round(rng.uniform(1.0, 3.0), 1)
            shots.append({"colour": rng.choice(COLOURS), "seconds": seconds})
            at += seconds
            if rng.random() < 0.12:
                photo, people = TOGETHER
            else:
                person, photo = rng.choice(photos)
                people = (person,)
            seconds = round(rng.uniform(2.0, 7.0), 1)
            shots.append({"photo": photo, "seconds": seconds, "scale": rng.choice((1.0, 0.8, 0.6, 0.45)),
                          "zoom": rng.choice((0, 0, 0.002, 0.004))})
            spans += [(p, at, at + seconds) for p in people]
            at += seconds
        name = f"v{v:02d}.mp4"
        if not (folder / name).exists():
            compose_video(folder / name, shots, faces)
        truth[name] = spans
    return truth


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True)


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def score_query(hits: list[dict], wanted: list[tuple[str, float, float]]) -> dict:
    """Matches at IoU >= 0.5 (each truth span once): precision, recall, start errors."""
    free = list(wanted)
    matched, starts = 0, []
    for hit in hits:
        video = Path(hit["video_path"]).name
        best = max(free, key=lambda w: _iou((hit["start"], hit["end"]), (w[1], w[2])) if w[0] == video else -1,
                   default=None)
        if best is not None and best[0] == video and _iou((hit["start"], hit["end"]), (best[1], best[2])) >= 0.5:
            free.remove(best)
            matched += 1
            starts.append(abs(hit["start"] - best[1]))
    return {"hits": len(hits), "matched": matched, "wanted": len(wanted), "starts": starts}


def bcubed(labels: list[str], clusters: list[int]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of ``clusters`` against the true ``labels``."""
    n = len(labels)
    if not n:
        return 0.0, 0.0, 0.0
    precision = recall = 0.0
    for i in range(n):
        same_cluster = [j for j in range(n) if clusters[j] == clusters[i]]
        same_label = [j for j in range(n) if labels[j] == labels[i]]
        both = sum(1 for j in same_cluster if labels[j] == labels[i])
        precision += both / len(same_cluster)
        recall += both / len(same_label)
    precision, recall = precision / n, recall / n
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def left_of_together(faces: Path) -> str:
    """Who is on the left in the photo of two people, told by their own photos' faces."""
    import numpy as np
    from PIL import Image

    from core.models.faces import FaceModel, distance

    model = FaceModel()
    found = model.find(np.asarray(Image.open(faces / TOGETHER[0]).convert("RGB")))
    left = min(found, key=lambda f: f.box[0])
    refs = {p: model.find(np.asarray(Image.open(faces / PEOPLE[p][0]).convert("RGB")))[0].descriptor
            for p in TOGETHER[1]}
    return min(refs, key=lambda p: float(distance(left.descriptor, refs[p])[0]))


def appearance_labels(data_dir: Path, truth: dict, left: str) -> tuple[list[str], list[int], int]:
    """(true person of each appearance, its cluster, appearances matching no true face). In a shot
    of two people, the face left of the frame's centre is ``left``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{data_dir / 'catalog.db'}")
    labels, clusters, stray = [], [], 0
    with engine.connect() as conn:
        rows = conn.execute(text("select v.path, f.start, f.\"end\", f.person_id, f.box from face_appearances f "
                                 "join videos v on v.id = f.video_id order by f.id")).all()
    for path, start, end, person, box in rows:
        overlap: dict[tuple, float] = {}
        for p, a, b in truth.get(Path(path).name, []):
            overlap[(p, a)] = max(overlap.get((p, a), 0.0), min(end, b) - max(start, a))
        best = max(overlap, key=overlap.get, default=None)
        if best is None or overlap[best] <= 0:
            stray += 1
            continue
        together = [p for (p, a) in overlap if a == best[1] and overlap[(p, a)] == overlap[best]]
        if len(together) > 1:  # which of the two: by the side of the frame its box is on
            centre = sum(json.loads(box)[0::2]) / 2 if isinstance(box, str) else sum(box[0::2]) / 2
            right = next(p for p in together if p != left)
            best = (left if centre < 0.5 else right, best[1])
        labels.append(best[0])
        clusters.append(person if person is not None else -1)
    return labels, clusters, stray


# Footage with speech and no human faces: real clips of Blender films and a flower, narrated by espeak-ng.
FACELESS = {"big_buck_bunny_0_30.webm": "The meadow wakes up in the morning light. A large rabbit leaves his burrow "
                                        "under the old tree and watches the butterflies. Three small rodents hide "
                                        "in the grass and plan their next trick.",
            "flower.mp4": "A red flower opens slowly in the garden.",
            "tears-of-steel-battle-clip-medium.webm": "Soldiers defend the ruined church against a giant robot. "
                                                      "The tower shakes while the battle goes on in the hall."}


def build_faceless(folder: Path, media: Path) -> None:
    """The narrated faceless clips (once). Tears of Steel has people in it, so only its first 6 s
    (a church tower and the sky) are used."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, words in FACELESS.items():
        out = folder / (Path(name).stem + ".mp4")
        if out.exists():
            continue
        voice = folder / (Path(name).stem + ".wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(voice), words], check=True)
        cut = ["-t", "6"] if name.startswith("tears") else []
        subprocess.run(["ffmpeg", "-v", "error", "-y", *cut, "-i", str(media / name), "-i", str(voice), "-map", "0:v",
                        "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(out)], check=True)
        voice.unlink()


def median_costs(base: dict, folder: Path, data: Path) -> dict[str, tuple[float, dict]]:
    """{faces off/on: (index wall seconds, report)}, the median of three runs each, alternating
    (a first run warms caches and is not counted); ``data`` keeps the last run's library (faces on)."""
    costs: dict[str, list] = {"off": [], "on": []}
    for setting in ("off", "off", "on", "off", "on", "off", "on"):
        subprocess.run(["rm", "-rf", str(data)], check=True)
        env = {**base, "VIDSEARCH_DATA_DIR": str(data), "VIDSEARCH_FACES": setting}
        costs[setting].append(index(env, folder))
    return {setting: sorted(runs, key=lambda r: r[0])[len(runs) // 2] for setting, runs in
            (("off", costs["off"][1:]), ("on", costs["on"]))}


def print_costs(title: str, costs: dict) -> None:
    print(f"\n{title}\n\n| faces (median of 3 runs) | index wall s | decode s | faces s | transcribe s | voices s "
          f"| embed s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for setting, (wall, report) in costs.items():
        stages = report.get("stage_seconds", {})
        print(f"| {setting} | {wall:.1f} | {stages.get('decode', 0):.1f} | {stages.get('faces', 0):.1f} | "
              f"{stages.get('transcribe', 0):.1f} | {stages.get('voices', 0):.1f} | {stages.get('embed', 0):.1f} |")
    print(f"\nlooking for faces: {100 * (costs['on'][0] / costs['off'][0] - 1):+.1f}% indexing wall time")


def index(env: dict, folder: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    done = _cli(env, "index", str(folder), "--json", "-q")
    if done.returncode:
        raise SystemExit(f"indexing failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started, json.loads(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media")
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--work-dir", type=Path, default=Path("bench-out/people"))
    parser.add_argument("--skip-faceless", action="store_true", help="skip the cost on footage without faces")
    parser.add_argument("--face-size", type=int, default=0, help="VIDSEARCH_FACE_SIZE to index with (default: "
                        "the product's)")
    parser.add_argument("--face-interval", type=float, default=0, help="VIDSEARCH_FACE_INTERVAL to index with")
    args = parser.parse_args(argv)
    faces = args.media / "faces"
    work = args.work_dir.resolve()
    truth = build_archive(work / "videos", faces, args.videos)
    from bench.cold_query import _checkpoint

    checkpoint = _checkpoint(work)
    base = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    base.update(VIDSEARCH_CLIP_MODEL="ViT-B-32", VIDSEARCH_CLIP_PRETRAINED=str(checkpoint))
    if args.face_size:
        base["VIDSEARCH_FACE_SIZE"] = str(args.face_size)
    if args.face_interval:
        base["VIDSEARCH_FACE_INTERVAL"] = str(args.face_interval)
    costs = median_costs(base, work / "videos", work / "data-on")  # its last run, faces on, stays
    faceless = None
    if not args.skip_faceless:
        build_faceless(work / "faceless", args.media)
        faceless = median_costs(base, work / "faceless", work / "data-faceless")
    env = {**base, "VIDSEARCH_DATA_DIR": str(work / "data-on"), "VIDSEARCH_FACES": "on"}
    seconds = sum(b - a for spans in truth.values() for _, a, b in spans)
    print(f"archive: {len(truth)} videos, {sum(len(s) for s in truth.values())} face spans ({seconds:.0f} s)\n")

    print("| query photo | person | found | right (IoU >= 0.5) | of | precision | recall | starts within 1.5 s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    totals = {"hits": 0, "matched": 0, "wanted": 0, "starts": []}
    for person, photos in PEOPLE.items():
        wanted = [(video, a, b) for video, spans in truth.items() for p, a, b in spans if p == person]
        for photo in photos:
            hits = json.loads(_cli(env, "similar", "--face", str(faces / photo), "-k", "200", "--json").stdout)
            row = score_query(hits, wanted)
            for key in ("hits", "matched", "wanted"):
                totals[key] += row[key]
            totals["starts"] += row["starts"]
            within = sum(s <= 1.5 for s in row["starts"]) / max(1, len(row["starts"]))
            print(f"| {photo} | {person} | {row['hits']} | {row['matched']} | {row['wanted']} | "
                  f"{row['matched'] / max(1, row['hits']):.2f} | {row['matched'] / max(1, row['wanted']):.2f} | "
                  f"{within:.2f} |")
    precision = totals["matched"] / max(1, totals["hits"])
    recall = totals["matched"] / max(1, totals["wanted"])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    within = sum(s <= 1.5 for s in totals["starts"]) / max(1, len(totals["starts"]))
    print(f"| **all** | | {totals['hits']} | {totals['matched']} | {totals['wanted']} | {precision:.2f} | "
          f"{recall:.2f} | {within:.2f} |")
    stranger = json.loads(_cli(env, "similar", "--face", str(faces / STRANGER), "--json").stdout)
    labels, clusters, stray = appearance_labels(work / "data-on", truth, left_of_together(faces))
    bp, br, bf = bcubed(labels, clusters)
    print(f"\nappearance F1 {f1:.3f}; a stranger's photo ({STRANGER}) returns {len(stranger)} moment(s)")
    print(f"clustering: {len(labels)} appearances of known faces into {len(set(clusters))} people "
          f"(true: {len(set(labels))}); B-cubed precision {bp:.3f}, recall {br:.3f}, F1 {bf:.3f}; "
          f"{stray} appearance(s) on no true face")
    print_costs(f"the archive above ({len(truth)} silent videos full of faces):", costs)
    if faceless is not None:
        print_costs(f"footage with speech and no human faces ({len(FACELESS)} real clips narrated by espeak-ng):",
                    faceless)


if __name__ == "__main__":
    main()
