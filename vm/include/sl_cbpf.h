/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_cbpf.h
 * Classic BPF (struct sock_filter, what libpcap's pcap_compile() and
 * `tcpdump -d` produce) translated to an eBPF socket-filter program.
 *
 * The result is an ordinary SL_PROG_SOCKET program: verify it with
 * sl_prog_verify() and compile it with sl_jit_compile() like any other.
 * It runs on struct sl_skb_ctx: packet loads read ctx->pkt (ctx->pkt_len
 * bytes, the captured part), `len` reads skb.len (the packet's length on
 * the wire), the Linux ancillary loads (SKF_AD_OFF + ...) read the
 * matching struct __sk_buff fields. Its return value is the classic
 * filter's: 0 rejects, N keeps the first N bytes.
 */
#ifndef SL_CBPF_H
#define SL_CBPF_H

#include <stddef.h>
#include <linux/filter.h>

#include "sl_vm.h"

/** Longest classic program accepted (the kernel's and libpcap's BPF_MAXINSNS). */
#define SL_CBPF_MAX_INSNS 4096u

/**
 * Check a classic program (known opcodes, forward jumps inside the
 * program, scratch slots 0..15, no constant division by zero, shifts by
 * less than 32, ends in a return) and translate it to eBPF.
 * Control thread; allocates.
 * @param insns   the classic instructions
 * @param n       how many (1 .. SL_CBPF_MAX_INSNS)
 * @param log     caller's buffer for one error line ("cbpf pc 3: jump out of the program"), may be NULL
 * @param log_len its size
 * @return a SL_PROG_SOCKET program named "filter", not yet verified, owned
 *         by the caller (sl_prog_free), or NULL with errno EINVAL (invalid
 *         classic program), ENOTSUP (an ancillary load sluice has no field
 *         for), E2BIG (too long), ENOMEM.
 */
struct sl_prog *sl_cbpf_translate(const struct sock_filter *insns, unsigned n,
				  char *log, size_t log_len);

#endif /* SL_CBPF_H */
