/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IP addresses as the query side compares them: parsed once per distinct
 * text, compared as bytes. An IPv4-mapped IPv6 address is stored as the IPv4
 * address (docs/DESIGN.md: the recorder writes it so; a capture may not).
 */
#ifndef ONMITSU_QUERY_IPADDR_H
#define ONMITSU_QUERY_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/intern.h"

struct ipaddr {
	uint8_t family;	  /* AF_INET or AF_INET6; 0: none */
	uint8_t addr[16]; /* AF_INET: first 4 bytes, the rest zero */
};

/* Parse s[0..n) (no brackets, no port). Returns 0, or -1 when it is not an
 * address. */
int ipaddr_parse(const char *s, size_t n, struct ipaddr *out);
/* Make an address from raw bytes (4 or 16), folding IPv4-mapped IPv6. */
void ipaddr_from_bytes(struct ipaddr *out, int family, const uint8_t *bytes);
/* Text form (inet_ntop); buf >= 46 bytes. */
const char *ipaddr_format(const struct ipaddr *a, char *buf, size_t size);
bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b);
/* Whether a lies in net/prefix_len (same family). */
bool ipaddr_in_prefix(const struct ipaddr *a, const struct ipaddr *net, unsigned prefix_len);

/*
 * Distinct addresses of a log, each with a dense id (0: no address or not an
 * address). Text forms that name the same address get the same id.
 */
struct ip_table {
	struct intern text;   /* address texts as written */
	uint32_t *id_of_text; /* text id -> address id */
	uint32_t id_of_text_cap;
	struct intern bytes;  /* address id -> struct ipaddr, as 17 bytes */
	uint32_t *text_of_id; /* address id -> the first text seen */
	uint32_t text_of_id_cap;
};

void ip_table_init(struct ip_table *t);
void ip_table_free(struct ip_table *t);
/* The id of the address written as s[0..n); 0 when empty or not an address. */
uint32_t ip_table_add_text(struct ip_table *t, const char *s, size_t n);
/* The id of an address, or 0 when the log never named it. */
uint32_t ip_table_find(const struct ip_table *t, const struct ipaddr *a);
/* The address as the log first wrote it ("" for id 0). */
const char *ip_table_text(const struct ip_table *t, uint32_t id);

#endif
