// SPDX-License-Identifier: BSD-3-Clause
/* A conntrack kfunc user (as xdp-tools' xdp-forward flowtable mode): refused, naming the kfuncs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_ct_opts { int netns_id; int error; unsigned char l4proto; unsigned char dir; unsigned char reserved[2]; };
struct nf_conn;
extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *, struct bpf_sock_tuple *, __u32, struct bpf_ct_opts *, __u32) __ksym;
extern void bpf_ct_release(struct nf_conn *) __ksym;
SEC("xdp") int ct(struct xdp_md *ctx) {
  struct bpf_sock_tuple t = {}; struct bpf_ct_opts o = {.netns_id=-1, .l4proto=6};
  struct nf_conn *c = bpf_xdp_ct_lookup(ctx, &t, sizeof(t.ipv4), &o, sizeof(o));
  if (c) { bpf_ct_release(c); return XDP_DROP; }
  return XDP_PASS; }
char _license[] SEC("license") = "GPL";
