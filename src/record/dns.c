/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Types and codes by name: RFC 1035, 3596, 2782, 6891, 9460 and the IANA
 * registry (DNS parameters). */
static const struct {
	uint16_t type;
	const char *name;
} dns_types[] = {
    {1, "A"},		{2, "NS"},	{5, "CNAME"},	{6, "SOA"},	  {12, "PTR"},
    {13, "HINFO"},	{15, "MX"},	{16, "TXT"},	{17, "RP"},	  {18, "AFSDB"},
    {24, "SIG"},	{25, "KEY"},	{28, "AAAA"},	{29, "LOC"},	  {33, "SRV"},
    {35, "NAPTR"},	{36, "KX"},	{37, "CERT"},	{39, "DNAME"},	  {41, "OPT"},
    {42, "APL"},	{43, "DS"},	{44, "SSHFP"},	{45, "IPSECKEY"}, {46, "RRSIG"},
    {47, "NSEC"},	{48, "DNSKEY"}, {49, "DHCID"},	{50, "NSEC3"},	  {51, "NSEC3PARAM"},
    {52, "TLSA"},	{53, "SMIMEA"}, {55, "HIP"},	{59, "CDS"},	  {60, "CDNSKEY"},
    {61, "OPENPGPKEY"}, {62, "CSYNC"},	{63, "ZONEMD"}, {64, "SVCB"},	  {65, "HTTPS"},
    {99, "SPF"},	{108, "EUI48"}, {109, "EUI64"}, {249, "TKEY"},	  {250, "TSIG"},
    {251, "IXFR"},	{252, "AXFR"},	{255, "ANY"},	{256, "URI"},	  {257, "CAA"},
};

const char *dns_type_name(uint16_t type, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (dns_types[i].type == type)
			return dns_types[i].name;
	snprintf(buf, size, "TYPE%u", type);
	return buf;
}

const char *dns_rcode_name(unsigned rcode, char *buf, size_t size)
{
	static const char *const names[] = {
	    "NOERROR",	"FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
	    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI",
	};
	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, size, "RCODE%u", rcode);
	return buf;
}

/* ---- reading, bounded ---- */

enum { R_OK = 0, R_CUT = 1, R_BAD = -1 };

struct parser {
	const uint8_t *b;
	size_t avail, total;
	const char *error;
};

static int bad(struct parser *p, const char *why)
{
	p->error = why;
	return R_BAD;
}

/* Whether [pos, pos + n) may be read, inside limit (<= total). */
static int need(struct parser *p, size_t pos, size_t n, size_t limit, const char *why)
{
	if (pos > limit || n > limit - pos)
		return bad(p, why);
	if (pos > p->avail || n > p->avail - pos)
		return R_CUT;
	return R_OK;
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Text, bounded: what does not fit is left out (the callers' buffers are
 * sized for the largest name, so it never is). */
struct text {
	char *s;
	size_t len, size;
};

static void text_addc(struct text *t, char c)
{
	if (t->len + 1 < t->size) {
		t->s[t->len++] = c;
		t->s[t->len] = 0;
	}
}

static void text_adds(struct text *t, const char *s)
{
	while (*s)
		text_addc(t, *s++);
}

/*
 * One octet of a name or a character string in presentation form (RFC 1035
 * 5.1): "\." for a dot inside a label, "\\" for a backslash, "\DDD" for the
 * octets that would split a field or an answer (controls, space, '"', ';',
 * DEL); quoted strings (TXT) keep the space and write '"' as \".
 */
static void text_octet(struct text *t, uint8_t c, bool in_name)
{
	char dd[8];
	if ((in_name && c == '.') || c == '\\' || (!in_name && c == '"')) {
		text_addc(t, '\\');
		text_addc(t, (char)c);
	} else if (c < 0x20 || c == 0x7f || c == ';' || (in_name && (c == ' ' || c == '"'))) {
		snprintf(dd, sizeof(dd), "\\%03u", c);
		text_adds(t, dd);
	} else {
		text_addc(t, (char)c);
	}
}

/*
 * A name at *pos: its text into t (or nowhere when t is NULL), *pos moved past
 * it (past its first pointer when it has one). Labels read before the first
 * pointer must end inside limit (a record's data); after a pointer, inside
 * the message. Each pointer must point before the labels it follows.
 */
static int read_name(struct parser *p, size_t *pos, size_t limit, struct text *t)
{
	size_t at = *pos, seg_start = *pos, after = 0;
	size_t lim = limit;
	unsigned hops = 0;
	size_t wire = 0;
	bool jumped = false, any = false;
	for (;;) {
		int r = need(p, at, 1, lim, "a name runs past its end");
		if (r)
			return r;
		uint8_t c = p->b[at];
		if (c == 0) {
			at++;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			if ((r = need(p, at, 2, lim, "a compression pointer is cut")))
				return r;
			size_t target = (size_t)(c & 0x3f) << 8 | p->b[at + 1];
			if (!jumped)
				after = at + 2;
			if (++hops > DNS_MAX_HOPS)
				return bad(p, "a name follows too many compression pointers");
			if (target < DNS_HEADER_LEN)
				return bad(p, "a compression pointer points into the header");
			if (target >= seg_start)
				return bad(p,
					   "a compression pointer points forward or into its own "
					   "name (a loop)");
			jumped = true;
			at = seg_start = target;
			lim = p->total;
			continue;
		}
		if (c & 0xc0)
			return bad(p,
				   "a label of type 0x40 or 0x80 (labels are at most 63 octets)");
		wire += 1u + c;
		if (wire + 1 > DNS_NAME_MAX)
			return bad(p, "a name is longer than 255 octets");
		if ((r = need(p, at + 1, c, lim, "a label runs past its end")))
			return r;
		if (t) {
			if (any)
				text_addc(t, '.');
			for (size_t i = 0; i < c; i++)
				text_octet(t, p->b[at + 1 + i], true);
		}
		any = true;
		at += 1u + c;
	}
	if (t && !any)
		text_addc(t, '.'); /* the root */
	*pos = jumped ? after : at;
	return R_OK;
}

/* ---- answers ---- */

static void add_ip(struct strbuf *sb, int family, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];
	if (inet_ntop(family, a, buf, sizeof(buf)))
		sb_adds(sb, buf);
}

/* A name inside a record's data, as text into sb; *pos moved past it. */
static int rdata_name(struct parser *p, size_t *pos, size_t rd_end, struct strbuf *sb)
{
	char buf[DNS_NAME_TEXT_MAX];
	struct text t = {buf, 0, sizeof(buf)};
	buf[0] = 0;
	int r = read_name(p, pos, rd_end, &t);
	if (r == R_CUT) /* inside a record that was captured whole: cannot be */
		return bad(p, "a name in a record's data runs past the capture");
	if (r)
		return r;
	sb_adds(sb, buf);
	return R_OK;
}

static int rdata_end(struct parser *p, size_t pos, size_t rd_end)
{
	return pos == rd_end ? R_OK : bad(p, "a record's data does not match its type");
}

/* SVCB, HTTPS (RFC 9460): priority, target, and the address hints and ALPN
 * ids among the parameters (the others are not written). */
static int rdata_svcb(struct parser *p, size_t pos, size_t rd_end, struct strbuf *sb)
{
	if (rd_end - pos < 3)
		return bad(p, "an SVCB/HTTPS record is too short");
	sb_addf(sb, "%u ", be16(p->b + pos));
	pos += 2;
	int r = rdata_name(p, &pos, rd_end, sb);
	if (r)
		return r;
	while (pos < rd_end) {
		if (rd_end - pos < 4)
			return bad(p, "an SVCB/HTTPS parameter is cut");
		uint16_t key = be16(p->b + pos), len = be16(p->b + pos + 2);
		pos += 4;
		if (len > rd_end - pos)
			return bad(p, "an SVCB/HTTPS parameter runs past its record");
		const uint8_t *v = p->b + pos;
		if (key == 1) { /* alpn: length-prefixed ids */
			sb_adds(sb, " alpn=");
			for (size_t i = 0; i < len;) {
				uint8_t n = v[i++];
				if (n > len - i)
					return bad(p, "an ALPN id runs past its parameter");
				char buf[4 * 255 + 1];
				struct text t = {buf, 0, sizeof(buf)};
				buf[0] = 0;
				for (size_t k = 0; k < n; k++)
					text_octet(&t, v[i + k], true);
				if (i > 1)
					sb_addc(sb, ',');
				sb_adds(sb, buf);
				i += n;
			}
		} else if (key == 4 || key == 6) { /* ipv4hint, ipv6hint */
			size_t w = key == 4 ? 4 : 16;
			if (len == 0 || len % w)
				return bad(p, "an SVCB/HTTPS address hint is not whole addresses");
			sb_adds(sb, key == 4 ? " ipv4hint=" : " ipv6hint=");
			for (size_t i = 0; i < len; i += w) {
				if (i)
					sb_addc(sb, ',');
				add_ip(sb, key == 4 ? AF_INET : AF_INET6, v + i);
			}
		}
		pos += len;
	}
	return R_OK;
}

/* One record's data as text after "TYPE " (the data lies wholly in avail). */
static int rdata_text(struct parser *p, uint16_t type, size_t pos, size_t rd_end, struct strbuf *sb)
{
	size_t len = rd_end - pos;
	const uint8_t *d = p->b + pos;
	int r;
	switch (type) {
	case 1: /* A */
		if (len != 4)
			return bad(p, "an A record's data is not 4 octets");
		add_ip(sb, AF_INET, d);
		return R_OK;
	case 28: /* AAAA */
		if (len != 16)
			return bad(p, "an AAAA record's data is not 16 octets");
		add_ip(sb, AF_INET6, d);
		return R_OK;
	case 2:	 /* NS */
	case 5:	 /* CNAME */
	case 12: /* PTR */
	case 39: /* DNAME */
		if ((r = rdata_name(p, &pos, rd_end, sb)))
			return r;
		return rdata_end(p, pos, rd_end);
	case 15: /* MX: preference, exchange */
		if (len < 3)
			return bad(p, "an MX record is too short");
		sb_addf(sb, "%u ", be16(d));
		pos += 2;
		if ((r = rdata_name(p, &pos, rd_end, sb)))
			return r;
		return rdata_end(p, pos, rd_end);
	case 33: /* SRV: priority, weight, port, target */
		if (len < 7)
			return bad(p, "an SRV record is too short");
		sb_addf(sb, "%u %u %u ", be16(d), be16(d + 2), be16(d + 4));
		pos += 6;
		if ((r = rdata_name(p, &pos, rd_end, sb)))
			return r;
		return rdata_end(p, pos, rd_end);
	case 6: /* SOA: mname rname serial refresh retry expire minimum */
		if ((r = rdata_name(p, &pos, rd_end, sb)))
			return r;
		sb_addc(sb, ' ');
		if ((r = rdata_name(p, &pos, rd_end, sb)))
			return r;
		if (rd_end - pos != 20)
			return bad(p, "an SOA record's numbers are not 20 octets");
		for (int i = 0; i < 5; i++)
			sb_addf(sb, " %u", be32(p->b + pos + 4 * i));
		return R_OK;
	case 16: /* TXT, SPF: character strings */
	case 99: {
		if (len == 0)
			return bad(p, "a TXT record has no string");
		for (size_t i = 0; i < len;) {
			uint8_t n = d[i++];
			if (n > len - i)
				return bad(p, "a TXT string runs past its record");
			char buf[4 * 255 + 3];
			struct text t = {buf, 0, sizeof(buf)};
			buf[0] = 0;
			text_addc(&t, '"');
			for (size_t k = 0; k < n; k++)
				text_octet(&t, d[i + k], false);
			text_addc(&t, '"');
			if (i > 1)
				sb_addc(sb, ' ');
			sb_adds(sb, buf);
			i += n;
		}
		return R_OK;
	}
	case 64: /* SVCB */
	case 65: /* HTTPS */
		return rdata_svcb(p, pos, rd_end, sb);
	default: /* RFC 3597's generic form; the data itself when short */
		sb_addf(sb, "\\# %zu", len);
		if (len && len <= 64) {
			sb_addc(sb, ' ');
			for (size_t i = 0; i < len; i++)
				sb_addf(sb, "%02x", d[i]);
		}
		return R_OK;
	}
}

static int read_answers(struct parser *p, size_t pos, struct dns_msg *m)
{
	struct strbuf one = STRBUF_INIT;
	int r = R_OK;
	for (unsigned i = 0; i < m->ancount; i++) {
		if ((r = read_name(p, &pos, p->total, NULL)))
			break;
		if ((r = need(p, pos, 10, p->total, "an answer's fixed part runs past the end")))
			break;
		uint16_t type = be16(p->b + pos), rdlen = be16(p->b + pos + 8);
		pos += 10;
		if ((r = need(p, pos, rdlen, p->total, "an answer's data runs past the end")))
			break;
		sb_reset(&one);
		char tb[16];
		sb_adds(&one, dns_type_name(type, tb, sizeof(tb)));
		sb_addc(&one, ' ');
		if ((r = rdata_text(p, type, pos, pos + rdlen, &one)))
			break;
		pos += rdlen;
		m->answers_read++;
		size_t sep = m->answers.len ? 1 : 0;
		if (m->answers_shown < DNS_MAX_ANSWERS &&
		    m->answers.len + sep + one.len <= DNS_ANSWERS_MAX) {
			if (sep)
				sb_addc(&m->answers, ';');
			sb_add(&m->answers, one.data, one.len);
			m->answers_shown++;
		}
	}
	sb_free(&one);
	if (r == R_CUT) {
		m->cut = true;
		r = R_OK;
	}
	return r;
}

/* ---- the message ---- */

void dns_msg_init(struct dns_msg *m)
{
	memset(m, 0, sizeof(*m));
}

void dns_msg_free(struct dns_msg *m)
{
	sb_free(&m->answers);
}

static int malformed(struct dns_msg *m, struct parser *p)
{
	m->error = p->error ? p->error : "the message is cut short";
	return DNS_MALFORMED;
}

int dns_parse(const uint8_t *msg, size_t avail, size_t total, struct dns_msg *m)
{
	struct strbuf keep = m->answers; /* reuse its memory */
	dns_msg_init(m);
	m->answers = keep;
	sb_reset(&m->answers);
	if (avail > total)
		avail = total;
	struct parser p = {msg, avail, total, NULL};
	if (total < DNS_HEADER_LEN || avail < DNS_HEADER_LEN) {
		m->error = total < DNS_HEADER_LEN ? "shorter than a DNS header (12 octets)"
						  : "the capture holds less than a DNS header";
		return DNS_MALFORMED;
	}
	m->id = be16(msg);
	m->qr = msg[2] >> 7;
	m->opcode = (msg[2] >> 3) & 0xf;
	m->aa = (msg[2] >> 2) & 1;
	m->tc = (msg[2] >> 1) & 1;
	m->rd = msg[2] & 1;
	m->ra = msg[3] >> 7;
	m->rcode = msg[3] & 0xf;
	m->qdcount = be16(msg + 4);
	m->ancount = be16(msg + 6);
	m->nscount = be16(msg + 8);
	m->arcount = be16(msg + 10);

	size_t pos = DNS_HEADER_LEN;
	/* the question: the first is written, the others checked */
	for (unsigned i = 0; i < m->qdcount; i++) {
		struct text t = {m->qname, 0, sizeof(m->qname)};
		int r = read_name(&p, &pos, total, i == 0 ? &t : NULL);
		if (r == R_OK)
			r = need(&p, pos, 4, total, "a question's type and class run past the end");
		if (r == R_CUT && i > 0) {
			m->cut = true;
			return DNS_OK;
		}
		if (r) /* the first question must be whole: it is what the record is about */
			return malformed(m, &p);
		if (i == 0) {
			m->has_question = true;
			m->qtype = be16(msg + pos);
			m->qclass = be16(msg + pos + 2);
		}
		pos += 4;
	}
	if (!m->has_question)
		m->qname[0] = 0;
	/* answers mean what they say only in a standard query's message */
	if (m->opcode != 0 || m->ancount == 0)
		return DNS_OK;
	if (read_answers(&p, pos, m) != R_OK)
		return malformed(m, &p);
	return DNS_OK;
}

/* ---- DNS over TCP ---- */

static struct dns_tcp_stream *stream_slot(struct dns_tcp_table *t, uint64_t cookie, bool egress)
{
	uint64_t h = (cookie ^ (egress ? 0x9e3779b97f4a7c15ull : 0)) * 0xff51afd7ed558ccdull;
	return &t->s[(h >> 32) % DNS_TCP_STREAMS];
}

int dns_tcp_spans(struct dns_tcp_table *t, uint64_t cookie, bool egress, uint32_t seq,
		  uint32_t seg_len, const uint8_t *data, uint32_t cap_len,
		  struct dns_span spans[DNS_TCP_SPANS])
{
	struct dns_tcp_stream *s = stream_slot(t, cookie, egress);
	if (!s->used || s->cookie != cookie || s->egress != egress) {
		s->used = 1;
		s->cookie = cookie;
		s->egress = egress;
		s->next = seq;
	}
	if (cap_len > seg_len)
		cap_len = seg_len;
	int32_t d = (int32_t)(s->next - seq);
	if (d < 0) /* its start was never seen (a record lost): start again here */
		s->next = seq, d = 0;
	int n = 0;
	while ((uint32_t)d < seg_len) {
		uint32_t off = (uint32_t)d;
		if (n == DNS_TCP_SPANS || cap_len < 2 || off > cap_len - 2) {
			s->used = 0; /* its length was not captured: start again */
			return n;
		}
		uint32_t len = (uint32_t)data[off] << 8 | data[off + 1];
		spans[n].off = off + 2;
		spans[n].total = len;
		spans[n].avail = cap_len - (off + 2) < len ? cap_len - (off + 2) : len;
		n++;
		s->next = seq + off + 2 + len;
		d = (int32_t)(off + 2 + len);
	}
	return n;
}
