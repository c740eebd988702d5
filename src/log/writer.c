/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/csv.h"
#include "util/log.h"

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * Check the header, cut a torn last line, and find the last record's seq
 * and time so that numbering continues.
 */
static int recover(struct log_writer *w, const char *path)
{
	struct stat st;
	if (fstat(w->fd, &st) != 0) {
		log_warn("cannot stat %s", path);
		return -1;
	}
	if (st.st_size == 0)
		return 0;

	struct strbuf want = STRBUF_INIT;
	csv_write_header(&want);
	char head[1024];
	ssize_t n = pread(w->fd, head, want.len < sizeof(head) ? want.len : sizeof(head), 0);
	if (n != (ssize_t)want.len || memcmp(head, want.data, want.len) != 0) {
		log_warnx("%s exists but does not start with onmitsu's CSV header; "
			  "move it away or choose another --log-dir",
			  path);
		sb_free(&want);
		return -1;
	}
	sb_free(&want);

	/* read the tail: the last complete line and anything after it */
	off_t size = st.st_size;
	size_t tail_len = size > 65536 ? 65536 : (size_t)size;
	char *tail = malloc(tail_len + 1);
	if (!tail)
		fatal("out of memory");
	if (pread(w->fd, tail, tail_len, size - (off_t)tail_len) != (ssize_t)tail_len) {
		log_warn("cannot read the end of %s", path);
		free(tail);
		return -1;
	}
	tail[tail_len] = '\0';
	size_t end = tail_len;
	while (end > 0 && tail[end - 1] != '\n')
		end--;
	if (end < tail_len) {
		/* a torn line: the recorder died in the middle of a write */
		w->torn_bytes = tail_len - end;
		if (end == 0 && size > (off_t)tail_len) {
			log_warnx("%s ends in a line longer than 64 KiB; not a log onmitsu wrote", path);
			free(tail);
			return -1;
		}
		if (ftruncate(w->fd, size - (off_t)w->torn_bytes) != 0) {
			log_warn("cannot cut the torn last line of %s", path);
			free(tail);
			return -1;
		}
		log_warnx("cut a torn last line of %" PRIu64 " bytes from %s", w->torn_bytes, path);
	}
	/* the last complete line */
	if (end > 0) {
		size_t ls = end - 1;
		while (ls > 0 && tail[ls - 1] != '\n')
			ls--;
		char *fields[4];
		int nf = csv_split(tail + ls, end - 1 - ls, fields, 4);
		if (nf >= 2 && strcmp(fields[0], "time") != 0) {
			char *e;
			errno = 0;
			unsigned long long seq = strtoull(fields[1], &e, 10);
			if (errno || *e || e == fields[1]) {
				log_warnx("the last record of %s has a bad seq \"%s\"", path, fields[1]);
				free(tail);
				return -1;
			}
			w->next_seq = seq + 1;
			uint64_t t;
			if (csv_parse_time(fields[0], &t) == 0)
				w->last_time_ns = t;
		}
	}
	free(tail);
	return 0;
}

int log_writer_open(struct log_writer *w, const char *dir)
{
	memset(w, 0, sizeof(*w));
	w->fd = w->dirfd = -1;
	if (mkdir_p(dir, 0700) != 0) {
		log_warn("cannot create the log directory %s", dir);
		return -1;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		log_warn("cannot open the log directory %s", dir);
		return -1;
	}
	w->dir = strdup(dir);
	if (!w->dir)
		fatal("out of memory");
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, LOG_ACTIVE_NAME);
	w->fd = openat(w->dirfd, LOG_ACTIVE_NAME, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		log_warn("cannot open the log %s", path);
		return -1;
	}
	/* one recorder per log directory: a second one would interleave records */
	if (flock(w->fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			log_warnx("another onmitsu is already recording into %s; stop it first or "
				  "choose another --log-dir",
				  dir);
		else
			log_warn("cannot lock the log %s", path);
		return -1;
	}
	if (recover(w, path) != 0)
		return -1;
	struct stat st;
	if (fstat(w->fd, &st) == 0 && st.st_size == 0) {
		csv_write_header(&w->buf);
		if (log_writer_flush(w) != 0) {
			log_warn("cannot write to the log %s", path);
			return -1;
		}
	}
	return 0;
}

void log_writer_append(struct log_writer *w, struct om_record *r)
{
	if (w->buf.len > LOG_BUFFER_MAX) {
		/* the disk has refused writes for long: count what cannot be kept */
		w->dropped++;
		w->next_seq++;
		return;
	}
	r->seq = w->next_seq++;
	csv_encode(&w->buf, r);
	w->records++;
}

int log_writer_flush(struct log_writer *w)
{
	size_t off = 0;
	while (off < w->buf.len) {
		ssize_t n = write(w->fd, w->buf.data + off, w->buf.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!w->write_failing)
				log_warn("cannot write to the log in %s (records are kept in memory "
					 "and written when it works again)",
					 w->dir);
			w->write_failing = true;
			/* keep what was not written */
			memmove(w->buf.data, w->buf.data + off, w->buf.len - off);
			w->buf.len -= off;
			w->buf.data[w->buf.len] = '\0';
			return -1;
		}
		off += (size_t)n;
		w->bytes_written += (uint64_t)n;
	}
	if (w->write_failing)
		log_warnx("writing to the log in %s works again", w->dir);
	w->write_failing = false;
	sb_reset(&w->buf);
	return 0;
}

int log_writer_sync(struct log_writer *w)
{
	int r = log_writer_flush(w);
	if (w->fd >= 0 && fsync(w->fd) != 0) {
		log_warn("cannot fsync the log in %s", w->dir);
		r = -1;
	}
	return r;
}

void log_writer_close(struct log_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->dir);
	sb_free(&w->buf);
	w->fd = w->dirfd = -1;
	w->dir = NULL;
}
