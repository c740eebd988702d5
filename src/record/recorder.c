/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `onmitsu record`: load the hooks, write START, snapshot what already runs
 * (EXISTING, MODLOAD), then turn ring-buffer samples into records until
 * SIGTERM or SIGINT; drain, write STOP with the counters, and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log/options.h"
#include "log/record.h"
#include "log/writer.h"
#include "record/commands.h"
#include "record/config.h"
#include "record/cgroup.h"
#include "record/consumer.h"
#include "record/evidence.h"
#include "record/filter.h"
#include "record/guid.h"
#include "record/hasher.h"
#include "record/host.h"
#include "record/loader.h"
#include "record/loader_filter.h"
#include "record/procfs.h"
#include "util/log.h"
#include "util/notify.h"
#include "util/parse.h"
#include "util/privs.h"
#include "util/time.h"

#define DEFAULT_LOG_DIR RECORD_DEFAULT_LOG_DIR
#define POLL_MS 10
#define HASH_STOP_WAIT_MS 30000	    /* at stop, for hashes still to come */
#define EVIDENCE_STOP_WAIT_MS 10000 /* at stop, for evidence of rules already fired */

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

/* events a filter rule dropped, by the rule's name (they outlive reloads) */
struct excluded_count {
	char name[CFG_NAME_MAX + 1];
	uint64_t n;
};

struct recorder {
	struct log_writer w;
	struct consumer c;
	struct loader *l;
	uint64_t lost_reported[OM_C_MAX];
	uint64_t hook_misses_reported;	 /* kernel-skipped program runs already in LOST */
	uint64_t flows_evicted_reported; /* flows pushed out of the kernel's map, in LOST */
	uint64_t records_by_event[OM_EVENT_COUNT];
	struct host_info host;

	/* configuration (docs/CONFIG.md) */
	int argc; /* the command line, applied again over the file at reload */
	char **argv;
	const char *config_path; /* NULL: none given (the default, if it exists) */
	struct om_config *cfg;	 /* the running configuration */
	struct record_settings set;
	struct filter filter;
	bool filters_seen; /* some configuration had rules: STOP counts exclusions */
	unsigned kgen;	   /* the kernel's generation in use */
	/* the generation a reload left, counted and reset at the next tick */
	bool retiring;
	unsigned retire_gen;
	struct om_config *retire_cfg;
	struct excluded_count *excluded;
	size_t nexcluded;
	uint64_t not_included;
	bool in_snapshot;		     /* records made from /proc: every rule applies */
	struct om_proc_attrs snapshot_attrs; /* of the process being snapshot */
	bool snapshot_have_attrs;
	char cgroup_root[4096];
	struct hasher *hasher;	      /* NULL: --hash-max 0 */
	struct evidence *evidence;    /* NULL: --evidence-max 0 or no rule */
	struct hasher_opts exec_opts; /* how exe files are proven (the hasher's and evidence's) */
	uint64_t snapshot_boot_ns;    /* CLOCK_BOOTTIME before the /proc snapshot was read */
};

static void count_excluded(struct recorder *rec, const char *name, uint64_t n)
{
	if (!n)
		return;
	for (size_t i = 0; i < rec->nexcluded; i++)
		if (strcmp(rec->excluded[i].name, name) == 0) {
			rec->excluded[i].n += n;
			return;
		}
	struct excluded_count *x =
	    realloc(rec->excluded, (rec->nexcluded + 1) * sizeof(*rec->excluded));
	if (!x)
		fatal("out of memory");
	rec->excluded = x;
	snprintf(x[rec->nexcluded].name, sizeof(x[rec->nexcluded].name), "%s", name);
	x[rec->nexcluded].n = n;
	rec->nexcluded++;
}

/* What the filter needs of a record: its process from the process table. */
static void filter_subject_of(struct recorder *rec, const struct om_record *r,
			      struct filter_subject *s)
{
	memset(s, 0, sizeof(*s));
	s->event = r->event;
	s->uid = r->uid;
	s->dir = -1;
	int64_t ppid = r->ppid;
	if (r->event == OM_EVENT_EXEC || r->event == OM_EVENT_EXISTING) {
		s->exe = r->exe;
		s->exe_len = r->exe_len;
	} else if (r->pid != OM_NONE) {
		struct proc_entry *e = proctable_lookup(&rec->c.procs, (uint32_t)r->pid);
		if (e && e->exe) {
			s->exe = e->exe;
			s->exe_len = e->exe_len;
		}
		if (e)
			ppid = e->ppid;
	}
	if (ppid != OM_NONE) {
		struct proc_entry *p = proctable_lookup(&rec->c.procs, (uint32_t)ppid);
		if (p && p->exe) {
			s->pexe = p->exe;
			s->pexe_len = p->exe_len;
		}
	}
	if (rec->in_snapshot) {
		s->have_attrs = rec->snapshot_have_attrs;
		s->attrs = rec->snapshot_attrs;
	} else if (rec->filter.user_needs_attrs && r->pid != OM_NONE) {
		s->have_attrs = filter_kernel_attrs(rec->l, (uint32_t)r->pid, &s->attrs) == 0;
	}
	if (r->event == OM_EVENT_NET) {
		s->family = r->dst.family;
		memcpy(s->daddr, r->dst.addr, 16);
		s->dport = r->dst_port;
		s->dir = r->direction && strcmp(r->direction, "in") == 0 ? OM_DIR_IN : OM_DIR_OUT;
		s->proto = !r->proto			       ? OM_FP_OTHER
			   : strcmp(r->proto, "tcp") == 0      ? OM_FP_TCP
			   : strcmp(r->proto, "udp") == 0      ? OM_FP_UDP
			   : strncmp(r->proto, "icmp", 4) == 0 ? OM_FP_ICMP
							       : OM_FP_OTHER;
	}
}

/* 1 when a rule drops r (counted) */
static bool filtered(struct recorder *rec, const struct om_record *r)
{
	if (!filter_judges(&rec->filter, r->event, !rec->in_snapshot))
		return false;
	struct filter_subject s;
	filter_subject_of(rec, r, &s);
	int rule;
	if (!filter_verdict(&rec->filter, &s, !rec->in_snapshot, &rule))
		return false;
	if (rule < 0)
		rec->not_included++;
	else
		count_excluded(rec, rec->cfg->rules[rule].name, 1);
	return true;
}

/* the hasher's view of the kernel side (loader.h; from its worker thread) */
static int hasher_exec_gen(void *ctx, uint32_t pid, uint64_t *gen)
{
	struct recorder *rec = ctx;
	return loader_exec_gen(rec->l, pid, gen);
}

static void hasher_known(void *ctx, const struct om_file_key *k)
{
	struct recorder *rec = ctx;
	loader_known_file(rec->l, k);
}

static void write_record(void *ctx, struct om_record *r)
{
	struct recorder *rec = ctx;
	if (filtered(rec, r))
		return;
	log_writer_append(&rec->w, r);
	rec->records_by_event[r->event]++;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct recorder *rec = ctx;
	consumer_sample(&rec->c, data, size);
	return 0;
}

/*
 * A file of the snapshot, open as fd (taken over), to hash: its identity is
 * what fstat says now. Its content is what the process runs when the
 * process still runs (start_ticks; 0: not checked) the image it had before
 * the snapshot began (no exec since, says the kernel's generation): a
 * running executable cannot be written. Returns the wait, or NULL with
 * r->sha256 = sha or the reason in d.
 */
static struct hash_wait *snapshot_hash(struct recorder *rec, int fd, uint32_t pid, int dirfd,
				       uint64_t start_ticks, uint64_t t, struct om_record *r,
				       char sha[HASH_SHA_HEX], struct strbuf *d)
{
	if (!rec->hasher) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	enum hash_err err = HASH_E_EXITED;
	struct stat st;
	struct statfs sf;
	if (fd < 0)
		goto fail;
	err = HASH_E_CHANGED;
	if (fstat(fd, &st) != 0 || fstatfs(fd, &sf) != 0) {
		err = HASH_E_UNREADABLE;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = HASH_E_NOT_FILE;
		goto fail;
	}
	if (dirfd >= 0) {
		/* after the fstat: the same process, alive, with no exec since */
		char buf[1024];
		struct proc_stat ps;
		int sfd = openat(dirfd, "stat", O_RDONLY | O_CLOEXEC);
		ssize_t n = sfd >= 0 ? read(sfd, buf, sizeof(buf) - 1) : -1;
		if (sfd >= 0)
			close(sfd);
		uint64_t gen;
		if (n <= 0 || procfs_parse_stat(buf, (size_t)n, &ps) != 0 ||
		    ps.start_ticks != start_ticks) {
			err = HASH_E_EXITED;
			goto fail;
		}
		if (loader_exec_gen(rec->l, pid, &gen) == 0 && gen >= rec->snapshot_boot_ns)
			goto fail;
	}
	struct hash_req q = {
	    .kind = HASH_REQ_FD,
	    .pid = pid,
	    .event_unix_ns = (int64_t)t,
	    .fd = fd,
	};
	file_id_from_stat(&q.id, &st, (long)sf.f_type);
	/* the generation, where the file system tells it (as the kernel side
	 * reads it), so that the key is the one a later EXEC of it has */
	long gen = 0; /* the ioctl's size; file systems write an int into it */
	if (ioctl(fd, FS_IOC_GETVERSION, &gen) == 0)
		q.id.generation = (uint32_t)gen;
	struct hash_wait *w = hasher_request(rec->hasher, &q, sha, &err);
	if (w || err == HASH_OK) {
		if (!w)
			r->sha256 = sha;
		return w;
	}
	rec->c.hash_errors++;
	hash_error_detail(d, err);
	return NULL;
fail:
	if (fd >= 0)
		close(fd);
	rec->c.hash_errors++;
	hash_error_detail(d, err);
	return NULL;
}

/* The kernel counters written as LOST kinds (docs/FORMAT.md says what each
 * means); the others are not losses (events, truncations, read failures). */
static const char *const lost_kind_names[OM_C_MAX] = {
    [OM_C_LOST_FORK] = "fork",	  [OM_C_LOST_EXEC] = "exec",
    [OM_C_LOST_EXIT] = "exit",	  [OM_C_LOST_MODLOAD] = "modload",
    [OM_C_LOST_NET] = "net",	  [OM_C_NO_SCRATCH] = "no_scratch",
    [OM_C_OVERSIZE] = "oversize", [OM_C_PENDING_EVICTED] = "pending_evicted",
    [OM_C_LOST_DNS] = "dns",	  [OM_C_LOST_INJECT] = "inject",
};

/* Records the kernel side could not hand over: STOP's lost= */
static uint64_t records_lost(const uint64_t cnt[OM_C_MAX])
{
	return cnt[OM_C_LOST_FORK] + cnt[OM_C_LOST_EXEC] + cnt[OM_C_LOST_EXIT] +
	       cnt[OM_C_LOST_MODLOAD] + cnt[OM_C_LOST_NET] + cnt[OM_C_NO_SCRATCH] +
	       cnt[OM_C_OVERSIZE] + cnt[OM_C_LOST_DNS] + cnt[OM_C_LOST_INJECT];
}

/* One LOST record for what a count grew by since it was last reported. */
static void lost_record(struct recorder *rec, uint64_t now, uint64_t *reported, const char *kind)
{
	if (now == *reported)
		return;
	char detail[96];
	snprintf(detail, sizeof(detail), "lost=%" PRIu64 " kind=%s", now - *reported, kind);
	struct om_record r;
	om_record_init(&r, OM_EVENT_LOST);
	r.time_ns = now_unix_ns();
	r.detail = detail;
	consumer_emit(&rec->c, &r, NULL); /* after the records held for their hash */
	*reported = now;
}

/* LOST records for what the kernel side could not hand over since last time
 * (final: at stop, every count brought up to date) */
static void report_lost(struct recorder *rec, int final)
{
	uint64_t cnt[OM_C_MAX];
	if (loader_counters(rec->l, cnt) != 0)
		return;
	for (int k = 0; k < OM_C_MAX; k++)
		if (lost_kind_names[k])
			lost_record(rec, cnt[k], &rec->lost_reported[k], lost_kind_names[k]);
	lost_record(rec, loader_hook_misses(rec->l), &rec->hook_misses_reported, "hook_skipped");
	lost_record(rec, loader_flows_evicted(rec->l, cnt[OM_C_FLOWS_NEW], final),
		    &rec->flows_evicted_reported, "flows_evicted");
	/* reuse the EVENTS slot to remember reported bad samples */
	lost_record(rec, rec->c.bad_samples, &rec->lost_reported[OM_C_EVENTS], "malformed");
}

/* MODLOAD for each file a running process maps executable (from its maps),
 * seeding the kernel's dedupe map so that it is not logged again live. */
static void snapshot_modules(struct recorder *rec, const struct proc_info *pi, const char *guid,
			     uint64_t t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%u/maps", pi->stat.pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return; /* it exited meanwhile */
	/* a library is mapped in several pieces: log each file once */
	struct {
		uint32_t dev;
		uint64_t ino;
	} seen[256];
	size_t nseen = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		struct proc_map m;
		if (procfs_parse_maps_line(line, &m) != 1)
			continue;
		uint32_t kdev = (m.dev_major << 20) | m.dev_minor;
		bool dup = false;
		for (size_t k = 0; k < nseen && !dup; k++)
			dup = seen[k].dev == kdev && seen[k].ino == m.ino;
		if (dup)
			continue;
		if (nseen < sizeof(seen) / sizeof(seen[0])) {
			seen[nseen].dev = kdev;
			seen[nseen].ino = m.ino;
			nseen++;
		}
		loader_seed_module(rec->l, pi->stat.pid, kdev, m.ino);
		struct om_record mr;
		om_record_init(&mr, OM_EVENT_MODLOAD);
		mr.time_ns = t;
		mr.pid = pi->stat.pid;
		mr.guid = guid;
		mr.uid = pi->uid;
		mr.path = m.path;
		mr.path_len = m.path_len;
		struct strbuf d = STRBUF_INIT;
		if (m.deleted)
			sb_adds(&d, " deleted=1");
		/* the mapping itself (the file it maps, deleted or not) */
		char mf[96], sha[HASH_SHA_HEX];
		snprintf(mf, sizeof(mf), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pi->stat.pid,
			 m.start, m.end);
		int fd = rec->hasher ? open(mf, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) : -1;
		struct stat st;
		if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_ino != m.ino)) {
			close(fd);
			fd = -1;
		}
		struct hash_wait *w = snapshot_hash(rec, fd, pi->stat.pid, -1, 0, t, &mr, sha, &d);
		mr.detail = d.len ? d.data + 1 : NULL;
		consumer_emit(&rec->c, &mr, w);
		sb_free(&d);
	}
	free(line);
	fclose(f);
}

/* EXISTING for one running process, its entry in the process table (unless
 * a live FORK/EXEC came first), then its modules. starts: every process's
 * start time, for the parent's guid. */
/* The filter's attributes of a process that ran before the recorder, from
 * /proc (the kernel keeps them for those it sees fork or exec). 0 or -1. */
static int attrs_from_proc(struct recorder *rec, uint32_t pid, uint32_t ppid,
			   struct om_proc_attrs *a)
{
	memset(a, 0, sizeof(*a));
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st) != 0)
		return -1;
	a->exe_dev = filter_kdev(st.st_dev);
	a->exe_ino = st.st_ino;
	snprintf(path, sizeof(path), "/proc/%u/exe", ppid);
	if (ppid && stat(path, &st) == 0) {
		a->pexe_dev = filter_kdev(st.st_dev);
		a->pexe_ino = st.st_ino;
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	FILE *f = fopen(path, "re");
	if (f) {
		char line[4096];
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "0::/", 4) != 0)
				continue;
			line[strcspn(line, "\n")] = '\0';
			char cg[8192];
			snprintf(cg, sizeof(cg), "%s%s", rec->cgroup_root, line + 3);
			if (rec->cgroup_root[0] && stat(cg, &st) == 0)
				a->cgroup = st.st_ino;
			break;
		}
		fclose(f);
	}
	return 0;
}

static void snapshot_process(struct recorder *rec, const struct proc_info *pi,
			     struct proctable *starts, struct procfs_net_cache *nets, uint64_t t)
{
	rec->snapshot_have_attrs =
	    attrs_from_proc(rec, pi->stat.pid, pi->stat.ppid, &rec->snapshot_attrs) == 0;
	if (rec->snapshot_have_attrs)
		filter_kernel_seed(rec->l, pi->stat.pid, &rec->snapshot_attrs);
	char guid[GUID_STR_LEN], pguid[GUID_STR_LEN];
	guid_format(guid, rec->c.boot_id, pi->stat.pid, pi->stat.start_ticks);
	struct proc_entry *parent = proctable_lookup(starts, pi->stat.ppid);
	pguid[0] = '\0';
	if (parent)
		guid_format(pguid, rec->c.boot_id, pi->stat.ppid, parent->start_ticks);

	struct om_record r;
	om_record_init(&r, OM_EVENT_EXISTING);
	r.time_ns = t;
	r.pid = pi->stat.pid;
	r.ppid = pi->stat.ppid;
	r.guid = guid;
	r.parent_guid = pguid[0] ? pguid : NULL;
	r.uid = pi->uid;
	r.exe = pi->exe.data;
	r.exe_len = pi->exe.len;
	r.args = pi->args.data;
	r.args_len = pi->args.len;
	r.has_cmdline = true;
	struct strbuf d = STRBUF_INIT;
	if (pi->args_truncated)
		sb_adds(&d, " truncated=1");
	if (pi->exe_deleted)
		sb_adds(&d, " deleted=1");
	if (pi->exe_memfd)
		sb_adds(&d, " memfd=1");
	char cid[CONTAINER_ID_LEN + 1];
	if (pi->cgroup.len) {
		r.cgroup = pi->cgroup.data;
		r.cgroup_len = pi->cgroup.len;
		if (container_id_from_cgroup(r.cgroup, r.cgroup_len, cid) == 0)
			r.container_id = cid;
	}
	char path[64], sha[HASH_SHA_HEX];
	snprintf(path, sizeof(path), "/proc/%u", pi->stat.pid);
	int dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* the standard descriptors, as an EXEC has them when one is a socket */
	struct om_stdio sio;
	bool stdio = dirfd >= 0 && procfs_read_stdio(dirfd, &sio, nets);
	if (stdio)
		stdio_detail(&d, &sio);
	int fd = dirfd >= 0 && rec->hasher
		     ? openat(dirfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
		     : -1;
	struct hash_wait *w =
	    snapshot_hash(rec, fd, pi->stat.pid, dirfd, pi->stat.start_ticks, t, &r, sha, &d);
	if (dirfd >= 0)
		close(dirfd);
	r.detail = d.len ? d.data + 1 : NULL;
	consumer_emit(&rec->c, &r, w);
	/* the reverse-shell rule of evidence, as at exec */
	bool reverse_shell = stdio && ev_exec_reverse_shell(r.detail);
	sb_free(&d);

	struct proc_entry *e = proctable_lookup(&rec->c.procs, pi->stat.pid);
	if (!e || e->start_ticks != pi->stat.start_ticks) {
		/* not already known from a live FORK/EXEC */
		e = proctable_put(&rec->c.procs, pi->stat.pid);
		e->ppid = pi->stat.ppid;
		e->start_ticks = pi->stat.start_ticks;
		memcpy(e->guid, guid, GUID_STR_LEN);
		memcpy(e->parent_guid, pguid, GUID_STR_LEN);
		proc_entry_set_image(e, pi->exe.data, pi->exe.len, pi->args.data, pi->args.len,
				     pi->args_truncated);
		uint32_t fl =
		    (pi->exe_deleted ? OM_F_DELETED : 0) | (pi->exe_memfd ? OM_F_MEMFD : 0);
		e->exe_suspicious = ev_exe_suspicious(fl, pi->exe.data, pi->exe.len);
		if (e->exe_suspicious && rec->evidence)
			evidence_snapshot(rec->evidence, pi->stat.pid, pi->stat.start_ticks, guid,
					  NULL, 0, NULL, 0, 0);
	}
	if (reverse_shell)
		consumer_evidence_ticks(&rec->c, EV_RULE_REVERSE_SHELL, pi->stat.pid,
					pi->stat.start_ticks, guid, pi->uid, "existing");
	snapshot_modules(rec, pi, guid, t);
}

/* EXISTING and MODLOAD for every process already running */
static void snapshot(struct recorder *rec, uint32_t cmdline_max)
{
	uint32_t *pids = NULL;
	size_t n = 0;
	if (procfs_list_pids("/proc", &pids, &n) != 0) {
		log_warn("cannot list /proc: no EXISTING records");
		return;
	}
	/* start times of all, so that parent guids can be derived */
	struct proctable starts;
	proctable_init(&starts);
	rec->snapshot_boot_ns = clock_ns(CLOCK_BOOTTIME);
	struct proc_info *infos = calloc(n ? n : 1, sizeof(*infos));
	bool *ok = calloc(n ? n : 1, sizeof(*ok));
	if (!infos || !ok)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++) {
		proc_info_init(&infos[i]);
		if (procfs_read("/proc", pids[i], cmdline_max, &infos[i]) != 0)
			continue;
		ok[i] = true;
		struct proc_entry *e = proctable_put(&starts, pids[i]);
		e->start_ticks = infos[i].stat.start_ticks;
	}
	uint64_t t = now_unix_ns();
	rec->in_snapshot = true;
	struct procfs_net_cache nets = {0};
	for (size_t i = 0; i < n; i++) {
		if (ok[i] && !infos[i].stat.is_kernel_thread) {
			snapshot_process(rec, &infos[i], &starts, &nets, t);
			/* written while the filter still sees this process's
			 * attributes (its hashes first) */
			consumer_finish(&rec->c, HASH_STOP_WAIT_MS);
		}
		proc_info_free(&infos[i]);
	}
	rec->in_snapshot = false;
	procfs_net_cache_free(&nets);
	free(infos);
	free(ok);
	free(pids);
	proctable_free(&starts);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: onmitsu record [--config FILE] [--log-dir DIR] [options]\n"
		"\n"
		"Record every process launch and exit, executable module and network flow\n"
		"into DIR/onmitsu.csv until SIGTERM or SIGINT. Needs root.\n"
		"\n"
		"  -C, --config FILE       settings and filter rules (default " CFG_DEFAULT_FILE
		",\n"
		"                          if it exists; docs/CONFIG.md); options given here\n"
		"                          override the file's; SIGHUP reads it again\n"
		"  -d, --log-dir DIR       log directory (default " DEFAULT_LOG_DIR ")\n"
		"      --ring-size BYTES   kernel ring buffer, power of two, 64K..1G; K/M/G\n"
		"                          suffixes (default 4M)\n"
		"      --cmdline-max BYTES bytes of argv kept per exec, 64..%u (default %u)\n"
		"      --hash-max BYTES    SHA-256 of executed and mapped files up to this size;\n"
		"                          0: none; K/M/G suffixes (default 64M)\n"
		"      --evidence-max BYTES  evidence kept in DIR/evidence when a rule fires,\n"
		"                          all in all (default 256M; 0: none)\n"
		"      --evidence-exe-max BYTES  the largest executable or mapping copied\n"
		"                          (default 32M)\n"
		"      --evidence-rules LIST  suspicious-exe-net,inject,reverse-shell (the\n"
		"                          default) or none\n"
		"      --evidence-environ redacted|full|none  the environment kept (default\n"
		"                          redacted: values of secrets replaced)\n"
		"%s"
		"  -v, --verbose           more diagnostics (twice: libbpf's debug output)\n"
		"  -h, --help              this help\n"
		"\n"
		"START is written once every hook is attached; STOP, with counters, after\n"
		"the kernel's buffer is drained. The log is flushed at least once a second.\n"
		"Format: docs/FORMAT.md. Exit status: 0 ok, 1 failure, 2 usage.\n",
		OM_CMDLINE_MAX, OM_CMDLINE_DEFAULT, log_writer_usage);
}

static const struct option record_opts[] = {
    {"config", required_argument, NULL, 'C'},
    {"log-dir", required_argument, NULL, 'd'},
    {"ring-size", required_argument, NULL, 'r'},
    {"cmdline-max", required_argument, NULL, 'c'},
    {"hash-max", required_argument, NULL, 'H'},
    {"evidence-max", required_argument, NULL, 0x4d00},
    {"evidence-exe-max", required_argument, NULL, 0x4d01},
    {"evidence-rules", required_argument, NULL, 0x4d02},
    {"evidence-environ", required_argument, NULL, 0x4d03},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    LOG_WRITER_LONGOPTS,
    {NULL, 0, NULL, 0},
};

/* the setting a command-line option sets, or -1 */
static int option_setting(int ch)
{
	switch (ch) {
	case 'd':
		return CFG_S_LOG_DIR;
	case 'r':
		return CFG_S_RING_SIZE;
	case 'c':
		return CFG_S_CMDLINE_MAX;
	case 'H':
		return CFG_S_HASH_MAX;
	case 0x4d00:
		return CFG_S_EVIDENCE_MAX;
	case 0x4d01:
		return CFG_S_EVIDENCE_EXE_MAX;
	case 0x4d02:
		return CFG_S_EVIDENCE_RULES;
	case 0x4d03:
		return CFG_S_EVIDENCE_ENVIRON;
	case LOG_OPT_FORMAT:
		return CFG_S_FORMAT;
	case LOG_OPT_ROTATE_SIZE:
		return CFG_S_ROTATE_SIZE;
	case LOG_OPT_ROTATE_AGE:
		return CFG_S_ROTATE_AGE;
	case LOG_OPT_KEEP_SIZE:
		return CFG_S_KEEP_SIZE;
	case LOG_OPT_KEEP_AGE:
		return CFG_S_KEEP_AGE;
	case LOG_OPT_COMPRESS:
		return CFG_S_COMPRESS;
	case LOG_OPT_SEAL_KEY:
		return CFG_S_SEAL_KEY;
	case LOG_OPT_SEAL_INTERVAL:
		return CFG_S_SEAL_INTERVAL;
	case LOG_OPT_SYSLOG:
		return CFG_S_SYSLOG;
	default:
		return -1;
	}
}

/*
 * Apply the command line to set (over what the file gave); with verbose,
 * also count -v. config: where --config points (NULL when not given).
 * 0: go on, else the exit status (0 after --help, 2 for bad usage).
 */
static int parse_record_args(int argc, char **argv, struct record_settings *set,
			     const char **config, bool verbose, bool *done)
{
	*done = false;
	int ch;
	char err[512];
	optind = 1;
	opterr = verbose; /* said once, on the first pass */
	while ((ch = getopt_long(argc, argv, "C:d:vh", record_opts, NULL)) != -1) {
		if (ch == 'd' && log_dir_option_check(optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, "onmitsu record: %s\n", err);
			return 2;
		}
		int s = option_setting(ch);
		if (s >= 0) {
			char why[256];
			if (record_setting_set(set, (enum cfg_setting)s, optarg, why,
					       sizeof(why)) != 0) {
				fprintf(stderr, "onmitsu record: bad --%s \"%s\": %s\n",
					cfg_setting_name((enum cfg_setting)s), optarg, why);
				return 2;
			}
			continue;
		}
		switch (ch) {
		case 'C':
			if (!*optarg) {
				fprintf(stderr,
					"onmitsu record: --config needs a file, not \"\"\n");
				return 2;
			}
			*config = optarg;
			break;
		case 'v':
			if (verbose)
				log_verbosity++;
			break;
		case 'h':
			usage(stdout);
			*done = true;
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "onmitsu record: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

/*
 * The configuration file (the default one when --config is not given), then
 * the command line over it. *cfg: the file read (empty when the default
 * does not exist). 0, 1 when the file cannot be used (said why).
 */
static int load_settings(struct recorder *rec, struct om_config *cfg, struct record_settings *set)
{
	const char *path = rec->config_path ? rec->config_path : CFG_DEFAULT_FILE;
	char err[1024];
	config_init(cfg);
	if (config_load(cfg, path, rec->config_path != NULL, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 1;
	}
	record_settings_init(set);
	if (config_apply(cfg, set, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	const char *ignored = NULL;
	bool done;
	if (parse_record_args(rec->argc, rec->argv, set, &ignored, false, &done) != 0)
		return 1; /* cannot be: checked at start */
	log_settings_finish(&set->ls);
	return 0;
}

/* The writer keeps pointers to these for the whole run: copies of their own,
 * so that a reload can free the configuration they came from. */
static void settings_own(struct record_settings *set)
{
	set->dir = strdup(set->dir);
	if (set->ls.w.seal_key)
		set->ls.w.seal_key = strdup(set->ls.w.seal_key);
	if (set->ls.syslog)
		set->ls.w.syslog = set->ls.syslog = strdup(set->ls.syslog);
	if (!set->dir)
		fatal("out of memory");
}

static void settings_free(struct record_settings *set)
{
	free((char *)set->dir);
	free((char *)set->ls.w.seal_key);
	free((char *)set->ls.syslog);
}

/* Compile cfg's rules into f and the kernel. 0, or -1 with err. */
static int filters_apply(struct recorder *rec, const struct om_config *cfg, struct filter *f,
			 char *err, size_t errsize)
{
	struct strbuf warnings = STRBUF_INIT;
	struct filter_env env = {.cgroup_root = rec->cgroup_root, .warnings = &warnings};
	filter_build(f, cfg, &env);
	struct filter_tables t;
	filter_tables_build(&t, f);
	unsigned gen;
	int rc = filter_kernel_apply(rec->l, &t, cfg->nrules > 0, &gen, err, errsize);
	filter_tables_free(&t);
	if (rc != 0) {
		filter_free(f);
		sb_free(&warnings);
		return -1;
	}
	/* a missing file or cgroup is not an error: it may come later */
	for (char *p = warnings.data, *nl; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		log_warnx("%s", p);
	}
	sb_free(&warnings);
	rec->kgen = gen;
	if (cfg->nrules)
		rec->filters_seen = true;
	return 0;
}

/* The events the kernel dropped in generation gen, counted by the rule
 * names of cfg, and reset there. */
static void collect_kernel_hits(struct recorder *rec, unsigned gen, const struct om_config *cfg)
{
	uint64_t hits[OM_FILTER_HIT_SLOTS];
	if (filter_kernel_hits(rec->l, gen, hits, true) != 0)
		return;
	for (size_t i = 0; i < cfg->nrules && i < OM_FILTER_RULES; i++)
		count_excluded(rec, cfg->rules[i].name, hits[i]);
	rec->not_included += hits[OM_FILTER_NOT_INCLUDED];
}

/* After a reload, the generation it left: a program that read it just
 * before the switch may still count there, so it is counted a tick later. */
static void retire_old(struct recorder *rec)
{
	if (!rec->retiring)
		return;
	collect_kernel_hits(rec, rec->retire_gen, rec->retire_cfg);
	config_free(rec->retire_cfg);
	free(rec->retire_cfg);
	rec->retire_cfg = NULL;
	rec->retiring = false;
}

/* Open the log, load and attach every hook, write START, snapshot what
 * already runs, then drop every capability. 0, or -1 (said why). */
static int recorder_begin(struct recorder *rec)
{
	struct record_settings *a = &rec->set;
	if (host_info_read(&rec->host) != 0)
		return -1;
	a->ls.w.host.name = rec->host.hostname;
	a->ls.w.host.id = rec->host.machine_id;
	a->ls.w.host.boot_id = rec->host.boot_id;
	if (log_writer_open(&rec->w, a->dir, &a->ls.w) != 0)
		return -1;
	consumer_init(&rec->c, rec->host.boot_id_bytes, write_record, rec);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct loader_opts lo = {
	    .ring_bytes = (uint32_t)a->ring,
	    .cmdline_max = (uint32_t)a->cmdline_max,
	    .wakeup_bytes = (uint32_t)(a->ring / 4),
	    .hash_max = a->hash_max,
	};
	struct strbuf hooks = STRBUF_INIT;
	rec->l = loader_start(&lo, on_sample, rec, &hooks);
	char ferr[512];
	if (rec->l && filters_apply(rec, rec->cfg, &rec->filter, ferr, sizeof(ferr)) != 0) {
		log_warnx("%s", ferr);
		loader_stop(rec->l);
		rec->l = NULL;
	}
	if (!rec->l) {
		log_warnx("recording did not start");
		sb_free(&hooks);
		consumer_free(&rec->c);
		log_writer_close(&rec->w);
		return -1;
	}
	struct inject_source src = {loader_inject_read, loader_inject_forget, rec->l};
	consumer_set_inject_source(&rec->c, &src);

	/* START: every hook is attached */
	struct strbuf d = STRBUF_INIT;
	sb_addf(&d, "version=%s hooks=%s ", ONMITSU_VERSION, sb_str(&hooks));
	host_info_detail(&rec->host, &d);
	sb_addf(&d, " ring_bytes=%" PRIu64 " cmdline_max=%" PRIu64 " hash_max=%" PRIu64, a->ring,
		a->cmdline_max, a->hash_max);
	sb_addf(&d, " evidence_max=%" PRIu64 " evidence_exe_max=%" PRIu64 " evidence_rules=",
		a->evidence_max, a->evidence_exe_max);
	for (int i = 0, n = 0; i < EV_RULE_COUNT; i++)
		if (a->evidence_rules & (1u << i))
			sb_addf(&d, "%s%s", n++ ? "," : "", ev_rule_name((enum ev_rule)i));
	if (!a->evidence_rules)
		sb_adds(&d, "none");
	sb_addf(&d, " evidence_environ=%s",
		a->evidence_environ == EV_ENV_FULL   ? "full"
		: a->evidence_environ == EV_ENV_NONE ? "none"
						     : "redacted");
	if (rec->cfg->loaded) {
		char hex[65];
		config_hash_hex(rec->cfg, hex);
		sb_addf(&d, " config=%s config_sha256=%s filter_rules=%zu", rec->cfg->name, hex,
			rec->cfg->nrules);
	}
	struct om_record r;
	om_record_init(&r, OM_EVENT_START);
	r.time_ns = now_unix_ns();
	log_writer_start_detail(&rec->w, &d, r.time_ns);
	r.pid = getpid();
	r.detail = d.data;
	write_record(rec, &r);
	sb_free(&hooks);
	sb_free(&d);
	if (log_writer_flush(&rec->w) != 0)
		log_warnx("START could not be written yet");

	/* before capabilities are dropped: the worker keeps those it needs */
	struct hasher_opts ho = {
	    .max_size = a->hash_max,
	    .proc_root = "/proc",
	    .exec_gen = hasher_exec_gen,
	    .known = hasher_known,
	    .ctx = rec,
	    .running_exe_unwritable = hasher_probe_running_exe_unwritable(),
	};
	rec->exec_opts = ho;
	if (a->evidence_max && a->evidence_rules) {
		/* snapshots hold descriptors (an exe and mappings each, at most
		 * EV_SNAPSHOTS_MAX * (1 + EV_MAPS_MAX)) besides the hasher's: the
		 * soft limit is raised to the hard one (no privilege needed) */
		struct rlimit nf;
		if (getrlimit(RLIMIT_NOFILE, &nf) == 0 && nf.rlim_cur < nf.rlim_max) {
			nf.rlim_cur = nf.rlim_max;
			setrlimit(RLIMIT_NOFILE, &nf);
		}
		struct evidence_opts eo = {
		    .log_dirfd = rec->w.dirfd,
		    .max_total = a->evidence_max,
		    .exe_max = a->evidence_exe_max,
		    .rules = a->evidence_rules,
		    .environ_mode = (enum ev_environ)a->evidence_environ,
		    .exec = ho,
		};
		rec->evidence = evidence_new(&eo);
		if (!rec->evidence)
			log_warnx("evidence preservation is off (see above)");
		rec->c.evidence = rec->evidence;
	}
	if (a->hash_max) {
		if (!ho.running_exe_unwritable)
			log_warnx(
			    "this kernel lets a running executable be written: a file changed "
			    "after its exec is not hashed (hash_error=changed)");
		rec->hasher = hasher_new(&ho);
		if (!rec->hasher)
			fatal("cannot start the hashing thread");
		rec->c.hasher = rec->hasher;
	}
	snapshot(rec, (uint32_t)a->cmdline_max);
	consumer_drain(&rec->c);
	log_writer_flush(&rec->w);
	/* privilege separation: root was needed to load, attach and read /proc;
	 * consuming, formatting and writing need none */
	if (drop_all_capabilities() != 0)
		log_warn("cannot drop capabilities; recording goes on with them");
	/* loading parsed the kernel's BTF (megabytes): give that memory back */
	malloc_trim(0);
	log_info("recording into %s/%s", a->dir, LOG_ACTIVE_NAME);
	return 0;
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* The settings a reload changes, as a comma list into changed; -1 with
 * err when one of them cannot change while recording. */
static int settings_diff(const struct record_settings *o, const struct record_settings *n,
			 struct strbuf *changed, char *err, size_t errsize)
{
	const struct log_writer_opts *ow = &o->ls.w, *nw = &n->ls.w;
	bool diff[CFG_S_COUNT] = {
	    [CFG_S_LOG_DIR] = strcmp(o->dir, n->dir) != 0,
	    [CFG_S_FORMAT] = ow->format != nw->format,
	    [CFG_S_ROTATE_SIZE] = ow->rotate_size != nw->rotate_size,
	    [CFG_S_ROTATE_AGE] = ow->rotate_age != nw->rotate_age,
	    [CFG_S_KEEP_SIZE] = ow->keep_size != nw->keep_size,
	    [CFG_S_KEEP_AGE] = ow->keep_age != nw->keep_age,
	    [CFG_S_COMPRESS] = ow->compress_level != nw->compress_level,
	    [CFG_S_SEAL_KEY] = str_differs(ow->seal_key, nw->seal_key),
	    [CFG_S_SEAL_INTERVAL] = ow->seal_interval != nw->seal_interval,
	    [CFG_S_SYSLOG] = str_differs(o->ls.syslog, n->ls.syslog),
	    [CFG_S_RING_SIZE] = o->ring != n->ring,
	    [CFG_S_CMDLINE_MAX] = o->cmdline_max != n->cmdline_max,
	    [CFG_S_HASH_MAX] = o->hash_max != n->hash_max,
	    [CFG_S_EVIDENCE_MAX] = o->evidence_max != n->evidence_max,
	    [CFG_S_EVIDENCE_EXE_MAX] = o->evidence_exe_max != n->evidence_exe_max,
	    [CFG_S_EVIDENCE_RULES] = o->evidence_rules != n->evidence_rules,
	    [CFG_S_EVIDENCE_ENVIRON] = o->evidence_environ != n->evidence_environ,
	};
	for (int s = 0; s < CFG_S_COUNT; s++) {
		if (!diff[s])
			continue;
		if (!cfg_setting_reloadable((enum cfg_setting)s)) {
			snprintf(err, errsize,
				 "%s cannot change while recording (restart onmitsu for it, or "
				 "keep its value in the file)",
				 cfg_setting_name((enum cfg_setting)s));
			return -1;
		}
		sb_addf(changed, "%s%s", changed->len ? "," : "",
			cfg_setting_name((enum cfg_setting)s));
	}
	return 0;
}

/*
 * SIGHUP: read the file again. A bad one, or one that changes what cannot
 * change while recording, is refused (said on stderr) and nothing changes.
 * A good one: the kernel's filter switches generation in one write, the
 * writer takes its new limits, and a CONFIG record says what changed.
 */
static void reload(struct recorder *rec)
{
	retire_old(rec); /* a generation left by an earlier reload */
	struct om_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		fatal("out of memory");
	struct record_settings set;
	char err[1024];
	struct strbuf changed = STRBUF_INIT;
	struct filter f;
	if (load_settings(rec, cfg, &set) != 0) {
		log_warnx("reload refused; the running configuration stays");
		goto refused;
	}
	if (settings_diff(&rec->set, &set, &changed, err, sizeof(err)) != 0) {
		log_warnx("reload refused: %s:%s; the running configuration stays", cfg->name, err);
		goto refused;
	}
	bool thread_needed = set.ls.w.compress_level > 0 || set.ls.w.keep_size || set.ls.w.keep_age;
	if (thread_needed && !rec->w.thread_running) {
		log_warnx("reload refused: %s: compression and retention were off at start; "
			  "turning them on needs a restart; the running configuration stays",
			  cfg->name);
		goto refused;
	}
	struct strbuf old_rules = STRBUF_INIT, new_rules = STRBUF_INIT;
	config_rules_text(rec->cfg, &old_rules);
	config_rules_text(cfg, &new_rules);
	bool rules_changed = strcmp(sb_str(&old_rules), sb_str(&new_rules)) != 0;
	sb_free(&old_rules);
	sb_free(&new_rules);
	unsigned old_gen = rec->kgen;
	if (filters_apply(rec, cfg, &f, err, sizeof(err)) != 0) {
		log_warnx("reload refused: %s; the running configuration stays", err);
		goto refused;
	}
	/* switched: what the old generation still counts is collected a tick later */
	rec->retiring = true;
	rec->retire_gen = old_gen;
	rec->retire_cfg = rec->cfg;
	filter_free(&rec->filter);
	rec->filter = f;
	rec->cfg = cfg;
	if (rules_changed)
		sb_addf(&changed, "%srules", changed.len ? "," : "");

	/* the writer's limits: the recording thread reads rotation and the
	 * seal interval; the compressor the rest, under its lock */
	rec->w.opts.rotate_size = set.ls.w.rotate_size;
	rec->w.opts.rotate_age = set.ls.w.rotate_age;
	rec->w.opts.seal_interval = set.ls.w.seal_interval;
	pthread_mutex_lock(&rec->w.mu);
	rec->w.opts.keep_size = set.ls.w.keep_size;
	rec->w.opts.keep_age = set.ls.w.keep_age;
	rec->w.opts.compress_level = set.ls.w.compress_level;
	pthread_mutex_unlock(&rec->w.mu);
	rec->set.ls.w.rotate_size = set.ls.w.rotate_size;
	rec->set.ls.w.rotate_age = set.ls.w.rotate_age;
	rec->set.ls.w.seal_interval = set.ls.w.seal_interval;
	rec->set.ls.w.keep_size = set.ls.w.keep_size;
	rec->set.ls.w.keep_age = set.ls.w.keep_age;
	rec->set.ls.w.compress_level = set.ls.w.compress_level;
	if (rec->w.thread_running)
		log_writer_maintain(&rec->w);

	char hex[65];
	config_hash_hex(cfg, hex);
	struct strbuf d = STRBUF_INIT;
	sb_addf(&d, "file=%s sha256=%s rules=%zu changed=%s", cfg->loaded ? cfg->name : "none",
		cfg->loaded ? hex : "none", cfg->nrules, changed.len ? sb_str(&changed) : "none");
	struct om_record r;
	om_record_init(&r, OM_EVENT_CONFIG);
	r.time_ns = now_unix_ns();
	r.pid = getpid();
	r.result = "applied";
	r.detail = d.data;
	write_record(rec, &r);
	log_writer_flush(&rec->w);
	log_info("configuration %s applied (changed: %s)", cfg->loaded ? cfg->name : "(none)",
		 changed.len ? sb_str(&changed) : "nothing");
	sb_free(&d);
	sb_free(&changed);
	return;
refused:
	sb_free(&changed);
	config_free(cfg);
	free(cfg);
}

/* Consume samples until SIGTERM/SIGINT: flush at least once a second (or
 * when a megabyte waits), and once a second report losses, rotate by age
 * and seal; SIGHUP reloads the configuration. 0, or 1 when the ring buffer
 * cannot be read. */
static int record_loop(struct recorder *rec)
{
	uint64_t last = now_mono_ms();
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			reload(rec);
		}
		if (loader_poll(rec->l, POLL_MS) < 0) {
			log_warn("reading the ring buffer failed");
			return 1;
		}
		consumer_drain(&rec->c);
		if (rec->evidence)
			evidence_emit(rec->evidence, &rec->c);
		uint64_t now = now_mono_ms();
		uint64_t ms = now - last;
		if (ms >= 1000 || rec->w.buf.len > (1u << 20)) {
			if (ms >= 1000) {
				consumer_sync_clock(&rec->c);
				inject_tick(&rec->c);
				report_lost(rec, 0);
				retire_old(rec);
				/* rotation by age, interval seals */
				log_writer_tick(&rec->w, now_unix_ns());
				last = now;
			}
			log_writer_flush(&rec->w);
		}
	}
	return 0;
}

/* " excluded=N excluded_RULE=N ... not_included=N" for STOP */
static void excluded_detail(struct recorder *rec, struct strbuf *d)
{
	retire_old(rec);
	collect_kernel_hits(rec, rec->kgen, rec->cfg);
	uint64_t total = rec->not_included;
	for (size_t i = 0; i < rec->nexcluded; i++)
		total += rec->excluded[i].n;
	sb_addf(d, " excluded=%" PRIu64, total);
	/* every rule of the running configuration, and any that dropped some */
	for (size_t i = 0; i < rec->cfg->nrules; i++)
		count_excluded(rec, rec->cfg->rules[i].name, 0);
	for (size_t i = 0; i < rec->cfg->nrules; i++) {
		uint64_t n = 0;
		for (size_t k = 0; k < rec->nexcluded; k++)
			if (strcmp(rec->excluded[k].name, rec->cfg->rules[i].name) == 0)
				n = rec->excluded[k].n;
		if (!rec->cfg->rules[i].include)
			sb_addf(d, " excluded_%s=%" PRIu64, rec->cfg->rules[i].name, n);
	}
	for (size_t k = 0; k < rec->nexcluded; k++) {
		bool listed = false;
		for (size_t i = 0; i < rec->cfg->nrules && !listed; i++)
			listed = !rec->cfg->rules[i].include &&
				 strcmp(rec->excluded[k].name, rec->cfg->rules[i].name) == 0;
		if (!listed)
			sb_addf(d, " excluded_%s=%" PRIu64, rec->excluded[k].name,
				rec->excluded[k].n);
	}
	sb_addf(d, " not_included=%" PRIu64, rec->not_included);
}

/* Drain what the kernel still holds, write STOP with the counters, sync,
 * and release everything. Returns rc, or 1 when the log cannot be synced. */
static int recorder_end(struct recorder *rec, int rc)
{
	for (int i = 0; i < 100 && loader_poll(rec->l, 0) > 0; i++)
		;
	inject_tick(&rec->c);
	/* the evidence of rules already fired, then its records */
	evidence_finish(rec->evidence, &rec->c, EVIDENCE_STOP_WAIT_MS);
	/* the hashes still to come (each ends: --hash-max bounds its time) */
	consumer_finish(&rec->c, HASH_STOP_WAIT_MS);
	report_lost(rec, 1);
	uint64_t cnt[OM_C_MAX] = {0};
	loader_counters(rec->l, cnt);
	struct strbuf d = STRBUF_INIT;
	sb_addf(&d,
		"events=%" PRIu64 " lost=%" PRIu64 " truncated_args=%" PRIu64
		" truncated_paths=%" PRIu64 " read_failures=%" PRIu64 " hooks_skipped=%" PRIu64
		" bad_samples=%" PRIu64 " dropped_unwritten=%" PRIu64 " no_scratch=%" PRIu64
		" oversize=%" PRIu64 " pending_evicted=%" PRIu64 " flows_evicted=%" PRIu64
		" truncated_env=%" PRIu64,
		cnt[OM_C_EVENTS], records_lost(cnt), cnt[OM_C_TRUNC_ARGS], cnt[OM_C_TRUNC_PATH],
		cnt[OM_C_READ_FAIL], rec->hook_misses_reported, rec->c.bad_samples, rec->w.dropped,
		cnt[OM_C_NO_SCRATCH], cnt[OM_C_OVERSIZE], cnt[OM_C_PENDING_EVICTED],
		rec->flows_evicted_reported, cnt[OM_C_TRUNC_ENV]);
	sb_addf(&d, " dns_malformed=%" PRIu64, rec->c.dns_malformed);
	struct hasher_stats hs = {0};
	if (rec->hasher)
		hasher_get_stats(rec->hasher, &hs);
	sb_addf(&d,
		" hashes=%" PRIu64 " hash_cache_hits=%" PRIu64 " hash_errors=%" PRIu64
		" hash_bytes=%" PRIu64,
		hs.hashed, hs.cache_hits, rec->c.hash_errors, hs.bytes);
	struct evidence_stats es = {0};
	if (rec->evidence)
		evidence_get_stats(rec->evidence, &es);
	sb_addf(&d,
		" evidence_kept=%" PRIu64 " evidence_partial=%" PRIu64 " evidence_skipped=%" PRIu64
		" evidence_bytes=%" PRIu64 " evidence_snapshots=%" PRIu64
		" evidence_snapshots_dropped=%" PRIu64,
		es.kept, es.partial, es.skipped, es.bytes, es.snapshots, es.snapshots_dropped);
	for (int e = 0; e < OM_EVENT_COUNT; e++) {
		if (e == OM_EVENT_STOP || e == OM_EVENT_SEAL)
			continue; /* the writer counts its seals */
		char key[16];
		snprintf(key, sizeof(key), "%s", om_event_name(e));
		for (char *p = key; *p; p++)
			*p = (char)(*p - 'A' + 'a');
		sb_addf(&d, " %s_records=%" PRIu64, key, rec->records_by_event[e]);
	}
	if (rec->filters_seen)
		excluded_detail(rec, &d);
	log_writer_stop_detail(&rec->w, &d);
	struct om_record r;
	om_record_init(&r, OM_EVENT_STOP);
	r.time_ns = now_unix_ns();
	r.pid = getpid();
	r.detail = d.data;
	write_record(rec, &r);
	log_writer_sync(&rec->w); /* a full disk may take a moment to make room */
	sb_free(&d);
	consumer_free(&rec->c);
	evidence_free(rec->evidence);
	hasher_free(rec->hasher);
	loader_stop(rec->l);
	/* 1 when records could not be written in the end (the writer says which) */
	if (log_writer_close(&rec->w) != 0)
		rc = 1;
	return rc;
}

/* the cgroup v2 root (for cgroup rules), "" when none is mounted */
static void find_cgroup_root(char *path, size_t size)
{
	path[0] = '\0';
	FILE *f = fopen("/proc/self/mounts", "re");
	if (!f)
		return;
	char dev[256], dir[4096], type[64];
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3)
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(path, size, "%s", dir);
			break;
		}
	fclose(f);
}

int cmd_record(int argc, char **argv)
{
	struct recorder *rec = calloc(1, sizeof(*rec));
	if (!rec)
		fatal("out of memory");
	rec->argc = argc;
	rec->argv = argv;
	/* first the command line alone: usage errors, --help, --config */
	struct record_settings probe;
	record_settings_init(&probe);
	bool done;
	int rc = parse_record_args(argc, argv, &probe, &rec->config_path, true, &done);
	if (rc != 0 || done) {
		free(rec);
		return rc;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "onmitsu record: must run as root (it loads eBPF programs)\n");
		free(rec);
		return 1;
	}
	rec->cfg = calloc(1, sizeof(*rec->cfg));
	if (!rec->cfg)
		fatal("out of memory");
	/* a bad configuration file is bad usage: exit status 2 */
	if (load_settings(rec, rec->cfg, &rec->set) != 0) {
		config_free(rec->cfg);
		free(rec->cfg);
		free(rec);
		return 2;
	}
	settings_own(&rec->set);
	find_cgroup_root(rec->cgroup_root, sizeof(rec->cgroup_root));
	umask(077);
	if (recorder_begin(rec) != 0) {
		rc = 1;
	} else {
		service_notify("READY=1");
		rc = record_loop(rec);
		service_notify("STOPPING=1");
		rc = recorder_end(rec, rc);
	}
	filter_free(&rec->filter);
	config_free(rec->cfg);
	free(rec->cfg);
	settings_free(&rec->set);
	free(rec->excluded);
	free(rec);
	return rc;
}
