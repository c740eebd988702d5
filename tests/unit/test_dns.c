/* SPDX-License-Identifier: BSD-2-Clause */
/* The DNS parser (record/dns.c): real messages, and the truncated, looping
 * and lying ones an attacker can put on the wire. Each bad input must give a
 * clear DNS_MALFORMED with a reason, never a crash (ASan/UBSan run these). */
#include <stdlib.h>
#include <string.h>

#include "record/dns.h"
#include "test.h"

/* a message under construction */
struct wire {
	uint8_t b[70000];
	size_t n;
};

static void put8(struct wire *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}

static void put16(struct wire *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void put32(struct wire *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static void putbytes(struct wire *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

/* "www.example.com" as labels, ending with the root */
static void putname(struct wire *w, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		put8(w, (unsigned)len);
		putbytes(w, name, len);
		name += len + (dot ? 1 : 0);
	}
	put8(w, 0);
}

static void header(struct wire *w, unsigned id, unsigned flags, unsigned qd, unsigned an)
{
	w->n = 0;
	put16(w, id);
	put16(w, flags);
	put16(w, qd);
	put16(w, an);
	put16(w, 0);
	put16(w, 0);
}

static void question(struct wire *w, const char *name, unsigned type)
{
	putname(w, name);
	put16(w, type);
	put16(w, 1);
}

/* an answer whose owner is a pointer to the question's name (offset 12) */
static void rr_start(struct wire *w, unsigned type, unsigned rdlen)
{
	put16(w, 0xc000 | 12);
	put16(w, type);
	put16(w, 1);
	put32(w, 300);
	put16(w, rdlen);
}

static struct wire w;

static int parse(struct dns_msg *m)
{
	return dns_parse(w.b, w.n, w.n, m);
}

TEST(dns_query_a)
{
	struct dns_msg m;
	dns_msg_init(&m);
	header(&w, 0x1234, 0x0100, 1, 0);
	question(&w, "www.Example.com", 1);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_INT(m.id, 0x1234);
	CHECK(!m.qr && m.rd);
	CHECK(m.has_question);
	CHECK_EQ_STR(m.qname, "www.Example.com"); /* case as asked (0x20 randomisation) */
	CHECK_EQ_INT(m.qtype, 1);
	CHECK_EQ_INT(m.answers.len, 0);
	CHECK(!m.cut);
	dns_msg_free(&m);
}

TEST(dns_response_cname_chain_a_aaaa)
{
	struct dns_msg m;
	dns_msg_init(&m);
	header(&w, 7, 0x8180, 1, 4);
	question(&w, "www.example.com", 1);
	/* CNAME cdn.example.net (written out) */
	rr_start(&w, 5, 17);
	putname(&w, "cdn.example.net");
	size_t cdn = w.n - 17;
	/* its A and AAAA, owners compressed to the CNAME target */
	put16(&w, 0xc000 | (unsigned)cdn);
	put16(&w, 1);
	put16(&w, 1);
	put32(&w, 60);
	put16(&w, 4);
	putbytes(&w, "\xc0\x00\x02\x01", 4);
	put16(&w, 0xc000 | (unsigned)cdn);
	put16(&w, 1);
	put16(&w, 1);
	put32(&w, 60);
	put16(&w, 4);
	putbytes(&w, "\xc0\x00\x02\x02", 4);
	put16(&w, 0xc000 | (unsigned)cdn);
	put16(&w, 28);
	put16(&w, 1);
	put32(&w, 60);
	put16(&w, 16);
	putbytes(&w, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK(m.qr);
	CHECK_EQ_INT(m.rcode, 0);
	CHECK_EQ_INT(m.answers_read, 4);
	CHECK_EQ_STR(sb_str(&m.answers),
		     "CNAME cdn.example.net;A 192.0.2.1;A 192.0.2.2;AAAA 2001:db8::1");
	dns_msg_free(&m);
}

TEST(dns_compressed_name_in_rdata)
{
	struct dns_msg m;
	dns_msg_init(&m);
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "a.example.com", 5);
	/* CNAME b.<pointer to example.com at offset 14> */
	rr_start(&w, 5, 4);
	put8(&w, 1);
	put8(&w, 'b');
	put16(&w, 0xc000 | 14);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_STR(sb_str(&m.answers), "CNAME b.example.com");
	dns_msg_free(&m);
}

TEST(dns_pointer_loops_and_bad_pointers)
{
	struct dns_msg m;
	dns_msg_init(&m);
	/* the question's name is a pointer to itself */
	header(&w, 1, 0x0100, 1, 0);
	put16(&w, 0xc000 | 12);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	CHECK(strstr(m.error, "loop") != NULL);
	/* a label, then a pointer back to that label: a loop that only ever
	 * points backwards */
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "x", 1);
	size_t at = w.n;
	put8(&w, 1);
	put8(&w, 'y');
	put16(&w, 0xc000 | (unsigned)at);
	put16(&w, 1);
	put16(&w, 1);
	put32(&w, 1);
	put16(&w, 4);
	put32(&w, 0);
	w.b[7] = 1; /* ancount 1: the answer's owner is the looping name */
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	CHECK(strstr(m.error, "loop") != NULL);
	/* a pointer into the header */
	header(&w, 1, 0x0100, 1, 0);
	put16(&w, 0xc000 | 2);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	CHECK(strstr(m.error, "header") != NULL);
	/* a pointer forward */
	header(&w, 1, 0x0100, 1, 0);
	put16(&w, 0xc000 | 20);
	put16(&w, 1);
	put16(&w, 1);
	put32(&w, 0);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* a pointer cut after its first octet */
	header(&w, 1, 0x0100, 1, 0);
	put8(&w, 0xc0);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	dns_msg_free(&m);
}

/* A chain of pointers inside an earlier record's data, each to the one
 * before (backwards, so only the hop limit stops it), then an answer whose
 * owner walks it: hops pointers in all. */
static void hop_chain(unsigned hops)
{
	header(&w, 1, 0x8180, 1, 2);
	question(&w, "a", 1); /* "a" at 12 */
	unsigned links = hops - 1;
	rr_start(&w, 999, 2 * links);
	size_t chain0 = w.n;
	put16(&w, 0xc000 | 12);
	for (unsigned i = 1; i < links; i++)
		put16(&w, 0xc000 | (unsigned)(chain0 + 2 * (i - 1)));
	put16(&w, 0xc000 | (unsigned)(chain0 + 2 * (links - 1)));
	put16(&w, 1);
	put16(&w, 1);
	put32(&w, 1);
	put16(&w, 4);
	put32(&w, 0);
}

TEST(dns_pointer_hop_limit)
{
	struct dns_msg m;
	dns_msg_init(&m);
	hop_chain(DNS_MAX_HOPS);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_INT(m.answers_read, 2);
	hop_chain(DNS_MAX_HOPS + 1);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	CHECK(strstr(m.error, "too many") != NULL);
	dns_msg_free(&m);
}

TEST(dns_labels_over_63_and_names_over_255)
{
	struct dns_msg m;
	dns_msg_init(&m);
	/* label types 0x40 and 0x80 */
	header(&w, 1, 0x0100, 1, 0);
	put8(&w, 0x40);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	CHECK(strstr(m.error, "63") != NULL);
	header(&w, 1, 0x0100, 1, 0);
	put8(&w, 0x80 | 5);
	putbytes(&w, "abcde", 5);
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* a 63-octet label is fine */
	char l63[64];
	memset(l63, 'a', 63);
	l63[63] = 0;
	header(&w, 1, 0x0100, 1, 0);
	question(&w, l63, 1);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_INT(strlen(m.qname), 63);
	/* 255 octets on the wire is the most: 4 labels of 63 (256 with the root
	 * byte) is one too many; 3 of 63 and one of 61 is exactly 255 */
	char name[300];
	snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, l63);
	header(&w, 1, 0x0100, 1, 0);
	question(&w, name, 1);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	CHECK(strstr(m.error, "255") != NULL);
	name[63 * 4 + 3 - 2] = 0;
	header(&w, 1, 0x0100, 1, 0);
	question(&w, name, 1);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_INT(strlen(m.qname), 253);
	/* a long name made of pointers: the limit counts what they lead to */
	header(&w, 1, 0x8180, 1, 1);
	question(&w, name, 1); /* 255 octets at 12 */
	rr_start(&w, 5, 4);
	put8(&w, 1);
	put8(&w, 'z');
	put16(&w, 0xc000 | 12); /* z. + 255 octets: 257 */
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	CHECK(strstr(m.error, "255") != NULL);
	dns_msg_free(&m);
}

TEST(dns_truncated_packets)
{
	struct dns_msg m;
	dns_msg_init(&m);
	header(&w, 9, 0x8180, 1, 2);
	question(&w, "example.com", 1);
	rr_start(&w, 1, 4);
	putbytes(&w, "\xc6\x33\x64\x01", 4);
	size_t one = w.n;
	rr_start(&w, 1, 4);
	putbytes(&w, "\xc6\x33\x64\x02", 4);
	size_t full = w.n;
	/* every cut of the whole message (the message itself is that short) */
	for (size_t n = 0; n < full; n++) {
		int rc = dns_parse(w.b, n, n, &m);
		CHECK_EQ_INT(rc, DNS_MALFORMED);
		CHECK(m.error != NULL);
	}
	/* the capture cut it, the message was whole: the question is there,
	 * the answers that fit are written, the record says cut */
	CHECK_EQ_INT(dns_parse(w.b, one + 3, full, &m), DNS_OK);
	CHECK(m.cut);
	CHECK_EQ_INT(m.answers_read, 1);
	CHECK_EQ_STR(sb_str(&m.answers), "A 198.51.100.1");
	/* cut inside the question: no record */
	CHECK_EQ_INT(dns_parse(w.b, 20, full, &m), DNS_MALFORMED);
	/* the whole of it */
	CHECK_EQ_INT(dns_parse(w.b, full, full, &m), DNS_OK);
	CHECK(!m.cut);
	CHECK_EQ_STR(sb_str(&m.answers), "A 198.51.100.1;A 198.51.100.2");
	dns_msg_free(&m);
}

TEST(dns_bad_counts)
{
	struct dns_msg m;
	dns_msg_init(&m);
	/* ancount says 65535, one answer follows */
	header(&w, 1, 0x8180, 1, 65535);
	question(&w, "example.com", 1);
	rr_start(&w, 1, 4);
	put32(&w, 0x01020304);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* qdcount 65535 with one question */
	header(&w, 1, 0x0100, 65535, 0);
	question(&w, "example.com", 1);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* no question at all: a record without a name */
	header(&w, 1, 0x8185, 0, 0);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK(!m.has_question);
	CHECK_EQ_STR(m.qname, "");
	CHECK_EQ_INT(m.rcode, 5);
	/* rdlength past the end */
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "example.com", 1);
	rr_start(&w, 1, 400);
	put32(&w, 0x01020304);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* an A record of 5 octets, an AAAA of 4 */
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "example.com", 1);
	rr_start(&w, 1, 5);
	putbytes(&w, "12345", 5);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "example.com", 28);
	rr_start(&w, 28, 4);
	put32(&w, 0);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* a CNAME whose name does not fill its data */
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "example.com", 5);
	rr_start(&w, 5, 6);
	putname(&w, "ab");
	put16(&w, 0);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* a CNAME whose name runs past its data (into the next bytes) */
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "example.com", 5);
	rr_start(&w, 5, 2);
	putname(&w, "abcdef");
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	/* a TXT string longer than its record */
	header(&w, 1, 0x8180, 1, 1);
	question(&w, "example.com", 16);
	rr_start(&w, 16, 3);
	put8(&w, 9);
	putbytes(&w, "ab", 2);
	CHECK_EQ_INT(parse(&m), DNS_MALFORMED);
	dns_msg_free(&m);
}

TEST(dns_other_types_and_escaping)
{
	struct dns_msg m;
	dns_msg_init(&m);
	header(&w, 1, 0x8180, 1, 5);
	question(&w, "example.com", 255);
	rr_start(&w, 15, 2 + 6);
	put16(&w, 10);
	putname(&w, "mail");
	rr_start(&w, 33, 6 + 5);
	put16(&w, 1);
	put16(&w, 2);
	put16(&w, 5060);
	putname(&w, "sip");
	rr_start(&w, 16, 1 + 7 + 1 + 3);
	put8(&w, 7);
	putbytes(&w, "a b;c\"d", 7);
	put8(&w, 3);
	putbytes(&w, "x\\y", 3);
	rr_start(&w, 65, 2 + 1 + 4 + 3 + 4 + 8 + 4 + 16);
	put16(&w, 1);
	put8(&w, 0); /* target: the root */
	put16(&w, 1);
	put16(&w, 3);
	put8(&w, 2);
	putbytes(&w, "h2", 2);
	put16(&w, 4);
	put16(&w, 8);
	putbytes(&w, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	put16(&w, 6);
	put16(&w, 16);
	putbytes(&w, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x05", 16);
	rr_start(&w, 999, 3);
	putbytes(&w, "\x01\x02\xff", 3);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_STR(m.qname, "example.com");
	CHECK_EQ_STR(sb_str(&m.answers), "MX 10 mail;SRV 1 2 5060 sip;TXT \"a b\\059c\\\"d\" "
					 "\"x\\\\y\";HTTPS 1 . alpn=h2 "
					 "ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::5;"
					 "TYPE999 \\# 3 0102ff");
	/* a name with a dot, a backslash, a space, a ';' and a NUL inside labels */
	header(&w, 1, 0x0100, 1, 0);
	put8(&w, 7);
	putbytes(&w, "a.b\\c d", 7);
	put8(&w, 3);
	putbytes(&w, ";\0x", 3);
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_STR(m.qname, "a\\.b\\\\c\\032d.\\059\\000x");
	/* the root */
	header(&w, 1, 0x0100, 1, 0);
	question(&w, "", 2);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_STR(m.qname, ".");
	dns_msg_free(&m);
}

TEST(dns_answer_caps)
{
	struct dns_msg m;
	dns_msg_init(&m);
	header(&w, 1, 0x8180, 1, DNS_MAX_ANSWERS + 6);
	question(&w, "many.example", 1);
	for (int i = 0; i < DNS_MAX_ANSWERS + 6; i++) {
		rr_start(&w, 1, 4);
		put32(&w, 0xc0000200u + (uint32_t)i);
	}
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_INT(m.answers_read, DNS_MAX_ANSWERS + 6);
	CHECK_EQ_INT(m.answers_shown, DNS_MAX_ANSWERS);
	CHECK(m.answers.len <= DNS_ANSWERS_MAX);
	dns_msg_free(&m);
}

TEST(dns_every_rcode_and_type_name)
{
	static const char *const rc[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					 "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					 "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI"};
	char buf[16];
	for (unsigned i = 0; i < 12; i++)
		CHECK_EQ_STR(dns_rcode_name(i, buf, sizeof(buf)), rc[i]);
	CHECK_EQ_STR(dns_rcode_name(12, buf, sizeof(buf)), "RCODE12");
	CHECK_EQ_STR(dns_rcode_name(15, buf, sizeof(buf)), "RCODE15");
	static const struct {
		unsigned t;
		const char *n;
	} types[] = {{1, "A"},	    {2, "NS"},	  {5, "CNAME"},	 {6, "SOA"},	{12, "PTR"},
		     {15, "MX"},    {16, "TXT"},  {28, "AAAA"},	 {33, "SRV"},	{35, "NAPTR"},
		     {39, "DNAME"}, {41, "OPT"},  {43, "DS"},	 {46, "RRSIG"}, {48, "DNSKEY"},
		     {52, "TLSA"},  {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},	{252, "AXFR"},
		     {255, "ANY"},  {257, "CAA"}};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		CHECK_EQ_STR(dns_type_name((uint16_t)types[i].t, buf, sizeof(buf)), types[i].n);
	CHECK_EQ_STR(dns_type_name(0, buf, sizeof(buf)), "TYPE0");
	CHECK_EQ_STR(dns_type_name(65280, buf, sizeof(buf)), "TYPE65280");
	CHECK_EQ_STR(dns_type_name(65535, buf, sizeof(buf)), "TYPE65535");
}

TEST(dns_non_query_opcode_answers_not_read)
{
	struct dns_msg m;
	dns_msg_init(&m);
	/* an UPDATE (opcode 5): its "answers" are prerequisites, not read */
	header(&w, 1, 0x2800, 1, 3);
	question(&w, "zone.example", 6);
	CHECK_EQ_INT(parse(&m), DNS_OK);
	CHECK_EQ_INT(m.opcode, 5);
	CHECK_EQ_INT(m.answers.len, 0);
	dns_msg_free(&m);
}

TEST(dns_tcp_spans_follow_the_stream)
{
	struct dns_tcp_table *t = calloc(1, sizeof(*t));
	struct dns_span sp[DNS_TCP_SPANS];
	uint8_t seg[64] = {0, 30}; /* a message of 30 bytes, in a segment of 20 */
	CHECK_EQ_INT(dns_tcp_spans(t, 42, true, 1000, 20, seg, 20, sp), 1);
	CHECK_EQ_INT(sp[0].off, 2);
	CHECK_EQ_INT(sp[0].total, 30);
	CHECK_EQ_INT(sp[0].avail, 18);
	/* the rest of it (12 bytes), then a new message of 5 in the same segment */
	uint8_t seg2[64] = {0};
	seg2[12] = 0;
	seg2[13] = 5;
	CHECK_EQ_INT(dns_tcp_spans(t, 42, true, 1020, 19, seg2, 19, sp), 1);
	CHECK_EQ_INT(sp[0].off, 14);
	CHECK_EQ_INT(sp[0].total, 5);
	CHECK_EQ_INT(sp[0].avail, 5);
	/* a retransmission of the first segment: no message starts in it */
	CHECK_EQ_INT(dns_tcp_spans(t, 42, true, 1000, 20, seg, 20, sp), 0);
	/* the other direction is a stream of its own */
	CHECK_EQ_INT(dns_tcp_spans(t, 42, false, 5000, 20, seg, 20, sp), 1);
	/* two messages in one segment */
	uint8_t two[16] = {0, 3, 'a', 'b', 'c', 0, 2, 'd', 'e'};
	CHECK_EQ_INT(dns_tcp_spans(t, 7, true, 1, 9, two, 9, sp), 2);
	CHECK_EQ_INT(sp[1].off, 7);
	CHECK_EQ_INT(sp[1].total, 2);
	/* a length prefix past the captured bytes: none, and the stream starts
	 * again at its next segment */
	uint8_t three[4] = {0, 1, 'x', 0};
	CHECK_EQ_INT(dns_tcp_spans(t, 8, true, 1, 100, three, 4, sp), 1);
	CHECK_EQ_INT(dns_tcp_spans(t, 8, true, 101, 4, three, 4, sp), 1);
	free(t);
}
