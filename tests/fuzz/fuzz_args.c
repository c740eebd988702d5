/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The parsers of command-line values that come from outside (query/filter.h,
 * util/parse.h, query/ipaddr.h, log/csv.h, log/segment.h, log/seal.h): the
 * input, as a string, goes to each. What one accepts must mean what it
 * says: an address formats and parses back to itself, an absolute time
 * lies in the year it names, a relative time is not after now, and a
 * refusal names the value.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fuzz.h"
#include "log/csv.h"
#include "log/seal.h"
#include "log/segment.h"
#include "query/filter.h"
#include "query/ipaddr.h"
#include "util/parse.h"

#define NOW_NS 1795000000000000000ull /* 2026-11-18: fixed, so runs repeat */

static void check_time(const char *s)
{
	uint64_t t = 0;
	char err[512] = "";
	if (parse_time_arg(s, NOW_NS, &t, err, sizeof(err)) < 0) {
		FUZZ_CHECK(*err, "a refused time without a message");
		return;
	}
	if (s[0] == '-') {
		FUZZ_CHECK(t <= NOW_NS, "\"%s\" is %llu, after now", s, (unsigned long long)t);
		return;
	}
	if (strcmp(s, "now") == 0)
		return;
	/* an absolute time: within a day of the date it names (offsets) */
	unsigned y = 0;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	time_t sec = (time_t)(t / 1000000000ull);
	struct tm tm;
	FUZZ_CHECK(gmtime_r(&sec, &tm) != NULL, "\"%s\": %llu", s, (unsigned long long)t);
	unsigned got = (unsigned)tm.tm_year + 1900;
	FUZZ_CHECK(got + 1 >= y && got <= y + 1, "\"%s\" parsed as %llu ns, in year %u", s,
		   (unsigned long long)t, got);
}

static void check_endpoint(const char *s)
{
	struct endpoint ep;
	char err[512] = "";
	if (parse_endpoint(s, &ep, err, sizeof(err)) < 0) {
		FUZZ_CHECK(*err, "a refused endpoint without a message");
		return;
	}
	FUZZ_CHECK(ep.has_addr || ep.has_port, "\"%s\": an endpoint of nothing", s);
	if (ep.has_addr) {
		unsigned max = ep.addr.family == AF_INET ? 32 : 128;
		FUZZ_CHECK(ep.addr.family == AF_INET || ep.addr.family == AF_INET6, "family");
		FUZZ_CHECK(ep.prefix_len <= max, "\"%s\": prefix %u", s, ep.prefix_len);
		char buf[64];
		FUZZ_CHECK(ipaddr_format(&ep.addr, buf, sizeof(buf)) != NULL, "format");
		struct ipaddr again;
		FUZZ_CHECK(ipaddr_parse(buf, strlen(buf), &again) == 0 &&
			       ipaddr_equal(&again, &ep.addr),
			   "\"%s\" formats as \"%s\", which does not parse back", s, buf);
		FUZZ_CHECK(ipaddr_in_prefix(&ep.addr, &ep.addr, ep.prefix_len),
			   "in its own prefix");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	if (size > 4096)
		return 0;
	char s[4097];
	memcpy(s, data, size);
	s[size] = '\0';
	if (memchr(data, '\0', size))
		return 0; /* argv strings hold none */

	check_time(s);
	check_endpoint(s);

	char err[512];
	uint16_t port;
	if (parse_port(s, &port, err, sizeof(err)) == 0) {
		FUZZ_CHECK(size >= 1 && size <= 5, "port \"%s\"", s);
	}
	uint8_t proto;
	(void)parse_proto(s, &proto, err, sizeof(err));
	uint64_t bytes;
	(void)parse_size(s, &bytes);

	struct ipaddr a;
	if (ipaddr_parse(s, size, &a) == 0) {
		char buf[64];
		ipaddr_format(&a, buf, sizeof(buf));
		struct ipaddr b;
		FUZZ_CHECK(ipaddr_parse(buf, strlen(buf), &b) == 0 && ipaddr_equal(&a, &b),
			   "\"%s\" -> \"%s\"", s, buf);
	}

	uint64_t t;
	if (csv_parse_time(s, &t) == 0) {
		char buf[32];
		csv_format_time(buf, sizeof(buf), t);
		FUZZ_CHECK(strcmp(buf, s) == 0, "the time \"%s\" formats back as \"%s\"", s, buf);
	}

	uint64_t seq, tns;
	enum log_format f;
	bool zst;
	if (segment_name_parse(s, &tns, &seq, &f, &zst)) {
		/* the name it would be written under says the same */
		char name[SEGMENT_NAME_MAX + 32];
		segment_name(name, sizeof(name), tns, seq, f);
		uint64_t seq2, tns2;
		enum log_format f2;
		FUZZ_CHECK(segment_name_parse(name, &tns2, &seq2, &f2, NULL) && seq2 == seq &&
			       tns2 == tns && f2 == f,
			   "segment \"%s\" is written \"%s\", which reads differently", s, name);
	}

	char val[64];
	if (detail_get(s, "epoch", val, sizeof(val))) {
		/* what it found was written as epoch=VALUE */
		char want[80];
		snprintf(want, sizeof(want), "epoch=%s", val);
		FUZZ_CHECK(strstr(s, want) != NULL, "\"%s\": epoch \"%s\"", s, val);
	}
	uint8_t key0[SEAL_KEY_LEN];
	(void)seal_verify_key_parse(s, key0);
	return 0;
}
