/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the files of the log writer share (writer.c: the core; writer_recover.c:
 * recovery at open; writer_keeper.c: the keeper thread; writer_maint.c: the
 * compressor thread). Private: included only by them, never installed.
 */
#ifndef ONMITSU_WRITER_IMPL_H
#define ONMITSU_WRITER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "log/writer.h"

/* writer.c */
/* The header line of the current format ("" for JSON Lines). */
void write_header(struct strbuf *out, enum log_format f, bool with_chain);

/* writer_recover.c */
/* What open found in the active segment. */
struct active_scan {
	bool old_header; /* a log from before the chain column */
	bool has_records;
	struct log_tail first, last;
};

/* Find what the last run left (writer_recover.c; see log_writer_open). */
int recover_last(struct log_writer *w, const char *path, struct active_scan *s,
		 struct log_tail *last);
int cut_torn_line(struct log_writer *w);

/* writer_keeper.c */
void *keeper_main(void *arg);
/* Set or lift FS_APPEND_FL through the keeper (which keeps the capability). */
int append_flag(struct log_writer *w, int fd, bool on);
void set_append_only(struct log_writer *w);

/* writer_maint.c */
void *compressor_main(void *arg);

#endif
