"""The ``vidsearch`` command line: index, search, similar, status, remove, transcript (eval and tune
in ``cli_quality``, duplicates in ``cli_copies``, vectors in ``cli_vectors``, serve in ``serve``).

Every command that prints results has ``--json``; a result carries at least video_path,
video_id, segment_id, start, end, score and transcript. Settings come from ``VIDSEARCH_*``
variables (see ``core.settings``). Errors the user can fix (``core.errors``) print one line that
says what to do and exit 2; anything else is a bug: one line and exit 1, the traceback with -v.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from core.errors import VidsearchError
from core.settings import Settings

EXIT_USAGE = 2
EXIT_BUG = 1


def _fmt_time(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes:02d}:{secs:04.1f}"


def _print_moments(moments, as_json: bool, chapters: dict | None = None) -> None:
    """The moments, with each video's chapters when ``chapters`` ({video id: marks}) is given."""
    chapters = chapters or {}
    if as_json:
        print(json.dumps([{**m.as_dict(), **({"chapters": [c._asdict() for c in chapters[m.video_id]]}
                                             if m.video_id in chapters else {})} for m in moments],
                         indent=1, ensure_ascii=False))
        return
    if not moments:
        print("no results")
    for rank, m in enumerate(moments, 1):
        label = f"  ({m.relevance})" if m.relevance else ""
        print(f"{rank:2d}. {m.score:.4f}  {m.video_path}  {_fmt_time(m.start)}-{_fmt_time(m.end)}"
              f"  [video {m.video_id}, segment {m.segment_id}]{label}")
        if m.transcript:
            text = m.transcript if len(m.transcript) < 160 else m.transcript[:157] + "..."
            print(f"      \"{text}\"")
        if m.screen_text:
            shown = m.screen_text if len(m.screen_text) < 160 else m.screen_text[:157] + "..."
            print(f"      on screen: {shown}")
        if m.voice:
            print(f"      voice: {m.voice['name']}")
        if m.chapter:
            print(f"      chapter: {m.chapter}")
        if m.video_id in chapters:
            print("      chapters: " + " · ".join(f"{_fmt_time(c.start)} {c.title}" for c in chapters[m.video_id]))


class App:
    """The objects a command needs, built on first use (a status call loads no model).
    ``read_only``: a command that only queries (its library maps the index files, see
    ``FaissIndexSet``)."""

    def __init__(self, settings: Settings, read_only: bool = False):
        self.settings = settings
        self.read_only = read_only
        self._library = self._encoders = None

    @property
    def library(self):
        if self._library is None:
            from core.library import Library

            self._library = Library(self.settings, read_only=self.read_only)
        return self._library

    @property
    def encoders(self):
        if self._encoders is None:
            from core.encoders import Encoders

            self._encoders = Encoders(self.settings)
        return self._encoders

    def searcher(self):
        from search.service import Searcher

        return Searcher(self.library, self.encoders)

    def video_id(self, target: str) -> int | None:
        """The id of a video named by its id or its path (None when no such path is indexed)."""
        if target.isdigit():
            return int(target)
        video = self.library.known_file(str(Path(target).expanduser().resolve()))
        return video.id if video else None

    def indexer(self, progress: bool = True, workers: int | None = None):
        from indexer.pipeline import Indexer

        return Indexer(self.library, self.encoders, self.settings, progress=progress, workers=workers)


def cmd_index(app: App, args) -> int:
    if args.only:
        import time

        from indexer.report import IndexReport

        started = time.perf_counter()
        if args.only == "ocr":
            from indexer.screen_backfill import add_screen_text

            outcomes = add_screen_text(app.library, app.encoders, app.settings, args.paths, force=args.force)
        elif args.only == "faces":
            from indexer.face_backfill import add_faces

            outcomes = add_faces(app.library, app.settings, args.paths, force=args.force)
        elif args.only == "voices":
            from indexer.voice_backfill import add_voices

            outcomes = add_voices(app.library, app.settings, args.paths, force=args.force)
        elif args.only == "chapters":
            from indexer.chapter_backfill import add_chapters

            outcomes = add_chapters(app.library, app.encoders, app.settings, args.paths, force=args.force)
        else:
            from indexer.copy_backfill import add_copy_descriptors

            outcomes = add_copy_descriptors(app.library, app.settings, args.paths, force=args.force)
        report = IndexReport(outcomes)
        report.wall_seconds = time.perf_counter() - started
    else:
        indexer = app.indexer(progress=not args.json and not args.quiet, workers=args.workers)
        report = indexer.index(args.paths, force=args.force, retry_failed=args.retry_failed, prune=args.prune,
                               ray_address=args.ray_address)
    if args.json:
        print(json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
        return 0
    if not report.visual:
        print("note: visual search is off (CLIP weights unavailable); indexed speech only", file=sys.stderr)
    indexed, skipped, failed = report.of("indexed"), report.of("skipped"), report.of("failed")
    wall = max(report.wall_seconds, 1e-9)
    print(f"indexed {len(indexed)} file(s), {sum(o.segments for o in indexed)} segments, "
          f"{report.video_seconds:.1f} s of video in {report.wall_seconds:.1f} s "
          f"({report.video_seconds / wall:.2f} video-s per s); skipped {len(skipped)}; "
          f"moved {len(report.of('moved'))}; pruned {len(report.of('pruned'))}; failed {len(failed)}")
    stages = report.stage_seconds()
    print("time per stage: " + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
    rates = report.stage_rates()
    if rates:
        slowest = min(rates, key=rates.get)
        print(f"video-hours per hour: {report.video_seconds / wall:.1f} in all; each stage alone: "
              + ", ".join(f"{k} {v:.0f}" + (" (the bound)" if k == slowest and len(rates) > 1 else "")
                          for k, v in rates.items()))
    for o in skipped + report.of("moved") + report.of("pruned"):
        print(f"  {o.status:7s} {o.path}: {o.reason}")
    for o in failed:
        print(f"  FAILED  {o.path} [{o.stage}]: {o.reason}")
    return 0


def _filters(args, app: App):
    from core.people import PeopleStore
    from search.filters import Filters

    person = PeopleStore(app.library).resolve(args.person) if args.person else None
    try:
        return Filters.asked(args.video, args.path_prefix, args.tag, args.after, args.before, args.min_duration,
                             args.max_duration, args.language, person)
    except ValueError as exc:
        raise UsageError(f"--language: {exc}") from exc


def cmd_search(app: App, args) -> int:
    from search.modes import MODE_SPACES

    loading = app.encoders.load_for_query(MODE_SPACES[args.mode or app.settings.default_mode])
    searcher = app.searcher()  # opens the indexes meanwhile
    for thread in loading:
        thread.join()
    moments = searcher.search_text(args.text, args.mode, args.k, filters=_filters(args, app),
                                   per_video=args.per_video, offset=args.offset)
    chapters = app.library.shown_chapters({m.video_id for m in moments}) if args.per_video and moments else None
    _print_moments(moments, args.json, chapters)
    return 0


def cmd_similar(app: App, args) -> int:
    if args.copies:
        from .cli_copies import similar_copies

        return similar_copies(app, args)
    if sum(x is not None for x in (args.file, args.segment, args.face, args.voice)) != 1:
        raise UsageError("give one of FILE, --segment ID, --face PHOTO or --voice AUDIO")
    if args.face is not None:
        _print_moments(_similar_face(app, args), args.json)
        return 0
    if args.voice is not None:
        from .cli_voices import similar_voice

        _print_moments(similar_voice(app, args, _filters(args, app)), args.json)
        return 0
    searcher = app.searcher()
    if args.segment is not None:
        moments = searcher.similar_segment(args.segment, args.mode, args.k, filters=_filters(args, app),
                                           per_video=args.per_video, offset=args.offset)
    else:
        from indexer.query_clip import QueryClips

        vectors = QueryClips(app.encoders, app.settings).vectors(Path(args.file))
        if not vectors:
            raise UsageError(f"{args.file}: nothing to search with (no frames CLIP can see, no speech)")
        moments = searcher.search_vectors(vectors, args.mode or searcher.settings.default_mode, args.k,
                                          filters=_filters(args, app), per_video=args.per_video, offset=args.offset)
    _print_moments(moments, args.json)
    return 0


def _similar_face(app: App, args) -> list:
    from core.models.faces import FaceModel
    from search.faces import moments_with_face, photo_face

    path = Path(args.face)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    descriptor, note = photo_face(FaceModel(), path)
    if note:
        print(note, file=sys.stderr)
    return moments_with_face(app.library, descriptor, app.settings.face_match, args.k, filters=_filters(args, app))


def cmd_status(app: App, args) -> int:
    from core.models.speech_languages import language_name

    lib = app.library
    counts = lib.counts()
    failed = lib.videos(status="failed")
    languages, speech = lib.speech_languages()
    data = {
        "data_dir": str(app.settings.data_dir),
        "database": app.settings.catalog_url if "@" not in app.settings.catalog_url
        else app.settings.catalog_url.split("@")[-1],
        "videos_indexed": counts.indexed,
        "videos_failed": counts.failed,
        "segments": counts.segments,
        "vectors": counts.vectors,
        "transcribed_by": lib.transcript_sources(),
        "languages": languages,
        "speech": [video._asdict() for video in speech] if args.videos or args.json else [],
        "failures": [{"path": v.path, "stage": v.error_stage, "reason": v.error} for v in failed],
        "jobs": [{"id": j.id, "status": j.status, "roots": j.roots, "counts": j.counts,
                  "created_at": j.created_at.isoformat(), "failures": j.failures} for j in lib.jobs.latest(5)],
    }
    if args.json:
        print(json.dumps(data, indent=1, ensure_ascii=False))
        return 0
    print(f"data dir : {data['data_dir']}\ncatalog  : {data['database']}")
    print(f"videos   : {data['videos_indexed']} indexed, {data['videos_failed']} failed; "
          f"{data['segments']} segments")
    print("vectors  : " + (", ".join(f"{k} {v}" for k, v in data["vectors"].items()) or "none"))
    if data["transcribed_by"]:
        print("words    : " + ", ".join(f"{n} video(s) from {m}" for m, n in data["transcribed_by"].items()))
    if languages:
        print("spoken   : " + ", ".join(f"{language_name(code)} ({code}) in {c['videos']} video(s), "
                                        f"{c['segments']} segments" for code, c in languages.items()))
    for video in data["speech"]:
        print(f"  {video['path']}: {video['asr_model'] or video['transcript_source'] or 'no speech'}"
              f"{', ' + ' '.join(video['languages']) if video['languages'] else ''}")
    for video in speech:
        if video.speech_note:
            print(f"  NOTE   {video.path}: {video.speech_note}")
    for f in data["failures"]:
        print(f"  FAILED {f['path']} [{f['stage']}]: {f['reason']}")
    for job in data["jobs"][:3]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(job["counts"].items()))
        print(f"job {job['id']} ({job['status']}, {job['created_at'][:19]}): {counts or 'no files'}")
    return 0


def cmd_check(app: App, args) -> int:
    """Exit 0 when catalog and indexes agree; 1 when they do not (after --repair: what was fixed)."""
    from core.vectors import disagrees
    from core.library import Library

    lib = Library(app.settings, reconcile=False)  # look at the files as a fresh open finds them
    report = lib.check()
    problems = {space: r for space, r in report.items() if disagrees(r)}
    if args.repair and problems:
        lib.reconcile()
        after = lib.check()
    else:
        after = report
    data = {"consistent": not problems, "spaces": report,
            "repaired": bool(args.repair and problems),
            "consistent_after": all(not (r["missing"] or r["orphans"] or r["duplicates"])
                                    for r in after.values())}
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        for space, r in report.items():
            print(f"{space:7s} catalog {r['catalog']:7d}  index {r['index']:7d}  missing {len(r['missing'])}"
                  f"  orphans {len(r['orphans'])}  duplicates {r['duplicates']}"
                  + ("  UNREADABLE" if r["unreadable"] else "") + ("  WRONG DIMENSION" if r["wrong_dim"] else ""))
        print("consistent" if not problems else
              ("repaired: consistent now" if data["repaired"] and data["consistent_after"] else
               "INCONSISTENT: run `vidsearch check --repair`"))
    return 0 if not problems or (args.repair and data["consistent_after"]) else 1


def cmd_remove(app: App, args) -> int:
    lib = app.library
    missing = 0
    for target in args.targets:
        video_id = app.video_id(target)
        if video_id is not None and lib.remove_video(video_id):
            print(f"removed {target}")
        else:
            print(f"not in the catalog: {target}", file=sys.stderr)
            missing += 1
    return 1 if missing else 0


def cmd_tag(app: App, args) -> int:
    lib = app.library
    video_id = app.video_id(args.target)
    if video_id is None:
        raise UsageError(f"not in the catalog: {args.target}")
    tags = lib.set_tags(video_id, add=[] if args.remove else args.tags, remove=args.tags if args.remove else [])
    print(json.dumps({"video_id": video_id, "tags": tags}) if args.json else f"{args.target}: {', '.join(tags) or '(no tags)'}")
    return 0


def cmd_transcript(app: App, args) -> int:
    from core.subtitles import render

    video_id = app.video_id(args.target)
    cues = app.library.transcript_cues(video_id) if video_id is not None else None
    if cues is None:
        raise UsageError(f"no indexed video {args.target} in the catalog")
    document, _ = render(cues, args.format)
    sys.stdout.write(document)
    return 0


class UsageError(VidsearchError):
    """A command line that cannot be carried out as given."""


def _query_options(p: argparse.ArgumentParser, modes) -> None:
    import datetime as dt

    p.add_argument("--mode", choices=modes, default=None, help="space(s) to search (default: hybrid)")
    p.add_argument("-k", type=int, default=10, help="number of moments")
    p.add_argument("--offset", type=int, default=0, help="skip this many moments (the next page)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--per-video", action="store_true", help="only the best moment of each video, with its chapters")
    group = p.add_argument_group("filters")
    group.add_argument("--video", type=int, action="append", metavar="ID", help="only these videos")
    group.add_argument("--path-prefix", metavar="PREFIX", help="only videos whose path starts so")
    group.add_argument("--tag", action="append", metavar="TAG", help="only videos with this tag (repeatable)")
    group.add_argument("--after", type=dt.datetime.fromisoformat, metavar="DATE", help="recorded on or after")
    group.add_argument("--before", type=dt.datetime.fromisoformat, metavar="DATE", help="recorded on or before")
    group.add_argument("--min-duration", type=float, metavar="S")
    group.add_argument("--max-duration", type=float, metavar="S")
    group.add_argument("--language", metavar="CODE", help="only moments spoken in this language (en, de, fr, zh...)")
    group.add_argument("--person", metavar="NAME_OR_ID", help="only moments where this person is seen (vidsearch people)")


def build_parser() -> argparse.ArgumentParser:
    from search.service import MODES
    from core.subtitles import FORMATS as TRANSCRIPT_FORMATS

    parser = argparse.ArgumentParser(prog="vidsearch", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    _register_index(sub)
    _register_finding(sub, MODES)
    _register_library(sub, TRANSCRIPT_FORMATS)

    from .cli_chapters import register as register_chapters
    from .cli_copies import register as register_copies
    from .cli_people import register as register_people
    from .cli_voices import register as register_voices
    from .cli_quality import register as register_quality
    from .cli_vectors import register as register_vectors
    from .serve import register as register_serve

    register_quality(sub, MODES)
    register_copies(sub)
    register_chapters(sub)
    register_people(sub)
    register_voices(sub)
    register_vectors(sub)
    register_serve(sub)
    return parser


def _register_index(sub) -> None:
    p = sub.add_parser("index", help="index media files and folders (recursive)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--force", action="store_true", help="re-index files that did not change")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, default=None,
                   help="decode+ASR worker processes (default: VIDSEARCH_WORKERS, else one per core, at most 4)")
    p.add_argument("--retry-failed", action="store_true", help="try files that failed before again")
    p.add_argument("--prune", action="store_true", help="remove indexed files under PATH that are gone")
    p.add_argument("--only", choices=["ocr", "copies", "faces", "voices", "chapters"], help="only add what is "
                   "missing of one kind: 'ocr' reads the on-screen text of indexed videos that have none, 'copies' "
                   "takes their copy descriptors (vidsearch duplicates), 'faces' looks for their faces (vidsearch "
                   "people), 'voices' tells who speaks when (vidsearch voices), 'chapters' makes their chapters and "
                   "summary (vidsearch chapters); frames are not embedded again")
    p.add_argument("--ray-address", metavar="ADDR", help="spread the work over a Ray cluster ('auto': the "
                   "one this machine belongs to; 'local': start one here)")
    p.set_defaults(func=cmd_index)


def _register_finding(sub, modes) -> None:
    p = sub.add_parser("search", help="find moments by text")
    p.add_argument("text")
    _query_options(p, modes)
    p.set_defaults(func=cmd_search, read_only=True)

    p = sub.add_parser("similar", help="find moments like a clip, an image or an indexed segment")
    p.add_argument("file", nargs="?", help="a video clip or an image")
    p.add_argument("--segment", type=int, help="an indexed segment id instead of a file")
    p.add_argument("--face", metavar="PHOTO", help="where the person in this photo appears (one moment per "
                   "appearance, nearest first; nobody farther than VIDSEARCH_FACE_MATCH)")
    p.add_argument("--voice", metavar="AUDIO", help="where the voice in this recording speaks (one moment per "
                   "turn, nearest first; nobody farther than VIDSEARCH_VOICE_MATCH)")
    p.add_argument("--copies", action="store_true", help="where else FILE's footage appears (copied spans)")
    _query_options(p, modes)
    p.set_defaults(func=cmd_similar, read_only=True)


def _register_library(sub, transcript_formats) -> None:
    p = sub.add_parser("status", help="what is indexed, and what failed and why")
    p.add_argument("--json", action="store_true")
    p.add_argument("--videos", action="store_true", help="each video's speech model and languages")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("tag", help="label a video (by path or id) for search filters")
    p.add_argument("target", metavar="PATH_OR_ID")
    p.add_argument("tags", nargs="+", metavar="TAG")
    p.add_argument("--remove", action="store_true", help="remove these tags instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("transcript", help="print a video's transcript (by path or id) as WebVTT, SRT, text or JSON")
    p.add_argument("target", help="the video's path or id")
    p.add_argument("--format", choices=transcript_formats, default="vtt")
    p.set_defaults(func=cmd_transcript)

    p = sub.add_parser("check", help="verify that the catalog and the vector indexes agree")
    p.add_argument("--repair", action="store_true", help="rebuild what disagrees from the catalog")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("remove", help="remove videos (by path or id) from the catalog and index")
    p.add_argument("targets", nargs="+", metavar="PATH_OR_ID")
    p.set_defaults(func=cmd_remove)


def _configure_logging(verbose: bool) -> None:
    """Our warnings on stderr, one line each; libraries' chatter only with --verbose."""
    root = logging.getLogger()
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    if not any(getattr(h, "vidsearch", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.vidsearch = True
        handler.setFormatter(logging.Formatter("vidsearch: %(levelname)s: %(message)s"))
        # open_clip logs through the root logger itself; we report its failures in our words.
        handler.addFilter(lambda record: verbose or record.name == "search" or
                          record.name.startswith(("search.", "indexer.", "api.")))
        root.addHandler(handler)
    # huggingface_hub prints its own retries through a handler of its own.
    logging.getLogger("huggingface_hub").setLevel(logging.INFO if verbose else logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    from pydantic import ValidationError

    try:
        return args.func(App(Settings(), read_only=getattr(args, "read_only", False)), args)
    except ValidationError as exc:
        print(f"vidsearch: invalid VIDSEARCH_* setting: {exc}", file=sys.stderr)
    except (VidsearchError, OSError) as exc:  # the user's to fix (a file system problem too)
        print(f"vidsearch: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("vidsearch: interrupted; what was written stays consistent", file=sys.stderr)
        return 130
    except Exception as exc:  # a defect of vidsearch: say so, and show where with -v
        if args.verbose:
            raise
        print(f"vidsearch: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback, "
              "and please report it)", file=sys.stderr)
        return EXIT_BUG
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
