/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What investigators filter on: times (absolute or relative), endpoints,
 * protocols, processes. Parsers return 0, or -1 with a message in err that
 * names the bad value and says what would be right (the command exits 2).
 */
#ifndef ONMITSU_QUERY_FILTER_H
#define ONMITSU_QUERY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/history.h"
#include "query/ipaddr.h"
#include "query/reader.h"

/*
 * A time: ISO 8601 in UTC, "2026-11-25T19:13:17Z", with optional fraction
 * (".123456"), a space instead of "T", a "+09:00"-style offset instead of
 * "Z", or a date alone (midnight UTC); or relative to now_ns: "-2h", "-30m",
 * "-1d", "-90s", "-1w", "-1h30m"; or "now".
 */
int parse_time_arg(const char *s, uint64_t now_ns, uint64_t *out_ns, char *err, size_t errsize);

/* IP[/PREFIX][:PORT], [IPV6[/PREFIX]]:PORT, IPV6[/PREFIX] alone, or :PORT. */
struct endpoint {
	bool has_addr;
	struct ipaddr addr;
	unsigned prefix_len; /* 32 / 128 for one address */
	bool has_port;
	uint16_t port;
};
int parse_endpoint(const char *s, struct endpoint *ep, char *err, size_t errsize);
int parse_port(const char *s, uint16_t *port, char *err, size_t errsize);
/* tcp | udp | icmp (also matches icmpv6) | icmpv6 */
int parse_proto(const char *s, uint8_t *proto, char *err, size_t errsize);

struct net_filter {
	bool has_src, has_dst;
	struct endpoint src, dst;
	bool has_port;
	uint16_t port; /* either side */
	uint8_t proto; /* 0: any */
	const char *community_id;
	uint64_t since_ns, until_ns; /* 0 / UINT64_MAX: open */
	int64_t pid;		     /* -1: any */
	const char *guid;
};

void net_filter_init(struct net_filter *f);
/* Whether a NET record matches (h interns its addresses). */
bool net_filter_match(struct history *h, const struct net_filter *f, const struct log_record *rec);

#endif
