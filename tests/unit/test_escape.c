/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/escape.h"
#include "util/strbuf.h"

/* escape_text of n bytes; returns a string owned by sb */
static const char *esc(struct strbuf *sb, const char *p, size_t n)
{
	sb_reset(sb);
	escape_text(sb, p, n);
	return sb_str(sb);
}

#define ESC(sb, lit) esc(sb, lit, sizeof(lit) - 1)

/* The reference rule, written as plainly as possible, to check the table. */
static int ascii_needs_escape(unsigned c)
{
	return c < 0x20 || c == 0x7f || c == '\\' || c >= 0x80;
}

TEST(escape_every_single_byte)
{
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;

	for (unsigned c = 0; c < 256; c++) {
		char in = (char)c, want[8];
		const char *got = esc(&sb, &in, 1);
		if (ascii_needs_escape(c))
			snprintf(want, sizeof(want), "\\x%02x", c);
		else
			snprintf(want, sizeof(want), "%c", c);
		CHECK_EQ_STR(got, want);
		sb_reset(&back);
		CHECK_EQ_INT(unescape_text(&back, sb.data, sb.len), 0);
		CHECK_EQ_MEM(back.data, back.len, &in, (size_t)1);
	}
	sb_free(&sb);
	sb_free(&back);
}

TEST(escape_controls_del_backslash)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_EQ_STR(ESC(&sb, "a\nb\rc\td\x01\x1f"), "a\\x0ab\\x0dc\\x09d\\x01\\x1f");
	CHECK_EQ_STR(ESC(&sb, "\0"), "\\x00");
	CHECK_EQ_STR(ESC(&sb, "x\x7fy"), "x\\x7fy");
	CHECK_EQ_STR(ESC(&sb, "C:\\dir"), "C:\\x5cdir");
	/* a value that looks like an escape is itself escaped, so it cannot
	 * pass for one */
	CHECK_EQ_STR(ESC(&sb, "\\x41"), "\\x5cx41");
	/* comma, quote and space are left for the CSV and cmdline layers */
	CHECK_EQ_STR(ESC(&sb, "a, \"b\" ~"), "a, \"b\" ~");
	CHECK_EQ_STR(ESC(&sb, ""), "");
	sb_free(&sb);
}

TEST(escape_valid_utf8_kept)
{
	/* clang-format off */
	static const char *const ok[] = {
		"\xc2\xa0",         /* U+00A0, lowest 2-byte kept (U+0080-U+009F are C1) */
		"\xc3\xa9",         /* é */
		"\xdf\xbf",         /* U+07FF */
		"\xe0\xa0\x80",     /* U+0800, lowest 3-byte */
		"\xe2\x82\xac",     /* € */
		"\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",     /* U+E000, just above them */
		"\xef\xbf\xbf",     /* U+FFFF */
		"\xf0\x90\x80\x80", /* U+10000, lowest 4-byte */
		"\xf0\x9d\x84\x9e", /* 𝄞 */
		"\xf3\xbf\xbf\xbf",
		"\xf4\x8f\xbf\xbf", /* U+10FFFF, the highest */
		"/tmp/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/a.out",
	};
	/* clang-format on */
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK_EQ_STR(esc(&sb, ok[i], strlen(ok[i])), ok[i]);
	sb_free(&sb);
}

TEST(escape_invalid_utf8_bytewise)
{
	/* clang-format off */
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"\x80", "\\x80"},                       /* lone continuation */
		{"a\xbf" "b", "a\\xbfb"},
		{"\xc0\x80", "\\xc0\\x80"},              /* overlong NUL */
		{"\xc1\xbf", "\\xc1\\xbf"},              /* overlong 2-byte */
		{"\xe0\x80\x80", "\\xe0\\x80\\x80"},     /* overlong 3-byte */
		{"\xe0\x9f\xbf", "\\xe0\\x9f\\xbf"},
		{"\xf0\x80\x80\x80", "\\xf0\\x80\\x80\\x80"}, /* overlong 4-byte */
		{"\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf"},
		{"\xed\xa0\x80", "\\xed\\xa0\\x80"},     /* U+D800 */
		{"\xed\xbf\xbf", "\\xed\\xbf\\xbf"},     /* U+DFFF */
		{"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* U+110000 */
		{"\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80"},
		{"\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80"}, /* old 5-byte form */
		{"\xfe\xff", "\\xfe\\xff"},
		{"\xe2\x82", "\\xe2\\x82"},              /* truncated at the end */
		{"\xe2\x82" "A", "\\xe2\\x82A"},         /* truncated by ASCII */
		{"\xf0\x9f\x98", "\\xf0\\x9f\\x98"},
		{"\xc3", "\\xc3"},
		{"\xc3\xc3\xa9", "\\xc3\xc3\xa9"},       /* a bad lead, then a good é */
		{"\xe2\x82\xe2\x82\xac", "\\xe2\\x82\xe2\x82\xac"},
		{"\xed\xa0\x80\xed\xb0\x80", "\\xed\\xa0\\x80\\xed\\xb0\\x80"}, /* CESU pair */
	};
	/* clang-format on */
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].in);
		CHECK_EQ_STR(esc(&sb, cases[i].in, n), cases[i].want);
		sb_reset(&back);
		CHECK_EQ_INT(unescape_text(&back, sb.data, sb.len), 0);
		CHECK_EQ_MEM(back.data, back.len, cases[i].in, n);
	}
	sb_free(&sb);
	sb_free(&back);
}

/* The code points that split lines or fool a terminal (escape.h): the C1
 * controls, the line and paragraph separators, the bidirectional embeddings,
 * overrides and isolates, and the three direction marks. Written as plainly
 * as possible, to check the escaper's byte tests. */
static int code_point_needs_escape(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c;
}

static size_t utf8_encode(uint32_t cp, char *b)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | cp >> 18);
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

TEST(escape_line_and_bidi_code_points)
{
	/* clang-format off */
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"\xc2\x80", "\\xc2\\x80"},             /* U+0080, the first C1 control */
		{"a\xc2\x85" "b", "a\\xc2\\x85b"},      /* U+0085 NEL, a line break to some readers */
		{"\xc2\x9b" "31m", "\\xc2\\x9b31m"},    /* U+009B CSI: a terminal escape */
		{"\xc2\x9f", "\\xc2\\x9f"},             /* U+009F, the last */
		{"\xc2\xa0", "\xc2\xa0"},               /* U+00A0 NBSP is kept */
		{"\xe2\x80\xa7", "\xe2\x80\xa7"},       /* U+2027 is kept */
		{"x\xe2\x80\xa8y", "x\\xe2\\x80\\xa8y"}, /* U+2028 LINE SEPARATOR */
		{"\xe2\x80\xa9", "\\xe2\\x80\\xa9"},    /* U+2029 PARAGRAPH SEPARATOR */
		{"\xe2\x80\xaa", "\\xe2\\x80\\xaa"},    /* U+202A LRE */
		{"\xe2\x80\xab", "\\xe2\\x80\\xab"},    /* U+202B RLE */
		{"\xe2\x80\xac", "\\xe2\\x80\\xac"},    /* U+202C PDF */
		{"\xe2\x80\xad", "\\xe2\\x80\\xad"},    /* U+202D LRO */
		{"/tmp/evil\xe2\x80\xaegpj.exe", "/tmp/evil\\xe2\\x80\\xaegpj.exe"}, /* U+202E RLO */
		{"\xe2\x80\xaf", "\xe2\x80\xaf"},       /* U+202F NNBSP is kept */
		{"\xe2\x81\xa5", "\xe2\x81\xa5"},       /* U+2065 (unassigned) is kept */
		{"\xe2\x81\xa6", "\\xe2\\x81\\xa6"},    /* U+2066 LRI */
		{"\xe2\x81\xa7", "\\xe2\\x81\\xa7"},    /* U+2067 RLI */
		{"\xe2\x81\xa8", "\\xe2\\x81\\xa8"},    /* U+2068 FSI */
		{"\xe2\x81\xa9", "\\xe2\\x81\\xa9"},    /* U+2069 PDI */
		{"\xe2\x81\xaa", "\xe2\x81\xaa"},       /* U+206A is kept */
		{"\xe2\x80\x8d", "\xe2\x80\x8d"},       /* U+200D ZWJ (emoji, Indic) is kept */
		{"\xe2\x80\x8e", "\\xe2\\x80\\x8e"},    /* U+200E LRM */
		{"\xe2\x80\x8f", "\\xe2\\x80\\x8f"},    /* U+200F RLM */
		{"\xe2\x80\x90", "\xe2\x80\x90"},       /* U+2010 HYPHEN is kept */
		{"\xd8\x9b", "\xd8\x9b"},               /* U+061B is kept */
		{"\xd8\x9c", "\\xd8\\x9c"},             /* U+061C ARABIC LETTER MARK */
		{"\xd8\x9d", "\xd8\x9d"},               /* U+061D is kept */
		/* cut short or overlong forms of them were escaped before, as invalid */
		{"\xe2\x80", "\\xe2\\x80"},
		{"\xe0\x82\x85", "\\xe0\\x82\\x85"},
		/* next to each other and to valid text */
		{"\xe2\x80\xae\xe2\x81\xa6\xc3\xa9", "\\xe2\\x80\\xae\\xe2\\x81\\xa6\xc3\xa9"},
	};
	/* clang-format on */
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].in);
		CHECK_EQ_STR(esc(&sb, cases[i].in, n), cases[i].want);
		sb_reset(&back);
		CHECK_EQ_INT(unescape_text(&back, sb.data, sb.len), 0);
		CHECK_EQ_MEM(back.data, back.len, cases[i].in, n);
	}
	/* and inside a cmdline argument */
	sb_reset(&sb);
	static const char argv[] = "echo\0\xe2\x80\xae"
				   "cod.exe";
	cmdline_encode(&sb, argv, sizeof(argv));
	CHECK_EQ_STR(sb_str(&sb), "echo \\xe2\\x80\\xaecod.exe");
	sb_free(&sb);
	sb_free(&back);
}

TEST(escape_every_code_point)
{
	/* each Unicode scalar value on its own and between two letters: copied,
	 * or each of its bytes escaped, exactly as the plain rule says */
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT, want = STRBUF_INIT;
	char in[8];

	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		in[0] = 'a';
		size_t n = utf8_encode(cp, in + 1);
		in[n + 1] = 'z';
		sb_reset(&want);
		sb_addc(&want, 'a');
		if (cp < 0x80 ? ascii_needs_escape(cp) : code_point_needs_escape(cp)) {
			for (size_t i = 0; i < n; i++)
				sb_addf(&want, "\\x%02x", (unsigned char)in[1 + i]);
		} else {
			sb_add(&want, in + 1, n);
		}
		sb_addc(&want, 'z');
		esc(&sb, in, n + 2);
		if (sb.len != want.len || memcmp(sb.data, want.data, sb.len) != 0)
			TEST_FAIL_("U+%04X escaped as \"%s\", want \"%s\"", (unsigned)cp, sb.data,
				   want.data);
		sb_reset(&back);
		CHECK_EQ_INT(unescape_text(&back, sb.data, sb.len), 0);
		CHECK_EQ_MEM(back.data, back.len, in, n + 2);
	}
	sb_free(&sb);
	sb_free(&back);
	sb_free(&want);
}

/* Escaped output is printable: no byte below 0x20, no 0x7f, valid UTF-8, and
 * every backslash starts a \xHH. */
static int is_display_form(const char *s, size_t n)
{
	struct strbuf tmp = STRBUF_INIT;
	int ok = 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			ok = 0;
	}
	/* no code point that splits lines or fools a terminal survives */
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = c;
		size_t len = 1;
		if (c >= 0xf0)
			cp = c & 0x07, len = 4;
		else if (c >= 0xe0)
			cp = c & 0x0f, len = 3;
		else if (c >= 0xc0)
			cp = c & 0x1f, len = 2;
		for (size_t k = 1; k < len && i + k < n; k++)
			cp = cp << 6 | ((unsigned char)s[i + k] & 0x3f);
		if (len > 1 && code_point_needs_escape(cp))
			ok = 0;
		i += len;
	}
	/* re-escaping valid output changes only its backslashes */
	escape_text(&tmp, s, n);
	size_t bs = 0;
	for (size_t i = 0; i < n; i++)
		bs += s[i] == '\\';
	if (tmp.len != n + 3 * bs)
		ok = 0;
	sb_free(&tmp);
	return ok;
}

static uint64_t rng_state;

static uint32_t rng(void)
{
	/* xorshift64*: fixed seed, so every run tests the same inputs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Bytes a hostile argument would be made of: the separators and escape
 * characters of every layer, controls, UTF-8 pieces, anything. */
static char hostile_byte(void)
{
	static const char pick[] =
	    " \"\\x,\n\r\t'0aF2\xc3\xa9\xe2\x82\xac\xf0\x9f\xed\xa0\x80\xff\x7f"
	    "\xc2\x85\x9b\x80\xae\x81\xa6\xa8\xd8\x9c";
	uint32_t r = rng();

	if (r % 4 == 0) {
		char c = (char)(rng() & 0xff);
		return c ? c : 'z';
	}
	return pick[(r >> 2) % (sizeof(pick) - 1)];
}

TEST(escape_random_round_trip)
{
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;
	char buf[64];

	rng_state = 0x6f6e6d69747375ull;
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = rng() % sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = rng() % 8 == 0 ? '\0' : hostile_byte();
		esc(&sb, buf, n);
		CHECK(is_display_form(sb.data, sb.len));
		CHECK(memchr(sb.data, '\n', sb.len) == NULL);
		sb_reset(&back);
		CHECK_EQ_INT(unescape_text(&back, sb.data, sb.len), 0);
		CHECK_EQ_MEM(back.data, back.len, buf, n);
	}
	sb_free(&sb);
	sb_free(&back);
}

/* Whole code points a hostile value would use, so that random strings hold
 * them often, not only when the bytes happen to line up. */
static const char *const hostile_pieces[] = {
    "\xc2\x85",		"\xc2\x9b",	"\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xae",
    "\xe2\x81\xa6",	"\xe2\x80\x8f", "\xd8\x9c",	"\xc2\xa0",	"\xe2\x80\x8d",
    "\xf0\x9f\x98\x80", "\\x",		"\\",		"\x1b[",
};

TEST(escape_random_bytes_round_trip)
{
	/* the property unescape(escape(x)) == x over random byte strings, all
	 * 256 byte values equally likely, mixed with whole code points; a fixed
	 * seed and a bounded count, so every run tests the same inputs */
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;
	char buf[300];
	const size_t npieces = sizeof(hostile_pieces) / sizeof(hostile_pieces[0]);

	rng_state = 0x20261202ull;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 0, want = rng() % 256;
		while (n < want) {
			if (rng() % 3 == 0) {
				const char *piece = hostile_pieces[rng() % npieces];
				size_t len = strlen(piece);
				memcpy(buf + n, piece, len);
				n += len;
			} else {
				buf[n++] = (char)(rng() & 0xff);
			}
		}
		esc(&sb, buf, n);
		CHECK(is_display_form(sb.data, sb.len));
		sb_reset(&back);
		CHECK_EQ_INT(unescape_text(&back, sb.data, sb.len), 0);
		CHECK_EQ_MEM(back.data, back.len, buf, n);
	}
	sb_free(&sb);
	sb_free(&back);
}

TEST(escape_display_of_escaped_text)
{
	struct strbuf sb = STRBUF_INIT;

	/* a well-formed log value is shown as it is: its escapes, its
	 * backslashes and valid UTF-8 stay */
	static const char ok[] = "/tmp/caf\xc3\xa9 \\x0a\\x5c \"q\" \xe2\x82\xac";
	escape_display(&sb, ok, sizeof(ok) - 1);
	CHECK_EQ_STR(sb_str(&sb), ok);
	/* what a well-formed value never holds is shown as its escape */
	sb_reset(&sb);
	static const char bad[] = "a\x1b[31mb\x7f\t\xff\xe2\x80\xae\xc2\x9b\n";
	escape_display(&sb, bad, sizeof(bad) - 1);
	CHECK_EQ_STR(sb_str(&sb), "a\\x1b[31mb\\x7f\\x09\\xff\\xe2\\x80\\xae\\xc2\\x9b\n");
	/* for every byte string, the display form is escaped text plus LF:
	 * escaping it again changes only its backslashes */
	char buf[64];
	rng_state = 99;
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = rng() % sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = hostile_byte();
		sb_reset(&sb);
		escape_display(&sb, buf, n);
		for (size_t i = 0, lines = 0; i <= sb.len; i++) {
			if (i < sb.len && sb.data[i] != '\n')
				continue;
			CHECK(is_display_form(sb.data + lines, i - lines));
			lines = i + 1;
		}
	}
	sb_free(&sb);
}

TEST(escape_display_json_keeps_json_valid)
{
	struct strbuf sb = STRBUF_INIT;

	static const char line[] = "{\"exe\":\"/tmp/a\\\\x0a\xe2\x80\xae\xff\xc3\xa9\"}\n";
	escape_display_json(&sb, line, sizeof(line) - 1);
	CHECK_EQ_STR(sb_str(&sb),
		     "{\"exe\":\"/tmp/a\\\\x0a\\\\xe2\\\\x80\\\\xae\\\\xff\xc3\xa9\"}\n");
	sb_free(&sb);
}

TEST(escape_path_marks_a_cut_path)
{
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;
	bool cut = false;

	escape_path(&sb, "/d/e f\n/true", 12, true);
	CHECK_EQ_STR(sb_str(&sb), "\\.../d/e f\\x0a/true");
	/* the marker is no escape: the plain unescape refuses it, so a cut
	 * path can never pass for a whole one */
	CHECK_EQ_INT(unescape_text(&back, sb.data, sb.len), -1);
	CHECK_EQ_INT(unescape_path(&back, sb.data, sb.len, &cut), 0);
	CHECK(cut);
	CHECK_EQ_MEM(back.data, back.len, "/d/e f\n/true", (size_t)12);
	/* a whole path is escape_text's */
	sb_reset(&sb);
	sb_reset(&back);
	escape_path(&sb, "/usr/bin/id", 11, false);
	CHECK_EQ_STR(sb_str(&sb), "/usr/bin/id");
	CHECK_EQ_INT(unescape_path(&back, sb.data, sb.len, &cut), 0);
	CHECK(!cut);
	CHECK_EQ_STR(sb_str(&back), "/usr/bin/id");
	/* a real path that looks like the marker is escaped, never marked */
	sb_reset(&sb);
	sb_reset(&back);
	escape_path(&sb, "\\.../x", 6, false);
	CHECK_EQ_STR(sb_str(&sb), "\\x5c.../x");
	CHECK_EQ_INT(unescape_path(&back, sb.data, sb.len, &cut), 0);
	CHECK(!cut);
	CHECK_EQ_STR(sb_str(&back), "\\.../x");
	/* the marker only at the start; a bad escape after it is refused */
	sb_reset(&back);
	sb_adds(&back, "keep");
	CHECK_EQ_INT(unescape_path(&back, "/a\\.../b", 9, &cut), -1);
	CHECK_EQ_INT(unescape_path(&back, "\\...\\x4", 8, &cut), -1);
	CHECK_EQ_INT(unescape_path(&back, "\\..", 3, &cut), -1);
	CHECK_EQ_STR(sb_str(&back), "keep");
	/* round trip over random paths, cut or not */
	char buf[64];
	rng_state = 0x70617468ull;
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = rng() % sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = hostile_byte();
		bool was_cut = rng() % 2;
		sb_reset(&sb);
		sb_reset(&back);
		escape_path(&sb, buf, n, was_cut);
		CHECK_EQ_INT(unescape_path(&back, sb.data, sb.len, &cut), 0);
		CHECK_EQ_INT(cut, was_cut);
		CHECK_EQ_MEM(back.data, back.len, buf, n);
	}
	sb_free(&sb);
	sb_free(&back);
}

TEST(escape_appends)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "pre:");
	escape_text(&sb, "a\nb", 3);
	CHECK_EQ_STR(sb_str(&sb), "pre:a\\x0ab");
	CHECK_EQ_INT(unescape_text(&sb, "\\x41", 4), 0);
	CHECK_EQ_STR(sb_str(&sb), "pre:a\\x0abA");
	sb_free(&sb);
}

TEST(unescape_valid)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_EQ_INT(unescape_text(&sb, "a\\x0ab\\x5cx41", 13), 0);
	CHECK_EQ_STR(sb_str(&sb), "a\nb\\x41");
	/* uppercase hex is accepted, though never written */
	sb_reset(&sb);
	CHECK_EQ_INT(unescape_text(&sb, "\\xFF\\xaB", 8), 0);
	CHECK_EQ_MEM(sb.data, sb.len, "\xff\xab", (size_t)2);
	/* \x00 gives a NUL byte in the value */
	sb_reset(&sb);
	CHECK_EQ_INT(unescape_text(&sb, "a\\x00b", 6), 0);
	CHECK_EQ_MEM(sb.data, sb.len, "a\0b", (size_t)3);
	/* n bounds the input: an escape cut by n is malformed */
	sb_reset(&sb);
	CHECK_EQ_INT(unescape_text(&sb, "ab\\x41", 2), 0);
	CHECK_EQ_STR(sb_str(&sb), "ab");
	sb_free(&sb);
}

TEST(unescape_malformed)
{
	/* clang-format off */
	static const char *const bad[] = {
		"\\", "a\\", "\\x", "\\x4", "a\\x4", "\\xg0", "\\x0g", "\\X41", "\\y41",
		"\\n", "\\\\", "ok\\x41\\x", "\\x 1", "\\x-1",
	};
	/* clang-format on */
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sb_reset(&sb);
		sb_adds(&sb, "keep");
		CHECK_EQ_INT(unescape_text(&sb, bad[i], strlen(bad[i])), -1);
		/* a failed call leaves out as it was */
		CHECK_EQ_STR(sb_str(&sb), "keep");
	}
	sb_reset(&sb);
	CHECK_EQ_INT(unescape_text(&sb, "ab\\x41", 5), -1);
	sb_free(&sb);
}

/* ---- cmdline ---- */

static const char *enc(struct strbuf *sb, const char *args, size_t len)
{
	sb_reset(sb);
	cmdline_encode(sb, args, len);
	return sb_str(sb);
}

#define ENC(sb, lit) enc(sb, lit, sizeof(lit) - 1)

TEST(cmdline_exact_forms)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_EQ_STR(ENC(&sb, "printf\0a b\n\0"), "printf \"a b\\x0a\"");
	CHECK_EQ_STR(ENC(&sb, "ls\0-l\0/tmp\0"), "ls -l /tmp");
	/* empty argv and one empty argument differ */
	CHECK_EQ_STR(enc(&sb, "", 0), "");
	CHECK_EQ_STR(ENC(&sb, "\0"), "\"\"");
	CHECK_EQ_STR(ENC(&sb, "\0\0"), "\"\" \"\"");
	CHECK_EQ_STR(ENC(&sb, "a\0\0b\0"), "a \"\" b");
	/* a double quote forces quotes and is always written \x22 */
	CHECK_EQ_STR(ENC(&sb, "echo\0say \"hi\"\0"), "echo \"say \\x22hi\\x22\"");
	CHECK_EQ_STR(ENC(&sb, "a\"b\0"), "\"a\\x22b\"");
	CHECK_EQ_STR(ENC(&sb, "\"\0"), "\"\\x22\"");
	/* other separators are escapes, not quoting reasons */
	CHECK_EQ_STR(ENC(&sb, "a\tb\0c,d\0"), "a\\x09b c,d");
	CHECK_EQ_STR(ENC(&sb, "C:\\x\0"), "C:\\x5cx");
	CHECK_EQ_STR(ENC(&sb, "caf\xc3\xa9\0\xff\0"), "caf\xc3\xa9 \\xff");
	/* argv cut short: the last argument without its NUL is taken as is */
	CHECK_EQ_STR(ENC(&sb, "ls\0-l"), "ls -l");
	CHECK_EQ_STR(ENC(&sb, "ls\0a b"), "ls \"a b\"");
	/* a fake record cannot leave its field */
	CHECK_EQ_STR(ENC(&sb, "sh\0-c\0x\n2026-01-01T00:00:00.000000Z,1,EXEC\0"),
		     "sh -c x\\x0a2026-01-01T00:00:00.000000Z,1,EXEC");
	sb_free(&sb);
}

/* argv -> cmdline -> argv, byte for byte. A final argument that had no NUL
 * comes back with one. Also checks the invariants of the cmdline form. */
static int round_trip(const char *args, size_t len, int nargs)
{
	struct strbuf line = STRBUF_INIT, back = STRBUF_INIT;
	int ok = 1;

	cmdline_encode(&line, args, len);
	if (memchr(line.data ? line.data : "", '\n', line.len) ||
	    !is_display_form(line.data, line.len))
		ok = 0;
	int n = cmdline_decode(&back, line.data, line.len);
	if (n != nargs)
		ok = 0;
	if (len && args[len - 1] != '\0') {
		/* cut short */
		if (back.len != len + 1 || memcmp(back.data, args, len) != 0 ||
		    back.data[len] != '\0')
			ok = 0;
	} else if (back.len != len || (len && memcmp(back.data, args, len) != 0)) {
		ok = 0;
	}
	if (!ok)
		fprintf(stderr, "    round trip failed: %d args, cmdline \"%s\", decoded %d\n",
			nargs, sb_str(&line), n);
	sb_free(&line);
	sb_free(&back);
	return ok;
}

#define RT(lit, nargs) round_trip(lit, sizeof(lit) - 1, nargs)

TEST(cmdline_round_trip_hostile)
{
	CHECK(round_trip("", 0, 0));
	CHECK(RT("\0", 1));
	CHECK(RT("\0\0\0", 3));
	CHECK(RT("a,b\0,\0,,,\0", 3));
	CHECK(RT("\"\0\"\"\0a\"b\"c\0\" \"\0", 4));
	CHECK(RT("echo\0line1\nline2\r\n\0", 2));
	CHECK(RT("\\x41\0\\\0\\\\x\0x41\0", 4));
	CHECK(RT("sh\0-c\0true\n2026-11-25T19:13:17.123456Z,2,EXEC,1,1,,,0,/bin/sh,\"sh\"\n\0", 3));
	CHECK(RT("\xff\xfe\0\xc0\x80\0\xed\xa0\x80\0\xe2\x82\0\xf4\x90\x80\x80\0", 5));
	CHECK(RT("  \0 \0a  b \0", 3));
	CHECK(RT("\x01\x7f\x1b[31m\0", 1));
	CHECK(RT("\"\" \"\"\0", 1));
	CHECK(RT("ls\0-l", 2));
	CHECK(RT("ls\0a \"b", 2));
	CHECK(RT("x", 1));
}

TEST(cmdline_round_trip_100k)
{
	size_t n = 100 * 1024;
	char *args = malloc(n + 8);

	CHECK(args != NULL);
	rng_state = 42;
	memcpy(args, "prog\0", 5);
	for (size_t i = 5; i < n + 5; i++)
		args[i] = hostile_byte();
	for (size_t i = 5; i < n + 5; i++)
		if (args[i] == '\0')
			args[i] = '0';
	args[n + 5] = '\0';
	memcpy(args + n + 6, "z", 2);
	int ok = round_trip(args, n + 8, 3);
	free(args);
	CHECK(ok);
}

TEST(cmdline_round_trip_fuzz)
{
	char args[512];

	rng_state = 0x0123456789abcdefull;
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = 0;
		int nargs = (int)(rng() % 7);
		for (int a = 0; a < nargs; a++) {
			size_t alen = rng() % 4 == 0 ? 0 : rng() % 40;
			for (size_t i = 0; i < alen; i++) {
				char c = hostile_byte();
				args[len++] = c ? c : ' ';
			}
			args[len++] = '\0';
		}
		/* sometimes argv cut short: the last NUL is missing (only
		 * from a non-empty argument, else the argument would vanish) */
		if (len >= 2 && args[len - 2] != '\0' && rng() % 5 == 0)
			len--;
		CHECK(round_trip(args, len, nargs));
	}
}

TEST(cmdline_decode_random_input)
{
	/* whatever decode accepts, re-encoding and decoding again gives the
	 * same argv; whatever it refuses leaves out as it was */
	static const char alphabet[] = " \"\\x0a2f,A\n\xc3\xa9";
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT;
	char s[32];
	int accepted = 0;

	rng_state = 7;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rng() % 12;
		for (size_t i = 0; i < n; i++)
			s[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
		sb_reset(&a);
		sb_adds(&a, "K");
		int na = cmdline_decode(&a, s, n);
		if (na < 0) {
			CHECK_EQ_STR(sb_str(&a), "K");
			continue;
		}
		accepted++;
		sb_reset(&b);
		cmdline_encode(&b, a.data + 1, a.len - 1);
		sb_reset(&c);
		CHECK_EQ_INT(cmdline_decode(&c, b.data ? b.data : "", b.len), na);
		CHECK_EQ_MEM(c.data ? c.data : "", c.len, a.data + 1, a.len - 1);
	}
	CHECK(accepted > 1000);
	sb_free(&a);
	sb_free(&b);
	sb_free(&c);
}

TEST(cmdline_decode_exact)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_EQ_INT(cmdline_decode(&sb, "", 0), 0);
	CHECK_EQ_INT(sb.len, 0);
	CHECK_EQ_INT(cmdline_decode(&sb, "\"\"", 2), 1);
	CHECK_EQ_MEM(sb.data, sb.len, "\0", (size_t)1);
	sb_reset(&sb);
	const char *s = "printf \"a b\\x0a\"";
	CHECK_EQ_INT(cmdline_decode(&sb, s, strlen(s)), 2);
	CHECK_EQ_MEM(sb.data, sb.len, "printf\0a b\n\0", (size_t)12);
	/* a quoted argument that needed no quotes is still read right */
	sb_reset(&sb);
	CHECK_EQ_INT(cmdline_decode(&sb, "\"ab\" c", 6), 2);
	CHECK_EQ_MEM(sb.data, sb.len, "ab\0c\0", (size_t)5);
	sb_free(&sb);
}

TEST(cmdline_decode_malformed)
{
	/* clang-format off */
	static const char *const bad[] = {
		"\"abc",      /* unterminated quote */
		"a\"b",       /* quote inside an unquoted argument */
		"a\"",        "\"a\"b",     /* text after a closing quote */
		"\"a\"\"b\"", "a  b",       /* doubled separator */
		" a",         "a ",         /* leading / trailing space */
		" ",          "\"",         "\\x4",      "a \\q",
		"\"\\x0\"",   "a\\x00b",    /* an escaped NUL cannot be inside an argument */
		"\"\\x00\"",
	};
	/* clang-format on */
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sb_reset(&sb);
		sb_adds(&sb, "keep");
		CHECK_EQ_INT(cmdline_decode(&sb, bad[i], strlen(bad[i])), -1);
		CHECK_EQ_STR(sb_str(&sb), "keep");
	}
	/* a raw NUL is malformed too */
	CHECK_EQ_INT(cmdline_decode(&sb, "a\0b", 3), -1);
	CHECK_EQ_INT(cmdline_decode(&sb, "\"a\0b\"", 5), -1);
	sb_free(&sb);
}
