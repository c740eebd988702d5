/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `onmitsu record`: load the hooks, write START, snapshot what already runs
 * (EXISTING, MODLOAD), then turn ring-buffer samples into records until
 * SIGTERM or SIGINT; drain, write STOP with the counters, and exit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log/options.h"
#include "log/record.h"
#include "log/writer.h"
#include "record/commands.h"
#include "record/consumer.h"
#include "record/guid.h"
#include "record/host.h"
#include "record/loader.h"
#include "record/procfs.h"
#include "util/log.h"
#include "util/notify.h"
#include "util/parse.h"
#include "util/privs.h"
#include "util/time.h"

#define DEFAULT_LOG_DIR "/var/log/onmitsu"
#define DEFAULT_RING_BYTES (4u << 20) /* mapped twice: 8 MiB of RSS */
#define POLL_MS 10

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct recorder {
	struct log_writer w;
	struct consumer c;
	struct loader *l;
	uint64_t lost_reported[OM_C_MAX];
	uint64_t hook_misses_reported;	 /* kernel-skipped program runs already in LOST */
	uint64_t flows_evicted_reported; /* flows pushed out of the kernel's map, in LOST */
	uint64_t records_by_event[OM_EVENT_COUNT];
	struct host_info host;
};

static void write_record(void *ctx, struct om_record *r)
{
	struct recorder *rec = ctx;
	log_writer_append(&rec->w, r);
	rec->records_by_event[r->event]++;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct recorder *rec = ctx;
	consumer_sample(&rec->c, data, size);
	return 0;
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
	write_record(rec, &r);
	*reported = now;
}

/* LOST records for what the kernel side could not hand over since last time */
static void report_lost(struct recorder *rec)
{
	uint64_t cnt[OM_C_MAX];
	if (loader_counters(rec->l, cnt) != 0)
		return;
	for (int k = 0; k < OM_C_MAX; k++)
		if (lost_kind_names[k])
			lost_record(rec, cnt[k], &rec->lost_reported[k], lost_kind_names[k]);
	lost_record(rec, loader_hook_misses(rec->l), &rec->hook_misses_reported, "hook_skipped");
	lost_record(rec, loader_flows_evicted(rec->l, cnt[OM_C_FLOWS_NEW]),
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
		mr.detail = m.deleted ? "deleted=1" : NULL;
		write_record(rec, &mr);
	}
	free(line);
	fclose(f);
}

/* EXISTING for one running process, its entry in the process table (unless
 * a live FORK/EXEC came first), then its modules. starts: every process's
 * start time, for the parent's guid. */
static void snapshot_process(struct recorder *rec, const struct proc_info *pi,
			     struct proctable *starts, uint64_t t)
{
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
	r.detail = d.len ? d.data + 1 : NULL;
	write_record(rec, &r);
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
	}
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
	for (size_t i = 0; i < n; i++) {
		if (ok[i] && !infos[i].stat.is_kernel_thread)
			snapshot_process(rec, &infos[i], &starts, t);
		proc_info_free(&infos[i]);
	}
	free(infos);
	free(ok);
	free(pids);
	proctable_free(&starts);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: onmitsu record [--log-dir DIR] [options]\n"
		"\n"
		"Record every process launch and exit, executable module and network flow\n"
		"into DIR/onmitsu.csv until SIGTERM or SIGINT. Needs root.\n"
		"\n"
		"  -d, --log-dir DIR       log directory (default " DEFAULT_LOG_DIR ")\n"
		"      --ring-size BYTES   kernel ring buffer, power of two, 64K..1G; K/M/G\n"
		"                          suffixes (default 4M)\n"
		"      --cmdline-max BYTES bytes of argv kept per exec, 64..%u (default %u)\n"
		"%s"
		"  -v, --verbose           more diagnostics (twice: libbpf's debug output)\n"
		"  -h, --help              this help\n"
		"\n"
		"START is written once every hook is attached; STOP, with counters, after\n"
		"the kernel's buffer is drained. The log is flushed at least once a second.\n"
		"Format: docs/FORMAT.md. Exit status: 0 ok, 1 failure, 2 usage.\n",
		OM_CMDLINE_MAX, OM_CMDLINE_DEFAULT, log_writer_usage);
}

struct record_args {
	const char *dir;
	struct log_settings ls;
	uint64_t ring, cmdline_max;
};

/* 0: go on, else the exit status (0 after --help, 2 for bad usage). */
static int parse_record_args(int argc, char **argv, struct record_args *a, bool *done)
{
	static const struct option opts[] = {
	    {"log-dir", required_argument, NULL, 'd'},
	    {"ring-size", required_argument, NULL, 'r'},
	    {"cmdline-max", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    LOG_WRITER_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	a->dir = DEFAULT_LOG_DIR;
	log_settings_init(&a->ls);
	a->ring = DEFAULT_RING_BYTES;
	a->cmdline_max = OM_CMDLINE_DEFAULT;
	*done = false;
	int ch;
	char err[512];
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			a->dir = optarg;
			if (log_dir_option_check(a->dir, err, sizeof(err)) != 0) {
				fprintf(stderr, "onmitsu record: %s\n", err);
				return 2;
			}
			break;
		case 'r':
			if (parse_size(optarg, &a->ring) != 0 || a->ring < 65536 ||
			    a->ring > (1u << 30) || (a->ring & (a->ring - 1))) {
				fprintf(
				    stderr,
				    "onmitsu record: bad --ring-size \"%s\": want a power of two "
				    "from 64K to 1G, e.g. 8M\n",
				    optarg);
				return 2;
			}
			break;
		case 'c':
			if (parse_size(optarg, &a->cmdline_max) != 0 || a->cmdline_max < 64 ||
			    a->cmdline_max > OM_CMDLINE_MAX) {
				fprintf(
				    stderr,
				    "onmitsu record: bad --cmdline-max \"%s\": want 64..%u bytes\n",
				    optarg, OM_CMDLINE_MAX);
				return 2;
			}
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'h':
			usage(stdout);
			*done = true;
			return 0;
		default:
			switch (log_settings_option(&a->ls, ch, optarg)) {
			case 1:
				continue;
			case -1:
				return 2;
			}
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

/* Open the log, load and attach every hook, write START, snapshot what
 * already runs, then drop every capability. 0, or -1 (said why). */
static int recorder_begin(struct recorder *rec, struct record_args *a)
{
	if (host_info_read(&rec->host) != 0)
		return -1;
	log_settings_finish(&a->ls);
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
	signal(SIGPIPE, SIG_IGN);

	struct loader_opts lo = {
	    .ring_bytes = (uint32_t)a->ring,
	    .cmdline_max = (uint32_t)a->cmdline_max,
	    .wakeup_bytes = (uint32_t)(a->ring / 4),
	};
	struct strbuf hooks = STRBUF_INIT;
	rec->l = loader_start(&lo, on_sample, rec, &hooks);
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
	sb_addf(&d, " ring_bytes=%" PRIu64 " cmdline_max=%" PRIu64, a->ring, a->cmdline_max);
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

	snapshot(rec, (uint32_t)a->cmdline_max);
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

/* Consume samples until SIGTERM/SIGINT: flush at least once a second (or
 * when a megabyte waits), and once a second report losses, rotate by age
 * and seal. 0, or 1 when the ring buffer cannot be read. */
static int record_loop(struct recorder *rec)
{
	uint64_t last = now_mono_ms();
	while (!stop_requested) {
		if (loader_poll(rec->l, POLL_MS) < 0) {
			log_warn("reading the ring buffer failed");
			return 1;
		}
		uint64_t now = now_mono_ms();
		uint64_t ms = now - last;
		if (ms >= 1000 || rec->w.buf.len > (1u << 20)) {
			if (ms >= 1000) {
				consumer_sync_clock(&rec->c);
				inject_tick(&rec->c);
				report_lost(rec);
				/* rotation by age, interval seals */
				log_writer_tick(&rec->w, now_unix_ns());
				last = now;
			}
			log_writer_flush(&rec->w);
		}
	}
	return 0;
}

/* Drain what the kernel still holds, write STOP with the counters, sync,
 * and release everything. Returns rc, or 1 when the log cannot be synced. */
static int recorder_end(struct recorder *rec, int rc)
{
	for (int i = 0; i < 100 && loader_poll(rec->l, 0) > 0; i++)
		;
	inject_tick(&rec->c);
	report_lost(rec);
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
	for (int e = 0; e < OM_EVENT_COUNT; e++) {
		if (e == OM_EVENT_STOP || e == OM_EVENT_SEAL)
			continue; /* the writer counts its seals */
		char key[16];
		snprintf(key, sizeof(key), "%s", om_event_name(e));
		for (char *p = key; *p; p++)
			*p = (char)(*p - 'A' + 'a');
		sb_addf(&d, " %s_records=%" PRIu64, key, rec->records_by_event[e]);
	}
	log_writer_stop_detail(&rec->w, &d);
	struct om_record r;
	om_record_init(&r, OM_EVENT_STOP);
	r.time_ns = now_unix_ns();
	r.pid = getpid();
	r.detail = d.data;
	write_record(rec, &r);
	log_writer_sync(&rec->w); /* a full disk may take a moment to make room */
	sb_free(&d);
	loader_stop(rec->l);
	consumer_free(&rec->c);
	/* 1 when records could not be written in the end (the writer says which) */
	if (log_writer_close(&rec->w) != 0)
		rc = 1;
	return rc;
}

int cmd_record(int argc, char **argv)
{
	struct record_args a;
	bool done;
	int rc = parse_record_args(argc, argv, &a, &done);
	if (rc != 0 || done)
		return rc;
	if (geteuid() != 0) {
		fprintf(stderr, "onmitsu record: must run as root (it loads eBPF programs)\n");
		return 1;
	}
	struct recorder *rec = calloc(1, sizeof(*rec));
	if (!rec)
		fatal("out of memory");
	umask(077);
	if (recorder_begin(rec, &a) != 0) {
		free(rec);
		return 1;
	}
	service_notify("READY=1");
	rc = record_loop(rec);
	service_notify("STOPPING=1");
	rc = recorder_end(rec, rc);
	free(rec);
	return rc;
}
