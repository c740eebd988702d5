/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "util/escape.h"
#include "util/log.h"

#define OUT_CHUNK (1u << 16)

/*
 * A JSON string holds the text as it is shown (escape_display): the log's own
 * escapes stay, and whatever a well-formed log never holds (a raw control,
 * invalid UTF-8, a code point that splits lines or fools a terminal) is
 * written as the escape the log would have given it. So the decoded string is
 * the log's escaped text, and decoding it can never produce a control
 * character or a bidirectional override (a \u001b would: jq -r would then
 * print a live terminal escape).
 */
void json_str(struct strbuf *sb, const char *s)
{
	struct strbuf shown = STRBUF_INIT;
	escape_display(&shown, s, strlen(s));
	const char *p = shown.data ? shown.data : "", *end = p + shown.len;
	sb_reserve(sb, shown.len + 2);
	sb_addc(sb, '"');
	while (p < end) {
		const char *run = p;
		while (p < end && *p != '"' && *p != '\\' && *p != '\n')
			p++;
		if (p > run)
			sb_add(sb, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p == '\n')
			sb_adds(sb, "\\\\x0a"); /* as the log writes a line break */
		else
			sb_add(sb, (const char[]){'\\', *p}, 2);
		p++;
	}
	sb_addc(sb, '"');
	sb_free(&shown);
}

void json_str_or_null(struct strbuf *sb, const char *s)
{
	if (!s || !*s)
		sb_adds(sb, "null");
	else
		json_str(sb, s);
}

void json_int_or_null(struct strbuf *sb, int64_t v)
{
	if (v < 0)
		sb_adds(sb, "null");
	else
		sb_addf(sb, "%lld", (long long)v);
}

void csv_field(struct strbuf *sb, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		sb_adds(sb, s);
		return;
	}
	sb_addc(sb, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_addc(sb, '"');
		sb_addc(sb, *p);
	}
	sb_addc(sb, '"');
}

void csv_int(struct strbuf *sb, int64_t v)
{
	if (v >= 0)
		sb_addf(sb, "%lld", (long long)v);
}

const char *time_text(char *buf, size_t size, uint64_t t_ns)
{
	if (!t_ns) {
		buf[0] = '\0';
		return buf;
	}
	csv_format_time(buf, size, t_ns);
	return buf;
}

int out_flush(struct strbuf *sb, FILE *out, bool force)
{
	if (!force && sb->len < OUT_CHUNK)
		return 0;
	int rc = 0;
	if (sb->len) {
		/* the one way out of every command: nothing a terminal acts on
		 * passes, whichever path put a value here */
		struct strbuf shown = STRBUF_INIT;
		escape_display(&shown, sb->data, sb->len);
		if (fwrite(shown.data, 1, shown.len, out) != shown.len)
			rc = -1;
		sb_free(&shown);
	}
	sb_reset(sb);
	if (force && fflush(out) != 0)
		rc = -1;
	return rc;
}

struct table {
	size_t ncols;
	size_t nrows, cap;
	char **cells; /* nrows * ncols, row 0 the headers */
	char **after; /* per row */
	size_t *width;
};

static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		fatal("out of memory");
	return p;
}

/* A cell as it will be shown (out_flush would escape it anyway), so that its
 * width is measured on what the terminal gets. */
static char *shown_dup(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	if (!s)
		s = "";
	escape_display(&sb, s, strlen(s));
	return sb.data ? sb.data : xstrdup("");
}

/* Display width: UTF-8 characters, not bytes (close enough for paths). */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void add_row(struct table *t, const char *const *cells, const char *after)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(*t->cells));
		t->after = realloc(t->after, t->cap * sizeof(*t->after));
		if (!t->cells || !t->after)
			fatal("out of memory");
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char *cell = shown_dup(cells[c]);
		t->cells[t->nrows * t->ncols + c] = cell;
		size_t w = text_width(cell);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->after[t->nrows] = after && *after ? xstrdup(after) : NULL;
	t->nrows++;
}

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		fatal("out of memory");
	t->ncols = ncols;
	t->width = calloc(ncols, sizeof(*t->width));
	if (!t->width)
		fatal("out of memory");
	add_row(t, headers, NULL);
	return t;
}

void table_add(struct table *t, const char *const *cells, const char *after)
{
	add_row(t, cells, after);
}

void table_min_width(struct table *t, const size_t *width)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (width[c] > t->width[c])
			t->width[c] = width[c];
}

void table_print(struct table *t, struct strbuf *out)
{
	table_print_rows(t, out, true);
}

void table_print_rows(struct table *t, struct strbuf *out, bool header)
{
	for (size_t r = header ? 0 : 1; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			sb_adds(out, cell);
			if (c + 1 < t->ncols) {
				size_t pad = t->width[c] - text_width(cell) + 2;
				for (size_t i = 0; i < pad; i++)
					sb_addc(out, ' ');
			}
		}
		/* no trailing blanks when the last cells are empty */
		while (out->len && out->data[out->len - 1] == ' ')
			out->len--;
		sb_addc(out, '\n');
		if (t->after[r])
			sb_adds(out, t->after[r]);
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (size_t r = 0; r < t->nrows; r++)
		free(t->after[r]);
	free(t->cells);
	free(t->after);
	free(t->width);
	free(t);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", cmd, msg);
	log_warnx("try 'onmitsu %s --help'", cmd);
	return 2;
}
