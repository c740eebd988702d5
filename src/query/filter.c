/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/filter.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/time.h"

#define TIME_HINT                                                                                  \
	"use UTC ISO 8601 like 2026-11-25T19:13:17Z or 2026-11-25T19:13:17.123456Z, "              \
	"or a time relative to now like -2h, -30m, -1d (units s, m, h, d, w)"

static bool digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

static int parse_iso(const char *s, uint64_t *out)
{
	unsigned y, mo, d, hh = 0, mi = 0, ss = 0;
	uint64_t frac_ns = 0;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	const char *p = s + 10;
	int64_t offset_s = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mi))
			return -1;
		p += 5;
		if (*p == ':') {
			if (!digits(p + 1, 2, &ss))
				return -1;
			p += 3;
			if (*p == '.' || *p == ',') {
				p++;
				int n = 0;
				uint64_t scale = 100000000;
				while (*p >= '0' && *p <= '9') {
					if (n < 9)
						frac_ns += (uint64_t)(*p - '0') * scale;
					scale /= 10;
					n++;
					p++;
				}
				if (n == 0)
					return -1;
			}
		}
		if (hh > 23 || mi > 59 || ss > 60)
			return -1;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			unsigned oh, om;
			int sign = *p == '-' ? -1 : 1;
			if (!digits(p + 1, 2, &oh))
				return -1;
			p += 3;
			if (*p == ':')
				p++;
			if (!digits(p, 2, &om))
				return -1;
			p += 2;
			if (oh > 23 || om > 59)
				return -1;
			offset_s = sign * (int64_t)(oh * 3600 + om * 60);
		}
	}
	if (*p)
		return -1;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset_s;
	/* before 1970, or after 2554-07-21T23:34:33Z, which Unix ns in 64 bits
	 * cannot hold (it would wrap to an earlier time) */
	if (secs < 0 || (uint64_t)secs > (UINT64_MAX - frac_ns) / 1000000000ull)
		return -1;
	*out = (uint64_t)secs * 1000000000ull + frac_ns;
	return 0;
}

static int parse_relative(const char *s, uint64_t now_ns, uint64_t *out)
{
	if (*s != '-')
		return -1;
	s++;
	uint64_t total = 0;
	if (!*s)
		return -1;
	while (*s) {
		uint64_t n = 0;
		int nd = 0;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (uint64_t)(*s - '0');
			if (++nd > 9)
				return -1;
			s++;
		}
		if (nd == 0)
			return -1;
		uint64_t unit;
		switch (*s) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			return -1;
		}
		s++;
		total += n * unit; /* at most 6.1e14 a term: it cannot wrap in 64 bits */
		if (total > now_ns / 1000000000ull + 1)
			total = now_ns / 1000000000ull + 1; /* before 1970: 0 below */
	}
	uint64_t ns = total * 1000000000ull;
	*out = ns > now_ns ? 0 : now_ns - ns;
	return 0;
}

int parse_time_arg(const char *s, uint64_t now_ns, uint64_t *out_ns, char *err, size_t errsize)
{
	if (strcmp(s, "now") == 0) {
		*out_ns = now_ns;
		return 0;
	}
	if (parse_relative(s, now_ns, out_ns) == 0 || parse_iso(s, out_ns) == 0)
		return 0;
	snprintf(err, errsize, "\"%s\" is not a time: " TIME_HINT, s);
	return -1;
}

int parse_port(const char *s, uint16_t *port, char *err, size_t errsize)
{
	unsigned long v = 0;
	size_t n = strlen(s);
	bool digits = n > 0 && strspn(s, "0123456789") == n;
	for (size_t i = 0; digits && i < n && v <= 65535; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (digits && (n > 5 || v > 65535)) { /* "020230", "000000080": not ports either */
		snprintf(err, errsize, "%s is out of range for a port (0 to 65535)", s);
		return -1;
	}
	if (!digits) {
		snprintf(err, errsize, "\"%s\" is not a port: use a number from 0 to 65535", s);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int parse_proto(const char *s, uint8_t *proto, char *err, size_t errsize)
{
	uint8_t p = proto_from_name(s);
	if (!p) {
		snprintf(err, errsize, "\"%s\" is not a protocol: use tcp, udp, icmp or icmpv6", s);
		return -1;
	}
	*proto = p;
	return 0;
}

/* addr[/prefix] */
static int parse_addr_prefix(const char *s, size_t n, struct endpoint *ep)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	if (ipaddr_parse(s, alen, &ep->addr) < 0)
		return -1;
	unsigned max = ep->addr.family == AF_INET ? 32 : 128;
	ep->prefix_len = max;
	if (slash) {
		unsigned v;
		int nd = (int)(n - alen - 1);
		if (nd < 1 || nd > 3 || !digits(slash + 1, nd, &v) || v > max)
			return -1;
		/* an IPv4 literal that was written as IPv4-mapped IPv6 keeps its IPv4 prefix */
		ep->prefix_len = v;
	}
	ep->has_addr = true;
	return 0;
}

int parse_endpoint(const char *s, struct endpoint *ep, char *err, size_t errsize)
{
	memset(ep, 0, sizeof(*ep));
	size_t n = strlen(s);
	const char *port = NULL;
	int rc = -1;
	char perr[160];
	if (n && s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close && parse_addr_prefix(s + 1, (size_t)(close - s - 1), ep) == 0 &&
		    ep->addr.family == AF_INET6) {
			if (close[1] == '\0')
				rc = 0;
			else if (close[1] == ':')
				port = close + 2, rc = 0;
		}
	} else {
		const char *first = strchr(s, ':'), *last = strrchr(s, ':');
		if (!first) {
			rc = parse_addr_prefix(s, n, ep);
		} else if (first == last) { /* v4:port or :port */
			if (first == s)
				rc = 0;
			else
				rc = parse_addr_prefix(s, (size_t)(first - s), ep);
			port = first + 1;
		} else { /* IPv6 without brackets: no port */
			rc = parse_addr_prefix(s, n, ep);
		}
	}
	if (rc == 0 && port) {
		if (parse_port(port, &ep->port, perr, sizeof(perr)) < 0) {
			/* the address is fine: say what is wrong with the port */
			snprintf(err, errsize, "\"%s\": %s", s, perr);
			return -1;
		}
		ep->has_port = true;
	}
	if (rc == 0 && !ep->has_addr && !ep->has_port)
		rc = -1;
	if (rc < 0) {
		snprintf(err, errsize,
			 "\"%s\" is not an address: use IP, IP:PORT, [IPV6]:PORT or :PORT "
			 "(an address may carry a /PREFIX), e.g. 203.0.113.7:443 or "
			 "[2001:db8::1]:443",
			 s);
		return -1;
	}
	return 0;
}

void net_filter_init(struct net_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->until_ns = UINT64_MAX;
	f->pid = -1;
}

static bool endpoint_match(struct history *h, const struct endpoint *ep, const char *ip,
			   size_t ip_len, const char *port, bool has_ports)
{
	if (ep->has_port) {
		if (!has_ports)
			return false;
		int64_t p = log_field_num(port);
		if (p != ep->port)
			return false;
	}
	if (ep->has_addr) {
		struct ipaddr a;
		if (ipaddr_parse(ip, ip_len, &a) < 0 ||
		    !ipaddr_in_prefix(&a, &ep->addr, ep->prefix_len))
			return false;
	}
	return true;
}

bool net_filter_match(struct history *h, const struct net_filter *f, const struct log_record *rec)
{
	if (rec->time_ns < f->since_ns || rec->time_ns > f->until_ns)
		return false;
	if (f->proto) {
		uint8_t p = proto_from_name(rec->f[COL_PROTO]);
		bool ok = p == f->proto || (f->proto == IPPROTO_ICMP && p == IPPROTO_ICMPV6);
		if (!ok)
			return false;
	}
	if (f->pid >= 0 && log_record_num(rec, COL_PID) != f->pid)
		return false;
	if (f->guid && strcmp(rec->f[COL_GUID], f->guid) != 0)
		return false;
	if (f->community_id && strcmp(rec->f[COL_COMMUNITY_ID], f->community_id) != 0)
		return false;
	/* ICMP records carry type and code in the port columns: not ports */
	uint8_t proto = proto_from_name(rec->f[COL_PROTO]);
	bool has_ports = proto != IPPROTO_ICMP && proto != IPPROTO_ICMPV6;
	if (f->has_port && !has_ports)
		return false;
	if (f->has_port && log_record_num(rec, COL_SRC_PORT) != f->port &&
	    log_record_num(rec, COL_DST_PORT) != f->port)
		return false;
	if (f->has_src && !endpoint_match(h, &f->src, rec->f[COL_SRC_IP], rec->len[COL_SRC_IP],
					  rec->f[COL_SRC_PORT], has_ports))
		return false;
	if (f->has_dst && !endpoint_match(h, &f->dst, rec->f[COL_DST_IP], rec->len[COL_DST_IP],
					  rec->f[COL_DST_PORT], has_ports))
		return false;
	return true;
}
