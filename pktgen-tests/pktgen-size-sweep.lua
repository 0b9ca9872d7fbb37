-- SPDX-License-Identifier: BSD-3-Clause
-- Frame size sweep 64..1518 at full rate: what comes back through sluice.
-- pktgen -l 0-2 -n 4 -a TX_PCI -a RX_PCI -- -P -m "[1].0,[2].1" -f pktgen-size-sweep.lua
-- CSV (SL_CSV, default size-sweep.csv): one row per size (pktgen-common.lua).
package.path = package.path .. ";./?.lua;./pktgen-tests/?.lua"
local sl = require("pktgen-common")

local sizes = { 64, 128, 256, 512, 1024, 1280, 1518 }

sl.setup()
local csv = sl.csv_open("size-sweep.csv", sl.columns)
for _, size in ipairs(sizes) do
	sl.csv_row(csv, (sl.trial(size, 100)))
end
sl.csv_close(csv)
pktgen.quit()
