/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Filter rules, decided before the ring buffer (docs/CONFIG.md; the tables
 * are described in include/onmitsu/filter.h). filter_drop() is called by
 * emit() for every record; without rules it costs one array look-up. FORK
 * and EXIT are never dropped: the process tree stays whole.
 *
 * proc_attrs holds what a rule may ask of a process when the event is not
 * in its context: its executable and its parent's (by inode) and its cgroup,
 * taken at fork and exec (filter_note_*), dropped at exit.
 */
#ifndef ONMITSU_FILTER_BPF_H
#define ONMITSU_FILTER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "onmitsu/event.h"
#include "onmitsu/filter.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct om_filter_ctl);
} filter_ctl SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct om_filter_gen);
} filter_gens SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, OM_FILTER_MAP_ENTRIES);
	__type(key, struct om_filter_uid_key);
	__type(value, __u64);
} filter_uids SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, OM_FILTER_MAP_ENTRIES);
	__type(key, struct om_filter_file_key);
	__type(value, struct om_filter_file_val);
} filter_files SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, OM_FILTER_MAP_ENTRIES);
	__type(key, struct om_filter_cgroup_key);
	__type(value, __u64);
} filter_cgroups SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, OM_FILTER_MAP_ENTRIES);
	__type(key, struct om_filter_dst_key);
	__type(value, __u64);
} filter_dsts SEC(".maps") __weak;

/* one value per generation: the rules each destination port satisfies */
struct om_filter_ports {
	__u64 rules[65536];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct om_filter_ports);
} filter_ports SEC(".maps") __weak;

/* events dropped, by generation * OM_FILTER_HIT_SLOTS + rule (or NOT_INCLUDED) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * OM_FILTER_HIT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} filter_hits SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 131072);
	__type(key, __u32);
	__type(value, struct om_proc_attrs);
} proc_attrs SEC(".maps") __weak;

static __always_inline void filter_file_of(struct file *f, __u32 *dev, __u64 *ino)
{
	*dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	*ino = BPF_CORE_READ(f, f_inode, i_ino);
}

/* fork: the child runs its parent's image, in its cgroup (current is the parent) */
static __always_inline void filter_note_fork(struct task_struct *child)
{
	struct om_proc_attrs a = {};
	struct task_struct *cur = bpf_get_current_task_btf();
	struct file *exe = BPF_CORE_READ(cur, mm, exe_file);
	if (exe)
		filter_file_of(exe, &a.exe_dev, &a.exe_ino);
	a.pexe_dev = a.exe_dev;
	a.pexe_ino = a.exe_ino;
	a.cgroup = bpf_get_current_cgroup_id();
	__u32 tgid = child->tgid;
	bpf_map_update_elem(&proc_attrs, &tgid, &a, BPF_ANY);
}

/* exec: the file executed, the real parent's image, the cgroup now */
static __always_inline void filter_note_exec(struct task_struct *task, struct file *file)
{
	struct om_proc_attrs a = {};
	if (file)
		filter_file_of(file, &a.exe_dev, &a.exe_ino);
	struct file *pexe = BPF_CORE_READ(task, real_parent, mm, exe_file);
	if (pexe)
		filter_file_of(pexe, &a.pexe_dev, &a.pexe_ino);
	a.cgroup = bpf_get_current_cgroup_id();
	__u32 tgid = task->tgid;
	bpf_map_update_elem(&proc_attrs, &tgid, &a, BPF_ANY);
}

static __always_inline void filter_note_exit(__u32 tgid)
{
	bpf_map_delete_elem(&proc_attrs, &tgid);
}

/* index of the lowest bit set in x (x != 0) */
static __always_inline __u32 lowest_bit(__u64 x)
{
	__u32 n = 0;
	if (!(x & 0xffffffffull)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffff)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xff)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xf)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	if (!(x & 0x1))
		n += 1;
	return n;
}

static __always_inline void filter_hit(__u32 gen, __u32 slot)
{
	__u32 k = gen * OM_FILTER_HIT_SLOTS + slot;
	__u64 *c = bpf_map_lookup_elem(&filter_hits, &k);
	if (c)
		(*c)++;
}

/* the rules a NET record's flow satisfies, of those in m */
static __always_inline __u64 filter_net(const struct om_filter_gen *c, __u32 g, __u64 m,
					const struct om_ev_net *e)
{
	__u32 used = c->used;
	int fp = e->proto == IPPROTO_TCP				    ? OM_FP_TCP
		 : e->proto == IPPROTO_UDP				    ? OM_FP_UDP
		 : (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) ? OM_FP_ICMP
									    : OM_FP_OTHER;
	m &= c->proto_rules[fp & 3];
	m &= c->dir_rules[e->direction & 1];
	if (m && (used & (1u << OM_FF_PORT))) {
		__u64 v = 0;
		if (fp == OM_FP_TCP || fp == OM_FP_UDP) {
			struct om_filter_ports *p = bpf_map_lookup_elem(&filter_ports, &g);
			if (p)
				v = p->rules[e->dport & 0xffff];
		}
		m &= v | c->wild[OM_FF_PORT];
	}
	if (m && (used & (1u << OM_FF_DST))) {
		struct om_filter_dst_key k = {};
		k.gen = (__u8)g;
		/* an IPv4 peer of an IPv6 socket is written (and matched) as IPv4 */
		const __u32 *a32 = (const __u32 *)e->daddr;
		if (e->family == AF_INET6 && a32[0] == 0 && a32[1] == 0 &&
		    a32[2] == bpf_htonl(0xffff)) {
			k.family = 4;
			__builtin_memcpy(k.addr, e->daddr + 12, 4);
			k.prefixlen = 16 + 32;
		} else if (e->family == AF_INET6) {
			k.family = 6;
			__builtin_memcpy(k.addr, e->daddr, 16);
			k.prefixlen = 16 + 128;
		} else {
			k.family = 4;
			__builtin_memcpy(k.addr, e->daddr, 4);
			k.prefixlen = 16 + 32;
		}
		__u64 *v = bpf_map_lookup_elem(&filter_dsts, &k);
		m &= (v ? *v : 0) | c->wild[OM_FF_DST];
	}
	return m;
}

/* the rules a process's image and cgroup satisfy, of those in m */
static __always_inline __u64 filter_proc(const struct om_filter_gen *c, __u32 g, __u64 m, __u32 pid)
{
	struct om_proc_attrs *a = bpf_map_lookup_elem(&proc_attrs, &pid);
	__u32 used = c->used;
	if (used & ((1u << OM_FF_EXE) | (1u << OM_FF_PEXE))) {
		struct om_filter_file_val *fv = NULL, *pv = NULL;
		if (a && (used & (1u << OM_FF_EXE))) {
			struct om_filter_file_key k = {
			    .gen = g, .dev = a->exe_dev, .ino = a->exe_ino};
			fv = bpf_map_lookup_elem(&filter_files, &k);
		}
		if (a && (used & (1u << OM_FF_PEXE))) {
			struct om_filter_file_key k = {
			    .gen = g, .dev = a->pexe_dev, .ino = a->pexe_ino};
			pv = bpf_map_lookup_elem(&filter_files, &k);
		}
		m &= (fv ? fv->exe : 0) | c->wild[OM_FF_EXE];
		m &= (pv ? pv->pexe : 0) | c->wild[OM_FF_PEXE];
	}
	if (m && (used & (1u << OM_FF_CGROUP))) {
		__u64 *v = NULL;
		if (a) {
			struct om_filter_cgroup_key k = {.gen = g, .id = a->cgroup};
			v = bpf_map_lookup_elem(&filter_cgroups, &k);
		}
		m &= (v ? *v : 0) | c->wild[OM_FF_CGROUP];
	}
	return m;
}

/* 1: the rules drop this record (counted per rule); 0: hand it over */
static __always_inline int filter_drop(const void *rec, __u32 kind)
{
	if (kind == OM_K_FORK || kind == OM_K_EXIT || kind >= OM_FILTER_KINDS)
		return 0;
	__u32 zero = 0;
	struct om_filter_ctl *ctl = bpf_map_lookup_elem(&filter_ctl, &zero);
	if (!ctl || !ctl->on)
		return 0;
	__u32 g = ctl->gen & 1;
	struct om_filter_gen *c = bpf_map_lookup_elem(&filter_gens, &g);
	if (!c)
		return 0;
	__u64 m = c->kind_rules[kind & (OM_FILTER_KINDS - 1)];
	if (!m)
		return 0;
	const struct om_hdr *h = rec;
	if (c->used & (1u << OM_FF_UID)) {
		struct om_filter_uid_key k = {.gen = g, .uid = h->uid};
		__u64 *v = bpf_map_lookup_elem(&filter_uids, &k);
		m &= (v ? *v : 0) | c->wild[OM_FF_UID];
	}
	if (m && (c->used & ((1u << OM_FF_EXE) | (1u << OM_FF_PEXE) | (1u << OM_FF_CGROUP))))
		m = filter_proc(c, g, m, h->pid);
	if (m && kind == OM_K_NET)
		m = filter_net(c, g, m, rec);
	__u64 ex = m & c->exclude;
	if (ex) {
		filter_hit(g, lowest_bit(ex));
		return 1;
	}
	if (((c->include_decides >> kind) & 1) && !(m & c->include)) {
		filter_hit(g, OM_FILTER_NOT_INCLUDED);
		return 1;
	}
	return 0;
}

#endif /* ONMITSU_FILTER_BPF_H */
