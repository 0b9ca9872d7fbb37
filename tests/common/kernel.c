/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel as an oracle (sl_test_bpf.h): BPF_PROG_LOAD of raw
 * instructions or of one program of an object, BPF_PROG_TEST_RUN once.
 * Used by the compat suite and the maps *_kdiff tests, which all exit 77
 * when sl_test_kernel_refuses() says the kernel loads nothing here.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_test_bpf.h"

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

void sl_test_kernel_quiet(void)
{
	libbpf_set_print(quiet_print);
}

bool sl_test_kernel_refuses(int err)
{
	return err == -EPERM || err == -ENOSYS;
}

int sl_test_kernel_load(enum bpf_prog_type type, const char *name, const struct bpf_insn *insns,
			unsigned n, char *log, size_t log_len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .log_buf = log, .log_size = log ? (__u32)log_len : 0,
		    .log_level = log ? 1 : 0);
	int fd;

	if (log && log_len)
		log[0] = 0;
	fd = bpf_prog_load(type, name, "GPL", insns, n, &lo);
	return fd < 0 ? -errno : fd;
}

struct bpf_object *sl_test_kernel_open(const char *path, const char *only, int *fd, int *err)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p, *want = NULL;

	*err = 0;
	if (!o) {
		*err = -errno;
		return NULL;
	}
	bpf_object__for_each_program(p, o) {
		bool me = !only || !strcmp(bpf_program__name(p), only);

		bpf_program__set_autoload(p, me);
		if (me && only)
			want = p;
	}
	if (only && !want)
		*err = -ENOENT;
	else
		*err = bpf_object__load(o);
	if (*err) {
		bpf_object__close(o);
		return NULL;
	}
	if (fd)
		*fd = want ? bpf_program__fd(want) : -1;
	return o;
}

int sl_test_kernel_run(int fd, const void *in, uint32_t in_len, void *out, uint32_t *out_len,
		       uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = in, .data_size_in = in_len,
		    .data_out = out, .data_size_out = out && out_len ? *out_len : 0, .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &ro))
		return -errno;
	*retval = ro.retval;
	if (out && out_len)
		*out_len = ro.data_size_out;
	return 0;
}
