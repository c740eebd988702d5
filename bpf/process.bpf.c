// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Process life: FORK, EXEC, EXIT, from the sched tracepoints. */
#include "onmitsu.bpf.h"

const volatile __u32 cfg_cmdline_max = OM_CMDLINE_DEFAULT;
const volatile __u32 cfg_wakeup_bytes = 1 << 20;
const volatile __u64 cfg_hash_max = 64ull << 20;
const volatile __u32 cfg_defer_local = 0;
const volatile __u32 cfg_lazy_dgram = 0;

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void fill_parent(struct om_ev_proc *e, struct task_struct *task)
{
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->parent_start_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(om_fork, struct task_struct *parent, struct task_struct *child)
{
	/* threads are part of their process: only a new thread group counts */
	if (child->pid != child->tgid)
		return 0;

	struct om_ev_proc e = {};
	e.h.kind = OM_K_FORK;
	e.h.size = sizeof(e);
	e.h.ts_ns = bpf_ktime_get_boot_ns();
	e.h.pid = child->tgid;
	e.h.tid = child->pid;
	e.h.start_ns = child->start_boottime;
	e.h.uid = (__u32)bpf_get_current_uid_gid();
	/* the real parent, which differs from the caller with CLONE_PARENT */
	fill_parent(&e, child);
	filter_note_fork(child);
	emit(&e, sizeof(e), OM_K_FORK);
	return 0;
}

/*
 * A script run through #! (or a file run by a binfmt_misc handler): exe is the
 * interpreter actually run, and the script is known only by the name execve
 * was given. binfmt_script and binfmt_misc replace bprm->interp with the
 * interpreter's name, so interp != filename says an interpreter stepped in;
 * the script's own file was released before this tracepoint, so its name is
 * taken as given, with the resolved cwd when the name is relative (user space
 * joins them). Writes script[] and cwd[] at rec + off; returns their bytes.
 */
static __always_inline __u32 script_name(struct om_scratch *s, struct om_ev_proc *e, __u32 off,
					 struct task_struct *task, struct linux_binprm *bprm)
{
	const char *filename = BPF_CORE_READ(bprm, filename);
	const char *interp = BPF_CORE_READ(bprm, interp);
	if (!filename || filename == interp)
		return 0;
	if (off > sizeof(*e) + OM_PATH_MAX + OM_CMDLINE_MAX)
		return 0; /* for the verifier */
	long n = bpf_probe_read_kernel_str(s->rec + off, OM_PATH_MAX, filename);
	if (n <= 1) {
		if (n < 0)
			count(OM_C_READ_FAIL);
		return 0;
	}
	__u32 script_len = (__u32)(n - 1) & OM_PATH_MASK; /* without the NUL */
	e->script_len = script_len;
	if (s->rec[off] == '/')
		return script_len;
	/* relative: the cwd it was named from, as the kernel holds it */
	__u32 flags = 0;
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	__u32 pos = resolve_path(&fs->pwd, &flags);
	if (flags & OM_F_PATH_TRUNC)
		e->h.flags |= OM_F_SCRIPT_CWD_TRUNC;
	__u32 cwd_len = OM_PATH_MAX - pos;
	if (cwd_len > OM_PATH_MAX)
		cwd_len = OM_PATH_MAX; /* for the verifier */
	__u32 coff = off + script_len;
	if (coff > sizeof(*e) + OM_PATH_MAX + OM_CMDLINE_MAX + OM_PATH_MAX)
		return script_len; /* cannot happen; keeps the verifier's bounds */
	bpf_probe_read_kernel(s->rec + coff, cwd_len & OM_PATH_LEN_MASK,
			      &s->path[pos & OM_PATH_MASK]);
	e->cwd_len = cwd_len;
	return script_len + cwd_len;
}

/* kernfs_node's parent before 6.15 (then renamed __parent) */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/*
 * The process's cgroup in the v2 hierarchy, as /proc/PID/cgroup's "0::"
 * line shows it to a reader in the initial cgroup namespace: the names of
 * the cgroup's kernfs nodes from the root down, at most OM_CGROUP_DEPTH
 * levels and OM_PATH_MAX bytes (else cut, and flagged). The nodes are
 * collected bottom-up in the slot's path buffer (free by now), then named
 * top-down; each walk under bpf_loop, so that the verifier checks one step.
 */
struct cg_walk {
	struct kernfs_node *kn;
	__u32 n;   /* nodes collected */
	__u32 off; /* where in rec the path goes */
	__u32 pos; /* bytes of it written */
	__u32 cut;
};

static long cg_up_step(__u32 i, void *data)
{
	struct cg_walk *w = data;
	struct om_scratch *s = get_scratch();
	struct kernfs_node *kn = w->kn;
	if (!s || !kn)
		return 1;
	struct kernfs_node *parent = kn_parent(kn);
	if (!parent) {
		w->kn = NULL; /* the root: not named in the path */
		return 1;
	}
	((__u64 *)s->path)[i & (OM_CGROUP_DEPTH - 1)] = (__u64)kn;
	w->n = i + 1;
	w->kn = parent;
	return 0;
}

static long cg_name_step(__u32 i, void *data)
{
	struct cg_walk *w = data;
	struct om_scratch *s = get_scratch();
	if (!s)
		return 1;
	/* bpf_loop runs i below n (<= OM_CGROUP_DEPTH): the mask is for the verifier */
	__u32 j = (w->n - 1 - i) & (OM_CGROUP_DEPTH - 1);
	__u32 pos = w->pos, off = w->off;
	if (off > sizeof(struct om_ev_proc) + OM_PATH_MAX + OM_CMDLINE_MAX + 2 * OM_PATH_MAX)
		return 1;
	if (pos > OM_PATH_MAX - OM_NAME_MAX - 2) {
		w->cut = 1;
		return 1;
	}
	struct kernfs_node *node = (struct kernfs_node *)((__u64 *)s->path)[j];
	s->rec[off + pos] = '/';
	pos++;
	long m = bpf_probe_read_kernel_str(s->rec + off + pos, OM_NAME_MAX + 1,
					   BPF_CORE_READ(node, name));
	if (m > 1)
		pos += (__u32)(m - 1) & OM_NAME_MASK;
	w->pos = pos;
	return 0;
}

/* Writes the path at rec + off; returns its bytes. */
static __always_inline __u32 cgroup_path(struct om_scratch *s, struct om_ev_proc *e, __u32 off,
					 struct task_struct *task)
{
	if (off > sizeof(*e) + OM_PATH_MAX + OM_CMDLINE_MAX + 2 * OM_PATH_MAX)
		return 0; /* cannot happen; keeps the verifier's bounds */
	struct cg_walk w = {};
	w.kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	w.off = off;
	bpf_loop(OM_CGROUP_DEPTH, cg_up_step, &w, 0);
	if (w.kn)
		w.cut = 1; /* deeper than OM_CGROUP_DEPTH */
	bpf_loop(w.n, cg_name_step, &w, 0);
	__u32 pos = w.pos;
	if (pos == 0) {
		s->rec[off] = '/'; /* the root cgroup */
		pos = 1;
	}
	if (w.cut)
		e->h.flags |= OM_F_CGROUP_TRUNC;
	e->cgroup_len = pos;
	return pos;
}
_Static_assert((OM_CGROUP_DEPTH & (OM_CGROUP_DEPTH - 1)) == 0,
	       "OM_CGROUP_DEPTH must be a power of two (it masks an index)");
_Static_assert(OM_CGROUP_DEPTH * sizeof(__u64) <= sizeof(((struct om_scratch *)0)->path),
	       "cgroup_path: the nodes fit in the path buffer");

/* bpf/stdio.bpf.h: defined in syscall.bpf.c, the one object that declares
 * the kfunc it uses (libbpf before 1.5 cannot link two objects that declare
 * the same extern function) */
extern int om_stdio_read(struct om_stdio *st);

SEC("tp_btf/sched_process_exec")
int BPF_PROG(om_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	/* a new image, a new generation (MODLOAD's once-per-image key; user space
	 * compares it to tell a later exec), before anything can fail */
	__u32 tgid = task->tgid;
	__u64 gen = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&proc_gen, &tgid, &gen, BPF_ANY);

	struct om_scratch *s = get_scratch();
	if (!s) {
		count(OM_C_NO_SCRATCH);
		return 0;
	}
	struct om_ev_proc *e = (struct om_ev_proc *)s->rec;
	__builtin_memset(e, 0, sizeof(*e));
	fill_hdr(&e->h, OM_K_EXEC, 0, task);
	fill_parent(e, task);
	e->euid = BPF_CORE_READ(task, cred, euid.val);
	if (e->euid != e->h.uid)
		e->h.flags |= OM_F_SETUID;

	/* exe: the file actually executed, as the kernel resolved it */
	struct file *file = bprm->file;
	__u32 pos = resolve_path(&file->f_path, &e->h.flags);
	e->h.flags |= file_flags(&file->f_path);
	file_identity(file, &e->exe_id);
	e->exec_gen = gen;
	__u32 exe_len = OM_PATH_MAX - pos;
	if (exe_len > OM_PATH_MAX)
		exe_len = OM_PATH_MAX; /* for the verifier */
	bpf_probe_read_kernel(s->rec + sizeof(*e), exe_len & OM_PATH_LEN_MASK,
			      &s->path[pos & OM_PATH_MASK]);
	e->exe_len = exe_len;

	/* argv as the kernel laid it out at exec, bounded by arg_end */
	struct mm_struct *mm = task->mm;
	__u64 arg_start = BPF_CORE_READ(mm, arg_start);
	__u64 arg_end = BPF_CORE_READ(mm, arg_end);
	__u64 args_len = arg_end > arg_start ? arg_end - arg_start : 0;
	__u32 max = cfg_cmdline_max;
	if (max > OM_CMDLINE_MAX)
		max = OM_CMDLINE_MAX;
	if (args_len > max) {
		args_len = max;
		e->h.flags |= OM_F_ARGS_TRUNC;
		count(OM_C_TRUNC_ARGS);
	}
	if (args_len > OM_CMDLINE_MAX)
		args_len = OM_CMDLINE_MAX; /* for the verifier */
	__u32 off = sizeof(*e) + (exe_len & OM_PATH_LEN_MASK);
	if (off > sizeof(*e) + OM_PATH_MAX) {
		count(OM_C_OVERSIZE); /* cannot be (exe_len <= OM_PATH_MAX); bounds for the verifier
				       */
		return 0;
	}
	if (args_len && bpf_probe_read_user(s->rec + off, args_len, (const void *)arg_start) != 0) {
		e->h.flags |= OM_F_ARGS_FAULT;
		count(OM_C_READ_FAIL);
		args_len = 0;
	}
	e->args_len = args_len;
	__u64 size = off + args_len;
	if (size > sizeof(*e) + OM_PATH_MAX + OM_CMDLINE_MAX)
		return 0; /* cannot happen; keeps the verifier's bounds */
	size += script_name(s, e, (__u32)size, task, bprm);
	filter_note_exec(task, file);
	size += cgroup_path(s, e, (__u32)size, task);
	struct om_stdio st = {};
	if (om_stdio_read(&st) && size <= OM_REC_MAX - sizeof(st)) {
		bpf_probe_read_kernel(s->rec + size, sizeof(st), &st);
		e->h.flags |= OM_F_STDIO;
		size += sizeof(st);
	}
	e->h.size = size;
	if (size > sizeof(s->rec)) {
		count(OM_C_OVERSIZE); /* cannot be (OM_REC_MAX is the largest EXEC) */
		return 0;
	}
	emit_wake(s->rec, size, OM_K_EXEC, file_unknown(&e->exe_id));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(om_exit, struct task_struct *task)
{
	/* signal->live reaches 0 when the last thread of the group exits,
	 * whichever thread that is (the leader may go first) */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;

	struct om_ev_proc e = {};
	e.h.kind = OM_K_EXIT;
	e.h.size = sizeof(e);
	e.h.ts_ns = bpf_ktime_get_boot_ns();
	e.h.pid = task->tgid;
	e.h.tid = task->pid;
	e.h.start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	e.h.uid = (__u32)bpf_get_current_uid_gid();
	fill_parent(&e, task);
	__u32 code = task->exit_code;
	if (BPF_CORE_READ(task, signal, flags) & SIGNAL_GROUP_EXIT)
		code = BPF_CORE_READ(task, signal, group_exit_code);
	e.exit_code = code;
	filter_note_exit(task->tgid);
	emit(&e, sizeof(e), OM_K_EXIT);
	return 0;
}
