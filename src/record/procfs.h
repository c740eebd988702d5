/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading processes that already run, from /proc (the start-up snapshot that
 * becomes EXISTING and MODLOAD records). proc_root is "/proc" in the recorder
 * and a fixture directory in tests.
 */
#ifndef ONMITSU_PROCFS_H
#define ONMITSU_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

struct proc_stat {
	uint32_t pid;
	uint32_t ppid;
	uint64_t start_ticks; /* field 22, clock ticks since boot */
	char state;
	int is_kernel_thread; /* PF_KTHREAD in field 9 */
};

/* Parse the text of /proc/PID/stat. The comm field may hold spaces and
 * parentheses: the last ')' ends it. Returns 0 or -1 when malformed. */
int procfs_parse_stat(const char *text, size_t len, struct proc_stat *out);

/* Parse the "Uid:" line of /proc/PID/status text: real and effective uid.
 * Returns 0 or -1. */
int procfs_parse_status_uid(const char *text, size_t len, uint32_t *uid, uint32_t *euid);

struct proc_info {
	struct proc_stat stat;
	uint32_t uid, euid;
	struct strbuf exe; /* readlink of exe, without the " (deleted)" suffix */
	bool exe_deleted;
	bool exe_memfd;	    /* "/memfd:NAME (deleted)" */
	struct strbuf args; /* /proc/PID/cmdline: NUL-terminated arguments */
	bool args_truncated;
	struct strbuf cgroup; /* the v2 path of /proc/PID/cgroup ("" when none) */
};

void proc_info_init(struct proc_info *pi);
void proc_info_free(struct proc_info *pi);

/* Read one process; args at most args_max bytes (then args_truncated).
 * Returns 0, or -1 with errno set (ENOENT: it exited meanwhile). Kernel
 * threads succeed with an empty exe and args. */
int procfs_read(const char *proc_root, uint32_t pid, size_t args_max, struct proc_info *out);

/* All numeric entries of proc_root, ascending. Caller frees *pids. 0 or -1. */
int procfs_list_pids(const char *proc_root, uint32_t **pids, size_t *n);

struct om_stdio;
/*
 * What the standard descriptors 0-2 of the process whose /proc directory is
 * piddir are, as the kernel reports them at exec (struct om_stdio, the EXEC
 * detail's stdin=, stdout=, stderr=, stdio_*): types by fstat of fd/N, a
 * socket's family, protocol and endpoints from its network namespace's
 * net/tcp, tcp6, udp, udp6 (net/unix for stdin), each read at most
 * PROCFS_NET_MAX bytes. 1 when they are worth a record (as at exec: stdin a
 * socket, or stdout or stderr a network socket), 0 when not.
 */
#define PROCFS_NET_MAX (4u << 20)
/* The inode of one line of /proc/net/unix (its seventh field): 0, or -1 for
 * the header or a malformed line. Bounded by len; outside input. */
int procfs_parse_unix_inode(const char *line, size_t len, uint64_t *ino);
struct ev_net_entry;
/* The TCP and UDP sockets of one network namespace, read once for all the
 * processes in it (a snapshot's processes mostly share one). */
struct procfs_net_cache {
	uint64_t netns;	    /* the inode of ns/net; 0: empty */
	uint64_t loaded_ms; /* when (monotonic): a miss reads it again after a second */
	unsigned loads;	    /* how often the tables were read */
	struct procfs_net_sock *socks;
	size_t n;
};
void procfs_net_cache_free(struct procfs_net_cache *c);
int procfs_read_stdio(int piddir, struct om_stdio *st, struct procfs_net_cache *cache);

/* One executable, file-backed mapping of /proc/PID/maps. */
struct proc_map {
	uint64_t start, end; /* its addresses: /proc/PID/map_files/START-END */
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	const char *path; /* points into the parsed line */
	size_t path_len;
	bool deleted; /* " (deleted)" suffix stripped */
};

/* Parse one line of /proc/PID/maps (without "\n"). Returns 1 when it is an
 * executable mapping of a file (perms has 'x', inode != 0, absolute path),
 * 0 for any other valid line, -1 when malformed. line is modified. */
int procfs_parse_maps_line(char *line, struct proc_map *out);

#endif
