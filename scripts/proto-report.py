#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print the per-protocol counters of a `sluice run --json` file by name.

usage: proto-report.py OUT.json [MAP]   (MAP defaults to proto_count)

Names are IANA protocol keywords from the small table below (lower case, as
in /etc/protocols, which is not read). Numbers without a name are summed
into one "other" line.
"""
import json
import sys

IANA = {
    0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipv4", 6: "tcp", 8: "egp", 17: "udp",
    27: "rdp", 33: "dccp", 41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag",
    46: "rsvp", 47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 59: "ipv6-nonxt",
    60: "ipv6-opts", 88: "eigrp", 89: "ospf", 94: "ipip", 103: "pim", 112: "vrrp",
    115: "l2tp", 132: "sctp", 135: "mobility-header", 136: "udplite",
    137: "mpls-in-ip", 143: "ethernet",
}


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    name = sys.argv[2] if len(sys.argv) == 3 else "proto_count"
    try:
        with open(sys.argv[1]) as f:
            out = json.load(f)
        entries = out["maps"][name]["entries"]
        stats = out["stats"]
    except (OSError, ValueError, KeyError) as e:
        print("proto-report: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    named, other, other_n = [], 0, 0
    for e in entries:
        if e["key"] in IANA:
            named.append((e["value"], IANA[e["key"]], e["key"]))
        else:
            other += e["value"]
            other_n += 1
    total = sum(v for v, _, _ in named) + other
    cores = len(entries[0]["per_core"]) if entries and "per_core" in entries[0] else 1
    print("per-protocol counters (map %s, summed over %d core%s):" %
          (name, cores, "" if cores == 1 else "s"))
    for value, proto, num in sorted(named, reverse=True):
        print("  %-12s %3d %14d  %5.1f%%" % (proto, num, value, 100.0 * value / max(total, 1)))
    if other_n:
        print("  %-16s %14d  %5.1f%%  (%d other protocol numbers)" %
              ("other", other, 100.0 * other / max(total, 1), other_n))
    print("  %-16s %14d  of %d packets received (the rest: ARP, other non-IP, "
          "truncated headers)" % ("IP total", total, stats["rx"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
