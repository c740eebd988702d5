/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Community ID against the spec's official baseline (tests/data/community-id,
 * vendored with its licence; made by the reference implementation from
 * combined.pcap),
 * plus a few cases the baseline does not exercise. The expected values of
 * the extra cases were computed once with a separate Python (hashlib)
 * rendering of the spec.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "test.h"
#include "util/community_id.h"

/* One baseline record. The files hold a JSON array of flat objects whose
 * values are numbers, plain strings (no escapes) or null. */
struct cid_vector {
	long proto;
	char saddr[64], daddr[64];
	long sport, dport;
	bool has_ports;
	char want[COMMUNITY_ID_LEN];
};

struct json_cursor {
	const char *p, *end;
	const char *err; /* first error, NULL while fine */
};

static void jc_skip_ws(struct json_cursor *c)
{
	while (c->p < c->end && isspace((unsigned char)*c->p))
		c->p++;
}

static bool jc_fail(struct json_cursor *c, const char *why)
{
	if (!c->err)
		c->err = why;
	return false;
}

static bool jc_eat(struct json_cursor *c, char ch)
{
	jc_skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* A string without escapes into buf; the baseline never needs them, and a
 * value we cannot read exactly must not be guessed at. */
static bool jc_string(struct json_cursor *c, char *buf, size_t size)
{
	if (!jc_eat(c, '"'))
		return jc_fail(c, "expected a string");
	size_t n = 0;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\')
			return jc_fail(c, "escapes in strings are not supported");
		if (n + 1 >= size)
			return jc_fail(c, "string too long");
		buf[n++] = *c->p++;
	}
	if (c->p >= c->end)
		return jc_fail(c, "unterminated string");
	c->p++;
	buf[n] = '\0';
	return true;
}

/* A non-negative integer or null (then *is_null). */
static bool jc_int_or_null(struct json_cursor *c, long *v, bool *is_null)
{
	jc_skip_ws(c);
	if ((size_t)(c->end - c->p) >= 4 && memcmp(c->p, "null", 4) == 0) {
		c->p += 4;
		*is_null = true;
		return true;
	}
	*is_null = false;
	if (c->p >= c->end || !isdigit((unsigned char)*c->p))
		return jc_fail(c, "expected a number or null");
	long n = 0;
	while (c->p < c->end && isdigit((unsigned char)*c->p)) {
		n = n * 10 + (*c->p++ - '0');
		if (n > 0xffffff)
			return jc_fail(c, "number out of range");
	}
	*v = n;
	return true;
}

static bool jc_object(struct json_cursor *c, struct cid_vector *v)
{
	/* bit per key, so a record missing one is an error, not a zero */
	enum { K_PROTO = 1, K_SADDR = 2, K_DADDR = 4, K_SPORT = 8, K_DPORT = 16, K_CID = 32 };
	unsigned seen = 0;
	bool sport_null = false, dport_null = false;

	memset(v, 0, sizeof(*v));
	if (!jc_eat(c, '{'))
		return jc_fail(c, "expected '{'");
	if (jc_eat(c, '}'))
		return jc_fail(c, "empty object");
	do {
		char key[32];
		bool is_null;
		if (!jc_string(c, key, sizeof(key)))
			return false;
		if (!jc_eat(c, ':'))
			return jc_fail(c, "expected ':'");
		if (strcmp(key, "proto") == 0) {
			if (!jc_int_or_null(c, &v->proto, &is_null))
				return false;
			if (is_null)
				return jc_fail(c, "proto is null");
			seen |= K_PROTO;
		} else if (strcmp(key, "saddr") == 0) {
			if (!jc_string(c, v->saddr, sizeof(v->saddr)))
				return false;
			seen |= K_SADDR;
		} else if (strcmp(key, "daddr") == 0) {
			if (!jc_string(c, v->daddr, sizeof(v->daddr)))
				return false;
			seen |= K_DADDR;
		} else if (strcmp(key, "sport") == 0) {
			if (!jc_int_or_null(c, &v->sport, &sport_null))
				return false;
			seen |= K_SPORT;
		} else if (strcmp(key, "dport") == 0) {
			if (!jc_int_or_null(c, &v->dport, &dport_null))
				return false;
			seen |= K_DPORT;
		} else if (strcmp(key, "communityid") == 0) {
			if (!jc_string(c, v->want, sizeof(v->want)))
				return false;
			seen |= K_CID;
		} else {
			return jc_fail(c, "unknown key");
		}
	} while (jc_eat(c, ','));
	if (!jc_eat(c, '}'))
		return jc_fail(c, "expected '}' or ','");
	if (seen != (K_PROTO | K_SADDR | K_DADDR | K_SPORT | K_DPORT | K_CID))
		return jc_fail(c, "a record lacks one of the keys");
	if (sport_null != dport_null)
		return jc_fail(c, "only one of sport/dport is null");
	if (v->proto > 255 || v->sport > 65535 || v->dport > 65535)
		return jc_fail(c, "proto or port out of range");
	v->has_ports = !sport_null;
	return true;
}

/* Parses the whole array. Returns the number of records or -1 (then *err). */
static int parse_vectors(const char *text, size_t len, struct cid_vector **out, const char **err)
{
	struct json_cursor c = {text, text + len, NULL};
	struct cid_vector *v = NULL;
	size_t n = 0, cap = 0;

	if (!jc_eat(&c, '[')) {
		jc_fail(&c, "expected '['");
		goto fail;
	}
	if (!jc_eat(&c, ']')) {
		do {
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				struct cid_vector *nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					jc_fail(&c, "out of memory");
					goto fail;
				}
				v = nv;
			}
			if (!jc_object(&c, &v[n]))
				goto fail;
			n++;
		} while (jc_eat(&c, ','));
		if (!jc_eat(&c, ']')) {
			jc_fail(&c, "expected ']' or ','");
			goto fail;
		}
	}
	jc_skip_ws(&c);
	if (c.p != c.end) {
		jc_fail(&c, "trailing data after the array");
		goto fail;
	}
	*out = v;
	return (int)n;
fail:
	free(v);
	*err = c.err;
	return -1;
}

/* Reads a whole file; NULL with a message on stderr when it cannot. */
static char *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "  cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				fprintf(stderr, "  out of memory reading %s\n", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "  read error on %s\n", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int parse_addr(const char *s, uint8_t addr[16])
{
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return AF_INET6;
	return -1;
}

/*
 * Checks every vector of one baseline file; prints each mismatch and returns
 * how many failed, or -1 when the file is missing or unreadable. The baseline
 * gives ICMP "ports" after the reference's mapping (an echo reply appears as
 * 0/8, not 0/0); fed back as type/code they map to themselves, so they test
 * the mapping as well.
 */
static int check_baseline(const char *name, uint16_t seed, bool base64, int *count)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/community-id/%s", test_data_dir(), name);
	size_t len;
	char *text = read_whole_file(path, &len);
	if (!text) {
		fprintf(stderr, "  the official Community ID vectors are required: run the tests "
				"from the top of the tree, or set ONMITSU_TEST_DATA to its "
				"tests/data\n");
		return -1;
	}
	struct cid_vector *v = NULL;
	const char *err = NULL;
	int n = parse_vectors(text, len, &v, &err);
	free(text);
	if (n < 0) {
		fprintf(stderr, "  %s: malformed: %s\n", path, err ? err : "?");
		return -1;
	}
	*count = n;

	int bad = 0;
	for (int i = 0; i < n; i++) {
		uint8_t sa[16], da[16];
		int fs = parse_addr(v[i].saddr, sa);
		int fd = parse_addr(v[i].daddr, da);
		if (fs < 0 || fs != fd) {
			fprintf(stderr, "  %s #%d: bad addresses %s %s\n", name, i, v[i].saddr,
				v[i].daddr);
			bad++;
			continue;
		}
		char got[COMMUNITY_ID_LEN];
		int rc = community_id_v1(got, seed, (uint8_t)v[i].proto, fs, sa, da,
					 (uint16_t)v[i].sport, (uint16_t)v[i].dport, v[i].has_ports,
					 base64);
		if (rc != 0 || strcmp(got, v[i].want) != 0) {
			fprintf(stderr, "  %s #%d: proto %ld %s:%ld -> %s:%ld: got %s, want %s\n",
				name, i, v[i].proto, v[i].saddr, v[i].sport, v[i].daddr, v[i].dport,
				rc == 0 ? got : "(error)", v[i].want);
			bad++;
		}
	}
	free(v);
	return bad;
}

/* The baseline from combined.pcap has 23 flows per file; fewer would mean a
 * truncated or wrong file passing vacuously. */
#define CID_MIN_VECTORS 20

TEST(cid_baseline_default)
{
	int count = 0;
	int bad = check_baseline("baseline_deflt.json", 0, true, &count);
	if (bad < 0)
		TEST_FAIL_("baseline_deflt.json could not be loaded (see above)");
	CHECK_EQ_INT(bad, 0);
	CHECK(count >= CID_MIN_VECTORS);
}

TEST(cid_baseline_seed1)
{
	int count = 0;
	int bad = check_baseline("baseline_seed1.json", 1, true, &count);
	if (bad < 0)
		TEST_FAIL_("baseline_seed1.json could not be loaded (see above)");
	CHECK_EQ_INT(bad, 0);
	CHECK(count >= CID_MIN_VECTORS);
}

TEST(cid_baseline_nob64)
{
	int count = 0;
	int bad = check_baseline("baseline_nob64.json", 0, false, &count);
	if (bad < 0)
		TEST_FAIL_("baseline_nob64.json could not be loaded (see above)");
	CHECK_EQ_INT(bad, 0);
	CHECK(count >= CID_MIN_VECTORS);
}

/* The parser must reject what it does not understand rather than guess. */
TEST(cid_json_parser_rejects)
{
	static const char *const bad[] = {
	    "",
	    "[",
	    "[{}]",
	    "[{\"proto\": 6}]",
	    "[{\"proto\": 6, \"saddr\": \"1.2.3.4\", \"daddr\": \"1.2.3.5\", \"sport\": null, "
	    "\"dport\": 80, \"communityid\": \"1:x\"}]",
	    "[{\"proto\": 6, \"saddr\": \"1.2\\\"3.4\", \"daddr\": \"1.2.3.5\", \"sport\": 1, "
	    "\"dport\": 80, \"communityid\": \"1:x\"}]",
	    "[] x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cid_vector *v = NULL;
		const char *err = NULL;
		int n = parse_vectors(bad[i], strlen(bad[i]), &v, &err);
		if (n >= 0) {
			free(v);
			TEST_FAIL_("accepted bad input #%zu: %s", i, bad[i]);
		}
		CHECK(err != NULL);
	}
	const char *good = "[{\"proto\": 46, \"saddr\": \"10.1.12.1\", \"daddr\": \"10.1.12.2\", "
			   "\"sport\": null, \"dport\": null, \"communityid\": \"1:a\"}]";
	struct cid_vector *v = NULL;
	const char *err = NULL;
	CHECK_EQ_INT(parse_vectors(good, strlen(good), &v, &err), 1);
	bool has_ports = v[0].has_ports;
	long proto = v[0].proto;
	free(v);
	CHECK(!has_ports);
	CHECK_EQ_INT(proto, 46);
}

/* The spec's own example: both directions order to 10.0.0.1, 127.0.0.1, 1234, 80. */
TEST(cid_spec_example_both_directions)
{
	uint8_t a[4] = {10, 0, 0, 1}, b[4] = {127, 0, 0, 1};
	char x[COMMUNITY_ID_LEN], y[COMMUNITY_ID_LEN];
	CHECK_EQ_INT(community_id_v1(x, 0, 6, AF_INET, a, b, 1234, 80, true, true), 0);
	CHECK_EQ_INT(community_id_v1(y, 0, 6, AF_INET, b, a, 80, 1234, true, true), 0);
	CHECK_EQ_STR(x, "1:F/BCgQTUT/FXrTnSBgdsKwJ26iE=");
	CHECK_EQ_STR(y, x);
}

/* Equal addresses: the ports decide, numerically. */
TEST(cid_equal_addresses_order_by_port)
{
	uint8_t lo[4] = {127, 0, 0, 1};
	char x[COMMUNITY_ID_LEN], y[COMMUNITY_ID_LEN];
	CHECK_EQ_INT(community_id_v1(x, 0, 17, AF_INET, lo, lo, 1234, 80, true, true), 0);
	CHECK_EQ_INT(community_id_v1(y, 0, 17, AF_INET, lo, lo, 80, 1234, true, true), 0);
	CHECK_EQ_STR(x, "1:wISCMVHfe1WhHVILqfkSoUVeQZc=");
	CHECK_EQ_STR(y, x);
}

/* Callers pass the real type and code: an echo reply (type 0, code 0) must
 * land on the same id as its echo request (type 8, code 0) in the baseline. */
TEST(cid_icmp_echo_reply_real_code)
{
	uint8_t req_src[4] = {192, 168, 0, 89}, req_dst[4] = {192, 168, 0, 1};
	char x[COMMUNITY_ID_LEN], y[COMMUNITY_ID_LEN];
	CHECK_EQ_INT(community_id_v1(x, 0, 1, AF_INET, req_src, req_dst, 8, 0, true, true), 0);
	CHECK_EQ_INT(community_id_v1(y, 0, 1, AF_INET, req_dst, req_src, 0, 0, true, true), 0);
	CHECK_EQ_STR(x, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	CHECK_EQ_STR(y, x);

	/* ICMPv6 echo request 128 / reply 129, code 0 both ways */
	uint8_t s6[16], d6[16];
	CHECK_EQ_INT(inet_pton(AF_INET6, "3ffe:507:0:1:200:86ff:fe05:80da", s6), 1);
	CHECK_EQ_INT(inet_pton(AF_INET6, "3ffe:501:0:1001::2", d6), 1);
	CHECK_EQ_INT(community_id_v1(x, 0, 58, AF_INET6, s6, d6, 128, 0, true, true), 0);
	CHECK_EQ_INT(community_id_v1(y, 0, 58, AF_INET6, d6, s6, 129, 0, true, true), 0);
	CHECK_EQ_STR(x, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=");
	CHECK_EQ_STR(y, x);
}

/* A one-way type (destination unreachable) is hashed as sent, never flipped,
 * even when the source address is the larger one. The baseline's one-way
 * messages all come from the smaller address, so it cannot catch this. */
TEST(cid_icmp_one_way_not_flipped)
{
	uint8_t a[4] = {10, 0, 0, 2}, b[4] = {10, 0, 0, 1};
	char x[COMMUNITY_ID_LEN];
	CHECK_EQ_INT(community_id_v1(x, 0, 1, AF_INET, a, b, 3, 1, true, true), 0);
	CHECK_EQ_STR(x, "1:JHjlyD5IJJjl3wHWOMj46lLWZag=");

	uint8_t s6[16], d6[16];
	CHECK_EQ_INT(inet_pton(AF_INET6, "2001:db8::2", s6), 1);
	CHECK_EQ_INT(inet_pton(AF_INET6, "2001:db8::1", d6), 1);
	CHECK_EQ_INT(community_id_v1(x, 0, 58, AF_INET6, s6, d6, 1, 4, true, true), 0);
	CHECK_EQ_STR(x, "1:qxd1LeYGiZWewhdgFCEH4g39f1w=");
}

TEST(cid_no_ports_ipv6)
{
	uint8_t s6[16], d6[16];
	char x[COMMUNITY_ID_LEN], y[COMMUNITY_ID_LEN];
	CHECK_EQ_INT(inet_pton(AF_INET6, "2001:db8::2", s6), 1);
	CHECK_EQ_INT(inet_pton(AF_INET6, "2001:db8::1", d6), 1);
	/* ports given but has_ports false: they must not enter the hash */
	CHECK_EQ_INT(community_id_v1(x, 0, 50, AF_INET6, s6, d6, 7, 9, false, true), 0);
	CHECK_EQ_INT(community_id_v1(y, 0, 50, AF_INET6, d6, s6, 0, 0, false, true), 0);
	CHECK_EQ_STR(x, "1:JIAyWiD7dl1e74CJAdetAUPF/To=");
	CHECK_EQ_STR(y, x);
}

TEST(cid_bad_family)
{
	uint8_t a[16] = {0};
	char x[COMMUNITY_ID_LEN];
	CHECK_EQ_INT(community_id_v1(x, 0, 6, AF_UNIX, a, a, 1, 2, true, true), -1);
	CHECK_EQ_INT(community_id_v1(x, 0, 6, 0, a, a, 1, 2, true, true), -1);
}
