"""``vidsearch voices`` (the voices heard in the archive, named or forgotten) and ``similar --voice``."""
from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("voices", help="the voices heard in the archive: list, name, forget")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_voices, action=None)
    action = p.add_subparsers(dest="action")
    a = action.add_parser("name", help="give a voice a name (transcripts then say who speaks)")
    a.add_argument("voice", metavar="ID")
    a.add_argument("name")
    a = action.add_parser("forget", help="delete a voice with its speakers' vectors and turns")
    a.add_argument("voice", metavar="ID")


def cmd_voices(app, args) -> int:
    from core.voices import VoiceStore

    voices = VoiceStore(app.library)
    if args.action is None:
        rows = voices.list()
        if args.json:
            print(json.dumps([{**r._asdict(), "label": r.label()} for r in rows], indent=1, ensure_ascii=False))
            return 0
        if not rows:
            print("no voices told apart yet (indexing does it: VIDSEARCH_VOICES)")
        for r in rows:
            print(f"{r.id:5d}  {r.label()}: {r.seconds:.0f} s in {r.videos} video(s)")
        return 0
    voice = voices.resolve(args.voice)
    if args.action == "name":
        voices.name(voice, args.name)
        print(f"voice {voice} is {args.name.strip()}")
    elif args.action == "forget":
        gone = voices.forget(voice)
        print(f"voice {voice} forgotten: {gone} speaker(s) and their vectors and turns deleted")
    return 0


def similar_voice(app, args, filters) -> list:
    """The moments where the voice recorded in ``args.voice`` speaks."""
    from indexer.query_clip import recording_voice_of
    from search.voices import moments_with_voice

    vector = recording_voice_of(Path(args.voice), app.settings)
    return moments_with_voice(app.library, vector, app.settings.voice_match, args.k, filters=filters)
