#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build the Maglev lookup table of examples/l4lb.bpf.c as preload files.

usage: l4lb-maglev.py BACKENDS TABLE_OUT BACKENDS_OUT

BACKENDS: one backend a line, "ID IPV4 MAC" (ID a number 0..2^32-1, used
as the lb_backends key), '#' comments. Writes TABLE_OUT, the preload file
of lb_maglev ("SLOT ID" for the 65537 slots), and BACKENDS_OUT, the
preload file of lb_backends ("ID {addr: IPV4, mac: MAC}").

Maglev (Eisenbud et al., NSDI 2016, section 3.4): every backend has a
permutation of the slots given by offset = h1(name) mod M and
skip = h2(name) mod (M - 1) + 1 (M prime, so every skip visits every
slot); backends take turns claiming the next free slot of their own
permutation until the table is full. Every backend ends up with M/N slots
(+-1), and removing a backend moves few slots other than its own. The name
hashed is the backend's address, so a backend keeps its slots across
renumbering. Errors: one line naming FILE:LINE, exit 1.
"""
import hashlib
import ipaddress
import re
import sys

M = 65537  # LB_RING in l4lb.bpf.c


def h(salt, name):
    return int.from_bytes(hashlib.sha256(salt + name.encode()).digest()[:8], "little")


def maglev(names):
    """The table: slot -> index into names (sorted order makes it reproducible)."""
    n = len(names)
    offset = [h(b"offset", x) % M for x in names]
    skip = [h(b"skip", x) % (M - 1) + 1 for x in names]
    nxt, table, filled = [0] * n, [-1] * M, 0
    while True:
        for i in range(n):
            c = (offset[i] + nxt[i] * skip[i]) % M
            while table[c] >= 0:
                nxt[i] += 1
                c = (offset[i] + nxt[i] * skip[i]) % M
            table[c] = i
            nxt[i] += 1
            filled += 1
            if filled == M:
                return table


def read_backends(path):
    out, ids = [], set()
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            where = "%s:%d" % (path, lineno)
            if len(parts) != 3:
                sys.exit("%s: want 'ID IPV4 MAC', got '%s'" % (where, line))
            try:
                bid = int(parts[0], 0)
                addr = str(ipaddress.IPv4Address(parts[1]))
            except ValueError as e:
                sys.exit("%s: %s" % (where, e))
            if not 0 <= bid < 2 ** 32 or bid in ids:
                sys.exit("%s: backend id %s out of range or repeated" % (where, parts[0]))
            if not re.fullmatch(r"([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}", parts[2]):
                sys.exit("%s: want a MAC address like 02:00:00:00:00:01, not '%s'" %
                         (where, parts[2]))
            ids.add(bid)
            out.append((bid, addr, parts[2].lower()))
    if not out:
        sys.exit("%s: no backends" % path)
    return sorted(out, key=lambda b: b[1])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    backends = read_backends(sys.argv[1])
    table = maglev([b[1] for b in backends])
    with open(sys.argv[2], "w") as f:
        f.write("# lb_maglev: Maglev table over %d backends (l4lb-maglev.py)\n" % len(backends))
        f.writelines("%d %d\n" % (slot, backends[i][0]) for slot, i in enumerate(table))
    with open(sys.argv[3], "w") as f:
        f.write("# lb_backends (l4lb-maglev.py)\n")
        f.writelines("%d {addr: %s, mac: %s}\n" % b for b in backends)
    return 0


if __name__ == "__main__":
    sys.exit(main())
