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

#include <stdio.h>

#include "log/segment.h"

/* 0 ok, 1 when a segment or line could not be read (reported on stderr,
 * with its file and line) or the output failed. */
int log_cat(const char *dir, enum log_format out_format, FILE *out);

/* Which format the log in dir is written in; -1 when there is none. */
int log_dir_format(const char *dir);

#endif
