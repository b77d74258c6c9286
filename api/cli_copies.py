"""``vidsearch duplicates``: the same footage twice in the archive (``search.copies``)."""
from __future__ import annotations

import json

from core.errors import InvalidInput

COPY_MIN_SECONDS = 5.0  # the shortest copied span reported by default
_WITNESS = {"picture": "pictures", "sound": "sound", "picture and sound": "pictures and sound"}


def register(sub) -> None:
    p = sub.add_parser("duplicates", help="find copies: whole-file duplicates and footage reused between videos")
    p.add_argument("--min-seconds", type=float, default=COPY_MIN_SECONDS,
                   help="shortest copied span to report, seconds (default 5)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_duplicates)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def cmd_duplicates(app, args) -> int:
    from search.copies.report import archive_copies

    if args.min_seconds <= 0:
        raise InvalidInput("--min-seconds must be above 0")
    report = archive_copies(app.library, args.min_seconds)
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    print(f"{report['videos']} indexed videos" + (f"; {report['compared_now']} compared with the archive now"
                                                  if report["compared_now"] else ""))
    if report["groups"]:
        print(f"\nsame footage ({len(report['groups'])} groups; master first: longest, then sharpest, "
              "then best bitrate):")
        for n, group in enumerate(report["groups"], 1):
            print(f"{n:3d}. {group['master']['video_path']}  (master)")
            members = {group["master"]["video_id"]: "the master"}
            for copy in group["copies"]:
                members[copy["video_id"]] = copy["video_path"]
            for copy in group["copies"]:
                print(f"     {copy['video_path']}" + (f"  ({copy['change']})" if copy.get("change") else ""))
                why = copy["why"]
                shared = ", ".join(f"{_clock(s['start'])}-{_clock(s['end'])} = {_clock(s['other_start'])}-"
                                   f"{_clock(s['other_end'])}" for s in why["spans"][:3])
                more = f" and {len(why['spans']) - 3} more" if len(why["spans"]) > 3 else ""
                print(f"       same {_WITNESS[why['witness']]} as {members[why['other']]}: {shared}{more} "
                      f"({why['covered']:.0%} of it)")
    if report["spans"]:
        print(f"\ncopied footage ({len(report['spans'])} spans):")
        for s in report["spans"]:
            print(f"  {s['video_path']} {_clock(s['start'])}-{_clock(s['end'])} = "
                  f"{s['other']['video_path']} {_clock(s['other_start'])}-{_clock(s['other_end'])}"
                  f"  score {s['score']:.2f}, same {_WITNESS[s['witness']]}"
                  + (f" ({s['change']})" if s.get("change") else ""))
    if not report["groups"] and not report["spans"]:
        print("no copies found")
    if report["without_descriptors"]:
        print(f"\n{len(report['without_descriptors'])} indexed videos have no copy descriptors, or none of their sound "
              f"(indexed before they were kept, or with VIDSEARCH_COPY_RATE=0): 'vidsearch index --only copies PATH' "
              f"adds them without indexing again")
    return 0


def similar_copies(app, args) -> int:
    """``similar FILE --copies``: where else the footage of FILE appears, as aligned spans."""
    from pathlib import Path

    from indexer.copy_backfill import file_descriptors
    from indexer.isolate import IsolatedFailure
    from search.copies.candidates import HashIndex
    from search.copies.finder import spans_between
    from search.copies.sound import sound_index
    from search.copies.stored import copy_descriptors

    if args.file is None:
        raise InvalidInput("--copies needs a FILE (a video clip)")
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    try:
        query = file_descriptors(str(path), app.settings)
    except IsolatedFailure as exc:
        raise InvalidInput(f"{path}: cannot be decoded ({exc})") from exc
    if not len(query) and not len(query.sound_times):
        raise InvalidInput(f"{path}: nothing to compare (no picture that is not black or flat, and no sound)")
    library = app.library
    itself = library.known_file(str(path.resolve()))
    archive = [d for d in copy_descriptors(library.sessions) if itself is None or d.video_id != itself.id]
    found = spans_between(query, archive, HashIndex(archive), COPY_MIN_SECONDS, sound_index(archive))
    paths = {video.id: video.path for video in library.videos("indexed")}
    spans = sorted((s for spans in found.values() for s in spans), key=lambda s: -s.evidence)
    if args.json:
        print(json.dumps([{"start": s.a_start, "end": s.a_end, "video_id": s.b, "video_path": paths[s.b],
                           "video_start": s.b_start, "video_end": s.b_end, "score": s.score,
                           "witness": s.witness, **({"change": s.change} if s.change else {})} for s in spans],
                         indent=1, ensure_ascii=False))
        return 0
    if not spans:
        print(f"no copy of {path} found in {len(archive)} videos")
    for s in spans:
        print(f"  {_clock(s.a_start)}-{_clock(s.a_end)} = {paths[s.b]} {_clock(s.b_start)}-{_clock(s.b_end)}"
              f"  score {s.score:.2f}, same {_WITNESS[s.witness]}" + (f" ({s.change})" if s.change else ""))
    return 0
