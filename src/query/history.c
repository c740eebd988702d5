/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/history.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "util/log.h"

#define GROW(arr, n, cap)                                                                          \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			uint32_t new_cap_ = (cap) ? (cap)*2 : 1024;                                \
			void *p_ = realloc((arr), (size_t)new_cap_ * sizeof(*(arr)));              \
			if (!p_)                                                                   \
				fatal("out of memory for the process history");                    \
			(arr) = p_;                                                                \
			(cap) = new_cap_;                                                          \
		}                                                                                  \
	} while (0)

void history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
	intern_init(&h->guids);
	intern_init(&h->strings);
	ip_table_init(&h->ips);
	h->last_proc = PROC_NONE;
}

void history_free(struct history *h)
{
	intern_free(&h->guids);
	intern_free(&h->strings);
	ip_table_free(&h->ips);
	free(h->procs);
	free(h->proc_of_guid);
	free(h->images);
	free(h->flows);
	free(h->modules);
	free(h->injects);
	free(h->periods);
	free(h->local_ip);
	memset(h, 0, sizeof(*h));
}

uint8_t proto_from_name(const char *s)
{
	if (strcmp(s, "tcp") == 0)
		return IPPROTO_TCP;
	if (strcmp(s, "udp") == 0)
		return IPPROTO_UDP;
	if (strcmp(s, "icmp") == 0)
		return IPPROTO_ICMP;
	if (strcmp(s, "icmpv6") == 0)
		return IPPROTO_ICMPV6;
	return 0;
}

const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "?";
	}
}

static void ensure_guid_map(struct history *h, uint32_t guid_id)
{
	if (guid_id < h->proc_of_guid_cap)
		return;
	uint32_t cap = h->proc_of_guid_cap ? h->proc_of_guid_cap : 1024;
	while (cap <= guid_id)
		cap *= 2;
	int32_t *p = realloc(h->proc_of_guid, (size_t)cap * sizeof(*p));
	if (!p)
		fatal("out of memory for the process history");
	for (uint32_t i = h->proc_of_guid_cap; i < cap; i++)
		p[i] = PROC_NONE;
	h->proc_of_guid = p;
	h->proc_of_guid_cap = cap;
}

static int32_t num_or_minus1(const struct log_record *rec, enum log_col c)
{
	int64_t v = log_record_num(rec, c);
	return v < 0 || v > INT32_MAX ? -1 : (int32_t)v;
}

/* The process of a guid (created when new, with pid and first seen at t). */
static int32_t proc_for_guid(struct history *h, const char *guid, size_t n, int32_t pid, uint64_t t)
{
	if (n == 0)
		return PROC_NONE;
	if (h->last_proc != PROC_NONE) {
		uint32_t last = h->procs[h->last_proc].guid;
		if (intern_len(&h->guids, last) == n &&
		    memcmp(intern_str(&h->guids, last), guid, n) == 0)
			return h->last_proc;
	}
	uint32_t gid = intern_add(&h->guids, guid, n);
	ensure_guid_map(h, gid);
	int32_t idx = h->proc_of_guid[gid];
	if (idx != PROC_NONE)
		return h->last_proc = idx;
	if (h->nprocs >= INT32_MAX)
		fatalx("more than %d processes in the log", INT32_MAX);
	GROW(h->procs, h->nprocs, h->procs_cap);
	idx = (int32_t)h->nprocs++;
	struct proc *p = &h->procs[idx];
	memset(p, 0, sizeof(*p));
	p->guid = gid;
	p->parent = PROC_NONE;
	p->pid = pid;
	p->ppid = -1;
	p->uid = -1;
	p->first_child = p->next_sibling = PROC_NONE;
	p->first_seen_ns = t;
	h->proc_of_guid[gid] = idx;
	return h->last_proc = idx;
}

static int32_t proc_for(struct history *h, const struct log_record *rec)
{
	return proc_for_guid(h, rec->f[COL_GUID], rec->len[COL_GUID], num_or_minus1(rec, COL_PID),
			     rec->time_ns);
}

/* count=N in an INJECT's detail (at its start or after a space); 1 without */
static uint64_t inject_count(const char *detail)
{
	for (const char *d = detail; (d = strstr(d, "count=")); d += 6) {
		if (d != detail && d[-1] != ' ')
			continue;
		uint64_t n = 0;
		const char *q = d + 6;
		if (*q < '0' || *q > '9')
			return 1;
		for (; *q >= '0' && *q <= '9' && n < UINT64_MAX / 10; q++)
			n = n * 10 + (uint64_t)(*q - '0');
		return n;
	}
	return 1;
}

static int32_t history_record_proc(struct history *h, const struct log_record *rec);

/* An INJECT: its actor (the record's process) and its target, linked to the
 * target's list. */
static int32_t add_inject(struct history *h, const struct log_record *rec)
{
	int32_t actor = history_record_proc(h, rec);
	int32_t target = proc_for_guid(h, rec->f[COL_TARGET_GUID], rec->len[COL_TARGET_GUID],
				       num_or_minus1(rec, COL_TARGET_PID), rec->time_ns);
	GROW(h->injects, h->ninjects, h->injects_cap);
	struct inject_rec *x = &h->injects[h->ninjects++];
	x->time_ns = rec->time_ns;
	x->actor = actor;
	x->target = target;
	x->method = intern_add(&h->strings, rec->f[COL_RESULT], rec->len[COL_RESULT]);
	x->count = inject_count(rec->f[COL_DETAIL]);
	x->next_into = 0;
	if (target != PROC_NONE) {
		x->next_into = h->procs[target].injects_in;
		h->procs[target].injects_in = h->ninjects;
	}
	return actor;
}

static void add_image(struct history *h, struct proc *p, const struct proc_image *n)
{
	if (p->last_image) {
		const struct proc_image *last = &h->images[p->last_image - 1];
		if (last->exe == n->exe && last->cmdline == n->cmdline &&
		    last->sha256 == n->sha256 && last->cgroup == n->cgroup &&
		    last->container_id == n->container_id)
			return;
	}
	GROW(h->images, h->nimages, h->images_cap);
	struct proc_image *im = &h->images[h->nimages++];
	*im = *n;
	im->next = 0;
	if (p->last_image)
		h->images[p->last_image - 1].next = h->nimages;
	else
		p->first_image = h->nimages;
	p->last_image = h->nimages;
}

static void note_local_address(struct history *h, uint32_t ip)
{
	if (!ip)
		return;
	if (ip >= h->local_ip_cap) {
		uint32_t cap = h->local_ip_cap ? h->local_ip_cap : 256;
		while (cap <= ip)
			cap *= 2;
		uint8_t *p = realloc(h->local_ip, cap);
		if (!p)
			fatal("out of memory");
		memset(p + h->local_ip_cap, 0, cap - h->local_ip_cap);
		h->local_ip = p;
		h->local_ip_cap = cap;
	}
	h->local_ip[ip] = 1;
}

/* prev_last: the time of the record before this one */
static void period_start(struct history *h, uint64_t t, uint64_t prev_last)
{
	if (h->period_open)
		h->periods[h->nperiods - 1].end_ns = prev_last;
	GROW(h->periods, h->nperiods, h->periods_cap);
	h->periods[h->nperiods++] = (struct rec_period){t, t, false};
	h->period_open = true;
}

static void process_record(struct history *h, struct proc *p, const struct log_record *rec)
{
	uint64_t t = rec->time_ns;
	int64_t uid = log_record_num(rec, COL_UID);
	if (uid >= 0)
		p->uid = uid;
	const char *pg = rec->f[COL_PARENT_GUID];
	size_t pglen = rec->len[COL_PARENT_GUID];
	if (pglen && (rec->event == OM_EVENT_FORK ? !p->parent_from_fork : !p->parent_guid)) {
		p->parent_guid = intern_add(&h->guids, pg, pglen);
		p->parent_from_fork = rec->event == OM_EVENT_FORK;
	}
	if (p->origin == ORIGIN_OTHER) {
		p->origin = rec->event == OM_EVENT_FORK	  ? ORIGIN_FORK
			    : rec->event == OM_EVENT_EXEC ? ORIGIN_EXEC
							  : ORIGIN_EXISTING;
		p->start_ns = t;
	}
	const char *exe = rec->f[COL_EXE], *cmd = rec->f[COL_CMDLINE];
	size_t exelen = rec->len[COL_EXE], cmdlen = rec->len[COL_CMDLINE];
	if (!exelen && !cmdlen)
		return;
	struct proc_image im = {
	    .time_ns = t,
	    .exe = intern_add(&h->strings, exe, exelen),
	    .cmdline = intern_add(&h->strings, cmd, cmdlen),
	    .sha256 = intern_add(&h->strings, rec->f[COL_SHA256], rec->len[COL_SHA256]),
	    .cgroup = intern_add(&h->strings, rec->f[COL_CGROUP], rec->len[COL_CGROUP]),
	    .container_id =
		intern_add(&h->strings, rec->f[COL_CONTAINER_ID], rec->len[COL_CONTAINER_ID]),
	};
	add_image(h, p, &im);
}

/* Fold one record into the history; returns the index of the process a
 * process record (EXISTING, FORK, EXEC, EXIT) names, else PROC_NONE. */
static int32_t history_add(struct history *h, const struct log_record *rec)
{
	uint64_t t = rec->time_ns;
	uint64_t prev_last = h->records ? h->last_ns : t;
	if (!h->records || t < h->first_ns)
		h->first_ns = t;
	if (t > h->last_ns)
		h->last_ns = t;
	h->records++;

	switch (rec->event) {
	case OM_EVENT_START:
		period_start(h, t, prev_last);
		return PROC_NONE;
	case OM_EVENT_STOP:
		if (!h->period_open)
			period_start(h, t, prev_last);
		h->periods[h->nperiods - 1].end_ns = t;
		h->periods[h->nperiods - 1].stopped = true;
		h->period_open = false;
		return PROC_NONE;
	default:
		break;
	}
	if (!h->nperiods)
		period_start(h, t, prev_last); /* a log whose START was lost or rotated away */
	if (h->period_open)
		h->periods[h->nperiods - 1].end_ns = t;

	switch (rec->event) {
	case OM_EVENT_EXISTING:
	case OM_EVENT_FORK:
	case OM_EVENT_EXEC:
	case OM_EVENT_EXIT:
		break;
	case OM_EVENT_INJECT:
		return add_inject(h, rec);
	default:
		/* flows, modules, ...: a command resolves the process of the few it
		 * keeps (history_record_proc); looking up every one costs time */
		return PROC_NONE;
	}
	int32_t idx = history_record_proc(h, rec);
	if (idx == PROC_NONE)
		return idx;
	struct proc *p = &h->procs[idx];
	if (rec->event == OM_EVENT_EXIT) {
		p->exit_ns = rec->time_ns;
		p->exit_result = intern_add(&h->strings, rec->f[COL_RESULT], rec->len[COL_RESULT]);
	} else {
		process_record(h, p, rec);
	}
	return idx;
}

/* The process a record names (created when new; PROC_NONE when it names
 * none): history_add resolves only process records, the passes call this for
 * the other records they keep. */
static int32_t history_record_proc(struct history *h, const struct log_record *rec)
{
	int32_t idx = proc_for(h, rec);
	if (idx == PROC_NONE)
		return idx;
	struct proc *p = &h->procs[idx];
	uint64_t t = rec->time_ns;
	p->period = h->nperiods ? h->nperiods - 1 : 0;
	int32_t pid = num_or_minus1(rec, COL_PID);
	if (pid >= 0)
		p->pid = pid;
	int32_t ppid = num_or_minus1(rec, COL_PPID);
	if (ppid >= 0)
		p->ppid = ppid; /* the latest: it changes when the process is reparented */
	if (t < p->first_seen_ns)
		p->first_seen_ns = t;
	if (t > p->last_seen_ns)
		p->last_seen_ns = t;
	return idx;
}

void history_note_local(struct history *h, const struct log_record *rec)
{
	const char *dir = rec->f[COL_DIRECTION];
	if (strcmp(dir, "out") == 0)
		note_local_address(
		    h, ip_table_add_text(&h->ips, rec->f[COL_SRC_IP], rec->len[COL_SRC_IP]));
	else if (strcmp(dir, "in") == 0)
		note_local_address(
		    h, ip_table_add_text(&h->ips, rec->f[COL_DST_IP], rec->len[COL_DST_IP]));
}

/*
 * A process that forked runs its parent's image until it execs. Since 0.3 a
 * FORK record leaves exe and cmdline out (the parent's EXEC or EXISTING holds
 * them), so the child's image at its fork is the parent's image then. A FORK
 * of an older log names it itself: then the child has it already.
 */
static void inherit_image(struct history *h, int32_t i)
{
	struct proc *p = &h->procs[i];
	if (p->origin != ORIGIN_FORK || p->parent == PROC_NONE)
		return;
	if (p->first_image && h->images[p->first_image - 1].time_ns <= p->start_ns)
		return;
	const struct proc_image *best = NULL;
	for (uint32_t j = h->procs[p->parent].first_image; j; j = h->images[j - 1].next) {
		if (h->images[j - 1].time_ns > p->start_ns)
			break;
		best = &h->images[j - 1];
	}
	if (!best)
		return;
	struct proc_image copy = *best; /* GROW may move it */
	GROW(h->images, h->nimages, h->images_cap);
	struct proc_image *im = &h->images[h->nimages++];
	*im = copy; /* the file, its hash, the cgroup */
	im->time_ns = p->start_ns;
	im->next = p->first_image;
	p->first_image = h->nimages;
	if (!p->last_image)
		p->last_image = h->nimages;
}

/* inherit_image for every process, each after its parent (a fork of a fork
 * that has not exec'd runs its grandparent's image). Parents are linked and
 * loops cut. */
static void inherit_images(struct history *h)
{
	uint8_t *done = calloc(h->nprocs ? h->nprocs : 1, 1);
	if (!done)
		fatal("out of memory");
	int32_t up[HISTORY_MAX_DEPTH];
	for (uint32_t i = 0; i < h->nprocs; i++) {
		int n = 0;
		for (int32_t j = (int32_t)i; j != PROC_NONE && !done[j] && n < HISTORY_MAX_DEPTH;
		     j = h->procs[j].parent)
			up[n++] = j;
		while (n-- > 0) {
			done[up[n]] = 1;
			inherit_image(h, up[n]);
		}
	}
	free(done);
}

/* Link parents and children; called once after the last history_add. */
static void history_finish(struct history *h)
{
	if (h->finished)
		return;
	h->finished = true;
	for (uint32_t i = 0; i < h->nprocs; i++) {
		struct proc *p = &h->procs[i];
		if (!p->exit_ns && p->period + 1 < h->nperiods)
			p->gone_ns = h->periods[p->period + 1].start_ns;
	}
	for (uint32_t i = 0; i < h->nprocs; i++) {
		struct proc *p = &h->procs[i];
		p->parent = PROC_NONE;
		if (p->parent_guid && p->parent_guid < h->proc_of_guid_cap &&
		    h->proc_of_guid[p->parent_guid] != (int32_t)i)
			p->parent = h->proc_of_guid[p->parent_guid];
	}
	/* a corrupt log may close a loop of parents: cut it where it closes, once,
	 * so that every walk up the tree ends */
	uint8_t *state = calloc(h->nprocs ? h->nprocs : 1, 1);
	if (!state)
		fatal("out of memory");
	for (uint32_t i = 0; i < h->nprocs; i++) {
		int32_t j = (int32_t)i;
		while (j != PROC_NONE && state[j] == 0) {
			state[j] = 1; /* on the path being walked */
			j = h->procs[j].parent;
		}
		int32_t closes = j != PROC_NONE && state[j] == 1 ? j : PROC_NONE;
		for (j = (int32_t)i; j != PROC_NONE && state[j] == 1; j = h->procs[j].parent)
			state[j] = 2;
		if (closes != PROC_NONE)
			h->procs[closes].parent = PROC_NONE;
	}
	free(state);
	inherit_images(h);
	/* children in start order: prepend while walking backwards */
	for (uint32_t i = h->nprocs; i-- > 0;) {
		struct proc *p = &h->procs[i];
		if (p->parent == PROC_NONE)
			continue;
		struct proc *parent = &h->procs[p->parent];
		p->next_sibling = parent->first_child;
		parent->first_child = (int32_t)i;
	}
}

int32_t history_find_guid(const struct history *h, const char *guid)
{
	uint32_t gid = intern_find(&h->guids, guid, strlen(guid));
	if (!gid || gid >= h->proc_of_guid_cap)
		return PROC_NONE;
	return h->proc_of_guid[gid];
}

const struct proc_image *history_image_at(const struct history *h, int32_t p, uint64_t t_ns)
{
	if (p == PROC_NONE)
		return NULL;
	uint32_t i = h->procs[p].first_image;
	if (!i)
		return NULL;
	const struct proc_image *best = &h->images[i - 1];
	for (i = best->next; i; i = h->images[i - 1].next) {
		const struct proc_image *im = &h->images[i - 1];
		if (im->time_ns > t_ns)
			break;
		best = im;
	}
	return best;
}

bool history_alive_at(const struct history *h, int32_t p, uint64_t t_ns)
{
	const struct proc *pr = &h->procs[p];
	uint64_t start = pr->start_ns ? pr->start_ns : pr->first_seen_ns;
	/* a process in the start-up snapshot was running before its record */
	if (pr->origin != ORIGIN_EXISTING && t_ns < start)
		return false;
	if (pr->exit_ns)
		return t_ns <= pr->exit_ns;
	return !pr->gone_ns || t_ns < pr->gone_ns;
}

int history_ancestry(const struct history *h, int32_t p, int32_t *chain, int max)
{
	int n = 0;
	if (p == PROC_NONE)
		return 0;
	/* history_finish cut every loop, so this walk ends */
	for (int32_t q = h->procs[p].parent; q != PROC_NONE && n < max; q = h->procs[q].parent)
		chain[n++] = q;
	return n;
}

void history_walk_descendants(const struct history *h, int32_t p, int depth, history_visit_fn fn,
			      void *arg)
{
	/* an explicit stack: a family can be deeper than the C stack allows
	 * (fork bombs, shells in loops) */
	struct frame {
		int32_t p;
		int depth;
	} *stack = NULL;
	size_t n = 0, cap = 0;
	int32_t c = h->procs[p].first_child;
	int d = depth + 1;
	for (;;) {
		if (c == PROC_NONE) {
			if (!n)
				break;
			n--;
			c = h->procs[stack[n].p].next_sibling;
			d = stack[n].depth;
			continue;
		}
		if (!fn(c, d, arg)) {
			c = h->procs[c].next_sibling;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			stack = realloc(stack, cap * sizeof(*stack));
			if (!stack)
				fatal("out of memory");
		}
		stack[n].p = c;
		stack[n].depth = d;
		n++;
		c = h->procs[c].first_child;
		d++;
	}
	free(stack);
}

struct marking {
	uint8_t *mark;
	uint8_t value;
};

static bool mark_one(int32_t p, int depth, void *arg)
{
	struct marking *m = arg;
	/* history_finish cut every cycle; this guard only keeps a walk finite
	 * should one slip through */
	if (m->mark[p])
		return false;
	m->mark[p] = m->value;
	return true;
}

void history_mark_descendants(const struct history *h, int32_t p, uint8_t *mark, uint8_t value)
{
	struct marking m = {.mark = mark, .value = value};
	history_walk_descendants(h, p, 0, mark_one, &m);
}

static int32_t port_or_minus1(const struct log_record *rec, enum log_col c)
{
	int64_t v = log_record_num(rec, c);
	return v < 0 || v > 65535 ? -1 : (int32_t)v;
}

uint32_t history_keep_flow(struct history *h, const struct log_record *rec, int32_t proc)
{
	if (proc == PROC_NONE)
		proc = history_record_proc(h, rec);
	GROW(h->flows, h->nflows, h->flows_cap);
	struct flow_rec *f = &h->flows[h->nflows];
	memset(f, 0, sizeof(*f));
	f->time_ns = rec->time_ns;
	f->proc = proc;
	f->src_ip = ip_table_add_text(&h->ips, rec->f[COL_SRC_IP], rec->len[COL_SRC_IP]);
	f->dst_ip = ip_table_add_text(&h->ips, rec->f[COL_DST_IP], rec->len[COL_DST_IP]);
	f->proto_text = intern_add(&h->strings, rec->f[COL_PROTO], rec->len[COL_PROTO]);
	f->proto = proto_from_name(rec->f[COL_PROTO]);
	f->result = intern_add(&h->strings, rec->f[COL_RESULT], rec->len[COL_RESULT]);
	f->community_id =
	    intern_add(&h->strings, rec->f[COL_COMMUNITY_ID], rec->len[COL_COMMUNITY_ID]);
	f->src_port = port_or_minus1(rec, COL_SRC_PORT);
	f->dst_port = port_or_minus1(rec, COL_DST_PORT);
	const char *dir = rec->f[COL_DIRECTION];
	f->direction = strcmp(dir, "out") == 0	? DIR_OUT
		       : strcmp(dir, "in") == 0 ? DIR_IN
						: DIR_UNKNOWN;
	return h->nflows++;
}

int32_t history_proc_of(struct history *h, const struct log_record *rec)
{
	return history_record_proc(h, rec);
}

uint32_t history_keep_module(struct history *h, const struct log_record *rec, int32_t proc)
{
	if (proc == PROC_NONE)
		proc = history_record_proc(h, rec);
	GROW(h->modules, h->nmodules, h->modules_cap);
	struct module_rec *m = &h->modules[h->nmodules];
	m->time_ns = rec->time_ns;
	m->proc = proc;
	m->path = intern_add(&h->strings, rec->f[COL_PATH], rec->len[COL_PATH]);
	return h->nmodules++;
}

static int by_first_time(const void *a, const void *b)
{
	const struct inject_by *x = a, *y = b;
	return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

size_t history_injected_by(const struct history *h, int32_t p, uint64_t until_ns,
			   struct inject_by **out)
{
	*out = NULL;
	if (p == PROC_NONE)
		return 0;
	size_t n = 0, cap = 0;
	struct inject_by *v = NULL;
	for (uint32_t i = h->procs[p].injects_in; i; i = h->injects[i - 1].next_into) {
		const struct inject_rec *x = &h->injects[i - 1];
		if (x->time_ns > until_ns)
			continue;
		size_t k = 0;
		while (k < n && !(v[k].actor == x->actor && v[k].method == x->method))
			k++;
		if (k == n) {
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				struct inject_by *nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					fatal("out of memory");
				v = nv;
			}
			v[n++] = (struct inject_by){x->actor, x->method, x->time_ns, 0};
		}
		if (x->time_ns < v[k].first_ns)
			v[k].first_ns = x->time_ns;
		v[k].count += x->count;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), by_first_time);
	*out = v;
	return n;
}

bool history_recording_at(const struct history *h, uint64_t t_ns, uint64_t slack_ns)
{
	for (uint32_t i = 0; i < h->nperiods; i++) {
		const struct rec_period *pd = &h->periods[i];
		uint64_t lo = pd->start_ns > slack_ns ? pd->start_ns - slack_ns : 0;
		if (t_ns >= lo && t_ns <= pd->end_ns + slack_ns)
			return true;
	}
	return false;
}

static int run_pass(struct history *h, const char *dir, uint32_t events, bool keep_raw, bool load,
		    history_record_fn fn, void *arg)
{
	char err[512];
	struct log_reader_opts opts = {.events = events, .keep_raw = keep_raw, .quiet = !load};
	struct log_reader *r = log_reader_open(dir, &opts, err, sizeof(err));
	if (!r) {
		log_warnx("%s", err);
		return 1;
	}
	struct log_record rec;
	while (log_reader_next(r, &rec) > 0) {
		int32_t idx;
		if (load) {
			idx = history_add(h, &rec);
		} else {
			idx =
			    rec.f[COL_GUID][0] ? history_find_guid(h, rec.f[COL_GUID]) : PROC_NONE;
		}
		if (fn)
			fn(h, &rec, idx, arg);
	}
	bool failed = log_reader_failed(r);
	log_reader_close(r);
	if (load)
		history_finish(h);
	return failed ? 1 : 0;
}

int history_load(struct history *h, const char *dir, uint32_t extra_events, history_record_fn fn,
		 void *arg)
{
	return run_pass(h, dir, HISTORY_EVENTS | extra_events, false, true, fn, arg);
}

int history_scan(struct history *h, const char *dir, uint32_t events, bool keep_raw,
		 history_record_fn fn, void *arg)
{
	return run_pass(h, dir, events, keep_raw, false, fn, arg);
}

int history_pick(const struct history *h, int64_t pid, uint64_t at_ns, const char *guid,
		 int32_t *out, struct strbuf *msg)
{
	if (guid) {
		*out = history_find_guid(h, guid);
		if (*out == PROC_NONE) {
			sb_addf(msg, "no process with guid %s in the log", guid);
			return 1;
		}
		return 0;
	}
	int32_t found = PROC_NONE;
	uint32_t count = 0;
	for (uint32_t i = 0; i < h->nprocs; i++) {
		if (h->procs[i].pid != pid)
			continue;
		if (at_ns && !history_alive_at(h, (int32_t)i, at_ns))
			continue;
		/* with --at, the latest started wins (a stale one may lack its EXIT) */
		if (found == PROC_NONE || h->procs[i].start_ns >= h->procs[found].start_ns)
			found = (int32_t)i;
		count++;
	}
	if (count == 1 || (count > 1 && at_ns)) {
		*out = found;
		return 0;
	}
	if (count == 0) {
		sb_addf(msg, "no process with pid %lld in the log%s", (long long)pid,
			at_ns ? " at that time" : "");
		return 1;
	}
	sb_addf(msg,
		"pid %lld was used by %u processes in this log; choose one with --at TIME "
		"or --guid:",
		(long long)pid, count);
	for (uint32_t i = 0; i < h->nprocs; i++) {
		const struct proc *p = &h->procs[i];
		if (p->pid != pid)
			continue;
		const struct proc_image *im = history_image_at(h, (int32_t)i, UINT64_MAX);
		sb_addf(msg, "\n  guid %s  %s", intern_str(&h->guids, p->guid),
			im ? intern_str(&h->strings, im->exe) : "(exe unknown)");
		char t[40];
		if (p->start_ns) {
			csv_format_time(t, sizeof(t), p->start_ns);
			sb_addf(msg, "  from %s", t);
		}
		if (p->exit_ns) {
			csv_format_time(t, sizeof(t), p->exit_ns);
			sb_addf(msg, "  to %s", t);
		}
	}
	return 2;
}
