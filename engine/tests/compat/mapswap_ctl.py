#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Inner-map swaps from ctl (issue 13): `sluice ctl map update OUTER KEY
INNER` replaces an ARRAY_OF_MAPS slot of a running engine. mapswap.bpf.c's
verdict comes from the inner map in slot 0: tbl_a (preloaded with
XDP_DROP) at start, tbl_b (XDP_PASS) once swapped in; after the swap
returns no packet may be dropped any more. A map that does not match the
template, an unknown map and an index past max_entries are refused with
one line; a swap by id (the object's map index + 1) works too. `map update
tables 0 new` creates a new inner map from the template (id 65537) and
`map update 'tables[0]' 0 2` fills it; bad OUTER[KEY] names are refused in
one line.
  mapswap_ctl.py SLUICE MAPSWAP.bpf.o"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../tests/common"))
from sltest import EAL, check  # noqa: E402
import sltest as sl  # noqa: E402

sluice, obj = sys.argv[1:3]


with sl.tmpdir() as t:
    sock = os.path.join(t, "ctl.sock")
    pre = {}
    for name, val in (("tbl_a", 1), ("tbl_b", 2)):   # XDP_DROP, XDP_PASS
        pre[name] = os.path.join(t, name + ".txt")
        with open(pre[name], "w") as f:
            f.write("0 %d\n" % val)
    p = sl.spawn([sluice, "run", "--quiet", "--prog", obj, "--port", "net_null0",
                  "--ctl-socket", sock, "--duration", "60",
                  "--map", "tbl_a=" + pre["tbl_a"], "--map", "tbl_b=" + pre["tbl_b"]]
                 + EAL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(400):
            if os.path.exists(sock) or p.poll() is not None:
                break
            time.sleep(0.05)

        def ctl(*args):
            return subprocess.run([sluice, "ctl", "--socket", sock] + list(args),
                                  capture_output=True, text=True, timeout=30)

        def stats():
            return json.loads(ctl("--json", "stats").stdout)["verdicts"]

        def slot():
            r = ctl("--json", "map", "lookup", "tables", "0")
            return json.loads(r.stdout) if r.returncode == 0 else r.stderr

        ids = {m: i + 1 for i, m in enumerate(
            m["name"] for m in json.loads(ctl("--json", "maps").stdout))} \
            if os.path.exists(sock) else {}
        check(p.poll() is None and "tbl_a" in ids, "engine running with its maps", repr(ids))
        time.sleep(0.3)
        v1 = stats()
        check(v1.get("drop", 0) > 0 and v1.get("pass", 0) == 0, "tbl_a in slot 0: drops",
              repr(v1))
        r = ctl("map", "update", "tables", "0", "tbl_b")
        check(r.returncode == 0, "swap tbl_a -> tbl_b by name", r.stderr.strip())
        v2 = stats()
        time.sleep(0.3)
        v3 = stats()
        check(v3.get("pass", 0) > v2.get("pass", 0) and v3.get("drop") == v2.get("drop"),
              "after the swap: passes, no drop", "%r then %r" % (v2, v3))
        s = slot()
        check(str(ids.get("tbl_b")) in json.dumps(s), "slot 0 reads back tbl_b's id %s"
              % ids.get("tbl_b"), repr(s))
        for args, want in ((["tables", "0", "tbl_big"], "does not match the inner map template"),
                           (["tables", "0", "nosuch"], "want the name or id"),
                           (["tables", "1", "tbl_a"], "update tables")):
            r = ctl("map", "update", *args)
            check(r.returncode != 0 and want in r.stderr and r.stderr.count("\n") == 1,
                  "refused: %s" % " ".join(args), r.stderr.strip())
        r = ctl("map", "update", "tables", "0", str(ids.get("tbl_a")))
        v4 = stats()
        time.sleep(0.3)
        v5 = stats()
        check(r.returncode == 0 and v5.get("drop", 0) > v4.get("drop", 0) and
              v5.get("pass") == v4.get("pass"), "swap back to tbl_a by id: drops again, no pass",
              "%s %r then %r" % (r.stderr.strip(), v4, v5))
        # a new inner map from the template (katran's control plane does so),
        # filled through OUTER[KEY]: empty (value 0 = XDP_ABORTED), then XDP_PASS
        r = ctl("--json", "map", "update", "tables", "0", "new")
        new_id = json.loads(r.stdout).get("id") if r.returncode == 0 else None
        v6 = stats()
        time.sleep(0.3)
        v7 = stats()
        check(r.returncode == 0 and new_id == 65537 and
              v7.get("aborted", 0) > v6.get("aborted", 0) and v7.get("drop") == v6.get("drop")
              and v7.get("pass") == v6.get("pass"),
              "map update tables 0 new: a new empty inner map (id 65537) in slot 0",
              "%s %r then %r" % (r.stderr.strip() or r.stdout, v6, v7))
        r = ctl("map", "update", "tables[0]", "0", "2")
        v8 = stats()
        time.sleep(0.3)
        v9 = stats()
        check(r.returncode == 0 and v9.get("pass", 0) > v8.get("pass", 0) and
              v9.get("aborted") == v8.get("aborted") and v9.get("drop") == v8.get("drop"),
              "map update tables[0] 0 2: the new map filled, passes only",
              "%s %r then %r" % (r.stderr.strip(), v8, v9))
        r = ctl("--json", "map", "lookup", "tables[0]", "0")
        check(r.returncode == 0 and json.loads(r.stdout).get("value") == 2,
              "map lookup tables[0] 0 reads the new map", r.stdout + r.stderr)
        r = ctl("--json", "map", "dump", "tables[0]")
        ents = json.loads(r.stdout).get("entries") if r.returncode == 0 else None
        check(ents is not None and [(e.get("key"), e.get("value")) for e in ents] == [(0, 2)],
              "map dump tables[0]: the new map's one non-zero entry", r.stdout + r.stderr)
        check(str(new_id) in json.dumps(slot()), "slot 0 reads back the new id", repr(slot()))
        for args, want in ((["tables[1]", "0", "2"], "holds no map"),
                           (["tables[x]", "0", "2"], "key 'x'"),
                           (["nosuch[0]", "0", "2"], "no map 'nosuch[0]'")):
            r = ctl("map", "update", *args)
            check(r.returncode != 0 and want in r.stderr and r.stderr.count("\n") == 1,
                  "refused: map update %s" % " ".join(args), r.stderr.strip())
        r = ctl("map", "update", "tables", "0", "tbl_a")
        r2 = ctl("map", "update", "tables", "0", str(new_id))
        v10 = stats()
        time.sleep(0.3)
        v11 = stats()
        check(r.returncode == 0 and r2.returncode == 0 and
              v11.get("pass", 0) > v10.get("pass", 0) and v11.get("drop") == v10.get("drop"),
              "the created map back into slot 0 by its id: passes again",
              "%s %s %r then %r" % (r.stderr.strip(), r2.stderr.strip(), v10, v11))
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    check(p.returncode == 0, "engine stopped cleanly", err.strip())

print("mapswap ctl: %d failures" % sl.failures())
sys.exit(sl.exit_code())
