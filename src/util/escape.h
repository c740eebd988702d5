/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DESIGN.md's text escaping. Every byte below 0x20, 0x7f, the backslash and
 * every byte that is not part of valid UTF-8 becomes "\xHH" (lowercase hex);
 * everything else is copied. So "\x" always starts an escape and an escaped
 * value never holds a newline.
 *
 * cmdline: each argument escaped as above; an argument that is empty or holds
 * a space or a double quote is wrapped in double quotes, each double quote
 * inside it written \x22; arguments joined by single spaces.
 */
#ifndef ONMITSU_ESCAPE_H
#define ONMITSU_ESCAPE_H

#include <stddef.h>

#include "util/strbuf.h"

/* Append the escaped form of p[0..n) to out. */
void escape_text(struct strbuf *out, const void *p, size_t n);

/* Undo escape_text: append the raw bytes to out. Returns 0, or -1 when s
 * holds a malformed escape (a "\" not followed by "x" and two hex digits). */
int unescape_text(struct strbuf *out, const char *s, size_t n);

/* args: arguments, each terminated by NUL (as in /proc/PID/cmdline and the
 * kernel's argument area). A final argument without its NUL is taken as it
 * is (argv cut short). Appends the cmdline form to out. */
void cmdline_encode(struct strbuf *out, const char *args, size_t len);

/* Undo cmdline_encode: append the arguments, each NUL-terminated, to out.
 * Returns the number of arguments, or -1 when s is malformed. */
int cmdline_decode(struct strbuf *out, const char *s, size_t n);

#endif
