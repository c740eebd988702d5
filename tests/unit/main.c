/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static struct test_case *tests;

void test_register(struct test_case *tc)
{
	tc->next = tests;
	tests = tc;
}

const char *test_data_dir(void)
{
	const char *d = getenv("ONMITSU_TEST_DATA");
	return d ? d : "tests/data";
}

int main(int argc, char **argv)
{
	/* registration order is reversed by the list; restore file order */
	struct test_case *rev = NULL;
	while (tests) {
		struct test_case *n = tests->next;
		tests->next = rev;
		rev = tests;
		tests = n;
	}
	int passed = 0, failed = 0;
	for (struct test_case *t = rev; t; t = t->next) {
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		int f = 0;
		t->fn(&f);
		if (f) {
			printf("FAIL %s\n", t->name);
			failed++;
		} else {
			printf("ok   %s\n", t->name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
