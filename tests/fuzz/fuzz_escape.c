/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The escaping round trips (util/escape.h, log/csv.h):
 * - escape_text: the escaped form holds no byte below 0x20, no 0x7f, no
 *   backslash but those that start "\xHH", is valid UTF-8 without the code
 *   points that split lines or fool a terminal, and unescapes to the input;
 * - cmdline_encode: the input as an argument area (NUL-separated) encodes to
 *   one line that decodes to the same arguments, each NUL-terminated;
 * - csv_encode_fields / csv_split: the input cut at NUL bytes into fields
 *   joins into one CSV line that splits into the same fields;
 * - escape_path / unescape_path: the same, with the cut mark or without;
 * - escape_display: no control byte but LF, valid UTF-8, no code point that
 *   splits lines or fools a terminal;
 * - unescape_text and cmdline_decode of the input as it is: either refused
 *   with the output left as it was, or accepted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "log/csv.h"
#include "util/escape.h"

static struct strbuf esc, back, enc, dec, line;

/* Unicode's well-formed UTF-8 (table 3-7); true when s[0..n) is. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint8_t lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return false;
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* No code point that splits lines or fools a terminal (escape.h) is left in
 * s, which is valid UTF-8: C1 controls, U+061C, U+200E-U+200F,
 * U+2028-U+202E, U+2066-U+2069. */
static void check_no_unsafe_code_point(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	for (size_t i = 0; i < n;) {
		uint32_t cp = p[i];
		size_t len = 1;
		if (p[i] >= 0xf0)
			cp = p[i] & 0x07, len = 4;
		else if (p[i] >= 0xe0)
			cp = p[i] & 0x0f, len = 3;
		else if (p[i] >= 0xc0)
			cp = p[i] & 0x1f, len = 2;
		for (size_t k = 1; k < len && i + k < n; k++)
			cp = cp << 6 | (p[i + k] & 0x3f);
		FUZZ_CHECK(len == 1 ||
			       !((cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
				 cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
				 (cp >= 0x2066 && cp <= 0x2069)),
			   "U+%04X left raw at %zu", (unsigned)cp, i);
		i += len;
	}
}

static bool is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void check_escaped(const char *s, size_t n, bool cmdline)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		FUZZ_CHECK(c >= 0x20 && c != 0x7f, "byte 0x%02x at %zu of the escaped form", c, i);
		if (c == '\\')
			FUZZ_CHECK(i + 3 < n && s[i + 1] == 'x' && is_hex_lower(s[i + 2]) &&
				       is_hex_lower(s[i + 3]),
				   "a backslash at %zu that starts no \\xHH", i);
	}
	FUZZ_CHECK(valid_utf8((const uint8_t *)s, n), "the escaped form is not valid UTF-8");
	/* nor a code point that splits lines or fools a terminal (util/escape.h) */
	for (size_t i = 0; i + 1 < n; i++) {
		const uint8_t *u = (const uint8_t *)s + i;
		uint32_t cp = 0;
		if (u[0] == 0xc2 || u[0] == 0xd8)
			cp = (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
		else if (u[0] == 0xe2 && i + 2 < n)
			cp = (uint32_t)(u[0] & 0x0f) << 12 | (uint32_t)(u[1] & 0x3f) << 6 |
			     (u[2] & 0x3f);
		bool bad = (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
			   (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
			   cp == 0x200e || cp == 0x200f || cp == 0x061c;
		FUZZ_CHECK(!bad, "U+%04X at %zu of the escaped form", cp, i);
	}
	check_no_unsafe_code_point(s, n);
	(void)cmdline;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *text = (const char *)data;

	/* escape, then unescape */
	sb_reset(&esc);
	escape_text(&esc, data, size);
	check_escaped(esc.data ? esc.data : "", esc.len, false);
	sb_reset(&back);
	FUZZ_CHECK(unescape_text(&back, esc.data ? esc.data : "", esc.len) == 0,
		   "unescape refused what escape wrote");
	FUZZ_CHECK(back.len == size && (size == 0 || memcmp(back.data, data, size) == 0),
		   "the round trip changed the bytes");

	/* a path, cut or whole, escaped and unescaped */
	bool cut = size & 1, cut_back = !cut;
	sb_reset(&esc);
	escape_path(&esc, data, size, cut);
	sb_reset(&back);
	FUZZ_CHECK(unescape_path(&back, esc.data ? esc.data : "", esc.len, &cut_back) == 0 &&
		       cut_back == cut,
		   "unescape_path refused or misread what escape_path wrote");
	FUZZ_CHECK(back.len == size && (size == 0 || memcmp(back.data, data, size) == 0),
		   "the path round trip changed the bytes");

	/* shown on a terminal: no control but LF, valid UTF-8, nothing unsafe */
	sb_reset(&esc);
	escape_display(&esc, data, size);
	for (size_t i = 0; i < esc.len; i++) {
		unsigned char c = (unsigned char)esc.data[i];
		FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f), "byte 0x%02x shown at %zu", c, i);
	}
	FUZZ_CHECK(valid_utf8((const uint8_t *)(esc.data ? esc.data : ""), esc.len),
		   "the display form is not valid UTF-8");
	check_no_unsafe_code_point(esc.data ? esc.data : "", esc.len);

	/* the argument area, encoded and decoded */
	int args = 0;
	for (size_t i = 0; i < size; i++)
		args += data[i] == '\0';
	if (size && data[size - 1] != '\0')
		args++; /* a last argument cut short */
	sb_reset(&enc);
	cmdline_encode(&enc, text, size);
	check_escaped(enc.data ? enc.data : "", enc.len, true);
	sb_reset(&dec);
	int got = cmdline_decode(&dec, enc.data ? enc.data : "", enc.len);
	FUZZ_CHECK(got == args, "%d arguments decoded of %d", got, args);
	size_t want_len = size + (size && data[size - 1] != '\0' ? 1 : 0);
	FUZZ_CHECK(dec.len == want_len && (size == 0 || memcmp(dec.data, data, size) == 0),
		   "the arguments changed in the round trip");

	/* CSV fields: cut at NUL, joined, split */
	const char *fields[64];
	size_t nf = 0;
	for (size_t off = 0; nf < 64;) {
		const char *nul = memchr(text + off, '\0', size - off);
		fields[nf++] = text + off; /* NUL-terminated: the next field's NUL, or below */
		if (!nul)
			break;
		off = (size_t)(nul - text) + 1;
	}
	/* the last field has no NUL in data: take a terminated copy */
	sb_reset(&dec);
	const char *last = fields[nf - 1];
	size_t last_len = size - (size_t)(last - text);
	if (memchr(last, '\0', last_len) == NULL) {
		sb_add(&dec, last, last_len);
		fields[nf - 1] = sb_str(&dec);
	}
	sb_reset(&line);
	csv_encode_fields(&line, fields, nf);
	FUZZ_CHECK(!line.len || !memchr(line.data, '\0', line.len), "a NUL in a CSV line");
	char *split[64];
	sb_reserve(&line, 1); /* csv_split writes the last field's NUL at line.data[len] */
	int n = csv_split(line.data, line.len, split, 64);
	FUZZ_CHECK(n == (int)nf, "%d fields split of %zu joined", n, nf);
	for (size_t i = 0; i < nf; i++)
		FUZZ_CHECK(strcmp(split[i], fields[i]) == 0, "field %zu \"%s\" came back \"%s\"", i,
			   fields[i], split[i]);

	/* the decoders on input as it is */
	sb_reset(&back);
	sb_adds(&back, "kept");
	if (unescape_text(&back, text, size) < 0)
		FUZZ_CHECK(back.len == 4 && strcmp(back.data, "kept") == 0,
			   "a refused unescape changed the output");
	sb_reset(&back);
	sb_adds(&back, "kept");
	if (cmdline_decode(&back, text, size) < 0)
		FUZZ_CHECK(back.len == 4 && memcmp(back.data, "kept", 5) == 0,
			   "a refused cmdline changed the output");
	return 0;
}
