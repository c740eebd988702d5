/* SPDX-License-Identifier: BSD-2-Clause */
/* Hexadecimal: what the log writes is lowercase; what is read may be either case. */
#ifndef ONMITSU_UTIL_HEX_H
#define ONMITSU_UTIL_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* The value of one hex digit, either case; -1 for anything else. */
int hex_digit(int c);
/* n bytes as 2n lowercase hex digits and a NUL: out holds 2n + 1. */
void hex_encode(char *out, const void *p, size_t n);
/* 2n hex digits (either case) into n bytes. 0, or -1 at a character that is
 * not a hex digit (out is then partly written). s needs no NUL. */
int hex_decode(void *out, const char *s, size_t n);
/* Every one of the len characters is a lowercase hex digit ([0-9a-f]). */
bool hex_is_lower(const char *s, size_t len);

#endif
