/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/jsonl.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "log/csv.h"
#include "log/schema.h"
#include "util/hex.h"

/* Written as a JSON number (when it is one): COL_KIND_NUMBER columns. */
static bool numeric_column(size_t i)
{
	return log_columns[i].kind == COL_KIND_NUMBER;
}

void json_escape(struct strbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_add(out, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			sb_addc(out, '\\');
			sb_addc(out, (char)c);
		} else {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			sb_add(out, u, sizeof(u));
		}
	}
	sb_add(out, s + run, n - run);
}

static bool all_digits(const char *s)
{
	if (!*s || strlen(s) > 19)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void member(struct strbuf *out, bool *first, const char *key, const char *val, bool num)
{
	sb_add(out, *first ? "{\"" : ",\"", 2);
	*first = false;
	sb_adds(out, key);
	sb_add(out, "\":", 2);
	if (num) {
		sb_adds(out, val);
		return;
	}
	sb_addc(out, '"');
	json_escape(out, val, strlen(val));
	sb_addc(out, '"');
}

void jsonl_encode_fields(struct strbuf *out, const char *const *f, const struct jsonl_host *host,
			 const char *chain)
{
	bool first = true;
	size_t n = COL_COUNT;
	for (size_t i = 0; i < n; i++) {
		const char *v = f[i];
		if (!v || !*v)
			continue;
		if (i == COL_DIRECTION) {
			/* ECS's words; converting back maps them to ours */
			if (strcmp(v, "out") == 0)
				v = "outbound";
			else if (strcmp(v, "in") == 0)
				v = "inbound";
		}
		member(out, &first, log_columns[i].json_key, v, numeric_column(i) && all_digits(v));
		if (i == COL_EVENT && host) {
			/* after event.action: who and what, then the details */
			if (host->name && *host->name)
				member(out, &first, "host.name", host->name, false);
			if (host->id && *host->id)
				member(out, &first, "host.id", host->id, false);
			if (host->boot_id && *host->boot_id)
				member(out, &first, "host.boot.id", host->boot_id, false);
		}
	}
	if (first)
		sb_addc(out, '{');
	if (chain) {
		if (*chain) {
			sb_adds(out, first ? "\"" JSONL_CHAIN_KEY "\":\"" : JSONL_CHAIN_MARK);
			json_escape(out, chain, strlen(chain));
			sb_addc(out, '"');
		}
		sb_add(out, "}\n", 2);
	}
}

/* ---- decoding ---- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static void put_utf8(struct strbuf *out, uint32_t cp)
{
	if (cp < 0x80) {
		sb_addc(out, (char)cp);
	} else if (cp < 0x800) {
		sb_addc(out, (char)(0xc0 | cp >> 6));
		sb_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sb_addc(out, (char)(0xe0 | cp >> 12));
		sb_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		sb_addc(out, (char)(0xf0 | cp >> 18));
		sb_addc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		sb_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(out, (char)(0x80 | (cp & 0x3f)));
	}
}

static int hex4(const char *p, const char *end, uint32_t *v)
{
	if (end - p < 4)
		return -1;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);
		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* a JSON string at *pp (after its opening quote) -> out; NUL-terminated */
static int parse_string(const char **pp, const char *end, struct strbuf *out)
{
	const char *p = *pp;
	while (p < end && *p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			sb_addc(out, (char)c);
			p++;
			continue;
		}
		if (++p == end)
			return -1;
		char e = *p++;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			sb_addc(out, e);
			break;
		case 'b':
			sb_addc(out, '\b');
			break;
		case 'f':
			sb_addc(out, '\f');
			break;
		case 'n':
			sb_addc(out, '\n');
			break;
		case 'r':
			sb_addc(out, '\r');
			break;
		case 't':
			sb_addc(out, '\t');
			break;
		case 'u': {
			uint32_t cp;
			if (hex4(p, end, &cp) != 0)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u') {
				uint32_t lo;
				if (hex4(p + 2, end, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp == 0)
				return -1; /* no field can hold a NUL */
			put_utf8(out, cp);
			break;
		}
		default:
			return -1;
		}
	}
	if (p == end)
		return -1;
	*pp = p + 1;
	sb_addc(out, '\0');
	return 0;
}

int jsonl_decode(const char *line, size_t len, struct strbuf *store, const char **fields,
		 struct jsonl_host *host)
{
	const size_t nkeys = COL_COUNT + 1; /* the columns, then chain */
	size_t offs[COL_COUNT + 1];
	const char *end = line + len;
	const char *p = skip_ws(line, end);
	sb_reset(store);
	sb_addc(store, '\0'); /* offset 0: the empty string */
	for (size_t i = 0; i < nkeys; i++)
		offs[i] = 0;
	size_t host_off[3] = {0, 0, 0};
	if (p == end || *p++ != '{')
		return -1;
	p = skip_ws(p, end);
	if (p < end && *p == '}') {
		p++;
	} else {
		for (;;) {
			p = skip_ws(p, end);
			if (p == end || *p++ != '"')
				return -1;
			size_t key_off = store->len;
			if (parse_string(&p, end, store) != 0)
				return -1;
			p = skip_ws(p, end);
			if (p == end || *p++ != ':')
				return -1;
			p = skip_ws(p, end);
			size_t val_off = store->len;
			if (p < end && *p == '"') {
				p++;
				if (parse_string(&p, end, store) != 0)
					return -1;
			} else {
				const char *q = p;
				while (q < end &&
				       ((*q >= '0' && *q <= '9') || *q == '-' || *q == '+' ||
					*q == '.' || *q == 'e' || *q == 'E'))
					q++;
				if (q == p)
					return -1; /* objects, arrays, true/false/null: not ours */
				sb_add(store, p, (size_t)(q - p));
				sb_addc(store, '\0');
				p = q;
			}
			const char *key = store->data + key_off;
			for (size_t i = 0; i < COL_COUNT; i++)
				if (strcmp(key, log_columns[i].json_key) == 0)
					offs[i] = val_off;
			if (strcmp(key, JSONL_CHAIN_KEY) == 0)
				offs[COL_COUNT] = val_off;
			if (strcmp(key, "host.name") == 0)
				host_off[0] = val_off;
			else if (strcmp(key, "host.id") == 0)
				host_off[1] = val_off;
			else if (strcmp(key, "host.boot.id") == 0)
				host_off[2] = val_off;
			p = skip_ws(p, end);
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			if (p < end && *p == '}') {
				p++;
				break;
			}
			return -1;
		}
	}
	if (skip_ws(p, end) != end)
		return -1;
	/* pointers only now: the store may have moved while growing */
	for (size_t i = 0; i < nkeys; i++)
		fields[i] = store->data + offs[i];
	const char *d = fields[COL_DIRECTION];
	if (strcmp(d, "outbound") == 0)
		fields[COL_DIRECTION] = "out";
	else if (strcmp(d, "inbound") == 0)
		fields[COL_DIRECTION] = "in";
	if (host) {
		host->name = store->data + host_off[0];
		host->id = store->data + host_off[1];
		host->boot_id = store->data + host_off[2];
	}
	return 0;
}
