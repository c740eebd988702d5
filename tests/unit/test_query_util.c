/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers for the query tests (declared in test_query_util.h):
 * run a subcommand with its stdout and stderr captured, and build log
 * directories in a temporary place.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "test.h"
#include "test_query_util.h"

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (len + 1024 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Run fn(argv) (argv NULL-terminated) with stdout/stderr captured into
 * *out / *err (malloc'd). Returns fn's result. */
int tq_run(int (*fn)(int, char **), const char *const *argv, char **out, char **err)
{
	int argc = 0;
	char *args[64];
	while (argv[argc] && argc < 63) {
		args[argc] = (char *)argv[argc];
		argc++;
	}
	args[argc] = NULL;
	char out_path[] = "/tmp/onmitsu-test-out-XXXXXX";
	char err_path[] = "/tmp/onmitsu-test-err-XXXXXX";
	int ofd = mkstemp(out_path), efd = mkstemp(err_path);
	unlink(out_path);
	unlink(err_path);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	dup2(ofd, 1);
	dup2(efd, 2);
	int rc = fn(argc, args);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	*out = slurp_fd(ofd);
	*err = slurp_fd(efd);
	close(ofd);
	close(efd);
	return rc;
}

/* A fresh empty directory; returns its path (static storage, one per call
 * site is enough: the tests use at most a few at once). */
char *tq_tempdir(void)
{
	char tmpl[] = "/tmp/onmitsu-test-log-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

void tq_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

void tq_write_str(const char *dir, const char *name, const char *text)
{
	tq_write(dir, name, text, strlen(text));
}

/* Write text zstd-compressed; cut: write only the first cut bytes (0: all).
 * Returns the size of the whole compressed text. */
size_t tq_write_zst(const char *dir, const char *name, const char *text, size_t cut)
{
	size_t n = strlen(text);
	size_t bound = ZSTD_compressBound(n);
	void *buf = malloc(bound);
	size_t z = ZSTD_compress(buf, bound, text, n, 3);
	if (ZSTD_isError(z))
		z = 0;
	else
		tq_write(dir, name, buf, cut && cut < z ? cut : z);
	free(buf);
	return z;
}

void tq_rmdir(char *dir)
{
	if (!dir)
		return;
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char path[512];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

char *tq_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 1024) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

int tq_count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* The path of a fixture under tests/data/query. */
const char *tq_fixture(const char *name)
{
	static char buf[4][512];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, 512, "%s/query/%s", test_data_dir(), name);
	return p;
}
