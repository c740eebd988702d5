/* SPDX-License-Identifier: BSD-2-Clause */
/* util/hex, util/time and util/privs: the helpers the rest of the tree shares. */
#include <unistd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include "test.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/privs.h"
#include "util/time.h"

TEST(hex_digit_both_cases_and_nothing_else)
{
	CHECK_EQ_INT(hex_digit('0'), 0);
	CHECK_EQ_INT(hex_digit('9'), 9);
	CHECK_EQ_INT(hex_digit('a'), 10);
	CHECK_EQ_INT(hex_digit('F'), 15);
	const char *bad = "gG/:@`xX -";
	for (const char *p = bad; *p; p++)
		CHECK_EQ_INT(hex_digit(*p), -1);
	CHECK_EQ_INT(hex_digit('\0'), -1);
	CHECK_EQ_INT(hex_digit(0xe9), -1);
	CHECK_EQ_INT(hex_digit((char)0xb0), -1); /* a negative char */
}

TEST(hex_encode_decode_round_trip)
{
	uint8_t in[256], back[256];
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	char text[513];
	hex_encode(text, in, sizeof(in));
	CHECK_EQ_INT(strlen(text), 512);
	CHECK(strncmp(text, "000102", 6) == 0);
	CHECK(strcmp(text + 506, "fdfeff") == 0);
	CHECK(hex_is_lower(text, 512));
	CHECK_EQ_INT(hex_decode(back, text, sizeof(back)), 0);
	CHECK_EQ_MEM(back, sizeof(back), in, sizeof(in));

	uint8_t b[2];
	CHECK_EQ_INT(hex_decode(b, "AbcD", 2), 0);
	CHECK_EQ_INT(b[0], 0xab);
	CHECK_EQ_INT(b[1], 0xcd);
	CHECK_EQ_INT(hex_decode(b, "0g12", 2), -1);
	CHECK_EQ_INT(hex_decode(b, "12 3", 2), -1);
	CHECK_EQ_INT(hex_decode(b, "", 0), 0);
	CHECK(!hex_is_lower("00A0", 4));
	CHECK(!hex_is_lower("0x", 2));
	CHECK(hex_is_lower("", 0));
}

/* Expected values computed independently: `date -u -d Y-M-D +%s` / 86400. */
TEST(days_from_civil_known_dates)
{
	CHECK_EQ_INT(days_from_civil(1970, 1, 1), 0);
	CHECK_EQ_INT(days_from_civil(1969, 12, 31), -1);
	CHECK_EQ_INT(days_from_civil(2000, 2, 29), 11016);
	CHECK_EQ_INT(days_from_civil(2000, 3, 1), 11017);
	CHECK_EQ_INT(days_from_civil(2026, 11, 25), 20782);
	CHECK_EQ_INT(days_from_civil(2100, 3, 1), 47541);
	CHECK_EQ_INT(days_from_civil(1900, 3, 1), -25508);
}

TEST(days_in_month_gregorian_leap_years)
{
	CHECK_EQ_INT(days_in_month(2026, 1), 31);
	CHECK_EQ_INT(days_in_month(2026, 2), 28);
	CHECK_EQ_INT(days_in_month(2024, 2), 29);
	CHECK_EQ_INT(days_in_month(2000, 2), 29);
	CHECK_EQ_INT(days_in_month(2100, 2), 28);
	CHECK_EQ_INT(days_in_month(2026, 4), 30);
	CHECK_EQ_INT(days_in_month(2026, 12), 31);
}

TEST(clocks_agree_with_clock_gettime)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t before = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint64_t now = now_unix_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t after = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	CHECK(before <= now && now <= after);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t mb = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	uint64_t m = now_mono_ms();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ma = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	CHECK(mb <= m && m <= ma);
}

/* One "Name:\tvalue" line of /proc/thread-self/status, as a number in base. */
static int thread_status(const char *name, int base, unsigned long long *v)
{
	FILE *f = fopen("/proc/thread-self/status", "re");
	if (!f)
		return -1;
	char line[256];
	size_t n = strlen(name);
	int rc = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			*v = strtoull(line + n + 1, NULL, base);
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

struct caps_seen {
	int rc;
	unsigned long long eff, prm, bnd, nnp;
};

static void *keep_immutable(void *arg)
{
	struct caps_seen *s = arg;
	thread_keep_capability(CAP_LINUX_IMMUTABLE);
	s->rc = thread_status("CapEff", 16, &s->eff) | thread_status("CapPrm", 16, &s->prm) |
		thread_status("CapBnd", 16, &s->bnd) | thread_status("NoNewPrivs", 10, &s->nnp);
	return NULL;
}

/* Capabilities are per thread: done in a thread of its own, so that the
 * test runner keeps what it has. */
TEST(thread_keep_capability_keeps_one_in_its_thread_only)
{
	unsigned long long eff_before, eff_after;
	CHECK_EQ_INT(thread_status("CapEff", 16, &eff_before), 0);
	struct caps_seen s = {.rc = -1};
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, keep_immutable, &s), 0);
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_EQ_INT(s.rc, 0);
	CHECK_EQ_INT(s.nnp, 1);
	CHECK_EQ_INT(s.bnd, 1ull << CAP_LINUX_IMMUTABLE);
	if (eff_before & (1ull << CAP_SETPCAP)) { /* root: the one is kept */
		CHECK_EQ_INT(s.eff, 1ull << CAP_LINUX_IMMUTABLE);
		CHECK_EQ_INT(s.prm, 1ull << CAP_LINUX_IMMUTABLE);
	} else {
		CHECK_EQ_INT(s.eff, eff_before & (1ull << CAP_LINUX_IMMUTABLE));
	}
	CHECK_EQ_INT(thread_status("CapEff", 16, &eff_after), 0);
	CHECK_EQ_INT(eff_after, eff_before);
}

TEST(log_messages_reach_stderr_escaped)
{
	/* a hostile name in a warning cannot act on the terminal */
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	CHECK(saved >= 0 && tmp);
	dup2(fileno(tmp), 2);
	log_warnx("bad segment %s here", "a\x1b[31mb\xe2\x80\xae"
					 "c\x85"
					 "d\n");
	log_warnx("plain %s", "name");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[512] = {0};
	rewind(tmp);
	size_t n = fread(buf, 1, sizeof(buf) - 1, tmp);
	fclose(tmp);
	CHECK_EQ_STR(buf, "onmitsu: bad segment a\\x1b[31mb\\xe2\\x80\\xaec\\x85d\\x0a here\n"
			  "onmitsu: plain name\n");
	CHECK(n > 0);
}
