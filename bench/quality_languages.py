"""Search across languages: Spanish lectures found by English questions and by words as spoken.

    python -m bench.quality_languages [--work-dir DIR] [--asr-model NAME]

Two Spanish lectures (espeak-ng's Spain and Latin-American voices; Whisper base hears Spanish
espeak well, French, German and Italian espeak poorly, so the measure here is the product, not
the synthetic voice) share one library with three English lectures of the quality corpus, whose
near topics are the distractors: the Spanish volcano topic against the English volcanoes, the
tide topic against the tides, the vaccine topic against vaccines and antibiotics. Queries:
- ``es english``: an English question about a Spanish topic, few words shared with any
  translation (what a user who does not speak Spanish types);
- ``es spoken``: a Spanish word said in the topic, typed as spoken ("volcán", "vacuna"); as with the
  English corpus's exact terms, words Whisper base hears right in the rendered voice (it mishears
  many of espeak-ng's Spanish words at any speed: "tortugas" -> "torturas");
- ``en paraphrase`` / ``en exact``: the English lectures' own queries, to see that the Spanish
  videos do not push English answers down.
The table is ``vidsearch eval``'s per mode, one row per language and kind.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.quality_topics import LECTURES, Lecture, Topic

T = Topic

VOLCANES = [
    T("es_volcano",
      ["El volcán entró en erupción durante la noche y la lava cubrió las casas del pueblo.",
       "Los vecinos escaparon en autobuses hacia la ciudad antes de que llegara la ceniza."],
      ["people fled by bus when molten rock buried their village"],
      ["volcán"]),
    T("es_turtles",
      ["Las tortugas marinas vuelven a la misma playa para poner sus huevos en la arena.",
       "Cuando nacen, las crías caminan hacia el mar guiadas por la luz de la luna."],
      ["where do sea reptiles lay their eggs"],
      ["huevos"]),
    T("es_coffee",
      ["El café crece en las montañas, a la sombra de árboles más altos.",
       "Los granos se recogen a mano, se secan al sol y después se tuestan."],
      ["how are coffee beans harvested and dried"],
      ["café"]),
    T("es_tides",
      ["La marea sube y baja dos veces al día por la atracción de la luna.",
       "Los pescadores esperan la marea baja para recoger almejas en la orilla."],
      ["when do fishermen dig for clams on the shore"],
      ["marea"]),
]

SALUD = [
    T("es_vaccine",
      ["Una vacuna enseña al cuerpo a reconocer un virus sin causar la enfermedad.",
       "Por eso los niños reciben varias dosis durante los primeros años de vida."],
      ["why do children get several shots when they are small"],
      ["vacuna"]),
    T("es_sleep",
      ["Dormir pocas horas debilita la memoria y el sistema inmune.",
       "Los adultos necesitan entre siete y nueve horas de sueño cada noche."],
      ["how much rest does a grown up need at night"],
      ["memoria"]),
    T("es_bread",
      ["Para hacer pan se mezcla harina, agua, sal y levadura.",
       "La masa descansa varias horas hasta que dobla su tamaño y luego se hornea."],
      ["letting the dough rise before baking a loaf"],
      ["hornea"]),
    T("es_bicycle",
      ["En muchas ciudades la bicicleta es más rápida que el coche en horas punta.",
       "Los carriles protegidos hacen que más personas se atrevan a pedalear al trabajo."],
      ["riding to the office on two wheels in traffic"],
      ["bicicleta"]),
]

del T

SPANISH: list[Lecture] = [
    Lecture("lecture_es_volcanes.mp4", VOLCANES, "es", 110, slides=True, split="dev"),
    Lecture("lecture_es_salud.mp4", SALUD, "es-419", 110, slides=False, split="test"),
]
ENGLISH_DISTRACTORS = ("lecture_earth.mp4", "lecture_medicine.mp4", "lecture_kitchen.mp4")


def _by_language(queries: Path) -> Path:
    """The corpus's queries with the language spoken at their answer (the table's rows: "es english")."""
    rows = [json.loads(line) for line in queries.read_text().splitlines() if line.strip()]
    spanish = {lec.name for lec in SPANISH}
    for row in rows:
        row["language"] = "es" if row["video"] in spanish else "en"
        if row["language"] == "es":
            row["kind"] = "english" if row["kind"] == "paraphrase" else "spoken"
    out = queries.with_name("queries-languages.jsonl")
    out.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/vidsearch-languages"))
    parser.add_argument("--asr-model", help="Whisper model (default: vidsearch's own default)")
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args(argv)

    from bench.quality_corpus import build_corpus
    from indexer.pipeline import Indexer
    from core.encoders import Encoders
    from core.library import Library
    from search.quality.evaluate import evaluate, format_table
    from search.quality.querysets import load_queries
    from search.service import Searcher
    from core.settings import Settings

    lectures = SPANISH + [lec for lec in LECTURES if lec.name in ENGLISH_DISTRACTORS]
    videos = args.work_dir / "videos"
    queries = _by_language(build_corpus(videos, lectures))
    settings = Settings(data_dir=args.work_dir / "index", clip_pretrained=str(args.work_dir / "no-clip.pt"),
                        **({"asr_model": args.asr_model} if args.asr_model else {}))
    if settings.data_dir.exists():
        import shutil

        shutil.rmtree(settings.data_dir)
    library, encoders = Library(settings), Encoders(settings)
    started = time.perf_counter()
    report = Indexer(library, encoders, settings, progress=False).index([videos])
    print(f"indexed {len(report.of('indexed'))} videos in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    languages, _ = library.speech_languages()
    print(f"segments by language: {json.dumps({k: v['segments'] for k, v in languages.items()})}")
    evaluation = evaluate(Searcher(library, encoders), load_queries(queries), k=args.k, progress=False)
    print(format_table(evaluation.table()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
