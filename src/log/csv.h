/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The CSV log format (docs/DESIGN.md, docs/FORMAT.md): one header line, then one
 * record per line, in log/schema.h's columns. Text fields are escaped
 * (util/escape.h), then RFC 4180 quoting applies to the field as a whole
 * (quoted when it holds a comma or a double quote; inner quotes doubled).
 */
#ifndef ONMITSU_CSV_H
#define ONMITSU_CSV_H

#include <stddef.h>

#include "log/record.h"
#include "util/strbuf.h"

/* Append one record line, with its "\n". */
void csv_encode(struct strbuf *out, const struct om_record *r);

/* Append fields[0..n) as one CSV line, quoting each as needed, without the
 * "\n". The fields are display text (already escaped), as csv_split gives. */
void csv_encode_fields(struct strbuf *out, const char *const *fields, size_t n);

/* Format t (Unix ns) as 2026-11-25T19:13:17.123456Z into buf (>= 28 bytes). */
void csv_format_time(char *buf, size_t size, uint64_t t_ns);
/* Parse that form back; returns 0 or -1. */
int csv_parse_time(const char *s, uint64_t *t_ns);

/*
 * Split one line (without its "\n") into fields, in place: undoes RFC 4180
 * quoting, NUL-terminates each field and stores pointers in fields[].
 * Returns the number of fields (which may exceed max; only max are stored),
 * or -1 when the quoting is malformed.
 * Escapes (\xHH) are left as they are: they are the display form.
 */
int csv_split(char *line, size_t len, char **fields, size_t max);

#endif
