/* SPDX-License-Identifier: BSD-2-Clause */
/* Captures: decoding every link type and IP version, finding each flow's first
 * packet, the Community ID baseline, damaged captures, and `correlate`
 * attributing a capture's flows to the processes of the zeus log. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/csv.h"
#include "log/schema.h"
#include "query/capture.h"
#include "query/commands.h"
#include "test.h"
#include "test_query_util.h"
#include "util/community_id.h"

/* ---- packet builders ---- */

struct pkt {
	uint8_t b[256];
	size_t n;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* transport header: TCP (flags, seq), UDP, or ICMP (type, code, id) */
static size_t transport(uint8_t *p, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags,
			uint32_t seq)
{
	if (proto == IPPROTO_TCP) {
		memset(p, 0, 20);
		put16(p, sport);
		put16(p + 2, dport);
		put32(p + 4, seq);
		p[12] = 5 << 4;
		p[13] = flags;
		return 20;
	}
	if (proto == IPPROTO_UDP) {
		memset(p, 0, 12);
		put16(p, sport);
		put16(p + 2, dport);
		put16(p + 4, 12);
		return 12;
	}
	memset(p, 0, 8); /* ICMP: sport = type, dport = code, seq = identifier */
	p[0] = (uint8_t)sport;
	p[1] = (uint8_t)dport;
	put16(p + 4, (uint16_t)seq);
	return 8;
}

static struct pkt ip_packet(const char *src, const char *dst, uint8_t proto, uint16_t sport,
			    uint16_t dport, uint8_t flags, uint32_t seq)
{
	struct pkt k = {0};
	if (strchr(src, ':')) {
		uint8_t *ip = k.b;
		ip[0] = 0x60;
		ip[6] = proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
		ip[7] = 64;
		inet_pton(AF_INET6, src, ip + 8);
		inet_pton(AF_INET6, dst, ip + 24);
		size_t t = transport(ip + 40, proto, sport, dport, flags, seq);
		put16(ip + 4, (uint16_t)t);
		k.n = 40 + t;
	} else {
		uint8_t *ip = k.b;
		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = proto;
		inet_pton(AF_INET, src, ip + 12);
		inet_pton(AF_INET, dst, ip + 16);
		size_t t = transport(ip + 20, proto, sport, dport, flags, seq);
		put16(ip + 2, (uint16_t)(20 + t));
		k.n = 20 + t;
	}
	return k;
}

static uint16_t ethertype_of(const struct pkt *ip)
{
	return (ip->b[0] >> 4) == 6 ? 0x86dd : 0x0800;
}

/* frame an IP packet for a link type; vlan_tags only for Ethernet */
static struct pkt frame(int linktype, const struct pkt *ip, int vlan_tags)
{
	struct pkt f = {0};
	size_t h = 0;
	switch (linktype) {
	case DLT_EN10MB:
		memcpy(f.b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
		h = 12;
		for (int i = 0; i < vlan_tags; i++) {
			put16(f.b + h, i == 0 && vlan_tags > 1 ? 0x88a8 : 0x8100);
			put16(f.b + h + 2, (uint16_t)(100 + i));
			h += 4;
		}
		put16(f.b + h, ethertype_of(ip));
		h += 2;
		break;
	case DLT_LINUX_SLL:
		put16(f.b, 0);	   /* to us */
		put16(f.b + 2, 1); /* ARPHRD_ETHER */
		put16(f.b + 4, 6);
		put16(f.b + 14, ethertype_of(ip));
		h = 16;
		break;
	case DLT_LINUX_SLL2:
		put16(f.b, ethertype_of(ip));
		put32(f.b + 4, 2); /* ifindex */
		put16(f.b + 8, 1); /* ARPHRD_ETHER */
		f.b[10] = 4;	   /* outgoing */
		f.b[11] = 6;
		h = 20;
		break;
	case DLT_NULL: {
		uint32_t fam = (ip->b[0] >> 4) == 6 ? 30 : 2;
		memcpy(f.b, &fam, 4);
		h = 4;
		break;
	}
	default: /* raw IP */
		break;
	}
	memcpy(f.b + h, ip->b, ip->n);
	f.n = h + ip->n;
	return f;
}

static uint64_t t_of(const char *s)
{
	uint64_t t = 0;
	csv_parse_time(s, &t);
	return t;
}

struct capture_writer {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	int linktype;
};

static int writer_open(struct capture_writer *w, const char *path, int linktype)
{
	w->linktype = linktype;
	w->dead = pcap_open_dead(linktype, 65535);
	w->dumper = w->dead ? pcap_dump_open(w->dead, path) : NULL;
	return w->dumper ? 0 : -1;
}

static void writer_add(struct capture_writer *w, const char *when, const struct pkt *ip, int vlans)
{
	struct pkt f = frame(w->linktype, ip, vlans);
	uint64_t t = t_of(when);
	struct pcap_pkthdr h = {.caplen = (bpf_u_int32)f.n, .len = (bpf_u_int32)f.n};
	h.ts.tv_sec = (time_t)(t / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(t % 1000000000ull / 1000);
	pcap_dump((u_char *)w->dumper, &h, f.b);
}

static void writer_close(struct capture_writer *w)
{
	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
}

/* ---- decoding ---- */

TEST(pcap_decode_every_link_type)
{
	struct pkt v4 = ip_packet("192.0.2.10", "203.0.113.50", IPPROTO_TCP, 40001, 443, 0x02, 7);
	struct pkt v6 = ip_packet("2001:db8::10", "2001:db8:1::50", IPPROTO_UDP, 5353, 53, 0, 0);
	struct {
		int linktype, vlans;
	} cases[] = {{DLT_EN10MB, 0},	  {DLT_EN10MB, 1}, {DLT_EN10MB, 2}, {DLT_LINUX_SLL, 0},
		     {DLT_LINUX_SLL2, 0}, {DLT_RAW, 0},	   {DLT_IPV4, 0},   {DLT_NULL, 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt f = frame(cases[i].linktype, &v4, cases[i].vlans);
		struct pkt_tuple t;
		const char *why;
		CHECK(capture_linktype_supported(cases[i].linktype));
		CHECK_EQ_INT(capture_decode(cases[i].linktype, f.b, f.n, &t, &why), 0);
		CHECK_EQ_INT(t.proto, IPPROTO_TCP);
		CHECK_EQ_INT(t.src.family, AF_INET);
		CHECK(memcmp(t.src.addr, "\xc0\x00\x02\x0a", 4) == 0);
		CHECK(memcmp(t.dst.addr, "\xcb\x00\x71\x32", 4) == 0);
		CHECK_EQ_INT(t.sport, 40001);
		CHECK_EQ_INT(t.dport, 443);
		CHECK_EQ_INT(t.tcp_flags, 0x02);
		CHECK_EQ_INT(t.tcp_seq, 7);
		if (cases[i].linktype == DLT_IPV4)
			continue;
		f = frame(cases[i].linktype == DLT_IPV4 ? DLT_IPV6 : cases[i].linktype, &v6,
			  cases[i].vlans);
		CHECK_EQ_INT(capture_decode(cases[i].linktype, f.b, f.n, &t, &why), 0);
		CHECK_EQ_INT(t.proto, IPPROTO_UDP);
		CHECK_EQ_INT(t.src.family, AF_INET6);
		CHECK_EQ_INT(t.sport, 5353);
		CHECK_EQ_INT(t.dport, 53);
	}
}

TEST(pcap_decode_ipv6_extension_headers_and_fragments)
{
	/* hop-by-hop, then a first fragment, then TCP */
	struct pkt k =
	    ip_packet("2001:db8::10", "2001:db8:1::50", IPPROTO_TCP, 40001, 443, 0x02, 1);
	uint8_t pkt[256];
	memcpy(pkt, k.b, 40);
	pkt[6] = 0; /* hop-by-hop */
	memset(pkt + 40, 0, 16);
	pkt[40] = 44; /* next: fragment */
	pkt[41] = 0;  /* 8 bytes */
	pkt[48] = IPPROTO_TCP;
	memcpy(pkt + 56, k.b + 40, k.n - 40);
	size_t n = 56 + k.n - 40;
	put16(pkt + 4, (uint16_t)(n - 40));
	struct pkt_tuple t;
	const char *why;
	CHECK_EQ_INT(capture_decode(DLT_RAW, pkt, n, &t, &why), 0);
	CHECK_EQ_INT(t.proto, IPPROTO_TCP);
	CHECK(!t.fragment);
	CHECK_EQ_INT(t.sport, 40001);
	/* a later fragment has no ports and starts no flow */
	put16(pkt + 50, 0x0100);
	CHECK_EQ_INT(capture_decode(DLT_RAW, pkt, n, &t, &why), 0);
	CHECK(t.fragment);
	/* IPv4 later fragment */
	struct pkt v4 = ip_packet("192.0.2.10", "203.0.113.50", IPPROTO_UDP, 1, 2, 0, 0);
	put16(v4.b + 6, 0x0010);
	CHECK_EQ_INT(capture_decode(DLT_RAW, v4.b, v4.n, &t, &why), 0);
	CHECK(t.fragment);
}

/* Found by tests/fuzz/fuzz_pcap: an IPv6 packet from an IPv4-mapped address
 * to a plain IPv6 one was decoded with an IPv4 source and an IPv6
 * destination, and its flow key and Community ID read the destination's 16
 * bytes as 4 of an IPv4 address. */
TEST(pcap_decode_ipv4_mapped_on_one_end_only)
{
	struct pkt k =
	    ip_packet("::ffff:192.0.2.10", "2001:db8::50", IPPROTO_TCP, 40001, 443, 0x02, 1);
	struct pkt_tuple t;
	const char *why;
	CHECK_EQ_INT(capture_decode(DLT_RAW, k.b, k.n, &t, &why), 0);
	CHECK_EQ_INT(t.src.family, AF_INET6);
	CHECK_EQ_INT(t.dst.family, AF_INET6);
	CHECK_EQ_INT(t.src.addr[10], 0xff);
	CHECK_EQ_INT(t.src.addr[12], 192);
	/* both ends mapped: an IPv4 conversation, as the recorder writes it */
	k = ip_packet("::ffff:192.0.2.10", "::ffff:203.0.113.50", IPPROTO_TCP, 40001, 443, 0x02, 1);
	CHECK_EQ_INT(capture_decode(DLT_RAW, k.b, k.n, &t, &why), 0);
	CHECK_EQ_INT(t.src.family, AF_INET);
	CHECK_EQ_INT(t.dst.family, AF_INET);
}

TEST(pcap_decode_cut_short_and_not_ip)
{
	struct pkt v4 = ip_packet("192.0.2.10", "203.0.113.50", IPPROTO_TCP, 40001, 443, 0x02, 7);
	struct pkt f = frame(DLT_EN10MB, &v4, 1);
	struct pkt_tuple t;
	const char *why;
	for (size_t cut = 0; cut < 14 + 4 + 20 + 14; cut++) {
		CHECK_EQ_INT(capture_decode(DLT_EN10MB, f.b, cut, &t, &why), -1);
		CHECK(why != NULL);
	}
	CHECK_EQ_INT(capture_decode(DLT_EN10MB, f.b, 14 + 4 + 20 + 14, &t, &why), 0);
	/* ARP is not IP and not an error */
	uint8_t arp[42] = {0};
	put16(arp + 12, 0x0806);
	CHECK_EQ_INT(capture_decode(DLT_EN10MB, arp, sizeof(arp), &t, &why), 0);
	CHECK_EQ_INT(t.proto, 0);
	/* an IPv4 header claiming more header than there is */
	uint8_t bad[20] = {0x4f};
	CHECK_EQ_INT(capture_decode(DLT_RAW, bad, sizeof(bad), &t, &why), -1);
	CHECK(!capture_linktype_supported(DLT_IEEE802_11));
}

/* ---- the Community ID baseline ---- */

struct baseline_entry {
	int proto;
	struct ipaddr saddr, daddr;
	char cid[COMMUNITY_ID_LEN];
	bool seen;
};

static const char *json_value(const char *obj, const char *end, const char *key, char *out,
			      size_t size)
{
	char pat[32];
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	const char *p = strstr(obj, pat);
	if (!p || p > end)
		return NULL;
	p += strlen(pat);
	if (*p == '"')
		p++;
	size_t n = strcspn(p, "\",}");
	if (n >= size)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static int load_baseline(struct baseline_entry *e, int max)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/community-id/baseline_deflt.json", test_data_dir());
	char *json = tq_read_file(path);
	if (!json)
		return -1;
	int n = 0;
	for (const char *p = strchr(json, '{'); p && n < max; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		char v[128];
		if (!end || !json_value(p, end, "proto", v, sizeof(v)))
			break;
		e[n].proto = atoi(v);
		e[n].seen = false;
		if (!json_value(p, end, "saddr", v, sizeof(v)) ||
		    ipaddr_parse(v, strlen(v), &e[n].saddr) < 0)
			break;
		if (!json_value(p, end, "daddr", v, sizeof(v)) ||
		    ipaddr_parse(v, strlen(v), &e[n].daddr) < 0)
			break;
		if (!json_value(p, end, "communityid", e[n].cid, sizeof(e[n].cid)))
			break;
		n++;
	}
	free(json);
	return n;
}

TEST(pcap_community_ids_match_the_baseline)
{
	struct baseline_entry base[64];
	int nbase = load_baseline(base, 64);
	CHECK_EQ_INT(nbase, 23);
	char path[512], errbuf[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/community-id/combined.pcap", test_data_dir());
	pcap_t *p = pcap_open_offline(path, errbuf);
	CHECK(p != NULL);
	int linktype = pcap_datalink(p);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int ip_packets = 0;
	while (pcap_next_ex(p, &hdr, &data) == 1) {
		struct pkt_tuple t;
		const char *why;
		if (capture_decode(linktype, data, hdr->caplen, &t, &why) < 0 || !t.proto)
			continue;
		ip_packets++;
		char cid[COMMUNITY_ID_LEN];
		CHECK_EQ_INT(community_id_v1(cid, 0, t.proto, t.src.family, t.src.addr, t.dst.addr,
					     t.sport, t.dport, t.has_ports, true),
			     0);
		/* every packet's flow is in the baseline, with this id */
		bool found = false;
		for (int i = 0; i < nbase; i++) {
			if (base[i].proto == t.proto && ipaddr_equal(&base[i].saddr, &t.src) &&
			    ipaddr_equal(&base[i].daddr, &t.dst) && strcmp(base[i].cid, cid) == 0) {
				base[i].seen = true;
				found = true;
			}
		}
		if (!found)
			fprintf(stderr, "  packet proto %d ports %u/%u: %s not in the baseline\n",
				t.proto, t.sport, t.dport, cid);
		CHECK(found);
	}
	pcap_close(p);
	CHECK(ip_packets >= 23);
	for (int i = 0; i < nbase; i++)
		CHECK(base[i].seen);

	/* the flows correlate finds: ICMPv6 echo, ICMP echo, TCP over IPv6 and IPv4, UDP */
	struct capture cap;
	char err[512];
	CHECK_EQ_INT(capture_read(path, &cap, err, sizeof(err)), 0);
	CHECK_EQ_INT(cap.nflows, 5);
	static const char *const want[] = {
	    "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
	    "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
	    "1:d/FP5EW3wiY1vCndhwleRRKHowQ="};
	for (size_t i = 0; i < cap.nflows && i < 5; i++)
		CHECK_EQ_STR(cap.flows[i].community_id, want[i]);
	CHECK_EQ_INT(cap.flows[3].first.sport, 34855); /* the SYN's sender opened it */
	CHECK(!cap.flows[3].mid_stream);
	capture_free(&cap);
}

/* ---- correlate ---- */

static char *write_zeus_capture(int linktype, int vlans)
{
	char *dir = tq_tempdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/zeus.pcap", dir);
	struct capture_writer w;
	if (writer_open(&w, path, linktype) < 0)
		return dir;
	struct pkt k;
#define ADD(when, src, dst, proto, sp, dp, flags, seq)                                             \
	do {                                                                                       \
		k = ip_packet(src, dst, proto, sp, dp, flags, seq);                                \
		writer_add(&w, "2026-11-25T" when "Z", &k, vlans);                                 \
	} while (0)
	ADD("18:00:00.000000", "192.0.2.10", "203.0.113.99", IPPROTO_TCP, 45001, 443, 0x02, 9);
	/* the C&C connection: SYN, SYN-ACK, and a retransmitted SYN (same flow) */
	ADD("19:10:03.002000", "192.0.2.10", "203.0.113.50", IPPROTO_TCP, 40001, 443, 0x02, 100);
	ADD("19:10:03.030000", "203.0.113.50", "192.0.2.10", IPPROTO_TCP, 443, 40001, 0x12, 5);
	ADD("19:10:03.100500", "192.0.2.10", "198.51.100.20", IPPROTO_TCP, 40002, 443, 0x02, 200);
	ADD("19:10:04.000000", "192.0.2.10", "203.0.113.50", IPPROTO_TCP, 40001, 443, 0x02, 100);
	ADD("19:10:04.001000", "192.0.2.10", "203.0.113.51", IPPROTO_TCP, 40003, 8080, 0x02, 300);
	ADD("19:10:04.002000", "203.0.113.51", "192.0.2.10", IPPROTO_TCP, 8080, 40003, 0x14, 0);
	ADD("19:10:04.500200", "192.0.2.10", "203.0.113.53", IPPROTO_UDP, 40004, 53, 0, 0);
	ADD("19:10:04.520000", "203.0.113.53", "192.0.2.10", IPPROTO_UDP, 53, 40004, 0, 0);
	ADD("19:10:05.000100", "198.51.100.99", "192.0.2.10", IPPROTO_TCP, 51000, 22, 0x02, 400);
	ADD("19:10:06.000300", "2001:db8::10", "2001:db8:1::50", IPPROTO_TCP, 40010, 443, 0x02,
	    500);
	ADD("19:10:07.100100", "192.0.2.10", "203.0.113.50", IPPROTO_ICMP, 8, 0, 0, 77);
	ADD("19:10:07.120000", "203.0.113.50", "192.0.2.10", IPPROTO_ICMP, 0, 0, 0, 77);
	ADD("19:10:10.000000", "192.0.2.10", "203.0.113.99", IPPROTO_TCP, 45000, 443, 0x02, 600);
	ADD("19:10:11.000000", "198.51.100.1", "198.51.100.2", IPPROTO_TCP, 1234, 80, 0x02, 700);
	/* the same 5-tuple as the C&C connection, two minutes on: curl's */
	ADD("19:12:00.150000", "192.0.2.10", "203.0.113.50", IPPROTO_TCP, 40001, 443, 0x02, 800);
	/* the ssh session, seen again mid-stream long after its handshake */
	ADD("19:15:00.000000", "192.0.2.10", "198.51.100.99", IPPROTO_TCP, 22, 51000, 0x10, 900);
	ADD("19:30:00.000000", "192.0.2.10", "203.0.113.99", IPPROTO_TCP, 45002, 443, 0x02, 1000);
#undef ADD
	writer_close(&w);
	return dir;
}

static char *line_with(char *out, const char *needle)
{
	char *p = strstr(out, needle);
	if (!p)
		return NULL;
	while (p > out && p[-1] != '\n')
		p--;
	return p;
}

static bool line_has(char *out, const char *needle, const char *also)
{
	char *line = line_with(out, needle);
	if (!line)
		return false;
	char *nl = strchr(line, '\n');
	size_t n = nl ? (size_t)(nl - line) : strlen(line);
	char *copy = strndup(line, n);
	bool ok = strstr(copy, also) != NULL;
	free(copy);
	return ok;
}

TEST(pcap_correlate_attributes_the_zeus_capture)
{
	char *dir = write_zeus_capture(DLT_EN10MB, 1);
	char path[512];
	snprintf(path, sizeof(path), "%s/zeus.pcap", dir);
	char *out, *err;
	const char *argv[] = {"correlate", "--json", "--log-dir", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 0);
	CHECK_EQ_STR(err, "flows seen 13, attributed 9, unattributed 4\n");
	CHECK_EQ_INT(tq_count_lines(out), 13);
	/* the C&C flow: the orphan, and its ancestry back to the dropper */
	CHECK(line_has(out,
		       "\"src_port\":40001,\"dst_ip\":\"203.0.113.50\",\"dst_port\":443,"
		       "\"community_id\":\"1:zJPnFUTECGRplP71fgbjTqmxoSY=\","
		       "\"time\":\"2026-11-25T19:10:03.002000Z\",\"dns_name\":null,"
		       "\"dns_name_from\":null},\"process\":{\"pid\":4242,"
		       "\"guid\":\"6f1c1092-0000-4000-8000-000000001092\"",
		       "{\"pid\":4240,\"guid\":\"6f1c1090-0000-4000-8000-000000001090\","
		       "\"exe\":\"/home/alice/Desktop/invoice.pdf.exe\""));
	/* the reused port: curl, not the malware */
	CHECK(line_has(
	    out, "\"time\":\"2026-11-25T19:12:00.150000Z\"",
	    "\"guid\":\"6f1c4242-0000-4000-8000-000000004242\",\"exe\":\"/usr/bin/curl\""));
	CHECK(
	    line_has(out, "\"dst_ip\":\"198.51.100.20\"", "\"exe\":\"/usr/lib/firefox/firefox\""));
	CHECK(line_has(out, "\"dst_port\":8080", "\"pid\":4242"));
	CHECK(line_has(out, "\"proto\":\"udp\"", "\"pid\":4242"));
	CHECK(line_has(out, "\"time\":\"2026-11-25T19:10:05.000100Z\"",
		       "\"exe\":\"/usr/sbin/sshd\""));
	CHECK(line_has(out, "\"src_ip\":\"2001:db8::10\"", "\"exe\":\"/usr/lib/firefox/firefox\""));
	CHECK(line_has(out, "\"proto\":\"icmp\",\"src_ip\":\"192.0.2.10\",\"src_port\":8,",
		       "\"exe\":\"/usr/bin/ping\""));
	/* mid-stream: shown as it was opened, from the client */
	CHECK(
	    line_has(out, "\"time\":\"2026-11-25T19:15:00.000000Z\"",
		     "\"src_ip\":\"198.51.100.99\",\"src_port\":51000,\"dst_ip\":\"192.0.2.10\""));
	CHECK(line_has(out, "\"time\":\"2026-11-25T19:15:00.000000Z\"",
		       "\"exe\":\"/usr/sbin/sshd\""));
	/* the unattributed, each with its reason */
	CHECK(line_has(out, "\"src_port\":45001",
		       "\"process\":null,\"ancestry\":[],"
		       "\"reason\":\"before the log starts\"}"));
	CHECK(line_has(out, "\"src_port\":45000", "\"reason\":\"no matching record\"}"));
	CHECK(line_has(out, "\"src_ip\":\"198.51.100.1\"", "\"reason\":\"not this host"));
	CHECK(line_has(out, "\"src_port\":45002", "\"reason\":\"after the log ends\"}"));
	free(out);
	free(err);

	/* the table ends with the summary, with the ancestry as a chain */
	const char *table[] = {"correlate", "--log-dir", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, table, &out, &err), 0);
	CHECK(strstr(out, "\nflows seen 13, attributed 9, unattributed 4\n"));
	CHECK(strstr(out, "         \\_ 4240 /home/alice/Desktop/invoice.pdf.exe"));
	CHECK(strstr(out, "    unattributed: before the log starts\n"));
	free(out);
	free(err);
	/* a window too narrow for the 2 ms between record and SYN leaves them unowned */
	const char *narrow[] = {"correlate", "--json",		 "--window", "0",
				"--log-dir", tq_fixture("zeus"), path,	     NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, narrow, &out, &err), 0);
	CHECK(strstr(err, "flows seen 13, attributed 1, unattributed 12"));
	CHECK(strstr(out,
		     "no matching record within 0 s (the nearest with this 5-tuple is 0 s away)"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(pcap_correlate_other_link_types)
{
	int types[] = {DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_EN10MB};
	int vlans[] = {0, 0, 0, 2};
	for (int i = 0; i < 4; i++) {
		char *dir = write_zeus_capture(types[i], vlans[i]);
		char path[512];
		snprintf(path, sizeof(path), "%s/zeus.pcap", dir);
		char *out, *err;
		const char *argv[] = {"correlate",	  "--csv", "--log-dir",
				      tq_fixture("zeus"), path,	   NULL};
		CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 0);
		CHECK_EQ_STR(err, "flows seen 13, attributed 9, unattributed 4\n");
		CHECK(strstr(out, ",4241 < 4240 < 812 < 1,"));
		CHECK(strstr(out, ",before the log starts,,,,,,,\n"));
		free(out);
		free(err);
		tq_rmdir(dir);
	}
}

/* A pcapng file by hand (libpcap writes only pcap): SHB, IDB, EPBs. */
static void pcapng_block(struct strbuf *sb, uint32_t type, const void *body, size_t n)
{
	uint32_t total = (uint32_t)(12 + ((n + 3) & ~(size_t)3));
	sb_add(sb, &type, 4);
	sb_add(sb, &total, 4);
	sb_add(sb, body, n);
	static const char pad[4] = {0};
	sb_add(sb, pad, ((n + 3) & ~(size_t)3) - n);
	sb_add(sb, &total, 4);
}

TEST(pcap_correlate_reads_pcapng)
{
	struct strbuf sb = STRBUF_INIT;
	uint8_t shb[16];
	uint32_t magic = 0x1a2b3c4d;
	uint16_t major = 1, minor = 0;
	int64_t len = -1;
	memcpy(shb, &magic, 4);
	memcpy(shb + 4, &major, 2);
	memcpy(shb + 6, &minor, 2);
	memcpy(shb + 8, &len, 8);
	pcapng_block(&sb, 0x0a0d0d0a, shb, sizeof(shb));
	uint8_t idb[8] = {0};
	uint16_t link = 276; /* LINKTYPE_LINUX_SLL2 */
	uint32_t snap = 65535;
	memcpy(idb, &link, 2);
	memcpy(idb + 4, &snap, 4);
	pcapng_block(&sb, 1, idb, sizeof(idb));
	struct pkt ip = ip_packet("192.0.2.10", "203.0.113.53", IPPROTO_UDP, 40004, 53, 0, 0);
	struct pkt f = frame(DLT_LINUX_SLL2, &ip, 0);
	uint8_t epb[20 + 256];
	uint64_t us = t_of("2026-11-25T19:10:04.500300Z") / 1000;
	uint32_t w[5] = {0, (uint32_t)(us >> 32), (uint32_t)us, (uint32_t)f.n, (uint32_t)f.n};
	memcpy(epb, w, 20);
	memcpy(epb + 20, f.b, f.n);
	pcapng_block(&sb, 6, epb, 20 + f.n);
	char *dir = tq_tempdir();
	tq_write(dir, "c.pcapng", sb.data, sb.len);
	sb_free(&sb);
	char path[512];
	snprintf(path, sizeof(path), "%s/c.pcapng", dir);
	char *out, *err;
	const char *argv[] = {"correlate", "--json", "-d", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 0);
	CHECK_EQ_STR(err, "flows seen 1, attributed 1, unattributed 0\n");
	CHECK(strstr(out, "\"time\":\"2026-11-25T19:10:04.500300Z\",\"dns_name\":null,"
			  "\"dns_name_from\":null},\"process\":{\"pid\":4242,"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(pcap_damaged_captures_fail_clearly)
{
	char *dir = write_zeus_capture(DLT_EN10MB, 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/zeus.pcap", dir);
	char *full = NULL;
	FILE *f = fopen(path, "rb");
	CHECK(f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	full = malloc((size_t)size);
	CHECK(fread(full, 1, (size_t)size, f) == (size_t)size);
	fclose(f);

	/* cut in the middle of the last packet: what came before is still reported */
	tq_write(dir, "cut.pcap", full, (size_t)size - 30);
	snprintf(path, sizeof(path), "%s/cut.pcap", dir);
	char *out, *err;
	const char *argv[] = {"correlate", "--json", "-d", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 1);
	CHECK(strstr(err, "cut.pcap: capture is corrupt or cut short after packet 17: "));
	CHECK(strstr(err, "flows seen 12, attributed 9, unattributed 3"));
	CHECK_EQ_INT(tq_count_lines(out), 12);
	free(out);
	free(err);

	/* not a capture at all */
	tq_write(dir, "junk.pcap", "this is not a capture, just text\n", 33);
	snprintf(path, sizeof(path), "%s/junk.pcap", dir);
	const char *junk[] = {"correlate", "-d", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, junk, &out, &err), 1);
	CHECK(strstr(err, "junk.pcap: not a readable pcap or pcapng capture: "));
	CHECK_EQ_STR(out, "");
	free(out);
	free(err);

	/* only the file header */
	tq_write(dir, "empty.pcap", full, 24);
	snprintf(path, sizeof(path), "%s/empty.pcap", dir);
	const char *empty[] = {"correlate", "-d", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, empty, &out, &err), 0);
	CHECK_EQ_STR(out, "flows seen 0, attributed 0, unattributed 0\n");
	free(out);
	free(err);

	/* a header cut in two */
	tq_write(dir, "half.pcap", full, 10);
	snprintf(path, sizeof(path), "%s/half.pcap", dir);
	const char *half[] = {"correlate", "-d", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, half, &out, &err), 1);
	CHECK(strstr(err, "half.pcap: not a readable pcap or pcapng capture: "));
	free(out);
	free(err);

	/* a link type it cannot read */
	struct capture_writer w;
	snprintf(path, sizeof(path), "%s/wifi.pcap", dir);
	CHECK_EQ_INT(writer_open(&w, path, DLT_IEEE802_11), 0);
	writer_close(&w);
	const char *wifi[] = {"correlate", "-d", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, wifi, &out, &err), 1);
	CHECK(strstr(err, "link type IEEE802_11 (105) is not supported"));
	free(out);
	free(err);

	const char *missing[] = {"correlate", "-d", tq_fixture("zeus"), "/nonexistent.pcap", NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, missing, &out, &err), 1);
	CHECK(strstr(err, "/nonexistent.pcap: not a readable pcap"));
	free(out);
	free(err);
	const char *none[] = {"correlate", "-d", tq_fixture("zeus"), NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, none, &out, &err), 2);
	CHECK(strstr(err, "name the capture file to read"));
	free(out);
	free(err);
	free(full);
	tq_rmdir(dir);
}

TEST(pcap_flow_starts)
{
	/* retransmitted SYN: one flow; new ISN on the same tuple: a new flow; UDP
	 * after a long silence: a new flow; echo replies alone: none */
	char *dir = tq_tempdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/f.pcap", dir);
	struct capture_writer w;
	CHECK_EQ_INT(writer_open(&w, path, DLT_RAW), 0);
	struct pkt k = ip_packet("192.0.2.1", "192.0.2.2", IPPROTO_TCP, 1000, 80, 0x02, 1);
	writer_add(&w, "2026-11-25T10:00:00.000000Z", &k, 0);
	writer_add(&w, "2026-11-25T10:00:01.000000Z", &k, 0);
	k = ip_packet("192.0.2.1", "192.0.2.2", IPPROTO_TCP, 1000, 80, 0x02, 99);
	writer_add(&w, "2026-11-25T10:00:02.000000Z", &k, 0);
	k = ip_packet("192.0.2.2", "192.0.2.1", IPPROTO_UDP, 53, 2000, 0, 0);
	writer_add(&w, "2026-11-25T10:00:03.000000Z", &k, 0);
	k = ip_packet("192.0.2.1", "192.0.2.2", IPPROTO_UDP, 2000, 53, 0, 0);
	writer_add(&w, "2026-11-25T10:00:04.000000Z", &k, 0);
	writer_add(&w, "2026-11-25T10:05:00.000000Z", &k, 0);
	k = ip_packet("192.0.2.2", "192.0.2.1", IPPROTO_ICMP, 0, 0, 0, 5);
	writer_add(&w, "2026-11-25T10:06:00.000000Z", &k, 0);
	k = ip_packet("192.0.2.2", "192.0.2.1", IPPROTO_ICMP, 3, 3, 0, 0);
	writer_add(&w, "2026-11-25T10:06:01.000000Z", &k, 0);
	writer_close(&w);
	struct capture cap;
	char err[512];
	CHECK_EQ_INT(capture_read(path, &cap, err, sizeof(err)), 0);
	CHECK_EQ_INT(cap.nflows, 4);
	CHECK_EQ_INT(cap.flows[0].packets, 2);
	CHECK_EQ_INT(cap.flows[1].first.tcp_seq, 99);
	/* the first datagram's sender is the flow's source */
	CHECK_EQ_INT(cap.flows[2].first.sport, 53);
	CHECK_EQ_INT(cap.flows[2].packets, 2);
	CHECK_EQ_INT(cap.flows[3].time_ns, t_of("2026-11-25T10:05:00.000000Z"));
	CHECK_EQ_INT(cap.packets, 8);
	capture_free(&cap);
	tq_rmdir(dir);
}

/* Found by tests/fuzz/fuzz_pcap: a packet stamped earlier than the one
 * before it (the capturing host's clock stepped back, or queues merged out of
 * order) moved the flow's last packet time back, before its first, so the
 * next packet of the same connection looked idle for minutes and started a
 * new, mid-stream flow. */
TEST(pcap_flow_packet_stamped_earlier)
{
	char *dir = tq_tempdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/f.pcap", dir);
	struct capture_writer w;
	CHECK_EQ_INT(writer_open(&w, path, DLT_RAW), 0);
	struct pkt k = ip_packet("192.0.2.1", "192.0.2.2", IPPROTO_TCP, 1000, 80, 0x02, 1);
	writer_add(&w, "2026-11-25T10:00:00.000000Z", &k, 0);
	k = ip_packet("192.0.2.2", "192.0.2.1", IPPROTO_TCP, 80, 1000, 0x12, 7);
	writer_add(&w, "2026-11-25T09:00:00.000000Z", &k, 0);
	k = ip_packet("192.0.2.1", "192.0.2.2", IPPROTO_TCP, 1000, 80, 0x10, 2);
	writer_add(&w, "2026-11-25T10:00:30.000000Z", &k, 0);
	writer_close(&w);
	struct capture cap;
	char err[512];
	CHECK_EQ_INT(capture_read(path, &cap, err, sizeof(err)), 0);
	CHECK_EQ_INT(cap.nflows, 1);
	CHECK_EQ_INT(cap.flows[0].packets, 3);
	CHECK_EQ_INT(cap.flows[0].time_ns, t_of("2026-11-25T10:00:00.000000Z"));
	CHECK_EQ_INT(cap.flows[0].last_ns, t_of("2026-11-25T10:00:30.000000Z"));
	capture_free(&cap);
	tq_rmdir(dir);
}

/* Found by tests/fuzz/fuzz_pcap: a first packet stamped 0 (a device whose
 * clock was never set) was taken for "no time yet", so the capture's span,
 * from which correlate picks the stretch of log to load, began at the second
 * packet and left out the first flow. */
TEST(pcap_capture_span_from_time_zero)
{
	char *dir = tq_tempdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/z.pcap", dir);
	struct capture_writer w;
	CHECK_EQ_INT(writer_open(&w, path, DLT_RAW), 0);
	struct pkt k = ip_packet("192.0.2.1", "192.0.2.2", IPPROTO_UDP, 1000, 53, 0, 0);
	writer_add(&w, "1970-01-01T00:00:00.000000Z", &k, 0);
	writer_add(&w, "2026-11-25T10:00:00.000000Z", &k, 0);
	writer_close(&w);
	struct capture cap;
	char err[512];
	CHECK_EQ_INT(capture_read(path, &cap, err, sizeof(err)), 0);
	CHECK_EQ_INT(cap.first_ns, 0);
	CHECK_EQ_INT(cap.last_ns, t_of("2026-11-25T10:00:00.000000Z"));
	CHECK_EQ_INT(cap.nflows, 2);
	CHECK_EQ_INT(cap.flows[0].time_ns, 0);
	capture_free(&cap);
	tq_rmdir(dir);
}

TEST(pcap_correlate_owner_unknown)
{
	/* the record of a socket opened before the recorder started names nobody */
	char *dir = tq_tempdir();
	static const char log[] =
	    "time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,"
	    "dst_ip,dst_port,direction,result,path,community_id,detail\n"
	    "2026-11-25T10:00:00.000000Z,1,START,,,,,,,,,,,,,,,,,version=0\n"
	    "2026-11-25T10:00:01.000000Z,2,NET,,,,,,,,tcp,192.0.2.10,40100,203.0.113.9,443,"
	    "out,established,,,owner=unknown\n";
	tq_write(dir, "onmitsu.csv", log, sizeof(log) - 1);
	char path[512];
	snprintf(path, sizeof(path), "%s/c.pcap", dir);
	struct capture_writer w;
	CHECK_EQ_INT(writer_open(&w, path, DLT_RAW), 0);
	struct pkt k = ip_packet("192.0.2.10", "203.0.113.9", IPPROTO_TCP, 40100, 443, 0x02, 1);
	writer_add(&w, "2026-11-25T10:00:01.000100Z", &k, 0);
	writer_close(&w);
	char *out, *err;
	const char *argv[] = {"correlate", "--json", "-d", dir, path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 0);
	CHECK_EQ_STR(err, "flows seen 1, attributed 0, unattributed 1\n");
	CHECK(strstr(out, "\"process\":null,\"ancestry\":[],\"reason\":\"its NET record has no "
			  "owner (a socket opened before the recorder started)\"}\n"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

/*
 * Both ends on this host (loopback, containers): the flow has the client's
 * "out" record and the server's "in" record, 5 us apart here, the server's
 * nearer to the SYN. The flow belongs to the process that opened it.
 */
TEST(pcap_correlate_prefers_the_initiator_when_both_ends_are_local)
{
	char path[512], logdir[512];
	snprintf(path, sizeof(path), "%s/query/both-ends/syn.pcap", test_data_dir());
	snprintf(logdir, sizeof(logdir), "%s/query/both-ends/log", test_data_dir());
	char *out, *err;
	const char *argv[] = {"correlate", "--json", "--log-dir", logdir, path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 0);
	CHECK_EQ_STR(err, "flows seen 1, attributed 1, unattributed 0\n");
	CHECK(strstr(out, "\"process\":{\"pid\":100,") != NULL);
	CHECK(strstr(out, "/usr/bin/curl") != NULL);
	free(out);
	free(err);
}

/* A capture and no log: every flow is still listed, with its Community ID,
 * and the reason says that no log covers its time (not "after the log ends") */
TEST(pcap_correlate_without_a_log_lists_every_flow)
{
	char *dir = write_zeus_capture(DLT_EN10MB, 0);
	char path[512], nolog[600], empty[600];
	snprintf(path, sizeof(path), "%s/zeus.pcap", dir);
	snprintf(nolog, sizeof(nolog), "%s/no-such-log", dir);
	snprintf(empty, sizeof(empty), "%s/empty-log", dir);
	CHECK_EQ_INT(mkdir(empty, 0700), 0);
	struct strbuf h = STRBUF_INIT;
	log_write_header(&h, true);
	tq_write(empty, "onmitsu.csv", h.data, h.len); /* a header and no record */
	sb_free(&h);
	const char *logs[] = {nolog, empty};
	for (size_t i = 0; i < 2; i++) {
		char *out, *err;
		const char *argv[] = {"correlate", "--json", "-d", logs[i], path, NULL};
		/* no log is a failure, said with what to do; a log of no record is not */
		CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), i == 0 ? 1 : 0);
		if (i == 0)
			CHECK(strstr(err, "cannot read log directory") && strstr(err, "--log-dir"));
		if (!strstr(err, "flows seen 13, attributed 0, unattributed 13"))
			TEST_FAIL_("%s", err);
		CHECK_EQ_INT(tq_count_lines(out), 13);
		for (const char *p = out; *p; p = strchr(p, '\n') + 1) {
			const char *nl = strchr(p, '\n');
			CHECK(nl);
			char line[4096];
			snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
			if (!strstr(line, "\"community_id\":\"1:") ||
			    !strstr(line, "\"reason\":\"no log covers this time\""))
				TEST_FAIL_("%s", line);
		}
		free(out);
		free(err);
	}
	tq_rmdir(dir);
}

/* A pcapng whose second interface has another link type: libpcap reads one
 * link type a file; the message says it is that limit, not damage */
TEST(pcap_several_link_types_are_a_limit_not_damage)
{
	struct strbuf sb = STRBUF_INIT;
	uint8_t shb[16];
	uint32_t magic = 0x1a2b3c4d;
	uint16_t major = 1, minor = 0;
	int64_t len = -1;
	memcpy(shb, &magic, 4);
	memcpy(shb + 4, &major, 2);
	memcpy(shb + 6, &minor, 2);
	memcpy(shb + 8, &len, 8);
	pcapng_block(&sb, 0x0a0d0d0a, shb, sizeof(shb));
	uint16_t links[2] = {DLT_LINUX_SLL2, DLT_EN10MB};
	/* each interface's description right before its packet */
	for (uint32_t ifc = 0; ifc < 2; ifc++) {
		uint8_t idb[8] = {0};
		uint32_t snap = 65535;
		memcpy(idb, &links[ifc], 2);
		memcpy(idb + 4, &snap, 4);
		pcapng_block(&sb, 1, idb, sizeof(idb));
		struct pkt ip =
		    ip_packet("192.0.2.10", "203.0.113.53", IPPROTO_UDP, 40004, 53, 0, 0);
		struct pkt f = frame(links[ifc], &ip, 0);
		uint8_t epb[20 + 256];
		uint64_t us = t_of("2026-11-25T19:10:04.500300Z") / 1000;
		uint32_t w[5] = {ifc, (uint32_t)(us >> 32), (uint32_t)us, (uint32_t)f.n,
				 (uint32_t)f.n};
		memcpy(epb, w, 20);
		memcpy(epb + 20, f.b, f.n);
		pcapng_block(&sb, 6, epb, 20 + f.n);
	}
	char *dir = tq_tempdir();
	tq_write(dir, "two.pcapng", sb.data, sb.len);
	sb_free(&sb);
	char path[512];
	snprintf(path, sizeof(path), "%s/two.pcapng", dir);
	char *out, *err;
	const char *argv[] = {"correlate", "--json", "-d", tq_fixture("zeus"), path, NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 1);
	if (!strstr(err, "interfaces of more than one link type (the first: LINUX_SLL2; another "
			 "after packet 1): a limit of libpcap") ||
	    strstr(err, "corrupt"))
		TEST_FAIL_("%s", err);
	/* what came before it is read and answered */
	if (!strstr(err, "flows seen 1, attributed 1"))
		TEST_FAIL_("%s", err);
	free(out);
	free(err);
	tq_rmdir(dir);
}
