/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/hunt.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log/seal.h"
#include "query/beacon.h"
#include "query/filter.h"
#include "query/output.h"
#include "util/log.h"

#define NS 1000000000ull
#define RETRY_MERGE_NS NS	   /* a retry after a failed connect within 1 s */
#define LONG_LIVED_NS (30ull * NS) /* download-origin: the process lived this long */
#define BEACON_REPORT 0.5	   /* RITA's base threshold */
#define BEACON_EXE_TOP_SHARE 0.8   /* beacon-exe: no destination holds this share */
#define BEACON_MIN_FINDING 0.1	   /* a beacon finding scoring less is left out */
#define ANCESTRY_MAX 16
/* reverse-shell: a shell's stdio flow is looked for this long before its exec,
 * in at most this many flow records */
#define STDIO_FLOW_BEFORE_NS (600ull * NS)
#define STDIO_FLOW_SCAN 200000u

struct hunt_exec {
	uint64_t time_ns;
	int64_t seq;
	int32_t proc;
	uint32_t exe, cmdline; /* history.strings */
	uint32_t prev;	       /* index + 1 of this process's exec before; 0 none */
	bool memfd, deleted, existing;
	/* the standard descriptors at exec (EXEC detail stdin=, stdout=, stdio_*) */
	uint8_t stdio;		       /* STDIO_* */
	uint8_t stdio_proto;	       /* IPPROTO_TCP or IPPROTO_UDP; 0 none */
	uint32_t peer_ip, local_ip;    /* history.ips; 0 none */
	int32_t peer_port, local_port; /* -1 none */
};

/* hunt_exec.stdio: what stdin (IN) or stdout (OUT) is */
#define STDIO_IN_INET 0x01 /* a TCP or UDP socket */
#define STDIO_OUT_INET 0x02
#define STDIO_IN_UNIX 0x04
#define STDIO_OUT_UNIX 0x08
#define STDIO_IN_SOCK 0x10 /* a socket of another kind */
#define STDIO_OUT_SOCK 0x20
#define STDIO_IN_ANY (STDIO_IN_INET | STDIO_IN_UNIX | STDIO_IN_SOCK)
#define STDIO_OUT_ANY (STDIO_OUT_INET | STDIO_OUT_UNIX | STDIO_OUT_SOCK)

struct hunt_inject {
	uint64_t time_ns;
	int64_t seq;
	int32_t proc;
	uint32_t target_guid, method, detail; /* history.strings */
};

#define GROW(arr, n, cap)                                                                          \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			uint32_t c_ = (cap) ? (cap)*2 : 256;                                       \
			void *p_ = realloc((arr), (size_t)c_ * sizeof(*(arr)));                    \
			if (!p_)                                                                   \
				fatal("out of memory");                                            \
			(arr) = p_;                                                                \
			(cap) = c_;                                                                \
		}                                                                                  \
	} while (0)

const char *hunt_kind_name(enum hunt_kind k)
{
	switch (k) {
	case HUNT_INJECT:
		return "inject";
	case HUNT_MEMFD_NET:
		return "memfd-network";
	case HUNT_DELETED_NET:
		return "deleted-network";
	case HUNT_TMP_NET:
		return "tmp-network";
	case HUNT_SERVER_SHELL:
		return "server-shell";
	case HUNT_KTHREAD_NAME:
		return "kthread-name";
	case HUNT_DOWNLOAD_ORIGIN:
		return "download-origin";
	case HUNT_BEACON:
		return "beacon";
	case HUNT_BEACON_EXE:
		return "beacon-exe";
	case HUNT_FIRST_CONTACT:
		return "first-contact";
	case HUNT_REVERSE_SHELL:
		return "reverse-shell";
	}
	return "?";
}

void hunt_init(struct hunt *hu)
{
	memset(hu, 0, sizeof(*hu));
}

void hunt_free(struct hunt *hu)
{
	for (uint32_t i = 0; i < hu->n; i++) {
		free(hu->v[i].reason);
		free(hu->v[i].refs);
	}
	free(hu->v);
	free(hu->flow_seq);
	free(hu->execs);
	free(hu->injects);
	free(hu->last_exec_of);
	memset(hu, 0, sizeof(*hu));
}

/* whether detail holds the word key (e.g. "memfd=1") */
static bool detail_has(const char *detail, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = detail; (p = strstr(p, key)) != NULL; p += n)
		if ((p == detail || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* "IP:PORT" or "[IPv6]:PORT" under key in detail (stdio_peer=, stdio_local=) */
static void stdio_endpoint(struct history *h, const char *detail, const char *key, uint32_t *ip,
			   int32_t *port)
{
	char v[64], err[160], text[64];
	struct endpoint ep;
	*ip = 0;
	*port = -1;
	if (!detail_get(detail, key, v, sizeof(v)) || strlen(v) + 1 == sizeof(v) ||
	    parse_endpoint(v, &ep, err, sizeof(err)) < 0 || !ep.has_addr || !ep.has_port ||
	    ep.prefix_len != (ep.addr.family == AF_INET ? 32u : 128u) ||
	    !ipaddr_format(&ep.addr, text, sizeof(text)))
		return;
	*ip = ip_table_add_text(&h->ips, text, strlen(text));
	*port = *ip ? ep.port : -1;
}

static uint8_t stdio_bits(const char *detail, const char *key, uint8_t inet, uint8_t unix_bit,
			  uint8_t sock)
{
	char v[16];
	if (!detail_get(detail, key, v, sizeof(v)))
		return 0;
	if (strcmp(v, "tcp") == 0 || strcmp(v, "udp") == 0)
		return inet;
	if (strcmp(v, "unix") == 0)
		return unix_bit;
	if (strcmp(v, "socket") == 0)
		return sock;
	return 0;
}

static void note_stdio(struct hunt_exec *e, struct history *h, const char *detail)
{
	e->stdio = e->stdio_proto = 0;
	e->peer_ip = e->local_ip = 0;
	e->peer_port = e->local_port = -1;
	if (!strstr(detail, "stdin="))
		return;
	e->stdio = stdio_bits(detail, "stdin", STDIO_IN_INET, STDIO_IN_UNIX, STDIO_IN_SOCK) |
		   stdio_bits(detail, "stdout", STDIO_OUT_INET, STDIO_OUT_UNIX, STDIO_OUT_SOCK);
	char v[8];
	if (detail_get(detail, "stdio_proto", v, sizeof(v)))
		e->stdio_proto = strcmp(v, "tcp") == 0	 ? IPPROTO_TCP
				 : strcmp(v, "udp") == 0 ? IPPROTO_UDP
							 : 0;
	stdio_endpoint(h, detail, "stdio_peer", &e->peer_ip, &e->peer_port);
	stdio_endpoint(h, detail, "stdio_local", &e->local_ip, &e->local_port);
}

static void note_exec(struct hunt *hu, struct history *h, const struct log_record *rec,
		      int32_t proc)
{
	if (proc < 0)
		return;
	GROW(hu->execs, hu->nexecs, hu->execs_cap);
	struct hunt_exec *e = &hu->execs[hu->nexecs];
	e->time_ns = rec->time_ns;
	e->seq = log_record_num(rec, COL_SEQ);
	e->proc = proc;
	e->exe = intern_add(&h->strings, rec->f[COL_EXE], rec->len[COL_EXE]);
	e->cmdline = intern_add(&h->strings, rec->f[COL_CMDLINE], rec->len[COL_CMDLINE]);
	e->memfd = detail_has(rec->f[COL_DETAIL], "memfd=1");
	e->deleted = detail_has(rec->f[COL_DETAIL], "deleted=1");
	e->existing = rec->event == OM_EVENT_EXISTING;
	note_stdio(e, h, rec->f[COL_DETAIL]);
	if ((uint32_t)proc >= hu->last_exec_cap) {
		uint32_t cap = hu->last_exec_cap ? hu->last_exec_cap : 1024;
		while (cap <= (uint32_t)proc)
			cap *= 2;
		int32_t *p = realloc(hu->last_exec_of, cap * sizeof(*p));
		if (!p)
			fatal("out of memory");
		memset(p + hu->last_exec_cap, 0, (cap - hu->last_exec_cap) * sizeof(*p));
		hu->last_exec_of = p;
		hu->last_exec_cap = cap;
	}
	e->prev = (uint32_t)hu->last_exec_of[proc];
	hu->last_exec_of[proc] = (int32_t)++hu->nexecs;
}

void hunt_record(struct history *h, const struct log_record *rec, int32_t proc, void *arg)
{
	struct hunt *hu = arg;
	switch (rec->event) {
	case OM_EVENT_EXEC:
	case OM_EVENT_EXISTING:
		note_exec(hu, h, rec, proc);
		break;
	case OM_EVENT_NET: {
		uint32_t i = history_keep_flow(h, rec, PROC_NONE);
		if (i >= hu->flow_seq_cap) {
			uint32_t cap = hu->flow_seq_cap ? hu->flow_seq_cap * 2 : 1024;
			while (cap <= i)
				cap *= 2;
			int64_t *p = realloc(hu->flow_seq, cap * sizeof(*p));
			if (!p)
				fatal("out of memory");
			hu->flow_seq = p;
			hu->flow_seq_cap = cap;
		}
		hu->flow_seq[i] = log_record_num(rec, COL_SEQ);
		break;
	}
	case OM_EVENT_INJECT: {
		GROW(hu->injects, hu->ninjects, hu->injects_cap);
		struct hunt_inject *in = &hu->injects[hu->ninjects++];
		in->time_ns = rec->time_ns;
		in->seq = log_record_num(rec, COL_SEQ);
		in->proc = history_proc_of(h, rec);
		in->target_guid =
		    intern_add(&h->strings, rec->f[COL_TARGET_GUID], rec->len[COL_TARGET_GUID]);
		in->method = intern_add(&h->strings, rec->f[COL_RESULT], rec->len[COL_RESULT]);
		in->detail = intern_add(&h->strings, rec->f[COL_DETAIL], rec->len[COL_DETAIL]);
		break;
	}
	default:
		break;
	}
}

/* ---- facts about programs ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool in_tmp_dir(const char *exe)
{
	return starts_with(exe, "/tmp/") || starts_with(exe, "/var/tmp/") ||
	       starts_with(exe, "/dev/shm/");
}

static bool in_system_dir(const char *exe)
{
	return starts_with(exe, "/usr/") || starts_with(exe, "/bin/") ||
	       starts_with(exe, "/sbin/") || starts_with(exe, "/lib/") ||
	       starts_with(exe, "/lib64/");
}

static bool in_download_dir(const char *exe)
{
	if (in_tmp_dir(exe))
		return true;
	if (!starts_with(exe, "/home/") && !starts_with(exe, "/root/"))
		return false;
	return strstr(exe, "/Downloads/") || strstr(exe, "/Desktop/");
}

/* programs whose periodic traffic is their job (docs/QUERY.md, "hunt") */
static const char *const beacon_safelist[] = {"chronyd",
					      "ntpd",
					      "ntpdate",
					      "sntp",
					      "systemd-timesyncd",
					      "apt",
					      "apt-get",
					      "aptitude",
					      "dnf",
					      "yum",
					      "zypper",
					      "packagekitd",
					      "sshd",
					      "ssh",
					      "systemd-resolved",
					      "dnsmasq",
					      "unbound",
					      "NetworkManager",
					      "dhclient",
					      "dhcpcd",
					      "systemd-networkd",
					      "avahi-daemon",
					      NULL};

static bool beacon_safelisted(const char *exe)
{
	if (starts_with(exe, "/usr/lib/apt/methods/"))
		return true;
	return in_list(base_name(exe), beacon_safelist);
}

static const char *const shells[] = {"sh",  "bash", "dash", "zsh",  "ksh",     "mksh",
				     "ash", "fish", "csh",  "tcsh", "busybox", NULL};

static const char *const servers[] = {
    "nginx", "apache2", "httpd",   "lighttpd", "caddy", "gunicorn", "uwsgi",   "uvicorn",
    "node",  "nodejs",	"php-cgi", "tomcat",   "jetty", "traefik",  "haproxy", NULL};

static bool is_server(const char *exe, const char *cmdline)
{
	const char *b = base_name(exe);
	if (in_list(b, servers) || starts_with(b, "php-fpm") || starts_with(b, "gunicorn"))
		return true;
	if (starts_with(b, "python") && strstr(cmdline, "http.server"))
		return true;
	if (strcmp(b, "java") == 0 &&
	    (strstr(cmdline, "catalina") || strstr(cmdline, "tomcat") || strstr(cmdline, "jetty") ||
	     strstr(cmdline, "weblogic") || strstr(cmdline, "jboss")))
		return true;
	return false;
}

static const char *const kthread_prefixes[] = {"kworker/",   "kthreadd", "ksoftirqd/", "kswapd",
					       "migration/", "rcu_",	 "watchdog/",  "jbd2/",
					       "irq/",	     "cpuhp/",	 "kdevtmpfs",  "khugepaged",
					       "kcompactd",  "kauditd",	 NULL};

/* argv[0] of a cmdline as the log writes it (a quoted first word unquoted) */
static void first_word(const char *cmdline, char *buf, size_t size)
{
	size_t n = 0;
	const char *p = cmdline;
	if (*p == '"') {
		for (p++; *p && *p != '"' && n + 1 < size; p++)
			buf[n++] = *p;
	} else {
		for (; *p && *p != ' ' && n + 1 < size; p++)
			buf[n++] = *p;
	}
	buf[n] = '\0';
}

/* why argv[0] or the file name looks like a kernel thread's, or NULL */
static bool looks_like_kthread(const char *exe, const char *cmdline)
{
	char a0[256];
	first_word(cmdline, a0, sizeof(a0));
	size_t n = strlen(a0);
	if (n >= 2 && a0[0] == '[' && a0[n - 1] == ']')
		return true;
	const char *b = base_name(exe);
	for (const char *const *k = kthread_prefixes; *k; k++)
		if (starts_with(a0, *k) || starts_with(b, *k))
			return true;
	return false;
}

/* the exec fact of p at t: its latest at or before t, else (a fork that did
 * not exec) its parent's at its start */
static const struct hunt_exec *exec_at(const struct hunt *hu, const struct history *h, int32_t p,
				       uint64_t t)
{
	for (int depth = 0; p != PROC_NONE && depth < HISTORY_MAX_DEPTH; depth++) {
		uint32_t i = (uint32_t)p < hu->last_exec_cap ? (uint32_t)hu->last_exec_of[p] : 0;
		const struct hunt_exec *first = NULL;
		for (; i; i = hu->execs[i - 1].prev) {
			first = &hu->execs[i - 1];
			if (first->time_ns <= t)
				return first;
		}
		if (first)
			return first; /* t before all: its first */
		if (h->procs[p].origin != ORIGIN_FORK)
			return NULL;
		t = h->procs[p].start_ns;
		p = h->procs[p].parent;
	}
	return NULL;
}

static uint32_t exe_at(const struct history *h, int32_t p, uint64_t t)
{
	const struct proc_image *im = p == PROC_NONE ? NULL : history_image_at(h, p, t);
	return im ? im->exe : 0;
}

/* ---- findings ---- */

static struct hunt_finding *new_finding(struct hunt *hu, enum hunt_kind kind, double score,
					int32_t proc, uint32_t exe)
{
	GROW(hu->v, hu->n, hu->cap);
	struct hunt_finding *f = &hu->v[hu->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->score = beacon_round3(score < 0 ? 0 : score > 1 ? 1 : score);
	f->proc = proc;
	f->other = PROC_NONE;
	f->exe = exe;
	f->dst_port = -1;
	return f;
}

static void add_ref(struct hunt_finding *f, int64_t seq, int32_t proc, uint64_t t)
{
	if (!f->nrefs_total || t < f->first_ns)
		f->first_ns = t;
	if (t > f->last_ns)
		f->last_ns = t;
	f->nrefs_total++;
	if (f->nrefs >= HUNT_MAX_REFS)
		return;
	if (!f->refs) {
		f->refs = calloc(HUNT_MAX_REFS, sizeof(*f->refs));
		if (!f->refs)
			fatal("out of memory");
	}
	f->refs[f->nrefs++] = (struct hunt_ref){seq, proc, t};
}

static void set_reason(struct hunt_finding *f, struct strbuf *sb)
{
	free(f->reason);
	f->reason = strdup(sb_str(sb));
	if (!f->reason)
		fatal("out of memory");
	sb_reset(sb);
}

static void proc_text(struct strbuf *sb, const struct history *h, int32_t p, uint64_t t)
{
	if (p == PROC_NONE) {
		sb_adds(sb, "an unknown process");
		return;
	}
	uint32_t exe = exe_at(h, p, t);
	sb_addf(sb, "%d %s", h->procs[p].pid, exe ? history_str(h, exe) : "(no exe in the log)");
}

static void dst_text(struct strbuf *sb, const struct history *h, uint32_t ip, int32_t port,
		     uint8_t proto)
{
	const char *t = ip_table_text(&h->ips, ip);
	if (strchr(t, ':'))
		sb_addf(sb, "[%s]:%d/%s", t, port, proto_name(proto));
	else
		sb_addf(sb, "%s:%d/%s", t, port, proto_name(proto));
}

struct window {
	uint64_t since, until;
};

static bool in_window(const struct window *w, uint64_t t)
{
	return t >= w->since && t <= w->until;
}

/* an INJECT method's score (docs/QUERY.md, "hunt") and why */
static double inject_score(const char *method, bool self, bool debugger, const char **why)
{
	if (starts_with(method, "ptrace_") || strcmp(method, "process_vm_writev") == 0 ||
	    strcmp(method, "proc_mem_write") == 0) {
		if (self) {
			*why = "on itself";
			return 0.5;
		}
		*why = debugger ? "the actor is a debugger" : "";
		return debugger ? 0.5 : 0.9;
	}
	if (strcmp(method, "ld_so_preload") == 0) {
		*why = "every program started later loads what it names";
		return 0.9;
	}
	if (strcmp(method, "ld_preload") == 0 || strcmp(method, "ld_audit") == 0) {
		*why = "a library forced into the program";
		return 0.6;
	}
	/* ld_library_path, wx_memory, anon_exec: JIT engines and launchers do it */
	*why = "also what JIT engines and launchers do";
	return 0.3;
}

static void find_injects(struct hunt *hu, const struct history *h, const struct window *w,
			 struct strbuf *sb)
{
	static const char *const debuggers[] = {"gdb",	"strace", "ltrace",   "lldb",
						"perf", "criu",	  "valgrind", NULL};
	for (uint32_t i = 0; i < hu->ninjects; i++) {
		const struct hunt_inject *in = &hu->injects[i];
		if (!in_window(w, in->time_ns))
			continue;
		const char *tguid = history_str(h, in->target_guid);
		int32_t target = *tguid ? history_find_guid(h, tguid) : PROC_NONE;
		/* one finding per actor, target and method */
		struct hunt_finding *f = NULL;
		for (uint32_t j = 0; j < hu->n && in->proc != PROC_NONE; j++)
			if (hu->v[j].kind == HUNT_INJECT && hu->v[j].proc == in->proc &&
			    hu->v[j].other == target && hu->v[j].method == in->method)
				f = &hu->v[j];
		uint32_t exe = exe_at(h, in->proc, in->time_ns);
		if (!f) {
			bool dbg = exe && in_list(base_name(history_str(h, exe)), debuggers);
			const char *why;
			const char *method = history_str(h, in->method);
			double score = inject_score(method, target == in->proc, dbg, &why);
			f = new_finding(hu, HUNT_INJECT, score, in->proc, exe);
			f->other = target;
			f->method = in->method;
			proc_text(sb, h, in->proc, in->time_ns);
			sb_addf(sb, " %s", *method ? method : "(no method)");
			if (target != PROC_NONE && target != in->proc) {
				sb_adds(sb, " on ");
				proc_text(sb, h, target, in->time_ns);
			} else if (*tguid && target == PROC_NONE) {
				sb_addf(sb, " on process %s", tguid);
			}
			sb_addf(sb, " (%s)%s%s", history_str(h, in->detail), *why ? ": " : "", why);
			set_reason(f, sb);
		}
		add_ref(f, in->seq, in->proc, in->time_ns);
	}
}

/* flows of processes running from a memfd, a deleted file or a temporary
 * directory: one finding per process and kind */
static void find_unusual_exe_network(struct hunt *hu, const struct history *h,
				     const struct window *w, struct strbuf *sb)
{
	int32_t *of = malloc((h->nprocs ? h->nprocs : 1) * sizeof(*of));
	if (!of)
		fatal("out of memory");
	for (uint32_t i = 0; i < h->nprocs; i++)
		of[i] = -1;
	uint32_t first = hu->n;
	for (uint32_t i = 0; i < h->nflows; i++) {
		const struct flow_rec *fl = &h->flows[i];
		if (fl->proc == PROC_NONE || !in_window(w, fl->time_ns))
			continue;
		const struct hunt_exec *e = exec_at(hu, h, fl->proc, fl->time_ns);
		uint32_t exe = exe_at(h, fl->proc, fl->time_ns);
		const char *path = history_str(h, exe);
		enum hunt_kind k;
		double score;
		if ((e && e->memfd) || starts_with(path, "/memfd:")) {
			k = HUNT_MEMFD_NET;
			score = 0.9;
		} else if (e && e->deleted) {
			k = HUNT_DELETED_NET;
			score = 0.85;
		} else if (in_tmp_dir(path)) {
			k = HUNT_TMP_NET;
			score = 0.8;
		} else {
			continue;
		}
		struct hunt_finding *f;
		if (of[fl->proc] < 0) {
			of[fl->proc] = (int32_t)hu->n;
			f = new_finding(hu, k, score, fl->proc, exe);
			f->dst_ip = fl->dst_ip;
			f->dst_port = fl->dst_port;
			f->proto = fl->proto;
			if (e)
				add_ref(f, e->seq, e->proc, e->time_ns);
		}
		f = &hu->v[of[fl->proc]];
		f->connections++;
		add_ref(f, hu->flow_seq[i], fl->proc, fl->time_ns);
	}
	for (uint32_t j = first; j < hu->n; j++) {
		struct hunt_finding *f = &hu->v[j];
		proc_text(sb, h, f->proc, f->last_ns);
		sb_addf(sb, " runs %s and made %u flow%s, the first to ",
			f->kind == HUNT_MEMFD_NET ? "from a memfd (a file only in memory)"
			: f->kind == HUNT_DELETED_NET
			    ? "a file that was deleted"
			    : "from a temporary directory anyone can write",
			f->connections, f->connections == 1 ? "" : "s");
		dst_text(sb, h, f->dst_ip, f->dst_port, f->proto);
		set_reason(f, sb);
	}
	free(of);
}

static void find_exec_shapes(struct hunt *hu, const struct history *h, const struct window *w,
			     struct strbuf *sb)
{
	uint8_t *seen = calloc(h->nprocs ? h->nprocs : 1, 1);
	if (!seen)
		fatal("out of memory");
	for (uint32_t i = 0; i < hu->nexecs; i++) {
		const struct hunt_exec *e = &hu->execs[i];
		if (!in_window(w, e->time_ns))
			continue;
		const char *exe = history_str(h, e->exe);
		const char *cmdline = history_str(h, e->cmdline);
		if (!(seen[e->proc] & 1) && looks_like_kthread(exe, cmdline)) {
			seen[e->proc] |= 1;
			struct hunt_finding *f =
			    new_finding(hu, HUNT_KTHREAD_NAME, 0.85, e->proc, e->exe);
			sb_addf(sb,
				"%d %s runs as \"%s\": a name like a kernel thread's, but kernel "
				"threads run no program file",
				h->procs[e->proc].pid, exe, cmdline);
			set_reason(f, sb);
			add_ref(f, e->seq, e->proc, e->time_ns);
		}
		if ((seen[e->proc] & 2) || !in_list(base_name(exe), shells))
			continue;
		/* the parent, then the grandparent, as each was when it started the next */
		int32_t child = e->proc;
		for (int up = 0; up < 2; up++) {
			int32_t parent = h->procs[child].parent;
			if (parent == PROC_NONE)
				break;
			const struct proc_image *im =
			    history_image_at(h, parent, h->procs[child].start_ns);
			if (im && is_server(history_str(h, im->exe), history_str(h, im->cmdline))) {
				seen[e->proc] |= 2;
				struct hunt_finding *f = new_finding(
				    hu, HUNT_SERVER_SHELL, up ? 0.8 : 0.85, e->proc, e->exe);
				f->other = parent;
				sb_addf(
				    sb,
				    "a shell, %d %s (%s), was started by %s network server %d %s",
				    h->procs[e->proc].pid, exe, cmdline,
				    up ? "a child of the" : "the", h->procs[parent].pid,
				    history_str(h, im->exe));
				sb_addf(sb, " (%s): what a web shell or an exploited server does",
					history_str(h, im->cmdline));
				set_reason(f, sb);
				add_ref(f, e->seq, e->proc, e->time_ns);
				break;
			}
			child = parent;
		}
	}
	free(seen);
}

/* programs a reverse shell runs (docs/QUERY.md, "hunt"): shells above, and */
static const char *const interpreter_prefixes[] = {"python", "perl",  "ruby", "php",
						   "lua",    "tclsh", "wish", NULL};
static const char *const interpreters[] = {"node",   "nodejs", "deno", "bun",  "pwsh",
					   "irb",    "awk",    "gawk", "mawk", "nawk",
					   "expect", "script", NULL};
/* programs that relay a connection to a program they start */
static const char *const relays[] = {"socat",	       "nc",	     "ncat",   "netcat",
				     "nc.traditional", "nc.openbsd", "pwncat", NULL};
/* programs that accept connections for services they start (inetd style) */
static const char *const acceptors[] = {"systemd", "inetd",	    "xinetd",	     "tcpserver",
					"tcpsvd",  "s6-tcpserver4", "s6-tcpserver6", NULL};

static bool runs_commands(const char *exe)
{
	const char *b = base_name(exe);
	if (in_list(b, shells) || in_list(b, interpreters))
		return true;
	for (const char *const *p = interpreter_prefixes; *p; p++)
		if (starts_with(b, *p))
			return true;
	return false;
}

static bool is_loopback(const struct history *h, uint32_t ip)
{
	struct ipaddr a;
	const char *t = ip_table_text(&h->ips, ip);
	if (ipaddr_parse(t, strlen(t), &a) < 0)
		return false;
	static const uint8_t one6[16] = {[15] = 1};
	return a.family == AF_INET ? a.addr[0] == 127 : memcmp(a.addr, one6, 16) == 0;
}

/* the NET record of the flow on a shell's stdio, the latest at or before t
 * (bounded: STDIO_FLOW_*): both ends when known, else the peer among the
 * flows of p and its ancestors; -1 none */
static int64_t stdio_flow(const struct history *h, const struct hunt_exec *e, int32_t p, uint64_t t)
{
	int32_t chain[ANCESTRY_MAX + 1];
	int n = 0;
	if (!e->local_ip) {
		chain[0] = p;
		n = 1 + history_ancestry(h, p, chain + 1, ANCESTRY_MAX);
	}
	/* back from t (the log is in time order): the flow just before the exec,
	 * within STDIO_FLOW_BEFORE_NS and STDIO_FLOW_SCAN records */
	uint32_t lo = 0, hi = h->nflows;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (h->flows[mid].time_ns <= t + NS)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo, scanned = 0; i-- > 0 && scanned < STDIO_FLOW_SCAN; scanned++) {
		const struct flow_rec *fl = &h->flows[i];
		if (fl->time_ns + STDIO_FLOW_BEFORE_NS < t)
			break;
		if (fl->time_ns > t + NS || fl->proto != e->stdio_proto)
			continue;
		bool out = fl->src_ip == e->local_ip && fl->src_port == e->local_port &&
			   fl->dst_ip == e->peer_ip && fl->dst_port == e->peer_port;
		bool in = fl->dst_ip == e->local_ip && fl->dst_port == e->local_port &&
			  fl->src_ip == e->peer_ip && fl->src_port == e->peer_port;
		if (!e->local_ip) {
			out = fl->dst_ip == e->peer_ip && fl->dst_port == e->peer_port;
			in = fl->src_ip == e->peer_ip && fl->src_port == e->peer_port;
			bool ours = false;
			for (int k = 0; k < n && !ours; k++)
				ours = fl->proc == chain[k];
			if (!ours)
				continue;
		}
		if ((out && fl->direction != DIR_IN) || (in && fl->direction != DIR_OUT))
			return i; /* the latest */
	}
	return -1;
}

/* the relay's latest flow at or before t (bounded as stdio_flow); -1 none */
static int64_t latest_flow_of(const struct history *h, int32_t p, uint64_t t)
{
	for (uint32_t i = h->nflows, scanned = 0; i-- > 0 && scanned < STDIO_FLOW_SCAN;) {
		const struct flow_rec *fl = &h->flows[i];
		if (fl->time_ns > t + NS)
			continue;
		if (fl->time_ns + STDIO_FLOW_BEFORE_NS < t)
			break;
		scanned++;
		if (fl->proc == p && (fl->proto == IPPROTO_TCP || fl->proto == IPPROTO_UDP))
			return i;
	}
	return -1;
}

/*
 * A shell or interpreter whose stdin or stdout was a socket at exec: a TCP
 * or UDP connection (the flow's NET record tells who connected), a socket
 * of another kind, or a Unix socket from a relay (socat, ncat) that holds
 * the connection. One finding per process; a child shell of one with the
 * same stdio (sh -c 'bash -i') is a record of its parent's finding.
 */
static void find_reverse_shells(struct hunt *hu, const struct history *h, const struct window *w,
				struct strbuf *sb)
{
	int32_t *fof = malloc((h->nprocs ? h->nprocs : 1) * sizeof(*fof));
	if (!fof)
		fatal("out of memory");
	for (uint32_t i = 0; i < h->nprocs; i++)
		fof[i] = -1;
	for (uint32_t i = 0; i < hu->nexecs; i++) {
		const struct hunt_exec *e = &hu->execs[i];
		if (!e->stdio || e->existing || !in_window(w, e->time_ns))
			continue;
		const char *exe = history_str(h, e->exe);
		if (!runs_commands(exe))
			continue;
		/* already found: this process, or an ancestor on the same socket */
		int32_t had = fof[e->proc];
		for (int32_t a = h->procs[e->proc].parent, up = 0;
		     had < 0 && a != PROC_NONE && up < 4; a = h->procs[a].parent, up++) {
			const struct hunt_exec *ae = exec_at(hu, h, a, e->time_ns);
			if (fof[a] >= 0 && ae && ae->stdio == e->stdio &&
			    ae->peer_ip == e->peer_ip && ae->peer_port == e->peer_port)
				had = fof[a];
		}
		if (had >= 0) {
			add_ref(&hu->v[had], e->seq, e->proc, e->time_ns);
			fof[e->proc] = had;
			continue;
		}
		bool inet = e->stdio & (STDIO_IN_INET | STDIO_OUT_INET);
		bool other = e->stdio & (STDIO_IN_SOCK | STDIO_OUT_SOCK);
		int32_t parent = h->procs[e->proc].parent;
		const struct proc_image *pim =
		    parent == PROC_NONE ? NULL
					: history_image_at(h, parent, h->procs[e->proc].start_ns);
		const char *pexe = pim ? history_str(h, pim->exe) : "";
		bool relayed = pim && in_list(base_name(pexe), relays);
		int64_t flow = -1;
		if (inet && e->peer_ip && e->stdio_proto)
			flow = stdio_flow(h, e, e->proc, e->time_ns);
		else if (!inet && !other && relayed)
			flow = latest_flow_of(h, parent, e->time_ns);
		else if (!inet && !other)
			continue; /* a Unix socket from anything but a relay: ordinary */
		const struct flow_rec *fl = flow >= 0 ? &h->flows[flow] : NULL;
		double score;
		const char *why;
		if (fl && fl->direction == DIR_IN) {
			uint32_t aexe = exe_at(h, fl->proc, fl->time_ns);
			bool inetd = aexe && in_list(base_name(history_str(h, aexe)), acceptors);
			score = inetd ? 0.4 : 0.7;
			why =
			    inetd
				? "the connection came in to a service manager that starts a "
				  "program per connection (inetd style): ordinary for such a "
				  "service, not for a shell"
				: "the connection came in to a listener here: a bind shell's shape";
		} else if (inet && !e->peer_ip) {
			score = 0.7;
			why = "a socket with no peer (listening, or not connected)";
		} else if (inet || relayed) {
			score = fl ? 0.95 : 0.9;
			why = fl ? "the connection was made from here: a reverse shell's shape"
				 : "a reverse shell's shape (the flow's NET record is not in the "
				   "log)";
		} else {
			score = 0.7;
			why = "a socket of another kind than TCP, UDP or Unix";
		}
		if (inet && e->peer_ip && is_loopback(h, e->peer_ip) && score > 0.6) {
			score = 0.6;
			why = "the peer is this host (a local relay or a tunnel's end)";
		}
		struct hunt_finding *f =
		    new_finding(hu, HUNT_REVERSE_SHELL, score, e->proc, e->exe);
		fof[e->proc] = (int32_t)(f - hu->v);
		sb_addf(sb, "%d %s (%s) runs with its standard %s on ", h->procs[e->proc].pid, exe,
			history_str(h, e->cmdline),
			(e->stdio & STDIO_IN_ANY) && (e->stdio & STDIO_OUT_ANY) ? "input and output"
			: (e->stdio & STDIO_IN_ANY)				? "input"
										: "output");
		if (inet && e->peer_ip) {
			sb_adds(sb, "a socket connected to ");
			dst_text(sb, h, e->peer_ip, e->peer_port, e->stdio_proto);
			f->dst_ip = e->peer_ip;
			f->dst_port = e->peer_port;
			f->proto = e->stdio_proto;
		} else if (inet) {
			sb_addf(sb, "a %s socket", proto_name(e->stdio_proto));
		} else if (other) {
			sb_adds(sb, "a socket");
		} else {
			sb_addf(sb, "a Unix socket from its parent %d %s, a relay",
				h->procs[parent].pid, pexe);
			f->other = parent;
		}
		if (fl) {
			sb_addf(sb, " (flow: NET seq %lld, %s, ", (long long)hu->flow_seq[flow],
				fl->direction == DIR_IN ? "in" : "out");
			if (!(inet && e->peer_ip)) {
				sb_adds(sb, fl->direction == DIR_IN ? "from " : "to ");
				if (fl->direction == DIR_IN)
					dst_text(sb, h, fl->src_ip, fl->src_port, fl->proto);
				else
					dst_text(sb, h, fl->dst_ip, fl->dst_port, fl->proto);
				sb_adds(sb, ", ");
			}
			proc_text(sb, h, fl->proc, fl->time_ns);
			sb_adds(sb, ")");
			if (fl->proc != e->proc)
				f->other = fl->proc;
			if (!f->dst_ip) {
				f->dst_ip = fl->direction == DIR_IN ? fl->src_ip : fl->dst_ip;
				f->dst_port = fl->direction == DIR_IN ? fl->src_port : fl->dst_port;
				f->proto = fl->proto;
			}
		}
		if (relayed && inet)
			sb_addf(sb, ", started by %d %s", h->procs[parent].pid, pexe);
		sb_addf(sb, ": %s", why);
		set_reason(f, sb);
		add_ref(f, e->seq, e->proc, e->time_ns);
		if (fl)
			add_ref(f, hu->flow_seq[flow], fl->proc, fl->time_ns);
	}
	free(fof);
}

static void find_download_origin(struct hunt *hu, const struct history *h, const struct window *w,
				 struct strbuf *sb)
{
	uint8_t *done = calloc(h->nprocs ? h->nprocs : 1, 1);
	if (!done)
		fatal("out of memory");
	int32_t chain[ANCESTRY_MAX];
	for (uint32_t i = 0; i < h->nflows; i++) {
		const struct flow_rec *fl = &h->flows[i];
		int32_t p = fl->proc;
		if (p == PROC_NONE || done[p] || !in_window(w, fl->time_ns))
			continue;
		done[p] = 1;
		const struct proc *pr = &h->procs[p];
		uint64_t end = pr->exit_ns ? pr->exit_ns : pr->gone_ns ? pr->gone_ns : h->last_ns;
		if (!pr->start_ns || end < pr->start_ns + LONG_LIVED_NS)
			continue;
		int n = history_ancestry(h, p, chain, ANCESTRY_MAX);
		int32_t below = p;
		for (int k = 0; k < n; below = chain[k], k++) {
			const struct proc *a = &h->procs[chain[k]];
			if (!a->exit_ns && !a->gone_ns)
				continue;
			uint32_t aexe = exe_at(h, chain[k], h->procs[below].start_ns);
			if (!aexe || !in_download_dir(history_str(h, aexe)))
				continue;
			struct hunt_finding *f = new_finding(hu, HUNT_DOWNLOAD_ORIGIN, 0.7, p,
							     exe_at(h, p, fl->time_ns));
			f->other = chain[k];
			proc_text(sb, h, p, fl->time_ns);
			sb_addf(sb,
				" lived %llu s and made flows; it descends from %d %s, which ran "
				"from a download or temporary directory and has exited (a "
				"dropper's shape)",
				(unsigned long long)((end - pr->start_ns) / NS), a->pid,
				history_str(h, aexe));
			set_reason(f, sb);
			const struct hunt_exec *e =
			    exec_at(hu, h, chain[k], h->procs[below].start_ns);
			if (e)
				add_ref(f, e->seq, e->proc, e->time_ns);
			for (uint32_t j = i; j < h->nflows; j++)
				if (h->flows[j].proc == p && in_window(w, h->flows[j].time_ns))
					add_ref(f, hu->flow_seq[j], p, h->flows[j].time_ns);
			break;
		}
	}
	free(done);
}

/* ---- beacons ---- */

struct cand {
	uint32_t flow;
	uint32_t exe;
	uint32_t dst_ip;
	int32_t dst_port;
	uint8_t proto;
	bool ok;
	uint64_t t;
};

static int cmp_cand_tuple(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
#define CMP_(f)                                                                                    \
	if (x->f != y->f)                                                                          \
		return x->f < y->f ? -1 : 1;
	CMP_(exe)
	CMP_(dst_ip)
	CMP_(dst_port)
	CMP_(proto)
	CMP_(t)
	CMP_(flow)
	return 0;
}

static int cmp_cand_exe(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	CMP_(exe)
	CMP_(t)
	CMP_(flow)
#undef CMP_
	return 0;
}

static bool same_tuple(const struct cand *a, const struct cand *b)
{
	return a->exe == b->exe && a->dst_ip == b->dst_ip && a->dst_port == b->dst_port &&
	       a->proto == b->proto;
}

/* whether an address is worth scoring: not loopback, link-local, multicast
 * or unspecified */
static bool routable(const struct history *h, uint32_t ip)
{
	struct ipaddr a;
	const char *t = ip_table_text(&h->ips, ip);
	if (ipaddr_parse(t, strlen(t), &a) < 0)
		return false;
	const uint8_t *b = a.addr;
	if (a.family == AF_INET)
		return b[0] != 127 && b[0] != 0 && !(b[0] == 169 && b[1] == 254) && !(b[0] >= 224);
	static const uint8_t zero[16] = {0};
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
		return false;
	return !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80) && b[0] != 0xff;
}

static double rita_bucket(double b)
{
	if (b < 0.5)
		return 0;
	if (b < 0.7)
		return 0.2 + (b - 0.5);
	if (b < 0.9)
		return 0.4 + (b - 0.7);
	return 0.6 + (b - 0.9) * 2;
}

struct series {
	double *t;
	size_t n;
	struct cand **members; /* every connection, merged retries included */
	size_t nmembers;
	double b; /* its beacon score */
};

/* the score of the connection times of c[0..n), or -1: too few */
static double score_series(const struct window *w, struct cand *c, size_t n, bool by_tuple,
			   struct series *s, struct beacon_ts *ts, struct beacon_hist *hist,
			   double *dur)
{
	s->n = s->nmembers = 0;
	const struct cand *last_kept = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!in_window(w, c[i].t))
			continue;
		s->members[s->nmembers++] = &c[i];
		/* a retry right after a failed connect is the same attempt */
		if (last_kept && !last_kept->ok && c[i].t - last_kept->t < RETRY_MERGE_NS &&
		    (!by_tuple || same_tuple(last_kept, &c[i])))
			continue;
		s->t[s->n++] = (double)(c[i].t - w->since) / 1e9;
		last_kept = &c[i];
	}
	if (beacon_ts_score(s->t, s->n, ts) < 0)
		return -1;
	double span = (double)(w->until - w->since) / 1e9;
	beacon_histogram(s->t, s->n, 0, span, hist);
	*dur = beacon_duration_score(s->t[0], s->t[s->n - 1], 0, span, hist->bins_used,
				     hist->longest_run);
	double sub[3] = {ts->score, hist->score, *dur};
	double wts[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
	return s->b = beacon_combine(sub, wts, 3);
}

/* what the program's place adds to a beacon's score, and why */
static double beacon_modifier(const struct hunt *hu, const struct history *h,
			      const struct series *s, const char **why)
{
	const struct cand *c0 = s->members[0];
	const char *exe = history_str(h, c0->exe);
	const struct hunt_exec *e = exec_at(hu, h, h->flows[c0->flow].proc, c0->t);
	if ((e && (e->memfd || e->deleted)) || in_tmp_dir(exe) || starts_with(exe, "/memfd:")) {
		*why = "; +0.15: the program runs from a temporary directory, a memfd or a deleted "
		       "file";
		return 0.15;
	}
	if (beacon_safelisted(exe)) {
		*why = "; -0.3: a program whose periodic traffic is its job (safelist)";
		return -0.3;
	}
	if (in_system_dir(exe)) {
		*why = "; -0.2: a program of a system directory";
		return -0.2;
	}
	*why = "";
	return 0;
}

/* the score a beacon finding of the last scored series would get */
static double beacon_finding_score(const struct hunt *hu, const struct history *h,
				   const struct series *s)
{
	const char *why;
	return rita_bucket(s->b) + beacon_modifier(hu, h, s, &why);
}

static struct hunt_finding *beacon_finding(struct hunt *hu, const struct history *h,
					   enum hunt_kind kind, double b, const struct series *s,
					   const struct beacon_ts *ts, const struct beacon_hist *hs,
					   double dur, struct strbuf *sb)
{
	const struct cand *c0 = s->members[0];
	const char *exe = history_str(h, c0->exe);
	int32_t proc = h->flows[c0->flow].proc;
	const char *mod;
	double score = rita_bucket(b) + beacon_modifier(hu, h, s, &mod);
	struct hunt_finding *f = new_finding(hu, kind, score, proc, c0->exe);
	f->ts = ts->score;
	f->hist = hs->score;
	f->dur = dur;
	f->beacon = b;
	f->connections = (uint32_t)s->n;
	for (size_t i = 0; i < s->nmembers; i++) {
		const struct cand *c = s->members[i];
		add_ref(f, hu->flow_seq[c->flow], h->flows[c->flow].proc, c->t);
	}
	sb_addf(sb, "%s made %zu connection%s", exe, s->n, s->n == 1 ? "" : "s");
	if (kind == HUNT_BEACON) {
		f->dst_ip = c0->dst_ip;
		f->dst_port = c0->dst_port;
		f->proto = c0->proto;
		sb_adds(sb, " to ");
		dst_text(sb, h, c0->dst_ip, c0->dst_port, c0->proto);
	}
	sb_addf(sb, " at regular times: every %.*f s (median; half within %.*f s of it), ",
		ts->median < 100 ? 1 : 0, ts->median, ts->mad < 100 ? 1 : 0, ts->mad);
	sb_addf(sb,
		"beacon score %.3f = (timing %.3f + histogram %.3f + duration %.3f) / 3 (no byte "
		"counts: RITA's data-size score left out)%s",
		b, ts->score, hs->score, dur, mod);
	set_reason(f, sb);
	return f;
}

static void find_beacons(struct hunt *hu, const struct history *h, const struct window *w,
			 struct strbuf *sb)
{
	struct cand *c = malloc((h->nflows ? h->nflows : 1) * sizeof(*c));
	if (!c)
		fatal("out of memory");
	size_t n = 0;
	for (uint32_t i = 0; i < h->nflows; i++) {
		const struct flow_rec *fl = &h->flows[i];
		if (fl->proc == PROC_NONE || fl->direction != DIR_OUT ||
		    (fl->proto != IPPROTO_TCP && fl->proto != IPPROTO_UDP) || fl->dst_port < 0 ||
		    !routable(h, fl->dst_ip))
			continue;
		uint32_t exe = exe_at(h, fl->proc, fl->time_ns);
		if (!exe)
			continue;
		const char *res = history_str(h, fl->result);
		c[n++] = (struct cand){i,
				       exe,
				       fl->dst_ip,
				       fl->dst_port,
				       fl->proto,
				       !*res || strcmp(res, "established") == 0 ||
					   strcmp(res, "sent") == 0 || strcmp(res, "received") == 0,
				       fl->time_ns};
	}
	struct series s;
	s.t = malloc((n ? n : 1) * sizeof(*s.t));
	s.members = malloc((n ? n : 1) * sizeof(*s.members));
	if (!s.t || !s.members)
		fatal("out of memory");
	struct beacon_ts ts;
	struct beacon_hist hs;
	double dur;
	struct strbuf list = STRBUF_INIT;

	/* per program, destination and port; first contacts on the way */
	qsort(c, n, sizeof(*c), cmp_cand_tuple);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t exe_first = c[i].t;
		while (j < n && c[j].exe == c[i].exe) {
			if (c[j].t < exe_first)
				exe_first = c[j].t;
			j++;
		}
		/* [i, j): one program */
		int64_t fc = -1; /* its first-contact finding (an index: hu->v moves) */
		uint32_t new_dsts = 0;
		for (size_t k = i; k < j;) {
			size_t m = k;
			while (m < j && same_tuple(&c[k], &c[m]))
				m++;
			double b = score_series(w, c + k, m - k, true, &s, &ts, &hs, &dur);
			if (b >= BEACON_REPORT &&
			    beacon_finding_score(hu, h, &s) >= BEACON_MIN_FINDING)
				beacon_finding(hu, h, HUNT_BEACON, b, &s, &ts, &hs, dur, sb);
			/* its first contact, when the program had flows before the window */
			if (exe_first < w->since && in_window(w, c[k].t)) {
				int32_t proc = h->flows[c[k].flow].proc;
				if (fc < 0) {
					fc = hu->n;
					struct hunt_finding *f = new_finding(hu, HUNT_FIRST_CONTACT,
									     0.35, proc, c[k].exe);
					f->dst_ip = c[k].dst_ip;
					f->dst_port = c[k].dst_port;
					f->proto = c[k].proto;
				}
				if (new_dsts++ < 5) {
					sb_adds(&list, new_dsts > 1 ? ", " : "");
					dst_text(&list, h, c[k].dst_ip, c[k].dst_port, c[k].proto);
				}
				add_ref(&hu->v[fc], hu->flow_seq[c[k].flow], proc, c[k].t);
			}
			k = m;
		}
		if (fc >= 0) {
			struct hunt_finding *f = &hu->v[fc];
			if (new_dsts > 3)
				f->score = 0.25;
			sb_addf(
			    sb,
			    "%s, which made flows before this window, contacted %u destination%s "
			    "it had never contacted in the log: %s%s",
			    history_str(h, c[i].exe), new_dsts, new_dsts == 1 ? "" : "s",
			    sb_str(&list), new_dsts > 5 ? ", ..." : "");
			set_reason(f, sb);
		}
		sb_reset(&list);
		i = j;
	}

	/* per program over all its destinations, when no one destination dominates */
	qsort(c, n, sizeof(*c), cmp_cand_exe);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && c[j].exe == c[i].exe)
			j++;
		double b = score_series(w, c + i, j - i, false, &s, &ts, &hs, &dur);
		if (b >= BEACON_REPORT && beacon_finding_score(hu, h, &s) >= BEACON_MIN_FINDING) {
			/* the commonest destination's share */
			size_t best = 0, ndst = 0;
			for (size_t a = 0; a < s.nmembers; a++) {
				size_t cnt = 0;
				bool first = true;
				for (size_t q = 0; q < s.nmembers; q++) {
					if (same_tuple(s.members[a], s.members[q])) {
						cnt++;
						if (q < a)
							first = false;
					}
				}
				if (first)
					ndst++;
				if (cnt > best)
					best = cnt;
			}
			if (ndst >= 2 && (double)best < BEACON_EXE_TOP_SHARE * (double)s.nmembers) {
				struct hunt_finding *f = beacon_finding(hu, h, HUNT_BEACON_EXE, b,
									&s, &ts, &hs, dur, sb);
				sb_adds(sb, f->reason);
				sb_addf(sb, "; to %zu destinations, none more than %zu times", ndst,
					best);
				set_reason(f, sb);
			}
		}
		i = j;
	}
	sb_free(&list);
	free(s.t);
	free(s.members);
	free(c);
}

static int cmp_finding(const void *a, const void *b)
{
	const struct hunt_finding *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

void hunt_run(struct hunt *hu, const struct history *h, uint64_t since_ns, uint64_t until_ns)
{
	struct window w = {since_ns, until_ns};
	if (!w.since)
		w.since =
		    h->last_ns > HUNT_DEFAULT_WINDOW_NS ? h->last_ns - HUNT_DEFAULT_WINDOW_NS : 0;
	if (w.since < h->first_ns)
		w.since = h->first_ns;
	if (w.until > h->last_ns)
		w.until = h->last_ns;
	hu->since_ns = w.since;
	hu->until_ns = w.until;
	if (!h->records || w.until < w.since)
		return;
	struct strbuf sb = STRBUF_INIT;
	find_injects(hu, h, &w, &sb);
	find_unusual_exe_network(hu, h, &w, &sb);
	find_exec_shapes(hu, h, &w, &sb);
	find_reverse_shells(hu, h, &w, &sb);
	find_download_origin(hu, h, &w, &sb);
	find_beacons(hu, h, &w, &sb);
	sb_free(&sb);
	qsort(hu->v, hu->n, sizeof(*hu->v), cmp_finding);
}
