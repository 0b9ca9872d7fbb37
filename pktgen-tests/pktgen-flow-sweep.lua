-- SPDX-License-Identifier: BSD-3-Clause
-- Flow-count sweep: 1..60000 distinct UDP flows (source port range) at full
-- rate, frame size SL_SIZE (default 64). Flow tables (examples/flowtable)
-- and RSS spread change with the count.
-- CSV (SL_CSV, default flow-sweep.csv): one row per flow count.
package.path = package.path .. ";./?.lua;./pktgen-tests/?.lua"
local sl = require("pktgen-common")

local size = tonumber(os.getenv("SL_SIZE") or "64")
local flow_counts = { 1, 16, 256, 4096, 60000 }
local columns = { "flows" }
for _, c in ipairs(sl.columns) do
	columns[#columns + 1] = c
end

sl.setup()
local csv = sl.csv_open("flow-sweep.csv", columns)
for _, n in ipairs(flow_counts) do
	-- Range mode: the source port walks 1024 .. 1024+n-1, one per packet.
	pktgen.range.src_port(sl.tx, "start", 1024)
	pktgen.range.src_port(sl.tx, "min", 1024)
	pktgen.range.src_port(sl.tx, "max", 1024 + n - 1)
	pktgen.range.src_port(sl.tx, "inc", n > 1 and 1 or 0)
	pktgen.range.pkt_size(sl.tx, "start", size)
	pktgen.range.pkt_size(sl.tx, "min", size)
	pktgen.range.pkt_size(sl.tx, "max", size)
	pktgen.range.pkt_size(sl.tx, "inc", 0)
	pktgen.set_range(sl.tx, "on")
	local r = sl.trial(size, 100)
	r.flows = n
	sl.csv_row(csv, r)
end
pktgen.set_range(sl.tx, "off")
sl.csv_close(csv)
pktgen.quit()
