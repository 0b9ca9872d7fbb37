-- SPDX-License-Identifier: BSD-3-Clause
-- Shared helpers of sluice's Pktgen-DPDK scripts (pktgen-*.lua), for two
-- ports wired back to back through the machine running sluice:
--   pktgen port SL_TX_PORT --> sluice port 0 ... sluice port 1 --> pktgen port SL_RX_PORT
-- Settings come from the environment (all optional):
--   SL_TX_PORT (0), SL_RX_PORT (1), SL_DURATION_MS (5000 per trial),
--   SL_SETTLE_MS (1000), SL_CSV (output file, default the script's name .csv),
--   SL_DST_MAC (the MAC of sluice's port 0; pktgen's default otherwise),
--   SL_SRC_IP (10.0.0.1/24), SL_DST_IP (10.9.9.9), SL_LINK_GBPS (for % of line rate)
-- Rates are read back from pktgen's port counters (opackets on the TX
-- port, ipackets on the RX port) over each trial, not taken from the rate
-- pktgen was asked for.
local M = {}

M.tx = os.getenv("SL_TX_PORT") or "0"
M.rx = os.getenv("SL_RX_PORT") or "1"
M.duration_ms = tonumber(os.getenv("SL_DURATION_MS") or "5000")
M.settle_ms = tonumber(os.getenv("SL_SETTLE_MS") or "1000")
M.link_gbps = tonumber(os.getenv("SL_LINK_GBPS") or "0")

function M.setup()
	pktgen.stop("all")
	pktgen.clr()
	pktgen.set_proto(M.tx, "udp")
	pktgen.set(M.tx, "count", 0)
	pktgen.set(M.tx, "sport", 1024)
	pktgen.set(M.tx, "dport", 80)
	pktgen.set_ipaddr(M.tx, "src", os.getenv("SL_SRC_IP") or "10.0.0.1/24")
	pktgen.set_ipaddr(M.tx, "dst", os.getenv("SL_DST_IP") or "10.9.9.9")
	local mac = os.getenv("SL_DST_MAC")
	if mac then
		pktgen.set_mac(M.tx, "dst", mac)
	end
end

-- Packet counters of one port: opackets, ipackets.
local function counters(port)
	local st = pktgen.portStats(port, "port")
	local p = st[tonumber(port)]
	return p.opackets, p.ipackets
end

-- One trial at rate_pct % of the TX port's line rate with frames of size
-- bytes: {size, rate_pct, tx, rx, seconds, tx_mpps, rx_mpps, rx_gbps_l1, loss}.
function M.trial(size, rate_pct)
	pktgen.set(M.tx, "size", size)
	pktgen.set(M.tx, "rate", rate_pct)
	pktgen.clr()
	pktgen.delay(200)
	local tx0 = counters(M.tx)
	local _, rx0 = counters(M.rx)
	pktgen.start(M.tx)
	pktgen.delay(M.duration_ms)
	pktgen.stop(M.tx)
	pktgen.delay(M.settle_ms)  -- let what is in flight arrive
	local tx1 = counters(M.tx)
	local _, rx1 = counters(M.rx)
	local tx, rx, secs = tx1 - tx0, rx1 - rx0, M.duration_ms / 1000
	local r = { size = size, rate_pct = rate_pct, tx = tx, rx = rx, seconds = secs,
		tx_mpps = tx / secs / 1e6, rx_mpps = rx / secs / 1e6,
		rx_gbps_l1 = rx * (size + 20) * 8 / secs / 1e9,
		loss = tx > 0 and (tx - rx) / tx or 0 }
	return r
end

-- CSV output: header once, then one row per trial.
function M.csv_open(default_name, columns)
	local path = os.getenv("SL_CSV") or default_name
	local f = assert(io.open(path, "w"))
	f:write(table.concat(columns, ",") .. "\n")
	return { f = f, columns = columns, path = path }
end

function M.csv_row(csv, row)
	local out = {}
	for i, c in ipairs(csv.columns) do
		local v = row[c]
		if type(v) == "number" and math.type and math.type(v) == "float" then
			out[i] = string.format("%.6g", v)
		else
			out[i] = tostring(v == nil and "" or v)
		end
	end
	csv.f:write(table.concat(out, ",") .. "\n")
	csv.f:flush()
	print(table.concat(out, ","))
end

function M.csv_close(csv)
	csv.f:close()
	print("wrote " .. csv.path)
end

M.columns = { "size", "rate_pct", "tx", "rx", "seconds", "tx_mpps", "rx_mpps",
	"rx_gbps_l1", "loss" }

return M
