/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the libFuzzer harnesses share (tests/fuzz/README.md): a private
 * scratch directory made once per process, writing a file in it, and
 * checks that abort (so libFuzzer keeps the input as a crash) with a
 * message that says which property broke.
 */
#ifndef ONMITSU_FUZZ_H
#define ONMITSU_FUZZ_H

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* The entry point libFuzzer calls with each input; each harness defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__,    \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The program's own warnings would flood the fuzzer's output: drop them
 * (fatal errors still exit, which libFuzzer reports). */
static inline void fuzz_quiet(void)
{
	log_verbosity = -1;
}

/* A fresh directory of this process's own under $TMPDIR (default /tmp),
 * removed at exit; made once. */
static char fuzz_dir_path[256];

static void fuzz_dir_clean(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

static void fuzz_dir_remove(void)
{
	if (!fuzz_dir_path[0])
		return;
	fuzz_dir_clean(fuzz_dir_path);
	rmdir(fuzz_dir_path);
}

static inline const char *fuzz_dir(void)
{
	if (!fuzz_dir_path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/onmitsu-fuzz.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(fuzz_dir_path)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_dir_remove);
	}
	return fuzz_dir_path;
}

/* Empty the scratch directory and return it. */
static inline const char *fuzz_dir_fresh(void)
{
	const char *d = fuzz_dir();
	fuzz_dir_clean(d);
	return d;
}

/* Write p[0..n) to dir/name; aborts on failure (the harness, not the
 * program, is broken then). */
static inline void fuzz_write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	const char *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w <= 0) {
			perror(path);
			abort();
		}
		b += w;
		n -= (size_t)w;
	}
	close(fd);
}

#endif
