-- SPDX-License-Identifier: BSD-3-Clause
-- Protocol mix: full-rate trials of IPv4 UDP, IPv4 TCP, IPv4 ICMP, IPv6 UDP
-- and IPv6 TCP one after the other, then all of them interleaved (pktgen's
-- sequence mode: 4 TCP, 3 UDP, 1 ICMP over IPv4 in 8 packets), at frame
-- size SL_SIZE (default 128: room for IPv6 TCP).
-- CSV (SL_CSV, default proto-mix.csv): one row per protocol.
package.path = package.path .. ";./?.lua;./pktgen-tests/?.lua"
local sl = require("pktgen-common")

local size = tonumber(os.getenv("SL_SIZE") or "128")
local runs = {
	{ name = "udp4", type = "ipv4", proto = "udp" },
	{ name = "tcp4", type = "ipv4", proto = "tcp" },
	{ name = "icmp4", type = "ipv4", proto = "icmp" },
	{ name = "udp6", type = "ipv6", proto = "udp" },
	{ name = "tcp6", type = "ipv6", proto = "tcp" },
}
local columns = { "proto" }
for _, c in ipairs(sl.columns) do
	columns[#columns + 1] = c
end

sl.setup()
local csv = sl.csv_open("proto-mix.csv", columns)
for _, run in ipairs(runs) do
	pktgen.set_type(sl.tx, run.type)
	pktgen.set_proto(sl.tx, run.proto)
	local r = sl.trial(size, 100)
	r.proto = run.name
	sl.csv_row(csv, r)
end

-- The interleaved mix through the sequence table.
pktgen.set_type(sl.tx, "ipv4")
local mix = { "tcp", "udp", "tcp", "udp", "tcp", "udp", "tcp", "icmp" }
for i, proto in ipairs(mix) do
	pktgen.seqTable(i - 1, sl.tx, {
		["eth_dst_addr"] = os.getenv("SL_DST_MAC") or "02:00:00:00:00:02",
		["eth_src_addr"] = "02:00:00:00:00:01",
		["ip_dst_addr"] = os.getenv("SL_DST_IP") or "10.9.9.9",
		["ip_src_addr"] = "10.0.0." .. i .. "/24",
		["sport"] = 1024 + i,
		["dport"] = 80,
		["ethType"] = "ipv4",
		["ipProto"] = proto,
		["vlanid"] = 1,
		["pktSize"] = size,
	})
end
pktgen.set(sl.tx, "seq_cnt", #mix)
local r = sl.trial(size, 100)
r.proto = "mix"
sl.csv_row(csv, r)
pktgen.set(sl.tx, "seq_cnt", 0)
sl.csv_close(csv)
pktgen.quit()
