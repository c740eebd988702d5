/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/schema.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "log/chain.h"
#include "log/csv.h"
#include "log/jsonl.h"

/* clang-format off */
const struct log_column log_columns[COL_COUNT] = {
#define LOG_COL_ROW_(id, name, key, kind) [COL_##id] = {name, key, kind},
	LOG_COLUMNS(LOG_COL_ROW_)
#undef LOG_COL_ROW_
};

const char *const log_col_names[COL_COUNT] = {
#define LOG_COL_NAME_(id, name, key, kind) [COL_##id] = name,
	LOG_COLUMNS(LOG_COL_NAME_)
#undef LOG_COL_NAME_
};
/* clang-format on */

_Static_assert(COL_COUNT == 28, "docs/DESIGN.md has 28 columns; a new one is appended (schema.h)");
_Static_assert(COL_COUNT + 1 <= LOG_MAX_FIELDS, "the columns and chain fit in a line");

void log_write_header(struct strbuf *out, bool with_chain)
{
	for (int c = 0; c < COL_COUNT; c++) {
		if (c)
			sb_addc(out, ',');
		sb_adds(out, log_columns[c].name);
	}
	if (with_chain)
		sb_adds(out, "," CHAIN_COLUMN);
	sb_addc(out, '\n');
}

void log_layout_standard(struct log_layout *l, bool with_chain)
{
	for (int c = 0; c < COL_COUNT; c++)
		l->idx[c] = c;
	l->chain = with_chain ? COL_COUNT : -1;
	l->nfields = COL_COUNT + (with_chain ? 1 : 0);
}

bool log_layout_from_names(struct log_layout *l, char *const *names, int n)
{
	if (n <= 0 || n > LOG_MAX_FIELDS)
		return false;
	for (int c = 0; c < COL_COUNT; c++)
		l->idx[c] = -1;
	l->chain = -1;
	/* the first of a repeated name counts */
	for (int i = 0; i < n; i++) {
		if (l->chain < 0 && strcmp(names[i], CHAIN_COLUMN) == 0) {
			l->chain = i;
			continue;
		}
		for (int c = 0; c < COL_COUNT; c++)
			if (l->idx[c] < 0 && strcmp(names[i], log_columns[c].name) == 0)
				l->idx[c] = i;
	}
	l->nfields = n;
	return true;
}

bool log_layout_from_header(struct log_layout *l, const char *line, size_t len)
{
	struct strbuf copy = STRBUF_INIT;
	char *names[LOG_MAX_FIELDS];
	sb_add(&copy, line, len);
	int n = csv_split(copy.data, len, names, LOG_MAX_FIELDS);
	bool ok = log_layout_from_names(l, names, n);
	sb_free(&copy);
	return ok;
}

void log_line_parser_free(struct log_line_parser *p)
{
	sb_free(&p->copy);
	jsonl_store_free(&p->store);
}

const char *log_line_strerror(int err)
{
	switch (err) {
	case LOG_LINE_QUOTING:
		return "malformed quoting";
	case LOG_LINE_NUL:
		return "binary data (a NUL byte) in the line";
	case LOG_LINE_FIELDS:
		return "not the header's number of fields";
	case LOG_LINE_JSON:
		return "not a flat JSON object of strings and numbers";
	default:
		return "no error";
	}
}

/*
 * Most records hold no double quote, so there is no quoting to undo: split
 * them at the commas in one pass, which also finds each field's length and
 * any NUL byte. Returns the field count (which may exceed LOG_MAX_FIELDS;
 * only that many are stored), or LOG_LINE_NUL.
 */
static inline void end_field(struct log_line_parser *p, int n, char *start, char *at)
{
	if (n < LOG_MAX_FIELDS) {
		p->fields[n] = start;
		p->flen[n] = (uint32_t)(at - start);
	}
}

static int split_unquoted(struct log_line_parser *p, char *line, size_t len)
{
	int n = 0;
	char *start = line, *s = line, *end = line + len;
#ifdef __SSE2__
	/* sixteen bytes at a time: records are mostly short fields */
	const __m128i comma = _mm_set1_epi8(','), nul = _mm_setzero_si128();
	for (; s + 16 <= end; s += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, nul)))
			return LOG_LINE_NUL;
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma));
		while (mask) {
			char *at = s + __builtin_ctz(mask);
			mask &= mask - 1;
			end_field(p, n++, start, at);
			*at = '\0';
			start = at + 1;
		}
	}
#endif
	for (; s < end; s++) {
		if (*s == ',') {
			end_field(p, n++, start, s);
			*s = '\0';
			start = s + 1;
		} else if (*s == '\0') {
			return LOG_LINE_NUL;
		}
	}
	end_field(p, n, start, end);
	*end = '\0'; /* where the "\n" was */
	return n + 1;
}

int log_line_split_cols(struct log_line_parser *p, const struct log_layout *l, char *line,
			size_t len, const char **f, uint32_t *flen, int *nfields)
{
	int n;
	if (!memchr(line, '"', len)) {
		n = split_unquoted(p, line, len);
	} else if (memchr(line, '\0', len)) {
		n = LOG_LINE_NUL;
	} else {
		/* undo the quoting; the lengths change, so measure afterwards */
		n = csv_split(line, len, p->fields, LOG_MAX_FIELDS);
		if (n < 0)
			return LOG_LINE_QUOTING;
		for (int i = 0; i < n && i < LOG_MAX_FIELDS; i++)
			p->flen[i] = (uint32_t)strlen(p->fields[i]);
	}
	if (n < 0)
		return n;
	*nfields = n;
	if (n != l->nfields)
		return LOG_LINE_FIELDS;
	for (int c = 0; c < COL_COUNT; c++) {
		int i = l->idx[c];
		f[c] = i >= 0 ? p->fields[i] : "";
		flen[c] = i >= 0 ? p->flen[i] : 0;
	}
	return LOG_LINE_OK;
}

int log_line_split(struct log_line_parser *p, const struct log_layout *l, char *line, size_t len,
		   struct log_line *out)
{
	out->nfields = 0;
	out->fields = p->fields;
	out->flen = p->flen;
	int rc = log_line_split_cols(p, l, line, len, out->f, out->len, &out->nfields);
	if (rc != LOG_LINE_OK)
		return rc;
	out->chain = l->chain >= 0 ? p->fields[l->chain] : "";
	out->chain_len = l->chain >= 0 ? p->flen[l->chain] : 0;
	return LOG_LINE_OK;
}

int log_line_parse(struct log_line_parser *p, enum log_format f, const struct log_layout *l,
		   const char *line, size_t len, struct log_line *out)
{
	if (f == LOG_FORMAT_JSONL) {
		const char *jf[COL_COUNT + 1];
		int kind = jsonl_decode(line, len, &p->store, jf, NULL);
		if (kind < 0)
			return LOG_LINE_JSON;
		p->flat = kind == JSONL_FLAT;
		for (int c = 0; c < COL_COUNT; c++) {
			out->f[c] = jf[c];
			out->len[c] = (uint32_t)strlen(jf[c]);
		}
		out->chain = jf[COL_COUNT];
		out->chain_len = (uint32_t)strlen(jf[COL_COUNT]);
		out->nfields = 0;
		out->fields = NULL;
		out->flen = NULL;
		return LOG_LINE_OK;
	}
	struct log_layout std;
	if (!l) {
		log_layout_standard(&std, true);
		l = &std;
	}
	sb_reset(&p->copy);
	sb_reserve(&p->copy, len + 1);
	sb_add(&p->copy, line, len);
	return log_line_split(p, l, p->copy.data, len, out);
}

bool log_line_seq(const struct log_line *l, uint64_t *seq)
{
	return log_parse_u64(l->f[COL_SEQ], l->len[COL_SEQ], seq);
}
