"""``vidsearch chapters VIDEO``: a video's chapters and summary, or its chapters in a player's format."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    from core.chapter_formats import EXPORTS

    p = sub.add_parser("chapters", help="a video's chapters (by path or id) and its summary, or the chapters "
                                        "as WebVTT, FFmpeg metadata or YouTube lines")
    p.add_argument("target", metavar="PATH_OR_ID", help="the video's path or id")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="chapters, the file's own marks and the summary as JSON")
    out.add_argument("--format", choices=EXPORTS,
                     help="only the chapters, as a WebVTT chapters track, an FFmpeg metadata file "
                          "(ffmpeg -i VIDEO -i FILE -map_metadata 1 -codec copy OUT) or '0:00 Title' lines")
    p.set_defaults(func=cmd_chapters, read_only=True)


def cmd_chapters(app, args) -> int:
    from core.chapter_formats import render_chapters, shown_chapters, youtube_stamp
    from core.errors import NotFound

    video_id = app.video_id(args.target)
    video = app.library.indexed_video(video_id) if video_id is not None else None
    if video is None:
        raise NotFound(f"no indexed video {args.target} in the catalog")
    marks, summary = app.library.chapters_of(video_id)
    shown = shown_chapters(marks, app.settings.chapters_from)
    if args.format:
        sys.stdout.write(render_chapters(shown, args.format)[0])
        return 0
    if args.json:
        print(json.dumps({"video_id": video_id, "path": video.path, "chapters": [m._asdict() for m in shown],
                          "file_chapters": [m._asdict() for m in marks if m.source == "file"],
                          "summary": [{"start": a, "end": b, "text": t} for a, b, t in summary or []]},
                         indent=1, ensure_ascii=False))
        return 0
    if video.chapters_version is None:
        print(f"{video.path}: no chapters yet (vidsearch index --only chapters {video.path})")
        return 0
    source = "the file's own" if shown and shown[0].source == "file" else "computed"
    print(f"{video.path}: {len(shown)} chapter(s), {source}")
    for mark in shown:
        print(f"  {youtube_stamp(mark.start):>8}  {mark.title}")
    if summary:
        print("summary:")
        for start, _, text in summary:
            print(f"  {youtube_stamp(start):>8}  {text}")
    return 0
