"""``vidsearch vectors migrate``: move a library's vectors between FAISS files and Milvus.

The catalog keeps every vector, so a move is a build of the other store from the catalog,
checked id by id at the end; the store moved from is left as it was (delete it when the new one
serves). Then set ``VIDSEARCH_VECTOR_BACKEND`` (and ``VIDSEARCH_MILVUS_URI``) to use it.
"""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("vectors", help="move the vectors between FAISS files and Milvus (the catalog keeps them)")
    action = p.add_subparsers(dest="action", required=True)
    m = action.add_parser("migrate", help="build the other vector store from the catalog and check it")
    m.add_argument("--to", required=True, choices=["faiss", "milvus"], help="the store to build")
    m.add_argument("--milvus-uri", help="Milvus to build into (default: VIDSEARCH_MILVUS_URI, else "
                   "a milvus-lite file in the data dir)")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_migrate)


def cmd_migrate(app, args) -> int:
    from core.vectors import disagrees
    from core.library import Library

    changes = {"vector_backend": args.to}
    if args.milvus_uri:
        changes["milvus_uri"] = args.milvus_uri
    settings = app.settings.model_copy(update=changes)
    library = Library(settings, reconcile=False)
    built = library.reconcile()  # the catalog's vectors into the target, range by range
    report = library.check()
    consistent = not any(disagrees(r) for r in report.values())
    data = {"to": args.to, "written": {space: added for space, (added, _) in built.items()},
            "spaces": {space: {"catalog": r["catalog"], "index": r["index"]} for space, r in report.items()},
            "consistent": consistent}
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        for space, r in data["spaces"].items():
            print(f"{space:7s} catalog {r['catalog']:7d}  {args.to} {r['index']:7d}")
        where = f" VIDSEARCH_MILVUS_URI={args.milvus_uri}" if args.milvus_uri else ""
        print(f"consistent: set VIDSEARCH_VECTOR_BACKEND={args.to}{where} to search with it" if consistent
              else "INCONSISTENT: run `vidsearch vectors migrate` again, or `vidsearch check --repair` "
                   "with the new backend set")
    return 0 if consistent else 1
