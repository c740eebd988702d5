/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The filter tables the kernel side reads (bpf/filter.bpf.h) and user space
 * writes (src/record/filter.c, loader.c): docs/CONFIG.md, "Filters".
 *
 * Each rule the kernel can decide is one bit (its index in the
 * configuration). For an event, every condition the rules use narrows the
 * set of matching rules: the value's entry in that condition's map (the
 * rules it satisfies) OR the rules that do not constrain it (wild[]). What
 * remains are the rules that match. Two generations of every table exist:
 * a reload fills the one not in use, then switches filter_ctl.gen in one
 * write, so every event is judged wholly by the old or wholly by the new
 * configuration.
 */
#ifndef ONMITSU_FILTER_H
#define ONMITSU_FILTER_H

#ifdef __bpf__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define OM_FILTER_RULES 64
#define OM_FILTER_KINDS 8	   /* indexed by enum om_kind */
#define OM_FILTER_NOT_INCLUDED 64  /* filter_hits slot: no include rule matched */
#define OM_FILTER_HIT_SLOTS 65	   /* per generation */
#define OM_FILTER_MAP_ENTRIES 8192 /* uid, exe, cgroup and dst entries, both generations */

/* conditions the kernel decides, as bits of om_filter_gen.used and wild[] */
enum om_ffield {
	OM_FF_UID,
	OM_FF_EXE,
	OM_FF_PEXE,
	OM_FF_CGROUP,
	OM_FF_DST,
	OM_FF_PORT,
	OM_FF_DIR,
	OM_FF_PROTO,
	OM_FF_COUNT
};

/* protocols, as index of proto_rules */
#define OM_FP_TCP 0
#define OM_FP_UDP 1
#define OM_FP_ICMP 2
#define OM_FP_OTHER 3

struct om_filter_ctl {
	__u32 on;  /* 0: no rule at all, every event is kept at once */
	__u32 gen; /* 0 or 1: the generation in use */
};

struct om_filter_gen {
	__u64 kind_rules[OM_FILTER_KINDS]; /* the kernel's rules that apply to each kind */
	__u64 exclude;			   /* which of them exclude */
	__u64 include;			   /* which include */
	__u64 wild[OM_FF_COUNT];	   /* rules that do not constrain the field */
	__u64 dir_rules[2];		   /* by OM_DIR_*: rules whose direction allows it */
	__u64 proto_rules[4];		   /* by OM_FP_* */
	__u32 used;			   /* 1 << OM_FF_*: fields some rule constrains */
	__u32 include_decides;		   /* 1 << kind: include rules exist for it and the kernel
					      decides them all (no match: dropped here) */
};

/* keys of the value maps: gen first, so that two generations coexist */
struct om_filter_uid_key {
	__u32 gen;
	__u32 uid;
};

struct om_filter_file_key {
	__u32 gen;
	__u32 dev; /* super_block s_dev (kernel encoding) */
	__u64 ino;
};

struct om_filter_file_val {
	__u64 exe;  /* rules whose exe is this file */
	__u64 pexe; /* rules whose parent-exe is this file */
};

struct om_filter_cgroup_key {
	__u64 gen;
	__u64 id;
};

/* LPM trie key: prefixlen counts the 16 bits of gen and family, then the
 * address's. */
struct om_filter_dst_key {
	__u32 prefixlen;
	__u8 gen;
	__u8 family; /* 4 or 6 */
	__u8 addr[16];
	__u8 _pad[2];
};

/*
 * What the filter needs of a process when the event is not in its context
 * (a handshake ends in softirq, a datagram arrives): kept per process (tgid)
 * at fork and exec, dropped at exit, seeded from /proc at start.
 */
struct om_proc_attrs {
	__u32 exe_dev;
	__u32 pexe_dev;
	__u64 exe_ino;
	__u64 pexe_ino;
	__u64 cgroup; /* cgroup v2 id at exec (or fork) */
};

#endif /* ONMITSU_FILTER_H */
