/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice test-run: run one program once on given bytes and print the result
 * (the kernel's BPF_PROG_TEST_RUN idea).
 *
 *   --raw PROG.bin [--mem MEM.bin]   flat bytecode; r1 = private copy of MEM,
 *                                    r2 = its length; prints r0 ("0x%llx")
 *   --prog FILE.o [--section S] --data PKT.bin
 *                                    a loaded XDP / socket / raw program on one
 *                                    packet; prints verdict, packet, then r0
 *
 * Programs are verified first when the verifier is built, then run in the
 * interpreter without run-time checks. --no-verify skips verification and
 * runs the checked interpreter instead (every access checked, instruction
 * budget): whatever the bytes, the result is r0 or one error line, exit 1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "engine_internal.h"
#include "sl_jit.h"
#include "sl_vm.h"

/* Present once vm/ has the verifier (cmd_run.c links it in). */
#pragma weak sl_prog_verify

#define TR_MAX_FILE (64u << 20)
#define TR_HEADROOM 256   /* XDP headroom before data, as the kernel's XDP_PACKET_HEADROOM */
#define TR_TAILROOM 256
#define TR_RAW_MEM 2048   /* raw programs from --prog: zero-padded packet buffer */

struct tr_opts {
	const char *raw, *mem, *prog, *section, *data, *fib;
	bool no_verify, jit;
	char engine;  /* 'i' --interp, 'j' --jit/--blind, 0: default (JIT unless --no-verify) */
	bool blind;   /* --blind: JIT with constant blinding */
	struct sl_cli_obj obj;  /* --type, --map-size */
};

static int tr_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int tr_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sluice test-run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int usage(FILE *out)
{
	fprintf(out,
		"usage: sluice test-run --raw PROG.bin [--mem MEM.bin] [--interp|--jit|--blind] [--no-verify]\n"
		"       sluice test-run --prog FILE.o [--section S] --data PKT.bin [--interp|--jit|--blind]\n"
		"                       [--no-verify] [--type xdp|socket] [--map-size NAME=N]...\n"
		"                       [--fib FILE]\n"
		"Runs a program once. --raw: r1 = a copy of MEM, r2 = its length; prints r0.\n"
		"--prog: prints the verdict, the resulting packet in hex, then r0.\n"
		"The JIT runs verified programs by default; --interp picks the interpreter.\n"
		"--no-verify: skip the verifier, check every access at run time (interpreter).\n"
		"--blind: the JIT with constant blinding (untrusted programs).\n");
	return out == stdout ? 0 : 2;
}

static int parse(int argc, char **argv, struct tr_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char **slot = NULL;
		int taken = sl_cli_obj_arg("test-run", &o->obj, argv[i],
					   i + 1 < argc ? argv[i + 1] : NULL);

		if (taken < 0)
			return 2;
		if (taken) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--raw"))
			slot = &o->raw;
		else if (!strcmp(argv[i], "--mem"))
			slot = &o->mem;
		else if (!strcmp(argv[i], "--prog"))
			slot = &o->prog;
		else if (!strcmp(argv[i], "--section"))
			slot = &o->section;
		else if (!strcmp(argv[i], "--data"))
			slot = &o->data;
		else if (!strcmp(argv[i], "--fib"))
			slot = &o->fib;
		else if (!strcmp(argv[i], "--no-verify"))
			o->no_verify = true;
		else if (!strcmp(argv[i], "--jit"))
			o->engine = 'j';
		else if (!strcmp(argv[i], "--blind")) {
			o->engine = 'j';
			o->blind = true;
		}
		else if (!strcmp(argv[i], "--interp"))
			o->engine = 'i';
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout) - 1;  /* -1: exit 0 */
		else
			return tr_fail("unknown argument '%s' (see --help)", argv[i]);
		if (slot) {
			if (++i == argc)
				return tr_fail("%s needs a value", argv[i - 1]);
			*slot = argv[i];
		}
	}
	if (!!o->raw == !!o->prog)
		return tr_fail("give exactly one of --raw PROG.bin and --prog FILE.o");
	if (o->prog && !o->data)
		return tr_fail("--prog needs --data PKT.bin");
	if (o->raw && (o->data || o->section || o->fib || o->obj.force_type || o->obj.nsizes))
		return tr_fail("--raw takes --mem, not --data, --section, --fib, --type or --map-size");
	if (o->engine == 'j' && o->no_verify)
		return tr_fail("--no-verify runs in the interpreter only (drop --jit)");
	o->jit = o->engine == 'j' || (!o->engine && !o->no_verify);
	return 0;
}

/* Verify (unless --no-verify or no verifier is built), then pre-decode. */
static int tr_load(struct sl_prog *prog, const struct tr_opts *o, const char *what)
{
	char log[512] = "";

	if (!o->no_verify && sl_prog_verify) {
		if (sl_prog_verify(prog, 0, NULL, log, sizeof(log)))
			return tr_fail("%s: rejected by the verifier: %s", what, log);
	}
	if (sl_vm_prepare(prog, log, sizeof(log)))
		return tr_fail("%s: %s", what, log);
	return 0;
}

/* Run in the interpreter: checked unless the program was verified. */
static int tr_exec(struct sl_prog *prog, void *ctx, void *mem, size_t mem_len,
		   const struct tr_opts *o, uint64_t *r0)
{
	struct sl_vm_run_opts ro = { .sz = sizeof(ro), .checked = !prog->verified,
				     .mem = mem, .mem_len = mem_len };
	struct sl_vm_result res;

	if (o->jit) {
		/* --jit: compile (verified programs only), run once, unmap */
		struct sl_jit_opts jo = { .sz = sizeof(jo), .blind_constants = o->blind };
		char log[256] = "";
		struct sl_jit *jit = sl_jit_compile(prog, &jo, log, sizeof(log));

		if (!jit)
			return tr_fail("jit: %s", log[0] ? log : strerror(errno));
		*r0 = sl_jit_entry(jit)(ctx, mem_len);
		sl_jit_free(jit);
		return 0;
	}
	*r0 = sl_vm_exec(prog, ctx, &ro, &res);
	if (res.err)
		return tr_fail("%s", res.msg);
	return 0;
}

static int run_raw(const struct tr_opts *o)
{
	uint8_t *code = NULL, *mem = NULL;
	size_t code_len = 0, mem_len = 0;
	struct sl_prog *prog;
	char log[256] = "";
	uint64_t r0 = 0;
	int err, ret;

	err = sl_vm_read_file(o->raw, TR_MAX_FILE, &code, &code_len);
	if (err)
		return tr_fail("%s: %s", o->raw, strerror(-err));
	if (o->mem && (err = sl_vm_read_file(o->mem, TR_MAX_FILE, &mem, &mem_len))) {
		free(code);
		return tr_fail("%s: %s", o->mem, strerror(-err));
	}
	prog = sl_prog_from_raw(code, code_len, SL_PROG_RAW, (uint32_t)mem_len, log, sizeof(log));
	free(code);
	if (!prog) {
		free(mem);
		return tr_fail("%s: %s", o->raw, log);
	}
	ret = tr_load(prog, o, o->raw);
	if (!ret)
		ret = tr_exec(prog, mem_len ? mem : NULL, mem_len ? mem : NULL, mem_len, o, &r0);
	if (!ret)
		printf("0x%llx\n", (unsigned long long)r0);
	sl_prog_free(prog);
	free(mem);
	return ret;
}

static void hexdump(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		printf("%04zx:", i);
		for (size_t k = i; k < n && k < i + 16; k++)
			printf(" %02x", p[k]);
		putchar('\n');
	}
}

static const char *xdp_verdict(uint64_t r0)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return r0 < 5 ? names[r0] : "unknown verdict (treated as XDP_ABORTED)";
}

static int run_xdp(struct sl_prog *prog, const uint8_t *pkt, size_t len, const struct tr_opts *o)
{
	uint8_t *buf = calloc(1, TR_HEADROOM + len + TR_TAILROOM);
	struct sl_xdp_ctx x = { 0 };
	uint64_t r0;
	int ret;

	if (!buf)
		return tr_fail("out of memory");
	memcpy(buf + TR_HEADROOM, pkt, len);
	x.data_hard_start = buf;
	x.data = x.data_meta = buf + TR_HEADROOM;
	x.data_end = buf + TR_HEADROOM + len;
	x.data_hard_end = x.data_end + TR_TAILROOM;  /* bpf_xdp_adjust_tail may grow into it */
	x.ingress_ifindex = 1;
	ret = tr_exec(prog, &x, NULL, 0, o, &r0);
	if (!ret) {
		size_t n = (size_t)((uint8_t *)x.data_end - (uint8_t *)x.data);

		size_t meta = (size_t)((uint8_t *)x.data - (uint8_t *)x.data_meta);

		printf("verdict: %s (%llu)\n", xdp_verdict(r0), (unsigned long long)r0);
		if (meta) {   /* bpf_xdp_adjust_meta: shown as the kernel's test run returns it */
			printf("metadata: %zu bytes\n", meta);
			hexdump(x.data_meta, meta);
		}
		printf("packet: %zu bytes\n", n);
		hexdump(x.data, n);
		printf("0x%llx\n", (unsigned long long)r0);
	}
	free(buf);
	return ret;
}

static int run_socket(struct sl_prog *prog, const uint8_t *pkt, size_t len,
		      const struct tr_opts *o)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct sl_skb_ctx s = { 0 };
	uint64_t r0;
	int ret;

	if (!copy)
		return tr_fail("out of memory");
	memcpy(copy, pkt, len);
	s.skb.len = (uint32_t)len;
	s.skb.protocol = sl_skb_eth_protocol(pkt, (uint32_t)len);
	s.skb.ifindex = s.skb.ingress_ifindex = 1;
	s.pkt = copy;
	s.pkt_len = (uint32_t)len;
	ret = tr_exec(prog, &s, NULL, 0, o, &r0);
	if (!ret) {
		size_t keep = r0 < len ? (size_t)r0 : len;

		if (r0 == 0)
			printf("verdict: drop (0)\n");
		else if (r0 < len)
			printf("verdict: trim to %llu bytes\n", (unsigned long long)r0);
		else
			printf("verdict: pass (%llu)\n", (unsigned long long)r0);
		printf("packet: %zu bytes\n", keep);
		hexdump(copy, keep);
		printf("0x%llx\n", (unsigned long long)r0);
	}
	free(copy);
	return ret;
}

static int run_raw_prog(struct sl_prog *prog, const uint8_t *pkt, size_t len,
			const struct tr_opts *o)
{
	uint8_t *mem = calloc(1, TR_RAW_MEM);
	uint64_t r0;
	int ret;

	if (!mem)
		return tr_fail("out of memory");
	memcpy(mem, pkt, len);
	ret = tr_exec(prog, mem, mem, len, o, &r0);
	if (!ret) {
		printf("packet: %zu bytes\n", len);
		hexdump(mem, len);
		printf("0x%llx\n", (unsigned long long)r0);
	}
	free(mem);
	return ret;
}

static int run_prog(struct tr_opts *o)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	uint8_t *pkt = NULL;
	size_t len = 0;
	char log[512] = "";
	struct sl_obj *obj;
	struct sl_prog *prog;
	struct sl_fib *fib = NULL;
	int err, ret;

	err = sl_vm_read_file(o->data, TR_MAX_FILE, &pkt, &len);
	if (err)
		return tr_fail("%s: %s", o->data, strerror(-err));
	sl_cli_obj_apply(&o->obj, &oo);
	if (o->fib && !(fib = sl_cli_fib_load("test-run", o->fib))) {
		free(pkt);
		return 1;
	}
	obj = sl_obj_open(o->prog, &oo, log, sizeof(log));
	if (!obj) {
		sl_cli_fib_free(fib);
		free(pkt);
		return tr_fail("%s", log[0] ? log : strerror(errno));
	}
	prog = sl_obj_find_prog(obj, o->section);
	if (!prog) {
		ret = tr_fail("%s: no section or program named '%s'", o->prog,
			      o->section ? o->section : "");
	} else if (prog->type == SL_PROG_RAW && len > TR_RAW_MEM) {
		ret = tr_fail("%s: raw programs take at most 2048 bytes of data", o->data);
	} else {
		if (prog->type == SL_PROG_RAW)
			prog->mem_size = TR_RAW_MEM;
		char label[512];

		ret = tr_load(prog, o, sl_cli_prog_label(o->prog, prog, label, sizeof(label)));
		if (!ret && prog->type == SL_PROG_XDP)
			ret = run_xdp(prog, pkt, len, o);
		else if (!ret && prog->type == SL_PROG_SOCKET)
			ret = run_socket(prog, pkt, len, o);
		else if (!ret)
			ret = run_raw_prog(prog, pkt, len, o);
	}
	sl_obj_close(obj);
	sl_cli_fib_free(fib);
	free(pkt);
	return ret;
}

int sl_cmd_test_run(int argc, char **argv)
{
	struct tr_opts o = { 0 };
	int err = parse(argc, argv, &o);

	if (err)  /* parse() fails only on usage errors: exit 2 */
		return err < 0 ? 0 : 2;
	return o.raw ? run_raw(&o) : run_prog(&o);
}
