/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/capture.h"

#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "query/intern.h"
#include "util/log.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define MAX_VLAN_TAGS 8
#define MAX_IPV6_EXT 8

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool capture_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
#endif
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

static int decode_transport(const uint8_t *p, size_t n, struct pkt_tuple *t, const char **why)
{
	switch (t->proto) {
	case IPPROTO_TCP:
		if (n < 14) {
			*why = "TCP header cut short";
			return -1;
		}
		t->sport = be16(p);
		t->dport = be16(p + 2);
		t->tcp_seq = be32(p + 4);
		t->tcp_flags = p[13];
		t->has_ports = true;
		return 0;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (n < 4) {
			*why = "transport header cut short";
			return -1;
		}
		t->sport = be16(p);
		t->dport = be16(p + 2);
		t->has_ports = true;
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (n < 2) {
			*why = "ICMP header cut short";
			return -1;
		}
		t->sport = p[0];
		t->dport = p[1];
		t->has_ports = true;
		if (n >= 6)
			t->icmp_id = be16(p + 4);
		return 0;
	default:
		return 0; /* an IP protocol without ports */
	}
}

static int decode_ipv4(const uint8_t *p, size_t n, struct pkt_tuple *t, const char **why)
{
	if (n < 20 || (p[0] >> 4) != 4) {
		*why = "IPv4 header cut short or malformed";
		return -1;
	}
	size_t ihl = (size_t)(p[0] & 15) * 4;
	size_t total = be16(p + 2);
	if (ihl < 20 || n < ihl || total < ihl) {
		*why = "IPv4 header cut short or malformed";
		return -1;
	}
	if (total < n)
		n = total; /* Ethernet padding */
	t->proto = p[9];
	ipaddr_from_bytes(&t->src, AF_INET, p + 12);
	ipaddr_from_bytes(&t->dst, AF_INET, p + 16);
	if ((be16(p + 6) & 0x1fff) != 0) {
		t->fragment = true;
		return 0;
	}
	return decode_transport(p + ihl, n - ihl, t, why);
}

static int decode_ipv6(const uint8_t *p, size_t n, struct pkt_tuple *t, const char **why)
{
	if (n < 40 || (p[0] >> 4) != 6) {
		*why = "IPv6 header cut short or malformed";
		return -1;
	}
	size_t payload = be16(p + 4);
	if (payload + 40 < n)
		n = payload + 40;
	uint8_t next = p[6];
	ipaddr_from_bytes(&t->src, AF_INET6, p + 8);
	ipaddr_from_bytes(&t->dst, AF_INET6, p + 24);
	if (t->src.family != t->dst.family) {
		/* one end IPv4-mapped, the other not: no IPv4 conversation, so
		 * both stay IPv6 (the flow key and Community ID take one family) */
		t->src.family = t->dst.family = AF_INET6;
		memcpy(t->src.addr, p + 8, 16);
		memcpy(t->dst.addr, p + 24, 16);
	}
	size_t off = 40;
	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		if (next == 0 || next == 43 || next == 60) { /* hop-by-hop, routing, destination */
			if (n < off + 8)
				goto short_ext;
			uint8_t nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
			next = nh;
		} else if (next == 44) { /* fragment */
			if (n < off + 8)
				goto short_ext;
			uint8_t nh = p[off];
			bool later = (be16(p + off + 2) & 0xfff8) != 0;
			off += 8;
			next = nh;
			if (later) {
				t->proto = next;
				t->fragment = true;
				return 0;
			}
		} else if (next == 51) { /* authentication header */
			if (n < off + 8)
				goto short_ext;
			uint8_t nh = p[off];
			off += ((size_t)p[off + 1] + 2) * 4;
			next = nh;
		} else {
			break;
		}
	}
	if (off > n)
		goto short_ext;
	t->proto = next;
	return decode_transport(p + off, n - off, t, why);
short_ext:
	*why = "IPv6 extension header cut short";
	return -1;
}

static int decode_ethertype(uint16_t type, const uint8_t *p, size_t n, struct pkt_tuple *t,
			    const char **why)
{
	for (int tags = 0; tags <= MAX_VLAN_TAGS; tags++) {
		if (type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ_OLD) {
			if (n < 4) {
				*why = "VLAN tag cut short";
				return -1;
			}
			type = be16(p + 2);
			p += 4;
			n -= 4;
			continue;
		}
		if (type == ETH_P_IPV4)
			return decode_ipv4(p, n, t, why);
		if (type == ETH_P_IPV6)
			return decode_ipv6(p, n, t, why);
		return 0; /* ARP, LLDP, ...: not IP */
	}
	*why = "too many VLAN tags";
	return -1;
}

int capture_decode(int linktype, const uint8_t *data, size_t caplen, struct pkt_tuple *t,
		   const char **why)
{
	memset(t, 0, sizeof(*t));
	*why = NULL;
	switch (linktype) {
	case DLT_EN10MB:
		if (caplen < 14) {
			*why = "Ethernet header cut short";
			return -1;
		}
		return decode_ethertype(be16(data + 12), data + 14, caplen - 14, t, why);
	case DLT_LINUX_SLL:
		if (caplen < 16) {
			*why = "Linux cooked header cut short";
			return -1;
		}
		return decode_ethertype(be16(data + 14), data + 16, caplen - 16, t, why);
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (caplen < 20) {
			*why = "Linux cooked v2 header cut short";
			return -1;
		}
		return decode_ethertype(be16(data), data + 20, caplen - 20, t, why);
#endif
	case DLT_NULL:
	case DLT_LOOP: {
		if (caplen < 4) {
			*why = "loopback header cut short";
			return -1;
		}
		/* the family in the writer's byte order (NULL) or network order (LOOP):
		 * tell IPv4 from IPv6 by the version nibble instead */
		data += 4;
		caplen -= 4;
	}
		/* fall through */
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		if (caplen < 1) {
			*why = "empty packet";
			return -1;
		}
		if ((data[0] >> 4) == 4)
			return decode_ipv4(data, caplen, t, why);
		if ((data[0] >> 4) == 6)
			return decode_ipv6(data, caplen, t, why);
		return 0;
	default:
		*why = "unsupported link type";
		return -1;
	}
}

/* ---- flows ---- */

struct flow_table {
	struct intern keys;
	int64_t *latest; /* key id -> index of its latest flow, -1 */
	uint32_t latest_cap;
};

static int cmp_endpoint(const struct ipaddr *a, uint16_t ap, const struct ipaddr *b, uint16_t bp)
{
	int c = memcmp(a->addr, b->addr, 16);
	if (c)
		return c;
	return (int)ap - (int)bp;
}

/* proto, family, then the two endpoints in a fixed order (so both directions
 * of a flow share a key); ICMP echo flows are told apart by identifier */
static size_t flow_key(const struct pkt_tuple *t, uint8_t key[40])
{
	uint16_t sp = t->sport, dp = t->dport;
	if (t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6)
		sp = dp = t->icmp_id;
	const struct ipaddr *a = &t->src, *b = &t->dst;
	if (cmp_endpoint(a, sp, b, dp) > 0) {
		const struct ipaddr *x = a;
		a = b;
		b = x;
		uint16_t y = sp;
		sp = dp;
		dp = y;
	}
	key[0] = t->proto;
	key[1] = t->src.family;
	memcpy(key + 2, a->addr, 16);
	key[18] = (uint8_t)(sp >> 8);
	key[19] = (uint8_t)sp;
	memcpy(key + 20, b->addr, 16);
	key[36] = (uint8_t)(dp >> 8);
	key[37] = (uint8_t)dp;
	return 38;
}

static int64_t *latest_slot(struct flow_table *ft, uint32_t id)
{
	if (id >= ft->latest_cap) {
		uint32_t cap = ft->latest_cap ? ft->latest_cap : 1024;
		while (cap <= id)
			cap *= 2;
		int64_t *p = realloc(ft->latest, (size_t)cap * sizeof(*p));
		if (!p)
			fatal("out of memory");
		for (uint32_t i = ft->latest_cap; i < cap; i++)
			p[i] = -1;
		ft->latest = p;
		ft->latest_cap = cap;
	}
	return &ft->latest[id];
}

static struct capture_flow *new_flow(struct capture *c, const struct pkt_tuple *t, uint64_t ts)
{
	if (c->nflows == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->flows = realloc(c->flows, c->cap * sizeof(*c->flows));
		if (!c->flows)
			fatal("out of memory");
	}
	struct capture_flow *f = &c->flows[c->nflows++];
	memset(f, 0, sizeof(*f));
	f->time_ns = f->last_ns = ts;
	f->first = *t;
	f->packets = 1;
	if (community_id_v1(f->community_id, 0, t->proto, t->src.family, t->src.addr, t->dst.addr,
			    t->sport, t->dport, t->has_ports, true) < 0)
		f->community_id[0] = '\0';
	return f;
}

static void track_packet(struct capture *c, struct flow_table *ft, const struct pkt_tuple *t,
			 uint64_t ts)
{
	bool tcp = t->proto == IPPROTO_TCP, udp = t->proto == IPPROTO_UDP;
	bool icmp = t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6;
	if ((!tcp && !udp && !icmp) || t->fragment || !t->has_ports)
		return;
	bool echo_request = icmp && ((t->proto == IPPROTO_ICMP && t->sport == 8) ||
				     (t->proto == IPPROTO_ICMPV6 && t->sport == 128));
	bool echo_reply = icmp && ((t->proto == IPPROTO_ICMP && t->sport == 0) ||
				   (t->proto == IPPROTO_ICMPV6 && t->sport == 129));
	if (icmp && !echo_request && !echo_reply)
		return;
	uint8_t key[40];
	size_t klen = flow_key(t, key);
	uint32_t id = intern_add(&ft->keys, (const char *)key, klen);
	int64_t *slot = latest_slot(ft, id);
	struct capture_flow *f = *slot >= 0 ? &c->flows[*slot] : NULL;
	uint64_t idle = (uint64_t)CAPTURE_IDLE_S * 1000000000ull;
	bool stale = f && ts > f->last_ns + idle;
	bool start = false;
	if (tcp) {
		bool syn = (t->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
		if (syn) {
			/* the same initial sequence number is a retransmission */
			bool retransmit =
			    f && !stale && !f->mid_stream && f->first.tcp_seq == t->tcp_seq;
			start = !retransmit;
		} else {
			start = !f || stale; /* mid-stream: the capture missed the handshake */
		}
		if (start) {
			f = new_flow(c, t, ts);
			f->mid_stream = !syn;
			*slot = (int64_t)(c->nflows - 1);
			return;
		}
	} else if (icmp) {
		if (echo_request && (!f || stale)) {
			new_flow(c, t, ts);
			*slot = (int64_t)(c->nflows - 1);
			return;
		}
	} else if (!f || stale) {
		new_flow(c, t, ts);
		*slot = (int64_t)(c->nflows - 1);
		return;
	}
	if (!f)
		return;
	if (ts > f->last_ns)
		f->last_ns = ts; /* a packet stamped earlier (clock stepped back) keeps it */
	f->packets++;
	if (tcp && (t->tcp_flags & (TCP_FIN | TCP_RST)))
		f->closed = true;
}

int capture_read(const char *path, struct capture *c, char *err, size_t errsize)
{
	memset(c, 0, sizeof(*c));
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p =
	    pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
	if (!p) {
		snprintf(err, errsize, "%s: not a readable pcap or pcapng capture: %s", path,
			 pcap_err);
		return -1;
	}
	c->linktype = pcap_datalink(p);
	const char *lname = pcap_datalink_val_to_name(c->linktype);
	snprintf(c->linktype_name, sizeof(c->linktype_name), "%s", lname ? lname : "unknown");
	if (!capture_linktype_supported(c->linktype)) {
		snprintf(err, errsize,
			 "%s: link type %s (%d) is not supported (use Ethernet, Linux cooked "
			 "SLL/SLL2 or raw IP, e.g. tcpdump -i any or -i eth0)",
			 path, c->linktype_name, c->linktype);
		pcap_close(p);
		return -1;
	}
	struct flow_table ft = {0};
	intern_init(&ft.keys);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc = 0, r;
	while ((r = pcap_next_ex(p, &hdr, &data)) == 1) {
		uint64_t ts = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec;
		c->packets++;
		if (c->packets == 1 || ts < c->first_ns)
			c->first_ns = ts;
		if (ts > c->last_ns)
			c->last_ns = ts;
		struct pkt_tuple t;
		const char *why;
		if (capture_decode(c->linktype, data, hdr->caplen, &t, &why) < 0) {
			c->undecodable++;
			continue;
		}
		if (!t.proto) {
			c->not_ip++;
			continue;
		}
		track_packet(c, &ft, &t, ts);
	}
	if (r == PCAP_ERROR && strstr(pcap_geterr(p), "different from the type of the first")) {
		/* a pcapng of interfaces with different link types: libpcap,
		 * which reads the captures, takes one link type a file */
		snprintf(err, errsize,
			 "%s: the capture has interfaces of more than one link type (the first: "
			 "%s; another after packet %llu): a limit of libpcap, which reads "
			 "captures (one link type a file), not damage; the packets after it are "
			 "not read. Split the capture by interface (e.g. tshark -r FILE -Y "
			 "'frame.interface_id == 1' -w PART.pcapng) or capture with tcpdump -i "
			 "any",
			 path, c->linktype_name, (unsigned long long)c->packets);
		rc = 1;
	} else if (r == PCAP_ERROR) {
		snprintf(err, errsize, "%s: capture is corrupt or cut short after packet %llu: %s",
			 path, (unsigned long long)c->packets, pcap_geterr(p));
		rc = 1;
	}
	pcap_close(p);
	intern_free(&ft.keys);
	free(ft.latest);
	return rc;
}

void capture_free(struct capture *c)
{
	free(c->flows);
	memset(c, 0, sizeof(*c));
}
