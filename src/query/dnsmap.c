/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/dnsmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

void dns_map_init(struct dns_map *m)
{
	memset(m, 0, sizeof(*m));
}

void dns_map_free(struct dns_map *m)
{
	free(m->v);
	free(m->by_proc);
	free(m->by_ip);
	memset(m, 0, sizeof(*m));
}

static void push(struct dns_map *m, const struct dns_answer_rec *a)
{
	if (m->n == m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : 1024;
		struct dns_answer_rec *v = realloc(m->v, (size_t)cap * sizeof(*v));
		if (!v)
			fatal("out of memory for the DNS answers");
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = *a;
}

bool dns_answer_next(const char **p, const char *end, const char **v, size_t *vlen)
{
	/* "TYPE value;TYPE value": the values of A and AAAA are addresses */
	while (*p < end) {
		const char *a = *p;
		const char *semi = memchr(a, ';', (size_t)(end - a));
		const char *e = semi ? semi : end;
		*p = semi ? semi + 1 : end;
		if (e - a > 2 && memcmp(a, "A ", 2) == 0)
			*v = a + 2;
		else if (e - a > 5 && memcmp(a, "AAAA ", 5) == 0)
			*v = a + 5;
		else
			continue;
		*vlen = (size_t)(e - *v);
		return true;
	}
	return false;
}

void dns_map_add(struct dns_map *m, struct history *h, const struct log_record *rec, int32_t proc)
{
	if (rec->event != OM_EVENT_DNS || !rec->len[COL_DNS_ANSWERS] || !rec->len[COL_DNS_NAME])
		return;
	if (proc == PROC_NONE)
		proc = history_proc_of(h, rec);
	struct dns_answer_rec a = {.time_ns = rec->time_ns, .proc = proc};
	a.name = intern_add(&h->strings, rec->f[COL_DNS_NAME], rec->len[COL_DNS_NAME]);
	const char *p = rec->f[COL_DNS_ANSWERS], *end = p + rec->len[COL_DNS_ANSWERS], *v;
	size_t vlen;
	while (dns_answer_next(&p, end, &v, &vlen))
		if ((a.ip = ip_table_add_text(&h->ips, v, vlen)) != 0)
			push(m, &a);
}

/* qsort has no context argument: the array being sorted, for the comparators */
static const struct dns_answer_rec *sort_v;

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int by_ip_time(const void *pa, const void *pb)
{
	const struct dns_answer_rec *a = &sort_v[*(const uint32_t *)pa];
	const struct dns_answer_rec *b = &sort_v[*(const uint32_t *)pb];
	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	int c = cmp_u64(a->time_ns, b->time_ns);
	return c ? c : cmp_u64(*(const uint32_t *)pa, *(const uint32_t *)pb);
}

static int by_ip_proc_time(const void *pa, const void *pb)
{
	const struct dns_answer_rec *a = &sort_v[*(const uint32_t *)pa];
	const struct dns_answer_rec *b = &sort_v[*(const uint32_t *)pb];
	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	if (a->proc != b->proc)
		return a->proc < b->proc ? -1 : 1;
	int c = cmp_u64(a->time_ns, b->time_ns);
	return c ? c : cmp_u64(*(const uint32_t *)pa, *(const uint32_t *)pb);
}

void dns_map_index(struct dns_map *m)
{
	free(m->by_proc);
	free(m->by_ip);
	size_t sz = (m->n ? m->n : 1) * sizeof(uint32_t);
	m->by_proc = malloc(sz);
	m->by_ip = malloc(sz);
	if (!m->by_proc || !m->by_ip)
		fatal("out of memory for the DNS answers");
	for (uint32_t i = 0; i < m->n; i++)
		m->by_proc[i] = m->by_ip[i] = i;
	sort_v = m->v;
	qsort(m->by_proc, m->n, sizeof(uint32_t), by_ip_proc_time);
	qsort(m->by_ip, m->n, sizeof(uint32_t), by_ip_time);
	sort_v = NULL;
}

/* The last entry of idx (sorted) that is <= the key (ip, proc, t), or -1;
 * with_proc: compare proc too. */
static int64_t last_at_or_before(const struct dns_map *m, const uint32_t *idx, bool with_proc,
				 uint32_t ip, int32_t proc, uint64_t t)
{
	uint32_t lo = 0, hi = m->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct dns_answer_rec *a = &m->v[idx[mid]];
		bool le = a->ip < ip || (a->ip == ip && with_proc && a->proc < proc) ||
			  (a->ip == ip && (!with_proc || a->proc == proc) && a->time_ns <= t);
		if (le)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	const struct dns_answer_rec *a = &m->v[idx[lo - 1]];
	if (a->ip != ip || (with_proc && a->proc != proc) || a->time_ns > t)
		return -1;
	return idx[lo - 1];
}

struct dns_hit dns_map_lookup(const struct dns_map *m, uint32_t ip, int32_t proc, uint64_t t_ns)
{
	struct dns_hit hit = {.from = DNS_FROM_NONE, .proc = PROC_NONE};
	if (!ip || !m->n)
		return hit;
	int64_t i = -1;
	if (proc != PROC_NONE)
		i = last_at_or_before(m, m->by_proc, true, ip, proc, t_ns);
	hit.from = DNS_FROM_PROCESS;
	if (i < 0) {
		i = last_at_or_before(m, m->by_ip, false, ip, PROC_NONE, t_ns);
		hit.from = DNS_FROM_HOST;
	}
	if (i < 0) {
		hit.from = DNS_FROM_NONE;
		return hit;
	}
	hit.name = m->v[i].name;
	hit.proc = m->v[i].proc;
	hit.time_ns = m->v[i].time_ns;
	return hit;
}

const char *dns_from_name(enum dns_from f)
{
	return f == DNS_FROM_PROCESS ? "process" : f == DNS_FROM_HOST ? "host" : NULL;
}
