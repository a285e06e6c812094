#!/usr/bin/env python3
"""Find import cycles between the modules of the crate.

Every file under src/ reachable from a crate root (src/lib.rs, src/main.rs) through `mod name;` is one
module. An edge A -> B means that code of A names something of B: a `use` declaration or a path written
in the code (`crate::x::y`, `super::y`, `self::y`, a child module `y::`, or a name brought in by `use`).
A path is resolved as far as it names modules; a last segment that the module re-exports (`pub use`) or
imports (`use`) is followed to the module that defines it, so `use super::Thing`, where the parent
re-exports `Thing` from a sibling, is an edge to that sibling. Comments, string literals and
`#[cfg(test)]` modules are ignored.

A module re-exporting its own submodules (`pub use child::Thing` in a `mod.rs`) is the module's public
facade, not a dependency of its code: such edges are left out unless --strict is given (or unless the
module's own code uses the re-exported name). So a `mod.rs`
that only declares and re-exports its children may be imported back by them, while one whose own code
calls a child must not be.

Usage:
    scripts/check_module_cycles.py [--src SRC] [--strict] [--areas PREFIX ...] [--edges PREFIX]

Prints every cycle (strongly connected component with more than one module, and one closed path
through it). Exits 1 when a cycle touches one of the --areas (module path prefixes such as
`report`, `plot`, `metrics`; default: all of them), else 0.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

KEYWORDS = {"crate", "super", "self", "Self"}


def strip_comments_and_strings(text: str) -> str:
    """Blank out comments, string and char literals, keeping line structure."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
            i = j
            continue
        m = re.match(r'b?r(#*)"', text[i:i + 260]) if c in "rb" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) else None
        if m:
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "".join("\n" for ch in text[i:j] if ch == "\n"))
            i = j
            continue
        if c == '"' or (c == "b" and text.startswith('b"', i)):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "".join("\n" for ch in text[i:j] if ch == "\n"))
            i = j + 1
            continue
        if c == "'":
            # char literal ('a', '\n', '\u{..}') vs lifetime ('a)
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:i + 12])
            if m:
                out.append("' '")
                i += m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def drop_test_modules(code: str) -> str:
    """Remove `#[cfg(test)] mod name { ... }` blocks."""
    while True:
        m = re.search(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", code)
        if not m:
            return code
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        code = code[: m.start()] + "\n" * code[m.start():j].count("\n") + code[j:]


def expand_use_tree(tree: str) -> list[list[str]]:
    """`a::{b, c::{d, e}, self}` -> [["a","b"], ["a","c","d"], ["a","c","e"], ["a"]]."""

    def split_top(s: str) -> list[str]:
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += {"{": 1, "}": -1}.get(ch, 0)
            cur += ch
        if cur:
            parts.append(cur)
        return parts

    results: list[list[str]] = []

    def walk(prefix: list[str], s: str) -> None:
        if not s:
            return
        brace = s.find("{")
        if brace >= 0 and s.endswith("}"):
            head = [p for p in s[:brace].split("::") if p]
            for part in split_top(s[brace + 1:-1]):
                walk(prefix + head, part)
            return
        segs = [p for p in s.split("::") if p]
        if segs and segs[-1] == "self":
            segs = segs[:-1]
        results.append(prefix + segs)

    walk([], re.sub(r"\s+", "", tree))
    return results


USE_RE = re.compile(r"\b(pub(\s*\([^)]*\))?\s+)?use\s+([^;]+);", re.S)
ALIAS_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class UseItem:
    path: list[str]  # segments as written (first may be crate/super/self/module/extern crate)
    name: str  # name bound in the module ('*' for a glob)
    public: bool


@dataclass
class Module:
    name: str  # e.g. "crate::report::format::html"
    file: str
    children: set[str] = field(default_factory=set)
    uses: list[UseItem] = field(default_factory=list)
    inline_paths: list[list[str]] = field(default_factory=list)
    idents: set[str] = field(default_factory=set)  # identifiers used in the code outside `use`


def parse_uses(code: str) -> tuple[list[UseItem], str]:
    """Use declarations of `code`, and the code with them blanked out."""
    items: list[UseItem] = []

    def repl(m: re.Match) -> str:
        public = m.group(1) is not None and "pub" in m.group(1)
        body = m.group(3)
        # `x as y` -> keep a marker the tree walker can split on
        body = ALIAS_RE.sub(lambda a: f"{a.group(1)}@{a.group(2)}", body)
        for segs in expand_use_tree(body):
            if not segs:
                continue
            last = segs[-1]
            if "@" in last:
                orig, alias = last.split("@", 1)
                segs = segs[:-1] + [orig]
                name = alias
            else:
                name = last
            segs = [s.lstrip(":") for s in segs]
            if segs and segs[0] == "":
                segs = segs[1:]
            items.append(UseItem(segs, name, public))
        return "\n" * m.group(0).count("\n")

    return items, USE_RE.sub(repl, code)


PATH_RE = re.compile(r"(?<![A-Za-z0-9_:$])((?:[A-Za-z_][A-Za-z0-9_]*::)+[A-Za-z_][A-Za-z0-9_]*)")


def load(src: str) -> dict[str, Module]:
    modules: dict[str, Module] = {}

    def visit(name: str, path: str) -> None:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        code = drop_test_modules(strip_comments_and_strings(text))
        m = Module(name, os.path.relpath(path))
        modules[name] = m
        if os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs"):
            base = os.path.dirname(path)
        else:
            base = os.path.splitext(path)[0]
        for decl in re.finditer(r"(?m)^\s*(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", code):
            child = decl.group(1)
            for cand in (os.path.join(base, child + ".rs"), os.path.join(base, child, "mod.rs")):
                if os.path.exists(cand):
                    m.children.add(child)
                    visit(f"{name}::{child}", cand)
                    break
        m.uses, rest = parse_uses(code)
        rest = re.sub(r"(?m)^\s*(pub(\s*\([^)]*\))?\s+)?mod\s+\w+\s*;", "", rest)
        m.idents = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", rest))
        for p in PATH_RE.finditer(rest):
            m.inline_paths.append(p.group(1).split("::"))

    for root, crate in (("lib.rs", "crate"), ("main.rs", "bin")):
        p = os.path.join(src, root)
        if os.path.exists(p):
            visit(crate, p)
    return modules


class Resolver:
    def __init__(self, modules: dict[str, Module]):
        self.modules = modules

    def parent(self, mod: str) -> str | None:
        return mod.rsplit("::", 1)[0] if "::" in mod else None

    def start(self, mod: str, first: str) -> str | None:
        """Module named by the first segment of a path written in `mod`, or None (external)."""
        root = mod.split("::", 1)[0]
        if first == "crate":
            return root
        if first == "super":
            return self.parent(mod)
        if first == "self":
            return mod
        if first == "dannscope" and root == "bin":
            return "crate"
        if first in self.modules[mod].children:
            return f"{mod}::{first}"
        return None

    def resolve(self, mod: str, segs: list[str], depth: int = 0) -> str | None:
        """The module that defines what `segs` (written in `mod`) names; None for other crates."""
        if not segs or depth > 20:
            return None
        cur = self.start(mod, segs[0])
        rest = segs[1:]
        if cur is None:
            # a name imported by `use` in this module (e.g. `plot::read_curves` after `use crate::plot`)
            for u in self.modules[mod].uses:
                if u.name == segs[0] and u.path:
                    target = self.resolve(mod, u.path, depth + 1)
                    if target is None:
                        return None
                    if target in self.modules and len(rest) == 0:
                        return target
                    if target in self.modules:
                        return self.descend(target, rest, depth)
                    return None
            return None
        while rest and rest[0] == "super":
            cur = self.parent(cur)
            rest = rest[1:]
            if cur is None:
                return None
        return self.descend(cur, rest, depth)

    def descend(self, cur: str, rest: list[str], depth: int) -> str:
        while rest and rest[0] in self.modules[cur].children:
            cur = f"{cur}::{rest[0]}"
            rest = rest[1:]
        if rest:
            # an item: follow a re-export or import of that name to where it is defined
            for u in self.modules[cur].uses:
                if u.name == rest[0] and u.path and u.path != [rest[0]]:
                    target = self.resolve(cur, u.path, depth + 1)
                    if target is not None and target in self.modules:
                        return target
        return cur


def build_graph(modules: dict[str, Module], strict: bool) -> dict[str, dict[str, str]]:
    """edges[a][b] = the path that makes a depend on b."""
    r = Resolver(modules)
    edges: dict[str, dict[str, str]] = {m: {} for m in modules}
    for name, m in modules.items():
        for u in m.uses:
            if u.name == "*":
                target = r.resolve(name, u.path[:-1]) if u.path[-1:] == ["*"] else None
                if target is None:
                    target = r.resolve(name, [s for s in u.path if s != "*"])
            else:
                target = r.resolve(name, u.path)
            if target is None or target == name or target not in modules:
                continue
            # a re-export of a submodule's item is facade unless this module's own code uses the name
            facade = u.public and target.startswith(name + "::") and u.name not in m.idents
            if facade and not strict:
                continue
            edges[name].setdefault(target, "use " + "::".join(u.path))
        for segs in m.inline_paths:
            target = r.resolve(name, segs)
            if target is None or target == name or target not in modules:
                continue
            edges[name].setdefault(target, "::".join(segs))
    return edges


def sccs(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return sorted(out)


def cycle_path(edges: dict[str, dict[str, str]], comp: list[str]) -> list[str]:
    """A shortest closed path from the first module of the component back to itself."""
    inside = set(comp)
    start = comp[0]
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v]):
                if w not in inside:
                    continue
                if w == start:
                    path = [start]
                    while v != start:
                        path.append(v)
                        v = prev[v]
                    path.append(start)
                    return list(reversed(path))
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    ap.add_argument("--strict", action="store_true", help="count a mod.rs re-exporting its children as depending on them")
    ap.add_argument("--areas", nargs="*", default=None, help="module prefixes (e.g. report plot metrics) whose cycles fail the check")
    ap.add_argument("--edges", metavar="PREFIX", help="also list the edges out of the modules under PREFIX")
    args = ap.parse_args()

    modules = load(os.path.normpath(args.src))
    edges = build_graph(modules, args.strict)
    comps = sccs(edges)
    n_edges = sum(len(e) for e in edges.values())
    print(f"{len(modules)} modules, {n_edges} edges{' (strict)' if args.strict else ''}")

    def short(m: str) -> str:
        return m.removeprefix("crate::")

    def in_areas(comp: list[str]) -> bool:
        if args.areas is None:
            return True
        return any(short(m) == a or short(m).startswith(a + "::") for m in comp for a in args.areas)

    if args.edges is not None:
        for a in sorted(edges):
            if short(a) == args.edges or short(a).startswith(args.edges + "::"):
                for b in sorted(edges[a]):
                    print(f"  {short(a)} -> {short(b)}  ({edges[a][b]})")

    failing = 0
    for comp in comps:
        path = cycle_path(edges, comp)
        flag = in_areas(comp)
        failing += flag
        print(f"{'CYCLE' if flag else 'cycle (outside the checked areas)'}: {{{', '.join(short(m) for m in comp)}}}")
        for a, b in zip(path, path[1:]):
            print(f"    {short(a)} -> {short(b)}  ({edges[a][b]}, {modules[a].file})")
    if not comps:
        print("no cycles")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
