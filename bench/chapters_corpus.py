"""Generated talks with known chapters: sections of two to four related topics, spoken by espeak-ng.

A section is what a person would make a chapter: a few topics of one subject under one heading
("Restless Earth": volcanoes, earthquakes, plate tectonics). The topics and their sentences are the
quality corpus's (``bench.quality_topics``), so a topic change inside a section is a real change of
subject matter too, and a chapter finder must tell the larger change from the smaller one. Talks
come in three kinds:

- ``titled``: one slide per topic; a section's slides share its colour and its title, and each
  shows its topic as a bullet line (so the screen text changes inside sections as well);
- ``colour``: a plain slide per section, no text (a cut marks the border, nothing names it);
- ``none``: one background for the whole talk (only what is said can find the borders).

Pauses between sections are drawn from the same range as pauses between topics. Dev talks use five
of the quality corpus's subjects, test talks the three others (``split``); a long talk (split
``long``, held out too) holds every subject as one chapter.

    python -m bench.chapters_corpus OUT_DIR

Writes the videos and ``chapters.json``: ``{video: {"split", "kind", "duration", "sections":
[[start, title, [topic keys]], ...]}}``, a section starting at its first word (its slide changes
0.3 s before).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import random
import subprocess
import tempfile
import time
from pathlib import Path

from bench.corpus import Spec, make_video, require_tools, slide
from bench.quality_corpus import FPS, PALETTE, SENTENCE_PAUSE, TOPIC_PAUSE, place
from bench.quality_topics import LECTURES
from core.files import write_text_atomically

FORMAT = 2
LEAD_IN, SLIDE_EARLY, TAIL = 0.8, 0.3, 1.5
SIZE = (640, 360)  # titles as large as a real slide's, for OCR to read


@dataclasses.dataclass
class Talk:
    name: str
    sections: list[tuple[str, list[str]]]   # (title, topic keys)
    kind: str                                # titled | colour | none
    voice: str
    speed: int
    split: str


TALKS = [
    Talk("talk_science_day.mp4", [
        ("Energy in living cells", ["photosynthesis", "cell_respiration"]),
        ("Restless Earth", ["volcanoes", "earthquakes", "plate_tectonics"]),
        ("Prices and money", ["inflation", "interest_rates"]),
        ("Moon and eclipses", ["moon_phases", "eclipses"]),
        ("Digital sound", ["sampling", "fourier", "mp3"]),
        ("Genes and evolution", ["mitosis", "dna_replication", "natural_selection"]),
    ], "titled", "en-us", 150, "dev"),
    Talk("talk_open_lecture.mp4", [
        ("Storms rivers and tides", ["hurricanes", "erosion", "tides"]),
        ("Markets and growth", ["supply_demand", "gdp", "exchange_rates"]),
        ("Stars and black holes", ["stellar_fusion", "black_holes", "light_year"]),
        ("Loudness and echoes", ["decibels", "echo", "noise_cancelling"]),
        ("The chemistry of life", ["enzymes", "osmosis"]),
    ], "none", "en-gb", 140, "dev"),
    Talk("talk_colour_slides.mp4", [
        ("Exploring the solar system", ["mars_rovers", "comets"]),
        ("Jobs and trade", ["unemployment", "tariffs"]),
        ("Filters and loudspeakers", ["low_pass", "loudspeakers"]),
        ("Climate over the ages", ["ice_ages", "seasons"]),
    ], "colour", "en-gb-x-rp", 165, "dev"),
    Talk("talk_health_and_invention.mp4", [
        ("Fighting infection", ["vaccines", "antibiotics", "fever"]),
        ("Printing and the telegraph", ["printing_press", "telegraph"]),
        ("Browning and sauces", ["maillard", "emulsions"]),
        ("Sleep and surgery", ["sleep", "anesthesia"]),
        ("Steam light and flight", ["steam_engine", "light_bulb", "first_flight"]),
    ], "titled", "en-us+f2", 155, "test"),
    Talk("talk_kitchen_history.mp4", [
        ("Roman water and the Silk Road", ["aqueducts", "silk_road"]),
        ("Keeping food", ["pickling", "refrigeration", "composting"]),
        ("Blood and sugar", ["circulation", "diabetes"]),
        ("Cold and heat in the kitchen", ["ice_cream_salt", "boiling_altitude", "bread_yeast", "autumn_leaves"]),
    ], "none", "en-gb+m4", 135, "test"),
    # Every topic of the quality corpus, a subject a chapter: fifteen minutes without slides, where
    # the changes of topic inside a chapter must not become borders. Held out like the test talks.
    Talk("talk_long_lecture.mp4", [(title, [t.key for t in lec.topics]) for title, lec in zip(
        ("Biology", "Earth science", "Economics", "Signals and sound", "Astronomy", "Medicine",
         "History of invention", "Kitchen science"), LECTURES)], "none", "en-us+m3", 165, "long"),
]

TOPICS = {t.key: t for lec in LECTURES for t in lec.topics}


def plan(talk: Talk, workdir: Path) -> tuple[dict, Spec]:
    """Place every sentence (measured onsets, seeded pauses) and the slides; the labels and the spec."""
    rng = random.Random(f"chapters-corpus:{talk.name}")
    colours = PALETTE[rng.randrange(len(PALETTE)):] + PALETTE
    t, speech, slides, sections = LEAD_IN, [], [], []
    for s, (title, keys) in enumerate(talk.sections):
        for k, key in enumerate(keys):
            if s or k:
                t += rng.uniform(*TOPIC_PAUSE)
            onset_at = None
            for j, text in enumerate(TOPICS[key].sentences):
                if j:
                    t += rng.uniform(*SENTENCE_PAUSE)
                start, t = place(text, t, speech, workdir, talk.voice, talk.speed)
                onset_at = start if onset_at is None else onset_at
            if k == 0:
                sections.append([round(onset_at, 3), title, keys])
            if talk.kind == "titled" or (talk.kind == "colour" and k == 0):
                cut = 0.0 if not (s or k) else round((onset_at - SLIDE_EARLY) / 0.04) * 0.04
                lines = [key.replace("_", " ")] if talk.kind == "titled" else []
                slides.append((round(cut, 2), slide(colours[s], title, lines, title_size=32) if talk.kind == "titled"
                               else f"color=c={colours[s]}"))
    duration = round(math.ceil((t + TAIL) / 0.04) * 0.04, 2)
    if not slides:
        slides = [(0.0, f"color=c={colours[0]}")]
    edges = [at for at, _ in slides] + [duration]
    shots = [(source, round(edges[n + 1] - edges[n], 2)) for n, (_, source) in enumerate(slides)]
    spec = Spec(talk.name, shots, speech, size=SIZE, fps=FPS, voice=talk.voice, speed=talk.speed)
    return {"split": talk.split, "kind": talk.kind, "duration": duration, "sections": sections}, spec


def digest(talk: Talk) -> str:
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    blob = json.dumps({"talk": dataclasses.asdict(talk), "format": FORMAT, "size": SIZE, "espeak": espeak,
                       "sentences": [TOPICS[k].sentences for _, keys in talk.sections for k in keys]},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build(out_dir: Path, talks: list[Talk] = TALKS) -> dict:
    """Render (or reuse) the talks into ``out_dir``; returns and writes the labels."""
    require_tools()
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = {}
    for talk in talks:
        sidecar = out_dir / (Path(talk.name).stem + ".labels.json")
        key = digest(talk)
        if sidecar.exists() and (out_dir / talk.name).exists() and json.loads(sidecar.read_text())["digest"] == key:
            labels[talk.name] = json.loads(sidecar.read_text())["labels"]
            continue
        sidecar.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            label, spec = plan(talk, Path(tmp))
        make_video(spec, out_dir)
        write_text_atomically(sidecar, json.dumps({"digest": key, "labels": label}))
        labels[talk.name] = label
    write_text_atomically(out_dir / "chapters.json", json.dumps(labels, indent=1))
    return labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chapters_corpus", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    labels = build(args.out_dir)
    for name, label in labels.items():
        print(f"{name:32} {label['split']:4} {label['kind']:7} {len(label['sections']):2} sections "
              f"{label['duration']:6.1f} s")
    print(f"{len(labels)} talks; {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
