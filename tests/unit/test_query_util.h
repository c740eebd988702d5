/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers for the query tests (tests/unit/test_query_util.c): run a
 * subcommand with its stdout and stderr captured, and build log directories
 * in a temporary place.
 */
#ifndef ONMITSU_TEST_QUERY_UTIL_H
#define ONMITSU_TEST_QUERY_UTIL_H

#include <stddef.h>

/* Run fn(argv) (argv NULL-terminated) with stdout/stderr captured into
 * *out / *err (malloc'd). Returns fn's result. */
int tq_run(int (*fn)(int, char **), const char *const *argv, char **out, char **err);
/* A fresh empty directory under /tmp (malloc'd path). */
char *tq_tempdir(void);
void tq_write(const char *dir, const char *name, const void *data, size_t len);
void tq_write_str(const char *dir, const char *name, const char *text);
/* Write text zstd-compressed; cut: write only the first cut bytes (0: all).
 * Returns the size of the whole compressed text. */
size_t tq_write_zst(const char *dir, const char *name, const char *text, size_t cut);
/* Remove the directory and what is in it; frees dir. */
void tq_rmdir(char *dir);
/* The whole file, NUL-terminated (malloc'd), or NULL. */
char *tq_read_file(const char *path);
int tq_count_lines(const char *s);
/* The path of a fixture under tests/data/query. */
const char *tq_fixture(const char *name);

#endif
