/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * BPF-only helpers and the maps every program shares. The programs are
 * compiled one file per area (process, module, net) and linked into one
 * object by `bpftool gen object`; the shared maps are defined __weak here so
 * that each file can see them and the linker keeps one of each.
 */
#ifndef ONMITSU_BPF_H
#define ONMITSU_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "kconst.h"
#include "onmitsu/event.h"
#include "filter.bpf.h"

/* Settings the loader writes into .rodata before load (record --cmdline-max, the
 * ring's wakeup threshold); defined in process.bpf.c. */
extern const volatile __u32 cfg_cmdline_max;
extern const volatile __u32 cfg_wakeup_bytes;
/* record --hash-max: files larger are not hashed (0: no hashing), so their
 * EXEC or MODLOAD need not wake user space */
extern const volatile __u64 cfg_hash_max;
/* 1: bpf_task_pt_regs works in cgroup sock_addr programs (the loader probes
 * it), so a connect hook can tell connect(2) from io_uring's or TCP Fast
 * Open's connect, which have no connect system call exit (net.bpf.h,
 * tcp_handoffs) */
extern const volatile __u32 cfg_defer_local;
/* 1: task storage and the current task work in cgroup skb programs (the
 * loader probes it), so a UDP socket gets socket storage only once it is
 * bound, connected, or sends a third time (net.bpf.c, own_send); 0: at its
 * creation, as every other datagram socket */
extern const volatile __u32 cfg_lazy_dgram;

/* Sized by the loader (--ring-size). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps") __weak;

/* Per-CPU counters, indexed by enum om_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OM_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") __weak;

/*
 * Scratch space for the big records (EXEC with argv, paths), one slot per
 * CPU: too big for the stack and for a per-CPU array value. Tracepoint
 * programs run with preemption disabled, and the users of this space all
 * run in process context, so a slot is never used by two programs at once.
 * max_entries is set to the number of possible CPUs by the loader.
 */
struct om_scratch {
	__u8 rec[OM_REC_MAX];
	__u8 path[2 * OM_PATH_MAX]; /* path assembly, back to front */
};
/* what the verifier is shown about the copies into and out of it */
_Static_assert(OM_PATH_MASK + OM_NAME_MASK < sizeof(((struct om_scratch *)0)->path),
	       "path_step: a component copied at any masked offset stays inside path[]");
_Static_assert(sizeof(struct om_ev_proc) + OM_PATH_LEN_MASK <= OM_REC_MAX &&
		   sizeof(struct om_ev_mod) + OM_PATH_LEN_MASK <= OM_REC_MAX,
	       "EXEC, MODLOAD: a path of any masked length fits in rec[] after the fixed part");
_Static_assert(sizeof(struct om_ev_mod) + OM_PATH_MAX <= OM_PATH_LEN_MASK,
	       "MODLOAD: its whole size passes OM_PATH_LEN_MASK uncut");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct om_scratch);
} scratch SEC(".maps") __weak;

/* tgid -> boot ns of its latest exec (written by om_exec, read by
 * om_exec_modules, which runs after it, and by user space to tell whether a
 * process exec'd again since an EXEC record) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u32);
	__type(value, __u64);
} proc_gen SEC(".maps") __weak;

/*
 * Identities of files user space has hashed (it adds them). An EXEC or
 * MODLOAD of a file not in it wakes user space at once, so that it opens
 * /proc/PID/exe while the process still runs; the others wait for the next
 * batch. Least recently used pushed out: then one more wakeup, no loss.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct om_file_key);
	__type(value, __u8);
} known_files SEC(".maps") __weak;

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);
	if (c)
		(*c)++;
}

static __always_inline struct om_scratch *get_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&scratch, &cpu);
}

/*
 * Wake user space in batches: the consumer polls every few ms, so most
 * records go without a wakeup; a wakeup is forced only when the ring holds
 * more than cfg_wakeup_bytes, so a burst cannot fill it between polls.
 */
static __always_inline __u64 ring_flags(void)
{
	if (cfg_wakeup_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > cfg_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline __u32 lost_counter(__u32 kind)
{
	switch (kind) {
	case OM_K_FORK:
		return OM_C_LOST_FORK;
	case OM_K_EXEC:
		return OM_C_LOST_EXEC;
	case OM_K_EXIT:
		return OM_C_LOST_EXIT;
	case OM_K_MODLOAD:
		return OM_C_LOST_MODLOAD;
	case OM_K_INJECT:
		return OM_C_LOST_INJECT;
	default:
		return OM_C_LOST_NET;
	}
}

/* Hand a finished record to user space; count it, or count it lost.
 * wake: wake user space now (a file it must open while the process runs).
 * Returns 0 when it was handed over (or a filter rule dropped it, counted
 * per rule: filter.bpf.h). */
static __always_inline int emit_wake(void *rec, __u64 size, __u32 kind, int wake)
{
	if (filter_drop(rec, kind))
		return 0;
	if (bpf_ringbuf_output(&events, rec, size, wake ? BPF_RB_FORCE_WAKEUP : ring_flags()) ==
	    0) {
		count(OM_C_EVENTS);
		return 0;
	}
	count(lost_counter(kind));
	return -1;
}

static __always_inline int emit(void *rec, __u64 size, __u32 kind)
{
	return emit_wake(rec, size, kind, 0);
}

static __always_inline void fill_hdr(struct om_hdr *h, __u32 kind, __u32 size,
				     struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->kind = kind;
	h->size = size;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	h->flags = 0;
	h->uid = (__u32)bpf_get_current_uid_gid();
}

/*
 * Resolve a struct path to an absolute path by walking dentries and mounts
 * (what d_path does; bpf_d_path is not allowed in tracepoint programs).
 * The path is assembled back to front in the scratch slot's path buffer,
 * ending at OM_PATH_MAX (no NUL). The walk runs under bpf_loop so that the
 * verifier checks one step, not every iteration.
 */
struct path_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u32 pos;
	__u32 done;
	__u32 components;
};

static long path_step(__u32 i, void *data)
{
	struct path_walk *w = data;
	struct om_scratch *s = get_scratch();
	if (!s)
		return 1; /* cannot be: the caller has its slot (counted there) */
	/* locals: CO-RE relocations apply to kernel types, not to *w */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

	if (dentry == parent && dentry != mnt_root) {
		/* a pseudo file (memfd, anonymous inode): a root of its own,
		 * named like d_path names it: "/" + its name; fall through once */
		w->done = 1;
	} else if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
		if (dentry != mnt_root || mnt == mnt_parent) {
			/* the root of the namespace (or of a disconnected tree) */
			w->done = 1;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mnt_parent;
		w->vfsmnt = &mnt_parent->mnt;
		return 0;
	}
	if (w->components >= OM_PATH_DEPTH)
		return 1;
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u32 len = name.len;
	if (len > OM_NAME_MAX)
		len = OM_NAME_MAX;
	__u32 pos = w->pos;
	if (pos > OM_PATH_MAX || len + 1 > pos)
		return 1; /* no room: truncated */
	pos -= len;
	bpf_probe_read_kernel(&s->path[pos & OM_PATH_MASK], len & OM_NAME_MASK, name.name);
	pos -= 1;
	s->path[pos & OM_PATH_MASK] = '/';
	w->pos = pos;
	w->components++;
	w->dentry = parent;
	return w->done ? 1 : 0;
}

/* Returns the offset in s->path where the path starts. */
static __always_inline __u32 resolve_path(const struct path *p, __u32 *flags)
{
	struct path_walk w = {};
	struct vfsmount *vfsmnt = BPF_CORE_READ(p, mnt);
	w.dentry = BPF_CORE_READ(p, dentry);
	w.vfsmnt = vfsmnt;
	w.mnt = container_of(vfsmnt, struct mount, mnt);
	w.pos = OM_PATH_MAX;
	/* each component or mount crossing is one step */
	bpf_loop(OM_PATH_DEPTH * 2, path_step, &w, 0);
	if (!w.done) {
		*flags |= OM_F_PATH_TRUNC;
		count(OM_C_TRUNC_PATH);
	}
	struct om_scratch *s = get_scratch();
	__u32 pos = w.pos;
	if (pos > OM_PATH_MAX)
		pos = OM_PATH_MAX;
	if (pos == OM_PATH_MAX && s) {
		pos -= 1;
		s->path[pos & OM_PATH_MASK] = '/';
	}
	return pos;
}

/* deleted / memfd flags of the file behind a path */
static __always_inline __u32 file_flags(const struct path *p)
{
	__u32 f = 0;
	struct dentry *d = BPF_CORE_READ(p, dentry);
	if (BPF_CORE_READ(d, d_inode, i_nlink) == 0)
		f |= OM_F_DELETED;
	if (BPF_CORE_READ(d, d_sb, s_magic) == TMPFS_MAGIC) {
		char pfx[6] = {};
		const unsigned char *n = BPF_CORE_READ(d, d_name.name);
		bpf_probe_read_kernel(pfx, sizeof(pfx), n);
		if (pfx[0] == 'm' && pfx[1] == 'e' && pfx[2] == 'm' && pfx[3] == 'f' &&
		    pfx[4] == 'd' && pfx[5] == ':')
			f |= OM_F_MEMFD;
	}
	return f;
}

/* The inode's change time, in the three layouts kernels have had: i_ctime
 * (before 6.6), __i_ctime (6.6 to 6.10), i_ctime_sec and i_ctime_nsec. */
struct inode___ctime_ts {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___ctime_old {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

/* The multigrain flags kept in the nanoseconds (I_CTIME_QUERIED, bit 31
 * since 6.13; bit 30 in 6.6): not part of the time (nanoseconds < 2^30) */
#define CTIME_FLAG_BITS 0xc0000000u

/* identity of a file, for hashing (event.h) */
static __always_inline void file_identity(struct file *file, struct om_file_id *id)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	if (!inode)
		return;
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);
	id->ino = BPF_CORE_READ(inode, i_ino);
	id->size = BPF_CORE_READ(inode, i_size);
	id->dev = BPF_CORE_READ(sb, s_dev);
	id->magic = (__u32)BPF_CORE_READ(sb, s_magic);
	id->generation = BPF_CORE_READ(inode, i_generation);
	id->nlink = BPF_CORE_READ(inode, i_nlink);
	__s64 sec = 0;
	__u32 nsec = 0;
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		sec = BPF_CORE_READ(inode, i_ctime_sec);
		nsec = BPF_CORE_READ(inode, i_ctime_nsec);
	} else if (bpf_core_field_exists(((struct inode___ctime_ts *)inode)->__i_ctime)) {
		struct inode___ctime_ts *i = (void *)inode;
		sec = BPF_CORE_READ(i, __i_ctime.tv_sec);
		nsec = (__u32)BPF_CORE_READ(i, __i_ctime.tv_nsec);
	} else {
		struct inode___ctime_old *i = (void *)inode;
		sec = BPF_CORE_READ(i, i_ctime.tv_sec);
		nsec = (__u32)BPF_CORE_READ(i, i_ctime.tv_nsec);
	}
	id->ctime_sec = sec;
	id->ctime_nsec = nsec & ~CTIME_FLAG_BITS;
	id->flags = OM_FID_VALID | ((nsec & CTIME_FLAG_BITS) ? OM_FID_CTIME_QUERIED : 0);
}

/* Wake user space for this file: hashing is on, it is not too big, and user
 * space has not hashed it yet. */
static __always_inline int file_unknown(const struct om_file_id *id)
{
	if (!cfg_hash_max || id->size > cfg_hash_max || !(id->flags & OM_FID_VALID))
		return 0;
	struct om_file_key k = {};
	k.ino = id->ino;
	k.size = id->size;
	k.ctime_sec = id->ctime_sec;
	k.ctime_nsec = id->ctime_nsec;
	k.dev = id->dev;
	k.generation = id->generation;
	return bpf_map_lookup_elem(&known_files, &k) == NULL;
}

#endif /* ONMITSU_BPF_H */
