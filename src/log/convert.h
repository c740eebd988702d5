/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `onmitsu cat --format csv|jsonl`: every record of a log directory, all
 * segments in order, plain or compressed, CSV or JSON Lines, written in the
 * format asked for. Conversion is lossless both ways (docs/FORMAT.md, "JSON
 * Lines"); chain values are carried as they are, and verify only in the
 * format the log was recorded in.
 */
#ifndef ONMITSU_CONVERT_H
#define ONMITSU_CONVERT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "log/segment.h"

/* 0 ok, 1 when a segment or line could not be read (reported on stderr,
 * with its file and line) or the output failed. */
int log_cat(const char *dir, enum log_format out_format, FILE *out);

/* Where cat starts: the first record of at least seq from_seq and of time
 * since_ns or later (0: the start of the log); every record after it. */
struct log_cat_filter {
	uint64_t from_seq;
	uint64_t since_ns;
};
int log_cat_filtered(const char *dir, enum log_format out_format,
		     const struct log_cat_filter *filter, FILE *out);

/*
 * `cat --follow`: the records from filter's start, then each record as the
 * recorder writes it, across rotations and compression (a segment renamed
 * is read to its end, one closed and compressed meanwhile from the listing,
 * every seq written once, in order), until *stop is set or the output fails
 * (a closed pipe). Looks every FOLLOW_POLL_MS (100 ms). want: a format, or
 * -1 for the log's own. Waits for a log that is not there yet. 0, or 1 when
 * the directory cannot be read.
 */
int log_follow(const char *dir, int want, const struct log_cat_filter *filter, FILE *out,
	       volatile sig_atomic_t *stop);

/*
 * The same walk, for a command that reads the records as they come (`who
 * --follow`): fn gets each record, parsed into columns (a JSON Lines record
 * as its CSV columns), in seq order, every seq once; fn returns nonzero to
 * stop (its output failed). Ends when *stop is set. 0, or 1 when the
 * directory cannot be read.
 */
struct log_line;
typedef int (*log_follow_fn)(const struct log_line *ln, void *arg);
int log_follow_each(const char *dir, const struct log_cat_filter *filter, log_follow_fn fn,
		    void *arg, volatile sig_atomic_t *stop);

/* Which format the log in dir is written in; -1 when there is none. */
int log_dir_format(const char *dir);

#endif
