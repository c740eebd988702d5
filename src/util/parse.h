/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef ONMITSU_PARSE_H
#define ONMITSU_PARSE_H

#include <stdint.h>

/* "4096", "64K", "8M", "1G" (binary units). 0, or -1 when malformed or too big. */
int parse_size(const char *s, uint64_t *out);

#endif
