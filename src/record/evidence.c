/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/evidence.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <openssl/evp.h>

#include "log/record.h"
#include "record/consumer.h"
#include "record/procfs.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/privs.h"
#include "util/safefile.h"
#include "util/strbuf.h"
#include "util/time.h"

static const char *const rule_names[EV_RULE_COUNT] = {
    [EV_RULE_SUSPICIOUS_NET] = "suspicious-exe-net",
    [EV_RULE_INJECT] = "inject",
    [EV_RULE_REVERSE_SHELL] = "reverse-shell",
};

const char *ev_rule_name(enum ev_rule r)
{
	return (unsigned)r < EV_RULE_COUNT ? rule_names[r] : "?";
}

int ev_rules_parse(const char *s, unsigned *rules)
{
	*rules = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	const char *p = s;
	for (;;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m && p[m - 1] == ' ')
			m--;
		int found = -1;
		for (int i = 0; i < EV_RULE_COUNT; i++)
			if (strlen(rule_names[i]) == m && memcmp(p, rule_names[i], m) == 0)
				found = i;
		if (found < 0)
			return -1;
		*rules |= 1u << found;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

bool ev_exe_suspicious(uint32_t flags, const char *exe, size_t exe_len)
{
	if (flags & (OM_F_DELETED | OM_F_MEMFD))
		return true;
	if (exe_len < 5 || !exe)
		return false;
	return (exe_len > 5 && memcmp(exe, "/tmp/", 5) == 0) ||
	       (exe_len > 9 && memcmp(exe, "/var/tmp/", 9) == 0) ||
	       (exe_len > 9 && memcmp(exe, "/dev/shm/", 9) == 0);
}

bool ev_exec_reverse_shell(const char *detail)
{
	if (!detail)
		return false;
	/* stdin=, stdout=, stderr= (docs/FORMAT.md, "Standard descriptors at
	 * exec"): a network socket, not a Unix one (local plumbing) */
	static const char *const keys[] = {"stdin=", "stdout=", "stderr="};
	static const char *const nets[] = {"tcp", "udp", "socket"};
	for (const char *p = detail; *p;) {
		size_t n = strcspn(p, " ");
		for (size_t k = 0; k < 3; k++) {
			size_t kl = strlen(keys[k]);
			if (n <= kl || memcmp(p, keys[k], kl) != 0)
				continue;
			for (size_t v = 0; v < 3; v++)
				if (n - kl == strlen(nets[v]) &&
				    memcmp(p + kl, nets[v], n - kl) == 0)
					return true;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* ------------------------------------------------------------ /proc/net */

static const char *const tcp_states[] = {
    "?",	 "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
    "TIME_WAIT", "CLOSE",	"CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",
};

/* "HEX:PORT" (8 or 32 hex digits of address, as the kernel prints them:
 * 32-bit words in host order) into addr (network order) and port; *alen 4
 * or 16 */
static bool parse_endpoint(const char *s, size_t n, uint8_t addr[16], size_t *alen,
			   uint16_t *port_out)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return false;
	size_t an = (size_t)(colon - s), pn = n - an - 1;
	if ((an != 8 && an != 32) || pn != 4)
		return false;
	memset(addr, 0, 16);
	for (size_t w = 0; w < an / 8; w++) {
		uint32_t v = 0;
		for (size_t k = 0; k < 8; k++) {
			int h = hex_digit(s[w * 8 + k]);
			if (h < 0)
				return false;
			v = v << 4 | (uint32_t)h;
		}
		memcpy(addr + w * 4, &v, 4); /* host order, as the kernel wrote the word */
	}
	unsigned port = 0;
	for (size_t k = 0; k < 4; k++) {
		int h = hex_digit(colon[1 + k]);
		if (h < 0)
			return false;
		port = port << 4 | (unsigned)h;
	}
	*alen = an / 2;
	*port_out = (uint16_t)port;
	return true;
}

static bool format_endpoint(const uint8_t *addr, size_t alen, uint16_t port, char *out,
			    size_t outsize)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(alen == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a)))
		return false;
	snprintf(out, outsize, alen == 4 ? "%s:%u" : "[%s]:%u", a, port);
	return true;
}

int ev_parse_net_entry(const char *line, size_t len, struct ev_net_entry *e)
{
	const char *tok[10];
	size_t tl[10];
	int n = 0;
	for (size_t i = 0; i < len && n < 10;) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		size_t s = i;
		while (i < len && line[i] != ' ')
			i++;
		tok[n] = line + s;
		tl[n] = i - s;
		n++;
	}
	if (n >= 1 && tl[0] == 2 && memcmp(tok[0], "sl", 2) == 0)
		return 0;
	if (n < 10 || tl[0] < 2 || tok[0][tl[0] - 1] != ':' || tl[3] != 2)
		return -1;
	size_t ll, rl;
	if (!parse_endpoint(tok[1], tl[1], e->laddr, &ll, &e->lport) ||
	    !parse_endpoint(tok[2], tl[2], e->raddr, &rl, &e->rport) || ll != rl)
		return -1;
	e->family = ll == 4 ? AF_INET : AF_INET6;
	int h1 = hex_digit(tok[3][0]), h2 = hex_digit(tok[3][1]);
	if (h1 < 0 || h2 < 0)
		return -1;
	e->state = (unsigned)(h1 * 16 + h2);
	uint64_t ino = 0;
	if (tl[9] == 0 || tl[9] > 19)
		return -1;
	for (size_t k = 0; k < tl[9]; k++) {
		if (tok[9][k] < '0' || tok[9][k] > '9')
			return -1;
		ino = ino * 10 + (uint64_t)(tok[9][k] - '0');
	}
	e->inode = ino;
	return 1;
}

int ev_parse_net_line(const char *line, size_t len, uint64_t *inode, char *out, size_t outsize)
{
	struct ev_net_entry e;
	int r = ev_parse_net_entry(line, len, &e);
	if (r != 1)
		return r;
	char local[64], remote[64];
	size_t alen = e.family == AF_INET ? 4 : 16;
	if (!format_endpoint(e.laddr, alen, e.lport, local, sizeof(local)) ||
	    !format_endpoint(e.raddr, alen, e.rport, remote, sizeof(remote)))
		return -1;
	*inode = e.inode;
	if (e.state < sizeof(tcp_states) / sizeof(tcp_states[0]))
		snprintf(out, outsize, "%s %s %s", local, remote, tcp_states[e.state]);
	else
		snprintf(out, outsize, "%s %s %02X", local, remote, e.state);
	return 1;
}

/* ------------------------------------------------------------ what is read */

enum ev_item { I_MAPS, I_STATUS, I_CMDLINE, I_ENVIRON, I_FDS, I_CWD, I_CGROUP, I_NS, I_COUNT };
static const char *const item_names[I_COUNT] = {
    [I_MAPS] = "maps", [I_STATUS] = "status", [I_CMDLINE] = "cmdline", [I_ENVIRON] = "environ",
    [I_FDS] = "fds",   [I_CWD] = "cwd",	      [I_CGROUP] = "cgroup",   [I_NS] = "ns",
};

struct ev_text {
	bool ok;
	bool cut;	 /* longer than EV_TEXT_MAX: the rest not kept */
	const char *why; /* !ok: the reason */
	struct strbuf sb;
};

/* What one reading of a process found (the snapshot at exec, or at fire). */
struct ev_reading {
	bool valid;	 /* the process was there (start time checked) */
	const char *why; /* !valid: exited, reused */
	struct ev_text t[I_COUNT];
	int exe_fd;
	struct stat exe_st;
	const char *exe_why; /* exe_fd < 0: why */
	int map_fd[EV_MAPS_MAX];
	struct stat map_st[EV_MAPS_MAX];
	char map_what[EV_MAPS_MAX][48];
	int nmaps;
};

static void reading_init(struct ev_reading *r)
{
	memset(r, 0, sizeof(*r));
	r->exe_fd = -1;
	for (int i = 0; i < I_COUNT; i++)
		r->t[i].sb = (struct strbuf)STRBUF_INIT;
}

/* the memory a reading holds */
static size_t reading_bytes(const struct ev_reading *r)
{
	size_t n = 0;
	for (int i = 0; i < I_COUNT; i++)
		n += r->t[i].sb.cap;
	return n;
}

static void reading_free(struct ev_reading *r)
{
	for (int i = 0; i < I_COUNT; i++)
		sb_free(&r->t[i].sb);
	if (r->exe_fd >= 0)
		close(r->exe_fd);
	for (int i = 0; i < r->nmaps; i++)
		close(r->map_fd[i]);
	reading_init(r);
}

struct ev_job {
	bool fire;
	enum ev_rule rule;
	uint32_t pid;
	uint64_t start_ticks;
	char guid[GUID_STR_LEN];
	int64_t uid;
	char trigger[48];
	bool have_id;
	struct om_file_id id;
	uint64_t gen;
	int64_t event_unix_ns;
	char *path; /* NUL-terminated, or NULL */
	struct ev_job *next;
};

struct ev_snapshot {
	bool used;
	char guid[GUID_STR_LEN];
	uint64_t taken_ms; /* CLOCK_MONOTONIC */
	struct ev_reading r;
};

/* What a fired rule kept, for its EVIDENCE record. */
struct ev_done {
	enum ev_rule rule;
	uint32_t pid;
	char guid[GUID_STR_LEN];
	int64_t uid;
	char trigger[48];
	const char *result; /* kept, partial, skipped */
	char path[EVIDENCE_DIRNAME_MAX + 16];
	char sha[65];
	unsigned files;
	uint64_t bytes;
	unsigned redacted;
	const char *source;	/* live, snapshot, both */
	struct strbuf not_kept; /* "what:reason,..." */
	struct ev_done *next;
};

struct evidence {
	struct evidence_opts o;
	char proc_root[256];
	int evfd, filesfd; /* evidence/, evidence/files/ */
	/* two workers: one takes snapshots (fast: their processes may be about
	 * to exit), one keeps the evidence of rules fired (copies, fsyncs) */
	pthread_t threads[2];
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	bool stop;
	struct ev_queue {
		struct ev_job *head, **tail;
		size_t n;
		bool busy; /* its worker is at a job */
	} q[2];		   /* Q_SNAP, Q_FIRE */
	struct ev_done *done, **done_tail;
	struct ev_snapshot snaps[EV_SNAPSHOTS_MAX];
	struct ev_budget budget;
	uint64_t budget_counted_ms; /* when the disk was last counted for it */
	struct evidence_stats stats;
	/* the processes kept (the consumer's): a ring of guids */
	char fired[EV_FIRED_MAX][GUID_STR_LEN];
	size_t nfired;
	uint8_t *buf; /* 1 MiB, the worker's */
};

/* ------------------------------------------------------------ reading /proc */

/* read name in dirfd into t, at most max bytes (then cut) */
static void read_text(int dirfd, const char *name, size_t max, struct ev_text *t)
{
	sb_reset(&t->sb);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		t->why = errno == ENOENT || errno == ESRCH ? "exited" : "unreadable";
		return;
	}
	for (;;) {
		sb_reserve(&t->sb, 65536);
		size_t room = max + 1 - t->sb.len;
		ssize_t n = read(fd, t->sb.data + t->sb.len, room < 65536 ? room : 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			t->why = errno == ESRCH ? "exited" : "unreadable";
			close(fd);
			return;
		}
		if (n == 0)
			break;
		t->sb.len += (size_t)n;
		if (t->sb.len > max) {
			t->sb.len = max;
			t->cut = true;
			break;
		}
	}
	close(fd);
	t->ok = true;
}

static bool start_ticks_of(int dirfd, uint64_t *ticks)
{
	struct ev_text t = {.sb = STRBUF_INIT};
	read_text(dirfd, "stat", 4096, &t);
	struct proc_stat st;
	bool ok = t.ok && procfs_parse_stat(t.sb.data, t.sb.len, &st) == 0;
	if (ok)
		*ticks = st.start_ticks;
	sb_free(&t.sb);
	return ok;
}

static void readlink_line(int dirfd, const char *name, struct strbuf *out)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0)
		n = 0;
	sb_add(out, target, (size_t)n);
}

/* the sockets of the process, by inode, from its network namespace's tables */
static void socket_lines(int dirfd, const uint64_t *inodes, size_t n, struct strbuf *out)
{
	static const char *const tables[] = {"net/tcp", "net/tcp6", "net/udp", "net/udp6"};
	for (size_t k = 0; k < 4 && n; k++) {
		struct ev_text t = {.sb = STRBUF_INIT};
		read_text(dirfd, tables[k], EV_NET_FILE_MAX, &t);
		for (size_t off = 0; t.ok && off < t.sb.len;) {
			const char *l = t.sb.data + off;
			const char *nl = memchr(l, '\n', t.sb.len - off);
			size_t ll = nl ? (size_t)(nl - l) : t.sb.len - off;
			off += ll + 1;
			uint64_t ino;
			char text[192];
			if (ev_parse_net_line(l, ll, &ino, text, sizeof(text)) != 1 || !ino)
				continue;
			for (size_t i = 0; i < n; i++)
				if (inodes[i] == ino) {
					sb_addf(out, "socket:[%" PRIu64 "] %s %s\n", ino,
						tables[k] + 4, text);
					break;
				}
		}
		sb_free(&t.sb);
	}
}

/* fds: "FD TARGET" a line, then the sockets found in /proc/net */
static void read_fds(int procfd, struct ev_text *t)
{
	DIR *d = dir_list_at(procfd, "fd");
	if (!d) {
		t->why = errno == ENOENT || errno == ESRCH ? "exited" : "unreadable";
		return;
	}
	uint64_t inodes[EV_FDS_MAX];
	size_t ninodes = 0, nfds = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (nfds++ == EV_FDS_MAX) {
			t->cut = true;
			break;
		}
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		sb_addf(&t->sb, "%s ", de->d_name);
		sb_add(&t->sb, target, (size_t)n);
		sb_addc(&t->sb, '\n');
		unsigned long long ino;
		if (sscanf(target, "socket:[%llu]", &ino) == 1 && ninodes < EV_FDS_MAX)
			inodes[ninodes++] = ino;
	}
	closedir(d);
	socket_lines(procfd, inodes, ninodes, &t->sb);
	t->ok = true;
}

static void read_ns(int dirfd, struct ev_text *t)
{
	static const char *const ns[] = {
	    "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
	    "user",   "uts"};
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char p[64];
		snprintf(p, sizeof(p), "ns/%s", ns[i]);
		sb_addf(&t->sb, "%s ", ns[i]);
		readlink_line(dirfd, p, &t->sb);
		sb_addc(&t->sb, '\n');
	}
	t->ok = true;
}

/* executable mappings of deleted or memfd files: their map_files, held */
static void open_maps(struct evidence *ev, uint32_t pid, struct ev_reading *r)
{
	const struct ev_text *mt = &r->t[I_MAPS];
	if (!mt->ok)
		return;
	char line[4096 + 256];
	for (size_t off = 0; off < mt->sb.len && r->nmaps < EV_MAPS_MAX;) {
		const char *l = mt->sb.data + off;
		const char *nl = memchr(l, '\n', mt->sb.len - off);
		size_t ll = nl ? (size_t)(nl - l) : mt->sb.len - off;
		off += ll + 1;
		if (ll >= sizeof(line))
			continue;
		memcpy(line, l, ll);
		line[ll] = '\0';
		struct proc_map m;
		if (procfs_parse_maps_line(line, &m) != 1)
			continue;
		bool memfd = m.path_len > 7 && memcmp(m.path, "/memfd:", 7) == 0;
		if (!m.deleted && !memfd)
			continue;
		bool seen = false;
		for (int i = 0; i < r->nmaps && !seen; i++)
			seen = (uint64_t)r->map_st[i].st_ino == m.ino;
		if (seen)
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64,
			 ev->proc_root, pid, m.start, m.end);
		int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != m.ino) {
			close(fd);
			continue;
		}
		r->map_fd[r->nmaps] = fd;
		r->map_st[r->nmaps] = st;
		snprintf(r->map_what[r->nmaps], sizeof(r->map_what[0]), "map:%" PRIx64 "-%" PRIx64,
			 m.start, m.end);
		r->nmaps++;
	}
}

/*
 * Read what /proc shows of the process (pid, start_ticks) now, into r,
 * between two checks of its start time through one directory descriptor.
 * job: its exe's identity, to open it as the hasher proves it (or NULL).
 */
static void read_process(struct evidence *ev, const struct ev_job *job, struct ev_reading *r)
{
	reading_init(r);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%" PRIu32, ev->proc_root, job->pid);
	int dirfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	uint64_t ticks = 0;
	if (dirfd < 0 || !start_ticks_of(dirfd, &ticks)) {
		r->why = "exited";
		if (dirfd >= 0)
			close(dirfd);
		return;
	}
	if (ticks != job->start_ticks) {
		r->why = "exited"; /* the pid is another process's now */
		close(dirfd);
		return;
	}
	/* the exe first: it pins the file even if the process exits next */
	if (job->have_id) {
		struct hash_req q = {
		    .kind = HASH_REQ_EXEC,
		    .pid = job->pid,
		    .gen = job->gen,
		    .id = job->id,
		    .event_unix_ns = job->event_unix_ns,
		    .path = job->path,
		    .path_len = job->path ? strlen(job->path) : 0,
		    .fd = -1,
		};
		enum hash_err err = exec_file_open(&ev->o.exec, &q, &r->exe_fd, &r->exe_st);
		if (err != HASH_OK) {
			r->exe_fd = -1;
			r->exe_why = hash_err_name(err);
		}
	} else {
		r->exe_fd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (r->exe_fd < 0) {
			r->exe_why = errno == ENOENT || errno == ESRCH ? "exited" : "unreadable";
		} else if (fstat(r->exe_fd, &r->exe_st) != 0 || !S_ISREG(r->exe_st.st_mode)) {
			close(r->exe_fd);
			r->exe_fd = -1;
			r->exe_why = "not_regular";
		}
	}
	read_text(dirfd, "maps", EV_TEXT_MAX, &r->t[I_MAPS]);
	read_text(dirfd, "status", EV_TEXT_MAX, &r->t[I_STATUS]);
	read_text(dirfd, "cmdline", EV_TEXT_MAX, &r->t[I_CMDLINE]);
	read_text(dirfd, "environ", EV_TEXT_MAX, &r->t[I_ENVIRON]);
	read_text(dirfd, "cgroup", EV_TEXT_MAX, &r->t[I_CGROUP]);
	read_fds(dirfd, &r->t[I_FDS]);
	struct ev_text *cwd = &r->t[I_CWD];
	readlink_line(dirfd, "cwd", &cwd->sb);
	cwd->ok = cwd->sb.len > 0;
	cwd->why = "exited";
	if (cwd->ok)
		sb_addc(&cwd->sb, '\n');
	read_ns(dirfd, &r->t[I_NS]);
	open_maps(ev, job->pid, r);
	/* the second check: still that process (or gone: what was read was its) */
	if (start_ticks_of(dirfd, &ticks) && ticks != job->start_ticks) {
		close(dirfd);
		reading_free(r);
		r->why = "exited";
		return;
	}
	close(dirfd);
	/* a /proc file of a process gone reads empty: not kept as evidence */
	for (int i = 0; i < I_COUNT; i++)
		if (r->t[i].ok && r->t[i].sb.len == 0 && i != I_ENVIRON && i != I_FDS) {
			r->t[i].ok = false;
			r->t[i].why = "exited";
		}
	r->valid = true;
}

/* ------------------------------------------------------------ writing */

struct writing {
	struct evidence *ev;
	int dfd;
	struct ev_manifest *m;
	struct ev_done *d;
};

static void not_kept(struct writing *w, const char *what, const char *reason)
{
	struct ev_manifest *m = w->m;
	if (m->n < EVIDENCE_ENTRIES_MAX) {
		struct ev_entry *e = &m->e[m->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->what, sizeof(e->what), "%s", what);
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
	}
	sb_addf(&w->d->not_kept, "%s%s:%s", w->d->not_kept.len ? "," : "", what, reason);
}

static void kept(struct writing *w, const char *name, uint64_t size, const char *sha,
		 const char *what)
{
	struct ev_manifest *m = w->m;
	if (m->n >= EVIDENCE_ENTRIES_MAX)
		return;
	struct ev_entry *e = &m->e[m->n++];
	memset(e, 0, sizeof(*e));
	e->kept = true;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->size = size;
	memcpy(e->sha, sha, 65);
	snprintf(e->what, sizeof(e->what), "%s", what);
	w->d->files++;
	w->d->bytes += size;
}

static void sha_hex_of(const void *p, size_t n, char out[65])
{
	uint8_t sha[32];
	unsigned int len = 0;
	EVP_Digest(p, n, sha, &len, EVP_sha256(), NULL);
	hex_encode(out, sha, 32);
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* a new file name in dirfd holding data; 0 or -1 */
static int write_new(int dirfd, const char *name, const void *data, size_t len)
{
	char err[256];
	int fd = create_fresh(dirfd, name, O_WRONLY, 0600, err, sizeof(err));
	if (fd < 0)
		return -1;
	int rc = write_all(fd, data, len) == 0 && fsync(fd) == 0 ? 0 : -1;
	close(fd);
	if (rc != 0)
		unlinkat(dirfd, name, 0);
	return rc;
}

static void keep_text(struct writing *w, const char *name, const char *data, size_t len)
{
	if (!ev_budget_take(&w->ev->budget, len)) {
		not_kept(w, name, "cap");
		return;
	}
	if (write_new(w->dfd, name, data, len) != 0) {
		w->ev->budget.used -= len;
		not_kept(w, name, "write_failed");
		return;
	}
	w->ev->stats.bytes += len;
	char sha[65];
	sha_hex_of(data, len, sha);
	kept(w, name, len, sha, name);
}

/* SHA-256 of fd's content (st: its fstat when opened), unchanged while read */
static int hash_fd(struct evidence *ev, int fd, const struct stat *st, char sha_hex[65], int outfd,
		   EVP_MD_CTX *md)
{
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		return -1;
	uint64_t off = 0;
	for (;;) {
		ssize_t n = pread(fd, ev->buf, 1u << 20, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		off += (uint64_t)n;
		if (off > (uint64_t)st->st_size)
			return -1;
		EVP_DigestUpdate(md, ev->buf, (size_t)n);
		if (outfd >= 0 && write_all(outfd, ev->buf, (size_t)n) != 0)
			return -1;
	}
	struct stat now;
	if (off != (uint64_t)st->st_size || fstat(fd, &now) != 0 || !stat_unchanged(st, &now))
		return -1;
	uint8_t sha[32];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(md, sha, &len) != 1 || len != 32)
		return -1;
	hex_encode(sha_hex, sha, 32);
	return 0;
}

static uint64_t disk_used(int evfd);
static uint64_t mono_ms(void);

/* a file (the exe, a mapping) into evidence/files/SHA256 */
static void keep_content(struct writing *w, int fd, const struct stat *st, const char *what)
{
	struct evidence *ev = w->ev;
	uint64_t size = (uint64_t)st->st_size;
	if (size > ev->o.exe_max) {
		not_kept(w, what, "too_big");
		return;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char sha[65], sha2[65], name[80];
	if (!md || hash_fd(ev, fd, st, sha, -1, md) != 0) {
		EVP_MD_CTX_free(md);
		not_kept(w, what, "changed");
		return;
	}
	snprintf(name, sizeof(name), EVIDENCE_FILES "/%s", sha);
	struct stat have;
	/* kept before (content-addressed): one copy serves every manifest. Its
	 * time is refreshed under the store's lock, so that retention, which
	 * removes only old files no manifest names, leaves it to this one. */
	ev_store_lock();
	bool reuse = fstatat(ev->filesfd, sha, &have, AT_SYMLINK_NOFOLLOW) == 0 &&
		     S_ISREG(have.st_mode) && (uint64_t)have.st_size == size &&
		     utimensat(ev->filesfd, sha, NULL, AT_SYMLINK_NOFOLLOW) == 0;
	ev_store_unlock();
	if (reuse) {
		EVP_MD_CTX_free(md);
		kept(w, name, size, sha, what);
		return;
	}
	if (!ev_budget_take(&ev->budget, size)) {
		EVP_MD_CTX_free(md);
		not_kept(w, what, "cap");
		return;
	}
	static const char tmp[] = ".partial";
	char err[256];
	int out = create_fresh(ev->filesfd, tmp, O_WRONLY, 0600, err, sizeof(err));
	bool ok = out >= 0 && hash_fd(ev, fd, st, sha2, out, md) == 0 && strcmp(sha, sha2) == 0 &&
		  fsync(out) == 0;
	if (out >= 0)
		close(out);
	EVP_MD_CTX_free(md);
	if (!ok || renameat(ev->filesfd, tmp, ev->filesfd, sha) != 0) {
		if (out >= 0)
			unlinkat(ev->filesfd, tmp, 0);
		ev->budget.used -= size;
		not_kept(w, what, out < 0 ? "write_failed" : "changed");
		return;
	}
	ev->stats.bytes += size;
	kept(w, name, size, sha, what);
}

/* evidence/GUID (or GUID.1 .. GUID.9), made and opened; -1 when none can be */
static int make_dir(struct evidence *ev, const char *guid, char *name, size_t size)
{
	for (int i = 0; i < 10; i++) {
		if (i)
			snprintf(name, size, "%s.%d", guid, i);
		else
			snprintf(name, size, "%s", guid);
		if (mkdirat(ev->evfd, name, 0700) != 0) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		return openat(ev->evfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	errno = EEXIST;
	return -1;
}

static const struct ev_text *pick(const struct ev_reading *live, const struct ev_reading *snap,
				  int i, bool *from_snap)
{
	*from_snap = false;
	if (live->valid && live->t[i].ok)
		return &live->t[i];
	if (snap && snap->valid && snap->t[i].ok) {
		*from_snap = true;
		return &snap->t[i];
	}
	return live->valid ? &live->t[i] : NULL;
}

/* Keep the evidence of a fired rule: live reading, snapshot (or NULL). */
static void write_evidence(struct evidence *ev, const struct ev_job *job,
			   const struct ev_reading *live, const struct ev_reading *snap,
			   struct ev_done *d)
{
	struct ev_manifest *m = calloc(1, sizeof(*m));
	if (!m)
		fatal("out of memory");
	m->pid = job->pid;
	m->start_ticks = job->start_ticks;
	snprintf(m->guid, sizeof(m->guid), "%s", job->guid);
	snprintf(m->rule, sizeof(m->rule), "%s", ev_rule_name(job->rule));
	struct writing w = {.ev = ev, .dfd = -1, .m = m, .d = d};
	bool have_live = live->valid, have_snap = snap && snap->valid;
	d->source = have_live && have_snap ? "both" : have_live ? "live" : "snapshot";
	if (!have_live && !have_snap) {
		d->result = "skipped";
		not_kept(&w, "all", live->why ? live->why : "exited");
		free(m);
		return;
	}
	/* room for the manifest first: without it nothing kept would count.
	 * At the cap, the disk is counted again (at most every 10 s): the log's
	 * retention removes evidence as it expires the log (ev_expire). */
	bool room = ev_budget_take(&ev->budget, EV_MANIFEST_RESERVE);
	if (!room && mono_ms() - ev->budget_counted_ms >= 10000) {
		ev->budget_counted_ms = mono_ms();
		ev->budget.used = disk_used(ev->evfd);
		room = ev_budget_take(&ev->budget, EV_MANIFEST_RESERVE);
	}
	if (!room) {
		d->result = "skipped";
		not_kept(&w, "all", "cap");
		free(m);
		return;
	}
	char dname[EVIDENCE_DIRNAME_MAX];
	w.dfd = make_dir(ev, job->guid, dname, sizeof(dname));
	if (w.dfd < 0) {
		ev->budget.used -= EV_MANIFEST_RESERVE;
		d->result = "skipped";
		not_kept(&w, "all", "write_failed");
		free(m);
		return;
	}
	snprintf(d->path, sizeof(d->path), EVIDENCE_DIR "/%s", dname);
	/* the exe first: the most valuable, and the largest */
	const struct ev_reading *er = live->exe_fd >= 0		       ? live
				      : have_snap && snap->exe_fd >= 0 ? snap
								       : NULL;
	if (er)
		keep_content(&w, er->exe_fd, &er->exe_st, "exe");
	else
		not_kept(&w, "exe",
			 live->exe_why		      ? live->exe_why
			 : have_snap && snap->exe_why ? snap->exe_why
						      : "exited");
	const struct ev_reading *mr = live->nmaps ? live : have_snap ? snap : live;
	for (int i = 0; i < mr->nmaps; i++)
		keep_content(&w, mr->map_fd[i], &mr->map_st[i], mr->map_what[i]);
	for (int i = 0; i < I_COUNT; i++) {
		bool from_snap;
		const struct ev_text *t = pick(live, snap, i, &from_snap);
		const char *name = item_names[i];
		if (i == I_ENVIRON && ev->o.environ_mode == EV_ENV_NONE) {
			not_kept(&w, name, "off");
			continue;
		}
		if (!t || !t->ok) {
			not_kept(&w, name, t && t->why ? t->why : "exited");
			continue;
		}
		if (i == I_ENVIRON && ev->o.environ_mode == EV_ENV_REDACTED) {
			struct strbuf red = STRBUF_INIT;
			d->redacted = ev_env_redact(t->sb.data, t->sb.len, &red);
			keep_text(&w, name, red.data ? red.data : "", red.len);
			sb_free(&red);
		} else {
			keep_text(&w, name, t->sb.data ? t->sb.data : "", t->sb.len);
		}
		if (t->cut)
			not_kept(&w, name, "cut");
	}
	struct strbuf text = STRBUF_INIT;
	ev_manifest_write(m, &text);
	/* the reserve back, the manifest's bytes taken (past the cap only by
	 * what a manifest beyond the reserve holds: at most 64 lines) */
	ev->budget.used -= EV_MANIFEST_RESERVE;
	if (write_new(w.dfd, EVIDENCE_MANIFEST, text.data, text.len) != 0) {
		d->result = "skipped";
		d->path[0] = '\0';
		not_kept(&w, "manifest", "write_failed");
	} else {
		sha_hex_of(text.data, text.len, d->sha);
		ev->budget.used += text.len;
		ev->stats.bytes += text.len;
		fsync(w.dfd);
		fsync(ev->evfd);
		d->result = d->not_kept.len ? "partial" : "kept";
	}
	sb_free(&text);
	close(w.dfd);
	free(m);
}

/* ------------------------------------------------------------ the workers */

enum { Q_SNAP, Q_FIRE };

static uint64_t mono_ms(void)
{
	return now_mono_ms();
}

/* under mu */
static struct ev_snapshot *snap_find(struct evidence *ev, const char *guid)
{
	for (int i = 0; i < EV_SNAPSHOTS_MAX; i++)
		if (ev->snaps[i].used && strcmp(ev->snaps[i].guid, guid) == 0)
			return &ev->snaps[i];
	return NULL;
}

/* under mu: drop snapshots past their time */
static void snaps_expire(struct evidence *ev, uint64_t now)
{
	for (int i = 0; i < EV_SNAPSHOTS_MAX; i++) {
		struct ev_snapshot *s = &ev->snaps[i];
		if (s->used && now - s->taken_ms > EV_SNAPSHOT_TTL_MS) {
			reading_free(&s->r);
			s->used = false;
		}
	}
}

static void take_snapshot(struct evidence *ev, const struct ev_job *job)
{
	struct ev_reading r;
	read_process(ev, job, &r);
	if (!r.valid) {
		reading_free(&r);
		return;
	}
	/* a free slot, else the oldest; and never more than EV_SNAPSHOT_BYTES held */
	size_t bytes = reading_bytes(&r);
	struct ev_snapshot *slot = NULL;
	pthread_mutex_lock(&ev->mu);
	for (;;) {
		size_t held = 0;
		struct ev_snapshot *oldest = NULL;
		for (int i = 0; i < EV_SNAPSHOTS_MAX; i++) {
			struct ev_snapshot *s = &ev->snaps[i];
			if (!s->used)
				continue;
			held += reading_bytes(&s->r);
			if (!oldest || s->taken_ms < oldest->taken_ms)
				oldest = s;
		}
		if (!oldest || held + bytes <= EV_SNAPSHOT_BYTES)
			break;
		ev->stats.snapshots_dropped++;
		reading_free(&oldest->r);
		oldest->used = false;
	}
	for (int i = 0; i < EV_SNAPSHOTS_MAX; i++) {
		struct ev_snapshot *s = &ev->snaps[i];
		if (!s->used) {
			slot = s;
			break;
		}
		if (!slot || s->taken_ms < slot->taken_ms)
			slot = s;
	}
	if (slot->used) {
		ev->stats.snapshots_dropped++;
		reading_free(&slot->r);
	}
	slot->used = true;
	memcpy(slot->guid, job->guid, GUID_STR_LEN);
	slot->taken_ms = mono_ms();
	slot->r = r;
	ev->stats.snapshots++;
	pthread_mutex_unlock(&ev->mu);
}

static void fire(struct evidence *ev, const struct ev_job *job)
{
	struct ev_done *d = calloc(1, sizeof(*d));
	if (!d)
		fatal("out of memory");
	d->rule = job->rule;
	d->pid = job->pid;
	memcpy(d->guid, job->guid, GUID_STR_LEN);
	d->uid = job->uid;
	snprintf(d->trigger, sizeof(d->trigger), "%s", job->trigger);
	d->not_kept = (struct strbuf)STRBUF_INIT;
	struct ev_reading snap;
	reading_init(&snap);
	pthread_mutex_lock(&ev->mu);
	struct ev_snapshot *s = snap_find(ev, job->guid);
	if (s) {
		snap = s->r; /* taken over */
		s->used = false;
		reading_init(&s->r);
	}
	pthread_mutex_unlock(&ev->mu);
	struct ev_reading live;
	read_process(ev, job, &live);
	write_evidence(ev, job, &live, s ? &snap : NULL, d);
	reading_free(&live);
	reading_free(&snap);
	pthread_mutex_lock(&ev->mu);
	if (strcmp(d->result, "kept") == 0)
		ev->stats.kept++;
	else if (strcmp(d->result, "partial") == 0)
		ev->stats.partial++;
	else
		ev->stats.skipped++;
	*ev->done_tail = d;
	ev->done_tail = &d->next;
	pthread_mutex_unlock(&ev->mu);
}

static void job_free(struct ev_job *j)
{
	free(j->path);
	free(j);
}

struct worker_arg {
	struct evidence *ev;
	int role; /* Q_SNAP, Q_FIRE */
};

static void *worker(void *arg)
{
	struct worker_arg wa = *(struct worker_arg *)arg;
	free(arg);
	struct evidence *ev = wa.ev;
	struct ev_queue *q = &ev->q[wa.role];
	thread_keep_capabilities((1ull << CAP_SYS_PTRACE) | (1ull << CAP_DAC_READ_SEARCH) |
				 (1ull << CAP_CHECKPOINT_RESTORE));
	pthread_mutex_lock(&ev->mu);
	while (!ev->stop || q->head) {
		struct ev_job *j = q->head;
		if (!j) {
			pthread_cond_broadcast(&ev->idle);
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&ev->work, &ev->mu, &ts);
			if (wa.role == Q_SNAP)
				snaps_expire(ev, mono_ms());
			continue;
		}
		q->head = j->next;
		if (!q->head)
			q->tail = &q->head;
		q->n--;
		q->busy = true;
		pthread_mutex_unlock(&ev->mu);
		if (j->fire)
			fire(ev, j);
		else
			take_snapshot(ev, j);
		job_free(j);
		pthread_mutex_lock(&ev->mu);
		q->busy = false;
	}
	pthread_cond_broadcast(&ev->idle);
	pthread_mutex_unlock(&ev->mu);
	return NULL;
}

/* bytes under evidence/ now: the files of its directories (two levels) */
static uint64_t disk_used(int evfd)
{
	uint64_t total = 0;
	DIR *d = dir_list_at(evfd, ".");
	if (!d)
		return 0;
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d)) && seen++ < 1000000) {
		if (de->d_name[0] == '.')
			continue;
		DIR *sd = dir_list_at(evfd, de->d_name);
		if (!sd)
			continue;
		struct dirent *fe;
		while ((fe = readdir(sd)) && seen++ < 1000000) {
			struct stat st;
			if (fstatat(dirfd(sd), fe->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode))
				total += (uint64_t)st.st_size;
		}
		closedir(sd);
	}
	closedir(d);
	return total;
}

/* dir name in dirfd, made if missing (0700), never through a link, ours */
static int open_own_dir(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 022))) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

struct evidence *evidence_new(const struct evidence_opts *o)
{
	struct evidence *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->o = *o;
	snprintf(ev->proc_root, sizeof(ev->proc_root), "%s",
		 o->exec.proc_root ? o->exec.proc_root : "/proc");
	ev->o.exec.proc_root = ev->proc_root;
	ev->evfd = open_own_dir(o->log_dirfd, EVIDENCE_DIR);
	ev->filesfd = ev->evfd >= 0 ? open_own_dir(ev->evfd, EVIDENCE_FILES) : -1;
	if (ev->evfd < 0 || ev->filesfd < 0) {
		log_warn("cannot make the evidence directory " EVIDENCE_DIR "/" EVIDENCE_FILES
			 " in the log directory (it must be root's, not a link)");
		goto fail;
	}
	unlinkat(ev->filesfd, ".partial", 0); /* left by a crash */
	ev->budget.max = o->max_total;
	ev->budget.used = disk_used(ev->evfd);
	ev->buf = malloc(1u << 20);
	if (!ev->buf)
		goto fail;
	ev->q[Q_SNAP].tail = &ev->q[Q_SNAP].head;
	ev->q[Q_FIRE].tail = &ev->q[Q_FIRE].head;
	ev->done_tail = &ev->done;
	for (int i = 0; i < EV_SNAPSHOTS_MAX; i++)
		reading_init(&ev->snaps[i].r);
	pthread_mutex_init(&ev->mu, NULL);
	pthread_cond_init(&ev->work, NULL);
	pthread_cond_init(&ev->idle, NULL);
	for (int i = 0; i < 2; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (!wa)
			fatal("out of memory");
		wa->ev = ev;
		wa->role = i;
		if (pthread_create(&ev->threads[i], NULL, worker, wa) != 0)
			fatal("cannot start the evidence threads");
	}
	return ev;
fail:
	if (ev->evfd >= 0)
		close(ev->evfd);
	if (ev->filesfd >= 0)
		close(ev->filesfd);
	free(ev->buf);
	free(ev);
	return NULL;
}

/* under mu */
static void push(struct evidence *ev, struct ev_job *j)
{
	struct ev_queue *q = &ev->q[j->fire ? Q_FIRE : Q_SNAP];
	*q->tail = j;
	q->tail = &j->next;
	q->n++;
	pthread_cond_broadcast(&ev->work);
}

void evidence_snapshot(struct evidence *ev, uint32_t pid, uint64_t start_ticks,
		       const char guid[GUID_STR_LEN], const struct om_file_id *id, uint64_t gen,
		       const char *path, size_t path_len, int64_t event_unix_ns)
{
	pthread_mutex_lock(&ev->mu);
	bool full = ev->q[Q_SNAP].n >= EV_QUEUE_MAX;
	if (full)
		ev->stats.snapshots_dropped++;
	pthread_mutex_unlock(&ev->mu);
	if (full)
		return;
	struct ev_job *j = calloc(1, sizeof(*j));
	if (!j)
		fatal("out of memory");
	j->pid = pid;
	j->start_ticks = start_ticks;
	memcpy(j->guid, guid, GUID_STR_LEN);
	if (id && (id->flags & OM_FID_VALID)) {
		j->have_id = true;
		j->id = *id;
		j->gen = gen;
		j->event_unix_ns = event_unix_ns;
		if (path && path_len && path_len < PATH_MAX && !memchr(path, '\0', path_len))
			j->path = strndup(path, path_len);
	}
	pthread_mutex_lock(&ev->mu);
	push(ev, j);
	pthread_mutex_unlock(&ev->mu);
}

void evidence_fire(struct evidence *ev, enum ev_rule rule, uint32_t pid, uint64_t start_ticks,
		   const char guid[GUID_STR_LEN], int64_t uid, const char *trigger)
{
	if (!(ev->o.rules & (1u << rule)))
		return;
	size_t n = ev->nfired < EV_FIRED_MAX ? ev->nfired : EV_FIRED_MAX;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ev->fired[i], guid) == 0)
			return; /* kept once per process */
	memcpy(ev->fired[ev->nfired++ % EV_FIRED_MAX], guid, GUID_STR_LEN);
	struct ev_job *j = calloc(1, sizeof(*j));
	if (!j)
		fatal("out of memory");
	j->fire = true;
	j->rule = rule;
	j->pid = pid;
	j->start_ticks = start_ticks;
	memcpy(j->guid, guid, GUID_STR_LEN);
	j->uid = uid;
	snprintf(j->trigger, sizeof(j->trigger), "%s", trigger);
	pthread_mutex_lock(&ev->mu);
	bool full = ev->q[Q_FIRE].n >= EV_QUEUE_MAX;
	if (full) {
		/* its record says so at once */
		struct ev_done *d = calloc(1, sizeof(*d));
		if (!d)
			fatal("out of memory");
		d->rule = rule;
		d->pid = pid;
		memcpy(d->guid, guid, GUID_STR_LEN);
		d->uid = uid;
		snprintf(d->trigger, sizeof(d->trigger), "%s", trigger);
		d->result = "skipped";
		d->not_kept = (struct strbuf)STRBUF_INIT;
		sb_adds(&d->not_kept, "all:busy");
		ev->stats.skipped++;
		*ev->done_tail = d;
		ev->done_tail = &d->next;
		pthread_mutex_unlock(&ev->mu);
		free(j);
		return;
	}
	push(ev, j);
	pthread_mutex_unlock(&ev->mu);
}

void evidence_emit(struct evidence *ev, struct consumer *c)
{
	pthread_mutex_lock(&ev->mu);
	struct ev_done *list = ev->done;
	ev->done = NULL;
	ev->done_tail = &ev->done;
	pthread_mutex_unlock(&ev->mu);
	while (list) {
		struct ev_done *d = list;
		list = d->next;
		char guid[GUID_STR_LEN];
		memcpy(guid, d->guid, GUID_STR_LEN);
		struct om_record r;
		om_record_init(&r, OM_EVENT_EVIDENCE);
		r.time_ns = now_unix_ns();
		r.pid = d->pid;
		r.guid = guid;
		r.uid = d->uid;
		r.result = d->result;
		if (d->path[0]) {
			r.path = d->path;
			r.path_len = strlen(d->path);
		}
		if (d->sha[0])
			r.sha256 = d->sha;
		struct strbuf det = STRBUF_INIT;
		sb_addf(&det, "rule=%s trigger=%s files=%u bytes=%" PRIu64, ev_rule_name(d->rule),
			d->trigger, d->files, d->bytes);
		if (d->source && strcmp(d->result, "skipped") != 0)
			sb_addf(&det, " source=%s", d->source);
		if (d->redacted)
			sb_addf(&det, " redacted=%u", d->redacted);
		if (d->not_kept.len)
			sb_addf(&det, " not_kept=%s", sb_str(&d->not_kept));
		r.detail = det.data;
		consumer_emit(c, &r, NULL);
		sb_free(&det);
		sb_free(&d->not_kept);
		free(d);
	}
}

void evidence_get_stats(struct evidence *ev, struct evidence_stats *s)
{
	pthread_mutex_lock(&ev->mu);
	*s = ev->stats;
	pthread_mutex_unlock(&ev->mu);
}

void evidence_finish(struct evidence *ev, struct consumer *c, int timeout_ms)
{
	if (!ev)
		return;
	/* the snapshots waiting are of no use now; the fired rules are */
	pthread_mutex_lock(&ev->mu);
	struct ev_queue *qs = &ev->q[Q_SNAP], *qf = &ev->q[Q_FIRE];
	while (qs->head) {
		struct ev_job *j = qs->head;
		qs->head = j->next;
		job_free(j);
	}
	qs->tail = &qs->head;
	qs->n = 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	while ((qf->head || qf->busy) && pthread_cond_timedwait(&ev->idle, &ev->mu, &ts) == 0)
		;
	ev->stop = true;
	/* what is left after the wait is given up */
	for (int i = 0; i < 2; i++) {
		while (ev->q[i].head) {
			struct ev_job *j = ev->q[i].head;
			ev->q[i].head = j->next;
			job_free(j);
		}
		ev->q[i].tail = &ev->q[i].head;
		ev->q[i].n = 0;
	}
	pthread_cond_broadcast(&ev->work);
	pthread_mutex_unlock(&ev->mu);
	for (int i = 0; i < 2; i++)
		pthread_join(ev->threads[i], NULL);
	evidence_emit(ev, c);
}

void evidence_free(struct evidence *ev)
{
	if (!ev)
		return;
	for (int i = 0; i < EV_SNAPSHOTS_MAX; i++)
		reading_free(&ev->snaps[i].r);
	while (ev->done) {
		struct ev_done *d = ev->done;
		ev->done = d->next;
		sb_free(&d->not_kept);
		free(d);
	}
	pthread_mutex_destroy(&ev->mu);
	pthread_cond_destroy(&ev->work);
	pthread_cond_destroy(&ev->idle);
	close(ev->evfd);
	close(ev->filesfd);
	free(ev->buf);
	free(ev);
}
