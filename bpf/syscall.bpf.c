// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What needs a system call's result: executable mappings (MODLOAD), accepted
 * connections (NET in), connects that failed before the handshake began, and
 * one process acting through another (INJECT, inject.bpf.h).
 * One program on the raw sys_exit tracepoint, which, unlike the per-syscall
 * tracepoints, also fires for 32-bit system calls of 64-bit processes
 * (int $0x80): malware must not hide a mapping or a connection that way.
 */
#include "net.bpf.h"

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* One MODLOAD per process image and file (the key is shared with user
 * space: event.h). A key is kept only once its record was handed over, so a
 * MODLOAD lost to a full ring is tried again at the next mapping. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct om_mod_key);
	__type(value, __u8);
} mods_seen SEC(".maps");

/* task: a BTF pointer (bpf_get_current_task_btf), so the walk to the fd
 * table is plain loads; only the table's slot needs a read helper */
static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct files_struct *files = task->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt || fd < 0 || fd >= fdt->max_fds)
		return NULL;
	struct file **fds = fdt->fd;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __noinline void modload(struct task_struct *task, struct file *file)
{
	if (!file)
		return;
	struct om_mod_key k = {};
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	struct om_file_id id = {};
	file_identity(file, &id);
	k.dev = id.dev;
	k.ino = id.ino;
	__u64 *gen = bpf_map_lookup_elem(&proc_gen, &k.tgid);
	k.gen = gen ? *gen : 0;
	__u8 one = 1;
	if (bpf_map_lookup_elem(&mods_seen, &k))
		return;
	/* claimed before the record is built, so that two threads mapping the
	 * same file at once write it once; given back if it is not handed over */
	if (bpf_map_update_elem(&mods_seen, &k, &one, BPF_NOEXIST) != 0)
		return;

	struct om_scratch *s = get_scratch();
	if (!s) {
		count(OM_C_NO_SCRATCH);
		bpf_map_delete_elem(&mods_seen, &k);
		return;
	}
	struct om_ev_mod *e = (struct om_ev_mod *)s->rec;
	__builtin_memset(e, 0, sizeof(*e));
	fill_hdr(&e->h, OM_K_MODLOAD, 0, task);
	e->id = id;
	struct path fp;
	bpf_probe_read_kernel(&fp, sizeof(fp), &file->f_path);
	__u32 pos = resolve_path(&fp, &e->h.flags);
	e->h.flags |= file_flags(&fp);
	__u32 len = OM_PATH_MAX - pos;
	if (len > OM_PATH_MAX)
		len = OM_PATH_MAX;
	bpf_probe_read_kernel(s->rec + sizeof(*e), len & OM_PATH_LEN_MASK,
			      &s->path[pos & OM_PATH_MASK]);
	e->path_len = len;
	e->h.size = sizeof(*e) + len;
	if (emit_wake(s->rec, (sizeof(*e) + len) & OM_PATH_LEN_MASK, OM_K_MODLOAD,
		      file_unknown(&id)) != 0)
		bpf_map_delete_elem(&mods_seen, &k); /* lost (counted): the next mapping retries */
}

#include "inject.bpf.h"
#include "stdio.bpf.h"

struct vma_ctx {
	struct file *file;
	void *anon_vma;
	__u64 flags;
};

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_ctx *c = data;
	c->file = vma->vm_file;
	c->anon_vma = vma->anon_vma;
	c->flags = vma->vm_flags;
	return 0;
}

/* need_exec: only when the mapping at addr is executable (mprotect); the
 * interpreter's first segment, at AT_BASE, is its read-only ELF header.
 * prot >= 0: after mprotect(prot), also what INJECT says of it. */
static __noinline void modload_at(struct task_struct *task, __u64 addr, int need_exec, long prot)
{
	struct vma_ctx c = {};
	long err = bpf_find_vma(task, addr, vma_cb, &c, 0);
	if (err == -EBUSY) {
		/* the mm's lock was not free (a writer elsewhere in the process) */
		count(OM_C_READ_FAIL);
		return;
	}
	if (err != 0)
		return; /* no mapping there */
	if (c.file && (!need_exec || (c.flags & VM_EXEC)))
		modload(task, c.file);
	if (prot >= 0)
		inject_mprotect(task, prot, c.file, c.anon_vma);
}

/* The TCP socket behind a process's fd, or NULL: typed (read-only) pointers,
 * so that its fields are plain loads */
static __always_inline struct sock *fd_tcp_sock(struct task_struct *task, long fd)
{
	struct file *fp = fd_file(task, fd);
	if (!fp)
		return NULL;
	struct file *f = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file));
	struct socket *sock =
	    bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	struct sock *sk = sock->sk;
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return NULL;
	return sk;
}

/* TCP in: the connection a process took with accept() */
static __noinline void accepted(struct task_struct *task, long fd)
{
	struct sock *sk = fd_tcp_sock(task, fd);
	if (!sk)
		return;
	struct om_ev_net e = {};
	fill_hdr(&e.h, OM_K_NET, sizeof(e), task);
	e.proto = IPPROTO_TCP;
	e.direction = OM_DIR_IN;
	e.result = OM_RES_ESTABLISHED;
	/* the remote peer initiated: it is the source */
	sk_tuple(sk, e.daddr, e.saddr, &e.dport, &e.sport, &e.family);
	emit(&e, sizeof(e), OM_K_NET);
}

/* a deferred local connect whose outcome's run the kernel skipped: write it
 * now, late, from the socket behind the fd (as accepted() reads one) */
static __noinline void connect_late(struct task_struct *task, long fd, __u64 cookie)
{
	struct sock *sk = fd_tcp_sock(task, fd);
	if (!sk)
		return;
	struct om_ev_net e = {};
	fill_hdr(&e.h, OM_K_NET, sizeof(e), task);
	e.h.flags = OM_F_LATE;
	e.proto = IPPROTO_TCP;
	e.direction = OM_DIR_OUT;
	e.result = OM_RES_ESTABLISHED;
	sk_tuple(sk, e.saddr, e.daddr, &e.sport, &e.dport, &e.family);
	e.sock_cookie = cookie;
	emit(&e, sizeof(e), OM_K_NET);
}

/* connect() still going on in the kernel after the system call returned */
static __always_inline int connect_continues(long ret)
{
	return ret == -EINPROGRESS || ret == -EALREADY || ret == -EINTR || ret == -ERESTARTSYS ||
	       ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK;
}

/* TCP out that failed inside connect() before the handshake could report it;
 * a deferred local connect's owner (net.bpf.h, tcp_handoffs) */
static __noinline void connect_done(struct task_struct *task, long ret, long fd)
{
	struct pending_connect *pc = bpf_task_storage_get(&pending_connects, task, 0, 0);
	if (!pc || !pc->active)
		return;
	int report = ret < 0 && ret != -EINPROGRESS && (!pc->syn_seen || pc->needs_report);
	if (!report && pc->deferred && pc->syn_seen && !pc->reported) {
		/* the outcome ran outside this thread (its half waits in
		 * tcp_handoffs), is still to come, or its run was skipped */
		__u64 cookie = pc->cookie;
		if (!handoff_owner(cookie, task) && !connect_continues(ret)) {
			/* no outcome and none to come: skipped (hook_skipped) */
			bpf_map_delete_elem(&tcp_handoffs, &cookie);
			if (ret == 0)
				connect_late(task, fd, cookie);
			else
				report = ret < 0;
		}
	}
	if (report) {
		struct om_ev_net e = {};
		fill_hdr(&e.h, OM_K_NET, sizeof(e), task);
		e.proto = IPPROTO_TCP;
		e.direction = OM_DIR_OUT;
		e.result = -ret;
		e.family = pc->family;
		/* no source yet: the kernel gave up before choosing one */
		__builtin_memcpy(e.daddr, pc->daddr, 16);
		e.dport = pc->dport;
		emit(&e, sizeof(e), OM_K_NET);
	}
	pc->active = 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(om_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;

	/* This runs for every system call: leave at once for all but ours. */
	switch (nr) {
	case NR_MMAP:
	case NR_MPROTECT:
	case NR_CONNECT:
	case NR_ACCEPT:
	case NR_ACCEPT4:
	case NR_OPEN:
	case NR_CREAT:
	case NR_PTRACE:
	case NR_OPENAT:
	case NR_PROCESS_VM_WRITEV:
	case NR_PKEY_MPROTECT:
	case NR_OPENAT2: /* == NR32_OPENAT2 */
	case NR32_OPEN:
	case NR32_CREAT:
	case NR32_PTRACE:
	case NR32_MMAP2:
	case NR32_MPROTECT:
	case NR32_OPENAT:
	case NR32_PROCESS_VM_WRITEV:
	case NR32_CONNECT:
	case NR32_ACCEPT4:
	case NR32_PKEY_MPROTECT:
	case NR_RENAME:
	case NR_RENAMEAT:
	case NR_RENAMEAT2:
	case NR_LINK:
	case NR_LINKAT:
	case NR_SYMLINK:
	case NR_SYMLINKAT:
	case NR32_RENAME:
	case NR32_RENAMEAT:
	case NR32_RENAMEAT2:
	/* NR32_LINK == NR_MMAP: let through above */
	case NR32_LINKAT:
	case NR32_SYMLINK:
	case NR32_SYMLINKAT:
		break;
	default:
		return 0;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	int compat = task->thread_info.status & TS_COMPAT;

	if (!compat) {
		switch (nr) {
		case NR_MMAP:
			if (ret < 0 && ret >= -MAX_ERRNO)
				return 0;
			if (!(regs->dx & PROT_EXEC))
				return 0;
			if (!(regs->r10 & MAP_ANONYMOUS))
				modload(task, fd_file(task, (int)regs->r8));
			inject_mmap(task, regs->dx, regs->r10);
			return 0;
		case NR_MPROTECT:
		case NR_PKEY_MPROTECT:
			if (ret == 0 && (regs->dx & PROT_EXEC))
				modload_at(task, regs->di, 1, regs->dx);
			return 0;
		case NR_PTRACE:
			if (ret == 0)
				inject_ptrace(task, regs->di, regs->si);
			return 0;
		case NR_PROCESS_VM_WRITEV:
			if (ret > 0)
				inject_vm_writev(task, regs->di);
			return 0;
		case NR_OPEN:
			if (ret >= 0)
				inject_open(task, ret, regs->si);
			return 0;
		case NR_OPENAT:
			if (ret >= 0)
				inject_open(task, ret, regs->dx);
			return 0;
		case NR_CREAT:
		case NR_OPENAT2: /* its flags are in user memory: look at the file */
			if (ret >= 0)
				inject_open(task, ret, O_ACCMODE);
			return 0;
		case NR_ACCEPT:
		case NR_ACCEPT4:
			if (ret >= 0)
				accepted(task, ret);
			return 0;
		case NR_CONNECT:
			connect_done(task, ret, (int)regs->di);
			return 0;
		}
		if (ret != 0)
			return 0;
		/* a new name (rename, link, symlink) that succeeded */
		switch (nr) {
		case NR_RENAME:
			inject_renamed(task, regs->si, OM_VIA_RENAME);
			return 0;
		case NR_RENAMEAT:
		case NR_RENAMEAT2:
			inject_renamed(task, regs->r10, OM_VIA_RENAME);
			if (nr == NR_RENAMEAT2 && (regs->r8 & RENAME_EXCHANGE))
				inject_renamed(task, regs->si, OM_VIA_RENAME);
			return 0;
		case NR_LINK:
			inject_renamed(task, regs->si, OM_VIA_LINK);
			return 0;
		case NR_LINKAT:
			inject_renamed(task, regs->r10, OM_VIA_LINK);
			return 0;
		case NR_SYMLINK:
			inject_renamed(task, regs->si, OM_VIA_SYMLINK);
			return 0;
		case NR_SYMLINKAT:
			inject_renamed(task, regs->dx, OM_VIA_SYMLINK);
			return 0;
		}
		return 0;
	}
	/* i386 ABI: arguments in bx, cx, dx, si, di, bp */
	switch (nr) {
	case NR32_MMAP2:
		if (ret < 0 && ret >= -MAX_ERRNO)
			return 0;
		if (!(regs->dx & PROT_EXEC))
			return 0;
		if (!(regs->si & MAP_ANONYMOUS))
			modload(task, fd_file(task, (int)regs->di));
		inject_mmap(task, regs->dx, regs->si);
		return 0;
	case NR32_MPROTECT:
	case NR32_PKEY_MPROTECT:
		if (ret == 0 && (regs->dx & PROT_EXEC))
			modload_at(task, (__u32)regs->bx, 1, (__u32)regs->dx);
		return 0;
	case NR32_PTRACE:
		if (ret == 0)
			inject_ptrace(task, (__u32)regs->bx, (__u32)regs->cx);
		return 0;
	case NR32_PROCESS_VM_WRITEV:
		if (ret > 0)
			inject_vm_writev(task, (__u32)regs->bx);
		return 0;
	case NR32_OPEN:
		if (ret >= 0)
			inject_open(task, ret, regs->cx);
		return 0;
	case NR32_OPENAT:
		if (ret >= 0)
			inject_open(task, ret, regs->dx);
		return 0;
	case NR32_CREAT:
	case NR32_OPENAT2:
		if (ret >= 0)
			inject_open(task, ret, O_ACCMODE);
		return 0;
	case NR32_ACCEPT4:
		if (ret >= 0)
			accepted(task, ret);
		return 0;
	case NR32_CONNECT:
		connect_done(task, ret, (int)regs->bx);
		return 0;
	}
	if (ret != 0)
		return 0;
	switch (nr) {
	case NR32_RENAME:
		inject_renamed(task, (__u32)regs->cx, OM_VIA_RENAME);
		return 0;
	case NR32_RENAMEAT:
	case NR32_RENAMEAT2:
		inject_renamed(task, (__u32)regs->si, OM_VIA_RENAME);
		if (nr == NR32_RENAMEAT2 && (regs->di & RENAME_EXCHANGE))
			inject_renamed(task, (__u32)regs->cx, OM_VIA_RENAME);
		return 0;
	case NR32_LINK:
		inject_renamed(task, (__u32)regs->cx, OM_VIA_LINK);
		return 0;
	case NR32_LINKAT:
		inject_renamed(task, (__u32)regs->si, OM_VIA_LINK);
		return 0;
	case NR32_SYMLINK:
		inject_renamed(task, (__u32)regs->cx, OM_VIA_SYMLINK);
		return 0;
	case NR32_SYMLINKAT:
		inject_renamed(task, (__u32)regs->dx, OM_VIA_SYMLINK);
		return 0;
	}
	return 0;
}

/*
 * At exec the kernel maps the program's interpreter (the dynamic loader)
 * itself, without a system call: find it through AT_BASE in the auxiliary
 * vector. A new image also starts a new generation of MODLOAD records.
 */
#define AUXV_PAIRS 24 /* read at most this many (type, value) pairs */
_Static_assert(sizeof(((struct mm_struct *)0)->saved_auxv) >=
		   AUXV_PAIRS * 2 * sizeof(unsigned long),
	       "AUXV_PAIRS reads inside mm->saved_auxv");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(om_exec_modules, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	/* the new image's generation in proc_gen: om_exec, which runs first (the
	 * loader attaches it first), wrote it */
	struct mm_struct *mm = task->mm;
	/* the auxiliary vector in one read, into scratch space (too big for
	 * the stack); modload_at below reuses that space afterwards */
	struct om_scratch *s = get_scratch();
	if (!s) {
		count(OM_C_NO_SCRATCH);
		return 0;
	}
	unsigned long *auxv = (unsigned long *)s->rec;
	if (bpf_probe_read_kernel(auxv, AUXV_PAIRS * 2 * sizeof(unsigned long), mm->saved_auxv) !=
	    0) {
		count(OM_C_READ_FAIL);
		return 0;
	}
	__u64 base = 0;
	for (int i = 0; i < AUXV_PAIRS; i++) {
		if (auxv[2 * i] == 0)
			break;
		if (auxv[2 * i] == AT_BASE) {
			base = auxv[2 * i + 1];
			break;
		}
	}
	if (base)
		modload_at(task, base, 0, -1);
	inject_env(task);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(om_exit_modules, struct task_struct *task)
{
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	__u32 tgid = task->tgid;
	bpf_map_delete_elem(&proc_gen, &tgid);
	return 0;
}
