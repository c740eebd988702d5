/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * EXEC's standard descriptors (struct om_stdio, event.h), for om_exec
 * (process.bpf.c), which calls om_stdio_read at sched_process_exec. Included
 * by syscall.bpf.c only: it uses bpf_rdonly_cast, and libbpf before 1.5
 * cannot link two objects that declare the same extern function.
 */
#ifndef ONMITSU_STDIO_BPF_H
#define ONMITSU_STDIO_BPF_H

#include "net.bpf.h"

/* One descriptor's type; the first TCP or UDP socket's addresses. */
static __always_inline void stdio_fd(struct om_stdio *st, __u32 i, struct file *fp)
{
	struct om_stdio_fd *d = &st->fd[i];
	if (!fp) {
		d->type = OM_FD_CLOSED;
		return;
	}
	/* typed (read-only) pointers: the fields below are plain loads */
	struct file *f = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file));
	if (f->f_flags & O_PATH) {
		d->type = OM_FD_OTHER; /* names a file, reads and writes nothing */
		return;
	}
	struct inode *inode = f->f_inode;
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		d->type = OM_FD_FILE;
		return;
	case S_IFDIR:
		d->type = OM_FD_DIR;
		return;
	case S_IFIFO:
		d->type = OM_FD_PIPE;
		return;
	case S_IFBLK:
		d->type = OM_FD_BLOCK;
		return;
	case S_IFCHR: {
		__u32 major = (__u32)inode->i_rdev >> KDEV_MINORBITS;
		d->type = (major == TTY_MAJOR || major == TTYAUX_MAJOR ||
			   (major >= UNIX98_PTY_SLAVE_MAJOR &&
			    major < UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT))
			      ? OM_FD_TTY
			      : OM_FD_CHAR;
		return;
	}
	case S_IFSOCK:
		break;
	default:
		d->type = OM_FD_OTHER;
		return;
	}
	/* a socket's file points at its struct socket, which points back */
	struct socket *sock =
	    bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	struct sock *sk = sock->sk;
	if (sock->file != fp || !sk) {
		d->type = OM_FD_OTHER;
		return;
	}
	d->type = OM_FD_SOCKET;
	d->family = sk->__sk_common.skc_family;
	d->protocol = sk->sk_protocol;
	if (st->inet_fd != OM_STDIO_NO_INET || (d->family != AF_INET && d->family != AF_INET6) ||
	    (d->protocol != IPPROTO_TCP && d->protocol != IPPROTO_UDP))
		return;
	st->inet_fd = i;
	st->protocol = d->protocol;
	sk_tuple(sk, st->laddr, st->raddr, &st->lport, &st->rport, &st->family);
}

/*
 * Standard input, output and error of the new image (close-on-exec
 * descriptors are closed before this tracepoint; current is the task): each
 * one's type, and for the first that is a TCP or UDP socket its addresses.
 * Bounded: three descriptors, each a fixed number of loads; a table smaller
 * than three leaves the others closed. Returns whether the record carries
 * them (event.h, struct om_stdio: a socket on stdin, or one that is not
 * AF_UNIX on stdout or stderr). A global function, verified on its own: st
 * may be NULL as far as the verifier knows.
 */
__noinline int om_stdio_read(struct om_stdio *st)
{
	if (!st)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *fds[3] = {};
	struct files_struct *files = task->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	__u32 max = fdt ? fdt->max_fds : 0;
	if (max >= 3) {
		bpf_probe_read_kernel(fds, sizeof(fds), fdt->fd);
	} else {
		/* a table smaller than three (cannot be: NR_OPEN_DEFAULT is larger) */
		for (__u32 i = 0; i < max && i < 3; i++)
			bpf_probe_read_kernel(&fds[i], sizeof(fds[i]), &fdt->fd[i]);
	}
	st->inet_fd = OM_STDIO_NO_INET;
	/* most often two or three of them are one file (a terminal; a service's
	 * output): its type is read once, each read being a cache miss or two */
	stdio_fd(st, 0, fds[0]);
	if (fds[1] == fds[0])
		st->fd[1] = st->fd[0];
	else
		stdio_fd(st, 1, fds[1]);
	if (fds[2] == fds[1])
		st->fd[2] = st->fd[1];
	else if (fds[2] == fds[0])
		st->fd[2] = st->fd[0];
	else
		stdio_fd(st, 2, fds[2]);
	if (st->fd[0].type == OM_FD_SOCKET)
		return 1;
	return (st->fd[1].type == OM_FD_SOCKET && st->fd[1].family != AF_UNIX) ||
	       (st->fd[2].type == OM_FD_SOCKET && st->fd[2].family != AF_UNIX);
}

#endif /* ONMITSU_STDIO_BPF_H */
