/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Small log directories for the tests of the log's listing and of verify:
 * logs written by the real writer into a temporary directory, files read,
 * edited and written back whole.
 */
#ifndef ONMITSU_TEST_LOG_FIXTURE_H
#define ONMITSU_TEST_LOG_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/record.h"
#include "log/seal.h"
#include "log/verify.h"
#include "log/writer.h"
#include "util/strbuf.h"

#define LF_T0 1795633997123456000ull /* 2026-11-25T19:13:17.123456Z */

static inline char *lf_tmpdir(void)
{
	char tmpl[] = "/tmp/onmitsu-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

/* rm -r: dir and what is in it (files, links, FIFOs, subdirectories, also
 * ones a test made unreadable or append-only) */
static inline void lf_rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char p[8192];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
				chmod(p, 0700);
				lf_rm_rf(p);
				continue;
			}
			int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0) {
				int fl = 0;
				if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0 && (fl & FS_APPEND_FL)) {
					fl &= ~FS_APPEND_FL;
					ioctl(fd, FS_IOC_SETFLAGS, &fl);
				}
				close(fd);
			}
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* the first size - 1 bytes of path, NUL-terminated: 0, or -1 */
static inline int lf_slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? -1 : 0;
}

static inline int lf_read(const char *path, struct strbuf *out)
{
	sb_reset(out);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(out, buf, n);
	fclose(f);
	return 0;
}

static inline int lf_write(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	size_t w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

static inline void lf_opts(struct log_writer_opts *o, uint64_t rotate_size, const char *key)
{
	log_writer_opts_default(o);
	o->rotate_size = rotate_size;
	o->rotate_age = 0;
	o->compress_level = 0; /* the tests look at plain files */
	o->keep_size = 0;
	o->keep_age = 0;
	o->seal_key = key;
}

/* START, STOP, or an EXEC of /bin/progI with pid 1000+I */
static inline void lf_append(struct log_writer *w, enum om_event e, uint64_t t, int i)
{
	struct om_record r;
	om_record_init(&r, e);
	r.time_ns = t;
	char exe[64], args[64];
	int n = snprintf(args, sizeof(args), "/bin/prog%d%c-x%c", i, 0, 0);
	snprintf(exe, sizeof(exe), "/bin/prog%d", i);
	if (e == OM_EVENT_EXEC) {
		r.pid = 1000 + i;
		r.ppid = 1;
		r.exe = exe;
		r.exe_len = strlen(exe);
		r.args = args;
		r.args_len = (size_t)n;
		r.has_cmdline = true;
	} else {
		r.pid = 42;
		r.detail = "events=0";
	}
	/* START says what the recorder's does: the log's settings, the key's
	 * epoch, the gap since the last run */
	struct strbuf d = STRBUF_INIT;
	if (e == OM_EVENT_START) {
		sb_adds(&d, "version=test");
		log_writer_start_detail(w, &d, t);
		r.detail = d.data;
	}
	log_writer_append(w, &r);
	sb_free(&d);
}

/* One run into dir: START, n EXEC (pids 1000+first..), STOP, from time t;
 * crash: no STOP and no final seal, as if killed. 0 when the writer worked. */
static inline int lf_run(const char *dir, uint64_t t, int first, int n, uint64_t rotate_size,
			 const char *key, bool crash)
{
	struct log_writer_opts o;
	lf_opts(&o, rotate_size, key);
	struct log_writer w;
	if (log_writer_open(&w, dir, &o) != 0)
		return -1;
	lf_append(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < n; i++)
		lf_append(&w, OM_EVENT_EXEC, t += 1000000, first + i);
	int rc;
	if (crash) {
		rc = log_writer_flush(&w);
		w.sealing = false; /* close writes no seal: what a kill leaves */
	} else {
		lf_append(&w, OM_EVENT_STOP, t += 1000000, 0);
		rc = log_writer_sync(&w);
	}
	log_writer_close(&w);
	return rc;
}

/* A fresh sealing key in DIR.key; key0 gets the verification key. */
static inline int lf_keygen(const char *dir, char *keyfile, size_t size, uint8_t key0[SEAL_KEY_LEN])
{
	snprintf(keyfile, size, "%s.key", dir);
	struct seal_key k;
	if (seal_key_generate(&k) != 0)
		return -1;
	memcpy(key0, k.key, SEAL_KEY_LEN);
	int rc = seal_key_store(keyfile, &k, NULL, 0);
	seal_key_wipe(&k);
	return rc;
}

/* verify (key0 or NULL) with its report kept in *report (malloc'ed) */
static inline int lf_verify(const char *dir, const uint8_t *key0, struct verify_result *res,
			    char **report)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = log_verify(dir, key0, f, res);
	fclose(f);
	if (report)
		*report = buf;
	else
		free(buf);
	return rc;
}

#endif
