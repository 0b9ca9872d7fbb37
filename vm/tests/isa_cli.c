/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ISA cases through `sluice test-run --raw` (output format and exit
 * codes), and bounded random-bytes fuzzing of the checked interpreter and
 * of test-run --no-verify.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isa_asm.h"
#include "isa_cli.h"
#include "sl_test.h"
#include "sl_vm.h"

static int write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(buf, 1, len, f) == len;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

int isa_cli_write_case(const char *case_path, const char *prog_bin, const char *mem_bin)
{
	static struct isa_case tc;
	char err[512];

	if (isa_case_load(case_path, &tc, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (write_file(prog_bin, tc.insns, (size_t)tc.n_insns * 8) ||
	    write_file(mem_bin, tc.mem ? (void *)tc.mem : (void *)"", tc.mem_len)) {
		fprintf(stderr, "cannot write output: %s\n", strerror(errno));
		isa_case_free(&tc);
		return 1;
	}
	isa_case_free(&tc);
	return 0;
}

/* Run a shell command; stdout/stderr captured into files; returns the wait status. */
static int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return st;
}

static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static const char *last_line(char *text)
{
	char *end = text + strlen(text);

	while (end > text && end[-1] == '\n')
		*--end = '\0';
	char *nl = strrchr(text, '\n');
	return nl ? nl + 1 : text;
}

static unsigned count_lines(const char *text)
{
	unsigned n = 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/* One case through the CLI. @return 1 pass, 0 fail, -1 skipped (not a raw case). */
static int cli_case(const char *sluice, const char *dir, const struct isa_case *tc, char *why,
		    size_t len)
{
	char prog[600], mem[600], out[600], errf[600], cmd[4096], so[4096], se[4096];
	int st;

	if (tc->type != SL_PROG_RAW || tc->n_maps)
		return -1;
	snprintf(prog, sizeof(prog), "%s/prog.bin", dir);
	snprintf(mem, sizeof(mem), "%s/mem.bin", dir);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	snprintf(errf, sizeof(errf), "%s/err.txt", dir);
	if (write_file(prog, tc->insns, (size_t)tc->n_insns * 8) ||
	    write_file(mem, tc->mem ? (void *)tc->mem : (void *)"", tc->mem_len))
		return 0;
	snprintf(cmd, sizeof(cmd), "'%s' test-run --raw '%s'%s%s%s%s >'%s' 2>'%s'", sluice, prog,
		 tc->mem_len ? " --mem '" : "", tc->mem_len ? mem : "", tc->mem_len ? "'" : "",
		 tc->unverifiable ? " --no-verify" : "", out, errf);
	st = run_cmd(cmd);
	read_text(out, so, sizeof(so));
	read_text(errf, se, sizeof(se));
	if (!WIFEXITED(st)) {
		snprintf(why, len, "test-run died (status 0x%x)", st);
		return 0;
	}
	if (tc->has_result) {
		char want[32];

		snprintf(want, sizeof(want), "0x%llx", (unsigned long long)tc->result);
		if (WEXITSTATUS(st) == 0 && !strcmp(last_line(so), want))
			return 1;
		snprintf(why, len, "exit %d, last line '%s', stderr '%s', expected %s",
			 WEXITSTATUS(st), last_line(so), last_line(se), want);
		return 0;
	}
	if (WEXITSTATUS(st) != 0 && count_lines(se) == 1)
		return 1;
	snprintf(why, len, "expected an error (nonzero exit, one stderr line): exit %d, stderr '%s'",
		 WEXITSTATUS(st), se);
	return 0;
}

int isa_cli_run(const char *sluice, char **files, unsigned n)
{
	static struct isa_case tc;
	char dir[] = "/tmp/sl-isa-cli-XXXXXX";
	unsigned pass = 0, skip = 0;

	if (!mkdtemp(dir))
		FATAL("mkdtemp: %s", strerror(errno));
	for (unsigned i = 0; i < n; i++) {
		char err[512], why[1024] = "";
		int r;

		if (isa_case_load(files[i], &tc, err, sizeof(err))) {
			FAIL("%s", err);
			continue;
		}
		r = cli_case(sluice, dir, &tc, why, sizeof(why));
		if (r < 0)
			skip++;
		else if (CHECK(r, "%s [test-run]: %s", files[i], why))
			pass++;
		isa_case_free(&tc);
	}
	snprintf(tc.path, sizeof(tc.path), "rm -rf '%s'", dir);
	run_cmd(tc.path);
	printf("isa-cli: %u cases: %u passed, %u skipped, %lu failed\n", n, pass, skip,
	       sl_test_failures());
	return sl_test_done("isa-cli");
}

/* ---- fuzzing ---- */

static struct sl_rng rng = { 0x9e3779b97f4a7c15ull, SL_RNG_XORSHIFT };

/* Opcodes worth hitting often (valid ones), else any byte. */
static uint8_t rnd_code(void)
{
	static const uint8_t common[] = {
		0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67,
		0x6f, 0x77, 0x7f, 0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd4,
		0xdc, 0xd7, 0x04, 0x0c, 0x14, 0x34, 0x3c, 0x94, 0x9c, 0xb4, 0xbc, 0x05, 0x15,
		0x1d, 0x25, 0x2d, 0x35, 0x45, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0xa5, 0xb5, 0xc5,
		0xd5, 0x16, 0x1e, 0x06, 0x85, 0x95, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91,
		0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x18, 0x20, 0x28,
		0x30, 0x40, 0x48, 0x50,
	};

	if (sl_rng_u64(&rng) % 64 == 0)
		return (uint8_t)sl_rng_u64(&rng);
	return common[sl_rng_u64(&rng) % sizeof(common)];
}

/* Zero the fields an encoding reserves, so that most random programs load and run. */
static void sanitize(struct bpf_insn *in)
{
	static const int32_t atomics[] = { 0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1 };
	static const int16_t movsx[] = { 0, 8, 16, 32 };
	uint8_t cls = in->code & 0x07, op = in->code & 0xf0, x = in->code & 0x08;

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		if (x)
			in->imm = 0;
		else
			in->src_reg = 0;
		in->off = op == BPF_DIV || op == BPF_MOD ? (int16_t)(sl_rng_u64(&rng) % 2) :
			  op == BPF_MOV && x ? movsx[sl_rng_u64(&rng) % (cls == BPF_ALU ? 3 : 4)] : 0;
		if (op == BPF_END || op == BPF_NEG)
			in->src_reg = 0;
		if (op == BPF_NEG)
			in->imm = 0;
		break;
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_EXIT || op == BPF_JA) {
			in->dst_reg = in->src_reg = 0;
			if (op == BPF_EXIT || cls == BPF_JMP)
				in->imm = 0;
			if (op == BPF_EXIT || cls == BPF_JMP32)
				in->off = 0;
		} else if (op == BPF_CALL) {
			in->dst_reg = 0;
			in->off = 0;
			in->src_reg = in->src_reg % 2;
		} else if (x) {
			in->imm = 0;
		} else {
			in->src_reg = 0;
		}
		break;
	case BPF_LDX: in->imm = 0; break;
	case BPF_ST: in->src_reg = 0; break;
	case BPF_STX:
		if ((in->code & 0xe0) == BPF_ATOMIC)
			in->imm = atomics[sl_rng_u64(&rng) % 10];
		else
			in->imm = 0;
		break;
	default: /* BPF_LD */
		if ((in->code & 0xe0) != BPF_IMM) {
			in->dst_reg = 0;
			in->off = 0;
			if ((in->code & 0xe0) == BPF_ABS)
				in->src_reg = 0;
		}
	}
}

static void rnd_prog(struct bpf_insn *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t r = sl_rng_u64(&rng);

		p[i].code = rnd_code();
		p[i].dst_reg = r % 64 ? r % 10 : (r >> 4) % 16;
		p[i].src_reg = (r >> 8) % 64 ? (r >> 8) % 11 : (r >> 12) % 16;
		p[i].off = (r >> 16) % 8 ? (int16_t)((int)((r >> 20) % 24) - 12) : (int16_t)(r >> 24);
		p[i].imm = (r >> 40) % 8 ? (int32_t)((r >> 44) % 64) - 8 : (int32_t)(r >> 32);
		if ((p[i].code & 0x07) == BPF_ALU64 || (p[i].code & 0x07) == BPF_ALU) {
			if ((p[i].code & 0x08) == BPF_K)
				p[i].src_reg = 0;
			else
				p[i].imm = 0;
			if ((p[i].code & 0xf0) != BPF_DIV && (p[i].code & 0xf0) != BPF_MOD &&
			    (p[i].code & 0xf0) != BPF_MOV && (r >> 62))
				p[i].off = 0;
		}
		if ((p[i].code & 0x07) == BPF_LDX || (p[i].code & 0x07) == BPF_STX)
			p[i].src_reg = p[i].src_reg == 10 || (r >> 61) % 2 ? (uint8_t)(1 + (r >> 55) % 2 * 9) : p[i].src_reg;
		if (p[i].code == 0x85 && (r >> 60) % 2)
			p[i].imm = (int32_t)((r >> 50) % 8);   /* helpers 0..7 */
		if (p[i].code == 0xdc || p[i].code == 0xd4 || p[i].code == 0xd7)
			p[i].imm = 16 << ((r >> 50) % 3);
	}
	/* mostly keep jumps inside the program so that more programs run */
	for (unsigned i = 0; i < n; i++) {
		uint8_t cls = p[i].code & 0x07;

		if (sl_rng_u64(&rng) % 8)
			sanitize(&p[i]);
		if ((cls == BPF_JMP || cls == BPF_JMP32) && sl_rng_u64(&rng) % 8)
			p[i].off = (int16_t)((int)(sl_rng_u64(&rng) % n) - (int)i - 1);
		if (p[i].code == (BPF_JMP | BPF_CALL) && p[i].src_reg == BPF_PSEUDO_CALL)
			p[i].imm = (int32_t)((int)(sl_rng_u64(&rng) % n) - (int)i - 1);
	}
	/* registers start initialised: r0-r5 small numbers, r6-r9 pointers or numbers */
	for (unsigned i = 0; i < 10 && i + 1 < n; i++) {
		bool ptr = i >= 6 && sl_rng_u64(&rng) % 2;

		if (sl_rng_u64(&rng) % 2)
			p[i] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | (ptr ? BPF_X : BPF_K),
						  .dst_reg = (uint8_t)i, .src_reg = ptr ? (sl_rng_u64(&rng) % 2 ? 1 : 10) : 0,
						  .imm = ptr ? 0 : (int32_t)(sl_rng_u64(&rng) % 64) };
	}
	p[n - 1] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
}

/* One random program through test-run: checked interpreter, or verifier first. */
static int fuzz_cli(const char *sluice, const struct bpf_insn *p, unsigned n, const char *dir,
		    bool verify)
{
	char prog[600], cmd[2048];
	int st;

	snprintf(prog, sizeof(prog), "%s/fuzz.bin", dir);
	if (write_file(prog, p, (size_t)n * 8))
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' test-run --raw '%s'%s >/dev/null 2>&1", sluice, prog,
		 verify ? "" : " --no-verify");
	st = run_cmd(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 2) {
		fprintf(stderr, "FAIL fuzz: test-run on %s ended with status 0x%x\n", prog, st);
		return -1;
	}
	return 0;
}

int isa_fuzz(int seconds, const char *sluice)
{
	static struct bpf_insn p[64];
	uint8_t mem[64];
	char dir[] = "/tmp/sl-isa-fuzz-XXXXXX";
	time_t end = time(NULL) + (seconds > 0 ? seconds : 1);
	unsigned long runs = 0, faults = 0, cli = 0;

	if (sluice && !mkdtemp(dir))
		return 1;
	while (time(NULL) < end) {
		unsigned n = 1 + (unsigned)(sl_rng_u64(&rng) % 64);
		struct sl_vm_run_opts o = { .sz = sizeof(o), .checked = true, .mem = mem,
					    .mem_len = sizeof(mem) };
		struct sl_vm_result res;
		struct sl_prog *prog;

		rnd_prog(p, n);
		for (size_t i = 0; i < sizeof(mem); i++)
			mem[i] = (uint8_t)sl_rng_u64(&rng);
		prog = sl_prog_from_raw(p, (size_t)n * 8, SL_PROG_RAW, sizeof(mem), NULL, 0);
		if (!prog)
			return 1;
		sl_vm_exec(prog, mem, &o, &res);
		faults += res.err != 0;
		if (res.err && !res.msg[0]) {
			fprintf(stderr, "FAIL fuzz: error %d without a message\n", res.err);
			return 1;
		}
		sl_prog_free(prog);
		runs++;
		if (sluice && runs % 64 == 0) {
			if (fuzz_cli(sluice, p, n, dir, runs % 128 == 0))
				return 1;
			cli++;
		}
	}
	if (sluice) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		run_cmd(cmd);
	}
	printf("fuzz: %lu random programs (%lu ended in a fault or rejection), %lu through test-run "
	       "(half of them verified first)\n",
	       runs, faults, cli);
	return 0;
}
