/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over the YAML config parser (clang only, the fuzz build:
 * -fsanitize=fuzzer; libsl_config is built with -fsanitize=fuzzer-no-link
 * there so the fuzzer sees the parser's coverage). Each input is a config
 * file's text: sl_config_load_mem, then the command-line overrides a run
 * applies (a port, a forward, a map) and sl_config_resolve. Nothing may
 * crash, hang or leak, and every failure must leave one line in the log.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char logbuf[1024];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_config cfg;
	int err;

	memset(&cfg, 0, sizeof(cfg));
	sl_config_init(&cfg);
	logbuf[0] = '\0';
	err = sl_config_load_mem(&cfg, (const char *)data, size, "fuzz.yaml", logbuf, sizeof(logbuf));
	if (err && !logbuf[0]) {
		fprintf(stderr, "fuzz_config: error %d without a message\n", err);
		abort();
	}
	if (!err) {
		sl_config_add_port(&cfg, "net_null9", logbuf, sizeof(logbuf));
		sl_config_add_forward(&cfg, "0:1", logbuf, sizeof(logbuf));
		sl_config_add_map(&cfg, "counters=/nonexistent", logbuf, sizeof(logbuf));
		sl_config_resolve(&cfg, logbuf, sizeof(logbuf));
	}
	sl_config_fini(&cfg);
	return 0;
}
