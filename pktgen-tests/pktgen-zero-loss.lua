-- SPDX-License-Identifier: BSD-3-Clause
-- Zero-loss rate by binary search (RFC 2544 throughput, one frame size):
-- the highest % of line rate at which sluice loses at most SL_LOSS
-- (fraction, default 0) of the frames, to a resolution of SL_STEPS halvings.
-- SL_SIZES: comma-separated frame sizes (default 64,512,1518).
-- CSV (SL_CSV, default zero-loss.csv): every trial, then a row per size
-- with "result" in the phase column.
package.path = package.path .. ";./?.lua;./pktgen-tests/?.lua"
local sl = require("pktgen-common")

local max_loss = tonumber(os.getenv("SL_LOSS") or "0")
local steps = tonumber(os.getenv("SL_STEPS") or "10")
local sizes = {}
for s in string.gmatch(os.getenv("SL_SIZES") or "64,512,1518", "%d+") do
	sizes[#sizes + 1] = tonumber(s)
end

local columns = { "phase" }
for _, c in ipairs(sl.columns) do
	columns[#columns + 1] = c
end

sl.setup()
local csv = sl.csv_open("zero-loss.csv", columns)
for _, size in ipairs(sizes) do
	local lo, hi, best = 0, 100, nil
	-- First the full rate: if nothing is lost there, that is the answer.
	local r = sl.trial(size, 100)
	r.phase = "trial"
	sl.csv_row(csv, r)
	if r.loss <= max_loss then
		best = r
	else
		for _ = 1, steps do
			local mid = (lo + hi) / 2
			r = sl.trial(size, mid)
			r.phase = "trial"
			sl.csv_row(csv, r)
			if r.loss <= max_loss then
				lo, best = mid, r
			else
				hi = mid
			end
		end
	end
	if best then
		best.phase = "result"
		sl.csv_row(csv, best)
	else
		sl.csv_row(csv, { phase = "result", size = size, rate_pct = 0, loss = "none-below-resolution" })
	end
end
sl.csv_close(csv)
pktgen.quit()
