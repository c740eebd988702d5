/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DNS parser (record/dns.c), as the recorder feeds it packets from port
 * 53: the input as one whole message, as a message the capture cut (at a
 * point the first byte chooses), and as a TCP segment through the stream
 * table. Besides not crashing or reading past the input: what it accepts has
 * a question name and answers that fit their limits and hold no control
 * byte (they go into the log as text), and a refusal gives a reason.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record/dns.h"

static void check_text(const char *what, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
			   "%s holds the control byte 0x%02x at %zu", what, (unsigned char)s[i], i);
}

static void check_parse(const uint8_t *msg, size_t avail, size_t total, struct dns_msg *m)
{
	/* a copy of exactly avail bytes: ASan sees any read past them */
	uint8_t *copy = malloc(avail ? avail : 1);
	if (!copy)
		abort();
	memcpy(copy, msg, avail);
	int rc = dns_parse(copy, avail, total, m);
	free(copy);
	if (rc != DNS_OK) {
		FUZZ_CHECK(rc == DNS_MALFORMED && m->error && *m->error,
			   "a refusal without a reason (rc %d)", rc);
		return;
	}
	size_t qlen = strnlen(m->qname, sizeof(m->qname));
	FUZZ_CHECK(qlen < sizeof(m->qname), "the name is not terminated");
	FUZZ_CHECK(m->has_question == (qlen > 0), "a question without a name, or the reverse");
	check_text("the name", m->qname, qlen);
	FUZZ_CHECK(m->answers.len <= DNS_ANSWERS_MAX, "answers of %zu bytes", m->answers.len);
	FUZZ_CHECK(m->answers_shown <= m->answers_read && m->answers_shown <= DNS_MAX_ANSWERS &&
		       m->answers_read <= m->ancount,
		   "answers shown %u, read %u, counted %u", m->answers_shown, m->answers_read,
		   m->ancount);
	check_text("the answers", m->answers.data ? m->answers.data : "", m->answers.len);
	FUZZ_CHECK(!m->cut || avail < total, "cut, but the whole message was there");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_tcp_table *streams;
	if (!streams && !(streams = calloc(1, sizeof(*streams))))
		abort();
	struct dns_msg m;
	dns_msg_init(&m);
	check_parse(data, size, size, &m);
	if (size > 1) {
		/* the capture kept the first avail bytes of a longer message */
		size_t avail = data[0] % size;
		check_parse(data + 1, avail, size - 1 + data[0], &m);
	}
	if (size > 6) {
		/* a TCP segment: a sequence number, then the segment's bytes */
		uint32_t seq = (uint32_t)data[0] << 8 | data[1];
		struct dns_span sp[DNS_TCP_SPANS];
		uint32_t seg_len = (uint32_t)(size - 2), cap = seg_len - data[2] % 4;
		int n = dns_tcp_spans(streams, data[3] & 3, data[3] & 4, seq, seg_len, data + 2,
				      cap, sp);
		FUZZ_CHECK(n >= 0 && n <= DNS_TCP_SPANS, "%d spans", n);
		for (int i = 0; i < n; i++) {
			FUZZ_CHECK(sp[i].off <= cap && sp[i].avail <= cap - sp[i].off &&
				       sp[i].avail <= sp[i].total,
				   "span %d (%u + %u of %u) past the %u captured bytes", i,
				   sp[i].off, sp[i].avail, sp[i].total, cap);
			check_parse(data + 2 + sp[i].off, sp[i].avail, sp[i].total, &m);
		}
	}
	dns_msg_free(&m);
	return 0;
}
