# SPDX-License-Identifier: BSD-3-Clause
"""Frames for the example tests (standard library and tests/common/sltest.py).

build_mix(seed, n) makes a deterministic list of Ethernet frames covering
what the examples must tell apart: IPv4 and IPv6 TCP/UDP/ICMP from a small
set of sources (so flows repeat), 802.1Q tags, IPv4 options, IPv4
fragments, truncated headers, runts, ARP.
"""
import ipaddress
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
from sltest import csum  # noqa: E402

MAC_DST = bytes.fromhex("020000000002")
MAC_SRC = bytes.fromhex("020000000001")


def eth(ethertype, vlan=None):
    if vlan is not None:
        return MAC_DST + MAC_SRC + struct.pack("!HHH", 0x8100, vlan, ethertype)
    return MAC_DST + MAC_SRC + struct.pack("!H", ethertype)


def l4(proto, sport, dport, payload):
    if proto == 6:
        return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x18, 1024, 0, 0) + payload
    if proto == 17:
        return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return struct.pack("!BBHI", 8, 0, 0, 1) + payload  # ICMP / ICMPv6 echo-ish


def ipv4(src, dst, proto, body, options=b"", frag=0, tos=0, ttl=64):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, 4 * ihl + len(body), 7, frag, ttl,
                      proto, 0, ipaddress.IPv4Address(src).packed,
                      ipaddress.IPv4Address(dst).packed) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + body


def ipv6(src, dst, nh, body):
    return struct.pack("!IHBB16s16s", 0x60000000, len(body), nh, 64,
                       ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed) + body


def v4_frame(src, dst, proto, sport, dport, payload=b"x" * 18, **kw):
    vlan = kw.pop("vlan", None)
    return eth(0x0800, vlan) + ipv4(src, dst, proto, l4(proto, sport, dport, payload), **kw)


def v6_frame(src, dst, proto, sport, dport, payload=b"y" * 18, vlan=None):
    return eth(0x86DD, vlan) + ipv6(src, dst, proto, l4(proto, sport, dport, payload))


V4_SRCS = ["10.1.2.3", "10.200.0.9", "192.168.7.7", "172.16.5.4", "8.8.8.8", "203.0.113.77"]
V6_SRCS = ["2001:db8::1", "2001:db8:ffff::2", "fd00::7", "2a00:1450::99", "2001:db9::5"]
PORTS = [22, 53, 80, 443, 8080, 12345]


def build_mix(seed, n):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randrange(100)
        proto = rng.choice([6, 6, 17, 17, 1])
        sport, dport = rng.choice([1000, 2000, 3000, 40000]), rng.choice(PORTS)
        pay = bytes(rng.randrange(256) for _ in range(rng.choice([0, 6, 18, 100, 600])))
        vlan = rng.randrange(1, 4095) if rng.randrange(5) == 0 else None
        if k < 50:
            f = v4_frame(rng.choice(V4_SRCS), "10.9.9.9", proto, sport, dport, pay, vlan=vlan)
        elif k < 80:
            nh = 58 if proto == 1 else proto
            f = v6_frame(rng.choice(V6_SRCS), "2001:db8::100", nh, sport, dport, pay, vlan)
        elif k < 84:  # IPv4 options
            f = v4_frame(rng.choice(V4_SRCS), "10.9.9.9", proto, sport, dport, pay,
                         options=b"\x01\x01\x01\x00")
        elif k < 88:  # fragments: first (MF) or later (offset)
            frag = rng.choice([0x2000, 0x0010, 0x2020])
            f = v4_frame(rng.choice(V4_SRCS), "10.9.9.9", proto, sport, dport, pay, frag=frag)
        elif k < 92:  # ARP
            f = eth(0x0806) + bytes(28)
        elif k < 96:  # truncated anywhere inside the headers
            g = v4_frame(rng.choice(V4_SRCS), "10.9.9.9", proto, sport, dport, pay) \
                if rng.randrange(2) else v6_frame(rng.choice(V6_SRCS), "2001:db8::100",
                                                 proto, sport, dport, pay)
            f = g[:rng.randrange(1, 60)]
        else:  # IPv4 with another protocol (GRE)
            f = eth(0x0800) + ipv4(rng.choice(V4_SRCS), "10.9.9.9", 47, pay)
        out.append(f)
    return out


def l3_of(f):
    """(ethertype, l3 offset) behind at most one 802.1Q tag, or None if cut short."""
    if len(f) < 14:
        return None
    et, off = struct.unpack("!H", f[12:14])[0], 14
    if et == 0x8100:
        if len(f) < 18:
            return None
        et, off = struct.unpack("!H", f[16:18])[0], 18
    return et, off
