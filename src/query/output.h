/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Output helpers shared by the investigation commands: JSON and CSV values,
 * aligned tables, times, usage errors.
 *
 * What a command prints cannot act on a terminal (util/escape.h,
 * escape_display): text from the log is shown as the log shows it, with its
 * own "\xHH" escapes, and anything a well-formed log never holds (a raw
 * control byte, invalid UTF-8, a C1 control, U+2028/U+2029, a bidirectional
 * override, isolate or mark: an old or a forged log) as the escape the log
 * would have given it. out_flush applies this to everything written, table
 * cells are measured after it.
 *
 * JSON strings carry the same text: '"' and '\' are escaped, so a log's
 * "\xHH" is "\\xHH" in the JSON source and the four characters \xHH in the
 * decoded string; a raw control, invalid byte or unsafe code point is written
 * the same way (ESC as "\\x1b", never \u001b), so the output is always valid
 * JSON and its decoded strings hold no control character either.
 */
#ifndef ONMITSU_QUERY_OUTPUT_H
#define ONMITSU_QUERY_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/strbuf.h"

#define DEFAULT_LOG_DIR "/var/log/onmitsu"

enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON };

void json_str(struct strbuf *sb, const char *s);
/* null for NULL or "" */
void json_str_or_null(struct strbuf *sb, const char *s);
/* null for a negative value */
void json_int_or_null(struct strbuf *sb, int64_t v);
/* one CSV field, RFC 4180-quoted when it must be */
void csv_field(struct strbuf *sb, const char *s);
/* a number; an empty field for a negative value */
void csv_int(struct strbuf *sb, int64_t v);

/* 2026-11-25T19:13:17.123456Z; "" for 0 */
const char *time_text(char *buf, size_t size, uint64_t t_ns);
#define TIME_TEXT_SIZE 40

/* Write sb, as escape_display shows it, to out and empty it once it holds
 * more than a chunk (force: always). Returns -1 when writing failed. */
int out_flush(struct strbuf *sb, FILE *out, bool force);

/*
 * An aligned table: columns separated by two spaces, the last one not padded.
 * Each row may carry lines printed after it as they are (details, chains).
 */
struct table;
struct table *table_new(size_t ncols, const char *const *headers);
void table_add(struct table *t, const char *const *cells, const char *after);
void table_print(struct table *t, struct strbuf *out);
/* Columns at least this wide (a stream of tables that line up), and the
 * rows without the header line. */
void table_min_width(struct table *t, const size_t *width);
void table_print_rows(struct table *t, struct strbuf *out, bool header);
void table_free(struct table *t);

/* "onmitsu CMD: message" and the --help hint on stderr; returns 2. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
