/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/csv.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log/schema.h"
#include "util/escape.h"
#include "util/time.h"

/*
 * RFC 4180 quoting of the field that starts at out->data[start] and runs to
 * the end of out. Escaping has already removed CR and LF, so only a comma or
 * a double quote calls for it. Most fields need none, so it is done in place
 * after the fact rather than by copying every field through a scratch buffer.
 */
static void csv_quote_tail(struct strbuf *out, size_t start)
{
	size_t n = out->len - start, quotes = 0;
	const char *f = out->data + start, *q = f, *fend = f + n;

	while ((q = memchr(q, '"', (size_t)(fend - q))) != NULL) {
		quotes++;
		q++;
	}
	if (!quotes && !memchr(f, ',', n))
		return;

	size_t grow = quotes + 2;
	sb_reserve(out, grow);
	char *base = out->data + start;
	char *src_end = base + n, *dst_end = base + n + quotes + 2;
	/* walk backwards from quote to quote, so the field grows where it is
	 * and the text between quotes moves in blocks */
	*--dst_end = '"';
	for (; quotes; quotes--) {
		char *last = memrchr(base, '"', (size_t)(src_end - base));
		size_t seg = (size_t)(src_end - last - 1);
		dst_end -= seg;
		memmove(dst_end, last + 1, seg);
		*--dst_end = '"';
		*--dst_end = '"';
		src_end = last;
	}
	memmove(base + 1, base, (size_t)(src_end - base));
	base[0] = '"';
	out->len += grow;
	out->data[out->len] = '\0';
}

static void csv_write_text(struct strbuf *out, const char *p, size_t n)
{
	if (!p || !n)
		return;
	size_t start = out->len;
	escape_text(out, p, n);
	csv_quote_tail(out, start);
}

/* exe, path: a path cut at the limit starts with PATH_CUT_MARK (escape.h) */
static void csv_write_path(struct strbuf *out, const char *p, size_t n, bool cut)
{
	if ((!p || !n) && !cut)
		return;
	size_t start = out->len;
	escape_path(out, p ? p : "", p ? n : 0, cut);
	csv_quote_tail(out, start);
}

/* printable ASCII that neither escaping nor quoting changes: all but the
 * double quote, the backslash and the comma */
static const uint8_t plain_byte[256] = {
    [0x20 ... 0x21] = 1,
    /* '"' */ [0x23 ... 0x2b] = 1,
    /* ',' */ [0x2d ... 0x5b] = 1,
    /* '\\' */ [0x5d ... 0x7e] = 1,
};

static bool csv_plain(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned ok = 1;
	for (size_t i = 0; i < n; i++)
		ok &= plain_byte[p[i]];
	return ok;
}

static void csv_write_str(struct strbuf *out, const char *s)
{
	/* The recorder's own strings (guid, proto, result, ...) go through the
	 * same escaping: for the plain ASCII they normally hold (one pass to
	 * see it) they are copied unchanged, and a bad value can never split a
	 * record. */
	if (!s)
		return;
	size_t n = strlen(s);
	if (csv_plain(s, n))
		sb_add(out, s, n);
	else
		csv_write_text(out, s, n);
}

static void csv_write_u64(struct strbuf *out, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_add(out, p, (size_t)(buf + sizeof(buf) - p));
}

static void csv_write_i64(struct strbuf *out, int64_t v)
{
	if (v == OM_NONE)
		return;
	if (v < 0) {
		sb_addc(out, '-');
		csv_write_u64(out, -(uint64_t)v);
	} else {
		csv_write_u64(out, (uint64_t)v);
	}
}

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* dotted quad by hand: inet_ntop's sprintf was an eighth of the recorder's
 * CPU in a connect storm */
static void csv_write_ip4(struct strbuf *out, const uint8_t *a)
{
	char buf[16], *p = buf;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
	}
	sb_add(out, buf, (size_t)(p - buf));
}

static void csv_write_ip(struct strbuf *out, const struct om_ip *ip)
{
	char buf[INET6_ADDRSTRLEN];

	if (ip->family == AF_INET) {
		csv_write_ip4(out, ip->addr);
	} else if (ip->family == AF_INET6) {
		/* a dual-stack socket talking IPv4: write what a capture shows */
		if (memcmp(ip->addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0)
			csv_write_ip4(out, ip->addr + 12);
		else if (inet_ntop(AF_INET6, ip->addr, buf, sizeof(buf)))
			sb_adds(out, buf);
	}
}

/* The fields in log/schema.h's column order (LOG_COLUMNS); a new column is
 * written last. test_csv.c checks that this writes COL_COUNT fields. */
void csv_encode(struct strbuf *out, const struct om_record *r)
{
	char t[32];

	csv_format_time(t, sizeof(t), r->time_ns);
	sb_adds(out, t);
	sb_addc(out, ',');
	csv_write_u64(out, r->seq);
	sb_addc(out, ',');
	csv_write_str(out, om_event_name(r->event));
	sb_addc(out, ',');
	csv_write_i64(out, r->pid);
	sb_addc(out, ',');
	csv_write_i64(out, r->ppid);
	sb_addc(out, ',');
	csv_write_str(out, r->guid);
	sb_addc(out, ',');
	csv_write_str(out, r->parent_guid);
	sb_addc(out, ',');
	csv_write_i64(out, r->uid);
	sb_addc(out, ',');
	csv_write_path(out, r->exe, r->exe_len, r->exe_truncated);
	sb_addc(out, ',');
	if (r->has_cmdline && r->args) {
		size_t start = out->len;
		cmdline_encode(out, r->args, r->args_len);
		csv_quote_tail(out, start);
	}
	sb_addc(out, ',');
	csv_write_str(out, r->proto);
	sb_addc(out, ',');
	csv_write_ip(out, &r->src);
	sb_addc(out, ',');
	csv_write_i64(out, r->src_port);
	sb_addc(out, ',');
	csv_write_ip(out, &r->dst);
	sb_addc(out, ',');
	csv_write_i64(out, r->dst_port);
	sb_addc(out, ',');
	csv_write_str(out, r->direction);
	sb_addc(out, ',');
	csv_write_str(out, r->result);
	sb_addc(out, ',');
	csv_write_path(out, r->path, r->path_len, r->path_truncated);
	sb_addc(out, ',');
	csv_write_str(out, r->community_id);
	sb_addc(out, ',');
	csv_write_str(out, r->detail);
	sb_addc(out, ',');
	csv_write_str(out, r->sha256);
	sb_addc(out, ',');
	csv_write_path(out, r->cgroup, r->cgroup_len, false);
	sb_addc(out, ',');
	csv_write_str(out, r->container_id);
	sb_addc(out, ',');
	csv_write_i64(out, r->target_pid);
	sb_addc(out, ',');
	csv_write_str(out, r->target_guid);
	sb_addc(out, ',');
	csv_write_str(out, r->dns_name);
	sb_addc(out, ',');
	csv_write_str(out, r->dns_type);
	sb_addc(out, ',');
	csv_write_str(out, r->dns_answers);
	sb_addc(out, '\n');
}

void csv_encode_fields(struct strbuf *out, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(out, ',');
		if (!fields[i] || !*fields[i])
			continue;
		size_t start = out->len;
		sb_adds(out, fields[i]);
		csv_quote_tail(out, start);
	}
}

static char *put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

#define NS_PER_SEC 1000000000ull
#define TIME_LEN 27 /* strlen("2026-11-25T19:13:17.123456Z") */

void csv_format_time(char *buf, size_t size, uint64_t t_ns)
{
	/* the date and time of day of the last second formatted, in this
	 * thread: records come many to a second, and gmtime_r was a twentieth
	 * of the recorder's CPU */
	static __thread time_t cached_sec = -1;
	static __thread char cached[20]; /* "2026-11-25T19:13:17" */
	time_t sec = (time_t)(t_ns / NS_PER_SEC);
	/* truncated, never rounded: rounding could carry into the next second */
	unsigned usec = (unsigned)(t_ns % NS_PER_SEC / 1000);
	char tmp[TIME_LEN + 1], *p = tmp;

	if (size == 0)
		return;
	/* Hand-formatted: this runs for every record, and strftime plus a
	 * printf for the fraction cost several times more. */
	if (sec != cached_sec) {
		struct tm tm;
		if (!gmtime_r(&sec, &tm)) {
			buf[0] = '\0';
			return;
		}
		char *c = cached;
		c = put_digits(c, (unsigned)tm.tm_year + 1900, 4);
		*c++ = '-';
		c = put_digits(c, (unsigned)tm.tm_mon + 1, 2);
		*c++ = '-';
		c = put_digits(c, (unsigned)tm.tm_mday, 2);
		*c++ = 'T';
		c = put_digits(c, (unsigned)tm.tm_hour, 2);
		*c++ = ':';
		c = put_digits(c, (unsigned)tm.tm_min, 2);
		*c++ = ':';
		c = put_digits(c, (unsigned)tm.tm_sec, 2);
		*c = '\0';
		cached_sec = sec;
	}
	memcpy(p, cached, 19);
	p += 19;
	*p++ = '.';
	p = put_digits(p, usec, 6);
	*p++ = 'Z';
	*p = '\0';

	size_t n = size - 1 < TIME_LEN ? size - 1 : TIME_LEN;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}

static unsigned get_digits(const char *s, int width)
{
	unsigned v = 0;

	for (int i = 0; i < width; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

int csv_parse_time(const char *s, uint64_t *t_ns)
{
	/* exactly the form csv_format_time writes: nothing looser is ever in
	 * a log, so anything else is a sign of damage */
	static const char form[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	_Static_assert(sizeof(form) - 1 == TIME_LEN, "time form");

	if (strnlen(s, TIME_LEN + 1) != TIME_LEN)
		return -1;
	for (size_t i = 0; i < TIME_LEN; i++) {
		if (form[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != form[i])
			return -1;
	}
	unsigned y = get_digits(s, 4), mo = get_digits(s + 5, 2), d = get_digits(s + 8, 2);
	unsigned h = get_digits(s + 11, 2), mi = get_digits(s + 14, 2), sec = get_digits(s + 17, 2);
	unsigned usec = get_digits(s + 20, 6);

	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (h > 23 || mi > 59 || sec > 59)
		return -1;
	uint64_t secs = (uint64_t)days_from_civil(y, mo, d) * 86400 + h * 3600u + mi * 60u + sec;
	if (secs > (UINT64_MAX - usec * 1000ull) / NS_PER_SEC)
		return -1;
	*t_ns = secs * NS_PER_SEC + usec * 1000ull;
	return 0;
}

int csv_split(char *line, size_t len, char **fields, size_t max)
{
	/*
	 * Fields are unquoted in place: the write position never passes the
	 * read position, and each field's NUL goes where its comma was. The
	 * last field's NUL goes at line[len], which must be writable (the
	 * "\n" a line was read with, or its NUL).
	 *
	 * A NUL byte inside the line is refused too: no escaped value holds
	 * one, and it would cut a field short without anyone noticing.
	 */
	char *p = line, *end = line + len;
	size_t count = 0;

	if (memchr(line, '\0', len))
		return -1;
	for (;;) {
		char *start = p, *w;

		if (p < end && *p == '"') {
			w = p++;
			for (;;) {
				if (p == end)
					return -1; /* unterminated */
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*w++ = *p++;
			}
			if (p < end && *p != ',')
				return -1; /* text after the closing quote */
		} else {
			char *comma = memchr(p, ',', (size_t)(end - p));
			char *stop = comma ? comma : end;
			if (memchr(p, '"', (size_t)(stop - p)))
				return -1; /* a quote inside an unquoted field */
			w = p = stop;
		}
		if (count == INT_MAX)
			return -1;
		if (count < max)
			fields[count] = start;
		count++;
		/* read the separator before its place takes the NUL */
		int more = p < end;
		*w = '\0';
		if (!more)
			break;
		p++;
	}
	return (int)count;
}
