// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Process life: FORK, EXEC, EXIT, from the sched tracepoints. */
#include "onmitsu.bpf.h"

const volatile __u32 cfg_cmdline_max = OM_CMDLINE_DEFAULT;
const volatile __u32 cfg_wakeup_bytes = 1 << 20;

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

SEC("tp_btf/sched_process_exec")
int BPF_PROG(om_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
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
	e->h.size = size;
	if (size > sizeof(s->rec)) {
		count(OM_C_OVERSIZE); /* cannot be (OM_REC_MAX is the largest EXEC) */
		return 0;
	}
	emit(s->rec, size, OM_K_EXEC);
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
