/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A very small unit-test harness. A test is
 *     TEST(name) { CHECK(cond); CHECK_EQ_INT(a, b); CHECK_EQ_STR(a, b); ... }
 * Tests register themselves; tests/unit/main.c runs them all (or those whose
 * name contains argv[1]) and ends with "N passed, N failed".
 * A failed CHECK reports file:line and the values, and ends that test.
 */
#ifndef ONMITSU_TEST_H
#define ONMITSU_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(int *failed);
	struct test_case *next;
};

void test_register(struct test_case *tc);

/* The fixture directory: tests/data, or $ONMITSU_TEST_DATA when set. */
const char *test_data_dir(void);

#define TEST(name)                                                                                 \
	static void test_fn_##name(int *test_failed_);                                             \
	static struct test_case test_case_##name = {#name, test_fn_##name, NULL};                  \
	__attribute__((constructor)) static void test_reg_##name(void)                             \
	{                                                                                          \
		test_register(&test_case_##name);                                                  \
	}                                                                                          \
	static void test_fn_##name(int *test_failed_)

#define TEST_FAIL_(...)                                                                            \
	do {                                                                                       \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                  \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, "\n");                                                             \
		*test_failed_ = 1;                                                                 \
		return;                                                                            \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			TEST_FAIL_("CHECK(%s) failed", #cond);                                     \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			TEST_FAIL_("%s == %s failed: %lld != %lld", #a, #b, a_, b_);               \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
			TEST_FAIL_("%s == %s failed:\n    got:  \"%s\"\n    want: \"%s\"", #a, #b, \
				   a_ ? a_ : "(null)", b_ ? b_ : "(null)");                        \
	} while (0)

#define CHECK_EQ_MEM(a, alen, b, blen)                                                             \
	do {                                                                                       \
		size_t al_ = (alen), bl_ = (blen);                                                 \
		if (al_ != bl_ || memcmp((a), (b), al_) != 0)                                      \
			TEST_FAIL_("%s (%zu bytes) != %s (%zu bytes)", #a, al_, #b, bl_);          \
	} while (0)

#endif
