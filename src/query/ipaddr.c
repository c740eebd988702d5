/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/ipaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void ipaddr_from_bytes(struct ipaddr *out, int family, const uint8_t *bytes)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->addr, bytes, 4);
	} else if (family == AF_INET6) {
		if (memcmp(bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
			out->family = AF_INET;
			memcpy(out->addr, bytes + 12, 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->addr, bytes, 16);
		}
	}
}

/* Dotted-quad IPv4 as inet_pton takes it (no leading zeros), without the
 * copy inet_pton needs: filters parse the address of every NET record. */
static int parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	const char *p = s, *end = s + n;
	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		int digits = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			if (digits && v == 0)
				return -1; /* a leading zero */
			v = v * 10 + (unsigned)(*p++ - '0');
			if (++digits > 3 || v > 255)
				return -1;
		}
		if (!digits)
			return -1;
		out[part] = (uint8_t)v;
		if (part < 3) {
			if (p == end || *p != '.')
				return -1;
			p++;
		}
	}
	return p == end ? 0 : -1;
}

int ipaddr_parse(const char *s, size_t n, struct ipaddr *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t v4[4];
	if (parse_ipv4(s, n, v4) == 0) {
		ipaddr_from_bytes(out, AF_INET, v4);
		return 0;
	}
	uint8_t bytes[16];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, bytes) == 1) {
		ipaddr_from_bytes(out, AF_INET, bytes);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, bytes) == 1) {
		ipaddr_from_bytes(out, AF_INET6, bytes);
		return 0;
	}
	return -1;
}

const char *ipaddr_format(const struct ipaddr *a, char *buf, size_t size)
{
	if (!a->family || !inet_ntop(a->family, a->addr, buf, (socklen_t)size)) {
		if (size)
			buf[0] = '\0';
	}
	return buf;
}

bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

bool ipaddr_in_prefix(const struct ipaddr *a, const struct ipaddr *net, unsigned prefix_len)
{
	if (a->family != net->family)
		return false;
	unsigned whole = prefix_len / 8, rest = prefix_len % 8;
	if (memcmp(a->addr, net->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->addr[whole] & mask) == (net->addr[whole] & mask);
}

static void grow_u32(uint32_t **arr, uint32_t *cap, uint32_t need)
{
	if (need <= *cap)
		return;
	uint32_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	uint32_t *p = realloc(*arr, (size_t)n * sizeof(**arr));
	if (!p)
		fatal("out of memory for the address table");
	memset(p + *cap, 0, (size_t)(n - *cap) * sizeof(**arr));
	*arr = p;
	*cap = n;
}

void ip_table_init(struct ip_table *t)
{
	memset(t, 0, sizeof(*t));
	intern_init(&t->text);
	intern_init(&t->bytes);
	grow_u32(&t->id_of_text, &t->id_of_text_cap, 1);
	grow_u32(&t->text_of_id, &t->text_of_id_cap, 1);
}

void ip_table_free(struct ip_table *t)
{
	intern_free(&t->text);
	intern_free(&t->bytes);
	free(t->id_of_text);
	free(t->text_of_id);
	memset(t, 0, sizeof(*t));
}

static void key_of(const struct ipaddr *a, char key[17])
{
	key[0] = (char)a->family;
	memcpy(key + 1, a->addr, 16);
}

uint32_t ip_table_find(const struct ip_table *t, const struct ipaddr *a)
{
	char key[17];
	if (!a->family)
		return 0;
	key_of(a, key);
	return intern_find(&t->bytes, key, sizeof(key));
}

uint32_t ip_table_add_text(struct ip_table *t, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	uint32_t before = t->text.count;
	uint32_t tid = intern_add(&t->text, s, n);
	if (tid < before)
		return t->id_of_text[tid];
	/* a new text: parse it once */
	grow_u32(&t->id_of_text, &t->id_of_text_cap, tid + 1);
	struct ipaddr a;
	uint32_t id = 0;
	if (ipaddr_parse(s, n, &a) == 0) {
		char key[17];
		key_of(&a, key);
		uint32_t ids_before = t->bytes.count;
		id = intern_add(&t->bytes, key, sizeof(key));
		if (id >= ids_before) {
			grow_u32(&t->text_of_id, &t->text_of_id_cap, id + 1);
			t->text_of_id[id] = tid;
		}
	}
	t->id_of_text[tid] = id;
	return id;
}

const char *ip_table_text(const struct ip_table *t, uint32_t id)
{
	if (id == 0 || id >= t->bytes.count)
		return "";
	return intern_str(&t->text, t->text_of_id[id]);
}
