/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading running processes from /proc for the start-up snapshot.
 *
 * Everything here treats /proc text as hostile: a process chooses its comm
 * (prctl PR_SET_NAME: any bytes but NUL, up to 15 of them, so also ')', spaces
 * and newlines), its argv, and the names of the files it maps. Parsers are
 * bounded by the length they are given, never by a NUL they hope to find.
 *
 * One process is read through one directory descriptor of /proc/PID, so that
 * every file comes from the same process: if it exits and its pid is reused
 * between two reads, the later reads fail (ENOENT/ESRCH) instead of quietly
 * describing the new process.
 */
#include "record/procfs.h"

#include "onmitsu/event.h"
#include "record/cgroup.h"
#include "record/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <netinet/in.h>
#include <unistd.h>

#include "util/hex.h"
#include "util/log.h"
#include "util/time.h"

/* task flag of kernel threads (include/linux/sched.h); part of the stable
 * /proc ABI in that field 9 of stat prints task->flags */
#define PF_KTHREAD 0x00200000u

/* stat and status are a few KiB at most; anything near this is not /proc */
#define PROCFS_TEXT_MAX (1u << 20)

/* readlink of exe: PATH_MAX plus " (deleted)", with room to spare */
#define PROCFS_LINK_MAX (2 * PATH_MAX)

#define DELETED_SUFFIX " (deleted)"
#define DELETED_SUFFIX_LEN (sizeof(DELETED_SUFFIX) - 1)
#define MEMFD_PREFIX "/memfd:"

/* ---- parsing helpers over (p, end) ---- */

/* Unsigned decimal at *p, at least one digit, no sign; fails on overflow of
 * max. Advances *p. */
static int parse_udec(const char **p, const char *end, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

/* Unsigned hex at *p (no "0x"), at least one digit, bounded by max. */
static int parse_uhex(const char **p, const char *end, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;
	if (s >= end || hex_digit(*s) < 0)
		return -1;
	while (s < end && (d = hex_digit(*s)) >= 0) {
		if (v > (max - (uint64_t)d) / 16)
			return -1;
		v = v * 16 + (uint64_t)d;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

/* Skips one stat field that we do not use: an optionally negative decimal
 * number (tty_nr, tpgid, priority, nice, cutime, ... may be negative). */
static int skip_sdec(const char **p, const char *end)
{
	uint64_t ignored;
	if (*p < end && **p == '-')
		(*p)++;
	return parse_udec(p, end, UINT64_MAX, &ignored);
}

static int expect_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -1;
	(*p)++;
	return 0;
}

/* ---- stat and status ---- */

int procfs_parse_stat(const char *text, size_t len, struct proc_stat *out)
{
	const char *p = text, *end = text + len;
	uint64_t v;

	if (parse_udec(&p, end, UINT32_MAX, &v) < 0 || v == 0)
		return -1;
	uint32_t pid = (uint32_t)v;
	if (expect_char(&p, end, ' ') < 0 || expect_char(&p, end, '(') < 0)
		return -1;

	/* The comm is whatever lies up to the LAST ')': the fields after it
	 * are numbers and a state letter, so no later ')' can exist, while the
	 * comm itself may hold any number of them. */
	const char *close = NULL;
	for (const char *q = end; q > p; q--) {
		if (q[-1] == ')') {
			close = q - 1;
			break;
		}
	}
	if (!close)
		return -1;
	p = close + 1;

	/* field 3: state, one character */
	if (expect_char(&p, end, ' ') < 0 || p >= end || *p == ' ' || *p == '\n')
		return -1;
	char state = *p++;

	uint32_t ppid = 0, flags = 0;
	uint64_t start = 0;
	/* fields 4 .. 22 */
	for (int field = 4; field <= 22; field++) {
		if (expect_char(&p, end, ' ') < 0)
			return -1;
		switch (field) {
		case 4:
			if (parse_udec(&p, end, UINT32_MAX, &v) < 0)
				return -1;
			ppid = (uint32_t)v;
			break;
		case 9:
			if (parse_udec(&p, end, UINT32_MAX, &v) < 0)
				return -1;
			flags = (uint32_t)v;
			break;
		case 22:
			if (parse_udec(&p, end, UINT64_MAX, &start) < 0)
				return -1;
			break;
		default:
			if (skip_sdec(&p, end) < 0)
				return -1;
			break;
		}
	}
	/* more fields or the end of the line may follow, nothing else */
	if (p < end && *p != ' ' && *p != '\n')
		return -1;

	out->pid = pid;
	out->ppid = ppid;
	out->start_ticks = start;
	out->state = state;
	out->is_kernel_thread = (flags & PF_KTHREAD) != 0;
	return 0;
}

int procfs_parse_status_uid(const char *text, size_t len, uint32_t *uid, uint32_t *euid)
{
	const char *end = text + len;
	const char *line = text;

	/* Only a line that starts with "Uid:" counts. The one field a process
	 * controls, Name, comes earlier, but the kernel escapes newlines in it,
	 * so it cannot start a line of its own. */
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end;
		if (eol - line >= 4 && memcmp(line, "Uid:", 4) == 0) {
			const char *p = line + 4;
			uint64_t ids[2];
			for (int i = 0; i < 2; i++) {
				if (p >= eol || (*p != '\t' && *p != ' '))
					return -1;
				while (p < eol && (*p == '\t' || *p == ' '))
					p++;
				if (parse_udec(&p, eol, UINT32_MAX, &ids[i]) < 0)
					return -1;
			}
			if (p < eol && *p != '\t' && *p != ' ')
				return -1;
			*uid = (uint32_t)ids[0];
			*euid = (uint32_t)ids[1];
			return 0;
		}
		line = nl ? nl + 1 : end;
	}
	return -1;
}

/* ---- reading files of one process ---- */

/* /proc answers ESRCH when the task went away after the open; to callers both
 * mean the same thing: the process exited meanwhile. */
static int gone_errno(int e)
{
	return e == ESRCH ? ENOENT : e;
}

/*
 * Reads name under dirfd into sb (replacing its content), at most max bytes.
 * *truncated (if given) tells whether more was there; without it, a longer
 * file is an error (EFBIG). Returns 0 or -1 with errno set.
 */
static int read_at(int dirfd, const char *name, struct strbuf *sb, size_t max, bool *truncated)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		errno = gone_errno(errno);
		return -1;
	}
	sb_reset(sb);
	bool more = false;
	for (;;) {
		/* read one byte past max, to learn whether the file is longer */
		size_t room = max - sb->len;
		size_t want = room < 65536 ? room + 1 : 65536;
		sb_reserve(sb, want);
		ssize_t r = read(fd, sb->data + sb->len, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = gone_errno(errno);
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		sb->len += (size_t)r;
		if (sb->len > max) {
			more = true;
			sb->len = max;
			break;
		}
	}
	sb->data[sb->len] = '\0';
	close(fd);
	if (truncated)
		*truncated = more;
	else if (more) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

/* readlinkat into sb, growing the buffer until the target fits. */
static int readlink_at(int dirfd, const char *name, struct strbuf *sb)
{
	size_t size = 256;
	for (;;) {
		sb_reset(sb);
		sb_reserve(sb, size);
		ssize_t r = readlinkat(dirfd, name, sb->data, size);
		if (r < 0) {
			errno = gone_errno(errno);
			return -1;
		}
		if ((size_t)r < size) {
			sb->len = (size_t)r;
			sb->data[sb->len] = '\0';
			return 0;
		}
		/* r == size: possibly cut; try again with more room */
		if (size >= PROCFS_LINK_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		size *= 2;
	}
}

void proc_info_init(struct proc_info *pi)
{
	memset(pi, 0, sizeof(*pi));
}

void proc_info_free(struct proc_info *pi)
{
	sb_free(&pi->exe);
	sb_free(&pi->args);
	sb_free(&pi->cgroup);
}

/* No user memory or executable to read: kernel threads, and zombies (and the
 * rarely seen dead state) whose mm is already gone. */
static bool has_no_image(const struct proc_stat *st)
{
	return st->is_kernel_thread || st->state == 'Z' || st->state == 'X' || st->state == 'x';
}

/*
 * Reads exe and cmdline. A process that begins to exit after we read its
 * stat loses its mm first: exe and cmdline then fail with ENOENT or come back
 * empty. That is not an error of ours, and not necessarily "gone" either, so
 * on ENOENT stat is read again to tell a fresh zombie (succeed, empty) from a
 * process that has vanished (ENOENT).
 */
static int read_image(int dirfd, size_t args_max, struct proc_info *out)
{
	if (readlink_at(dirfd, "exe", &out->exe) < 0)
		return -1;
	if (out->exe.len >= DELETED_SUFFIX_LEN &&
	    memcmp(out->exe.data + out->exe.len - DELETED_SUFFIX_LEN, DELETED_SUFFIX,
		   DELETED_SUFFIX_LEN) == 0) {
		/* The kernel marks an unlinked file this way. A file whose real
		 * name ends in " (deleted)" reads the same; /proc cannot tell
		 * them apart, and the kernel-side EXEC record (which checks the
		 * link count) is the authority for processes we see start. */
		out->exe.len -= DELETED_SUFFIX_LEN;
		out->exe.data[out->exe.len] = '\0';
		out->exe_deleted = true;
		/* a memfd is always an unlinked file; both flags are set, as
		 * the kernel side does for an exec of one */
		out->exe_memfd = strncmp(out->exe.data, MEMFD_PREFIX, strlen(MEMFD_PREFIX)) == 0;
	}
	if (read_at(dirfd, "cmdline", &out->args, args_max, &out->args_truncated) < 0)
		return -1;
	return 0;
}

int procfs_read(const char *proc_root, uint32_t pid, size_t args_max, struct proc_info *out)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%u", proc_root, pid);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;

	sb_reset(&out->exe);
	sb_reset(&out->args);
	sb_reset(&out->cgroup);
	out->exe_deleted = out->exe_memfd = out->args_truncated = false;

	struct strbuf text = STRBUF_INIT;
	int err = 0;

	if (read_at(dirfd, "stat", &text, PROCFS_TEXT_MAX, NULL) < 0) {
		err = errno;
		goto done;
	}
	if (procfs_parse_stat(text.data, text.len, &out->stat) < 0) {
		err = EINVAL;
		goto done;
	}
	/* /proc/PID/stat names PID itself; anything else is not this process */
	if (out->stat.pid != pid) {
		err = EINVAL;
		goto done;
	}

	if (read_at(dirfd, "status", &text, PROCFS_TEXT_MAX, NULL) < 0) {
		err = errno;
		goto done;
	}
	if (procfs_parse_status_uid(text.data, text.len, &out->uid, &out->euid) < 0) {
		err = EINVAL;
		goto done;
	}

	/* the v2 cgroup; none on a host with cgroup v1 only */
	const char *cg;
	size_t cg_len;
	if (read_at(dirfd, "cgroup", &text, PROCFS_TEXT_MAX, NULL) == 0 &&
	    cgroup_v2_path(text.data, text.len, &cg, &cg_len) == 0 && cg_len <= OM_PATH_MAX)
		sb_add(&out->cgroup, cg, cg_len);

	if (has_no_image(&out->stat))
		goto done;

	if (read_image(dirfd, args_max, out) < 0) {
		err = errno;
		if (err != ENOENT)
			goto done;
		/* exiting meanwhile: a zombie by now, or gone altogether */
		struct proc_stat again;
		if (read_at(dirfd, "stat", &text, PROCFS_TEXT_MAX, NULL) == 0 &&
		    procfs_parse_stat(text.data, text.len, &again) == 0 && has_no_image(&again)) {
			out->stat = again;
			sb_reset(&out->exe);
			sb_reset(&out->args);
			out->exe_deleted = out->exe_memfd = out->args_truncated = false;
			err = 0;
		}
	}

done:
	sb_free(&text);
	close(dirfd);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ---- listing ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int procfs_list_pids(const char *proc_root, uint32_t **pids, size_t *n)
{
	DIR *d = opendir(proc_root);
	if (!d)
		return -1;

	uint32_t *v = NULL;
	size_t len = 0, cap = 0;
	int err = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			err = errno; /* 0 at the end of the directory */
			break;
		}
		const char *p = de->d_name, *end = p + strlen(p);
		uint64_t pid;
		/* digits only, the whole name, no leading zero: "0012" or
		 * "12ab" is not a process directory */
		if (*p == '0' || parse_udec(&p, end, UINT32_MAX, &pid) < 0 || p != end)
			continue;
		if (len == cap) {
			cap = cap ? 2 * cap : 256;
			uint32_t *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				err = ENOMEM;
				break;
			}
			v = nv;
		}
		v[len++] = (uint32_t)pid;
	}
	if (closedir(d) < 0 && !err)
		err = errno;
	if (err) {
		free(v);
		errno = err;
		return -1;
	}
	/* readdir order of /proc is by pid today, but that is not promised */
	if (len)
		qsort(v, len, sizeof(*v), cmp_u32);
	*pids = v;
	*n = len;
	return 0;
}

/* ---- maps ---- */

int procfs_parse_maps_line(char *line, struct proc_map *out)
{
	size_t len = strlen(line);
	/* tolerate the newline of a line read with getline(); a path in maps
	 * cannot hold one (the kernel writes it as "\012") */
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	const char *p = line, *end = line + len;
	uint64_t start, stop, offset, major, minor, ino;

	if (parse_uhex(&p, end, UINT64_MAX, &start) < 0 || expect_char(&p, end, '-') < 0 ||
	    parse_uhex(&p, end, UINT64_MAX, &stop) < 0 || expect_char(&p, end, ' ') < 0)
		return -1;
	if (stop < start)
		return -1;

	/* perms: exactly [r-][w-][x-][ps] */
	if (end - p < 4)
		return -1;
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's'))
		return -1;
	bool exec = p[2] == 'x';
	p += 4;

	if (expect_char(&p, end, ' ') < 0 || parse_uhex(&p, end, UINT64_MAX, &offset) < 0 ||
	    expect_char(&p, end, ' ') < 0 || parse_uhex(&p, end, UINT32_MAX, &major) < 0 ||
	    expect_char(&p, end, ':') < 0 || parse_uhex(&p, end, UINT32_MAX, &minor) < 0 ||
	    expect_char(&p, end, ' ') < 0 || parse_udec(&p, end, UINT64_MAX, &ino) < 0)
		return -1;

	/* then nothing, or the kernel's padding spaces and the name, which
	 * runs to the end of the line (spaces included) */
	if (p < end && *p != ' ')
		return -1;
	while (p < end && *p == ' ')
		p++;

	char *path = line + (p - line);
	size_t path_len = (size_t)(end - p);
	bool deleted = false;
	if (path_len >= DELETED_SUFFIX_LEN &&
	    memcmp(path + path_len - DELETED_SUFFIX_LEN, DELETED_SUFFIX, DELETED_SUFFIX_LEN) == 0) {
		path_len -= DELETED_SUFFIX_LEN;
		path[path_len] = '\0';
		deleted = true;
	}

	out->start = start;
	out->end = stop;
	out->dev_major = (uint32_t)major;
	out->dev_minor = (uint32_t)minor;
	out->ino = ino;
	out->path = path;
	out->path_len = path_len;
	out->deleted = deleted;

	return exec && ino != 0 && path_len > 0 && path[0] == '/' ? 1 : 0;
}

/* ------------------------------------------------ standard descriptors */

struct procfs_net_sock {
	struct ev_net_entry e;
	int proto;
};

void procfs_net_cache_free(struct procfs_net_cache *c)
{
	free(c->socks);
	memset(c, 0, sizeof(*c));
}

static int cmp_sock(const void *a, const void *b)
{
	uint64_t x = ((const struct procfs_net_sock *)a)->e.inode;
	uint64_t y = ((const struct procfs_net_sock *)b)->e.inode;
	return x < y ? -1 : x > y;
}

/* the namespace's TCP and UDP tables into c, sorted by inode */
static void net_load(int piddir, uint64_t netns, struct procfs_net_cache *c, struct strbuf *sb)
{
	static const struct {
		const char *name;
		int proto;
	} tables[] = {{"net/tcp", IPPROTO_TCP},
		      {"net/tcp6", IPPROTO_TCP},
		      {"net/udp", IPPROTO_UDP},
		      {"net/udp6", IPPROTO_UDP}};
	unsigned loads = c->loads;
	procfs_net_cache_free(c);
	c->loads = loads;
	size_t cap = 0;
	for (size_t k = 0; k < sizeof(tables) / sizeof(tables[0]); k++) {
		bool cut;
		if (read_at(piddir, tables[k].name, sb, PROCFS_NET_MAX, &cut) != 0)
			continue;
		for (size_t off = 0; off < sb->len;) {
			const char *l = sb->data + off;
			const char *nl = memchr(l, '\n', sb->len - off);
			size_t ll = nl ? (size_t)(nl - l) : sb->len - off;
			off += ll + 1;
			struct ev_net_entry e;
			if (ev_parse_net_entry(l, ll, &e) != 1 || !e.inode)
				continue;
			if (c->n == cap) {
				cap = cap ? cap * 2 : 256;
				struct procfs_net_sock *n2 = realloc(c->socks, cap * sizeof(*n2));
				if (!n2)
					fatal("out of memory reading %s", tables[k].name);
				c->socks = n2;
			}
			c->socks[c->n].e = e;
			c->socks[c->n].proto = tables[k].proto;
			c->n++;
		}
	}
	if (c->n)
		qsort(c->socks, c->n, sizeof(*c->socks), cmp_sock);
	c->netns = netns;
	c->loaded_ms = now_mono_ms();
	c->loads++;
}

/* the socket whose inode is ino in the process's TCP and UDP tables */
static bool net_find(int piddir, uint64_t ino, struct ev_net_entry *e, int *proto,
		     struct procfs_net_cache *c, struct strbuf *sb)
{
	struct stat ns;
	uint64_t netns = fstatat(piddir, "ns/net", &ns, 0) == 0 ? (uint64_t)ns.st_ino : 0;
	if (!netns || c->netns != netns)
		net_load(piddir, netns, c, sb);
	struct procfs_net_sock key = {.e.inode = ino};
	const struct procfs_net_sock *f =
	    c->n ? bsearch(&key, c->socks, c->n, sizeof(*c->socks), cmp_sock) : NULL;
	if (!f && now_mono_ms() - c->loaded_ms >= 1000) {
		/* a socket made since the tables were read */
		net_load(piddir, netns, c, sb);
		f = c->n ? bsearch(&key, c->socks, c->n, sizeof(*c->socks), cmp_sock) : NULL;
	}
	if (!f)
		return false;
	*e = f->e;
	*proto = f->proto;
	return true;
}

int procfs_parse_unix_inode(const char *line, size_t len, uint64_t *ino)
{
	const char *p = line, *end = line + len;
	/* the seventh field: "Num: RefCount Protocol Flags Type St Inode [Path]" */
	for (int f = 0; f < 6; f++) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return -1;
		while (p < end && *p != ' ')
			p++;
	}
	while (p < end && *p == ' ')
		p++;
	uint64_t v;
	if (parse_udec(&p, end, UINT64_MAX, &v) != 0 || (p != end && *p != ' '))
		return -1;
	*ino = v;
	return 0;
}

/* the socket whose inode is ino in net/unix */
static bool unix_find(int piddir, uint64_t ino, struct strbuf *sb)
{
	bool cut;
	if (read_at(piddir, "net/unix", sb, PROCFS_NET_MAX, &cut) != 0)
		return false;
	for (size_t off = 0; off < sb->len;) {
		const char *l = sb->data + off;
		const char *nl = memchr(l, '\n', sb->len - off);
		size_t ll = nl ? (size_t)(nl - l) : sb->len - off;
		off += ll + 1;
		uint64_t v;
		if (procfs_parse_unix_inode(l, ll, &v) == 0 && v == ino)
			return true;
	}
	return false;
}

/* tty majors: include/uapi/linux/major.h (TTY, TTYAUX, UNIX98 pty slaves) */
static bool is_tty(dev_t rdev)
{
	unsigned m = major(rdev);
	return m == 4 || m == 5 || (m >= 136 && m < 144);
}

int procfs_read_stdio(int piddir, struct om_stdio *st, struct procfs_net_cache *cache)
{
	memset(st, 0, sizeof(*st));
	st->inet_fd = OM_STDIO_NO_INET;
	uint64_t ino[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		char name[8] = {'f', 'd', '/', (char)('0' + i), '\0'};
		struct stat sb;
		struct om_stdio_fd *d = &st->fd[i];
		/* the magic link: stat follows it to the open file */
		if (fstatat(piddir, name, &sb, 0) != 0) {
			d->type = errno == ENOENT ? OM_FD_CLOSED : OM_FD_OTHER;
			continue;
		}
		switch (sb.st_mode & S_IFMT) {
		case S_IFREG:
			d->type = OM_FD_FILE;
			break;
		case S_IFDIR:
			d->type = OM_FD_DIR;
			break;
		case S_IFIFO:
			d->type = OM_FD_PIPE;
			break;
		case S_IFBLK:
			d->type = OM_FD_BLOCK;
			break;
		case S_IFCHR:
			d->type = is_tty(sb.st_rdev) ? OM_FD_TTY : OM_FD_CHAR;
			break;
		case S_IFSOCK:
			d->type = OM_FD_SOCKET;
			ino[i] = sb.st_ino;
			break;
		default:
			d->type = OM_FD_OTHER;
		}
	}
	if (!ino[0] && !ino[1] && !ino[2])
		return 0;
	struct strbuf buf = STRBUF_INIT;
	bool worth = false;
	for (int i = 0; i < 3; i++) {
		if (!ino[i])
			continue;
		struct om_stdio_fd *d = &st->fd[i];
		int j;
		for (j = 0; j < i; j++)
			if (ino[j] == ino[i])
				break;
		if (j < i) { /* the same socket as an earlier one */
			*d = st->fd[j];
		} else {
			struct ev_net_entry e;
			int proto;
			if (net_find(piddir, ino[i], &e, &proto, cache, &buf)) {
				d->family = (uint8_t)e.family;
				d->protocol = (uint16_t)proto;
				if (st->inet_fd == OM_STDIO_NO_INET) {
					st->inet_fd = (uint8_t)i;
					st->family = (uint8_t)e.family;
					st->protocol = (uint16_t)proto;
					memcpy(st->laddr, e.laddr, 16);
					memcpy(st->raddr, e.raddr, 16);
					st->lport = e.lport;
					st->rport = e.rport;
				}
			} else if (i == 0 && unix_find(piddir, ino[i], &buf)) {
				d->family = AF_UNIX;
			}
			/* else: another family, or not in the tables (unix on
			 * stdout or stderr is not looked up: never worth a record) */
		}
		if (i == 0 || (d->family != 0 && d->family != AF_UNIX))
			worth = true;
	}
	/* worth a record: name the unix sockets among the others too */
	for (int i = 1; worth && i < 3; i++)
		if (ino[i] && st->fd[i].family == 0 && unix_find(piddir, ino[i], &buf))
			st->fd[i].family = AF_UNIX;
	sb_free(&buf);
	return worth;
}
