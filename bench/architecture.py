"""The shape of the code as tables: rooms, module sizes, import circles, long functions.

Refactors claim "no circles between rooms" and "modules around 300 lines"; this command is how
such a claim is checked rather than asserted. It reads the source with ``ast`` only (nothing is
imported), so it runs anywhere in a second.

    python -m bench.architecture            # all tables
    python -m bench.architecture --circles  # just the import circles

A circle counts every import, also one written inside a function: a lazy import hides a
circle from the interpreter, not from the reader, and the two files still cannot be understood
(or moved to different rooms) apart. Circles formed by module-level imports alone are marked.
"""
from __future__ import annotations

import argparse
import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "search", "indexer", "api")
LONG_MODULE = 300
LONG_FUNCTION = 60


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room_of(module: str) -> str:
    """The room of a module: its top-level package, and ``core`` for the ground floor."""
    return module.split(".")[0]


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(base: str, node: ast.ImportFrom, modules: set[str]) -> list[str]:
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}" if base else alias.name
        found.append(candidate if candidate in modules else base)
    return found


def read_graph() -> tuple[dict[str, Path], dict[str, set[str]], dict[str, set[str]]]:
    """(module -> file, eager imports, lazy imports) over the product's packages."""
    files = {module_name(p): p for pkg in PACKAGES if (ROOT / pkg).is_dir()
             for p in sorted((ROOT / pkg).rglob("*.py"))}
    modules = set(files)
    eager: dict[str, set[str]] = defaultdict(set)
    lazy: dict[str, set[str]] = defaultdict(set)
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        top_level = {id(n) for n in tree.body}
        top_level |= {id(n) for n in ast.walk(tree) if _in_module_scope(tree, n)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = _targets(_resolve(module, path.name == "__init__.py", node), node, modules)
            else:
                continue
            wanted = {_known(n, modules) for n in names} - {None, module}
            (eager if id(node) in top_level else lazy)[module].update(wanted)
    return files, eager, lazy


def _in_module_scope(tree: ast.Module, target: ast.AST) -> bool:
    """True for nodes reached without entering a function body (if/try at module level count)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if node is target:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and _type_checking(node):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _known(name: str, modules: set[str]) -> str | None:
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative order)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_edge(a: str, b: str) -> bool:
    """An import of a package's own ``__init__`` by its members is not a circle worth naming."""
    return b != a and (a.startswith(b + ".") or b.startswith(a + "."))


def long_functions(files: dict[str, Path]) -> list[tuple[int, str]]:
    rows = []
    for module, path in files.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > LONG_FUNCTION:
                    rows.append((length, f"{module}.{node.name}"))
    return sorted(rows, reverse=True)


def room_imports(eager: dict[str, set[str]], lazy: dict[str, set[str]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for graph in (eager, lazy):
        for module, wanted in graph.items():
            for target in wanted:
                if room_of(module) != room_of(target):
                    counts[(room_of(module), room_of(target))] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circles", action="store_true", help="print only the import circles")
    args = parser.parse_args(argv)
    files, eager, lazy = read_graph()
    found = circles({m: {t for t in eager.get(m, set()) | lazy.get(m, set()) if not _package_edge(m, t)}
                     for m in files})
    eager_found = circles({m: {t for t in wanted if not _package_edge(m, t)} for m, wanted in eager.items()})
    if not args.circles:
        print("| room | files | lines | files over %d lines |" % LONG_MODULE)
        print("|---|---:|---:|---|")
        for room in PACKAGES:
            members = {m: p for m, p in files.items() if room_of(m) == room}
            if not members:
                continue
            sizes = {m: len(p.read_text().splitlines()) for m, p in members.items()}
            long = ", ".join(f"{m} ({n})" for m, n in sorted(sizes.items(), key=lambda kv: -kv[1])
                             if n > LONG_MODULE)
            print(f"| {room} | {len(members)} | {sum(sizes.values())} | {long or '-'} |")
        print()
        print("| from room | to room | imports (eager + lazy) |")
        print("|---|---|---:|")
        for (a, b), n in sorted(room_imports(eager, lazy).items()):
            print(f"| {a} | {b} | {n} |")
        print()
        rows = long_functions(files)
        print(f"functions over {LONG_FUNCTION} lines: {len(rows)}")
        for length, name in rows:
            print(f"  {length:4d}  {name}")
        print()
    print(f"import circles: {len(found)} ({len(eager_found)} of module-level imports alone)")
    for component in found:
        rooms = sorted({room_of(m) for m in component})
        eager_mark = " (module level)" if component in eager_found else ""
        print(f"  [{', '.join(rooms)}]{eager_mark} " + " <-> ".join(component))


if __name__ == "__main__":
    main()
