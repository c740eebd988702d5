/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Process guid. The fixed expected values were computed once with Python's
 * hashlib and uuid modules from the derivation documented in guid.c, so a
 * change to the derivation (which would orphan every guid in old logs) fails
 * here.
 */
#include <stdint.h>
#include <string.h>

#include "record/guid.h"
#include "test.h"

static const uint8_t boot_a[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
				   0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

TEST(guid_fixed_values)
{
	char g[GUID_STR_LEN];
	guid_format(g, boot_a, 4242, 123456789);
	CHECK_EQ_STR(g, "ba501dff-650d-80c3-9a22-25fdacd70e4d");

	static const uint8_t zero[16] = {0};
	guid_format(g, zero, 1, 0);
	CHECK_EQ_STR(g, "d2940160-3a7d-8ea5-8fb1-691e8c3b5bc8");

	uint8_t ones[16];
	memset(ones, 0xff, sizeof(ones));
	guid_format(g, ones, UINT32_MAX, UINT64_MAX);
	CHECK_EQ_STR(g, "b69de503-cafc-84ac-85ff-43c2a4fc7546");
}

TEST(guid_deterministic)
{
	char a[GUID_STR_LEN], b[GUID_STR_LEN];
	guid_format(a, boot_a, 77, 1000);
	guid_format(b, boot_a, 77, 1000);
	CHECK_EQ_STR(a, b);
}

TEST(guid_inputs_all_matter)
{
	char base[GUID_STR_LEN], g[GUID_STR_LEN];
	guid_format(base, boot_a, 77, 1000);

	guid_format(g, boot_a, 78, 1000);
	CHECK(strcmp(g, base) != 0);
	/* a reused pid starts later: it must not get the old guid */
	guid_format(g, boot_a, 77, 1001);
	CHECK(strcmp(g, base) != 0);

	uint8_t boot_b[16];
	memcpy(boot_b, boot_a, 16);
	boot_b[15] ^= 1;
	guid_format(g, boot_b, 77, 1000);
	CHECK(strcmp(g, base) != 0);

	/* pid and ticks are fixed-width fields: moving a value from one to the
	 * other must change the id */
	guid_format(base, boot_a, 0, 1);
	guid_format(g, boot_a, 1, 0);
	CHECK(strcmp(g, base) != 0);
}

TEST(guid_shape_version_variant)
{
	uint8_t boot[16];
	memcpy(boot, boot_a, 16);
	for (uint32_t pid = 1; pid < 200; pid++) {
		char g[GUID_STR_LEN];
		boot[0] = (uint8_t)pid;
		guid_format(g, boot, pid, (uint64_t)pid * 7919);
		CHECK_EQ_INT(strlen(g), 36);
		for (int i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				CHECK(g[i] == '-');
			else
				CHECK((g[i] >= '0' && g[i] <= '9') || (g[i] >= 'a' && g[i] <= 'f'));
		}
		CHECK(g[14] == '8');
		CHECK(g[19] == '8' || g[19] == '9' || g[19] == 'a' || g[19] == 'b');

		uint8_t raw[16];
		CHECK_EQ_INT(uuid_parse(g, raw), 0);
		CHECK_EQ_INT(raw[6] >> 4, 8);
		CHECK_EQ_INT(raw[8] >> 6, 2);
	}
}

TEST(uuid_parse_good)
{
	uint8_t u[16];
	static const uint8_t want[16] = {0xba, 0x50, 0x1d, 0xff, 0x65, 0x0d, 0x80, 0xc3,
					 0x9a, 0x22, 0x25, 0xfd, 0xac, 0xd7, 0x0e, 0x4d};
	CHECK_EQ_INT(uuid_parse("ba501dff-650d-80c3-9a22-25fdacd70e4d", u), 0);
	CHECK_EQ_MEM(u, 16, want, 16);
	memset(u, 0, sizeof(u));
	CHECK_EQ_INT(uuid_parse("BA501DFF-650D-80C3-9A22-25FDACD70E4D", u), 0);
	CHECK_EQ_MEM(u, 16, want, 16);
	memset(u, 0, sizeof(u));
	CHECK_EQ_INT(uuid_parse("Ba501dFF-650d-80C3-9a22-25fdACd70e4d", u), 0);
	CHECK_EQ_MEM(u, 16, want, 16);

	/* the form /proc/sys/kernel/random/boot_id is read in, newline stripped */
	CHECK_EQ_INT(uuid_parse("00000000-0000-0000-0000-000000000000", u), 0);
	static const uint8_t zero[16] = {0};
	CHECK_EQ_MEM(u, 16, zero, 16);
}

TEST(uuid_parse_bad)
{
	static const char *const bad[] = {
	    "",
	    "ba501dff",
	    "ba501dff-650d-80c3-9a22-25fdacd70e4",    /* short */
	    "ba501dff-650d-80c3-9a22-25fdacd70e4d0",  /* long */
	    "ba501dff-650d-80c3-9a22-25fdacd70e4d\n", /* trailing newline */
	    " ba501dff-650d-80c3-9a22-25fdacd70e4d",
	    "{ba501dff-650d-80c3-9a22-25fdacd70e4d}",
	    "ba501dff650d80c39a2225fdacd70e4d", /* no dashes */
	    "ba501dff-650d80c3-9a22-25fdacd70e4d-",
	    "ba501dff_650d_80c3_9a22_25fdacd70e4d",
	    "ba501dfg-650d-80c3-9a22-25fdacd70e4d", /* 'g' */
	    "ba501dff-650d-80c3-9a22-25fdacd70e-d",
	    "-ba501dff-650d-80c3-9a22-25fdacd70e4",
	    "+a501dff-650d-80c3-9a22-25fdacd70e4d",
	    "0xa501df-650d-80c3-9a22-25fdacd70e4d",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t u[16];
		memset(u, 0x5a, sizeof(u));
		if (uuid_parse(bad[i], u) != -1)
			TEST_FAIL_("accepted bad uuid #%zu \"%s\"", i, bad[i]);
		/* a failed parse leaves the output alone */
		for (int j = 0; j < 16; j++)
			CHECK_EQ_INT(u[j], 0x5a);
	}
}

TEST(guid_ticks_from_ns)
{
	CHECK_EQ_INT(guid_ticks_from_ns(0), 0);
	CHECK_EQ_INT(guid_ticks_from_ns(9999999), 0);
	CHECK_EQ_INT(guid_ticks_from_ns(10000000), 1);
	CHECK_EQ_INT(guid_ticks_from_ns(12345678901ull), 1234);
}
