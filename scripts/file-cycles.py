#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""File-level call cycles in sluice's libraries.

The graph comes from the compiled objects, not from guessing at C syntax:
for every object of a static library (build/compile_commands.json maps it to
its source file), `nm` lists the global symbols it defines and the ones it
uses (U). File A -> file B when A uses a symbol that B defines (a call, or a
reference to B's data). A cycle is a strongly connected component of more
than one file: A reaches B and B reaches A, so neither can be read, tested or
moved without the other. Calls inside one file and calls to static functions
do not count.

usage: scripts/file-cycles.py [--build DIR] [PATH_PREFIX ...]
  PATH_PREFIX  only files under these source folders (e.g. vm/ jit/);
               default: every library file.
Prints each cycle with one symbol per edge and exits 1 if there is any,
or prints "no cycles" and exits 0.
"""
import argparse
import json
import os
import subprocess
import sys


def objects(build):
    """(source path relative to the repo, object path) of each library object."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        cmds = json.load(f)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for c in cmds:
        out = c["output"]
        if ".a.p/" not in out:          # executables and tests: not the house
            continue
        src = os.path.normpath(os.path.join(c["directory"], c["file"]))
        yield os.path.relpath(src, root), os.path.join(c["directory"], out)


def symbols(obj):
    """(defined globals, undefined) of one object file."""
    out = subprocess.run(["nm", obj], check=True, capture_output=True, text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCGSVW":
            defined.add(parts[2])
    return defined, used


def sccs(nodes, edges):
    """Tarjan's strongly connected components (iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("prefixes", nargs="*")
    args = ap.parse_args()

    files = {}
    for src, obj in objects(args.build):
        if args.prefixes and not any(src.startswith(p) for p in args.prefixes):
            continue
        files[src] = symbols(obj)
    if not files:
        sys.exit("file-cycles: no library objects under %s for %s (build first)"
                 % (args.build, " ".join(args.prefixes) or "any path"))
    owner = {}
    for src, (defined, _) in files.items():
        for s in defined:
            owner[s] = src
    edges, why = {}, {}
    for src, (_, used) in files.items():
        for s in sorted(used):
            dst = owner.get(s)
            if dst and dst != src:
                edges.setdefault(src, set()).add(dst)
                why.setdefault((src, dst), s)
    cycles = [c for c in sccs(sorted(files), edges) if len(c) > 1]
    n_edges = sum(len(v) for v in edges.values())
    print("%d files, %d file->file edges" % (len(files), n_edges))
    if not cycles:
        print("no cycles")
        return 0
    for c in cycles:
        print("cycle among %d files:" % len(c))
        members = set(c)
        for a in c:
            for b in sorted(edges.get(a, ())):
                if b in members:
                    print("  %s -> %s  (%s)" % (a, b, why[(a, b)]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
