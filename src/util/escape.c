/* SPDX-License-Identifier: BSD-2-Clause */
#include "util/escape.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/hex.h"
#include "util/log.h"

/*
 * Byte classes. A table lookup keeps the common case (a run of printable
 * ASCII) to one load and one compare per byte. A table with too many entries
 * does not compile; one with too few escapes the rest (C_ESC is 0), and
 * tests/unit/test_escape.c checks every byte against the plain rule.
 */
enum {
	C_ESC,	 /* always \xHH: controls, 0x7f, '\\', bytes that never start valid UTF-8 */
	C_SAFE,	 /* printable ASCII, copied as it is */
	C_QUOTE, /* '"': safe in text, \x22 inside a cmdline argument */
	C_LEAD,	 /* may start a multibyte UTF-8 sequence; validated in place */
};

#define R4(x) x, x, x, x
#define R8(x) R4(x), R4(x)
#define R16(x) R8(x), R8(x)
#define R32(x) R16(x), R16(x)
#define R64(x) R32(x), R32(x)

/* clang-format off */
static const uint8_t byte_class[256] = {
	/* 0x00-0x1f: controls */
	R32(C_ESC),
	/* 0x20-0x7f */
	C_SAFE, C_SAFE, C_QUOTE, C_SAFE, R4(C_SAFE), R8(C_SAFE), R16(C_SAFE), /* 0x20-0x3f */
	R16(C_SAFE), R8(C_SAFE), R4(C_SAFE),                                 /* 0x40-0x5b */
	C_ESC, C_SAFE, C_SAFE, C_SAFE,                                       /* 0x5c-0x5f */
	R16(C_SAFE), R8(C_SAFE), R4(C_SAFE), C_SAFE, C_SAFE, C_SAFE, C_ESC,  /* 0x60-0x7f */
	/* 0x80-0xbf: continuation bytes, never valid on their own */
	R64(C_ESC),
	/* 0xc0-0xc1: would only encode overlong forms */
	C_ESC, C_ESC,
	/* 0xc2-0xf4: possible lead bytes */
	R16(C_LEAD), R8(C_LEAD), R4(C_LEAD), C_LEAD, C_LEAD, /* 0xc2-0xdf */
	R16(C_LEAD),                                         /* 0xe0-0xef */
	C_LEAD, C_LEAD, C_LEAD, C_LEAD, C_LEAD,              /* 0xf0-0xf4 */
	/* 0xf5-0xff: would encode above U+10FFFF, or are not UTF-8 at all */
	C_ESC, C_ESC, C_ESC, C_ESC, C_ESC, C_ESC, C_ESC, C_ESC, C_ESC, C_ESC, C_ESC,
};
/* clang-format on */

static const char hexdigits[] = "0123456789abcdef";

/*
 * Length of the well-formed UTF-8 sequence starting at p (whose first byte is
 * a C_LEAD byte), or 0 when it is ill-formed. The ranges of the second byte
 * are those of Unicode's table 3-7: they exclude overlong forms (E0, F0),
 * surrogates (ED) and code points above U+10FFFF (F4).
 */
static size_t utf8_seq_len(const uint8_t *p, size_t avail)
{
	uint8_t c = p[0];
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	if (avail < len)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * Whether the well-formed sequence p[0..len) is a code point that splits lines
 * or fools a terminal (escape.h): C1 controls U+0080-U+009F (C2 80-C2 9F),
 * U+061C (D8 9C), U+200E-U+200F (E2 80 8E-8F), U+2028-U+202E (E2 80 A8-AE),
 * U+2066-U+2069 (E2 81 A6-A9). Only three lead bytes can start one.
 */
static bool utf8_unsafe(const uint8_t *p, size_t len)
{
	switch (p[0]) {
	case 0xc2:
		return p[1] <= 0x9f;
	case 0xd8:
		return p[1] == 0x9c;
	case 0xe2:
		if (len != 3)
			return false;
		if (p[1] == 0x80)
			return (p[2] >= 0x8e && p[2] <= 0x8f) || (p[2] >= 0xa8 && p[2] <= 0xae);
		return p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9;
	default:
		return false;
	}
}

/* What escape_bytes leaves as it is, beyond the always-safe bytes. */
enum {
	KEEP_QUOTE = 1u << 0,	  /* '"' (not inside a cmdline argument) */
	KEEP_BACKSLASH = 1u << 1, /* '\\' (text that is already escaped) */
	KEEP_NEWLINE = 1u << 2,	  /* '\n' (an output's own line ends) */
	JSON_ESCAPES = 1u << 3,	  /* write "\\\\xHH": the escape inside a JSON string */
};

/*
 * The common body of escape_text, escape_display and of one cmdline argument. The output is
 * at most 4 bytes per input byte, so the buffer is grown once and written
 * directly: no call per byte, and safe runs are copied with memcpy.
 */
static void escape_bytes(struct strbuf *out, const uint8_t *p, size_t n, unsigned keep)
{
	size_t per_byte = keep & JSON_ESCAPES ? 5 : 4;
	if (n > (SIZE_MAX - out->len - 1) / per_byte)
		fatalx("value of %zu bytes is too large to escape", n);
	sb_reserve(out, per_byte * n);

	char *w = out->data + out->len;
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		for (;;) {
			while (run < n && byte_class[p[run]] == C_SAFE)
				run++;
			if (run == n)
				break;
			uint8_t cls = byte_class[p[run]];
			if (cls == C_LEAD) {
				size_t l = utf8_seq_len(p + run, n - run);
				if (l && !utf8_unsafe(p + run, l)) {
					run += l;
					continue;
				}
				/* an unsafe code point: its lead byte is escaped
				 * below, its continuation bytes never stand alone */
			} else if ((cls == C_QUOTE && (keep & KEEP_QUOTE)) ||
				   (p[run] == '\\' && (keep & KEEP_BACKSLASH)) ||
				   (p[run] == '\n' && (keep & KEEP_NEWLINE))) {
				run++;
				continue;
			}
			break;
		}
		if (run > i) {
			memcpy(w, p + i, run - i);
			w += run - i;
			i = run;
		}
		if (i < n) {
			/* one offending byte; resynchronise on the next one */
			if (keep & JSON_ESCAPES)
				*w++ = '\\';
			w[0] = '\\';
			w[1] = 'x';
			w[2] = hexdigits[p[i] >> 4];
			w[3] = hexdigits[p[i] & 0xf];
			w += 4;
			i++;
		}
	}
	out->len = (size_t)(w - out->data);
	out->data[out->len] = '\0';
}

void escape_text(struct strbuf *out, const void *p, size_t n)
{
	escape_bytes(out, p, n, KEEP_QUOTE);
}

void escape_display(struct strbuf *out, const void *p, size_t n)
{
	escape_bytes(out, p, n, KEEP_QUOTE | KEEP_BACKSLASH | KEEP_NEWLINE);
}

void escape_display_json(struct strbuf *out, const void *p, size_t n)
{
	escape_bytes(out, p, n, KEEP_QUOTE | KEEP_BACKSLASH | KEEP_NEWLINE | JSON_ESCAPES);
}

/* the code point of the well-formed sequence p[0..len) */
static uint32_t utf8_code_point(const uint8_t *p, size_t len)
{
	if (len == 2)
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	if (len == 3)
		return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
	       (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
}

static void json_u_escape(struct strbuf *out, uint32_t cp)
{
	char u[6] = {'\\',
		     'u',
		     hexdigits[cp >> 12 & 0xf],
		     hexdigits[cp >> 8 & 0xf],
		     hexdigits[cp >> 4 & 0xf],
		     hexdigits[cp & 0xf]};
	sb_add(out, u, sizeof(u));
}

void escape_json_value(struct strbuf *out, const void *v, size_t n)
{
	const uint8_t *p = v;
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && byte_class[p[run]] == C_SAFE)
			run++;
		if (run > i) {
			sb_add(out, p + i, run - i);
			i = run;
			if (i == n)
				break;
		}
		uint8_t c = p[i], cls = byte_class[c];
		if (cls == C_QUOTE || c == '\\') {
			sb_addc(out, '\\');
			sb_addc(out, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			json_u_escape(out, c);
			i++;
		} else if (cls == C_LEAD) {
			size_t l = utf8_seq_len(p + i, n - i);
			if (!l) {
				json_u_escape(out, 0xfffd); /* one byte that is not UTF-8 */
				i++;
			} else if (utf8_unsafe(p + i, l)) {
				json_u_escape(out, utf8_code_point(p + i, l));
				i += l;
			} else {
				sb_add(out, p + i, l);
				i += l;
			}
		} else {
			json_u_escape(out, 0xfffd);
			i++;
		}
	}
}

void escape_path(struct strbuf *out, const void *p, size_t n, bool cut)
{
	if (cut)
		sb_add(out, PATH_CUT_MARK, PATH_CUT_MARK_LEN);
	escape_bytes(out, p, n, KEEP_QUOTE);
}

/* Unescape s[0..n) onto out. On error out is left partly written; the public
 * functions put its length back. */
static int unescape_into(struct strbuf *out, const char *s, size_t n)
{
	const char *end = s + n;

	sb_reserve(out, n);
	while (s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		size_t run = bs ? (size_t)(bs - s) : (size_t)(end - s);

		if (run) {
			memcpy(out->data + out->len, s, run);
			out->len += run;
			s += run;
		}
		if (!bs)
			break;
		if (end - bs < 4 || bs[1] != 'x')
			return -1;
		int hi = hex_digit((unsigned char)bs[2]), lo = hex_digit((unsigned char)bs[3]);
		if (hi < 0 || lo < 0)
			return -1;
		out->data[out->len++] = (char)(hi << 4 | lo);
		s = bs + 4;
	}
	out->data[out->len] = '\0';
	return 0;
}

static void sb_truncate(struct strbuf *out, size_t len)
{
	out->len = len;
	if (out->data)
		out->data[len] = '\0';
}

int unescape_text(struct strbuf *out, const char *s, size_t n)
{
	size_t start = out->len;

	if (unescape_into(out, s, n) < 0) {
		sb_truncate(out, start);
		return -1;
	}
	return 0;
}

int unescape_path(struct strbuf *out, const char *s, size_t n, bool *cut)
{
	*cut = n >= PATH_CUT_MARK_LEN && memcmp(s, PATH_CUT_MARK, PATH_CUT_MARK_LEN) == 0;
	if (*cut) {
		s += PATH_CUT_MARK_LEN;
		n -= PATH_CUT_MARK_LEN;
	}
	return unescape_text(out, s, n);
}

void cmdline_encode(struct strbuf *out, const char *args, size_t len)
{
	const char *p = args, *end = args + len;
	bool first = true;

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t alen = nul ? (size_t)(nul - p) : (size_t)(end - p);
		/* Quote what a space-splitting reader would otherwise get wrong:
		 * an empty argument would vanish, a space would split it. '"'
		 * also forces quotes, as docs/DESIGN.md says, although it is always
		 * escaped and could not confuse the reader either way. */
		bool quoted = alen == 0 || memchr(p, ' ', alen) || memchr(p, '"', alen);

		if (!first)
			sb_addc(out, ' ');
		first = false;
		if (quoted)
			sb_addc(out, '"');
		escape_bytes(out, (const uint8_t *)p, alen, 0);
		if (quoted)
			sb_addc(out, '"');
		/* a final argument without its NUL (argv cut short) ends here */
		p += alen + (nul ? 1 : 0);
	}
}

/* Unescape one argument and append it with its NUL. An argument cannot hold
 * a NUL (it would end the argument), so one in the input is malformed. */
static int decode_arg(struct strbuf *out, const char *s, size_t n)
{
	size_t start = out->len;

	if (memchr(s, '\0', n))
		return -1;
	if (unescape_into(out, s, n) < 0)
		return -1;
	if (memchr(out->data + start, '\0', out->len - start))
		return -1;
	sb_addc(out, '\0');
	return 0;
}

int cmdline_decode(struct strbuf *out, const char *s, size_t n)
{
	size_t start = out->len, i = 0;
	int count = 0;

	if (n == 0)
		return 0;
	for (;;) {
		if (count == INT_MAX)
			goto bad;
		if (s[i] == '"') {
			const char *close = memchr(s + i + 1, '"', n - i - 1);
			if (!close)
				goto bad;
			size_t j = (size_t)(close - s);
			if (decode_arg(out, s + i + 1, j - i - 1) < 0)
				goto bad;
			i = j + 1;
		} else {
			/* an unquoted argument is never empty: a space here is a
			 * leading or doubled separator */
			if (s[i] == ' ')
				goto bad;
			size_t j = i;
			while (j < n && s[j] != ' ' && s[j] != '"')
				j++;
			if (j < n && s[j] == '"')
				goto bad;
			if (decode_arg(out, s + i, j - i) < 0)
				goto bad;
			i = j;
		}
		count++;
		if (i == n)
			return count;
		/* exactly one space between arguments, none at the end */
		if (s[i] != ' ' || i + 1 == n)
			goto bad;
		i++;
	}
bad:
	sb_truncate(out, start);
	return -1;
}
