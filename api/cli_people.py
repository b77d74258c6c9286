"""``vidsearch people``: the people whose faces appear in the archive, and what users say of them."""
from __future__ import annotations

import json
from pathlib import Path

from core.errors import InvalidInput


def register(sub) -> None:
    p = sub.add_parser("people", help="the people whose faces appear in the archive: list, name, merge, split, "
                                      "forget")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_people, action=None)
    action = p.add_subparsers(dest="action")
    a = action.add_parser("name", help="give a person a name")
    a.add_argument("person", metavar="ID")
    a.add_argument("name")
    a = action.add_parser("merge", help="two people are one: the second's appearances become the first's")
    a.add_argument("person", metavar="ID")
    a.add_argument("other", metavar="OTHER_ID")
    a = action.add_parser("split", help="an appearance is someone else: it becomes a person of its own")
    a.add_argument("person", metavar="ID")
    a.add_argument("appearance", type=int, metavar="APPEARANCE")
    a = action.add_parser("forget", help="delete a person with its appearances' face descriptors and stills")
    a.add_argument("person", metavar="ID")
    a = action.add_parser("still", help="write the picture of a person (or of one appearance) to a JPEG file")
    a.add_argument("person", metavar="ID")
    a.add_argument("--appearance", type=int, help="this appearance's still instead of the person's best")
    a.add_argument("--out", required=True, metavar="FILE")


def cmd_people(app, args) -> int:
    from core.people import PeopleStore

    people = PeopleStore(app.library)
    if args.action is None:
        rows = people.list()
        if args.json:
            print(json.dumps([{**r._asdict(), "label": r.label()} for r in rows], indent=1, ensure_ascii=False))
            return 0
        if not rows:
            print("no faces found yet (indexing looks for them: VIDSEARCH_FACES)")
        for r in rows:
            print(f"{r.id:5d}  {r.label()}: {r.appearances} appearance(s) in {r.videos} video(s)"
                  + (f", still: appearance {r.still_appearance}" if r.still_appearance else ""))
        return 0
    person = people.resolve(args.person)
    if args.action == "name":
        people.name(person, args.name)
        print(f"person {person} is {args.name.strip()}")
    elif args.action == "merge":
        other = people.resolve(args.other)
        people.merge(person, other)
        print(f"person {other} merged into person {person}")
    elif args.action == "split":
        alone = people.split(person, args.appearance)
        print(f"appearance {args.appearance} is person {alone} now")
    elif args.action == "forget":
        gone = people.forget(person)
        print(f"person {person} forgotten: {gone} appearance(s) and their descriptors and stills deleted")
    elif args.action == "still":
        appearance = args.appearance or next((r.still_appearance for r in people.list() if r.id == person), None)
        still = people.still(appearance) if appearance else None
        if not still:
            raise InvalidInput(f"no still of person {person}" + (f" in appearance {appearance}" if appearance else ""))
        Path(args.out).write_bytes(still)
        print(f"wrote {args.out}")
    return 0
