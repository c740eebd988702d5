/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the workload generators (bench/X.c) share. Each is built on its own
 * from one .c file (Makefile: bench/X.c -> build/bench/X), so the helpers
 * are static inline here rather than in an object of their own. prog is the
 * generator's name, which starts every message.
 */
#ifndef ONMITSU_BENCH_COMMON_H
#define ONMITSU_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A generator gives up after this long, so that a stuck run ends. */
#define DEADLINE_NS (120ULL * 1000000000ULL)

/* Monotonic, so that a clock step during a run does not skew elapsed_ns. */
static inline unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

/* The number in option what's argument s, lo..hi; else a message and exit 2,
 * the generators' exit status for a bad command line. */
static inline long parse_count(const char *prog, const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: %s \"%s\": want %ld..%ld\n", prog, what, s, lo, hi);
		exit(2);
	}
	return v;
}

/* An output file opened for writing, or NULL after saying why. */
static inline FILE *open_output(const char *prog, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	return f;
}

/* fclose, which is where a full disk shows: 0, or -1 after saying why. */
static inline int close_output(const char *prog, const char *path, FILE *f)
{
	if (fclose(f) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	return 0;
}

#endif
