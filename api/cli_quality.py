"""``vidsearch eval`` and ``vidsearch tune``: answer quality measured on labelled queries, and the
hybrid ranking learned from them (``search.quality``)."""
from __future__ import annotations

import json

from core.errors import InvalidInput


def register(sub, modes) -> None:
    from search.quality.querysets import FORMATS

    p = sub.add_parser("eval", help="measure answer quality on labelled queries")
    p.add_argument("queries", metavar="QUERIES", help="labelled queries (.jsonl, MSR-VTT .csv, Charades-STA "
                   ".txt, ActivityNet .json, QVHighlights .jsonl)")
    p.add_argument("--format", choices=FORMATS, help="the file's format (default: from its name and content)")
    p.add_argument("--mode", choices=modes, action="append", help="mode(s) to measure (default: all the "
                   "library can answer)")
    p.add_argument("-k", type=int, default=10, help="moments per query")
    p.add_argument("--json", action="store_true")
    p.add_argument("--per-query", metavar="OUT.jsonl", help="write each query's rank, top moment and IoU")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_eval, read_only=True)

    p = sub.add_parser("tune", help="learn the hybrid ranking from labelled queries")
    p.add_argument("queries", metavar="QUERIES", nargs="?", help="labelled queries, as for eval")
    p.add_argument("--format", choices=FORMATS)
    p.add_argument("--name", default="tuned", help="profile name (default: tuned)")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--held-out", type=float, default=0.3, help="share of queries kept to check (default 0.3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/held-out split")
    p.add_argument("--dry-run", action="store_true", help="report, save nothing")
    p.add_argument("--show", action="store_true", help="show the active profile and the ranking in use")
    p.add_argument("--reset", action="store_true", help="stop using the active profile")
    p.add_argument("--json", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_tune, read_only=True)


def _load_queries(args):
    from search.quality.querysets import QuerySetError, load_queries

    if not args.queries:
        raise InvalidInput("give the labelled queries: a .jsonl, MSR-VTT .csv, Charades-STA .txt, "
                           "ActivityNet .json or QVHighlights .jsonl file")
    try:
        return load_queries(args.queries, args.format)
    except QuerySetError as exc:
        raise InvalidInput(str(exc)) from exc
    except OSError as exc:
        raise InvalidInput(f"{args.queries}: {exc.strerror or exc}") from exc


def cmd_eval(app, args) -> int:
    from search.quality.evaluate import evaluate, format_table

    queryset = _load_queries(args)
    searcher = app.searcher()
    result = evaluate(searcher, queryset, args.mode, args.k, progress=not args.quiet)
    if args.per_query:
        with open(args.per_query, "w", encoding="utf-8") as out:
            for record in result.per_query():
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    relevance = _relevance(result, app.settings.relevance_thresholds)
    if args.json:
        print(json.dumps({**result.as_dict(), "relevance": relevance}, indent=1, ensure_ascii=False))
        return 0
    evaluated = len(queryset.queries) - len(result.unmatched) - len(result.ambiguous)
    print(f"{queryset.path} ({queryset.format}): {evaluated} of {len(queryset.queries)} queries evaluated, "
          f"k={args.k}")
    print(format_table(result.table()))
    for name, missing in (("not indexed", result.unmatched), ("ambiguous", result.ambiguous)):
        if missing:
            shown = ", ".join(sorted({q.video for q in missing})[:5])
            print(f"{len(missing)} queries name a video that is {name}: {shown}"
                  f"{' ...' if len({q.video for q in missing}) > 5 else ''}")
    if relevance:
        from search.quality.calibration import format_precision

        print(f"relevance labels (hybrid, share of moments right): {format_precision(relevance['precision'])}")
        print(f"thresholds this set would give: VIDSEARCH_RELEVANCE_THRESHOLDS='{json.dumps(relevance['learned'])}'")
    return 0


def _relevance(result, thresholds: dict) -> dict | None:
    """How often each relevance label was right in hybrid mode, and the thresholds this set
    would learn (``search.quality.calibration``); None when hybrid was not measured."""
    from search.quality.calibration import label_precision, learn_thresholds

    if "hybrid" not in result.results:
        return None
    return {"precision": label_precision(result, thresholds),
            "learned": {**thresholds, **learn_thresholds(result)}}


def cmd_tune(app, args) -> int:
    from search.profile import active_profile, ranking_for, reset_profile, save_profile

    if args.reset:
        print("profile reset: searches use the settings' ranking" if reset_profile(app.settings)
              else "no profile was active")
        return 0
    if args.show:
        found = active_profile(app.settings)
        data = {"active": found[0] if found else None, "ranking": ranking_for(app.settings).as_dict(),
                "profile": found[1] if found else None}
        if args.json:
            print(json.dumps(data, indent=1))
        else:
            print(f"profile : {data['active'] or '(none: the settings decide)'}")
            print("ranking : " + json.dumps(data["ranking"]))
        return 0
    from search.quality.evaluate import format_table
    from search.quality.tune import tune

    queryset = _load_queries(args)
    result = tune(app.searcher(), queryset, k=args.k, held_out=args.held_out, seed=args.seed,
                  progress=not args.quiet)
    saved, refused = None, 0
    if result.improved and not args.dry_run:
        saved = save_profile(app.settings, args.name, result.after,
                             {"queries": str(queryset.path), "tuned": result.as_dict()})
        if result.fused_after != result.fused_before:
            from search.refuse import refuse

            refused = refuse(app.library, *result.fused_after)
    if args.json:
        print(json.dumps({**result.as_dict(), "saved": str(saved) if saved else None, "refused": refused},
                         indent=1))
        return 0 if result.improved else 1
    print(f"tuned on {result.train_queries} queries, checked on {result.held_out_queries} held out "
          f"(objective: {result.objective})")
    print("before: " + json.dumps(result.before.as_dict()))
    print("after : " + json.dumps(result.after.as_dict()))
    print(format_table({"before": {"held-out": result.held_out[0]}, "after": {"held-out": result.held_out[1]}}))
    if saved:
        print(f"saved as profile {args.name!r} ({saved}); search, similar and the server use it now")
    if refused:
        print(f"re-fused {refused} fused vectors: frames {result.fused_after[0]:g}, speech "
              f"{result.fused_after[1]:g} (was {result.fused_before[0]:g}, {result.fused_before[1]:g})")
    elif args.dry_run:
        print("dry run: nothing saved")
    else:
        print("not saved: the learned ranking is worse than the current one on the held-out queries")
    return 0 if result.improved else 1
