/* SPDX-License-Identifier: BSD-2-Clause */
/* A growable byte buffer. Allocation failure is fatal (the recorder cannot
 * go on without memory, and pretending otherwise would lose records). */
#ifndef ONMITSU_STRBUF_H
#define ONMITSU_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *data; /* always NUL-terminated when cap > 0 */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void sb_reserve(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *p, size_t n);
void sb_addc_slow(struct strbuf *sb, char c);
/* one byte: inline, for the encoders' separators (a call per comma showed
 * in the recorder's profile) */
static inline void sb_addc(struct strbuf *sb, char c)
{
	if (sb->len + 1 < sb->cap) {
		sb->data[sb->len++] = c;
		sb->data[sb->len] = '\0';
	} else {
		sb_addc_slow(sb, c);
	}
}
void sb_adds(struct strbuf *sb, const char *s);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);
/* Returns the C string (never NULL). */
const char *sb_str(struct strbuf *sb);

#endif
