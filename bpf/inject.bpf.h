/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * INJECT: a process acting through another (ptrace, process_vm_writev,
 * /proc/PID/mem opened for writing), memory made executable, LD_* in the
 * environment at exec, /etc/ld.so.preload opened for writing. Called from
 * the raw sys_exit program and the exec program in syscall.bpf.c, so that
 * the 32-bit gate is seen too and each case costs only when its system call
 * succeeded.
 *
 * Repeats are summarised, not dropped: the first event of a series (actor,
 * target, method) is written at once; the rest are counted in the series'
 * entry, and user space writes the count (record/inject.c).
 */
#ifndef ONMITSU_INJECT_BPF_H
#define ONMITSU_INJECT_BPF_H

#include "onmitsu.bpf.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* Entries are removed by user space when the actor or the target exits;
 * when the map is full an event is written on its own (OM_F_NO_SERIES). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct om_inject_key);
	__type(value, struct om_inject_val);
} inject_series SEC(".maps");

struct inject_target {
	__u32 tgid; /* 0: not found */
	__u32 vpid;
	__u64 start_ns;
};

/* The process whose thread has global id tid (the init pid namespace). */
static __always_inline void target_by_global_tid(struct inject_target *t, __u32 tid)
{
	struct task_struct *p = bpf_task_from_pid((s32)tid);
	if (!p)
		return;
	t->tgid = p->tgid;
	t->start_ns = p->group_leader->start_boottime;
	bpf_task_release(p);
}

/*
 * The process the actor named by vpid (a thread id in its own pid
 * namespace). An actor in the initial namespace names global ids; one in a
 * child namespace is looked for among its tracees (ptrace), else the target
 * is left unknown (its vpid is recorded).
 */
#define TRACEES_MAX 64
static __always_inline void target_by_vpid(struct inject_target *t, struct task_struct *task,
					   __u32 vpid)
{
	t->vpid = vpid;
	struct pid *mypid = task->thread_pid;
	unsigned int level = mypid->level;
	if (level == 0) {
		target_by_global_tid(t, vpid);
		return;
	}
	struct upid me = {};
	bpf_probe_read_kernel(&me, sizeof(me), &mypid->numbers[level & 31]);
	struct list_head *head = &task->ptraced;
	struct list_head *pos = BPF_CORE_READ(task, ptraced.next);
	for (int i = 0; i < TRACEES_MAX && pos && pos != head; i++) {
		struct task_struct *tr =
		    (void *)pos - bpf_core_field_offset(struct task_struct, ptrace_entry);
		struct pid *p = BPF_CORE_READ(tr, thread_pid);
		struct upid u = {};
		if (BPF_CORE_READ(p, level) >= level)
			bpf_probe_read_kernel(&u, sizeof(u), &p->numbers[level & 31]);
		if (u.nr == (int)vpid && u.ns == me.ns) {
			t->tgid = BPF_CORE_READ(tr, tgid);
			t->start_ns = BPF_CORE_READ(tr, group_leader, start_boottime);
			return;
		}
		pos = BPF_CORE_READ(pos, next);
	}
}

/* One event of a series: the first is written, the others counted. */
static __noinline void inject_event(struct task_struct *task, __u32 method, struct inject_target *t)
{
	struct om_inject_key k = {};
	__u64 id = bpf_get_current_pid_tgid();
	k.actor = id >> 32;
	k.actor_start_ns = task->group_leader->start_boottime;
	k.target = t->tgid;
	k.target_start_ns = t->start_ns;
	k.target_vpid = t->tgid ? 0 : t->vpid;
	k.method = method;
	__u64 now = bpf_ktime_get_boot_ns();
	struct om_inject_val *v = bpf_map_lookup_elem(&inject_series, &k);
	if (v) {
		__sync_fetch_and_add(&v->hits, 1);
		v->last_ns = now;
		return;
	}
	struct om_inject_val nv = {.hits = 1, .last_ns = now};
	long err = bpf_map_update_elem(&inject_series, &k, &nv, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* another thread began the series just now */
		v = bpf_map_lookup_elem(&inject_series, &k);
		if (v) {
			__sync_fetch_and_add(&v->hits, 1);
			v->last_ns = now;
		}
		return;
	}
	struct om_ev_inject e = {};
	fill_hdr(&e.h, OM_K_INJECT, sizeof(e), task);
	e.h.ts_ns = now;
	if (err)
		e.h.flags |= OM_F_NO_SERIES; /* the table is full: not counted */
	e.method = method;
	e.target_pid = t->tgid;
	e.target_start_ns = t->start_ns;
	e.target_vpid = t->vpid;
	if (emit(&e, sizeof(e), OM_K_INJECT) != 0 && !err)
		/* lost (counted): the next event of the series is written instead */
		bpf_map_delete_elem(&inject_series, &k);
}

static __noinline void inject_ptrace(struct task_struct *task, long request, long pid)
{
	__u32 method;
	switch (request) {
	case PTRACE_ATTACH:
		method = OM_INJ_PTRACE_ATTACH;
		break;
	case PTRACE_SEIZE:
		method = OM_INJ_PTRACE_SEIZE;
		break;
	case PTRACE_POKETEXT:
		method = OM_INJ_PTRACE_POKETEXT;
		break;
	case PTRACE_POKEDATA:
		method = OM_INJ_PTRACE_POKEDATA;
		break;
	case PTRACE_POKEUSR:
		method = OM_INJ_PTRACE_POKEUSER;
		break;
	case PTRACE_SETREGS:
		method = OM_INJ_PTRACE_SETREGS;
		break;
	case PTRACE_SETFPREGS:
	case PTRACE_SETFPXREGS:
		method = OM_INJ_PTRACE_SETFPREGS;
		break;
	case PTRACE_SETREGSET:
		method = OM_INJ_PTRACE_SETREGSET;
		break;
	default:
		return;
	}
	struct inject_target t = {};
	target_by_vpid(&t, task, (__u32)pid);
	inject_event(task, method, &t);
}

static __noinline void inject_vm_writev(struct task_struct *task, long pid)
{
	struct inject_target t = {};
	target_by_vpid(&t, task, (__u32)pid);
	inject_event(task, OM_INJ_PROCESS_VM_WRITEV, &t);
}

/* p starts with the n bytes of name */
static __always_inline int env_is(const __u8 *p, const char *name, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != (__u8)name[i])
			return 0;
	return 1;
}

/*
 * A file opened for writing: /proc/PID/mem (found from the opened file, so
 * that relative opens and /proc/self/mem count; the target is the process
 * the proc inode belongs to), or /etc/ld.so.preload (the file named
 * ld.so.preload in a directory etc at the root of its file system).
 */
static __noinline void inject_opened(struct task_struct *task, struct file *f)
{
	if (!f || !(BPF_CORE_READ(f, f_mode) & FMODE_WRITE))
		return;
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct qstr name = BPF_CORE_READ(d, d_name);
	char n[16] = {};
	if (BPF_CORE_READ(d, d_sb, s_magic) == PROC_SUPER_MAGIC) {
		if (name.len != 3)
			return;
		bpf_probe_read_kernel(n, 4, name.name);
		if (n[0] != 'm' || n[1] != 'e' || n[2] != 'm')
			return;
		struct inode *ino = BPF_CORE_READ(f, f_inode);
		struct proc_inode *pi =
		    (void *)ino - bpf_core_field_offset(struct proc_inode, vfs_inode);
		struct pid *p = BPF_CORE_READ(pi, pid);
		if (!p)
			return; /* not a process's file */
		struct inject_target t = {};
		/* numbers[0]: the id in the initial namespace */
		t.vpid = BPF_CORE_READ(p, numbers[0].nr);
		target_by_global_tid(&t, t.vpid);
		inject_event(task, OM_INJ_PROC_MEM_WRITE, &t);
		return;
	}
	if (name.len != 13)
		return;
	bpf_probe_read_kernel(n, 14, name.name);
	if (!env_is((const __u8 *)n, "ld.so.preload", 13))
		return;
	struct dentry *dir = BPF_CORE_READ(d, d_parent);
	struct qstr dname = BPF_CORE_READ(dir, d_name);
	if (dname.len != 3)
		return;
	bpf_probe_read_kernel(n, 4, dname.name);
	if (n[0] != 'e' || n[1] != 't' || n[2] != 'c')
		return;
	struct dentry *root = BPF_CORE_READ(dir, d_parent);
	if (BPF_CORE_READ(root, d_parent) != root)
		return; /* not /etc */
	struct inject_target t = {};
	inject_event(task, OM_INJ_LD_SO_PRELOAD, &t);
}

/*
 * ld.so.preload given a file by a new name: a rename (and, with renameat2's
 * RENAME_EXCHANGE, the other name too), a hard link or a symbolic link that
 * succeeded, whose new name's last component is "ld.so.preload". There is no
 * path walk at sys_exit, so the name is judged as the process wrote it: the
 * directory is not checked (/etc by any spelling, a chroot's or a
 * container's /etc; a file of that name anywhere else is as rare). The name
 * given follows the event (its first OM_INJECT_VALUE_MAX bytes). One record
 * each, no series.
 */
#define NAME_READ_MAX 4096 /* PATH_MAX: a longer name fails in the kernel */
_Static_assert(NAME_READ_MAX <= OM_ENV_MAX, "the name is read where the environment goes");
static __noinline void inject_renamed(struct task_struct *task, unsigned long uname, __u32 via)
{
	struct om_scratch *s = get_scratch();
	if (!s) {
		count(OM_C_NO_SCRATCH);
		return;
	}
	long n = bpf_probe_read_user_str(s->rec, NAME_READ_MAX, (const void *)uname);
	if (n < 14) /* "ld.so.preload" and its NUL */
		return;
	__u32 end = (__u32)(n - 1) & (NAME_READ_MAX - 1); /* the NUL's offset */
	if (end < 13)
		return;
	__u32 base = end - 13;
	if (base && s->rec[(base - 1) & (NAME_READ_MAX - 1)] != '/')
		return;
	const char want[] = "ld.so.preload";
	for (int i = 0; i < 13; i++)
		if (s->rec[(base + i) & (NAME_READ_MAX - 1)] != (__u8)want[i])
			return;
	struct om_ev_inject *e = (struct om_ev_inject *)(s->rec + OM_ENV_MAX + 64);
	__builtin_memset(e, 0, sizeof(*e));
	fill_hdr(&e->h, OM_K_INJECT, 0, task);
	e->method = OM_INJ_LD_SO_PRELOAD;
	e->via = via;
	char *val = (char *)(e + 1);
	long m = bpf_probe_read_kernel_str(val, OM_INJECT_VALUE_MAX + 2, s->rec);
	__u32 vlen = m > 0 ? (__u32)(m - 1) : 0;
	if (vlen > OM_INJECT_VALUE_MAX) {
		e->h.flags |= OM_F_VALUE_TRUNC;
		vlen = OM_INJECT_VALUE_MAX;
	}
	vlen &= OM_INJECT_VALUE_MASK;
	e->value_len = vlen;
	e->h.size = sizeof(*e) + vlen;
	emit(e, (sizeof(*e) + vlen) & 511, OM_K_INJECT);
}

/* open/openat/creat succeeded: only a write open is looked at */
static __always_inline void inject_open(struct task_struct *task, long fd, long flags)
{
	if ((flags & O_ACCMODE) == O_RDONLY)
		return;
	inject_opened(task, fd_file(task, fd));
}

/*
 * Memory made executable: writable and executable at once (wx_memory), or
 * anonymous memory made executable, which is wx_memory when it was written
 * before (it has anonymous pages: vma->anon_vma), else anon_exec. A private
 * file mapping with pages written to (copied on write) made executable is
 * wx_memory too. One series per process: the first is written, the rest
 * counted.
 */
static __always_inline void inject_self(struct task_struct *task, __u32 method)
{
	struct inject_target t = {.tgid = task->tgid,
				  .start_ns = task->group_leader->start_boottime};
	t.vpid = t.tgid;
	inject_event(task, method, &t);
}

static __noinline void inject_mmap(struct task_struct *task, long prot, long flags)
{
	if (prot & PROT_WRITE)
		inject_self(task, OM_INJ_WX_MEMORY);
	else if (flags & MAP_ANONYMOUS)
		inject_self(task, OM_INJ_ANON_EXEC);
}

/* after a successful mprotect(PROT_EXEC): vma is what now maps addr */
static __noinline void inject_mprotect(struct task_struct *task, long prot, struct file *file,
				       void *anon_vma)
{
	if (prot & PROT_WRITE)
		inject_self(task, OM_INJ_WX_MEMORY);
	else if (anon_vma)
		inject_self(task, OM_INJ_WX_MEMORY);
	else if (!file)
		inject_self(task, OM_INJ_ANON_EXEC);
}

/*
 * LD_PRELOAD, LD_AUDIT and LD_LIBRARY_PATH in the environment at exec: the
 * environment (up to OM_ENV_MAX bytes, counted when longer) is read in one
 * go and scanned a word at a time for a NUL followed by "LD_". One record per
 * variable found (its last occurrence, the one the loader uses), with its
 * value (up to OM_INJECT_VALUE_MAX bytes).
 */
#define LD_VARS 3
struct env_scan {
	__u32 len;
	__u32 found[LD_VARS]; /* offset of the value + 1, 0: not found */
};

/* a variable starting at off ("LD_" already seen at off) */
static __always_inline void env_var(struct env_scan *sc, const __u8 *buf, __u32 off)
{
	const __u8 *p = buf + (off & OM_ENV_MASK);
	/* the last of a name wins: the dynamic loader reads them all, in order,
	 * each one replacing the one before */
	if (env_is(p, "LD_PRELOAD=", 11))
		sc->found[0] = off + 11 + 1;
	else if (env_is(p, "LD_AUDIT=", 9))
		sc->found[1] = off + 9 + 1;
	else if (env_is(p, "LD_LIBRARY_PATH=", 16))
		sc->found[2] = off + 16 + 1;
}

static long env_word(__u32 i, void *data)
{
	struct env_scan *sc = data;
	__u32 off = i * 8;
	if (off >= sc->len)
		return 1;
	struct om_scratch *s = get_scratch();
	if (!s)
		return 1;
	const __u8 *buf = s->rec;
	__u64 w = *(const __u64 *)(buf + (off & OM_ENV_MASK & ~7u));
	/* a zero byte in the word: (w - 0x01..) & ~w & 0x80.. */
	if (!((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
		return 0;
	for (int b = 0; b < 8; b++) {
		__u32 at = off + b;
		if (buf[at & OM_ENV_MASK] != 0)
			continue;
		__u32 v = at + 1;
		if (v + 3 > sc->len)
			return 1;
		if (buf[v & OM_ENV_MASK] == 'L' && buf[(v + 1) & OM_ENV_MASK] == 'D' &&
		    buf[(v + 2) & OM_ENV_MASK] == '_')
			env_var(sc, buf, v);
	}
	return 0;
}

_Static_assert(OM_ENV_MAX + 64 + sizeof(struct om_ev_inject) + OM_INJECT_VALUE_MAX + 2 <=
		   OM_REC_MAX,
	       "the environment and a variable of it fit in the scratch record");

static __noinline void inject_env(struct task_struct *task)
{
	struct om_scratch *s = get_scratch();
	if (!s) {
		count(OM_C_NO_SCRATCH);
		return;
	}
	struct mm_struct *mm = task->mm;
	if (!mm)
		return;
	unsigned long start = mm->env_start, end = mm->env_end;
	if (end <= start)
		return;
	__u64 len = end - start;
	if (len > OM_ENV_MASK) {
		count(OM_C_TRUNC_ENV);
		len = OM_ENV_MASK;
	}
	if (bpf_probe_read_user(s->rec, len & OM_ENV_MASK, (void *)start) != 0) {
		count(OM_C_READ_FAIL);
		return;
	}
	/* zeros after the end: a variable cut there ends there, and no byte
	 * left from an earlier use of the space is scanned */
	for (int i = 0; i < 8; i++) {
		__u32 z = (__u32)len + i;
		if (z < OM_ENV_MAX + 8)
			s->rec[z] = 0;
	}
	struct env_scan sc = {.len = len};
	/* the first variable has no NUL before it */
	if (len >= 3 && s->rec[0] == 'L' && s->rec[1] == 'D' && s->rec[2] == '_')
		env_var(&sc, s->rec, 0);
	bpf_loop(OM_ENV_MAX / 8, env_word, &sc, 0);
	for (int k = 0; k < LD_VARS; k++) {
		if (!sc.found[k])
			continue;
		__u32 off = sc.found[k] - 1;
		struct om_ev_inject *e = (struct om_ev_inject *)(s->rec + OM_ENV_MAX + 64);
		__builtin_memset(e, 0, sizeof(*e));
		fill_hdr(&e->h, OM_K_INJECT, 0, task);
		e->method = OM_INJ_LD_PRELOAD + k;
		e->target_pid = task->tgid;
		e->target_start_ns = task->group_leader->start_boottime;
		e->target_vpid = e->target_pid;
		char *val = (char *)(e + 1);
		/* one byte more than is kept: tells a value cut from one that fits */
		long n = bpf_probe_read_kernel_str(val, OM_INJECT_VALUE_MAX + 2,
						   s->rec + (off & OM_ENV_MASK));
		__u32 vlen = n > 0 ? (__u32)(n - 1) : 0;
		if (vlen > OM_INJECT_VALUE_MAX) {
			e->h.flags |= OM_F_VALUE_TRUNC;
			vlen = OM_INJECT_VALUE_MAX;
		}
		vlen &= OM_INJECT_VALUE_MASK;
		e->value_len = vlen;
		e->h.size = sizeof(*e) + vlen;
		emit(e, (sizeof(*e) + vlen) & 511, OM_K_INJECT);
	}
}

#endif /* ONMITSU_INJECT_BPF_H */
