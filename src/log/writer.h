/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The log writer: DIR/onmitsu.csv, header then records, numbered by a
 * gap-free seq that continues across restarts. Records are encoded into a
 * buffer and written by log_writer_flush (the recorder flushes at least once
 * a second and on stop). A torn last line left by a crash is cut at open.
 */
#ifndef ONMITSU_WRITER_H
#define ONMITSU_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "log/record.h"
#include "util/strbuf.h"

#define LOG_ACTIVE_NAME "onmitsu.csv"
#define LOG_BUFFER_MAX (64u << 20) /* bytes held while the disk refuses writes */

struct log_writer {
	char *dir;
	int dirfd;
	int fd;
	uint64_t next_seq;
	uint64_t torn_bytes;   /* cut from a torn last line at open */
	uint64_t last_time_ns; /* time of the last record found at open (0: none) */
	uint64_t dropped;      /* records dropped because the buffer was full */
	uint64_t bytes_written;
	uint64_t records;
	bool write_failing;
	struct strbuf buf;
};

/* Create DIR (mode 0700) if needed and open the active log. On failure
 * prints why, naming the path, and returns -1. */
int log_writer_open(struct log_writer *w, const char *dir);

/* Give r the next seq and encode it into the buffer. */
void log_writer_append(struct log_writer *w, struct om_record *r);

/* Write what is buffered; 0, or -1 (kept for the next try, warned once). */
int log_writer_flush(struct log_writer *w);

/* Flush and fsync. */
int log_writer_sync(struct log_writer *w);

void log_writer_close(struct log_writer *w);

#endif
