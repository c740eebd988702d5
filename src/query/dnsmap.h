/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which name a flow's destination was resolved from: the addresses the DNS
 * responses of a log gave (A and AAAA answers), each with the name asked
 * (the question, not a CNAME target: what the process meant), the process
 * that asked, and when. A flow's name is the one its own process resolved to
 * its destination most recently at or before the flow; else the one any
 * process of the host resolved so (docs/QUERY.md, "Names").
 */
#ifndef ONMITSU_QUERY_DNSMAP_H
#define ONMITSU_QUERY_DNSMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "query/history.h"
#include "query/reader.h"

struct dns_answer_rec {
	uint64_t time_ns;
	int32_t proc;  /* who asked; PROC_NONE when the record names nobody */
	uint32_t ip;   /* history.ips */
	uint32_t name; /* history.strings: the question's name */
};

struct dns_map {
	struct dns_answer_rec *v;
	uint32_t n, cap;
	uint32_t *by_proc; /* indexes into v sorted by (ip, proc, time) */
	uint32_t *by_ip;   /* sorted by (ip, time) */
};

enum dns_from { DNS_FROM_NONE = 0, DNS_FROM_PROCESS, DNS_FROM_HOST };

struct dns_hit {
	enum dns_from from;
	uint32_t name;	  /* history.strings */
	int32_t proc;	  /* who resolved it */
	uint64_t time_ns; /* its response */
};

/* The next A or AAAA answer's value in a DNS record's dns_answers text
 * ("TYPE value;TYPE value", [*p, end)): true with [*v, *v + *vlen) the
 * address text (not yet checked to be one), *p past it; false at the end.
 * Answers of other types are passed over. */
bool dns_answer_next(const char **p, const char *end, const char **v, size_t *vlen);

void dns_map_init(struct dns_map *m);
void dns_map_free(struct dns_map *m);
/* Keep the A/AAAA answers of a DNS response record (others are ignored). */
void dns_map_add(struct dns_map *m, struct history *h, const struct log_record *rec, int32_t proc);
/* Sort for look-ups, once all records are in. */
void dns_map_index(struct dns_map *m);
/* The name for a flow of proc (PROC_NONE: any process) to ip at t. */
struct dns_hit dns_map_lookup(const struct dns_map *m, uint32_t ip, int32_t proc, uint64_t t_ns);
/* "process", "host" or NULL. */
const char *dns_from_name(enum dns_from f);

#endif
