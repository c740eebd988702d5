/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DNS message parser: the bytes the kernel copied from a port-53 packet
 * (bpf/dns.bpf.h) in, the question, the response code and the answers as
 * text out (docs/FORMAT.md, DNS). Outside input, so every read is bounded by
 * the bytes at hand and every walk by a count:
 *
 * - a name is at most DNS_NAME_MAX octets on the wire (RFC 1035 2.3.4), its
 *   labels at most 63 (the label types 0x40 and 0x80 are refused), and it
 *   follows at most DNS_MAX_HOPS compression pointers, each pointing before
 *   the labels it was found after (so no pointer loop can be followed, even
 *   one that stays under the hop limit), never into the header;
 * - a record's data is read inside its RDLENGTH, and the types written with
 *   a structure (A, AAAA, names, MX, SRV, TXT, SOA, SVCB/HTTPS) must fill it
 *   exactly;
 * - counts are believed only as far as the message goes: a count that runs
 *   past the end of a whole message makes it malformed, one that runs past
 *   the end of what was captured marks the record cut.
 *
 * A malformed message gives DNS_MALFORMED and a reason, never a record.
 */
#ifndef ONMITSU_RECORD_DNS_H
#define ONMITSU_RECORD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define DNS_HEADER_LEN 12
#define DNS_NAME_MAX 255     /* octets of a name on the wire, length octets included */
#define DNS_MAX_HOPS 64	     /* compression pointers followed in one name */
#define DNS_MAX_ANSWERS 64   /* answer records written; more are counted */
#define DNS_ANSWERS_MAX 4096 /* bytes of dns_answers text; the rest counted */
/* a name as text: each octet at most 4 characters ("\DDD"), dots, NUL */
#define DNS_NAME_TEXT_MAX (4 * DNS_NAME_MAX + 2)

enum dns_status {
	DNS_OK = 0,
	DNS_MALFORMED = -1,
};

struct dns_msg {
	uint16_t id;
	bool qr, aa, tc, rd, ra;
	uint8_t opcode, rcode;
	uint16_t qdcount, ancount, nscount, arcount;
	bool has_question;
	char qname[DNS_NAME_TEXT_MAX]; /* presentation form, no final dot ("." for the root) */
	uint16_t qtype, qclass;
	struct strbuf answers;	/* "TYPE value;TYPE value" (caller frees: dns_msg_free) */
	unsigned answers_read;	/* answer records read (and checked) */
	unsigned answers_shown; /* of those, written in answers */
	bool cut;		/* what was captured ended before the message did */
	const char *error;	/* DNS_MALFORMED: why */
};

/*
 * Parse one message. avail bytes of it are at msg; total is its length on
 * the wire (UDP: the payload; TCP: the length prefix), >= avail: when avail
 * is less, the capture cut it, and running out of bytes after the question
 * marks it cut rather than malformed. Returns DNS_OK or DNS_MALFORMED (with
 * m->error). m is (re)initialised; dns_msg_free releases it.
 */
int dns_parse(const uint8_t *msg, size_t avail, size_t total, struct dns_msg *m);
void dns_msg_init(struct dns_msg *m);
void dns_msg_free(struct dns_msg *m);

/* "A", "AAAA", ... or "TYPE65280"; buf >= 16 bytes. */
const char *dns_type_name(uint16_t type, char *buf, size_t size);
/* "NOERROR", "NXDOMAIN", ... or "RCODE12"; buf >= 16 bytes. */
const char *dns_rcode_name(unsigned rcode, char *buf, size_t size);

/*
 * DNS over TCP: where the messages of a segment start. Each direction of a
 * connection is a stream of messages, each after a 2-byte length; the table
 * remembers, per stream (socket cookie and direction), the sequence number
 * where the next message begins, so that a segment that continues a message
 * (or repeats one: a retransmission) gives none. A stream not in the table
 * (its first segment, or pushed out by another: DNS_TCP_STREAMS slots, by
 * hash) is taken to start a message with this segment.
 */
#define DNS_TCP_STREAMS 1024
#define DNS_TCP_SPANS 8 /* messages read from one segment */

struct dns_tcp_stream {
	uint64_t cookie;
	uint32_t next; /* sequence number of the next message's length prefix */
	uint8_t egress;
	uint8_t used;
};

struct dns_tcp_table {
	struct dns_tcp_stream s[DNS_TCP_STREAMS];
};

struct dns_span {
	uint32_t off;	/* where the message starts in the segment (after its length) */
	uint32_t total; /* its length */
	uint32_t avail; /* bytes of it in the captured part */
};

/*
 * The messages that start in a segment of seg_len bytes at sequence number
 * seq, of which cap_len were captured at data. Returns how many spans were
 * filled (at most DNS_TCP_SPANS). A length prefix beyond the captured part
 * (or more messages than DNS_TCP_SPANS) loses the stream's place: it starts
 * again at its next segment.
 */
int dns_tcp_spans(struct dns_tcp_table *t, uint64_t cookie, bool egress, uint32_t seq,
		  uint32_t seg_len, const uint8_t *data, uint32_t cap_len,
		  struct dns_span spans[DNS_TCP_SPANS]);

#endif
