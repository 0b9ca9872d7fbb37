/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit_run: runs one raw program's JIT code, or a native build's `entry`,
 * over every packet of a pcap REPEAT times, and prints the packet count
 * and the sum of the return values. Nothing else runs, so an instruction
 * counter sees only that code and the loop around it: the README's
 * instructions per packet are
 *
 *   valgrind --tool=cachegrind --cache-sim=no jit_run PCAP R jit|native FILE
 *
 * at R = 3 minus R = 1, divided by 2 x the packet count.
 *
 * usage: jit_run PCAP REPEAT jit PROG.bpf.o | native LIB.so | xdp PROG.bpf.o
 *
 * xdp: the object's first program as an XDP program (r1 = a struct
 * sl_xdp_ctx over the packet, 256 bytes of headroom before it), its maps
 * empty; for the instruction counts of XDP programs (the compat set).
 *
 * With JIT_RUN_DUMP=FILE set, the JIT's machine code is also written to
 * FILE (objdump -D -b binary -m i386:x86-64 FILE shows it) and its address
 * printed on stderr (to match callgrind --dump-instr=yes addresses).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"

#define RUN_BUF 2048       /* zero-padded buffer of a raw program, as in sluice bench */
#define RUN_MAX_PKTS 8192
#define RUN_HEADROOM 256   /* before an XDP packet, as the engine leaves */

typedef uint64_t (*entry_fn)(void *pkt, uint64_t len);

static void dump_code(const struct sl_jit *jit)
{
	const char *path = getenv("JIT_RUN_DUMP");
	FILE *f = path ? fopen(path, "wb") : NULL;

	if (!f)
		return;
	fwrite(sl_jit_code(jit), 1, sl_jit_code_size(jit), f);
	fprintf(stderr, "jit_run: code at %p, %zu bytes\n", sl_jit_code(jit), sl_jit_code_size(jit));
	fclose(f);
}

static entry_fn load_jit(const char *path, bool xdp)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	char log[512] = "";
	struct sl_obj *obj = sl_obj_open(path, &oo, log, sizeof(log));
	struct sl_prog *p = !obj ? NULL : xdp ? sl_obj_prog(obj, 0) : sl_obj_find_prog(obj, "raw");
	struct sl_jit *jit;

	if (!p || (xdp && p->type != SL_PROG_XDP)) {
		fprintf(stderr, "jit_run: %s: %s\n", path,
			log[0] ? log : xdp ? "no XDP program" : "no program in section raw");
		return NULL;
	}
	p->mem_size = RUN_BUF;
	if (sl_prog_verify(p, 0, NULL, log, sizeof(log)) || sl_vm_prepare(p, log, sizeof(log)) ||
	    !(jit = sl_jit_compile(p, NULL, log, sizeof(log)))) {
		fprintf(stderr, "jit_run: %s: %s\n", path, log);
		return NULL;
	}
	dump_code(jit);
	return (entry_fn)(uintptr_t)sl_jit_entry(jit);
}

static entry_fn load_native(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	void *fn = h ? dlsym(h, "entry") : NULL;

	if (!fn)
		fprintf(stderr, "jit_run: %s: %s\n", path, h ? "no symbol 'entry'" : dlerror());
	return (entry_fn)(uintptr_t)fn;
}

int main(int argc, char **argv)
{
	unsigned n = 0, rep = argc == 5 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
	bool xdp = argc == 5 && !strcmp(argv[3], "xdp");
	struct sl_test_pkt *pkts;
	struct sl_xdp_ctx *ctx;
	uint8_t *bufs;
	size_t stride;
	entry_fn fn;
	uint64_t sum = 0;

	if (argc != 5 || !rep || (strcmp(argv[3], "jit") && strcmp(argv[3], "native") && !xdp)) {
		fprintf(stderr, "usage: jit_run PCAP REPEAT jit PROG.bpf.o | native LIB.so | xdp PROG.bpf.o\n");
		return 2;
	}
	fn = strcmp(argv[3], "native") ? load_jit(argv[4], xdp) : load_native(argv[4]);
	pkts = fn ? sl_test_pcap_read(argv[1], RUN_MAX_PKTS, &n) : NULL;
	stride = xdp ? RUN_BUF + RUN_HEADROOM : RUN_BUF;
	bufs = pkts ? calloc(n ? n : 1, stride) : NULL;
	ctx = bufs ? calloc(n ? n : 1, sizeof(*ctx)) : NULL;
	if (!ctx)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *b = bufs + (size_t)i * stride, *d = xdp ? b + RUN_HEADROOM : b;
		unsigned len = pkts[i].len < RUN_BUF ? pkts[i].len : RUN_BUF;

		memcpy(d, pkts[i].data, len);
		ctx[i] = (struct sl_xdp_ctx){ .data = d, .data_end = d + len, .data_meta = d,
					      .data_hard_start = b, .ingress_ifindex = 1 };
	}
	for (unsigned r = 0; r < rep && xdp; r++)
		for (unsigned i = 0; i < n; i++)
			sum += fn(&ctx[i], 0);
	for (unsigned r = 0; r < rep && !xdp; r++)
		for (unsigned i = 0; i < n; i++)
			sum += fn(bufs + (size_t)i * RUN_BUF, pkts[i].len);
	printf("%u packets, r0 sum 0x%llx\n", n, (unsigned long long)sum);
	free(ctx);
	free(bufs);
	free(pkts);
	return 0;
}
