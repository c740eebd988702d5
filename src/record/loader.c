/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "onmitsu.skel.h"
#include "util/log.h"
#include "util/time.h"

struct loader {
	struct onmitsu_bpf *skel;
	struct ring_buffer *rb;
	int cgroup_fd;
	struct bpf_link *links[32];
	int nlinks;
	uint64_t flows_evicted;	   /* the latest count (loader_flows_evicted) */
	uint64_t flows_new_seen;   /* OM_C_FLOWS_NEW when it was made */
	uint64_t flows_counted_ms; /* when (now_mono_ms) */
	uint32_t flows_margin;	   /* free entries the map may hold back (loader_flows_evicted) */
};

/* the program the kernel refused, caught from libbpf's messages */
static char failed_prog[64];

/*
 * libbpf's own messages go through our log, by verbosity: its warnings
 * (with the verifier's log) at -v, its debug output at -vv. By default the
 * loader says in one line which hook failed and why.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int ours = level == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG;
	if (level == LIBBPF_WARN && strstr(fmt, "prog '%s'") && !failed_prog[0]) {
		va_list ap2;
		va_copy(ap2, ap);
		char line[256];
		vsnprintf(line, sizeof(line), fmt, ap2);
		va_end(ap2);
		const char *p = strstr(line, "prog '");
		if (p && (strstr(line, "failed to load") || strstr(line, "load failed")))
			sscanf(p, "prog '%63[^']'", failed_prog);
	}
	if (ours > log_verbosity)
		return 0;
	/* not through a fixed buffer: the verifier's log can be long */
	fputs("onmitsu: libbpf: ", stderr);
	vfprintf(stderr, fmt, ap);
	return 0;
}

/* The cgroup v2 hierarchy's root, wherever it is mounted. */
static int find_cgroup2(char *path, size_t size)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	if (!f)
		return -1;
	struct mntent *m;
	int found = -1;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2") == 0) {
			snprintf(path, size, "%s", m->mnt_dir);
			found = 0;
			break;
		}
	}
	endmntent(f);
	return found;
}

struct hook {
	const char *name; /* as in the START record and in errors */
	int cgroup;	  /* attached to the cgroup v2 root */
};

void loader_stop(struct loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	for (int i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	onmitsu_bpf__destroy(l->skel);
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	free(l);
}

static int attach_one(struct loader *l, struct bpf_program *prog, const char *hook, int cgroup)
{
	struct bpf_link *link;
	if (cgroup)
		link = bpf_program__attach_cgroup(prog, l->cgroup_fd);
	else
		link = bpf_program__attach(prog);
	if (!link) {
		int err = errno;
		log_warnx("cannot attach the %s hook (program %s): %s%s", hook,
			  bpf_program__name(prog), strerror(err),
			  err == EPERM || err == EACCES
			      ? " (run as root with CAP_BPF and CAP_PERFMON)"
			      : "");
		return -1;
	}
	if ((size_t)l->nlinks >= sizeof(l->links) / sizeof(l->links[0]))
		fatalx("internal: too many BPF links");
	l->links[l->nlinks++] = link;
	return 0;
}

/* list each hook once (two programs share some tracepoints) */
static void list_hook(struct strbuf *hooks, const char *hook)
{
	size_t n = strlen(hook);
	const char *h = sb_str(hooks);
	for (const char *p = strstr(h, hook); p; p = strstr(p + 1, hook))
		if ((p == h || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return;
	if (hooks->len)
		sb_addc(hooks, ',');
	sb_adds(hooks, hook);
}

struct loader *loader_start(const struct loader_opts *opts, loader_sample_fn fn, void *ctx,
			    struct strbuf *hooks)
{
	libbpf_set_print(libbpf_print);

	struct loader *l = calloc(1, sizeof(*l));
	if (!l)
		fatal("out of memory");
	l->cgroup_fd = -1;

	/* open */
	l->skel = onmitsu_bpf__open();
	if (!l->skel) {
		log_warn("cannot open the BPF object");
		goto fail;
	}

	/* configure */
	l->skel->rodata->cfg_cmdline_max = opts->cmdline_max;
	l->skel->rodata->cfg_wakeup_bytes = opts->wakeup_bytes;
	l->skel->rodata->cfg_hash_max = opts->hash_max;
	/* a local TCP connect without socket storage needs the connect hook to
	 * tell connect(2) from io_uring's and TCP Fast Open's (net.bpf.h) */
	l->skel->rodata->cfg_defer_local =
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_task_pt_regs, NULL) ==
	    1;
	/* a UDP socket without storage until it lives needs its sends' owner
	 * found from the packet hook (net.bpf.c, own_send) */
	l->skel->rodata->cfg_lazy_dgram =
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_task_storage_get, NULL) ==
		1 &&
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_get_current_task_btf,
				    NULL) == 1;
	int ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		log_warnx("cannot count the possible CPUs: %s", strerror(-ncpus));
		goto fail;
	}
	l->flows_margin = ((uint32_t)ncpus + 1) * 256;
	if (bpf_map__set_max_entries(l->skel->maps.scratch, (uint32_t)ncpus) ||
	    bpf_map__set_max_entries(l->skel->maps.events, opts->ring_bytes)) {
		log_warn("cannot size the BPF maps");
		goto fail;
	}

	/* the hooks, in the order START lists them: tracepoints first, then the
	 * cgroup hooks */
	struct {
		struct bpf_program *prog;
		const char *hook;
		int cgroup;
	} progs[] = {
	    {l->skel->progs.om_fork, "sched_process_fork", 0},
	    /* om_exec_modules reads the generation om_exec writes: programs on
	     * one tracepoint run in the order they were attached */
	    {l->skel->progs.om_exec, "sched_process_exec", 0},
	    {l->skel->progs.om_exec_modules, "sched_process_exec", 0},
	    {l->skel->progs.om_exit, "sched_process_exit", 0},
	    {l->skel->progs.om_exit_modules, "sched_process_exit", 0},
	    {l->skel->progs.om_sys_exit, "sys_exit", 0},
	    {l->skel->progs.om_inet_state, "inet_sock_set_state", 0},
	    {l->skel->progs.om_sock_create, "cgroup/sock_create", 1},
	    {l->skel->progs.om_bind4, "cgroup/bind4", 1},
	    {l->skel->progs.om_bind6, "cgroup/bind6", 1},
	    {l->skel->progs.om_connect4, "cgroup/connect4", 1},
	    {l->skel->progs.om_connect6, "cgroup/connect6", 1},
	    {l->skel->progs.om_sendmsg4, "cgroup/sendmsg4", 1},
	    {l->skel->progs.om_sendmsg6, "cgroup/sendmsg6", 1},
	    {l->skel->progs.om_recvmsg4, "cgroup/recvmsg4", 1},
	    {l->skel->progs.om_recvmsg6, "cgroup/recvmsg6", 1},
	    {l->skel->progs.om_egress, "cgroup_skb/egress", 1},
	    {l->skel->progs.om_ingress, "cgroup_skb/ingress", 1},
	};
	/* load */
	int err = onmitsu_bpf__load(l->skel);
	if (err) {
		const char *hook = NULL;
		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
			if (failed_prog[0] &&
			    strcmp(bpf_program__name(progs[i].prog), failed_prog) == 0)
				hook = progs[i].hook;
		if (hook)
			log_warnx(
			    "the kernel refused the program for the %s hook (%s): %s; this kernel "
			    "lacks what the hook needs (run with -v for the verifier's log)",
			    hook, failed_prog, strerror(-err));
		else
			log_warnx(
			    "the kernel refused the BPF programs: %s (run with -v for details; "
			    "onmitsu needs root, BTF at /sys/kernel/btf/vmlinux, and tracepoint "
			    "and cgroup BPF support)",
			    strerror(-err));
		goto fail;
	}

	/* attach */
	char cgpath[4096];
	if (find_cgroup2(cgpath, sizeof(cgpath)) != 0) {
		log_warnx("no cgroup v2 hierarchy is mounted: the network hooks need one "
			  "(mount -t cgroup2 none /sys/fs/cgroup/unified)");
		goto fail;
	}
	l->cgroup_fd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd < 0) {
		log_warn("cannot open the cgroup v2 root %s", cgpath);
		goto fail;
	}
	/* Attached in that order, but the system call exit first and the
	 * connect hooks next: a local connect the connect hook leaves without
	 * socket storage relies on its connect()'s exit (net.bpf.h,
	 * tcp_handoffs), and om_inet_state at SYN_SENT counts a connect without
	 * the pending entry the connect hooks make as one whose entry was
	 * evicted. */
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
			int when = progs[i].prog == l->skel->progs.om_sys_exit	 ? 0
				   : progs[i].prog == l->skel->progs.om_connect4 ? 1
				   : progs[i].prog == l->skel->progs.om_connect6 ? 1
										 : 2;
			if (when == pass &&
			    attach_one(l, progs[i].prog, progs[i].hook, progs[i].cgroup) != 0)
				goto fail;
		}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		list_hook(hooks, progs[i].hook);

	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), fn, ctx, NULL);
	if (!l->rb) {
		log_warn("cannot map the ring buffer");
		goto fail;
	}
	return l;
fail:
	loader_stop(l);
	return NULL;
}

int loader_poll(struct loader *l, int timeout_ms)
{
	/* The programs submit without waking us (batching), so a timeout is
	 * the normal way back here: consume whatever is there either way. */
	int n = ring_buffer__poll(l->rb, timeout_ms);
	if (n < 0 && n != -EINTR) {
		errno = -n;
		return -1;
	}
	int m = ring_buffer__consume(l->rb);
	if (m < 0) {
		errno = -m;
		return -1;
	}
	return (n > 0 ? n : 0) + m;
}

int loader_counters(struct loader *l, uint64_t out[OM_C_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return -1;
	uint64_t *vals = calloc((size_t)ncpus, sizeof(uint64_t));
	if (!vals)
		return -1;
	int fd = bpf_map__fd(l->skel->maps.counters);
	for (uint32_t k = 0; k < OM_C_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals) != 0) {
			free(vals);
			return -1;
		}
		for (int c = 0; c < ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

uint64_t loader_hook_misses(struct loader *l)
{
	uint64_t sum = 0;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, l->skel->obj)
	{
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			sum += info.recursion_misses;
	}
	return sum;
}

/*
 * The flows map's entries, counted with batched look-ups (a few system calls
 * for the whole map). -1 on error.
 */
static int64_t flows_entries(struct loader *l)
{
	enum { BATCH = 4096 };
	int fd = bpf_map__fd(l->skel->maps.flows);
	uint32_t key_size = bpf_map__key_size(l->skel->maps.flows);
	uint32_t value_size = bpf_map__value_size(l->skel->maps.flows);
	void *keys = calloc(BATCH, key_size);
	void *values = calloc(BATCH, value_size);
	int64_t total = -1;
	if (!keys || !values)
		goto out;
	uint64_t in_batch = 0, out_batch = 0;
	int64_t n = 0;
	/* bounded: the map holds at most max_entries, each call returns >= 1 */
	for (uint32_t calls = 0; calls <= bpf_map__max_entries(l->skel->maps.flows); calls++) {
		uint32_t count = BATCH;
		int err = bpf_map_lookup_batch(fd, calls ? &in_batch : NULL, &out_batch, keys,
					       values, &count, NULL);
		if (err && errno != ENOENT)
			goto out;
		n += count;
		if (err) { /* ENOENT: that was the last */
			total = n;
			goto out;
		}
		in_batch = out_batch;
	}
out:
	free(keys);
	free(values);
	return total;
}

uint64_t loader_flows_evicted(struct loader *l, uint64_t flows_new, int now_too)
{
	/* No keys are deleted, so the entries are the keys added less those
	 * pushed out. flows_new was read before the entries are counted: keys
	 * added in between make the difference smaller, never larger, so the
	 * count is never more than what was pushed out. */
	if (flows_new == l->flows_new_seen)
		return l->flows_evicted;
	/* An LRU map pushes an entry out only when its shared list of free
	 * entries runs short: each CPU keeps up to 128 free ones of its own
	 * (LOCAL_FREE_TARGET, kernel/bpf/bpf_lru_list.c) and takes 128 at a
	 * time. Until the keys added come that close to the map's size,
	 * nothing can have been pushed out, and the count (a copy of the
	 * whole map, the largest part of the recorder's CPU in a storm of new
	 * flows) is not needed. */
	if (flows_new + l->flows_margin < bpf_map__max_entries(l->skel->maps.flows))
		return l->flows_evicted;
	uint64_t now = now_mono_ms();
	if (!now_too && l->flows_counted_ms && now - l->flows_counted_ms < FLOWS_COUNT_EVERY_MS)
		return l->flows_evicted;
	int64_t entries = flows_entries(l);
	if (entries < 0)
		return l->flows_evicted;
	l->flows_counted_ms = now;
	l->flows_new_seen = flows_new;
	if (flows_new > (uint64_t)entries && flows_new - (uint64_t)entries > l->flows_evicted)
		l->flows_evicted = flows_new - (uint64_t)entries;
	return l->flows_evicted;
}

int loader_map_fd(struct loader *l, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(l->skel->obj, name);
	return m ? bpf_map__fd(m) : -1;
}

void loader_seed_module(struct loader *l, uint32_t tgid, uint32_t dev, uint64_t ino)
{
	struct om_mod_key key = {.tgid = tgid, .dev = dev, .ino = ino, .gen = 0};
	uint8_t one = 1;
	bpf_map_update_elem(bpf_map__fd(l->skel->maps.mods_seen), &key, &one, BPF_ANY);
}

int loader_inject_read(void *lp, const struct om_inject_key *k, struct om_inject_val *v)
{
	struct loader *l = lp;
	return bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.inject_series), k, v) == 0 ? 0 : -1;
}

void loader_inject_forget(void *lp, const struct om_inject_key *k)
{
	struct loader *l = lp;
	bpf_map_delete_elem(bpf_map__fd(l->skel->maps.inject_series), k);
}

int loader_exec_gen(struct loader *l, uint32_t tgid, uint64_t *gen)
{
	return bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.proc_gen), &tgid, gen) == 0 ? 0 : -1;
}

void loader_known_file(struct loader *l, const struct om_file_key *key)
{
	uint8_t one = 1;
	bpf_map_update_elem(bpf_map__fd(l->skel->maps.known_files), key, &one, BPF_ANY);
}
