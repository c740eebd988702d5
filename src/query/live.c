/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/live.h"

#include <stdlib.h>
#include <string.h>

#include "query/dnsmap.h"
#include "util/log.h"

struct live_image {
	char *exe, *cmdline, *sha256, *cgroup, *container_id;
};

struct live_inject {
	char *actor_guid; /* NULL: the record named no actor */
	int32_t actor_pid;
	char *actor_exe; /* the actor's program when it first did so */
	char *method;
	uint64_t first_ns, count;
};

struct live_proc {
	struct live_proc *next; /* in its bucket */
	char *guid, *parent_guid;
	int32_t pid;
	int64_t uid;
	uint64_t start_ns, first_seen_ns;
	uint8_t origin;		/* enum proc_origin */
	struct live_image img;	/* what it runs now */
	struct live_image pimg; /* its parent's when it was born */
	bool has_img, has_pimg;
	bool exited;
	bool counted; /* in its parent's nchildren */
	uint32_t nchildren;
	uint32_t epoch;
	uint64_t seen;
	struct live_inject *inj;
	uint32_t ninj;
};

struct live_dns {
	uint64_t time_ns;
	char ip[64];
	char *name, *guid, *exe;
	int32_t pid;
};

static char *xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		fatal("out of memory for the live process table");
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *xstrdup0(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

static void image_free(struct live_image *im)
{
	free(im->exe);
	free(im->cmdline);
	free(im->sha256);
	free(im->cgroup);
	free(im->container_id);
	memset(im, 0, sizeof(*im));
}

static void image_copy(struct live_image *to, const struct live_image *from)
{
	image_free(to);
	to->exe = xstrdup0(from->exe);
	to->cmdline = xstrdup0(from->cmdline);
	to->sha256 = xstrdup0(from->sha256);
	to->cgroup = xstrdup0(from->cgroup);
	to->container_id = xstrdup0(from->container_id);
}

static void image_from_record(struct live_image *im, const struct log_record *rec)
{
	image_free(im);
	im->exe = xstrndup(rec->f[COL_EXE], rec->len[COL_EXE]);
	im->cmdline = xstrndup(rec->f[COL_CMDLINE], rec->len[COL_CMDLINE]);
	im->sha256 = xstrndup(rec->f[COL_SHA256], rec->len[COL_SHA256]);
	im->cgroup = xstrndup(rec->f[COL_CGROUP], rec->len[COL_CGROUP]);
	im->container_id = xstrndup(rec->f[COL_CONTAINER_ID], rec->len[COL_CONTAINER_ID]);
}

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

void live_init(struct live *lv)
{
	memset(lv, 0, sizeof(*lv));
	lv->nbuckets = 1024;
	lv->buckets = calloc(lv->nbuckets, sizeof(*lv->buckets));
	lv->dns = calloc(LIVE_MAX_DNS, sizeof(*lv->dns));
	if (!lv->buckets || !lv->dns)
		fatal("out of memory for the live process table");
}

static void proc_free(struct live_proc *p)
{
	free(p->guid);
	free(p->parent_guid);
	image_free(&p->img);
	image_free(&p->pimg);
	for (uint32_t i = 0; i < p->ninj; i++) {
		free(p->inj[i].actor_guid);
		free(p->inj[i].actor_exe);
		free(p->inj[i].method);
	}
	free(p->inj);
	free(p);
}

static void dns_free(struct live_dns *d)
{
	free(d->name);
	free(d->guid);
	free(d->exe);
	memset(d, 0, sizeof(*d));
}

void live_free(struct live *lv)
{
	for (uint32_t b = 0; b < lv->nbuckets; b++)
		for (struct live_proc *p = lv->buckets[b], *n; p; p = n) {
			n = p->next;
			proc_free(p);
		}
	free(lv->buckets);
	for (uint32_t i = 0; lv->dns && i < LIVE_MAX_DNS; i++)
		dns_free(&lv->dns[i]);
	free(lv->dns);
	memset(lv, 0, sizeof(*lv));
}

uint32_t live_count(const struct live *lv)
{
	return lv->nprocs;
}

static struct live_proc *find(const struct live *lv, const char *guid, size_t n)
{
	if (!n)
		return NULL;
	for (struct live_proc *p = lv->buckets[hash(guid, n) & (lv->nbuckets - 1)]; p; p = p->next)
		if (strlen(p->guid) == n && memcmp(p->guid, guid, n) == 0)
			return p;
	return NULL;
}

static struct live_proc *find_str(const struct live *lv, const char *guid)
{
	return guid ? find(lv, guid, strlen(guid)) : NULL;
}

static void grow(struct live *lv)
{
	uint32_t nb = lv->nbuckets * 2;
	struct live_proc **b = calloc(nb, sizeof(*b));
	if (!b)
		fatal("out of memory for the live process table");
	for (uint32_t i = 0; i < lv->nbuckets; i++)
		for (struct live_proc *p = lv->buckets[i], *n; p; p = n) {
			n = p->next;
			uint32_t k = hash(p->guid, strlen(p->guid)) & (nb - 1);
			p->next = b[k];
			b[k] = p;
		}
	free(lv->buckets);
	lv->buckets = b;
	lv->nbuckets = nb;
}

/* Take p out of the table; then its parent too when it has exited and this
 * was its last descendant in the table (and so on up). */
static void remove_proc(struct live *lv, struct live_proc *p)
{
	while (p) {
		struct live_proc **pp =
		    &lv->buckets[hash(p->guid, strlen(p->guid)) & (lv->nbuckets - 1)];
		while (*pp != p)
			pp = &(*pp)->next;
		*pp = p->next;
		lv->nprocs--;
		struct live_proc *parent = p->counted ? find_str(lv, p->parent_guid) : NULL;
		proc_free(p);
		p = NULL;
		if (parent && parent->nchildren && --parent->nchildren == 0 && parent->exited)
			p = parent;
	}
}

static void end_proc(struct live *lv, struct live_proc *p)
{
	p->exited = true;
	if (!p->nchildren)
		remove_proc(lv, p);
}

/* Processes matching a test, by guid (a removal may remove others). */
static void end_where(struct live *lv,
		      bool (*test)(const struct live *, const struct live_proc *, uint64_t),
		      uint64_t arg, bool force)
{
	char **victims = NULL;
	size_t n = 0, cap = 0;
	for (uint32_t b = 0; b < lv->nbuckets; b++)
		for (struct live_proc *p = lv->buckets[b]; p; p = p->next) {
			if (!test(lv, p, arg))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				victims = realloc(victims, cap * sizeof(*victims));
				if (!victims)
					fatal("out of memory");
			}
			victims[n++] = xstrdup0(p->guid);
		}
	for (size_t i = 0; i < n; i++) {
		struct live_proc *p = find_str(lv, victims[i]);
		if (p && force) {
			remove_proc(lv, p);
			lv->evicted++;
		} else if (p) {
			end_proc(lv, p);
		}
		free(victims[i]);
	}
	free(victims);
}

static bool not_in_snapshot(const struct live *lv, const struct live_proc *p, uint64_t unused)
{
	return !p->exited && p->epoch < lv->epoch;
}

static bool seen_before(const struct live *lv, const struct live_proc *p, uint64_t tick)
{
	return p->seen <= tick;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Over the bound (EXITs lost): the eighth seen longest ago goes. */
static void evict(struct live *lv)
{
	uint64_t *seen = malloc(lv->nprocs * sizeof(*seen));
	if (!seen)
		fatal("out of memory");
	size_t n = 0;
	for (uint32_t b = 0; b < lv->nbuckets; b++)
		for (struct live_proc *p = lv->buckets[b]; p; p = p->next)
			seen[n++] = p->seen;
	qsort(seen, n, sizeof(*seen), cmp_u64);
	uint64_t tick = seen[n / 8];
	free(seen);
	end_where(lv, seen_before, tick, true);
}

static struct live_proc *get(struct live *lv, const char *guid, size_t n, int32_t pid, uint64_t t)
{
	struct live_proc *p = find(lv, guid, n);
	if (p || !n)
		return p;
	if (lv->nprocs >= lv->nbuckets)
		grow(lv);
	p = calloc(1, sizeof(*p));
	if (!p)
		fatal("out of memory for the live process table");
	p->guid = xstrndup(guid, n);
	p->pid = pid;
	p->uid = -1;
	p->first_seen_ns = t;
	p->epoch = lv->epoch;
	uint32_t k = hash(guid, n) & (lv->nbuckets - 1);
	p->next = lv->buckets[k];
	lv->buckets[k] = p;
	lv->nprocs++;
	return p;
}

static int32_t num32(const struct log_record *rec, enum log_col c)
{
	int64_t v = log_record_num(rec, c);
	return v < 0 || v > INT32_MAX ? -1 : (int32_t)v;
}

/* p's parent, found: counted in its children, and its image as it was when
 * it started p */
static void link_parent(struct live_proc *p, struct live_proc *parent, bool fork)
{
	parent->nchildren++;
	p->counted = true;
	/* the parent as it was when it started this one: what a forked child
	 * runs until it execs */
	if (parent->has_img) {
		image_copy(&p->pimg, &parent->img);
		p->has_pimg = true;
		if (fork && !p->has_img) {
			image_copy(&p->img, &parent->img);
			p->has_img = true;
		}
	}
}

/*
 * At a snapshot's end: a process whose parent came after it (EXISTING
 * records go by pid, and a parent can have the higher pid once pids wrap)
 * is linked to it now, so that the parent stays while it runs.
 */
static void link_late_parents(struct live *lv)
{
	for (uint32_t b = 0; b < lv->nbuckets; b++)
		for (struct live_proc *p = lv->buckets[b]; p; p = p->next) {
			if (p->counted || !p->parent_guid)
				continue;
			struct live_proc *parent = find_str(lv, p->parent_guid);
			if (parent && parent != p)
				link_parent(p, parent, false);
		}
}

/* a FORK, EXEC or EXISTING */
static void process_record(struct live *lv, struct live_proc *p, const struct log_record *rec)
{
	int64_t uid = log_record_num(rec, COL_UID);
	if (uid >= 0)
		p->uid = uid;
	bool born = p->origin == ORIGIN_OTHER;
	if (born) {
		p->origin = rec->event == OM_EVENT_FORK	  ? ORIGIN_FORK
			    : rec->event == OM_EVENT_EXEC ? ORIGIN_EXEC
							  : ORIGIN_EXISTING;
		p->start_ns = rec->time_ns;
	}
	if (rec->len[COL_PARENT_GUID] && !p->parent_guid) {
		p->parent_guid = xstrndup(rec->f[COL_PARENT_GUID], rec->len[COL_PARENT_GUID]);
		struct live_proc *parent = find_str(lv, p->parent_guid);
		if (parent && parent != p)
			link_parent(p, parent, rec->event == OM_EVENT_FORK);
	}
	if (rec->len[COL_EXE] || rec->len[COL_CMDLINE]) {
		image_from_record(&p->img, rec);
		p->has_img = true;
	}
}

static void add_inject(struct live *lv, const struct log_record *rec, struct live_proc *actor)
{
	struct live_proc *target = get(lv, rec->f[COL_TARGET_GUID], rec->len[COL_TARGET_GUID],
				       num32(rec, COL_TARGET_PID), rec->time_ns);
	if (!target)
		return;
	target->seen = lv->tick;
	uint64_t count = 1;
	const char *c = strstr(rec->f[COL_DETAIL], "count=");
	if (c && (c == rec->f[COL_DETAIL] || c[-1] == ' ')) {
		int64_t v = log_field_numn(c + 6, strcspn(c + 6, " "));
		if (v > 0)
			count = (uint64_t)v;
	}
	const char *ag = actor ? actor->guid : NULL;
	for (uint32_t i = 0; i < target->ninj; i++) {
		struct live_inject *x = &target->inj[i];
		if (((!ag && !x->actor_guid) ||
		     (ag && x->actor_guid && !strcmp(ag, x->actor_guid))) &&
		    strcmp(x->method, rec->f[COL_RESULT]) == 0) {
			x->count += count;
			return;
		}
	}
	if (target->ninj >= LIVE_MAX_INJECTS)
		return;
	struct live_inject *v = realloc(target->inj, (target->ninj + 1) * sizeof(*v));
	if (!v)
		fatal("out of memory");
	target->inj = v;
	struct live_inject *x = &v[target->ninj++];
	x->actor_guid = xstrdup0(ag);
	x->actor_pid = actor ? actor->pid : -1;
	x->actor_exe = xstrdup0(actor && actor->has_img ? actor->img.exe : "");
	x->method = xstrndup(rec->f[COL_RESULT], rec->len[COL_RESULT]);
	x->first_ns = rec->time_ns;
	x->count = count;
}

static void add_dns(struct live *lv, const struct log_record *rec, struct live_proc *asker)
{
	if (!rec->len[COL_DNS_ANSWERS] || !rec->len[COL_DNS_NAME])
		return;
	const char *p = rec->f[COL_DNS_ANSWERS], *end = p + rec->len[COL_DNS_ANSWERS], *v;
	size_t vlen;
	while (dns_answer_next(&p, end, &v, &vlen)) {
		struct ipaddr a;
		if (vlen < sizeof(lv->dns[0].ip) && ipaddr_parse(v, vlen, &a) == 0) {
			struct live_dns *d = &lv->dns[lv->dns_next];
			dns_free(d);
			d->time_ns = rec->time_ns;
			memcpy(d->ip, v, vlen);
			d->ip[vlen] = '\0';
			d->name = xstrndup(rec->f[COL_DNS_NAME], rec->len[COL_DNS_NAME]);
			d->guid = xstrdup0(asker ? asker->guid : NULL);
			d->exe = xstrdup0(asker && asker->has_img ? asker->img.exe : "");
			d->pid = asker ? asker->pid : -1;
			lv->dns_next = (lv->dns_next + 1) % LIVE_MAX_DNS;
			if (lv->ndns < LIVE_MAX_DNS)
				lv->ndns++;
		}
	}
}

void live_add(struct live *lv, const struct log_record *rec)
{
	lv->tick++;
	/* here, not where a process is made: no process this record names is
	 * held yet (a record makes at most two) */
	if (lv->nprocs >= LIVE_MAX_PROCS)
		evict(lv);
	if (rec->event == OM_EVENT_START) {
		lv->epoch++;
		lv->in_snapshot = true;
		return;
	}
	bool live_event = rec->event == OM_EVENT_FORK || rec->event == OM_EVENT_EXEC ||
			  rec->event == OM_EVENT_EXIT || rec->event == OM_EVENT_NET ||
			  rec->event == OM_EVENT_DNS || rec->event == OM_EVENT_INJECT;
	if (lv->in_snapshot && live_event) {
		/* the snapshot (EXISTING, with MODLOAD between them) is over:
		 * who was running before and is not in it ended while the
		 * recorder was down */
		lv->in_snapshot = false;
		end_where(lv, not_in_snapshot, 0, false);
		link_late_parents(lv);
	}
	switch (rec->event) {
	case OM_EVENT_EXISTING:
	case OM_EVENT_FORK:
	case OM_EVENT_EXEC:
	case OM_EVENT_EXIT:
	case OM_EVENT_INJECT:
	case OM_EVENT_DNS:
	case OM_EVENT_NET:
		break;
	default:
		return;
	}
	struct live_proc *p =
	    get(lv, rec->f[COL_GUID], rec->len[COL_GUID], num32(rec, COL_PID), rec->time_ns);
	if (p) {
		p->seen = lv->tick;
		p->epoch = lv->epoch;
		int32_t pid = num32(rec, COL_PID);
		if (pid >= 0)
			p->pid = pid;
	}
	switch (rec->event) {
	case OM_EVENT_EXISTING:
	case OM_EVENT_FORK:
	case OM_EVENT_EXEC:
		if (p)
			process_record(lv, p, rec);
		break;
	case OM_EVENT_EXIT:
		if (p)
			end_proc(lv, p);
		break;
	case OM_EVENT_INJECT:
		add_inject(lv, rec, p);
		break;
	case OM_EVENT_DNS:
		add_dns(lv, rec, p);
		break;
	default:
		break;
	}
}

/* ---- a flow's own small history, for the output of who ---- */

#define GROW1(arr, n, cap)                                                                         \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? (cap)*2 : 16;                                              \
			void *q_ = realloc((arr), (size_t)(cap) * sizeof(*(arr)));                 \
			if (!q_)                                                                   \
				fatal("out of memory");                                            \
			(arr) = q_;                                                                \
		}                                                                                  \
	} while (0)

static uint32_t str(struct history *h, const char *s)
{
	return s ? intern_add(&h->strings, s, strlen(s)) : 0;
}

/* a process of h with one image (shown whatever the time) */
static int32_t mini_proc(struct history *h, const char *guid, int32_t pid,
			 const struct live_image *im)
{
	GROW1(h->procs, h->nprocs, h->procs_cap);
	int32_t i = (int32_t)h->nprocs++;
	struct proc *p = &h->procs[i];
	memset(p, 0, sizeof(*p));
	p->guid = intern_add(&h->guids, guid ? guid : "", guid ? strlen(guid) : 0);
	p->parent = PROC_NONE;
	p->pid = pid;
	p->ppid = -1;
	p->uid = -1;
	p->first_child = p->next_sibling = PROC_NONE;
	if (im && (im->exe || im->cmdline)) {
		GROW1(h->images, h->nimages, h->images_cap);
		h->images[h->nimages++] = (struct proc_image){
		    .exe = str(h, im->exe),
		    .cmdline = str(h, im->cmdline),
		    .sha256 = str(h, im->sha256),
		    .cgroup = str(h, im->cgroup),
		    .container_id = str(h, im->container_id),
		};
		p->first_image = p->last_image = h->nimages;
	}
	return i;
}

static const struct live_dns *dns_find(const struct live *lv, const char *ip, const char *guid)
{
	const struct live_dns *host = NULL;
	for (uint32_t k = 1; k <= lv->ndns; k++) {
		const struct live_dns *d =
		    &lv->dns[(lv->dns_next + LIVE_MAX_DNS - k) % LIVE_MAX_DNS];
		if (strcmp(d->ip, ip) != 0)
			continue;
		if (guid && d->guid && strcmp(d->guid, guid) == 0)
			return d;
		if (!host)
			host = d;
	}
	return host;
}

int32_t live_history(const struct live *lv, const char *guid, size_t guid_len, const char *dst_ip,
		     bool outgoing, struct history *h, struct dns_hit *dns)
{
	history_init(h);
	h->finished = true;
	memset(dns, 0, sizeof(*dns));
	dns->proc = PROC_NONE;
	const struct live_proc *p = find(lv, guid, guid_len);
	if (!p) {
		/* a flow nobody owns may still have a name the host resolved */
		const struct live_dns *d = outgoing ? dns_find(lv, dst_ip, NULL) : NULL;
		if (d) {
			struct live_image im = {.exe = d->exe};
			dns->from = DNS_FROM_HOST;
			dns->name = str(h, d->name);
			dns->time_ns = d->time_ns;
			dns->proc = d->guid ? mini_proc(h, d->guid, d->pid, &im) : PROC_NONE;
		}
		return PROC_NONE;
	}
	int32_t self = mini_proc(h, p->guid, p->pid, p->has_img ? &p->img : NULL);
	h->procs[self].uid = p->uid;
	h->procs[self].start_ns = p->start_ns;
	h->procs[self].first_seen_ns = p->first_seen_ns;
	h->procs[self].origin = p->origin;
	/* ancestors, each as it was when it started the one below */
	const struct live_proc *child = p;
	int32_t below = self;
	for (int depth = 0; depth < HISTORY_MAX_DEPTH && child->parent_guid; depth++) {
		const struct live_proc *a = find_str(lv, child->parent_guid);
		if (!a || a == p)
			break;
		int32_t i = mini_proc(h, a->guid, a->pid,
				      child->has_pimg ? &child->pimg
				      : a->has_img    ? &a->img
						      : NULL);
		h->procs[i].start_ns = a->start_ns;
		h->procs[i].first_seen_ns = a->first_seen_ns;
		h->procs[below].parent = i;
		below = i;
		child = a;
	}
	/* who acted on it */
	for (uint32_t k = 0; k < p->ninj; k++) {
		const struct live_inject *x = &p->inj[k];
		struct live_image im = {.exe = x->actor_exe};
		int32_t actor =
		    x->actor_guid ? mini_proc(h, x->actor_guid, x->actor_pid, &im) : PROC_NONE;
		GROW1(h->injects, h->ninjects, h->injects_cap);
		h->injects[h->ninjects++] = (struct inject_rec){
		    .time_ns = x->first_ns,
		    .actor = actor,
		    .target = self,
		    .method = str(h, x->method),
		    .next_into = h->procs[self].injects_in,
		    .count = x->count,
		};
		h->procs[self].injects_in = h->ninjects;
	}
	/* the name the destination was resolved from */
	const struct live_dns *d = outgoing ? dns_find(lv, dst_ip, p->guid) : NULL;
	if (d) {
		bool own = d->guid && strcmp(d->guid, p->guid) == 0;
		dns->from = own ? DNS_FROM_PROCESS : DNS_FROM_HOST;
		dns->name = str(h, d->name);
		dns->time_ns = d->time_ns;
		if (own) {
			dns->proc = self;
		} else if (d->guid) {
			struct live_image im = {.exe = d->exe};
			dns->proc = mini_proc(h, d->guid, d->pid, &im);
		}
	}
	return self;
}
